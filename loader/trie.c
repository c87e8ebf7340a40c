// SPDX-License-Identifier: Apache-2.0
#include "trie.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int trie_reserve(struct trie *t, size_t entries)
{
	size_t capacity = t->capacity ? t->capacity : TEXPORTER_TRIE_FIRST_BLOCK * 2;
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

/* A new 256-entry block whose every entry inherits LEAF, the longest match
 * so far for the addresses it covers. Returns the block number. */
static int64_t trie_new_block(struct trie *t, uint32_t leaf)
{
	size_t first = t->used;

	if (trie_reserve(t, first + TEXPORTER_TRIE_BLOCK_SIZE))
		return -1;
	for (size_t i = 0; i < TEXPORTER_TRIE_BLOCK_SIZE; i++)
		t->entries[first + i] = leaf;
	t->used += TEXPORTER_TRIE_BLOCK_SIZE;
	return (int64_t)(first >> 8);
}

static void trie_fill(struct trie *t, size_t first, size_t count, uint32_t id)
{
	for (size_t i = 0; i < count; i++)
		t->entries[first + i] = id;
}

/* Inserts one prefix. Prefixes arrive shortest first, so a fill never
 * covers a child block: children only come from longer prefixes. */
static int trie_insert(struct trie *t, const struct config_prefix *p, uint32_t id)
{
	size_t root = p->family == TEXPORTER_IPV4 ? TEXPORTER_TRIE_V4_ROOT : TEXPORTER_TRIE_V6_ROOT;
	size_t index = root + ((size_t)p->addr[0] << 8 | p->addr[1]);
	unsigned int level_end = TEXPORTER_TRIE_ROOT_BITS;
	unsigned int byte = 2;

	if (p->len <= TEXPORTER_TRIE_ROOT_BITS) {
		trie_fill(t, index, (size_t)1 << (TEXPORTER_TRIE_ROOT_BITS - p->len), id);
		return 0;
	}
	while (p->len > level_end) {
		uint32_t entry = t->entries[index];

		if (!(entry & TEXPORTER_TRIE_CHILD)) {
			int64_t block = trie_new_block(t, entry);

			if (block < 0)
				return -1;
			entry = TEXPORTER_TRIE_CHILD | (uint32_t)block;
			t->entries[index] = entry;
		}
		index = (size_t)(entry & ~TEXPORTER_TRIE_CHILD) << 8 | p->addr[byte++];
		level_end += 8;
	}
	trie_fill(t, index, (size_t)1 << (level_end - p->len), id);
	return 0;
}

static int prefix_shorter_first(const void *a, const void *b)
{
	const struct config_prefix *pa = *(const struct config_prefix *const *)a;
	const struct config_prefix *pb = *(const struct config_prefix *const *)b;

	return (int)pa->len - (int)pb->len;
}

int trie_build(struct trie *t, const struct config *cfg, const uint32_t *ids)
{
	const struct config_prefix **order;
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (trie_reserve(t, TEXPORTER_TRIE_FIRST_BLOCK))
		return -1;
	trie_fill(t, 0, TEXPORTER_TRIE_FIRST_BLOCK, TEXPORTER_UNMATCHED_ID);
	t->used = TEXPORTER_TRIE_FIRST_BLOCK;

	order = malloc((cfg->n_prefixes + 1) * sizeof(*order));
	if (!order) {
		trie_free(t);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_prefixes; i++)
		order[i] = &cfg->prefixes[i];
	qsort(order, cfg->n_prefixes, sizeof(*order), prefix_shorter_first);
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

uint32_t trie_lookup(const struct trie *t, int family, const uint8_t *addr)
{
	size_t root = family == TEXPORTER_IPV4 ? TEXPORTER_TRIE_V4_ROOT : TEXPORTER_TRIE_V6_ROOT;
	unsigned int bytes = family == TEXPORTER_IPV4 ? 4 : 16;
	uint32_t entry = t->entries[root + ((size_t)addr[0] << 8 | addr[1])];

	for (unsigned int i = 2; i < bytes && (entry & TEXPORTER_TRIE_CHILD); i++)
		entry = t->entries[(size_t)(entry & ~TEXPORTER_TRIE_CHILD) << 8 | addr[i]];
	return entry & ~TEXPORTER_TRIE_CHILD;
}
