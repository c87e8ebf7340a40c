// SPDX-License-Identifier: Apache-2.0
/*
 * Reading texporter's pins: find the loaded interfaces under the pin root,
 * open their maps read-only by path, and take a consistent snapshot of
 * each. The loader makes meta.seq odd while it changes an interface, so a
 * snapshot is: wait for an even seq, read everything, re-read seq, and
 * start over if it moved. Pins are opened afresh for every attempt because
 * the loader may replace some (counters, when it grows them).
 *
 * What must stay true: one interface never fails the others. One that
 * cannot be read is kept in the snapshot with up false, a reason label and
 * the message (logged once per scrape); interfaces with an odd seq share
 * one wait budget per scrape; the scrape fails only when none is readable.
 * Counters are per-pair totals: every CPU's slots (counter layout 2, see
 * bpf/texporter.h) plus shared plus carry, each count taken once; with a
 * slot per pair only the rows of named ids are read, and shared, which
 * stays zero then, not at all. Sums saturate, and no two ids leave here
 * with one name.
 */
#include "reader.h"

#include "iface_pins.h"
#include "log.h"
#include "percpu.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, but it reaches user space */
#endif

#define SEQ_WAIT_STEP_NS (5 * 1000 * 1000L) /* 5 ms */
/* One budget for the whole scrape: interfaces the loader is changing are
 * re-checked together until it runs out, not one after the other. */
#define SEQ_WAIT_BUDGET_MS 1000
#define SNAPSHOT_ATTEMPTS 8
#define CHUNK_BYTES (256 * 1024) /* values fetched per batch lookup */
#define SPAN_GAP_SLOTS 16 /* unneeded slots read to save a batch lookup */

enum read_result {
	READ_OK,
	READ_RETRY,  /* the loader changed the interface meanwhile */
	READ_BUSY,   /* the loader is changing it now (odd seq, no magic) */
	READ_GONE,   /* its meta pin vanished (detached meanwhile) */
	READ_FAILED, /* err and s->down_reason say why */
};

/* The reason label of an interface that could not be read; the set is
 * documented in docs/prometheus.md. */
static const char DOWN_ACCESS[] = "access";     /* permission denied */
static const char DOWN_MISSING[] = "missing";   /* a pin is missing: half-built, not loaded */
static const char DOWN_LAYOUT[] = "layout";     /* another layout version, or not texporter's */
static const char DOWN_CHANGING[] = "changing"; /* meta.seq odd for the whole wait */
static const char DOWN_UNSTABLE[] = "unstable"; /* changed during every attempt */
static const char DOWN_ERROR[] = "error";       /* any other failure to read */

/* Once the kernel refuses batch lookups, use per-key lookups for good. */
static bool batch_unsupported;

/* Whether this kernel keeps bpf(2) from processes without CAP_BPF: before
 * 5.19, kernel.unprivileged_bpf_disabled refuses every command, even
 * opening a pin read-only. Fills RELEASE and SYSCTL (its text, or "?"). */
static bool unprivileged_bpf_refused(char *release, size_t rlen, char *sysctl,
				     size_t slen)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;
	FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "re");

	snprintf(sysctl, slen, "?");
	if (f) {
		if (!fgets(sysctl, (int)slen, f))
			snprintf(sysctl, slen, "?");
		sysctl[strcspn(sysctl, "\n")] = '\0';
		fclose(f);
	}
	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	snprintf(release, rlen, "%s", u.release);
	return (major < 5 || (major == 5 && minor < 19)) && strcmp(sysctl, "0") != 0;
}

/* EPERM from bpf(2) itself, where file permissions give EACCES: a
 * seccomp filter (a container runtime's default profile refuses bpf), the
 * sysctl before 5.19 (RELEASE set), or a security module. */
static void describe_bpf_refused(const char *path, int e, char *err,
				 size_t errlen)
{
	char release[65], sysctl[16];

	if (unprivileged_bpf_refused(release, sizeof(release), sysctl,
				     sizeof(sysctl))) {
		snprintf(err, errlen,
			 "cannot open %s: %s: Linux %s (before 5.19) lets no "
			 "process without CAP_BPF use bpf(2), not even to read a "
			 "pin, while kernel.unprivileged_bpf_disabled is set (it "
			 "is %s). Fix: give texporter-read CAP_BPF as its only "
			 "capability (systemd: the drop-in "
			 "texporter-read-cap-bpf.conf, see docs/deployment.md; "
			 "never CAP_SYS_ADMIN), or allow unprivileged BPF with "
			 "sysctl kernel.unprivileged_bpf_disabled=0 (only while "
			 "it is 2; 1 holds until reboot)",
			 path, strerror(e), release, sysctl);
		return;
	}
	snprintf(err, errlen,
		 "cannot open %s: %s: the bpf(2) call was refused, not the "
		 "pin's file permissions. In a container the runtime's default "
		 "seccomp profile refuses bpf(2): run the reader under "
		 "texporter's profile (deploy/seccomp/texporter-reader.json, "
		 "see deploy/kubernetes/README.md); elsewhere a seccomp filter "
		 "or a security module (SELinux, AppArmor) of the reader's "
		 "service refuses it",
		 path, strerror(e));
}

/* Why PATH could not be opened (errno E): EPERM from bpf(2) (VIA_BPF) is
 * bpf refused; any other denial is the pins' owner and mode. */
static void describe_access_error(const char *path, int e, bool via_bpf,
				  char *err, size_t errlen)
{
	if (e == EPERM && via_bpf) {
		describe_bpf_refused(path, e, err, errlen);
		return;
	}
	snprintf(err, errlen,
		 "cannot open %s: %s. The reader's user must be in the "
		 "loader's --group group (pins are root:GROUP 0440 in a 0750 "
		 "directory); on systemd systems /sys/fs/bpf itself is mode "
		 "0700: run the reader from texporter-read@.service or make "
		 "/sys/fs/bpf traversable",
		 path, strerror(e));
}

/* Why pin PIN of interface DIR (DIR_PATH under the pin root) could not be
 * opened (errno E), with the remedy, into ERR. */
static void snapshot_describe_open_error(const char *dir_path, const char *pin,
					 const char *dir, int e, char *err,
					 size_t errlen)
{
	char path[PATH_MAX + NAME_MAX + 2];

	snprintf(path, sizeof(path), "%s/%s", dir_path, pin);
	if (e == EACCES || e == EPERM)
		describe_access_error(path, e, true, err, errlen);
	else if (e == ENOENT)
		snprintf(err, errlen,
			 "interface %s is not loaded: no pin %s (load it with "
			 "texporter-load -i %s, or check --pin-root)",
			 dir, path, dir);
	else
		snprintf(err, errlen, "cannot open pin %s: %s", path,
			 strerror(e));
}

/* Opens pin PIN of interface DIR under ROOT read-only; on failure -1 with
 * errno and the reason, with its remedy, in ERR. */
static int snapshot_pin_open(const char *root, const char *dir, const char *pin,
			     int *fd_out, char *err, size_t errlen)
{
	char dir_path[PATH_MAX];
	int e;

	snprintf(dir_path, sizeof(dir_path), "%s/%s", root, dir);
	*fd_out = pin_open(dir_path, pin, true);
	if (*fd_out >= 0)
		return 0;
	e = errno;
	snapshot_describe_open_error(dir_path, pin, dir, e, err, errlen);
	errno = e;
	return -1;
}

/* What a pinned map must be: its type, value size and number of entries
 * (at least MIN; with POW2, also a power of two no larger than MAX). */
struct map_shape {
	__u32 type;
	__u32 value_size;
	__u32 min_entries;
	__u32 max_entries; /* with pow2 only */
	bool pow2;
};

static bool map_entries_fit(const struct map_shape *want, __u32 entries)
{
	if (entries < want->min_entries)
		return false;
	return !want->pow2 ||
	       (entries <= want->max_entries && (entries & (entries - 1)) == 0);
}

/* Checks that a pinned map has the layout of texporter.h: -1 if not. Its
 * number of entries goes to *ENTRIES (when not NULL). */
static int map_check_layout(int fd, const char *dir, const char *pin,
			    const struct map_shape *want, __u32 *entries,
			    char *err, size_t errlen)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char expected[64];

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err, errlen, "cannot inspect pin %s/%s: %s", dir, pin,
			 strerror(errno));
		return -1;
	}
	if (entries)
		*entries = info.max_entries;
	if (info.type == want->type && info.key_size == sizeof(__u32) &&
	    info.value_size == want->value_size &&
	    map_entries_fit(want, info.max_entries))
		return 0;
	if (want->pow2)
		snprintf(expected, sizeof(expected),
			 "a power of two in %u..%u entries", want->min_entries,
			 want->max_entries);
	else
		snprintf(expected, sizeof(expected), "at least %u entries",
			 want->min_entries);
	snprintf(err, errlen,
		 "pin %s/%s does not have the layout this reader expects "
		 "(map type %u, key %u, value %u bytes, %u entries; expected "
		 "type %u, key 4, value %u bytes, %s): are "
		 "texporter-load and texporter-read the same version?",
		 dir, pin, info.type, info.key_size, info.value_size,
		 info.max_entries, want->type, want->value_size, expected);
	return -1;
}

/* The reason label for a pin that could not be opened with errno E. */
static const char *open_error_reason(int e)
{
	if (e == EACCES || e == EPERM)
		return DOWN_ACCESS;
	return e == ENOENT ? DOWN_MISSING : DOWN_ERROR;
}

/* Keys [first, first + count) of a map. */
struct key_span {
	__u32 first;
	__u32 count;
};

typedef void (*chunk_sink)(struct iface_snapshot *s, const __u32 *keys,
			   const char *values, __u32 n, __u32 limit);

static void sink_names(struct iface_snapshot *s, const __u32 *keys,
		       const char *values, __u32 n, __u32 limit)
{
	for (__u32 i = 0; i < n; i++)
		if (keys[i] < limit)
			memcpy(&s->names[keys[i]],
			       values + (size_t)i * sizeof(struct texporter_name),
			       sizeof(struct texporter_name));
}

/* Per-CPU values are summed as whole __u64s (lib/percpu.h). */
_Static_assert(sizeof(struct texporter_slot) % 8 == 0,
	       "per-CPU slot values must be a multiple of 8 bytes");

/* Whether the pair with counter index INDEX has named ids on both sides
 * (capacity s->meta.capacity): only those are exported. */
static bool pair_named(const struct iface_snapshot *s, __u32 index)
{
	__u32 cap = s->meta.capacity;

	return index < texporter_counter_slots(cap) &&
	       s->names[index % cap].name[0] && s->names[index / cap % cap].name[0];
}

static void counter_add(struct iface_snapshot *s, __u32 index, __u64 bytes,
			__u64 packets)
{
	struct texporter_counter *c = &s->counters[index];

	c->bytes = u64_add_sat(c->bytes, bytes, &s->saturated);
	c->packets = u64_add_sat(c->packets, packets, &s->saturated);
}

/* Adds each CPU's copy of slot KEY to the named pair that holds it there;
 * true if one does on some CPU. OWN: own-slot mode, where only the pair
 * whose index is the slot may hold it. */
static bool slot_add(struct iface_snapshot *s, __u32 key,
		     const struct texporter_slot *cpus, bool own)
{
	int ncpu = percpu_ncpus();
	bool held = false;

	for (int c = 0; c < ncpu; c++) {
		__u32 index = cpus[c].key - 1;

		if (!cpus[c].key || (own && index != key) || !pair_named(s, index))
			continue;
		counter_add(s, index, cpus[c].bytes, cpus[c].packets);
		held = true;
	}
	return held;
}

static void sink_slots(struct iface_snapshot *s, const __u32 *keys,
		       const char *values, __u32 n, __u32 limit, bool own)
{
	const struct texporter_slot *v = (const void *)values;

	for (__u32 i = 0; i < n; i++, v += percpu_ncpus())
		if (keys[i] < limit)
			s->slots_used += slot_add(s, keys[i], v, own);
}

/* Own-slot mode: the keys read are counter indexes of named rows. */
static void sink_slots_own(struct iface_snapshot *s, const __u32 *keys,
			   const char *values, __u32 n, __u32 limit)
{
	sink_slots(s, keys, values, n, limit, true);
}

/* Hashed mode: every slot is read; its key on each CPU names the pair. */
static void sink_slots_hashed(struct iface_snapshot *s, const __u32 *keys,
			      const char *values, __u32 n, __u32 limit)
{
	sink_slots(s, keys, values, n, limit, false);
}

/* Adds an array of struct texporter_counter indexed like the pairs
 * (carry). Zero entries are skipped: s->counters' pages of pairs that
 * never counted are then never touched. */
static void sink_totals(struct iface_snapshot *s, const __u32 *keys,
			const char *values, __u32 n, __u32 limit)
{
	const struct texporter_counter *v = (const void *)values;

	for (__u32 i = 0; i < n; i++)
		if (keys[i] < limit && (v[i].bytes || v[i].packets))
			counter_add(s, keys[i], v[i].bytes, v[i].packets);
}

/* The shared map: added like carry, and its named pairs that counted
 * there are counted. */
static void sink_shared(struct iface_snapshot *s, const __u32 *keys,
			const char *values, __u32 n, __u32 limit)
{
	const struct texporter_counter *v = (const void *)values;

	for (__u32 i = 0; i < n; i++)
		s->shared_pairs += keys[i] < limit && (v[i].bytes || v[i].packets) &&
				   pair_named(s, keys[i]);
	sink_totals(s, keys, values, n, limit);
}

static void sink_errors(struct iface_snapshot *s, const __u32 *keys,
			const char *values, __u32 n, __u32 limit)
{
	int ncpu = percpu_ncpus();
	const __u64 *v = (const void *)values;

	for (__u32 i = 0; i < n; i++, v += ncpu) {
		__u64 sum = 0;

		s->saturated |= percpu_sum(v, ncpu, 1, &sum);
		if (keys[i] < limit)
			s->errors[keys[i]] = sum;
	}
}

bool batch_refused(int e)
{
	return e == EINVAL || e == ENOTSUPP || e == EOPNOTSUPP;
}

/* Fills keys and values with the N keys from span.first + done, one
 * lookup each (kernels that refuse batch lookups). */
static int map_read_keys(int fd, const char *dir, const char *pin,
			 __u32 first, __u32 n, size_t elem_size, __u32 *keys,
			 char *values, char *err, size_t errlen)
{
	for (__u32 i = 0; i < n; i++) {
		keys[i] = first + i;
		if (bpf_map_lookup_elem(fd, &keys[i], values + i * elem_size)) {
			snprintf(err, errlen, "cannot read pin %s/%s key %u: %s",
				 dir, pin, keys[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Reads the keys of SPAN of an array map and hands them to sink, chunk by
 * chunk: one bpf_map_lookup_batch per chunk, or per-key lookups when the
 * kernel refuses batches. elem_size is what the kernel copies per key
 * (value size times possible CPUs for per-CPU maps); sink drops keys at
 * or above LIMIT.
 */
static int map_read(int fd, const char *dir, const char *pin,
		    struct key_span span, __u32 limit, size_t elem_size,
		    chunk_sink sink, struct iface_snapshot *s, char *err,
		    size_t errlen)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 chunk = (__u32)(CHUNK_BYTES / elem_size), done = 0;
	/* A batch starts after the key it is given. */
	__u32 cursor = span.first ? span.first - 1 : 0;
	__u32 *keys;
	char *values;
	int rc = -1;

	if (chunk == 0)
		chunk = 1;
	if (chunk > span.count)
		chunk = span.count;
	if (span.count == 0)
		return 0;
	keys = malloc(chunk * sizeof(*keys));
	values = malloc(chunk * elem_size);
	if (!keys || !values) {
		snprintf(err, errlen, "out of memory reading %s/%s", dir, pin);
		goto out;
	}
	while (done < span.count) {
		__u32 n = span.count - done < chunk ? span.count - done : chunk;
		bool resume = span.first + done != 0;

		if (!batch_unsupported) {
			int e = 0;

			if (bpf_map_lookup_batch(fd, resume ? &cursor : NULL,
						 &cursor, keys, values, &n,
						 &opts))
				e = errno;
			if (e && done == 0 && batch_refused(e)) {
				log_debug("batch lookups refused (%s): using "
					  "per-key lookups", strerror(e));
				batch_unsupported = true;
				continue;
			}
			if (e && e != ENOENT) {
				snprintf(err, errlen, "cannot read pin %s/%s: %s",
					 dir, pin, strerror(e));
				goto out;
			}
			if (n == 0) {
				snprintf(err, errlen,
					 "cannot read pin %s/%s: it ended after "
					 "%u of %u entries", dir, pin,
					 span.first + done, span.first + span.count);
				goto out;
			}
		} else if (map_read_keys(fd, dir, pin, span.first + done, n,
					 elem_size, keys, values, err, errlen)) {
			goto out;
		}
		sink(s, keys, values, n, limit);
		done += n;
	}
	rc = 0;
out:
	free(keys);
	free(values);
	return rc;
}

/*
 * The counter slots worth reading: those whose source and destination
 * both have a name (series of unnamed ids are never exported). Per family
 * and named source, the row from the lowest to the highest named
 * destination; rows that touch, or nearly, are merged into one span, so a
 * full table is still read in a few large batches. Returns the number of
 * spans.
 */
static size_t counter_spans(const struct texporter_name *names, __u32 cap,
			    struct key_span *spans)
{
	__u32 lo = cap, hi = 0;
	size_t n = 0;

	for (__u32 id = 0; id < cap; id++)
		if (names[id].name[0]) {
			lo = id < lo ? id : lo;
			hi = id;
		}
	if (lo == cap)
		return 0;
	for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u32 src = lo; src <= hi; src++) {
			__u32 first = texporter_counter_index(cap, f, src, lo);

			if (!names[src].name[0])
				continue;
			/* Reading a few unneeded slots costs less than another
			 * system call. */
			if (n && first - (spans[n - 1].first + spans[n - 1].count) <=
					 SPAN_GAP_SLOTS)
				spans[n - 1].count = first + (hi - lo + 1) -
						     spans[n - 1].first;
			else
				spans[n++] = (struct key_span){ first, hi - lo + 1 };
		}
	return n;
}

/* Reads the counters map: in own-slot mode (a slot per pair) only the
 * slots of named rows, SPANS; else all SLOTS of it, whose keys say which
 * pair each CPU counted there. */
static int slots_read(const struct iface_pins *p, struct iface_snapshot *s,
		      const struct key_span *spans, size_t n, char *err,
		      size_t errlen)
{
	size_t elem = (size_t)percpu_ncpus() * sizeof(struct texporter_slot);
	__u32 pairs = texporter_counter_slots(s->meta.capacity);
	int rc = 0;

	if (s->slots < pairs)
		return map_read(p->counters, s->dir, TEXPORTER_PIN_COUNTERS,
				(struct key_span){ 0, s->slots }, s->slots, elem,
				sink_slots_hashed, s, err, errlen);
	for (size_t i = 0; i < n && !rc; i++)
		rc = map_read(p->counters, s->dir, TEXPORTER_PIN_COUNTERS,
			      spans[i], pairs, elem, sink_slots_own, s, err,
			      errlen);
	return rc;
}

/* Reads the counters, shared and (when pinned) carry of the named ids:
 * s->counters gets each pair's total. With a slot per pair no slot is
 * ever held by another pair, so shared stays zero (bpf/texporter.h) and
 * is not read: at 1,023 names that halves the keys a scrape looks up. */
static int counters_read(const struct iface_pins *p, struct iface_snapshot *s,
			 char *err, size_t errlen)
{
	__u32 cap = s->meta.capacity, pairs = texporter_counter_slots(cap);
	struct key_span *spans = malloc(TEXPORTER_FAMILY_COUNT * cap *
					sizeof(*spans));
	size_t n;
	int rc;

	if (!spans) {
		snprintf(err, errlen, "out of memory for interface %s", s->dir);
		return -1;
	}
	n = counter_spans(s->names, cap, spans);
	rc = slots_read(p, s, spans, n, err, errlen);
	for (size_t i = 0; i < n && !rc && s->slots < pairs; i++)
		rc = map_read(p->shared, s->dir, TEXPORTER_PIN_SHARED, spans[i],
			      pairs, sizeof(struct texporter_counter),
			      sink_shared, s, err, errlen);
	for (size_t i = 0; i < n && !rc && p->carry >= 0; i++)
		rc = map_read(p->carry, s->dir, TEXPORTER_PIN_CARRY, spans[i],
			      pairs, sizeof(struct texporter_counter),
			      sink_totals, s, err, errlen);
	free(spans);
	return rc;
}

static int meta_read(int fd, struct texporter_meta *meta)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(fd, &key, meta) ? -1 : 0;
}

/* Whether the loader is in the middle of a change (odd seq), or of the
 * first load (no magic yet): then err says so, for when the wait for it
 * runs out. */
static bool meta_busy(const char *dir, const struct texporter_meta *m,
		      char *err, size_t errlen)
{
	if (m->magic == 0)
		snprintf(err, errlen,
			 "pin %s/%s is not initialised after %d ms: is "
			 "texporter-load still running, or did it fail? Run it "
			 "again", dir, TEXPORTER_PIN_META, SEQ_WAIT_BUDGET_MS);
	else if (m->seq & 1)
		snprintf(err, errlen,
			 "%s: the loader has been changing this interface for "
			 "%d ms (meta seq %u): is texporter-load still running? "
			 "If not, run it again to complete the change",
			 dir, SEQ_WAIT_BUDGET_MS, m->seq);
	return m->magic == 0 || (m->seq & 1);
}

static int snapshot_meta_check(const char *dir, const struct texporter_meta *m,
			       char *err, size_t errlen)
{
	char why[512];

	if (!meta_check(m, TEXPORTER_LAYOUT_VERSION, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "pin %s/%s %s", dir, TEXPORTER_PIN_META, why);
	return -1;
}

/* After a failure that a concurrent change could explain: did seq move? */
static bool meta_moved(int fd, __u32 seq)
{
	struct texporter_meta now;

	return meta_read(fd, &now) == 0 && now.seq != seq;
}

/* Arrays for capacity CAPACITY, which s->meta.capacity records so that
 * it always describes them. */
static int iface_alloc(struct iface_snapshot *s, __u32 capacity)
{
	size_t pairs = texporter_counter_slots(capacity);

	free(s->names);
	free(s->counters);
	s->meta.capacity = capacity;
	s->names = calloc(capacity, sizeof(*s->names));
	s->counters = calloc(pairs, sizeof(*s->counters));
	return s->names && s->counters ? 0 : -1;
}

/* Checks the layout of the maps beside meta (capacity CAP); the counters
 * map's slots go to *SLOTS. */
static int maps_check_layout(const struct iface_pins *p, const char *dir,
			     __u32 cap, __u32 *slots, char *err, size_t errlen)
{
	__u32 pairs = texporter_counter_slots(cap);
	const struct map_shape names = { .type = BPF_MAP_TYPE_ARRAY,
					 .value_size = sizeof(struct texporter_name),
					 .min_entries = cap };
	const struct map_shape counters = {
		.type = BPF_MAP_TYPE_PERCPU_ARRAY,
		.value_size = sizeof(struct texporter_slot),
		.min_entries = TEXPORTER_MIN_SLOTS,
		.max_entries = TEXPORTER_MAX_SLOTS,
		.pow2 = true,
	};
	const struct map_shape totals = { .type = BPF_MAP_TYPE_ARRAY,
					  .value_size = sizeof(struct texporter_counter),
					  .min_entries = pairs };
	const struct map_shape errors = { .type = BPF_MAP_TYPE_PERCPU_ARRAY,
					  .value_size = sizeof(__u64),
					  .min_entries = TEXPORTER_ERR_COUNT };

	return map_check_layout(p->names, dir, TEXPORTER_PIN_NAMES, &names,
				NULL, err, errlen) ||
	       map_check_layout(p->counters, dir, TEXPORTER_PIN_COUNTERS,
				&counters, slots, err, errlen) ||
	       map_check_layout(p->shared, dir, TEXPORTER_PIN_SHARED, &totals,
				NULL, err, errlen) ||
	       map_check_layout(p->errors, dir, TEXPORTER_PIN_ERRORS, &errors,
				NULL, err, errlen) ||
	       (p->carry >= 0 &&
		map_check_layout(p->carry, dir, TEXPORTER_PIN_CARRY, &totals,
				 NULL, err, errlen));
}

/* Names, counters (slots, shared, carry) and errors of S at capacity CAP,
 * from a counters map of SLOTS slots. */
static int maps_read(const struct iface_pins *p, struct iface_snapshot *s,
		     __u32 cap, __u32 slots, char *err, size_t errlen)
{
	size_t ncpu = (size_t)percpu_ncpus();

	if (iface_alloc(s, cap)) {
		snprintf(err, errlen, "out of memory for interface %s", s->dir);
		return -1;
	}
	s->saturated = false;
	s->slots = slots;
	s->slots_used = 0;
	s->shared_pairs = 0;
	return map_read(p->names, s->dir, TEXPORTER_PIN_NAMES,
			(struct key_span){ 0, cap }, cap,
			sizeof(struct texporter_name), sink_names, s, err,
			errlen) ||
	       counters_read(p, s, err, errlen) ||
	       map_read(p->errors, s->dir, TEXPORTER_PIN_ERRORS,
			(struct key_span){ 0, TEXPORTER_ERR_COUNT },
			TEXPORTER_ERR_COUNT, ncpu * sizeof(__u64), sink_errors,
			s, err, errlen);
}

static enum read_result iface_read_once(const char *root,
					struct iface_snapshot *s, char *err,
					size_t errlen)
{
	struct iface_pins p = IFACE_PINS_CLOSED;
	enum read_result rc = READ_FAILED;
	const struct map_shape meta_shape = { .type = BPF_MAP_TYPE_ARRAY,
					      .value_size = sizeof(struct texporter_meta),
					      .min_entries = 1 };
	struct texporter_meta meta;
	char dir_path[PATH_MAX];
	const char *failed;
	__u32 slots;

	if (snapshot_pin_open(root, s->dir, TEXPORTER_PIN_META, &p.meta, err,
			      errlen)) {
		rc = errno == ENOENT ? READ_GONE : READ_FAILED;
		s->down_reason = open_error_reason(errno);
		goto out;
	}
	s->down_reason = DOWN_LAYOUT;
	if (map_check_layout(p.meta, s->dir, TEXPORTER_PIN_META, &meta_shape,
			     NULL, err, errlen))
		goto out;
	if (meta_read(p.meta, &meta)) {
		snprintf(err, errlen, "cannot read pin %s/%s: %s", s->dir,
			 TEXPORTER_PIN_META, strerror(errno));
		s->down_reason = DOWN_ERROR;
		goto out;
	}
	if (meta_busy(s->dir, &meta, err, errlen)) {
		rc = READ_BUSY;
		goto out;
	}
	if (snapshot_meta_check(s->dir, &meta, err, errlen))
		goto out;

	snprintf(dir_path, sizeof(dir_path), "%s/%s", root, s->dir);
	if (iface_pins_open_maps(&p, dir_path, meta.layout_version, true, &failed)) {
		s->down_reason = open_error_reason(errno);
		snapshot_describe_open_error(dir_path, failed, s->dir, errno,
					     err, errlen);
		/* A pin replaced under us shows as a moment of ENOENT. */
		rc = meta_moved(p.meta, meta.seq) ? READ_RETRY : READ_FAILED;
		goto out;
	}
	if (maps_check_layout(&p, s->dir, meta.capacity, &slots, err, errlen)) {
		rc = meta_moved(p.meta, meta.seq) ? READ_RETRY : READ_FAILED;
		goto out;
	}
	s->down_reason = DOWN_ERROR;
	if (maps_read(&p, s, meta.capacity, slots, err, errlen) ||
	    unmatched_read(dir_path, s->dir, &s->unmatched, &s->saturated, err, errlen))
		goto out;

	/* s->meta describes s->names and s->counters, even on a retry. */
	s->meta = meta;
	rc = meta_moved(p.meta, meta.seq) ? READ_RETRY : READ_OK;
out:
	iface_pins_close(&p);
	return rc;
}

int names_cmp_ids(const void *a, const void *b, void *arg)
{
	const struct texporter_name *names = arg;
	__u32 ia = *(const __u32 *)a, ib = *(const __u32 *)b;
	const char *x = names[ia].name, *y = names[ib].name;
	size_t lx = strnlen(x, TEXPORTER_NAME_LEN - 1);
	size_t ly = strnlen(y, TEXPORTER_NAME_LEN - 1);
	int c = memcmp(x, y, lx < ly ? lx : ly);

	if (c)
		return c;
	if (lx != ly)
		return (lx > ly) - (lx < ly);
	return (ia > ib) - (ia < ib);
}

/* Adds the counters of id FROM into id TO, as source and as destination,
 * and clears FROM's: one id per name, nothing counted is lost. */
static void counters_fold(struct iface_snapshot *s, __u32 from, __u32 to)
{
	__u32 cap = s->meta.capacity;

	for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (int pass = 0; pass < 2; pass++)
			for (__u32 x = 0; x < cap; x++) {
				/* pass 0: FROM's row into TO's; 1: columns */
				struct texporter_counter *a =
					&s->counters[pass ? texporter_counter_index(cap, f, x, from)
							  : texporter_counter_index(cap, f, from, x)];
				struct texporter_counter *b =
					&s->counters[pass ? texporter_counter_index(cap, f, x, to)
							  : texporter_counter_index(cap, f, to, x)];

				b->bytes = u64_add_sat(b->bytes, a->bytes, &s->saturated);
				b->packets = u64_add_sat(b->packets, a->packets,
							 &s->saturated);
				*a = (struct texporter_counter){ 0, 0 };
			}
}

/*
 * The loader never gives two ids one name, but a names map written by
 * someone else may: two ids under one name would be duplicate series,
 * which Prometheus rejects whole. The lowest id keeps the name and gets
 * the counts of the others, which lose their name.
 */
static void names_merge_duplicates(struct iface_snapshot *s)
{
	__u32 cap = s->meta.capacity, n = 0;
	__u32 *ids = malloc(cap * sizeof(*ids));

	if (!ids)
		return; /* the render drops nothing then; Prometheus will say */
	for (__u32 id = 0; id < cap; id++)
		if (s->names[id].name[0])
			ids[n++] = id;
	qsort_r(ids, n, sizeof(*ids), names_cmp_ids, s->names);
	for (__u32 i = 1, keep = 0; i < n; i++) {
		const char *a = s->names[ids[keep]].name, *b = s->names[ids[i]].name;

		if (strncmp(a, b, TEXPORTER_NAME_LEN - 1)) {
			keep = i;
			continue;
		}
		log_warn("%s: ids %u and %u are both named \"%.*s\": counting "
			 "id %u under id %u (the names map was not written by "
			 "texporter-load)", s->dir, ids[keep], ids[i],
			 TEXPORTER_NAME_LEN - 1, a, ids[i], ids[keep]);
		counters_fold(s, ids[i], ids[keep]);
		s->names[ids[i]].name[0] = '\0';
	}
	free(ids);
}

/* What the reader can see of an interface in its own network namespace. */
enum iface_presence {
	PRESENCE_UNKNOWN, /* cannot look, or its index names another device:
			   * renamed, or the reader is in another namespace */
	PRESENCE_HERE,    /* its index names it: this is its namespace */
	PRESENCE_ABSENT,  /* no device has its index */
};

static enum iface_presence iface_presence(const struct texporter_meta *m)
{
	char name[IF_NAMESIZE];

	if (!m->ifindex)
		return PRESENCE_UNKNOWN; /* the loader recorded none */
	if (!if_indextoname(m->ifindex, name))
		return errno == ENXIO || errno == ENODEV ? PRESENCE_ABSENT
							 : PRESENCE_UNKNOWN;
	return !m->ifname[0] || !strncmp(name, m->ifname, sizeof(m->ifname))
		       ? PRESENCE_HERE
		       : PRESENCE_UNKNOWN;
}

/*
 * Whether each interface the loader attached to still exists, and its XDP
 * hook still holds a program: deleting an interface takes its attachments
 * with it while the pins stay. An index is only meaningful in the network
 * namespace the loader used, so a missing index counts as "gone" only when
 * another loaded interface shows that the reader is in that namespace.
 * Only what an unprivileged process may ask is asked (listing tc hooks
 * needs CAP_NET_ADMIN); where the reader cannot look (no sockets, as under
 * the shipped systemd units), the loader's word stands.
 */
static void snapshot_check_attached(struct pins_snapshot *snap)
{
	enum iface_presence *seen = calloc(snap->count ? snap->count : 1,
					   sizeof(*seen));
	bool here = false;

	for (size_t i = 0; i < snap->count; i++) {
		struct iface_snapshot *s = &snap->ifaces[i];
		const struct texporter_meta *m = &s->meta;
		LIBBPF_OPTS(bpf_xdp_query_opts, xdp);
		enum iface_presence p = s->up ? iface_presence(m) : PRESENCE_UNKNOWN;

		s->ingress_live = s->egress_live = true;
		here |= p == PRESENCE_HERE;
		if (seen)
			seen[i] = p;
		if (p == PRESENCE_HERE &&
		    (m->ingress == TEXPORTER_ATTACH_XDP_NATIVE ||
		     m->ingress == TEXPORTER_ATTACH_XDP_GENERIC) &&
		    bpf_xdp_query((int)m->ifindex, 0, &xdp) == 0)
			s->ingress_live = xdp.attach_mode != XDP_ATTACHED_NONE;
	}
	for (size_t i = 0; seen && here && i < snap->count; i++)
		if (seen[i] == PRESENCE_ABSENT) {
			log_debug("%s: interface index %u is gone", snap->ifaces[i].dir,
				  snap->ifaces[i].meta.ifindex);
			snap->ifaces[i].ingress_live = false;
			snap->ifaces[i].egress_live = false;
		}
	free(seen);
}

static void iface_finish(struct iface_snapshot *s)
{
	size_t n = strnlen(s->meta.ifname, sizeof(s->meta.ifname));

	s->up = true;
	names_merge_duplicates(s);
	if (s->saturated)
		log_warn("%s: a counter summed over the CPUs exceeds 2^64-1; it "
			 "is shown as 18446744073709551615", s->dir);
	if (n) {
		memcpy(s->label, s->meta.ifname, n);
		s->label[n] = '\0';
	} else {
		snprintf(s->label, sizeof(s->label), "%s", s->dir);
	}
}

static enum read_result iface_read(const char *root, struct iface_snapshot *s,
				   char *err, size_t errlen)
{
	enum read_result rc = READ_RETRY;

	for (int attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
		rc = iface_read_once(root, s, err, errlen);
		if (rc != READ_RETRY)
			break;
		log_debug("%s: changed while being read, attempt %d of %d",
			  s->dir, attempt, SNAPSHOT_ATTEMPTS);
	}
	if (rc == READ_RETRY) {
		if (!s->counters) {
			snprintf(err, errlen,
				 "interface %s kept changing while being read",
				 s->dir);
			s->down_reason = DOWN_UNSTABLE;
			return READ_FAILED;
		}
		log_warn("%s: kept changing during %d reads; serving the last",
			 s->dir, SNAPSHOT_ATTEMPTS);
		rc = READ_OK;
	}
	if (rc == READ_OK)
		iface_finish(s);
	return rc;
}

/* The loaded interfaces under ROOT (lib/iface_pins.h decides which). */
static int list_interfaces(const char *root, char ***out, size_t *count,
			   char *err, size_t errlen)
{
	if (iface_list(root, out, count) == 0)
		return 0;
	if (errno == EACCES || errno == EPERM)
		describe_access_error(root, errno, false, err, errlen);
	else if (errno == ENOMEM)
		snprintf(err, errlen, "out of memory listing %s", root);
	else
		snprintf(err, errlen, "cannot read pin root %s: %s", root,
			 strerror(errno));
	return -1;
}

static void iface_release(struct iface_snapshot *s)
{
	free(s->names);
	free(s->counters);
	free(s->error);
	unmatched_free(&s->unmatched);
	s->names = NULL;
	s->counters = NULL;
	s->error = NULL;
}

/* Records the outcome RC of reading S (message in ERR). LISTED: found by
 * listing the pin root, so an interface detached meanwhile is dropped
 * rather than reported. */
static void iface_settle(struct iface_snapshot *s, enum read_result rc,
			 bool listed, const char *err)
{
	free(s->error);
	s->error = NULL;
	if (rc == READ_OK)
		return;
	free(s->names);
	free(s->counters);
	unmatched_free(&s->unmatched);
	s->names = NULL;
	s->counters = NULL;
	s->up = false;
	snprintf(s->label, sizeof(s->label), "%s", s->dir);
	if (rc == READ_GONE && listed) {
		log_debug("%s: detached while listing, skipped", s->dir);
		s->down_reason = NULL; /* dropped by snapshot_compact() */
		return;
	}
	if (rc == READ_BUSY)
		s->down_reason = DOWN_CHANGING;
	s->error = strdup(err);
}

/* Re-reads the interfaces the loader is changing, all of them in each
 * round, until they are done or the scrape's wait budget is spent. */
static void wait_for_loader(const char *root, struct pins_snapshot *snap,
			    size_t busy, bool listed, char *err, size_t errlen)
{
	const struct timespec step = { 0, SEQ_WAIT_STEP_NS };
	int64_t deadline = now_ms() + SEQ_WAIT_BUDGET_MS;

	while (busy && now_ms() < deadline) {
		nanosleep(&step, NULL);
		busy = 0;
		for (size_t i = 0; i < snap->count; i++) {
			struct iface_snapshot *s = &snap->ifaces[i];
			enum read_result rc;

			if (s->up || s->down_reason != DOWN_CHANGING)
				continue;
			rc = iface_read(root, s, err, errlen);
			iface_settle(s, rc, listed, err);
			busy += rc == READ_BUSY;
		}
	}
}

static int cmp_iface(const void *a, const void *b)
{
	const struct iface_snapshot *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	if (c)
		return c;
	/* Of two directories with one label, the readable one first. */
	if (x->up != y->up)
		return x->up ? -1 : 1;
	return strcmp(x->dir, y->dir);
}

/* Drops interfaces detached meanwhile and, since two directories naming
 * the same interface would give duplicate series (which Prometheus
 * rejects whole), all but the first of one label. */
static void snapshot_compact(struct pins_snapshot *snap)
{
	size_t kept = 0;

	qsort(snap->ifaces, snap->count, sizeof(*snap->ifaces), cmp_iface);
	for (size_t i = 0; i < snap->count; i++) {
		struct iface_snapshot *s = &snap->ifaces[i];

		if (!s->up && !s->down_reason) {
			iface_release(s);
			continue;
		}
		if (kept && !strcmp(snap->ifaces[kept - 1].label, s->label)) {
			log_warn("%s: its meta names interface %s like %s does; "
				 "skipping it", s->dir, s->label,
				 snap->ifaces[kept - 1].dir);
			iface_release(s);
			continue;
		}
		snap->ifaces[kept++] = *s;
	}
	snap->count = kept;
}

/* Logs each interface left out; -1 with a reason in ERR if no interface
 * could be read at all (an empty pin root is not that: it is served). */
static int snapshot_check_any_up(const struct pins_snapshot *snap, char *err,
				 size_t errlen)
{
	const struct iface_snapshot *first = NULL;
	size_t up = 0, down = 0;

	for (size_t i = 0; i < snap->count; i++) {
		if (snap->ifaces[i].up) {
			up++;
		} else {
			down++;
			first = first ? first : &snap->ifaces[i];
		}
	}
	if (up || !down) {
		for (size_t i = 0; i < snap->count; i++)
			if (!snap->ifaces[i].up)
				log_warn("%s; interface %s left out of this "
					 "scrape (texporter_up 0)",
					 snap->ifaces[i].error,
					 snap->ifaces[i].dir);
		return 0;
	}
	if (down == 1) {
		snprintf(err, errlen, "%s", first->error);
		return -1;
	}
	for (size_t i = 0; i < snap->count; i++)
		log_warn("%s", snap->ifaces[i].error);
	snprintf(err, errlen,
		 "none of the %zu interfaces could be read (each one is named "
		 "above); the first: %s", down, first->error);
	return -1;
}

/* The pin root exists and can be reached; -1 with the reason if not. */
static int pin_root_check(const char *root, char *err, size_t errlen)
{
	struct stat st;

	if (!stat(root, &st))
		return 0;
	if (errno == EACCES || errno == EPERM)
		describe_access_error(root, errno, false, err, errlen);
	else if (errno == ENOENT)
		snprintf(err, errlen,
			 "pin root %s does not exist: no interface is loaded "
			 "(run texporter-load) or --pin-root is wrong", root);
	else
		snprintf(err, errlen, "cannot reach pin root %s: %s", root,
			 strerror(errno));
	return -1;
}

int snapshot_read(const struct scrape_config *cfg, struct pins_snapshot *snap,
		  char *err, size_t errlen)
{
	const char *root = cfg->pin_root;
	char **listed = NULL;
	char *const *dirs = cfg->ifnames;
	size_t n = cfg->n_ifnames, busy = 0;
	int rc = -1;

	*snap = (struct pins_snapshot){ 0 };
	if (libbpf_num_possible_cpus() < 1) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s",
			 strerror(-libbpf_num_possible_cpus()));
		return -1;
	}
	if (pin_root_check(root, err, errlen))
		return -1;
	if (!n) {
		if (list_interfaces(root, &listed, &n, err, errlen))
			return -1;
		dirs = listed;
		if (!n)
			log_warn("no interface is loaded under %s", root);
	}
	snap->ifaces = calloc(n ? n : 1, sizeof(*snap->ifaces));
	if (!snap->ifaces) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct iface_snapshot *s = &snap->ifaces[snap->count++];
		enum read_result got;

		snprintf(s->dir, sizeof(s->dir), "%s", dirs[i]);
		got = iface_read(root, s, err, errlen);
		iface_settle(s, got, listed != NULL, err);
		busy += got == READ_BUSY;
	}
	snap->top_unmatched = cfg->top_unmatched;
	wait_for_loader(root, snap, busy, listed != NULL, err, errlen);
	snapshot_compact(snap);
	snapshot_check_attached(snap);
	rc = snapshot_check_any_up(snap, err, errlen);
out:
	iface_list_free(listed, listed ? n : 0);
	if (rc)
		snapshot_free(snap);
	return rc;
}

void snapshot_free(struct pins_snapshot *snap)
{
	for (size_t i = 0; snap->ifaces && i < snap->count; i++)
		iface_release(&snap->ifaces[i]);
	free(snap->ifaces);
	*snap = (struct pins_snapshot){ 0 };
}
