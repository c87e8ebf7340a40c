// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-read --top: the top unmatched prefixes. Per (iface, family,
 * side), the same K prefixes the metrics export (the biggest by bytes
 * counted), each with its rate over the interval. What must stay true, as
 * for the pairs in top.c: a rate is the difference of two readings of the
 * same prefix (matched by family, side, length and address), and a count
 * that went backwards (the map started anew) gives no rate.
 */
#include "top.h"

#include "array.h"
#include "cidr.h"

#include <stdlib.h>

/* PREV's count of K's prefix, or NULL when it had none. */
static const struct unmatched_prefix *find_prefix(const struct unmatched_snapshot *prev,
						  const struct texporter_unmatched_key *k)
{
	size_t first, n = unmatched_group(prev, k->family, k->side, &first);

	for (size_t i = first; i < first + n; i++)
		if (!memcmp(&prev->prefixes[i].key, k, sizeof(*k)))
			return &prev->prefixes[i];
	return NULL;
}

static int rows_grow(struct top_view *v)
{
	struct top_unmatched_row *grown =
		array_grow(v->unmatched, &v->unmatched_cap, sizeof(*grown), 64);

	if (!grown)
		return -1;
	v->unmatched = grown;
	return 0;
}

static void row_set(struct top_unmatched_row *r, const struct iface_snapshot *s,
		    const struct unmatched_prefix *p, const struct unmatched_snapshot *prev,
		    enum top_state state)
{
	const struct unmatched_prefix *before = NULL;

	*r = (struct top_unmatched_row){ .row = { .iface = s->label, .family = p->key.family,
						  .state = state },
					 .side = p->key.side };
	unmatched_format(p, r->prefix, sizeof(r->prefix));
	if (state == TOP_OK && !prev->present)
		r->row.state = TOP_FIRST; /* the map is new since the reading before */
	if (r->row.state != TOP_OK)
		return;
	before = find_prefix(prev, &p->key);
	if (before && (p->bytes < before->bytes || p->packets < before->packets)) {
		r->row.state = TOP_RESET;
		return;
	}
	r->row.bytes = p->bytes - (before ? before->bytes : 0);
	r->row.packets = p->packets - (before ? before->packets : 0);
}

int top_unmatched_add(struct top_view *v, const struct iface_snapshot *s,
		      const struct iface_snapshot *prev, enum top_state state)
{
	const struct unmatched_snapshot *u = &s->unmatched;

	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (int side = 0; side < TEXPORTER_SIDE_COUNT; side++) {
			size_t first, n = unmatched_group(u, f, side, &first);

			for (size_t i = first; i < first + n && i - first < v->top_unmatched; i++) {
				if (v->n_unmatched == v->unmatched_cap && rows_grow(v))
					return -1;
				row_set(&v->unmatched[v->n_unmatched++], s, &u->prefixes[i],
					prev ? &prev->unmatched : NULL, prev ? state : TOP_FIRST);
			}
		}
	return 0;
}

void top_unmatched_rates(struct top_view *v)
{
	for (size_t i = 0; i < v->n_unmatched; i++) {
		struct top_row *r = &v->unmatched[i].row;

		if (v->seconds > 0 && r->state == TOP_OK) {
			r->bits_rate = (double)r->bytes * 8 / v->seconds;
			r->packets_rate = (double)r->packets / v->seconds;
		}
	}
}

struct order {
	enum top_sort sort;
	int (*cmp)(const void *, const void *, void *);
};

static int cmp_unmatched(const void *x, const void *y, void *arg)
{
	const struct top_unmatched_row *a = x, *b = y;
	const struct order *o = arg;
	enum top_sort sort = o->sort;
	int c = o->cmp(&a->row, &b->row, &sort);

	if (!c)
		c = a->side - b->side;
	return c ? c : strcmp(a->prefix, b->prefix);
}

void top_unmatched_sort(struct top_view *v, enum top_sort sort,
			int (*cmp)(const void *, const void *, void *))
{
	struct order o = { sort, cmp };

	if (v->n_unmatched)
		qsort_r(v->unmatched, v->n_unmatched, sizeof(*v->unmatched), cmp_unmatched, &o);
}
