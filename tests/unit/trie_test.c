// SPDX-License-Identifier: Apache-2.0
/* Checks the trie builder against a brute-force longest-prefix match, for
 * every stride layout: random nested prefixes of both families, random
 * addresses (most inside some prefix). Prints one line per layout and exits
 * non-zero on the first address classified differently, or when the table
 * lacks a span or a wide node (so that every node kind is always checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trie.h"

#define RANGES 40
#define PREFIXES 600
#define DENSE 120 /* IPv6 prefixes below one /32: too many for a span node */
#define DEEP 80   /* IPv6 prefixes down to /128 below one /64 */
#define ADDRESSES 40000

static uint64_t rng = 0x7e5;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void clear_host_bits(uint8_t *addr, unsigned int len, unsigned int bytes)
{
	for (unsigned int bit = len; bit < bytes * 8; bit++)
		addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

/* Prefixes cluster under a few /8s so that they nest and share nodes. */
static void random_prefix(struct config_prefix *p, int family)
{
	unsigned int bytes = family == TEXPORTER_IPV4 ? 4 : 16;
	unsigned int max = bytes * 8;

	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	for (unsigned int b = 0; b < bytes; b++)
		p->addr[b] = (uint8_t)next_random();
	p->addr[0] = (uint8_t)(0x20 + next_random() % 3);
	if (next_random() % 2)
		p->addr[1] = 0x01;
	p->len = (uint8_t)(next_random() % 4 == 0 ? next_random() % (max + 1) :
						    8 + next_random() % (max / 2));
	clear_host_bits(p->addr, p->len, bytes);
	p->range = (uint16_t)(next_random() % RANGES);
}

/* Prefixes of length FROM..TO below BASE/BASE_LEN. */
static void prefixes_below(struct config_prefix *p, size_t n, const uint8_t *base,
			   unsigned int base_len, unsigned int from, unsigned int to)
{
	for (size_t i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].family = TEXPORTER_IPV6;
		for (unsigned int b = 0; b < 16; b++)
			p[i].addr[b] = b < base_len / 8 ? base[b] : (uint8_t)next_random();
		p[i].len = (uint8_t)(from + next_random() % (to - from + 1));
		clear_host_bits(p[i].addr, p[i].len, 16);
		p[i].range = (uint16_t)(next_random() % RANGES);
	}
}

static bool covers(const struct config_prefix *p, const uint8_t *addr)
{
	for (unsigned int bit = 0; bit < p->len; bit++) {
		uint8_t mask = (uint8_t)(0x80u >> (bit % 8));

		if ((p->addr[bit / 8] & mask) != (addr[bit / 8] & mask))
			return false;
	}
	return true;
}

static uint32_t brute_force(const struct config *cfg, const uint32_t *ids, int family,
			    const uint8_t *addr)
{
	int best = -1;

	for (size_t i = 0; i < cfg->n_prefixes; i++) {
		const struct config_prefix *p = &cfg->prefixes[i];

		if (p->family == family && covers(p, addr) &&
		    (best < 0 || p->len > cfg->prefixes[best].len))
			best = (int)i;
	}
	return best < 0 ? TEXPORTER_UNMATCHED_ID : ids[cfg->prefixes[best].range];
}

static void random_address(const struct config *cfg, int family, uint8_t *addr)
{
	const struct config_prefix *p = &cfg->prefixes[next_random() % cfg->n_prefixes];

	for (unsigned int b = 0; b < 16; b++)
		addr[b] = (uint8_t)next_random();
	if (p->family == family && next_random() % 4)
		for (unsigned int bit = 0; bit < p->len; bit++) {
			uint8_t mask = (uint8_t)(0x80u >> (bit % 8));

			addr[bit / 8] = (uint8_t)((addr[bit / 8] & ~mask) | (p->addr[bit / 8] & mask));
		}
}

/* Drops later duplicates of a prefix, as the config parser would. */
static void dedupe(struct config *cfg)
{
	size_t kept = 0;

	for (size_t i = 0; i < cfg->n_prefixes; i++) {
		bool seen = false;

		for (size_t k = 0; k < kept && !seen; k++)
			seen = cfg->prefixes[k].family == cfg->prefixes[i].family &&
			       cfg->prefixes[k].len == cfg->prefixes[i].len &&
			       memcmp(cfg->prefixes[k].addr, cfg->prefixes[i].addr, 16) == 0;
		if (!seen)
			cfg->prefixes[kept++] = cfg->prefixes[i];
	}
	cfg->n_prefixes = kept;
}

static int check_layout(const struct config *cfg, const uint32_t *ids, struct trie_layout l)
{
	struct trie t;
	unsigned int nodes, most = 0;

	if (trie_build(&t, cfg, ids, l)) {
		perror("trie_build");
		return 1;
	}
	for (int n = 0; n < ADDRESSES; n++) {
		int family = n % 2;
		uint8_t addr[16];
		uint32_t want, got;

		random_address(cfg, family, addr);
		want = brute_force(cfg, ids, family, addr);
		got = trie_lookup(t.entries, l, family, addr, &nodes);
		if (nodes > most)
			most = nodes;
		if (want != got) {
			printf("layout %u/%u: address %d of family %d: trie says %u, brute force %u\n",
			       l.v4_root_bits, l.v6_second_bits, n, family, got, want);
			trie_free(&t);
			return 1;
		}
	}
	printf("layout v4 root %u, v6 second %u: %d addresses agree, %zu entries, %zu span and %zu wide nodes, at most %u nodes visited\n",
	       l.v4_root_bits, l.v6_second_bits, ADDRESSES, t.used, t.spans, t.wides, most);
	if (!t.spans || !t.wides) {
		printf("layout %u/%u: not every node kind was built\n", l.v4_root_bits,
		       l.v6_second_bits);
		trie_free(&t);
		return 1;
	}
	trie_free(&t);
	return 0;
}

int main(void)
{
	static struct config_prefix prefixes[PREFIXES + DENSE + DEEP];
	static const uint8_t dense[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t deep[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 };
	struct config cfg = { .prefixes = prefixes, .n_prefixes = PREFIXES + DENSE + DEEP };
	uint32_t ids[RANGES];
	const struct trie_layout layouts[] = { { 16, 8 }, { 16, 16 }, { 24, 8 }, { 24, 16 } };

	for (int r = 0; r < RANGES; r++)
		ids[r] = (uint32_t)r + 1;
	for (int i = 0; i < PREFIXES; i++)
		random_prefix(&prefixes[i], i % 2);
	prefixes_below(prefixes + PREFIXES, DENSE, dense, 32, 33, 64);
	prefixes_below(prefixes + PREFIXES + DENSE, DEEP, deep, 64, 65, 128);
	dedupe(&cfg);
	for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
		if (check_layout(&cfg, ids, layouts[l]))
			return 1;
	return 0;
}
