// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-read --top: rates of the counters between two readings, per
 * (iface, family, src, dst) pair, per (iface, family) and per family. Each
 * reading is an ordinary snapshot_read(); nothing here opens a pin itself.
 *
 * What must stay true: a rate is only ever the difference of two readings
 * of the same counter, divided by the time between them. A counter that
 * went backwards (a reload that cleared it, an interface detached and
 * loaded again) gives state TOP_RESET and no rate for that interval, never
 * a negative or wrapped-around figure; its new value is the base of the
 * next interval. Rows are matched between readings by names (iface label,
 * range names), never by ids, which a reload may reuse.
 *
 * top_run() drives the readings; top_screen.c draws them on a terminal,
 * top_plain_write() below prints them as tab-separated tables otherwise.
 */
#include "top.h"

#include "array.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TOP_INTERVAL_MIN_MS 100
#define TOP_INTERVAL_MAX_MS (3600 * 1000)

const char *const top_family_names[TOP_FAMILIES] = { "ipv4", "ipv6", "all" };

/* ---- --interval */

int top_parse_interval(const char *arg, int64_t *ms)
{
	const char *p = arg;
	char *end;
	double seconds;

	/* Digits and at most one '.', so no "inf", "nan", hex or exponent. */
	if (*p == '.')
		p++;
	if (*p < '0' || *p > '9')
		goto bad;
	errno = 0;
	seconds = strtod(arg, &end);
	if (errno || *end || end == arg || strspn(arg, "0123456789.") != strlen(arg))
		goto bad;
	if (seconds * 1000 < TOP_INTERVAL_MIN_MS ||
	    seconds * 1000 > TOP_INTERVAL_MAX_MS)
		return cli_bad_value("--interval", arg,
				     "use seconds from 0.1 to 3600");
	*ms = (int64_t)(seconds * 1000 + 0.5);
	return 0;
bad:
	return cli_bad_value("--interval", arg,
			     "use seconds as a decimal number, like 2 or 0.5");
}

/* ---- rows from two readings */

static const struct iface_snapshot *find_iface(const struct pins_snapshot *snap,
					       const char *label)
{
	for (size_t i = 0; snap && i < snap->count; i++)
		if (!strcmp(snap->ifaces[i].label, label))
			return &snap->ifaces[i];
	return NULL;
}

static size_t range_name_len(const struct texporter_name *n)
{
	return strnlen(n->name, sizeof(n->name));
}

/* For each id of CUR, the id the same name has in PREV, or UINT32_MAX. */
static void map_ids(const struct iface_snapshot *cur,
		    const struct iface_snapshot *prev, uint32_t *to_prev)
{
	for (uint32_t id = 0; id < cur->meta.capacity; id++) {
		size_t len = range_name_len(&cur->names[id]);

		to_prev[id] = UINT32_MAX;
		for (uint32_t p = 0; len && prev && p < prev->meta.capacity; p++)
			if (range_name_len(&prev->names[p]) == len &&
			    !memcmp(prev->names[p].name, cur->names[id].name, len)) {
				to_prev[id] = p;
				break;
			}
	}
}

/* How a counter of an interface in state IFACE moved from BEFORE (NULL: it
 * had no packets) to NOW, into ROW. */
static void row_measure(struct top_row *row, enum top_state iface,
			const struct texporter_counter *before,
			const struct texporter_counter *now)
{
	struct texporter_counter zero = { 0 };

	if (!before)
		before = &zero;
	row->state = iface;
	if (iface != TOP_OK)
		return;
	if (now->bytes < before->bytes || now->packets < before->packets) {
		row->state = TOP_RESET;
		return;
	}
	row->bytes = now->bytes - before->bytes;
	row->packets = now->packets - before->packets;
}

static void row_add(struct top_row *sum, const struct top_row *row)
{
	if (row->state != TOP_OK)
		return;
	sum->bytes += row->bytes;
	sum->packets += row->packets;
}

static enum top_state iface_state(const struct iface_snapshot *cur,
				  const struct iface_snapshot *prev)
{
	if (!prev)
		return TOP_FIRST;
	/* Detached and loaded again: every counter started over. */
	if (prev->meta.loaded_at != cur->meta.loaded_at ||
	    prev->meta.ifindex != cur->meta.ifindex)
		return TOP_RESET;
	return TOP_OK;
}

static int pairs_grow(struct top_view *v)
{
	struct top_row *grown = array_grow(v->pairs, &v->pairs_cap, sizeof(*grown), 64);

	if (!grown)
		return -1;
	v->pairs = grown;
	return 0;
}

/* The pairs of one interface (rows with packets and both names set, as the
 * exposition has them) and its per-family rows. */
static int view_add_iface(struct top_view *v, const struct iface_snapshot *s,
			  const struct iface_snapshot *prev, uint32_t *to_prev)
{
	enum top_state state = iface_state(s, prev);
	uint32_t cap = s->meta.capacity;

	map_ids(s, state == TOP_OK ? prev : NULL, to_prev);
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		struct top_row *fam = &v->ifaces[v->n_ifaces++];

		*fam = (struct top_row){ .iface = s->label, .family = f,
					 .state = state };
		for (uint32_t src = 0; src < cap; src++) {
			if (!range_name_len(&s->names[src]))
				continue;
			for (uint32_t dst = 0; dst < cap; dst++) {
				const struct texporter_counter *c, *before = NULL;
				struct top_row *row;

				c = &s->counters[texporter_counter_index(cap, f, src, dst)];
				if (!c->packets || !range_name_len(&s->names[dst]))
					continue;
				if (v->n_pairs == v->pairs_cap && pairs_grow(v))
					return -1;
				if (state == TOP_OK && to_prev[src] != UINT32_MAX &&
				    to_prev[dst] != UINT32_MAX)
					before = &prev->counters[texporter_counter_index(
						prev->meta.capacity, f, to_prev[src],
						to_prev[dst])];
				row = &v->pairs[v->n_pairs++];
				*row = (struct top_row){
					.iface = s->label, .family = f,
					.src = s->names[src].name,
					.dst = s->names[dst].name,
				};
				row_measure(row, state, before, c);
				row_add(fam, row);
			}
		}
	}
	return top_unmatched_add(v, s, state == TOP_OK ? prev : NULL, state);
}

static void view_rates(struct top_row *rows, size_t n, double seconds)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].state != TOP_OK || seconds <= 0)
			continue;
		rows[i].bits_rate = (double)rows[i].bytes * 8 / seconds;
		rows[i].packets_rate = (double)rows[i].packets / seconds;
	}
}

/* The view of reading CUR against the reading before, PREV (NULL: none). */
static int view_build(struct top_view *v, const struct pins_snapshot *cur,
		      const struct pins_snapshot *prev, double seconds)
{
	uint32_t *to_prev = malloc(TEXPORTER_MAX_IDS * sizeof(*to_prev));
	struct top_row *ifaces;

	ifaces = realloc(v->ifaces, (cur->count ? cur->count : 1) *
					    TEXPORTER_FAMILY_COUNT * sizeof(*ifaces));
	if (!to_prev || !ifaces) {
		free(to_prev);
		if (ifaces)
			v->ifaces = ifaces;
		return -1;
	}
	v->ifaces = ifaces;
	v->n_ifaces = v->n_pairs = v->n_unmatched = 0;
	v->seconds = prev ? seconds : 0;
	for (int f = 0; f < TOP_FAMILIES; f++)
		v->totals[f] = (struct top_row){ .family = f,
			.state = prev ? TOP_OK : TOP_FIRST };
	for (size_t i = 0; i < cur->count; i++) {
		const struct iface_snapshot *s = &cur->ifaces[i];

		if (s->meta.capacity > TEXPORTER_MAX_IDS ||
		    view_add_iface(v, s, find_iface(prev, s->label), to_prev)) {
			free(to_prev);
			return -1;
		}
	}
	free(to_prev);
	for (size_t i = 0; i < v->n_ifaces; i++) {
		row_add(&v->totals[v->ifaces[i].family], &v->ifaces[i]);
		row_add(&v->totals[TOP_ALL], &v->ifaces[i]);
	}
	view_rates(v->pairs, v->n_pairs, v->seconds);
	view_rates(v->ifaces, v->n_ifaces, v->seconds);
	view_rates(v->totals, TOP_FAMILIES, v->seconds);
	top_unmatched_rates(v);
	return 0;
}

/* ---- order */

static int cmp_names(const struct top_row *a, const struct top_row *b)
{
	int c = strcmp(a->iface ? a->iface : "", b->iface ? b->iface : "");

	if (!c)
		c = a->family - b->family;
	if (!c && a->src && b->src)
		c = strcmp(a->src, b->src);
	if (!c && a->dst && b->dst)
		c = strcmp(a->dst, b->dst);
	return c;
}

static int cmp_rows(const void *x, const void *y, void *arg)
{
	const struct top_row *a = x, *b = y;
	enum top_sort sort = *(const enum top_sort *)arg;
	uint64_t va, vb;

	if (sort != TOP_SORT_NAME) {
		/* Rows without a rate after every row with one. */
		if ((a->state == TOP_OK) != (b->state == TOP_OK))
			return a->state == TOP_OK ? -1 : 1;
		va = sort == TOP_SORT_BITS ? a->bytes : a->packets;
		vb = sort == TOP_SORT_BITS ? b->bytes : b->packets;
		if (va != vb)
			return va > vb ? -1 : 1;
	}
	return cmp_names(a, b);
}

void top_view_sort(struct top_view *v, enum top_sort sort)
{
	/* qsort_r wants a pointer even for no rows; pairs has none before
	 * the first traffic. */
	if (v->n_pairs)
		qsort_r(v->pairs, v->n_pairs, sizeof(*v->pairs), cmp_rows, &sort);
	if (v->n_ifaces)
		qsort_r(v->ifaces, v->n_ifaces, sizeof(*v->ifaces), cmp_rows,
			&sort);
	top_unmatched_sort(v, sort, cmp_rows);
}

static void view_free(struct top_view *v)
{
	free(v->pairs);
	free(v->ifaces);
	free(v->unmatched);
	*v = (struct top_view){ 0 };
}

/* ---- plain tables, when standard output is not a terminal */

/* A name as one field: bytes that would break a line or a field (controls,
 * which names never hold but a damaged pin might) become '?'. */
static void plain_add_field(struct buf *out, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++)
		buf_add(out, (unsigned char)*p < 0x20 || *p == 0x7f ? "?" : p, 1);
}

static void plain_add_row(struct buf *out, const char *kind,
			  const struct top_row *r)
{
	static const char *const states[] = { "first", "ok", "reset" };

	buf_printf(out, "%s\t", kind);
	plain_add_field(out, r->iface);
	buf_printf(out, "\t%s\t", top_family_names[r->family]);
	plain_add_field(out, r->src);
	buf_add_str(out, "\t");
	plain_add_field(out, r->dst);
	buf_printf(out, "\t%s\t", states[r->state]);
	if (r->state == TOP_OK)
		buf_printf(out, "%llu\t%llu\t%.0f\t%.1f",
			   (unsigned long long)r->bytes,
			   (unsigned long long)r->packets, r->bits_rate,
			   r->packets_rate);
	else
		buf_add_str(out, "\t\t\t");
	buf_add_str(out, "\n");
}

/* One table: a comment line, the column names, totals, interfaces, pairs
 * and the top unmatched prefixes (each sorted by rate), an empty line.
 * Rows are told apart by their kind, so parsers that select by kind keep
 * working when a section is added. An unmatched row has its prefix in
 * the src or dst column, the side it was seen on, and the other empty. */
int top_plain_write(int fd, const struct top_view *v)
{
	struct buf out = { 0 };
	int rc;

	buf_printf(&out, "# texporter-read --top: reading %llu at %lld.%03lld",
		   (unsigned long long)v->readings, (long long)(v->at_ms / 1000),
		   (long long)(v->at_ms % 1000));
	if (v->totals[TOP_ALL].state == TOP_FIRST)
		buf_add_str(&out, ", first reading: no rates yet\n");
	else
		buf_printf(&out, ", %.3f s after the one before\n", v->seconds);
	buf_add_str(&out, "kind\tiface\tfamily\tsrc\tdst\tstate\tbytes\tpackets"
			  "\tbits_per_second\tpackets_per_second\n");
	for (int f = 0; f < TOP_FAMILIES; f++)
		plain_add_row(&out, "total", &v->totals[f]);
	for (size_t i = 0; i < v->n_ifaces; i++)
		plain_add_row(&out, "iface", &v->ifaces[i]);
	for (size_t i = 0; i < v->n_pairs; i++)
		plain_add_row(&out, "pair", &v->pairs[i]);
	/* The prefix in the column of the side it was seen on. */
	for (size_t i = 0; i < v->n_unmatched; i++) {
		struct top_row r = v->unmatched[i].row;

		*(v->unmatched[i].side == TEXPORTER_SIDE_SRC ? &r.src : &r.dst) =
			v->unmatched[i].prefix;
		plain_add_row(&out, "unmatched", &r);
	}
	buf_add_str(&out, "\n");
	rc = out.failed ? -1 : write_all(fd, out.data, out.len);
	if (out.failed)
		errno = ENOMEM;
	buf_free(&out);
	return rc;
}

/* ---- the loop */

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
	(void)sig;
	top_stop = 1;
}

bool top_stopping(void)
{
	return top_stop;
}

void top_catch_signal(int sig, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };

	/* No SA_RESTART: poll() returns EINTR so the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Rows keep names as C strings; a damaged pin may lack the NUL. */
static void names_terminate(struct pins_snapshot *snap)
{
	for (size_t i = 0; i < snap->count; i++)
		for (uint32_t id = 0; id < snap->ifaces[i].meta.capacity; id++)
			snap->ifaces[i].names[id].name[TEXPORTER_NAME_LEN - 1] = '\0';
}

/* Takes a reading and rebuilds the view against the last good one. A
 * failed reading keeps the last good one as base and leaves its reason in
 * v->error; the next good reading spans both intervals. */
int top_read(const struct scrape_config *cfg, struct top_run_state *st)
{
	struct pins_snapshot cur;
	int64_t at = now_ns();

	st->view.top_unmatched = cfg->top_unmatched;
	if (snapshot_read(cfg, &cur, st->view.error, sizeof(st->view.error)))
		return -1;
	names_terminate(&cur);
	if (view_build(&st->view, &cur, st->readings ? &st->prev : NULL,
		       (double)(at - st->prev_ns) / 1e9)) {
		/* Rows built so far point into cur: drop them with it. */
		st->view.n_pairs = st->view.n_ifaces = st->view.n_unmatched = 0;
		snapshot_free(&cur);
		snprintf(st->view.error, sizeof(st->view.error),
			 "out of memory for the rows of --top");
		return -1;
	}
	st->view.error[0] = '\0';
	st->view.readings = ++st->readings;
	st->view.at_ms = wall_ms();
	top_view_sort(&st->view, st->sort);
	/* The rows point into cur's names: keep it until the next reading. */
	snapshot_free(&st->prev);
	st->prev = cur;
	st->prev_ns = at;
	return 0;
}

/* Sleeps until DEADLINE (now_ms() clock) or a signal to stop. */
static void sleep_until(int64_t deadline)
{
	while (!top_stop && now_ms() < deadline)
		poll(NULL, 0, (int)(deadline - now_ms()));
}

/* Plain mode: the table of each reading, until a signal or a failed write.
 * A reading that fails is warned about once, not every interval, until a
 * reading succeeds again or fails otherwise. */
static int top_plain_loop(const struct scrape_config *cfg,
			  struct top_run_state *st)
{
	char warned[sizeof(st->view.error)] = "";
	int64_t next = now_ms();

	for (;;) {
		if (top_plain_write(1, &st->view)) {
			if (errno == EPIPE)
				return EXIT_OK; /* the reader of the pipe is done */
			log_error("cannot write to standard output: %s",
				  strerror(errno));
			return EXIT_RUNTIME;
		}
		for (;;) {
			next += st->interval_ms;
			if (next < now_ms()) /* stopped (SIGSTOP) or slow */
				next = now_ms();
			sleep_until(next);
			if (top_stop)
				return EXIT_OK;
			if (top_read(cfg, st) == 0)
				break;
			/* No table for this reading; the next spans both. */
			if (strcmp(warned, st->view.error))
				log_warn("%s", st->view.error);
			memcpy(warned, st->view.error, sizeof(warned));
		}
		warned[0] = '\0';
	}
}

int top_run(const struct scrape_config *cfg, int64_t interval_ms)
{
	struct top_run_state st = { .interval_ms = interval_ms,
				    .sort = TOP_SORT_BITS,
				    .family = TOP_ALL };
	int rc;

	top_catch_signal(SIGINT, on_stop);
	top_catch_signal(SIGTERM, on_stop);
	top_catch_signal(SIGHUP, on_stop);
	signal(SIGPIPE, SIG_IGN);
	/* The first reading decides: pins that cannot be read are an error,
	 * as for a single scrape, not a screen that waits forever. */
	if (top_read(cfg, &st)) {
		log_error("%s", st.view.error);
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = top_screen_usable() ? top_screen_loop(cfg, &st)
				 : top_plain_loop(cfg, &st);
out:
	view_free(&st.view);
	snapshot_free(&st.prev);
	return rc;
}
