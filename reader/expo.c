// SPDX-License-Identifier: Apache-2.0
/*
 * Rendering the exposition: Prometheus text format 0.0.4, or OpenMetrics
 * 1.0 (counter families named without _total, "# EOF" at the end).
 *
 * Output is sorted so that two scrapes diff: families by name, samples by
 * their label values. For the traffic series that is done without sorting
 * any series: each interface's ids are sorted by name once, then the loop
 * runs src-sorted x dst-sorted. All label values are escaped once into an
 * arena, and every line is copied together from pieces into one buffer.
 */
#include "reader.h"

#include "cidr.h"
#include "log.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>

/* One interface prepared for rendering. */
struct iface_view {
	const struct iface_snapshot *snap;
	__u32 *ids;     /* ids with a non-empty name, sorted by name */
	__u32 n_ids;
	size_t *esc_off; /* per id: its escaped name in the arena */
	__u32 *esc_len;
	size_t label_off; /* the escaped iface label in the arena */
	size_t label_len;
	size_t series; /* (family, src, dst) with packets > 0 */
};

struct render {
	struct buf *out;
	enum expo_format format;
	struct iface_view *views;
	size_t n_views;
	struct buf arena; /* escaped label values */
};

static const char *const family_labels[TEXPORTER_FAMILY_COUNT] = {
	[TEXPORTER_IPV4] = "ipv4",
	[TEXPORTER_IPV6] = "ipv6",
};

static const struct {
	const char *hook;
	const char *mode;
} attach_labels[] = {
	[TEXPORTER_ATTACH_XDP_NATIVE] = { "xdp", "native" },
	[TEXPORTER_ATTACH_XDP_GENERIC] = { "xdp", "generic" },
	[TEXPORTER_ATTACH_TCX] = { "tc", "tcx" },
	[TEXPORTER_ATTACH_TC_LEGACY] = { "tc", "legacy" },
};

/* ---- preparing the interfaces */

static size_t name_len(const struct texporter_name *n)
{
	return strnlen(n->name, TEXPORTER_NAME_LEN - 1);
}

static int view_prepare(struct iface_view *v, const struct iface_snapshot *s,
			struct buf *arena)
{
	__u32 cap = s->meta.capacity;

	v->snap = s;
	v->ids = malloc(cap * sizeof(*v->ids));
	v->esc_off = calloc(cap, sizeof(*v->esc_off));
	v->esc_len = calloc(cap, sizeof(*v->esc_len));
	if (!v->ids || !v->esc_off || !v->esc_len)
		return -1;

	v->label_off = arena->len;
	buf_add_label_value(arena, s->label, strlen(s->label));
	v->label_len = arena->len - v->label_off;

	for (__u32 id = 0; id < cap; id++) {
		size_t len = name_len(&s->names[id]);

		if (!len)
			continue;
		v->ids[v->n_ids++] = id;
		v->esc_off[id] = arena->len;
		buf_add_label_value(arena, s->names[id].name, len);
		v->esc_len[id] = (__u32)(arena->len - v->esc_off[id]);
	}
	qsort_r(v->ids, v->n_ids, sizeof(*v->ids), names_cmp_ids,
		(void *)s->names);

	for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u32 i = 0; i < v->n_ids; i++) {
			const struct texporter_counter *row =
				&s->counters[(size_t)texporter_counter_index(
					cap, f, v->ids[i], 0)];

			for (__u32 j = 0; j < v->n_ids; j++)
				v->series += row[v->ids[j]].packets != 0;
		}
	return arena->failed ? -1 : 0;
}

static void view_free(struct iface_view *v)
{
	free(v->ids);
	free(v->esc_off);
	free(v->esc_len);
}

/* ---- writing families and samples */

static void family_header(struct render *r, const char *name, const char *type,
			  const char *help)
{
	size_t len = strlen(name);

	/* OpenMetrics names a counter family without the _total suffix
	 * that its samples keep. */
	if (r->format == EXPO_OPENMETRICS && !strcmp(type, "counter") &&
	    len > 6 && !strcmp(name + len - 6, "_total"))
		len -= 6;
	buf_add_str(r->out, "# HELP ");
	buf_add(r->out, name, len);
	buf_add(r->out, " ", 1);
	buf_add_str(r->out, help);
	buf_add_str(r->out, "\n# TYPE ");
	buf_add(r->out, name, len);
	buf_add(r->out, " ", 1);
	buf_add_str(r->out, type);
	buf_add(r->out, "\n", 1);
}

/* name{iface="LABEL"EXTRA} VALUE, where extra is ",label=\"value\"..." */
static void sample_iface(struct render *r, const char *name,
			 const struct iface_view *v, const char *extra,
			 uint64_t value)
{
	buf_add_str(r->out, name);
	buf_add_str(r->out, "{iface=\"");
	buf_add(r->out, r->arena.data + v->label_off, v->label_len);
	buf_add(r->out, "\"", 1);
	buf_add_str(r->out, extra);
	buf_add_str(r->out, "} ");
	buf_add_u64(r->out, value);
	buf_add(r->out, "\n", 1);
}

static void family_attach_info(struct render *r)
{
	family_header(r, "texporter_attach_info", "gauge",
		      "How texporter is attached to an interface, per direction; "
		      "0 when the interface or its program is gone.");
	for (size_t i = 0; i < r->n_views; i++) {
		const struct iface_view *v = &r->views[i];
		/* "egress" sorts before "ingress". */
		const struct {
			const char *name;
			__u32 how;
		} dirs[] = {
			{ "egress", v->snap->meta.egress },
			{ "ingress", v->snap->meta.ingress },
		};

		const bool live[] = { v->snap->egress_live,
				      v->snap->ingress_live };

		for (size_t d = 0; d < 2; d++) {
			char extra[96];
			__u32 how = dirs[d].how;

			if (how == TEXPORTER_ATTACH_NONE ||
			    how >= sizeof(attach_labels) / sizeof(attach_labels[0])) {
				if (how != TEXPORTER_ATTACH_NONE)
					log_debug("%s: unknown %s attach mode %u",
						  v->snap->dir, dirs[d].name, how);
				continue;
			}
			snprintf(extra, sizeof(extra),
				 ",direction=\"%s\",hook=\"%s\",mode=\"%s\"",
				 dirs[d].name, attach_labels[how].hook,
				 attach_labels[how].mode);
			/* 0 once the interface (and its attachment) is gone. */
			sample_iface(r, "texporter_attach_info", v, extra,
				     live[d]);
		}
	}
}

static void family_build_info(struct render *r)
{
	family_header(r, "texporter_build_info", "gauge",
		      "Version and revision of texporter-read.");
	buf_add_str(r->out, "texporter_build_info{version=\"");
	buf_add_label_value(r->out, texporter_version,
			    strlen(texporter_version));
	buf_add_str(r->out, "\",revision=\"");
	buf_add_label_value(r->out, texporter_revision,
			    strlen(texporter_revision));
	buf_add_str(r->out, "\"} 1\n");
}

/* The hot loop: one line per (iface, family, src, dst) with packets. */
static void family_captured(struct render *r, bool bytes)
{
	const char *name = bytes ? "texporter_captured_bytes_total"
				 : "texporter_captured_packets_total";
	struct buf *out = r->out;
	struct buf prefix = { 0 };

	if (bytes)
		family_header(r, name, "counter",
			      "L3 bytes captured, by interface, address family, "
			      "source range and destination range.");
	else
		family_header(r, name, "counter",
			      "Packets captured, by interface, address family, "
			      "source range and destination range.");
	for (size_t i = 0; i < r->n_views; i++) {
		const struct iface_view *v = &r->views[i];
		const struct iface_snapshot *s = v->snap;
		__u32 cap = s->meta.capacity;

		for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
			for (__u32 si = 0; si < v->n_ids; si++) {
				__u32 src = v->ids[si];
				const struct texporter_counter *row =
					&s->counters[(size_t)texporter_counter_index(
						cap, f, src, 0)];

				/* name{iface="L",family="F",src="S",dst=" */
				prefix.len = 0;
				buf_add_str(&prefix, name);
				buf_add_str(&prefix, "{iface=\"");
				buf_add(&prefix, r->arena.data + v->label_off,
					v->label_len);
				buf_add_str(&prefix, "\",family=\"");
				buf_add_str(&prefix, family_labels[f]);
				buf_add_str(&prefix, "\",src=\"");
				buf_add(&prefix, r->arena.data + v->esc_off[src],
					v->esc_len[src]);
				buf_add_str(&prefix, "\",dst=\"");
				if (prefix.failed)
					goto out;

				for (__u32 di = 0; di < v->n_ids; di++) {
					__u32 dst = v->ids[di];
					const struct texporter_counter *c = &row[dst];
					size_t dlen = v->esc_len[dst];
					char *p;

					if (!c->packets)
						continue;
					if (!buf_reserve(out, prefix.len + dlen + 24))
						goto out;
					p = out->data + out->len;
					memcpy(p, prefix.data, prefix.len);
					p += prefix.len;
					memcpy(p, r->arena.data + v->esc_off[dst], dlen);
					p += dlen;
					memcpy(p, "\"} ", 3);
					p += 3;
					p += format_u64(p, bytes ? c->bytes : c->packets);
					*p++ = '\n';
					out->len = (size_t)(p - out->data);
				}
			}
		}
	}
out:
	if (prefix.failed)
		out->failed = true;
	buf_free(&prefix);
}

enum iface_value {
	VALUE_COUNTER_SLOTS,
	VALUE_COUNTER_SLOTS_USED,
	VALUE_COUNTER_SHARED_PAIRS,
	VALUE_LAST_CHANGE,
	VALUE_LOADED,
	VALUE_RANGES,
	VALUE_RELOADS,
	VALUE_TRIE_ENTRIES,
	VALUE_TRIE_USED,
	VALUE_IGNORED,
};

static uint64_t iface_value(const struct iface_snapshot *s, enum iface_value which)
{
	const struct texporter_meta *m = &s->meta;

	switch (which) {
	case VALUE_COUNTER_SLOTS:
		return s->slots;
	case VALUE_COUNTER_SLOTS_USED:
		return s->slots_used;
	case VALUE_COUNTER_SHARED_PAIRS:
		return s->shared_pairs;
	case VALUE_LAST_CHANGE:
		return m->changed_at;
	case VALUE_LOADED:
		return m->loaded_at;
	case VALUE_RANGES:
		return m->ranges;
	case VALUE_RELOADS:
		return m->reloads;
	case VALUE_TRIE_ENTRIES:
		return m->trie_entries;
	case VALUE_TRIE_USED:
		return m->trie_used;
	case VALUE_IGNORED:
		return s->errors[TEXPORTER_ERR_NON_IP];
	}
	return 0;
}

/* A family with one sample per interface and no other label. */
static void family_per_iface(struct render *r, const char *name,
			     const char *type, const char *help,
			     enum iface_value which)
{
	family_header(r, name, type, help);
	for (size_t i = 0; i < r->n_views; i++)
		sample_iface(r, name, &r->views[i], "",
			     iface_value(r->views[i].snap, which));
}

static void family_dataplane_errors(struct render *r)
{
	/* Sorted by reason. */
	static const struct {
		const char *extra;
		enum texporter_error err;
	} reasons[] = {
		{ ",reason=\"length\"", TEXPORTER_ERR_LENGTH },
		{ ",reason=\"malformed\"", TEXPORTER_ERR_MALFORMED },
		{ ",reason=\"truncated\"", TEXPORTER_ERR_TRUNCATED },
	};

	family_header(r, "texporter_dataplane_errors_total", "counter",
		      "Frames the data plane could not count in full, by reason: "
		      "truncated and malformed frames are not counted, length "
		      "errors are counted with the bytes present.");
	for (size_t i = 0; i < r->n_views; i++)
		for (size_t k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++)
			sample_iface(r, "texporter_dataplane_errors_total",
				     &r->views[i], reasons[k].extra,
				     r->views[i].snap->errors[reasons[k].err]);
}

/* Which variant of the data plane the loader chose for this kernel. */
static void family_dataplane_info(struct render *r)
{
	family_header(r, "texporter_dataplane_info", "gauge",
		      "The data plane the loader built for this kernel: the XDP "
		      "program (multi-buffer, single-buffer before Linux 5.18, "
		      "none when ingress is tc) and the range table (one map "
		      "element, or split into 4 MiB elements).");
	for (size_t i = 0; i < r->n_views; i++) {
		const struct texporter_meta *m = &r->views[i].snap->meta;
		bool xdp = m->ingress == TEXPORTER_ATTACH_XDP_NATIVE ||
			   m->ingress == TEXPORTER_ATTACH_XDP_GENERIC;
		char extra[96];

		snprintf(extra, sizeof(extra), ",xdp=\"%s\",range_table=\"%s\"",
			 !xdp ? "none" :
			 m->features & TEXPORTER_FEATURE_XDP_SINGLE_BUFFER ? "single-buffer" :
									     "multi-buffer",
			 m->features & TEXPORTER_FEATURE_TABLE_SPLIT ? "split" : "one-element");
		sample_iface(r, "texporter_dataplane_info", &r->views[i], extra, 1);
	}
}

static void family_prefixes(struct render *r)
{
	family_header(r, "texporter_prefixes", "gauge",
		      "Prefixes in the classification table, by address family.");
	for (size_t i = 0; i < r->n_views; i++)
		for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
			char extra[32];

			snprintf(extra, sizeof(extra), ",family=\"%s\"",
				 family_labels[f]);
			sample_iface(r, "texporter_prefixes", &r->views[i], extra,
				     r->views[i].snap->meta.prefixes[f]);
		}
}

static void family_trie(struct render *r)
{
	family_per_iface(r, "texporter_trie_entries", "gauge",
			 "Entries the range table's map holds (a split table "
			 "rounds up to whole 4 MiB elements).",
			 VALUE_TRIE_ENTRIES);
	family_per_iface(r, "texporter_trie_entries_used", "gauge",
			 "Trie entries the current classification table uses.",
			 VALUE_TRIE_USED);
}

/* ---- unmatched discovery: only interfaces that have the map */

static bool any_unmatched(const struct render *r)
{
	for (size_t i = 0; i < r->n_views; i++)
		if (r->views[i].snap->unmatched.present)
			return true;
	return false;
}

/* Sides in the order of their label values. */
static const int sides_sorted[TEXPORTER_SIDE_COUNT] = { TEXPORTER_SIDE_DST, TEXPORTER_SIDE_SRC };

/* The top K prefixes by bytes of each (iface, family, side), biggest
 * first: a prefix that enters or leaves the top K starts or ends a
 * series, which rate() and increase() take in their stride. */
static void family_unmatched_top(struct render *r, bool bytes, unsigned k)
{
	const char *name = bytes ? "texporter_unmatched_top_bytes_total" :
				   "texporter_unmatched_top_packets_total";
	char extra[128], cidr[CIDR_STRLEN];

	family_header(r, name, "counter",
		      bytes ? "L3 bytes of the biggest unmatched prefixes (by bytes) per family and side." :
			      "Packets of the biggest unmatched prefixes (by bytes) per family and side.");
	for (size_t i = 0; i < r->n_views; i++)
		for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
			for (int sd = 0; sd < TEXPORTER_SIDE_COUNT; sd++) {
				const struct unmatched_snapshot *u = &r->views[i].snap->unmatched;
				size_t first, n = unmatched_group(u, f, sides_sorted[sd], &first);

				for (size_t j = first; j < first + n && j - first < k; j++) {
					unmatched_format(&u->prefixes[j], cidr, sizeof(cidr));
					snprintf(extra, sizeof(extra),
						 ",family=\"%s\",side=\"%s\",prefix=\"%s\"",
						 family_labels[f], unmatched_side_names[sides_sorted[sd]],
						 cidr);
					sample_iface(r, name, &r->views[i], extra,
						     bytes ? u->prefixes[j].bytes : u->prefixes[j].packets);
				}
			}
}

/* What found the map full, per (iface, family, side): with the tracked
 * prefixes it adds up to the traffic of the unmatched range on that side. */
static void family_unmatched_untracked(struct render *r, bool bytes)
{
	const char *name = bytes ? "texporter_unmatched_untracked_bytes_total" :
				   "texporter_unmatched_untracked_packets_total";
	char extra[64];

	family_header(r, name, "counter",
		      bytes ? "L3 bytes of unmatched addresses whose prefix found the unmatched map full." :
			      "Packets of unmatched addresses whose prefix found the unmatched map full.");
	for (size_t i = 0; i < r->n_views; i++)
		for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
			for (int sd = 0; sd < TEXPORTER_SIDE_COUNT; sd++) {
				const struct unmatched_snapshot *u = &r->views[i].snap->unmatched;
				const struct texporter_counter *c = &u->untracked[f][sides_sorted[sd]];

				if (!u->present)
					continue;
				snprintf(extra, sizeof(extra), ",family=\"%s\",side=\"%s\"",
					 family_labels[f], unmatched_side_names[sides_sorted[sd]]);
				sample_iface(r, name, &r->views[i], extra, bytes ? c->bytes : c->packets);
			}
}

static void family_unmatched(struct render *r, unsigned k)
{
	if (!any_unmatched(r))
		return;
	if (k) {
		family_unmatched_top(r, true, k);
		family_unmatched_top(r, false, k);
	}
	family_unmatched_untracked(r, true);
	family_unmatched_untracked(r, false);
}

static void family_scrape_duration(struct render *r, int64_t started_ns)
{
	double seconds = (double)(now_ns() - started_ns) / 1e9;

	family_header(r, "texporter_scrape_duration_seconds", "gauge",
		      "Time this scrape took to read the pins and render the "
		      "metrics.");
	buf_printf(r->out, "texporter_scrape_duration_seconds %.6f\n", seconds);
}

/* name{iface="DIR"EXTRA} VALUE for an interface without a view. */
static void sample_dir(struct render *r, const char *name,
		       const struct iface_snapshot *s, const char *extra,
		       uint64_t value)
{
	buf_add_str(r->out, name);
	buf_add_str(r->out, "{iface=\"");
	buf_add_label_value(r->out, s->label, strlen(s->label));
	buf_add(r->out, "\"", 1);
	buf_add_str(r->out, extra);
	buf_add_str(r->out, "} ");
	buf_add_u64(r->out, value);
	buf_add(r->out, "\n", 1);
}

/* Why an interface is left out: one sample per interface that is down. */
static void family_read_error_info(struct render *r,
				   const struct pins_snapshot *snap)
{
	size_t down = 0;

	for (size_t i = 0; i < snap->count; i++)
		down += !snap->ifaces[i].up;
	if (!down)
		return;
	family_header(r, "texporter_read_error_info", "gauge",
		      "Why the pins of an interface could not be read in this "
		      "scrape (texporter_up 0): access, missing, layout, "
		      "changing, unstable or error.");
	for (size_t i = 0; i < snap->count; i++) {
		const struct iface_snapshot *s = &snap->ifaces[i];
		char extra[64];

		if (s->up)
			continue;
		snprintf(extra, sizeof(extra), ",reason=\"%s\"", s->down_reason);
		sample_dir(r, "texporter_read_error_info", s, extra, 1);
	}
}

static void family_up(struct render *r, const struct pins_snapshot *snap)
{
	family_header(r, "texporter_up", "gauge",
		      "1 if the pins of the interface were read in this scrape, "
		      "0 if not (texporter_read_error_info says why).");
	for (size_t i = 0; i < snap->count; i++)
		sample_dir(r, "texporter_up", &snap->ifaces[i], "",
			   snap->ifaces[i].up);
}

static size_t estimate_size(const struct render *r)
{
	size_t bytes = 64 * 1024;

	for (size_t i = 0; i < r->n_views; i++) {
		const struct iface_view *v = &r->views[i];
		/* Both captured families; names average their longest. */
		bytes += 2 * v->series *
			 (sizeof("texporter_captured_packets_total{iface=\"\","
				 "family=\"ipv4\",src=\"\",dst=\"\"} \n") +
			  v->label_len + 2 * 32 + 12);
	}
	return bytes;
}

void expo_render(const struct pins_snapshot *snap, enum expo_format format,
		 int64_t started_ns, struct buf *out)
{
	struct render r = { .out = out, .format = format };
	struct buf tail = { 0 };

	r.views = calloc(snap->count ? snap->count : 1, sizeof(*r.views));
	if (!r.views) {
		out->failed = true;
		return;
	}
	/* Interfaces that could not be read are in texporter_up only. */
	for (size_t i = 0; i < snap->count; i++) {
		if (!snap->ifaces[i].up)
			continue;
		if (view_prepare(&r.views[r.n_views++], &snap->ifaces[i],
				 &r.arena)) {
			out->failed = true;
			goto out;
		}
	}
	buf_reserve(out, estimate_size(&r));

	family_attach_info(&r);
	family_build_info(&r);
	family_captured(&r, true);
	family_captured(&r, false);
	family_per_iface(&r, "texporter_counters_shared_pairs", "gauge",
			 "Pairs of named ranges counted in the shared map because "
			 "their slot on some CPU was held by another pair.",
			 VALUE_COUNTER_SHARED_PAIRS);
	family_per_iface(&r, "texporter_counters_slots", "gauge",
			 "Per-CPU slots of the counters map (each CPU has this many).",
			 VALUE_COUNTER_SLOTS);
	family_per_iface(&r, "texporter_counters_slots_used", "gauge",
			 "Counter slots held by a pair of named ranges on at least "
			 "one CPU.",
			 VALUE_COUNTER_SLOTS_USED);
	family_dataplane_errors(&r);
	family_dataplane_info(&r);
	family_per_iface(&r, "texporter_ignored_frames_total", "counter",
			 "Frames the data plane ignored because they are not "
			 "IPv4 or IPv6.", VALUE_IGNORED);
	family_per_iface(&r, "texporter_last_change_timestamp_seconds", "gauge",
			 "Unix time of the last load or reload that changed "
			 "something.", VALUE_LAST_CHANGE);
	family_per_iface(&r, "texporter_loaded_timestamp_seconds", "gauge",
			 "Unix time of the first load.", VALUE_LOADED);
	family_prefixes(&r);
	family_per_iface(&r, "texporter_ranges", "gauge",
			 "Named ranges in use, the unmatched range included.",
			 VALUE_RANGES);
	family_read_error_info(&r, snap);
	family_per_iface(&r, "texporter_reloads_total", "counter",
			 "Reloads that changed something.", VALUE_RELOADS);

	/* The duration sorts before the trie families but should cover them:
	 * render those aside, time, then append. */
	r.out = &tail;
	family_trie(&r);
	family_unmatched(&r, snap->top_unmatched);
	r.out = out;
	family_scrape_duration(&r, started_ns);
	buf_add(out, tail.data, tail.len);
	if (tail.failed)
		out->failed = true;
	family_up(&r, snap);
	if (format == EXPO_OPENMETRICS)
		buf_add_str(out, "# EOF\n");
out:
	for (size_t i = 0; i < r.n_views; i++)
		view_free(&r.views[i]);
	free(r.views);
	buf_free(&r.arena);
	buf_free(&tail);
}
