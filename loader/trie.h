/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the flat multibit trie the data plane walks (layout in
 * bpf/texporter.h) from a validated config. */
#ifndef TEXPORTER_TRIE_H
#define TEXPORTER_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TRIE_MAX_ENTRIES (1u << 28) /* 1 GiB of u32: refuse anything larger */

/* The strides of the first levels; all later levels are 8 bits. */
struct trie_layout {
	unsigned int v4_root_bits;   /* 16 or 24 */
	unsigned int v6_second_bits; /* 8 or 16 */
};

struct trie {
	uint32_t *entries;
	size_t used;     /* entries in use: the size of the ranges map */
	size_t capacity; /* entries allocated */
	struct trie_layout layout;
};

/* The layout for CFG: the wider strides (fewer loads per packet) wherever
 * they cost no more than a bounded amount of extra memory. */
struct trie_layout trie_choose_layout(const struct config *cfg);

/* Fills T from every prefix of CFG with LAYOUT; prefix p classifies as
 * ids[p.range]. Returns 0, or -1 with errno (ENOMEM, E2BIG). */
int trie_build(struct trie *t, const struct config *cfg, const uint32_t *ids,
	       struct trie_layout layout);
void trie_free(struct trie *t);

/* Longest-prefix match in user space, exactly as the data plane walks the
 * entries (ENTRIES of LAYOUT); *loads gets the number of entries read. */
uint32_t trie_lookup(const uint32_t *entries, struct trie_layout layout, int family,
		     const uint8_t *addr, unsigned int *loads);

#endif /* TEXPORTER_TRIE_H */
