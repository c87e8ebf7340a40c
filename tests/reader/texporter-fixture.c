// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-fixture: makes the pins texporter-load would make, with
 * known contents, so texporter-read can be tested without the loader.
 * Root only (it creates maps). Reads commands from stdin, one per line:
 *
 *   iface DIR [capacity=N] [slots=N] [layout=1]
 *                              create DIR under ROOT with meta, names,
 *                              counters, shared, errors (or open existing
 *                              ones); later commands apply to it. slots:
 *                              per-CPU slots of counters (default: one per
 *                              pair, rounded up to a power of two). layout=1:
 *                              the layout before slots (counters a dense
 *                              per-CPU array of every pair, no shared), as
 *                              an older texporter-load left it
 *   meta FIELD=VALUE...        set meta fields: magic layout seq capacity
 *                              ifindex ingress egress ranges prefixes4
 *                              prefixes6 trie_entries trie_used features
 *                              loaded_at changed_at reloads config_hash ifname
 *   name ID [TEXT]             set a name (C escapes: \n \t \\ \" \xHH);
 *                              no TEXT clears it
 *   count FAM SRC DST BYTES PACKETS [CPU]   add to the pair's counts on one
 *                              CPU (FAM 4|6; CPU a number or "last"; default
 *                              0) as the programs do: in its slot on that
 *                              CPU (texporter_slot_of), claiming it when
 *                              free, or in shared when another pair holds it
 *                              there. Layout 1: in the pair's own element
 *   shared FAM SRC DST BYTES PACKETS        set a shared entry
 *   carry FAM SRC DST BYTES PACKETS         set a carry entry (makes carry)
 *   error REASON VALUE [CPU]   add to one CPU's error counter; REASON:
 *                              truncated malformed length non_ip
 *   fill N                     names r000.. for ids 1..N-1 (id 0 "other"),
 *                              and counts for every pair and family on
 *                              every CPU, by the rule of count; replaces
 *                              what counters and shared held
 *   grow CAPACITY              replace names, counters, shared (and carry)
 *                              by bigger, empty maps: pins replaced, as when
 *                              the loader grows them
 *   unpin PIN                  remove one pin
 *   unmatched FAM SIDE KEY BYTES PACKETS [CPU]
 *                              add to an element of the unmatched map (made
 *                              with 64 entries and its untracked keys when
 *                              missing): FAM 4|6, SIDE src|dst, KEY a
 *                              prefix ADDR/LEN or "untracked"
 *   cache FAM SIDE KEY BYTES PACKETS [CPU]
 *                              add to KEY's entry of the unmatched cache
 *                              (made with the untracked entries when
 *                              missing) on one CPU, as the programs do:
 *                              its slot (texporter_unmatched_slot_of),
 *                              claiming it when free, whether or not the
 *                              map holds KEY; an untracked key's own entry
 *
 * What must stay true: every count lands exactly where the programs of
 * bpf/texporter.bpf.c would put it, so the reader's totals can be checked
 * against what the test added.
 *
 * Usage: texporter-fixture ROOT < commands
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "texporter.h"

static const char *root;
static char dir[256];
static int ncpu;
static int lineno;

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "texporter-fixture: line %d: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void pin_path(char *out, size_t len, const char *pin)
{
	snprintf(out, len, "%s/%s/%s", root, dir, pin);
}

static int pin_get(const char *pin)
{
	char path[512];
	int fd;

	pin_path(path, sizeof(path), pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	return fd;
}

static int map_make(const char *pin, enum bpf_map_type type, __u32 value,
		    __u32 entries)
{
	char path[512];
	int fd;

	pin_path(path, sizeof(path), pin);
	fd = bpf_map_create(type, pin, 4, value, entries, NULL);
	if (fd < 0)
		die("create %s: %s", pin, strerror(errno));
	unlink(path);
	if (bpf_obj_pin(fd, path))
		die("pin %s: %s", path, strerror(errno));
	return fd;
}

static struct texporter_meta meta_get(void)
{
	struct texporter_meta m;
	__u32 k = 0;
	int fd = pin_get(TEXPORTER_PIN_META);

	if (bpf_map_lookup_elem(fd, &k, &m))
		die("read meta: %s", strerror(errno));
	close(fd);
	return m;
}

static void meta_put(const struct texporter_meta *m)
{
	__u32 k = 0;
	int fd = pin_get(TEXPORTER_PIN_META);

	if (bpf_map_update_elem(fd, &k, m, 0))
		die("write meta: %s", strerror(errno));
	close(fd);
}

/* Up to 16 bytes, NUL-terminated only if shorter, as in the kernel. */
static void ifname_set(struct texporter_meta *m, const char *name)
{
	size_t n = strlen(name);

	memset(m->ifname, 0, sizeof(m->ifname));
	memcpy(m->ifname, name, n < sizeof(m->ifname) ? n : sizeof(m->ifname));
}

/* The default slots for CAP: one per pair, a power of two. */
static __u32 slots_default(__u32 cap)
{
	__u32 slots = TEXPORTER_MIN_SLOTS;

	while (slots < texporter_counter_slots(cap) && slots < TEXPORTER_MAX_SLOTS)
		slots <<= 1;
	return slots;
}

/* Names, counters and, in layout 2, shared for CAP ids (SLOTS slots); with
 * meta and errors too for a new directory. */
static void maps_make(__u32 cap, __u32 slots, __u32 layout, bool with_meta)
{
	if (with_meta)
		close(map_make(TEXPORTER_PIN_META, BPF_MAP_TYPE_ARRAY,
			       sizeof(struct texporter_meta), 1));
	/* Room for every id, as texporter-load makes it (its reloads read
	 * and write the whole table). */
	close(map_make(TEXPORTER_PIN_NAMES, BPF_MAP_TYPE_ARRAY,
		       sizeof(struct texporter_name), TEXPORTER_MAX_IDS));
	if (layout == TEXPORTER_LAYOUT_DENSE) {
		close(map_make(TEXPORTER_PIN_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY,
			       sizeof(struct texporter_counter),
			       texporter_counter_slots(cap)));
	} else {
		close(map_make(TEXPORTER_PIN_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY,
			       sizeof(struct texporter_slot), slots));
		close(map_make(TEXPORTER_PIN_SHARED, BPF_MAP_TYPE_ARRAY,
			       sizeof(struct texporter_counter),
			       texporter_counter_slots(cap)));
	}
	if (with_meta)
		close(map_make(TEXPORTER_PIN_ERRORS, BPF_MAP_TYPE_PERCPU_ARRAY,
			       sizeof(__u64), TEXPORTER_ERR_COUNT));
}

static void cmd_iface(char *args)
{
	char *name = strtok(args, " ");
	char *opt;
	char path[512];
	__u32 cap = 16, slots = 0, layout = TEXPORTER_LAYOUT_VERSION;

	if (!name)
		die("iface needs a directory");
	while ((opt = strtok(NULL, " ")))
		if (sscanf(opt, "capacity=%u", &cap) != 1 &&
		    sscanf(opt, "slots=%u", &slots) != 1 &&
		    sscanf(opt, "layout=%u", &layout) != 1)
			die("bad option %s", opt);
	if (layout != TEXPORTER_LAYOUT_DENSE && layout != TEXPORTER_LAYOUT_VERSION)
		die("layout must be %d or %d", TEXPORTER_LAYOUT_DENSE,
		    TEXPORTER_LAYOUT_VERSION);
	snprintf(dir, sizeof(dir), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	pin_path(path, sizeof(path), TEXPORTER_PIN_META);
	if (access(path, F_OK) == 0)
		return;
	maps_make(cap, slots ? slots : slots_default(cap), layout, true);
	struct texporter_meta m = {
		.magic = TEXPORTER_META_MAGIC,
		.layout_version = layout,
		.seq = 2,
		.capacity = cap,
	};
	ifname_set(&m, dir);
	meta_put(&m);
}

static void cmd_meta(char *args)
{
	struct texporter_meta m = meta_get();
	char *tok;

	for (tok = strtok(args, " "); tok; tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		unsigned long long v;

		if (!eq)
			die("bad meta field %s", tok);
		*eq++ = '\0';
		if (!strcmp(tok, "ifname")) {
			ifname_set(&m, eq);
			continue;
		}
		v = strtoull(eq, NULL, 0);
#define FIELD(f) else if (!strcmp(tok, #f)) m.f = v
		if (0) {}
		FIELD(magic); FIELD(seq); FIELD(capacity); FIELD(ifindex);
		FIELD(ingress); FIELD(egress); FIELD(ranges);
		FIELD(trie_entries); FIELD(trie_used); FIELD(features); FIELD(loaded_at);
		FIELD(changed_at); FIELD(reloads); FIELD(config_hash);
		else if (!strcmp(tok, "layout")) m.layout_version = v;
		else if (!strcmp(tok, "prefixes4")) m.prefixes[0] = v;
		else if (!strcmp(tok, "prefixes6")) m.prefixes[1] = v;
		else die("unknown meta field %s", tok);
#undef FIELD
	}
	meta_put(&m);
}

static void unescape(const char *in, char *out, size_t len)
{
	size_t n = 0;

	while (*in && n + 1 < len) {
		if (*in != '\\') {
			out[n++] = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n': out[n++] = '\n'; in++; break;
		case 't': out[n++] = '\t'; in++; break;
		case 'x': {
			unsigned v;

			if (sscanf(in + 1, "%2x", &v) != 1)
				die("bad \\x escape");
			out[n++] = (char)v;
			in += 3;
			break;
		}
		case '\0': break;
		default: out[n++] = *in++; break;
		}
	}
	out[n] = '\0';
}

static void name_set(__u32 id, const char *text)
{
	struct texporter_name v = { { 0 } };
	int fd = pin_get(TEXPORTER_PIN_NAMES);

	snprintf(v.name, sizeof(v.name), "%s", text);
	if (bpf_map_update_elem(fd, &id, &v, 0))
		die("write name %u: %s", id, strerror(errno));
	close(fd);
}

static void cmd_name(char *args)
{
	char text[256] = "";
	char *rest = NULL;
	__u32 id = (__u32)strtoul(args, &rest, 10);

	if (rest == args)
		die("name needs an id");
	if (*rest == ' ')
		unescape(rest + 1, text, sizeof(text));
	name_set(id, text);
}

/* The counter index of a pair, FAM 4 or 6. */
static __u32 pair_index(__u32 cap, __u32 fam, __u32 src, __u32 dst)
{
	if (fam != 4 && fam != 6)
		die("family must be 4 or 6");
	if (src >= cap || dst >= cap)
		die("ids must be below the capacity, %u", cap);
	return texporter_counter_index(cap, fam == 6, src, dst);
}

static int cpu_parse(const char *text)
{
	int cpu;

	if (!text)
		return 0;
	if (!strcmp(text, "last"))
		return ncpu - 1;
	cpu = atoi(text);
	if (cpu < 0 || cpu >= ncpu)
		die("cpu %s: this machine has %d possible CPUs", text, ncpu);
	return cpu;
}

static void counts_parse(const char *args, const char *usage, __u32 *index,
			 struct texporter_counter *c, int *cpu)
{
	unsigned fam, src, dst;
	unsigned long long bytes, packets;
	char cpu_text[16] = "0";
	int got = sscanf(args, "%u %u %u %llu %llu %15s", &fam, &src, &dst,
			 &bytes, &packets, cpu_text);

	if (got < 5 || (!cpu && got > 5))
		die("usage: %s", usage);
	*index = pair_index(meta_get().capacity, fam, src, dst);
	*c = (struct texporter_counter){ bytes, packets };
	if (cpu)
		*cpu = cpu_parse(cpu_text);
}

/* Reads, changes with FN, and writes back element KEY of pin PIN. */
static void elem_update(const char *pin, __u32 key, size_t size,
			void (*fn)(void *value, const void *arg), const void *arg)
{
	void *v = calloc(1, size);
	int fd = pin_get(pin);

	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(fd, &key, v))
		die("read %s %u: %s", pin, key, strerror(errno));
	fn(v, arg);
	if (bpf_map_update_elem(fd, &key, v, 0))
		die("write %s %u: %s", pin, key, strerror(errno));
	close(fd);
	free(v);
}

static void counter_add(struct texporter_counter *c, const struct texporter_counter *by)
{
	c->bytes += by->bytes;
	c->packets += by->packets;
}

static void counter_add_fn(void *value, const void *arg)
{
	counter_add(value, arg);
}

static void counter_set_fn(void *value, const void *arg)
{
	*(struct texporter_counter *)value = *(const struct texporter_counter *)arg;
}

/* The slots of the counters pin (its max_entries) and their log2. */
static __u32 slots_of_counters(__u32 *bits)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = pin_get(TEXPORTER_PIN_COUNTERS);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("inspect counters: %s", strerror(errno));
	close(fd);
	*bits = 0;
	while ((1u << *bits) < info.max_entries)
		(*bits)++;
	return info.max_entries;
}

/* One CPU's copy of a slot: adds C for pair INDEX if the pair holds or can
 * claim it; false (nothing changed) if another pair holds it. */
static bool slot_count(struct texporter_slot *slot, __u32 index,
		       const struct texporter_counter *c)
{
	if (slot->key && slot->key != index + 1)
		return false;
	slot->key = index + 1;
	slot->bytes += c->bytes;
	slot->packets += c->packets;
	return true;
}

struct slot_arg {
	int cpu;
	__u32 index;
	struct texporter_counter by;
	bool counted;
};

static void slot_count_fn(void *value, const void *arg)
{
	struct slot_arg *a = (struct slot_arg *)arg;

	a->counted = slot_count((struct texporter_slot *)value + a->cpu, a->index, &a->by);
}

static void cmd_count(char *args)
{
	struct texporter_meta m = meta_get();
	struct slot_arg a;
	__u32 bits, slots;

	counts_parse(args, "count FAM SRC DST BYTES PACKETS [CPU]", &a.index,
		     &a.by, &a.cpu);
	if (m.layout_version == TEXPORTER_LAYOUT_DENSE) {
		struct texporter_counter *v = calloc(ncpu, sizeof(*v));
		int fd = pin_get(TEXPORTER_PIN_COUNTERS);

		if (!v || bpf_map_lookup_elem(fd, &a.index, v))
			die("read counter: %s", strerror(errno));
		counter_add(&v[a.cpu], &a.by);
		if (bpf_map_update_elem(fd, &a.index, v, 0))
			die("write counter: %s", strerror(errno));
		close(fd);
		free(v);
		return;
	}
	slots = slots_of_counters(&bits);
	elem_update(TEXPORTER_PIN_COUNTERS,
		    texporter_slot_of(a.index, m.capacity, slots, bits),
		    (size_t)ncpu * sizeof(struct texporter_slot), slot_count_fn, &a);
	if (!a.counted)
		elem_update(TEXPORTER_PIN_SHARED, a.index,
			    sizeof(struct texporter_counter), counter_add_fn, &a.by);
}

static void cmd_shared(char *args)
{
	struct texporter_counter c;
	__u32 index;

	counts_parse(args, "shared FAM SRC DST BYTES PACKETS", &index, &c, NULL);
	elem_update(TEXPORTER_PIN_SHARED, index, sizeof(c), counter_set_fn, &c);
}

static void carry_make(__u32 cap)
{
	close(map_make(TEXPORTER_PIN_CARRY, BPF_MAP_TYPE_ARRAY,
		       sizeof(struct texporter_counter), texporter_counter_slots(cap)));
}

static void cmd_carry(char *args)
{
	struct texporter_counter c;
	char path[512];
	__u32 index;

	counts_parse(args, "carry FAM SRC DST BYTES PACKETS", &index, &c, NULL);
	pin_path(path, sizeof(path), TEXPORTER_PIN_CARRY);
	if (access(path, F_OK))
		carry_make(meta_get().capacity);
	elem_update(TEXPORTER_PIN_CARRY, index, sizeof(c), counter_set_fn, &c);
}

static void cmd_error(char *args)
{
	static const char *const reasons[] = { "truncated", "malformed",
					       "length", "non_ip" };
	char reason[32], cpu_text[16] = "0";
	unsigned long long value;
	__u64 *v = calloc(ncpu, sizeof(*v));
	int fd = pin_get(TEXPORTER_PIN_ERRORS), cpu;
	__u32 key;

	if (sscanf(args, "%31s %llu %15s", reason, &value, cpu_text) < 2)
		die("usage: error REASON VALUE [CPU]");
	cpu = cpu_parse(cpu_text);
	for (key = 0; key < TEXPORTER_ERR_COUNT; key++)
		if (!strcmp(reason, reasons[key]))
			break;
	if (key == TEXPORTER_ERR_COUNT)
		die("unknown reason %s", reason);
	if (bpf_map_lookup_elem(fd, &key, v))
		die("read errors: %s", strerror(errno));
	v[cpu] += value;
	if (bpf_map_update_elem(fd, &key, v, 0))
		die("write errors: %s", strerror(errno));
	close(fd);
	free(v);
}

/* Writes COUNT elements, keys 0..COUNT-1, of pin PIN in one batch. */
static void map_write_all(const char *pin, const void *values, __u32 count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = calloc(count, sizeof(*keys));
	int fd = pin_get(pin);

	if (!keys)
		die("out of memory");
	for (__u32 k = 0; k < count; k++)
		keys[k] = k;
	if (bpf_map_update_batch(fd, keys, values, &count, &opts))
		die("fill %s: %s", pin, strerror(errno));
	close(fd);
	free(keys);
}

/* What fill counts for pair K on CPU: derived from both. */
static struct texporter_counter fill_value(__u32 k, int cpu)
{
	__u64 packets = 1 + (k + cpu) % 7;

	return (struct texporter_counter){ packets * (40 + k % 1460), packets };
}

/* Fill's counts of the pairs in PAIRS[N], counted as count does. */
static void fill_slots(const __u32 *pairs, __u32 n, __u32 cap)
{
	__u32 bits, slots = slots_of_counters(&bits), all = texporter_counter_slots(cap);
	struct texporter_slot *v = calloc((size_t)slots * ncpu, sizeof(*v));
	struct texporter_counter *shared = calloc(all, sizeof(*shared));

	if (!v || !shared)
		die("out of memory");
	for (__u32 i = 0; i < n; i++)
		for (int cpu = 0; cpu < ncpu; cpu++) {
			__u32 slot = texporter_slot_of(pairs[i], cap, slots, bits);
			struct texporter_counter c = fill_value(pairs[i], cpu);

			if (!slot_count(&v[(size_t)slot * ncpu + cpu], pairs[i], &c))
				counter_add(&shared[pairs[i]], &c);
		}
	map_write_all(TEXPORTER_PIN_COUNTERS, v, slots);
	map_write_all(TEXPORTER_PIN_SHARED, shared, all);
	free(v);
	free(shared);
}

/* Layout 1: fill's counts in each pair's own element. */
static void fill_dense(const __u32 *pairs, __u32 n, __u32 cap)
{
	__u32 all = texporter_counter_slots(cap);
	struct texporter_counter *v = calloc((size_t)all * ncpu, sizeof(*v));

	if (!v)
		die("out of memory");
	for (__u32 i = 0; i < n; i++)
		for (int cpu = 0; cpu < ncpu; cpu++)
			v[(size_t)pairs[i] * ncpu + cpu] = fill_value(pairs[i], cpu);
	map_write_all(TEXPORTER_PIN_COUNTERS, v, all);
	free(v);
}

/* Every pair of n names, both families; values derived from the pair. */
static void cmd_fill(char *args)
{
	__u32 n = (__u32)strtoul(args, NULL, 10), count = 0;
	struct texporter_meta m = meta_get();
	__u32 cap = m.capacity;
	__u32 *pairs = calloc(texporter_counter_slots(cap), sizeof(*pairs));

	if (n < 1 || n > cap)
		die("fill needs 1..capacity names");
	if (!pairs)
		die("out of memory");
	for (__u32 id = 0; id < n; id++) {
		char text[16];

		snprintf(text, sizeof(text), id ? "r%03u" : "other", id);
		name_set(id, text);
	}
	for (__u32 f = 0; f < 2; f++)
		for (__u32 s = 0; s < n; s++)
			for (__u32 d = 0; d < n; d++)
				pairs[count++] = texporter_counter_index(cap, f, s, d);
	if (m.layout_version == TEXPORTER_LAYOUT_DENSE)
		fill_dense(pairs, count, cap);
	else
		fill_slots(pairs, count, cap);
	m.ranges = n;
	meta_put(&m);
	free(pairs);
}

static void cmd_grow(char *args)
{
	__u32 cap = (__u32)strtoul(args, NULL, 10);
	struct texporter_meta m = meta_get();
	char path[512];

	if (cap < 1 || cap > TEXPORTER_MAX_IDS)
		die("grow needs a capacity in 1..%d", TEXPORTER_MAX_IDS);
	maps_make(cap, slots_default(cap), m.layout_version, false);
	pin_path(path, sizeof(path), TEXPORTER_PIN_CARRY);
	if (access(path, F_OK) == 0)
		carry_make(cap);
	m.capacity = cap;
	meta_put(&m);
}

/* The unmatched key "FAM SIDE KEY" at the start of ARGS; the rest of
 * ARGS (counts, CPU) in *REST. */
static struct texporter_unmatched_key unmatched_key_parse(const char *args, const char **rest)
{
	struct texporter_unmatched_key k = { 0 };
	char side[8], key[64], *slash;
	unsigned fam, len = 0;
	int n = 0;

	if (sscanf(args, "%u %7s %63s %n", &fam, side, key, &n) != 3 || !n ||
	    (fam != 4 && fam != 6) || (strcmp(side, "src") && strcmp(side, "dst")))
		die("usage: FAM(4|6) SIDE(src|dst) ADDR/LEN|untracked ...");
	k.family = fam == 6;
	k.side = !strcmp(side, "dst");
	*rest = args + n;
	if (!strcmp(key, "untracked")) {
		k.untracked = 1;
		return k;
	}
	slash = strchr(key, '/');
	if (!slash || sscanf(slash + 1, "%u", &len) != 1 || !len || len > (fam == 6 ? 128u : 32u))
		die("prefix %s: use ADDR/LEN", key);
	*slash = '\0';
	if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, key, k.addr) != 1)
		die("prefix %s: not an IPv%u address", key, fam);
	k.len = (__u8)len;
	return k;
}

/* BYTES PACKETS [CPU] */
static void unmatched_counts_parse(const char *rest, struct texporter_counter *c, int *cpu)
{
	unsigned long long bytes, packets;
	char cpu_text[16] = "0";

	if (sscanf(rest, "%llu %llu %15s", &bytes, &packets, cpu_text) < 2)
		die("usage: ... BYTES PACKETS [CPU]");
	*c = (struct texporter_counter){ bytes, packets };
	*cpu = cpu_parse(cpu_text);
}

/* The pin PIN, made by MAKE when it is missing. */
static int pin_get_or_make(const char *pin, int (*make)(void))
{
	char path[512];

	pin_path(path, sizeof(path), pin);
	if (access(path, F_OK) == 0)
		return pin_get(pin);
	return make();
}

static int unmatched_make(void)
{
	struct texporter_counter *zeros = calloc((size_t)ncpu, sizeof(*zeros));
	char path[512];
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "texp_unm_24_48",
				sizeof(struct texporter_unmatched_key),
				sizeof(struct texporter_counter), 64 + TEXPORTER_UNMATCHED_RESERVED,
				NULL);

	if (fd < 0 || !zeros)
		die("create unmatched: %s", strerror(errno));
	for (__u8 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u8 side = 0; side < TEXPORTER_SIDE_COUNT; side++) {
			struct texporter_unmatched_key k = { .family = f, .side = side,
							     .untracked = 1 };

			if (bpf_map_update_elem(fd, &k, zeros, BPF_ANY))
				die("untracked key: %s", strerror(errno));
		}
	free(zeros);
	pin_path(path, sizeof(path), TEXPORTER_PIN_UNMATCHED);
	if (bpf_obj_pin(fd, path))
		die("pin %s: %s", path, strerror(errno));
	return fd;
}

static int cache_make(void)
{
	struct texporter_unmatched_slot *s = calloc((size_t)ncpu, sizeof(*s));
	int fd = map_make(TEXPORTER_PIN_UNMATCHED_CACHE, BPF_MAP_TYPE_PERCPU_ARRAY,
			  sizeof(*s), TEXPORTER_UNMATCHED_CACHE_ENTRIES);

	if (!s)
		die("out of memory");
	for (__u8 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u8 side = 0; side < TEXPORTER_SIDE_COUNT; side++) {
			__u32 i = texporter_unmatched_untracked_slot(f, side);

			for (int c = 0; c < ncpu; c++)
				s[c].key = (struct texporter_unmatched_key){ .family = f, .side = side,
									     .untracked = 1 };
			if (bpf_map_update_elem(fd, &i, s, BPF_ANY))
				die("untracked entry: %s", strerror(errno));
		}
	free(s);
	return fd;
}

static void cmd_unmatched(char *args)
{
	const char *rest;
	struct texporter_unmatched_key k = unmatched_key_parse(args, &rest);
	struct texporter_counter by, *v = calloc((size_t)ncpu, sizeof(*v));
	int fd = pin_get_or_make(TEXPORTER_PIN_UNMATCHED, unmatched_make), cpu;

	unmatched_counts_parse(rest, &by, &cpu);
	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(fd, &k, v) && errno != ENOENT)
		die("read unmatched: %s", strerror(errno));
	counter_add(&v[cpu], &by);
	if (bpf_map_update_elem(fd, &k, v, BPF_ANY))
		die("write unmatched: %s", strerror(errno));
	free(v);
	close(fd);
}

static void cmd_cache(char *args)
{
	const char *rest;
	struct texporter_unmatched_key k = unmatched_key_parse(args, &rest);
	struct texporter_unmatched_slot *s = calloc((size_t)ncpu, sizeof(*s));
	int fd = pin_get_or_make(TEXPORTER_PIN_UNMATCHED_CACHE, cache_make), cpu;
	__u32 i = k.untracked ? texporter_unmatched_untracked_slot(k.family, k.side) :
				texporter_unmatched_slot_of(&k);
	struct texporter_counter by;

	unmatched_counts_parse(rest, &by, &cpu);
	if (!s || bpf_map_lookup_elem(fd, &i, s))
		die("read cache %u: %s", i, strerror(errno));
	if (texporter_unmatched_slot_free(&s[cpu]))
		s[cpu].key = k;
	if (memcmp(&s[cpu].key, &k, sizeof(k)))
		die("cache slot %u on CPU %d is held by another key", i, cpu);
	s[cpu].bytes += by.bytes;
	s[cpu].packets += by.packets;
	if (bpf_map_update_elem(fd, &i, s, BPF_ANY))
		die("write cache %u: %s", i, strerror(errno));
	free(s);
	close(fd);
}

static void cmd_unpin(char *args)
{
	char path[512];

	pin_path(path, sizeof(path), args);
	if (unlink(path))
		die("unlink %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(char *args);
	} cmds[] = {
		{ "iface", cmd_iface }, { "meta", cmd_meta },
		{ "name", cmd_name },   { "count", cmd_count },
		{ "shared", cmd_shared }, { "carry", cmd_carry },
		{ "error", cmd_error },
		{ "fill", cmd_fill },   { "grow", cmd_grow },
		{ "unpin", cmd_unpin }, { "unmatched", cmd_unmatched },
		{ "cache", cmd_cache },
	};
	char line[1024];

	if (argc != 2) {
		fprintf(stderr, "usage: texporter-fixture ROOT < commands\n");
		return 2;
	}
	root = argv[1];
	ncpu = libbpf_num_possible_cpus();
	if (mkdir(root, 0755) && errno != EEXIST) {
		perror(root);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *cmd, *args;
		size_t i;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		cmd = line + strspn(line, " \t");
		if (!*cmd || *cmd == '#')
			continue;
		args = cmd + strcspn(cmd, " ");
		if (*args)
			*args++ = '\0';
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(cmd, cmds[i].name))
				break;
		if (i == sizeof(cmds) / sizeof(cmds[0]))
			die("unknown command %s", cmd);
		if (strcmp(cmd, "iface") && !dir[0])
			die("%s before iface", cmd);
		cmds[i].run(args);
	}
	return 0;
}
