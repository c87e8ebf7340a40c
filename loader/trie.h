/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the flat multibit trie the data plane walks (layout in
 * bpf/texporter.h) from a validated config. */
#ifndef TEXPORTER_TRIE_H
#define TEXPORTER_TRIE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "trie_walk.h"

#define TRIE_MAX_ENTRIES (1u << 27) /* 512 MiB of u32, the most a BPF program may index */

struct trie {
	uint32_t *entries;
	size_t used;     /* entries in use: the size of the ranges map */
	size_t capacity; /* entries allocated */
	size_t spans;     /* span nodes built */
	size_t wides;     /* 16-bit array nodes built past IPv6 bit 32 */
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

/* Why trie_build failed with ERR, for "cannot build the range table: %s". */
const char *trie_strerror(int err);

#endif /* TEXPORTER_TRIE_H */
