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
/* Past IPv6 bit 32, a 16-bit node (256 KiB) where at least 16 prefixes
 * would need two 8-bit levels below it; at most 64 of them (16 MiB). */
#define TRIE_WIDE_MIN_PREFIXES 16u
#define TRIE_WIDE_MAX_NODES 64u

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

static void trie_fill(struct trie *t, size_t first, size_t count, uint32_t entry)
{
	for (size_t i = 0; i < count; i++)
		t->entries[first + i] = entry;
}

static uint32_t trie_leaf(uint32_t id)
{
	return id << TEXPORTER_TRIE_LEAF_SHIFT;
}

/* A new array node of 2^BITS entries, every one inheriting LEAF, the
 * longest match so far for the addresses it covers. Returns the entry that
 * points to it, or 0 (never a child entry) on error. Every node is a
 * multiple of 32 entries, so every node's first entry is too. */
static uint32_t trie_new_array(struct trie *t, unsigned int bits, uint32_t leaf)
{
	size_t first = t->used, size = (size_t)1 << bits;

	if (trie_reserve(t, first + size))
		return 0;
	trie_fill(t, first, size, leaf);
	t->used += size;
	return (uint32_t)first | TEXPORTER_TRIE_CHILD;
}

/* Whether prefix Q shares the first START bits (a multiple of 8) of FIRST:
 * in pre-order, the prefixes below a node are the ones from the first that
 * needs it up to the first that does not share its bits. */
static bool trie_below(const struct config_prefix *first, const struct config_prefix *q,
		       unsigned int start)
{
	return q->family == first->family && !memcmp(q->addr, first->addr, start / 8);
}

/* The runs of a span node being planned: where each starts, its value, and
 * whether it is a run of one that longer prefixes go below (never merged
 * with a neighbour, since its value becomes a child node). */
struct span_plan {
	unsigned int runs;
	uint64_t start[TEXPORTER_TRIE_SPAN_RUNS];
	uint32_t value[TEXPORTER_TRIE_SPAN_RUNS];
	bool point[TEXPORTER_TRIE_SPAN_RUNS];
};

/* From AT on, the node's keys (below END) classify as VALUE. False when
 * that takes more runs than a span node has. */
static bool span_plan_set(struct span_plan *s, uint64_t at, uint64_t end, uint32_t value,
			  bool point)
{
	if (at >= end)
		return true; /* past the node's last key */
	if (s->runs && s->start[s->runs - 1] == at)
		s->runs--; /* the last run turned out empty */
	if (s->runs && !point && !s->point[s->runs - 1] && s->value[s->runs - 1] == value)
		return true; /* the last run goes on */
	if (s->runs == TEXPORTER_TRIE_SPAN_RUNS)
		return false;
	s->start[s->runs] = at;
	s->value[s->runs] = value;
	s->point[s->runs] = point;
	s->runs++;
	return true;
}

/* Plans the span node at address bit START (covering BITS address bits)
 * for the prefixes below it, which are ORDER[0..N) up to the first one
 * outside its START-bit prefix. Keys covered by no prefix below classify
 * as LEAF. True when the node fits in a span node. Prefixes arrive in
 * pre-order, so an open prefix closes before any that starts after it
 * ends: one sweep with a stack of the open ones, on top of LEAF, which
 * covers every key and never closes. */
static bool span_plan(struct span_plan *s, const struct config_prefix *const *order, size_t n,
		      const uint32_t *ids, unsigned int start, unsigned int bits, uint32_t leaf)
{
	const uint64_t end = 1ull << bits;
	struct {
		uint64_t end;
		uint32_t value;
	} open[1 + 32 + 1] = { { end, leaf } }; /* LEAF, one per prefix length, a run of one */
	unsigned int depth = 1;
	uint64_t last_point = UINT64_MAX;

	s->runs = 0;
	span_plan_set(s, 0, end, leaf, false);
	for (size_t i = 0; i < n; i++) {
		const struct config_prefix *q = order[i];
		uint64_t lo, hi;
		uint32_t value;
		bool point;

		if (!trie_below(order[0], q, start))
			break;
		lo = trie_address_bits(q->addr, start, bits);
		point = q->len > start + bits;
		hi = point ? lo + 1 : lo + (1ull << (start + bits - q->len));
		while (open[depth - 1].end <= lo) {
			depth--;
			if (!span_plan_set(s, open[depth].end, end, open[depth - 1].value, false))
				return false;
		}
		if (point && lo == last_point)
			continue; /* another prefix below the same key */
		if (depth == sizeof(open) / sizeof(open[0]))
			return false;
		value = point ? open[depth - 1].value : trie_leaf(ids[q->range]);
		if (!span_plan_set(s, lo, end, value, point))
			return false;
		if (point)
			last_point = lo;
		open[depth].end = hi;
		open[depth].value = value;
		depth++;
	}
	while (depth > 1) {
		depth--;
		if (!span_plan_set(s, open[depth].end, end, open[depth - 1].value, false))
			return false;
	}
	return true;
}

/* A new span node holding plan S. */
static uint32_t trie_new_span(struct trie *t, const struct span_plan *s)
{
	size_t first = t->used;
	uint32_t *node;

	if (trie_reserve(t, first + TEXPORTER_TRIE_SPAN_SIZE))
		return 0;
	t->used += TEXPORTER_TRIE_SPAN_SIZE;
	t->spans++;
	node = t->entries + first;
	for (unsigned int r = 0; r < TEXPORTER_TRIE_SPAN_RUNS; r++) {
		unsigned int last = r < s->runs ? r : s->runs - 1;

		if (r + 1 < TEXPORTER_TRIE_SPAN_RUNS)
			node[r] = r + 1 < s->runs ? (uint32_t)s->start[r + 1] : UINT32_MAX;
		node[TEXPORTER_TRIE_SPAN_RUNS + r] = s->value[last];
	}
	node[TEXPORTER_TRIE_SPAN_RUNS - 1] = s->runs; /* unused by the walk */
	return (uint32_t)first | TEXPORTER_TRIE_CHILD | TEXPORTER_TRIE_SPAN;
}

/* What trie_insert works through: the prefixes in pre-order, and the id
 * each one's range classifies as. */
struct trie_input {
	const struct config_prefix **order;
	size_t n;
	const uint32_t *ids;
};

/* Whether the prefixes below bit START, ORDER[0..N) up to the first one
 * outside its START-bit prefix, include at least TRIE_WIDE_MIN_PREFIXES
 * longer than START + 8: enough that a 16-bit node, which saves them one
 * level, is worth its 256 KiB. */
static bool wide_pays(const struct config_prefix *const *order, size_t n, unsigned int start)
{
	unsigned int longer = 0;

	for (size_t i = 0; i < n && longer < TRIE_WIDE_MIN_PREFIXES; i++) {
		if (!trie_below(order[0], order[i], start))
			break;
		longer += order[i]->len > start + 8;
	}
	return longer >= TRIE_WIDE_MIN_PREFIXES;
}

/* The node below an entry that classified as LEAF, for address bits from
 * START on, built when order[AT] is the first prefix to need it. From IPv6
 * bit 16 on: a span node when the prefixes below fit in one (and it would
 * cover more than one byte); from bit 32 on, else a wide array node on a
 * 16-bit boundary when it pays and the budget allows; else an array node
 * of the layout's stride. Returns the entry pointing to it, 0 on error. */
static uint32_t trie_new_child(struct trie *t, const struct trie_input *in, size_t at,
			       unsigned int start, uint32_t leaf)
{
	const struct config_prefix *const *below = in->order + at;
	int family = below[0]->family;
	struct span_plan s;
	uint32_t entry;

	if (family == TEXPORTER_IPV6 && start >= TEXPORTER_TRIE_SPAN_FIRST &&
	    trie_span_bits(start) > 8 &&
	    span_plan(&s, below, in->n - at, in->ids, start, trie_span_bits(start), leaf))
		return trie_new_span(t, &s);
	if (family == TEXPORTER_IPV6 && start >= TEXPORTER_TRIE_WIDE_FIRST && start % 16 == 0 &&
	    t->wides < TRIE_WIDE_MAX_NODES && wide_pays(below, in->n - at, start)) {
		entry = trie_new_array(t, 16, leaf);
		if (entry)
			t->wides++;
		return entry ? entry | TEXPORTER_TRIE_WIDE : 0;
	}
	return trie_new_array(t, trie_stride(t->layout, family, start, 0), leaf);
}

/* Inserts prefix order[AT]. Prefixes arrive in pre-order (every prefix
 * after those that contain it, before those it contains), so a fill never
 * covers a child node: children only come from prefixes inside this one;
 * and a span node is planned with every prefix below it. */
static int trie_insert(struct trie *t, const struct trie_input *in, size_t at)
{
	const struct config_prefix *p = in->order[at];
	unsigned int start = 0, stride = trie_stride(t->layout, p->family, 0, 0);
	size_t index = trie_root(t->layout, p->family) + trie_address_bits(p->addr, 0, stride);

	while (p->len > start + stride) {
		uint32_t entry = t->entries[index];

		start += stride;
		if (!(entry & TEXPORTER_TRIE_CHILD)) {
			entry = trie_new_child(t, in, at, start, entry);
			if (!entry)
				return -1;
			t->entries[index] = entry;
		}
		if (entry & TEXPORTER_TRIE_SPAN) {
			const uint32_t *node = t->entries + (entry & ~TEXPORTER_TRIE_FLAGS);
			uint32_t key = trie_address_bits(p->addr, start, trie_span_bits(start));

			stride = trie_span_bits(start);
			if (p->len <= start + stride)
				return 0; /* planned into the node with the first prefix below it */
			index = (size_t)(texporter_trie_span_value(node, key) - t->entries);
			continue;
		}
		stride = trie_stride(t->layout, p->family, start, entry);
		index = (entry & ~TEXPORTER_TRIE_FLAGS) + trie_address_bits(p->addr, start, stride);
	}
	trie_fill(t, index, (size_t)1 << (start + stride - p->len), trie_leaf(in->ids[p->range]));
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
	struct trie_input in = { .n = cfg->n_prefixes, .ids = ids };
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->layout = layout;
	if (trie_reserve(t, roots))
		return -1;
	trie_fill(t, 0, roots, trie_leaf(TEXPORTER_UNMATCHED_ID));
	t->used = roots;

	in.order = malloc((cfg->n_prefixes + 1) * sizeof(*in.order));
	if (!in.order) {
		trie_free(t);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_prefixes; i++)
		in.order[i] = &cfg->prefixes[i];
	qsort(in.order, cfg->n_prefixes, sizeof(*in.order), prefix_preorder);
	for (size_t i = 0; i < cfg->n_prefixes && !err; i++)
		err = trie_insert(t, &in, i);
	free(in.order);
	if (err) {
		int saved = errno;

		trie_free(t);
		errno = saved;
	}
	return err;
}

_Static_assert((uint64_t)TRIE_MAX_ENTRIES * sizeof(uint32_t) == 512ull << 20,
	       "trie_strerror says 512 MiB");

const char *trie_strerror(int err)
{
	if (err == E2BIG)
		return "it would take more than 512 MiB, the most a BPF program can index; "
		       "use fewer or shorter prefixes";
	return strerror(err);
}

void trie_free(struct trie *t)
{
	free(t->entries);
	memset(t, 0, sizeof(*t));
}
