// SPDX-License-Identifier: Apache-2.0
/*
 * The unmatched prefixes of an interface, read from its optional
 * `unmatched` pin and its `unmatched_cache` (bpf/texporter.h): tracked
 * prefixes, CPUs and cache slots summed and sorted by (family, side,
 * bytes down), and the untracked total of each (family, side). What must
 * stay true: an interface without the pin (a load with
 * --unmatched-entries 0, an older loader) is read as having no prefixes,
 * never as an error, and one without the cache (an older loader) as
 * having empty slots; a slot adds only to a key read from the map (one
 * claimed since waits for the next read, so a count never goes back;
 * the untracked keys are always there); and the top K of a (family,
 * side) are the first K of its group, so every output that shows "the
 * biggest" agrees.
 */
#include "reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cidr.h"
#include "iface_pins.h"
#include "percpu.h"

#define PREFIX_FIELDS 2 /* bytes, packets */

static int prefix_cmp(const void *a, const void *b)
{
	const struct unmatched_prefix *x = a, *y = b;

	if (x->key.family != y->key.family)
		return x->key.family < y->key.family ? -1 : 1;
	if (x->key.side != y->key.side)
		return x->key.side < y->key.side ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return memcmp(x->key.addr, y->key.addr, sizeof(x->key.addr));
}

static int key_cmp(const void *a, const void *b)
{
	const struct unmatched_prefix *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Files one element: into the untracked totals or as a tracked prefix. */
static void take(struct unmatched_snapshot *u, const struct texporter_unmatched_key *k,
		 const __u64 *values, int ncpus, bool *saturated)
{
	__u64 sum[PREFIX_FIELDS] = { 0, 0 };

	if (k->family >= TEXPORTER_FAMILY_COUNT || k->side >= TEXPORTER_SIDE_COUNT)
		return;
	if (percpu_sum(values, ncpus, PREFIX_FIELDS, sum))
		*saturated = true;
	if (k->untracked) {
		u->untracked[k->family][k->side] = (struct texporter_counter){ sum[0], sum[1] };
		return;
	}
	u->prefixes[u->count++] = (struct unmatched_prefix){ *k, sum[0], sum[1] };
}

/* Every element, one lookup each: kernels that refuse batch lookups. */
static int read_by_key(int fd, struct unmatched_snapshot *u, __u32 max, void *values, int ncpus,
		       bool *saturated)
{
	struct texporter_unmatched_key key, next;
	void *prev = NULL;

	while (u->count < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, values) == 0)
			take(u, &key, values, ncpus, saturated);
		else if (errno != ENOENT)
			return -1;
	}
	return errno == ENOENT || u->count >= max ? 0 : -1;
}

/* Every element in batches of up to MAX. */
static int read_batches(int fd, struct unmatched_snapshot *u, __u32 max, void *values,
			int ncpus, bool *saturated)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t elem = (size_t)ncpus * sizeof(struct texporter_counter);
	struct texporter_unmatched_key *keys = calloc(max, sizeof(*keys));
	struct texporter_unmatched_key token; /* a bucket number for a hash */
	bool first = true, done = false;
	int err = 0;

	while (keys && !done && !err) {
		__u32 n = max;

		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, values, &n,
					   &opts);
		if (err && errno == ENOENT)
			err = 0, done = true;
		for (__u32 i = 0; !err && i < n && u->count < max; i++)
			take(u, &keys[i], (const __u64 *)((char *)values + i * elem), ncpus,
			     saturated);
		first = false;
	}
	free(keys);
	return keys ? err : -1;
}

static int read_map(int fd, struct unmatched_snapshot *u, bool *saturated)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info);
	int ncpus = percpu_ncpus();
	void *values;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -1;
	if (info.type != BPF_MAP_TYPE_PERCPU_HASH ||
	    info.key_size != sizeof(struct texporter_unmatched_key) ||
	    info.value_size != sizeof(struct texporter_counter)) {
		errno = EPROTO;
		return -1;
	}
	u->prefixes = calloc(info.max_entries ? info.max_entries : 1, sizeof(*u->prefixes));
	values = calloc(info.max_entries ? info.max_entries : 1,
			(size_t)ncpus * sizeof(struct texporter_counter));
	if (!u->prefixes || !values) {
		free(values);
		errno = ENOMEM;
		return -1;
	}
	err = read_batches(fd, u, info.max_entries, values, ncpus, saturated);
	if (err && batch_refused(errno)) {
		u->count = 0;
		err = read_by_key(fd, u, info.max_entries, values, ncpus, saturated);
	}
	free(values);
	return err;
}

/* The cache's slots, every CPU's, into VALUES (ENTRIES x NCPUS): one batch,
 * or a lookup per slot on kernels that refuse batches. 0, or -1 with
 * errno (EPROTO: not a cache of this layout). */
static int cache_values(int fd, struct texporter_unmatched_slot *values, int ncpus)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), keys[TEXPORTER_UNMATCHED_CACHE_ENTRIES], out;
	__u32 n = TEXPORTER_UNMATCHED_CACHE_ENTRIES;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -1;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(*values) || info.max_entries != n) {
		errno = EPROTO;
		return -1;
	}
	if (bpf_map_lookup_batch(fd, NULL, &out, keys, values, &n, &opts) == 0 ||
	    (errno == ENOENT && n == TEXPORTER_UNMATCHED_CACHE_ENTRIES))
		return 0;
	if (!batch_refused(errno))
		return -1;
	for (__u32 i = 0; i < TEXPORTER_UNMATCHED_CACHE_ENTRIES; i++)
		if (bpf_map_lookup_elem(fd, &i, values + (size_t)i * ncpus))
			return -1;
	return 0;
}

/* Adds the slot V to its key in U (whose prefixes are sorted by key):
 * an untracked key to its total, a prefix only if U has it. */
static void add_slot(struct unmatched_snapshot *u, const struct texporter_unmatched_slot *v,
		     bool *saturated)
{
	const struct texporter_unmatched_key *k = &v->key;
	struct unmatched_prefix want = { .key = *k }, *p;
	struct texporter_counter *t;

	if (k->family >= TEXPORTER_FAMILY_COUNT || k->side >= TEXPORTER_SIDE_COUNT)
		return;
	if (k->untracked) {
		t = &u->untracked[k->family][k->side];
		t->bytes = u64_add_sat(t->bytes, v->bytes, saturated);
		t->packets = u64_add_sat(t->packets, v->packets, saturated);
		return;
	}
	p = bsearch(&want, u->prefixes, u->count, sizeof(*p), key_cmp);
	if (!p)
		return; /* claimed after the map was read */
	p->bytes = u64_add_sat(p->bytes, v->bytes, saturated);
	p->packets = u64_add_sat(p->packets, v->packets, saturated);
}

/* Adds each held slot of the cache FD to its key in U. */
static int add_cache(int fd, struct unmatched_snapshot *u, bool *saturated)
{
	int ncpus = percpu_ncpus();
	size_t all = (size_t)TEXPORTER_UNMATCHED_CACHE_ENTRIES * ncpus;
	struct texporter_unmatched_slot *values = calloc(all, sizeof(*values));

	if (!values || cache_values(fd, values, ncpus)) {
		free(values);
		return -1;
	}
	for (size_t i = 0; i < all; i++)
		if (!texporter_unmatched_slot_free(&values[i]) && values[i].packets)
			add_slot(u, &values[i], saturated);
	free(values);
	return 0;
}

/* U's prefixes, after the cache was added: those that never counted a
 * packet are left out, the rest sorted for output. */
static void finish(struct unmatched_snapshot *u)
{
	size_t kept = 0;

	for (size_t i = 0; i < u->count; i++)
		if (u->prefixes[i].packets)
			u->prefixes[kept++] = u->prefixes[i];
	u->count = kept;
	qsort(u->prefixes, u->count, sizeof(*u->prefixes), prefix_cmp);
}

/* The cache pinned in DIR_PATH, added to U; none (an older loader) adds
 * nothing. */
static int read_cache(const char *dir_path, const char *dir, struct unmatched_snapshot *u,
		      bool *saturated, char *err, size_t errlen)
{
	int fd = pin_open(dir_path, TEXPORTER_PIN_UNMATCHED_CACHE, true), rc, e;

	if (fd < 0 && errno == ENOENT)
		return 0;
	qsort(u->prefixes, u->count, sizeof(*u->prefixes), key_cmp);
	rc = fd < 0 ? -1 : add_cache(fd, u, saturated);
	e = errno;
	if (fd >= 0)
		close(fd);
	if (rc)
		snprintf(err, errlen, "cannot read pin %s/%s: %s", dir,
			 TEXPORTER_PIN_UNMATCHED_CACHE,
			 e == EPROTO ? "not the layout this texporter-read knows; "
				       "reload with the same texporter-load version" :
				       strerror(e));
	return rc;
}

int unmatched_read(const char *dir_path, const char *dir, struct unmatched_snapshot *u,
		   bool *saturated, char *err, size_t errlen)
{
	int fd, rc;

	unmatched_free(u);
	fd = pin_open(dir_path, TEXPORTER_PIN_UNMATCHED, true);
	if (fd < 0 && errno == ENOENT)
		return 0; /* discovery off, or an older loader: no prefixes */
	if (fd < 0) {
		snprintf(err, errlen, "cannot open pin %s/%s: %s", dir, TEXPORTER_PIN_UNMATCHED,
			 strerror(errno));
		return -1;
	}
	rc = read_map(fd, u, saturated);
	close(fd);
	if (rc) {
		snprintf(err, errlen, "cannot read pin %s/%s: %s", dir, TEXPORTER_PIN_UNMATCHED,
			 errno == EPROTO ? "not the layout this texporter-read knows; "
					   "reload with the same texporter-load version" :
					   strerror(errno));
		unmatched_free(u);
		return -1;
	}
	if (read_cache(dir_path, dir, u, saturated, err, errlen)) {
		unmatched_free(u);
		return -1;
	}
	u->present = true;
	finish(u);
	return 0;
}

void unmatched_free(struct unmatched_snapshot *u)
{
	free(u->prefixes);
	*u = (struct unmatched_snapshot){ 0 };
}

size_t unmatched_group(const struct unmatched_snapshot *u, int family, int side, size_t *first)
{
	size_t i = 0, n = 0;

	while (i < u->count && (u->prefixes[i].key.family < family ||
				(u->prefixes[i].key.family == family && u->prefixes[i].key.side < side)))
		i++;
	while (i + n < u->count && u->prefixes[i + n].key.family == family &&
	       u->prefixes[i + n].key.side == side)
		n++;
	*first = i;
	return n;
}

void unmatched_format(const struct unmatched_prefix *p, char *buf, size_t len)
{
	cidr_format(p->key.family, (const uint8_t *)p->key.addr, p->key.len, buf, len);
}

const char *const unmatched_side_names[TEXPORTER_SIDE_COUNT] = { "src", "dst" };
