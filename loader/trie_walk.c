// SPDX-License-Identifier: Apache-2.0
#include "trie_walk.h"

unsigned int trie_stride(struct trie_layout l, int family, unsigned int start, uint32_t entry)
{
	if (start == 0)
		return family == TEXPORTER_IPV4 ? l.v4_root_bits : TEXPORTER_TRIE_V6_ROOT_BITS;
	if (family == TEXPORTER_IPV6 && start == TEXPORTER_TRIE_V6_ROOT_BITS)
		return l.v6_second_bits;
	if (family == TEXPORTER_IPV6 && start >= TEXPORTER_TRIE_WIDE_FIRST &&
	    (entry & TEXPORTER_TRIE_WIDE))
		return 16;
	return 8;
}

size_t trie_root(struct trie_layout l, int family)
{
	return family == TEXPORTER_IPV4 ? TEXPORTER_TRIE_V4_ROOT :
					  texporter_trie_v6_root(l.v4_root_bits);
}

uint32_t trie_address_bits(const uint8_t *addr, unsigned int start, unsigned int bits)
{
	uint32_t value = 0;

	for (unsigned int b = start / 8; b < (start + bits) / 8; b++)
		value = value << 8 | (b < 16 ? addr[b] : 0);
	return value;
}

uint32_t trie_lookup(const uint32_t *entries, struct trie_layout layout, int family,
		     const uint8_t *addr, unsigned int *nodes)
{
	unsigned int bits = family == TEXPORTER_IPV4 ? 32 : 128;
	unsigned int start = 0, stride = trie_stride(layout, family, 0, 0);
	uint32_t entry = entries[trie_root(layout, family) + trie_address_bits(addr, 0, stride)];

	*nodes = 1;
	while ((entry & TEXPORTER_TRIE_CHILD) && start + stride < bits) {
		size_t first = entry & ~TEXPORTER_TRIE_FLAGS;

		start += stride;
		if (entry & TEXPORTER_TRIE_SPAN) {
			uint32_t key = trie_address_bits(addr, start, trie_span_bits(start));

			stride = trie_span_bits(start);
			entry = *texporter_trie_span_value(entries + first, key);
		} else {
			stride = trie_stride(layout, family, start, entry);
			entry = entries[first + trie_address_bits(addr, start, stride)];
		}
		(*nodes)++;
	}
	return entry >> TEXPORTER_TRIE_LEAF_SHIFT;
}
