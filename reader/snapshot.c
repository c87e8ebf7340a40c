// SPDX-License-Identifier: Apache-2.0
/*
 * Reading texporter's pins: find the loaded interfaces under the pin root,
 * open their maps read-only by path, and take a consistent snapshot of
 * each. The loader makes meta.seq odd while it changes an interface, so a
 * snapshot is: wait for an even seq, read everything, re-read seq, and
 * start over if it moved. Pins are opened afresh for every attempt because
 * the loader may replace some (counters, when it grows them).
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
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, but it reaches user space */
#endif

#define SEQ_WAIT_STEP_NS (2 * 1000 * 1000L) /* 2 ms */
#define SEQ_WAIT_MAX_MS 2000
#define SNAPSHOT_ATTEMPTS 8
#define CHUNK_BYTES (256 * 1024) /* values fetched per batch lookup */

enum read_result {
	READ_OK,
	READ_RETRY,  /* the loader changed the interface meanwhile */
	READ_GONE,   /* its meta pin vanished (detached meanwhile) */
	READ_FAILED, /* err says why */
};

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

static void describe_access_error(const char *path, int e, char *err,
				  size_t errlen)
{
	char release[65], sysctl[16];

	if (e == EPERM && unprivileged_bpf_refused(release, sizeof(release),
						   sysctl, sizeof(sysctl))) {
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
		describe_access_error(path, e, err, errlen);
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

/* Checks that a pinned map has the layout of texporter.h: -1 if not. */
static int map_check_layout(int fd, const char *dir, const char *pin,
			    __u32 type, __u32 value_size, __u32 min_entries,
			    char *err, size_t errlen)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err, errlen, "cannot inspect pin %s/%s: %s", dir, pin,
			 strerror(errno));
		return -1;
	}
	if (info.type == type && info.key_size == sizeof(__u32) &&
	    info.value_size == value_size && info.max_entries >= min_entries)
		return 0;
	snprintf(err, errlen,
		 "pin %s/%s does not have the layout this reader expects "
		 "(map type %u, key %u, value %u bytes, %u entries; expected "
		 "type %u, key 4, value %u bytes, at least %u entries): are "
		 "texporter-load and texporter-read the same version?",
		 dir, pin, info.type, info.key_size, info.value_size,
		 info.max_entries, type, value_size, min_entries);
	return -1;
}

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
_Static_assert(sizeof(struct texporter_counter) % 8 == 0,
	       "per-CPU counter values must be a multiple of 8 bytes");

static void sink_counters(struct iface_snapshot *s, const __u32 *keys,
			  const char *values, __u32 n, __u32 limit)
{
	int ncpu = percpu_ncpus();
	const __u64 *v = (const void *)values;

	for (__u32 i = 0; i < n; i++, v += (size_t)ncpu * 2) {
		__u64 sum[2] = { 0, 0 }; /* bytes, packets */

		percpu_sum(v, ncpu, 2, sum);
		if (keys[i] < limit) {
			s->counters[keys[i]].bytes = sum[0];
			s->counters[keys[i]].packets = sum[1];
		}
	}
}

static void sink_carry(struct iface_snapshot *s, const __u32 *keys,
		       const char *values, __u32 n, __u32 limit)
{
	const struct texporter_counter *v = (const void *)values;

	for (__u32 i = 0; i < n; i++) {
		if (keys[i] < limit) {
			s->counters[keys[i]].bytes += v[i].bytes;
			s->counters[keys[i]].packets += v[i].packets;
		}
	}
}

static void sink_errors(struct iface_snapshot *s, const __u32 *keys,
			const char *values, __u32 n, __u32 limit)
{
	int ncpu = percpu_ncpus();
	const __u64 *v = (const void *)values;

	for (__u32 i = 0; i < n; i++, v += ncpu) {
		__u64 sum = 0;

		percpu_sum(v, ncpu, 1, &sum);
		if (keys[i] < limit)
			s->errors[keys[i]] = sum;
	}
}

static bool batch_refused(int e)
{
	return e == EINVAL || e == ENOTSUPP || e == EOPNOTSUPP;
}

/*
 * Reads keys [0, count) of an array map and hands them to sink, chunk by
 * chunk: one bpf_map_lookup_batch per chunk, or per-key lookups when the
 * kernel refuses batches. elem_size is what the kernel copies per key
 * (value size times possible CPUs for per-CPU maps).
 */
static int map_read(int fd, const char *dir, const char *pin, __u32 count,
		    size_t elem_size, chunk_sink sink, struct iface_snapshot *s,
		    char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 chunk = (__u32)(CHUNK_BYTES / elem_size), done = 0, cursor = 0;
	__u32 *keys;
	char *values;
	int rc = -1;

	if (chunk == 0)
		chunk = 1;
	if (chunk > count)
		chunk = count;
	if (count == 0)
		return 0;
	keys = malloc(chunk * sizeof(*keys));
	values = malloc(chunk * elem_size);
	if (!keys || !values) {
		snprintf(err, errlen, "out of memory reading %s/%s", dir, pin);
		goto out;
	}
	while (done < count) {
		__u32 n = count - done < chunk ? count - done : chunk;

		if (!batch_unsupported) {
			int e = 0;

			if (bpf_map_lookup_batch(fd, done ? &cursor : NULL,
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
					 "%u of %u entries", dir, pin, done, count);
				goto out;
			}
		} else {
			for (__u32 i = 0; i < n; i++) {
				keys[i] = done + i;
				if (bpf_map_lookup_elem(fd, &keys[i],
							values + i * elem_size)) {
					snprintf(err, errlen,
						 "cannot read pin %s/%s key %u: %s",
						 dir, pin, keys[i], strerror(errno));
					goto out;
				}
			}
		}
		sink(s, keys, values, n, count);
		done += n;
	}
	rc = 0;
out:
	free(keys);
	free(values);
	return rc;
}

static int meta_read(int fd, struct texporter_meta *meta)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(fd, &key, meta) ? -1 : 0;
}

/* Reads meta until the loader is not in the middle of a change (even seq,
 * magic set), or until SEQ_WAIT_MAX_MS have passed: then it warns and
 * carries on with what is there. */
static int meta_read_stable(int fd, const char *dir, struct texporter_meta *meta,
			    bool *waited_out, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + SEQ_WAIT_MAX_MS;
	const struct timespec step = { 0, SEQ_WAIT_STEP_NS };

	for (;;) {
		if (meta_read(fd, meta)) {
			snprintf(err, errlen, "cannot read pin %s/%s: %s", dir,
				 TEXPORTER_PIN_META, strerror(errno));
			return -1;
		}
		if (!(meta->seq & 1) && meta->magic != 0)
			return 0;
		if (*waited_out)
			return 0;
		if (now_ms() >= deadline) {
			log_warn("%s: the loader has been changing this interface "
				 "for %d ms (meta seq %u); serving what is there",
				 dir, SEQ_WAIT_MAX_MS, meta->seq);
			*waited_out = true;
			return 0;
		}
		nanosleep(&step, NULL);
	}
}

static int snapshot_meta_check(const char *dir, const struct texporter_meta *m,
			       char *err, size_t errlen)
{
	char why[512];

	if (!meta_check(m, why, sizeof(why)))
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

static int iface_alloc(struct iface_snapshot *s, __u32 capacity)
{
	size_t slots = texporter_counter_slots(capacity);

	free(s->names);
	free(s->counters);
	s->names = calloc(capacity, sizeof(*s->names));
	s->counters = calloc(slots, sizeof(*s->counters));
	return s->names && s->counters ? 0 : -1;
}

static enum read_result iface_read_once(const char *root,
					struct iface_snapshot *s,
					bool *waited_out, char *err,
					size_t errlen)
{
	struct iface_pins p = IFACE_PINS_CLOSED;
	size_t ncpu = (size_t)percpu_ncpus();
	enum read_result rc = READ_FAILED;
	struct texporter_meta meta;
	__u32 cap, slots, seq;
	char dir_path[PATH_MAX];
	const char *failed;

	if (snapshot_pin_open(root, s->dir, TEXPORTER_PIN_META, &p.meta, err,
			      errlen)) {
		rc = errno == ENOENT ? READ_GONE : READ_FAILED;
		goto out;
	}
	if (map_check_layout(p.meta, s->dir, TEXPORTER_PIN_META,
			     BPF_MAP_TYPE_ARRAY, sizeof(struct texporter_meta),
			     1, err, errlen) ||
	    meta_read_stable(p.meta, s->dir, &meta, waited_out, err, errlen) ||
	    snapshot_meta_check(s->dir, &meta, err, errlen))
		goto out;
	seq = meta.seq;
	cap = meta.capacity;
	slots = texporter_counter_slots(cap);

	snprintf(dir_path, sizeof(dir_path), "%s/%s", root, s->dir);
	if (iface_pins_open_maps(&p, dir_path, true, &failed)) {
		snapshot_describe_open_error(dir_path, failed, s->dir, errno,
					     err, errlen);
		/* A pin replaced under us shows as a moment of ENOENT. */
		rc = meta_moved(p.meta, seq) ? READ_RETRY : READ_FAILED;
		goto out;
	}
	if (map_check_layout(p.names, s->dir, TEXPORTER_PIN_NAMES,
			     BPF_MAP_TYPE_ARRAY, sizeof(struct texporter_name),
			     cap, err, errlen) ||
	    map_check_layout(p.counters, s->dir, TEXPORTER_PIN_COUNTERS,
			     BPF_MAP_TYPE_PERCPU_ARRAY,
			     sizeof(struct texporter_counter), slots, err,
			     errlen) ||
	    map_check_layout(p.errors, s->dir, TEXPORTER_PIN_ERRORS,
			     BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u64),
			     TEXPORTER_ERR_COUNT, err, errlen) ||
	    (p.carry >= 0 &&
	     map_check_layout(p.carry, s->dir, TEXPORTER_PIN_CARRY,
			      BPF_MAP_TYPE_ARRAY,
			      sizeof(struct texporter_counter), slots, err,
			      errlen))) {
		rc = meta_moved(p.meta, seq) ? READ_RETRY : READ_FAILED;
		goto out;
	}
	if (iface_alloc(s, cap)) {
		snprintf(err, errlen, "out of memory for interface %s", s->dir);
		goto out;
	}
	if (map_read(p.names, s->dir, TEXPORTER_PIN_NAMES, cap,
		     sizeof(struct texporter_name), sink_names, s, err, errlen) ||
	    map_read(p.counters, s->dir, TEXPORTER_PIN_COUNTERS, slots,
		     ncpu * sizeof(struct texporter_counter), sink_counters, s,
		     err, errlen) ||
	    (p.carry >= 0 &&
	     map_read(p.carry, s->dir, TEXPORTER_PIN_CARRY, slots,
		      sizeof(struct texporter_counter), sink_carry, s, err,
		      errlen)) ||
	    map_read(p.errors, s->dir, TEXPORTER_PIN_ERRORS,
		     TEXPORTER_ERR_COUNT, ncpu * sizeof(__u64), sink_errors, s,
		     err, errlen))
		goto out;

	/* s->meta describes s->names and s->counters, even on a retry. */
	s->meta = meta;
	rc = meta_moved(p.meta, seq) ? READ_RETRY : READ_OK;
out:
	iface_pins_close(&p);
	return rc;
}

static void iface_finish(struct iface_snapshot *s)
{
	size_t slots = texporter_counter_slots(s->meta.capacity);
	size_t n = strnlen(s->meta.ifname, sizeof(s->meta.ifname));

	s->slots_used = 0;
	for (size_t i = 0; i < slots; i++)
		s->slots_used += s->counters[i].packets != 0;
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
	bool waited_out = false;
	enum read_result rc = READ_RETRY;

	for (int attempt = 1; attempt <= SNAPSHOT_ATTEMPTS; attempt++) {
		rc = iface_read_once(root, s, &waited_out, err, errlen);
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
		describe_access_error(root, errno, err, errlen);
	else if (errno == ENOMEM)
		snprintf(err, errlen, "out of memory listing %s", root);
	else
		snprintf(err, errlen, "cannot read pin root %s: %s", root,
			 strerror(errno));
	return -1;
}

static int cmp_iface(const void *a, const void *b)
{
	const struct iface_snapshot *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	return c ? c : strcmp(x->dir, y->dir);
}

/* Two directories naming the same interface would give duplicate series,
 * which Prometheus rejects whole: keep the first. */
static void drop_duplicate_labels(struct pins_snapshot *snap)
{
	size_t kept = 0;

	for (size_t i = 0; i < snap->count; i++) {
		struct iface_snapshot *s = &snap->ifaces[i];

		if (kept && !strcmp(snap->ifaces[kept - 1].label, s->label)) {
			log_warn("%s: its meta names interface %s like %s does; "
				 "skipping it", s->dir, s->label,
				 snap->ifaces[kept - 1].dir);
			free(s->names);
			free(s->counters);
			continue;
		}
		snap->ifaces[kept++] = *s;
	}
	snap->count = kept;
}

int snapshot_read(const struct scrape_config *cfg, struct pins_snapshot *snap,
	      char *err, size_t errlen)
{
	const char *root = cfg->pin_root;
	char **listed = NULL;
	char *const *dirs = cfg->ifnames;
	size_t n = cfg->n_ifnames;
	struct stat st;

	*snap = (struct pins_snapshot){ 0 };
	if (libbpf_num_possible_cpus() < 1) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s",
			 strerror(-libbpf_num_possible_cpus()));
		return -1;
	}
	if (stat(root, &st)) {
		if (errno == EACCES || errno == EPERM)
			describe_access_error(root, errno, err, errlen);
		else if (errno == ENOENT)
			snprintf(err, errlen,
				 "pin root %s does not exist: no interface is "
				 "loaded (run texporter-load) or --pin-root is "
				 "wrong", root);
		else
			snprintf(err, errlen, "cannot reach pin root %s: %s",
				 root, strerror(errno));
		return -1;
	}
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
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct iface_snapshot *s = &snap->ifaces[snap->count];
		enum read_result rc;

		snprintf(s->dir, sizeof(s->dir), "%s", dirs[i]);
		rc = iface_read(root, s, err, errlen);
		if (rc == READ_GONE && listed) {
			log_debug("%s: detached while listing, skipped", s->dir);
			free(s->names);
			free(s->counters);
			*s = (struct iface_snapshot){ 0 };
			continue;
		}
		snap->count++;
		if (rc != READ_OK)
			goto fail;
	}
	qsort(snap->ifaces, snap->count, sizeof(*snap->ifaces), cmp_iface);
	drop_duplicate_labels(snap);
	iface_list_free(listed, listed ? n : 0);
	return 0;
fail:
	iface_list_free(listed, listed ? n : 0);
	snapshot_free(snap);
	return -1;
}

void snapshot_free(struct pins_snapshot *snap)
{
	for (size_t i = 0; snap->ifaces && i < snap->count; i++) {
		free(snap->ifaces[i].names);
		free(snap->ifaces[i].counters);
	}
	free(snap->ifaces);
	*snap = (struct pins_snapshot){ 0 };
}
