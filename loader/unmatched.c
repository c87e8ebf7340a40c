// SPDX-License-Identifier: Apache-2.0
/*
 * Unmatched discovery on the loader's side (loader/unmatched.h). What
 * must stay true: a map the programs count into always holds the four
 * untracked keys before any program can run on it, so a full map never
 * loses a packet; a kept map is one made for the same lengths and
 * entries, so its prefixes never mix two lengths; and a cache is kept
 * only with the map it was made with, so it holds that map's keys only.
 */
#include "unmatched.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "iface_pins.h"
#include "log.h"
#include "percpu.h"
#include "pindir.h"
#include "texporter.skel.h"

static const unsigned max_len[TEXPORTER_FAMILY_COUNT] = { 32, 128 };

int unmatched_parse_lengths(const char *arg, struct unmatched_options *o)
{
	const char *flag = "--unmatched-prefix-len";
	const char *comma = strchr(arg, ',');
	char v4[8];

	if (!comma || (size_t)(comma - arg) >= sizeof(v4))
		return cli_bad_value(flag, arg, "use V4,V6, e.g. 24,48");
	memcpy(v4, arg, (size_t)(comma - arg));
	v4[comma - arg] = '\0';
	if (cli_parse_uint(flag, v4, max_len[TEXPORTER_IPV4], &o->len[TEXPORTER_IPV4]) ||
	    cli_parse_uint(flag, comma + 1, max_len[TEXPORTER_IPV6], &o->len[TEXPORTER_IPV6]))
		return EXIT_USAGE;
	if (!o->len[TEXPORTER_IPV4] || !o->len[TEXPORTER_IPV6])
		return cli_bad_value(flag, arg, "a prefix length is at least 1");
	return 0;
}

int unmatched_parse_entries(const char *arg, struct unmatched_options *o)
{
	return cli_parse_uint("--unmatched-entries", arg, TEXPORTER_UNMATCHED_MAX_ENTRIES,
			      &o->entries);
}

static void map_name(const struct unmatched_options *o, char *name, size_t len)
{
	snprintf(name, len, TEXPORTER_UNMATCHED_NAME_FMT, o->len[TEXPORTER_IPV4],
		 o->len[TEXPORTER_IPV6]);
}

/* Whether the map FD was made for O. */
static bool made_for(int fd, const struct unmatched_options *o)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	char name[BPF_OBJ_NAME_LEN];

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return false;
	map_name(o, name, sizeof(name));
	return info.type == BPF_MAP_TYPE_PERCPU_HASH &&
	       info.key_size == sizeof(struct texporter_unmatched_key) &&
	       info.value_size == sizeof(struct texporter_counter) &&
	       info.max_entries == o->entries + TEXPORTER_UNMATCHED_RESERVED &&
	       strncmp(info.name, name, sizeof(info.name)) == 0;
}

/* The untracked key of each (family, side), zero on every CPU. */
static int insert_untracked(int fd)
{
	void *zeros = calloc((size_t)percpu_ncpus(), sizeof(struct texporter_counter));
	int err = zeros ? 0 : -1;

	for (__u8 f = 0; !err && f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u8 side = 0; !err && side < TEXPORTER_SIDE_COUNT; side++) {
			struct texporter_unmatched_key k = { .family = f, .side = side,
							     .untracked = 1 };

			err = bpf_map_update_elem(fd, &k, zeros, BPF_ANY);
		}
	free(zeros);
	return err;
}

static int create(const struct unmatched_options *o)
{
	char name[BPF_OBJ_NAME_LEN];
	int fd;

	map_name(o, name, sizeof(name));
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, name, sizeof(struct texporter_unmatched_key),
			    sizeof(struct texporter_counter),
			    o->entries + TEXPORTER_UNMATCHED_RESERVED, NULL);
	if (fd < 0) {
		log_error("cannot create the unmatched map of %u entries: %s%s", o->entries,
			  strerror(errno),
			  errno == ENOMEM || errno == E2BIG ? " (lower --unmatched-entries)" : "");
		return -1;
	}
	if (insert_untracked(fd)) {
		log_error("cannot initialise the unmatched map: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether the map FD is a cache of the shape this build counts into. */
static bool cache_fits(int fd)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &info_len) == 0 &&
	       info.type == BPF_MAP_TYPE_PERCPU_ARRAY && info.key_size == sizeof(__u32) &&
	       info.value_size == sizeof(struct texporter_unmatched_slot) &&
	       info.max_entries == TEXPORTER_UNMATCHED_CACHE_ENTRIES;
}

/* The untracked key of each (family, side) in its cache entry, on every
 * CPU, with no count. */
static int cache_set_untracked(int fd)
{
	int ncpus = percpu_ncpus(), err = 0;
	struct texporter_unmatched_slot *s = calloc((size_t)ncpus, sizeof(*s));

	for (__u8 f = 0; s && !err && f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u8 side = 0; !err && side < TEXPORTER_SIDE_COUNT; side++) {
			__u32 i = texporter_unmatched_untracked_slot(f, side);

			for (int c = 0; c < ncpus; c++)
				s[c].key = (struct texporter_unmatched_key){ .family = f, .side = side,
									     .untracked = 1 };
			err = bpf_map_update_elem(fd, &i, s, BPF_ANY);
		}
	free(s);
	return s ? err : -1;
}

static int create_cache(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "texp_unm_cache", sizeof(__u32),
				sizeof(struct texporter_unmatched_slot),
				TEXPORTER_UNMATCHED_CACHE_ENTRIES, NULL);

	if (fd < 0 || cache_set_untracked(fd)) {
		log_error("cannot create the unmatched cache: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The pinned cache to keep beside a kept map, or a new one. */
static void plan_cache(const char *dir, struct unmatched_plan *p)
{
	int pinned = pin_open(dir, TEXPORTER_PIN_UNMATCHED_CACHE, false);

	if (pinned >= 0 && cache_fits(pinned)) {
		p->cache_fd = pinned;
		return;
	}
	if (pinned >= 0)
		close(pinned);
	p->cache_fd = create_cache();
	p->cache_fresh = true;
}

int unmatched_plan(const struct unmatched_options *o, const char *dir, bool loaded,
		   struct unmatched_plan *p)
{
	int pinned = loaded ? pin_open(dir, TEXPORTER_PIN_UNMATCHED, false) : -1;

	*p = (struct unmatched_plan){ .fd = -1, .cache_fd = -1 };
	if (pinned < 0 && loaded && errno != ENOENT) {
		log_error("cannot open %s/%s: %s", dir, TEXPORTER_PIN_UNMATCHED, strerror(errno));
		return -1;
	}
	if (!o->entries) {
		p->remove = pinned >= 0;
	} else if (pinned >= 0 && made_for(pinned, o)) {
		p->fd = pinned;
		plan_cache(dir, p);
		return p->cache_fd < 0 ? -1 : 0;
	} else {
		p->fd = create(o);
		p->fresh = true;
		p->cache_fd = p->fd >= 0 ? create_cache() : -1;
		p->cache_fresh = true;
		if (pinned >= 0)
			log_info("%s: unmatched prefix lengths or entries changed: their counts start anew",
				 dir);
	}
	if (pinned >= 0)
		close(pinned);
	return o->entries && (p->fd < 0 || p->cache_fd < 0) ? -1 : 0;
}

void unmatched_plan_free(struct unmatched_plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->cache_fd >= 0)
		close(p->cache_fd);
	p->fd = p->cache_fd = -1;
}

bool unmatched_pinned(const struct unmatched_options *o, const char *dir)
{
	char map[PATH_MAX], cache[PATH_MAX];
	bool on = o->entries != 0;

	return pindir_path(map, dir, TEXPORTER_PIN_UNMATCHED) == 0 &&
	       pindir_path(cache, dir, TEXPORTER_PIN_UNMATCHED_CACHE) == 0 &&
	       (access(map, F_OK) == 0) == on && (access(cache, F_OK) == 0) == on;
}

/* LEN's mask of a 32-bit word that starts at bit START, network order. */
static __u32 word_mask(__u32 len, __u32 start)
{
	__u32 bits = len <= start ? 0 : len - start >= 32 ? 32 : len - start;

	return htobe32(bits ? ~0u << (32 - bits) : 0);
}

int unmatched_configure(struct texporter_bpf *skel, const struct unmatched_options *o,
			const struct unmatched_plan *p)
{
	if (p->fd < 0)
		return 0; /* unmatched_on stays 0: the one-entry map stays unused */
	skel->rodata->unmatched_on = 1;
	skel->rodata->unmatched_len[TEXPORTER_IPV4] = o->len[TEXPORTER_IPV4];
	skel->rodata->unmatched_len[TEXPORTER_IPV6] = o->len[TEXPORTER_IPV6];
	skel->rodata->unmatched_v4_mask = word_mask(o->len[TEXPORTER_IPV4], 0);
	for (__u32 w = 0; w < 4; w++)
		skel->rodata->unmatched_v6_mask[w] = word_mask(o->len[TEXPORTER_IPV6], 32 * w);
	if (bpf_map__reuse_fd(skel->maps.unmatched, p->fd))
		return -1;
	return bpf_map__reuse_fd(skel->maps.unmatched_cache, p->cache_fd);
}

/* Tracked prefixes of the map FD (every key but the untracked ones). */
static __u32 tracked_prefixes(int fd)
{
	struct texporter_unmatched_key k, next;
	__u32 n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n += !next.untracked;
		k = next;
		prev = &k;
	}
	return n;
}

/* Packets of every untracked key of FD: what found the map full. */
static __u64 untracked_packets(int fd)
{
	int ncpus = percpu_ncpus();
	__u64 *values = calloc((size_t)ncpus * 2, sizeof(*values));
	__u64 total = 0;

	for (__u8 f = 0; values && f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u8 side = 0; side < TEXPORTER_SIDE_COUNT; side++) {
			struct texporter_unmatched_key k = { .family = f, .side = side,
							     .untracked = 1 };
			__u64 sum[2] = { 0, 0 };

			if (bpf_map_lookup_elem(fd, &k, values) == 0)
				percpu_sum(values, ncpus, 2, sum);
			total += sum[1];
		}
	free(values);
	return total;
}

/* What the cache pinned in DIR holds, every CPU's slots. */
struct cache_use {
	long held;               /* slots a key holds; -1: no cache to read */
	int err;                 /* why, when held is -1 */
	__u64 untracked_packets; /* in the slots of untracked keys */
};

static struct cache_use cache_use(const char *dir)
{
	int fd = pin_open(dir, TEXPORTER_PIN_UNMATCHED_CACHE, true), ncpus = percpu_ncpus();
	struct texporter_unmatched_slot *s = calloc((size_t)ncpus, sizeof(*s));
	struct cache_use use = { .held = fd >= 0 && s ? 0 : -1, .err = errno };

	for (__u32 i = 0; use.held >= 0 && i < TEXPORTER_UNMATCHED_CACHE_ENTRIES; i++) {
		if (bpf_map_lookup_elem(fd, &i, s)) {
			use = (struct cache_use){ .held = -1, .err = errno };
			break;
		}
		for (int c = 0; c < ncpus; c++) {
			if (s[c].key.untracked)
				use.untracked_packets += s[c].packets;
			else
				use.held += !texporter_unmatched_slot_free(&s[c]);
		}
	}
	free(s);
	if (fd >= 0)
		close(fd);
	return use;
}

void unmatched_status(const char *dir)
{
	struct cache_use use;
	int fd = pin_open(dir, TEXPORTER_PIN_UNMATCHED, true);
	struct bpf_map_info info;
	__u32 len = sizeof(info), entries, tracked, v4 = 0, v6 = 0;

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		printf("  unmatched: %s\n", errno == ENOENT ? "discovery off" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	entries = info.max_entries - TEXPORTER_UNMATCHED_RESERVED;
	tracked = tracked_prefixes(fd);
	use = cache_use(dir);
	sscanf(info.name, TEXPORTER_UNMATCHED_NAME_FMT, &v4, &v6);
	printf("  unmatched: %u of %u prefixes tracked (/%u, /%u); untracked %llu packets%s\n",
	       tracked, entries, v4, v6,
	       (unsigned long long)(untracked_packets(fd) + use.untracked_packets),
	       tracked >= entries ? " (full: new prefixes count as untracked)" : "");
	close(fd);
	if (use.held >= 0)
		printf("  unmatched cache: %ld slots held, of %u per CPU\n", use.held,
		       TEXPORTER_UNMATCHED_CACHE_SLOTS);
	else
		printf("  unmatched cache: %s (load again to make one)\n", strerror(use.err));
}
