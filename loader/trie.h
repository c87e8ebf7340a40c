/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the flat multibit trie the data plane walks (layout in
 * bpf/texporter.h) from a validated config. */
#ifndef TEXPORTER_TRIE_H
#define TEXPORTER_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TRIE_MAX_ENTRIES (1u << 28) /* 1 GiB of u32: refuse anything larger */

struct trie {
	uint32_t *entries;
	size_t used;     /* entries in use: the size of the ranges map */
	size_t capacity; /* entries allocated */
};

/* Fills T from every prefix of CFG; prefix p classifies as
 * ids[p.range]. Returns 0, or -1 with errno (ENOMEM, E2BIG). */
int trie_build(struct trie *t, const struct config *cfg, const uint32_t *ids);
void trie_free(struct trie *t);

/* Longest-prefix match in user space, as the data plane does it. */
uint32_t trie_lookup(const struct trie *t, int family, const uint8_t *addr);

#endif /* TEXPORTER_TRIE_H */
