/* SPDX-License-Identifier: Apache-2.0 */
/* Walks the classification trie (layout in bpf/texporter.h) in user space,
 * exactly as the data plane does: for the trie builder, its tests and the
 * benchmark. Needs nothing but the entries and the strides. */
#ifndef TEXPORTER_TRIE_WALK_H
#define TEXPORTER_TRIE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "texporter.h"

/* The strides of the first levels; all later array nodes are 8 bits. */
struct trie_layout {
	unsigned int v4_root_bits;   /* 16 or 24 */
	unsigned int v6_second_bits; /* 8 or 16 */
};

/* The stride of the array node of FAMILY's trie that starts at address bit
 * START and that ENTRY points to (the root: START 0, ENTRY ignored). */
unsigned int trie_stride(struct trie_layout l, int family, unsigned int start, uint32_t entry);

/* The entry FAMILY's root starts at. */
size_t trie_root(struct trie_layout l, int family);

/* BITS (at most 32) address bits from bit START on, both multiples of 8;
 * bits past the 16-byte ADDR read as 0. */
uint32_t trie_address_bits(const uint8_t *addr, unsigned int start, unsigned int bits);

/* The address bits a span node starting at bit START covers: the rest of
 * its 32-bit word. */
static inline unsigned int trie_span_bits(unsigned int start)
{
	return 32 - start % 32;
}

/* Longest-prefix match of ADDR, exactly as the data plane walks ENTRIES of
 * LAYOUT; *nodes gets the number of nodes visited (root included). */
uint32_t trie_lookup(const uint32_t *entries, struct trie_layout layout, int family,
		     const uint8_t *addr, unsigned int *nodes);

#endif /* TEXPORTER_TRIE_WALK_H */
