// SPDX-License-Identifier: Apache-2.0
/* The range config across ranges: a name used twice, a prefix under two
 * names (an error), a prefix repeated within its range (a warning). */
#include "config_build.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

static int config_cmp_name(const void *a, const void *b, void *ranges)
{
	const struct config_range *r = ranges;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = strcmp(r[ia].name, r[ib].name);

	if (c != 0)
		return c;
	return ia < ib ? -1 : ia > ib;
}

/* Indexes of RANGES sorted by name, file order among equal names; NULL if
 * out of memory. */
size_t *config_order_by_name(const struct config_range *ranges, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (n > 1)
		qsort_r(order, n, sizeof(*order), config_cmp_name, (void *)ranges);
	return order;
}

void config_check_duplicate_names(struct config_build *b)
{
	char quoted[CONFIG_QUOTE_LEN];
	size_t *order = config_order_by_name(b->ranges, b->n_ranges);
	size_t first = 0;

	if (!order) {
		config_error(&b->rep, "out of memory while comparing names");
		return;
	}
	for (size_t i = 1; i < b->n_ranges; i++) {
		const char *name = b->ranges[order[i]].name;

		if (strcmp(name, b->ranges[order[first]].name) != 0) {
			first = i;
			continue;
		}
		if (name[0] != '\0') /* bad names are reported already */
			config_error(&b->rep, "range #%zu: name %s is already used by range #%zu",
				     order[i] + 1, config_quote(name, quoted), order[first] + 1);
	}
	free(order);
}

/* The address as numbers compare faster than memcmp() in the sort, which
 * dominates loading a large config. */
static uint64_t config_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/* Orders prefixes by family, address, length, then range and position, so
 * equal prefixes are adjacent and appear in file order. */
static int config_cmp_entry(const void *a, const void *b)
{
	const struct config_entry *x = a, *y = b;

	if (x->prefix.family != y->prefix.family)
		return x->prefix.family < y->prefix.family ? -1 : 1;
	for (unsigned half = 0; half < 16; half += 8) {
		uint64_t ax = config_be64(x->prefix.addr + half);
		uint64_t ay = config_be64(y->prefix.addr + half);

		if (ax != ay)
			return ax < ay ? -1 : 1;
	}
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	if (x->range != y->range)
		return x->range < y->range ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool config_same_prefix(const struct config_entry *x, const struct config_entry *y)
{
	return x->prefix.family == y->prefix.family && x->prefix.len == y->prefix.len &&
	       memcmp(x->prefix.addr, y->prefix.addr, sizeof(x->prefix.addr)) == 0;
}

static void config_report_repeat(struct config_build *b, const struct config_entry *first,
				 const struct config_entry *again)
{
	char label[CONFIG_QUOTE_LEN + 16];
	char cidr[CIDR_STRLEN];
	const char *key = cidr_family_key[again->prefix.family];

	/* Harmless and common in published lists: one line each at debug
	 * level, one summary warning. */
	b->repeats++;
	cidr_format(again->prefix.family, again->prefix.addr, again->prefix.len, cidr,
		    sizeof(cidr));
	config_range_label(&b->ranges[again->range], again->range, label, sizeof(label));
	log_debug("%s: %s: %s[%u] repeats %s[%u] (%s); kept once", b->rep.path, label, key,
		  again->index, key, first->index, cidr);
}

static void config_report_conflict(struct config_build *b, const struct config_entry *first,
				   const struct config_entry *other)
{
	char label_first[CONFIG_QUOTE_LEN + 16];
	char label_other[CONFIG_QUOTE_LEN + 16];
	char cidr[CIDR_STRLEN];
	const char *key = cidr_family_key[other->prefix.family];

	cidr_format(other->prefix.family, other->prefix.addr, other->prefix.len, cidr,
		    sizeof(cidr));
	config_range_label(&b->ranges[first->range], first->range, label_first,
			   sizeof(label_first));
	config_range_label(&b->ranges[other->range], other->range, label_other,
			   sizeof(label_other));
	config_error(&b->rep, "prefix %s is in %s (%s[%u]) and in %s (%s[%u]); a prefix can belong to one range only",
		     cidr, label_first, key, first->index, label_other, key, other->index);
}

/* Sorting finds equal prefixes in O(n log n): a config may hold millions.
 * Within a run of one prefix, entries are grouped by range in file order,
 * so each repeat is compared with its range's first occurrence and each
 * other range with the run's first range. */
void config_check_duplicate_prefixes(struct config_build *b)
{
	struct config_entry *e = b->entries;
	size_t run = 0, group = 0;

	if (b->n_entries > 1)
		qsort(e, b->n_entries, sizeof(*e), config_cmp_entry);
	for (size_t i = 1; i < b->n_entries; i++) {
		if (!config_same_prefix(&e[i], &e[run])) {
			run = group = i;
			continue;
		}
		if (e[i].range == e[group].range) {
			config_report_repeat(b, &e[group], &e[i]);
			continue;
		}
		group = i;
		config_report_conflict(b, &e[run], &e[i]);
	}
	if (b->repeats)
		config_warn(&b->rep, "%zu prefixes repeated within their own range were kept once (-l debug lists them)",
			    b->repeats);
}

/* After the check, a prefix repeated in one range is kept once (entries
 * are sorted, so repeats are adjacent). */
void config_drop_repeats(struct config_build *b)
{
	size_t kept = 0;

	for (size_t i = 0; i < b->n_entries; i++)
		if (kept == 0 || !config_same_prefix(&b->entries[i], &b->entries[kept - 1]))
			b->entries[kept++] = b->entries[i];
	b->n_entries = kept;
}
