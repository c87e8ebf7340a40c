// SPDX-License-Identifier: Apache-2.0
#include "trie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A 2^24-entry IPv4 root costs 64 MiB; it pays once the 16-bit root's
 * children would take 24 MiB or more and saves one load per address. */
#define TRIE_V4_WIDE_MIN_CHILDREN 24576u
/* A 2^16-entry IPv6 second level costs 256 KiB per /16 with longer
 * prefixes; up to 128 of them (32 MiB) save one load per address. */
#define TRIE_V6_WIDE_MAX_NODES 128u

static int trie_reserve(struct trie *t, size_t entries)
{
	size_t capacity = t->capacity ? t->capacity : (size_t)1 << 20;
	uint32_t *grown;

	if (entries > TRIE_MAX_ENTRIES) {
		errno = E2BIG;
		return -1;
	}
	if (entries <= t->capacity)
		return 0;
	while (capacity < entries)
		capacity *= 2;
	grown = realloc(t->entries, capacity * sizeof(*grown));
	if (!grown)
		return -1;
	t->entries = grown;
	t->capacity = capacity;
	return 0;
}

static void trie_fill(struct trie *t, size_t first, size_t count, uint32_t id)
{
	for (size_t i = 0; i < count; i++)
		t->entries[first + i] = id;
}

/* A new node of 2^BITS entries, every one inheriting LEAF, the longest
 * match so far for the addresses it covers. Returns its first block. */
static int64_t trie_new_node(struct trie *t, unsigned int bits, uint32_t leaf)
{
	size_t first = t->used, size = (size_t)1 << bits;

	if (trie_reserve(t, first + size))
		return -1;
	trie_fill(t, first, size, leaf);
	t->used += size;
	return (int64_t)(first >> 8);
}

/* The stride of level LEVEL (0 = root) of FAMILY's trie. */
static unsigned int trie_stride(struct trie_layout l, int family, unsigned int level)
{
	if (level == 0)
		return family == TEXPORTER_IPV4 ? l.v4_root_bits : TEXPORTER_TRIE_V6_ROOT_BITS;
	if (level == 1 && family == TEXPORTER_IPV6)
		return l.v6_second_bits;
	return 8;
}

static size_t trie_root(struct trie_layout l, int family)
{
	return family == TEXPORTER_IPV4 ? TEXPORTER_TRIE_V4_ROOT :
					  texporter_trie_v6_root(l.v4_root_bits);
}

/* BITS address bits from bit START on (both multiples of 8). */
static uint32_t address_bits(const uint8_t *addr, unsigned int start, unsigned int bits)
{
	uint32_t value = 0;

	for (unsigned int b = start / 8; b < (start + bits) / 8; b++)
		value = value << 8 | addr[b];
	return value;
}

/* Inserts one prefix. Prefixes arrive in pre-order (every prefix after
 * those that contain it, before those it contains), so a fill never covers
 * a child node: children only come from prefixes inside this one. */
static int trie_insert(struct trie *t, const struct config_prefix *p, uint32_t id)
{
	unsigned int start = 0, level = 0, stride = trie_stride(t->layout, p->family, 0);
	size_t index = trie_root(t->layout, p->family) + address_bits(p->addr, 0, stride);

	while (p->len > start + stride) {
		uint32_t entry = t->entries[index];
		unsigned int next = trie_stride(t->layout, p->family, level + 1);

		if (!(entry & TEXPORTER_TRIE_CHILD)) {
			int64_t block = trie_new_node(t, next, entry);

			if (block < 0)
				return -1;
			entry = TEXPORTER_TRIE_CHILD | (uint32_t)block;
			t->entries[index] = entry;
		}
		start += stride;
		level++;
		stride = next;
		index = ((size_t)(entry & ~TEXPORTER_TRIE_CHILD) << 8) +
			address_bits(p->addr, start, stride);
	}
	trie_fill(t, index, (size_t)1 << (start + stride - p->len), id);
	return 0;
}

/* Pre-order of the prefix tree: by family, address, then length. Besides
 * what trie_insert needs, it allocates the nodes of one address region next
 * to each other, so a walk down one path stays within few pages: fewer TLB
 * misses on the cold path than allocating all /24 nodes, then all /32... */
static int prefix_preorder(const void *a, const void *b)
{
	const struct config_prefix *pa = *(const struct config_prefix *const *)a;
	const struct config_prefix *pb = *(const struct config_prefix *const *)b;
	int by_address;

	if (pa->family != pb->family)
		return (int)pa->family - (int)pb->family;
	by_address = memcmp(pa->addr, pb->addr, sizeof(pa->addr));
	if (by_address)
		return by_address;
	return (int)pa->len - (int)pb->len;
}

/* Distinct /16s of FAMILY that hold a longer prefix: the children the
 * 16-bit roots have. */
static unsigned int trie_count_root_children(const struct config *cfg, int family)
{
	uint8_t seen[(1 << 16) / 8] = { 0 };
	unsigned int count = 0;

	for (size_t i = 0; i < cfg->n_prefixes; i++) {
		const struct config_prefix *p = &cfg->prefixes[i];
		unsigned int slot = (unsigned int)p->addr[0] << 8 | p->addr[1];

		if (p->family != family || p->len <= 16 || (seen[slot >> 3] & (1u << (slot & 7))))
			continue;
		seen[slot >> 3] |= (uint8_t)(1u << (slot & 7));
		count++;
	}
	return count;
}

struct trie_layout trie_choose_layout(const struct config *cfg)
{
	struct trie_layout l = { .v4_root_bits = 16, .v6_second_bits = 8 };

	if (trie_count_root_children(cfg, TEXPORTER_IPV4) >= TRIE_V4_WIDE_MIN_CHILDREN)
		l.v4_root_bits = 24;
	if (trie_count_root_children(cfg, TEXPORTER_IPV6) <= TRIE_V6_WIDE_MAX_NODES)
		l.v6_second_bits = 16;
	return l;
}

int trie_build(struct trie *t, const struct config *cfg, const uint32_t *ids,
	       struct trie_layout layout)
{
	size_t roots = texporter_trie_v6_root(layout.v4_root_bits) +
		       ((size_t)1 << TEXPORTER_TRIE_V6_ROOT_BITS);
	const struct config_prefix **order;
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->layout = layout;
	if (trie_reserve(t, roots))
		return -1;
	trie_fill(t, 0, roots, TEXPORTER_UNMATCHED_ID);
	t->used = roots;

	order = malloc((cfg->n_prefixes + 1) * sizeof(*order));
	if (!order) {
		trie_free(t);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_prefixes; i++)
		order[i] = &cfg->prefixes[i];
	qsort(order, cfg->n_prefixes, sizeof(*order), prefix_preorder);
	for (size_t i = 0; i < cfg->n_prefixes && !err; i++)
		err = trie_insert(t, order[i], ids[order[i]->range]);
	free(order);
	if (err) {
		int saved = errno;

		trie_free(t);
		errno = saved;
	}
	return err;
}

void trie_free(struct trie *t)
{
	free(t->entries);
	memset(t, 0, sizeof(*t));
}

uint32_t trie_lookup(const uint32_t *entries, struct trie_layout layout, int family,
		     const uint8_t *addr, unsigned int *loads)
{
	unsigned int bits = family == TEXPORTER_IPV4 ? 32 : 128;
	unsigned int start = 0, level = 0, stride = trie_stride(layout, family, 0);
	uint32_t entry = entries[trie_root(layout, family) + address_bits(addr, 0, stride)];

	*loads = 1;
	while ((entry & TEXPORTER_TRIE_CHILD) && start + stride < bits) {
		start += stride;
		stride = trie_stride(layout, family, ++level);
		entry = entries[((size_t)(entry & ~TEXPORTER_TRIE_CHILD) << 8) +
				address_bits(addr, start, stride)];
		(*loads)++;
	}
	return entry & ~TEXPORTER_TRIE_CHILD;
}
