/* SPDX-License-Identifier: Apache-2.0 */
/*
 * texporter-read --top, between its two halves: top.c takes the readings
 * and turns two of them into rates (struct top_view) and plain tables;
 * top_screen.c draws a view on a terminal and reads its keys.
 */
#ifndef TEXPORTER_TOP_H
#define TEXPORTER_TOP_H

#include "reader.h"

#include <signal.h>

#define TOP_DEFAULT_INTERVAL_MS 2000

/* --interval S: seconds, 0.1 to 3600; 0 with *ms set, or EXIT_USAGE
 * after the usage error. */
int top_parse_interval(const char *arg, int64_t *ms);
/* The live view (a terminal) or a table per interval (anything else),
 * until q, SIGINT, SIGTERM or SIGHUP; the exit code. */
int top_run(const struct scrape_config *cfg, int64_t interval_ms);

/* Families of a row; TOP_ALL for totals over both, and the filter "all". */
enum { TOP_IPV4 = TEXPORTER_IPV4, TOP_IPV6 = TEXPORTER_IPV6, TOP_ALL,
       TOP_FAMILIES };
extern const char *const top_family_names[TOP_FAMILIES];

enum top_state {
	TOP_FIRST, /* no reading before this one: no rate yet */
	TOP_OK,    /* bytes/packets are this interval's, rates set */
	TOP_RESET, /* the counter went backwards (cleared by a reload, the
		    * interface loaded again): no rate this interval */
};

enum top_sort { TOP_SORT_BITS, TOP_SORT_PACKETS, TOP_SORT_NAME };

struct top_row {
	const char *iface;    /* NULL for totals */
	const char *src, *dst; /* range names; NULL except for pairs */
	int family;           /* TOP_IPV4, TOP_IPV6 or (totals) TOP_ALL */
	enum top_state state;
	uint64_t bytes, packets; /* during the interval, when TOP_OK */
	double bits_rate, packets_rate;
};

/* A row of the top unmatched prefixes; row.src and row.dst stay NULL. */
struct top_unmatched_row {
	struct top_row row; /* first: sorted by the pairs' order */
	int side;           /* enum texporter_side the prefix was seen on */
	char prefix[50];    /* CIDR text (CIDR_STRLEN) */
};

struct top_view {
	struct top_row *pairs; /* (iface, family, src, dst) with packets */
	size_t n_pairs, pairs_cap;
	struct top_row *ifaces; /* one per (iface, family) */
	size_t n_ifaces;
	struct top_row totals[TOP_FAMILIES]; /* ipv4, ipv6, all */
	struct top_unmatched_row *unmatched; /* the K biggest prefixes by bytes of
					      * each (iface, family, side) */
	size_t n_unmatched, unmatched_cap;
	unsigned top_unmatched; /* K: --top-unmatched */
	double seconds;        /* since the reading before; 0 on the first */
	uint64_t readings;     /* good readings so far, this one included */
	int64_t at_ms;         /* wall clock of this reading */
	char error[ERR_LEN];   /* why the last reading failed, "" if it did not */
};

struct top_run_state {
	int64_t interval_ms;
	enum top_sort sort;
	int family; /* the filter: TOP_IPV4, TOP_IPV6 or TOP_ALL */
	struct top_view view;
	struct pins_snapshot prev; /* the last good reading; rows point into it */
	int64_t prev_ns;
	uint64_t readings;
};

/* Takes a reading into st->view (sorted by st->sort); on failure -1, the
 * view of the last good reading stays, with the reason in view.error. */
int top_read(const struct scrape_config *cfg, struct top_run_state *st);
void top_view_sort(struct top_view *v, enum top_sort sort);
/* One tab-separated table of V to FD; -1 with errno when writing fails. */
int top_plain_write(int fd, const struct top_view *v);

/* SIGINT, SIGTERM or SIGHUP arrived. */
bool top_stopping(void);
/* Installs HANDLER for SIG without SA_RESTART, so poll() sees it. */
void top_catch_signal(int sig, void (*handler)(int));

/* ---- top_unmatched.c */

/* Adds the unmatched rows of interface S (PREV: its reading before, when
 * its counters go on from there, else NULL; STATE as for its pairs). 0,
 * or -1 out of memory. */
int top_unmatched_add(struct top_view *v, const struct iface_snapshot *s,
		      const struct iface_snapshot *prev, enum top_state state);
/* Sets the rows' rates (v->seconds is set). */
void top_unmatched_rates(struct top_view *v);
/* Sorts the rows by CMP (the pairs' order, given SORT), then side and
 * prefix. */
void top_unmatched_sort(struct top_view *v, enum top_sort sort,
			int (*cmp)(const void *, const void *, void *));

/* ---- top_screen.c */

/* Standard output is a terminal that understands ANSI (not TERM=dumb). */
bool top_screen_usable(void);
/* The live view until q, a signal or a failed write; the exit code. */
int top_screen_loop(const struct scrape_config *cfg, struct top_run_state *st);

#endif /* TEXPORTER_TOP_H */
