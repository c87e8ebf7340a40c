// SPDX-License-Identifier: Apache-2.0
/*
 * texporter-fixture: makes the pins texporter-load would make, with
 * known contents, so texporter-read can be tested without the loader.
 * Root only (it creates maps). Reads commands from stdin, one per line:
 *
 *   iface DIR [capacity=N]     create DIR under ROOT with meta, names,
 *                              counters, errors (or open existing ones);
 *                              later commands apply to it
 *   meta FIELD=VALUE...        set meta fields: magic layout seq capacity
 *                              ifindex ingress egress ranges prefixes4
 *                              prefixes6 trie_entries trie_used features
 *                              loaded_at changed_at reloads config_hash ifname
 *   name ID [TEXT]             set a name (C escapes: \n \t \\ \" \xHH);
 *                              no TEXT clears it
 *   count FAM SRC DST BYTES PACKETS [CPU]   add to one CPU's counter (FAM 4|6;
 *                              CPU a number or "last"; default 0)
 *   carry FAM SRC DST BYTES PACKETS         set a carry entry (makes carry)
 *   error REASON VALUE [CPU]   add to one CPU's error counter; REASON:
 *                              truncated malformed length non_ip
 *   fill N                     names r000.. for ids 1..N-1 (id 0 "other"),
 *                              and a counter for every pair and family,
 *                              spread over the CPUs
 *   grow CAPACITY              replace names, counters (and carry) by
 *                              bigger, empty maps: pins replaced, as when
 *                              the loader grows them
 *   unpin PIN                  remove one pin
 *
 * Usage: texporter-fixture ROOT < commands
 */
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

static void maps_make(__u32 cap, bool with_meta)
{
	if (with_meta)
		close(map_make(TEXPORTER_PIN_META, BPF_MAP_TYPE_ARRAY,
			       sizeof(struct texporter_meta), 1));
	close(map_make(TEXPORTER_PIN_NAMES, BPF_MAP_TYPE_ARRAY,
		       sizeof(struct texporter_name), cap));
	close(map_make(TEXPORTER_PIN_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY,
		       sizeof(struct texporter_counter), texporter_counter_slots(cap)));
	if (with_meta)
		close(map_make(TEXPORTER_PIN_ERRORS, BPF_MAP_TYPE_PERCPU_ARRAY,
			       sizeof(__u64), TEXPORTER_ERR_COUNT));
}

static void cmd_iface(char *args)
{
	char *name = strtok(args, " ");
	char *opt = strtok(NULL, " ");
	char path[512];
	__u32 cap = 16;

	if (!name)
		die("iface needs a directory");
	if (opt && sscanf(opt, "capacity=%u", &cap) != 1)
		die("bad option %s", opt);
	snprintf(dir, sizeof(dir), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", root, dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	pin_path(path, sizeof(path), TEXPORTER_PIN_META);
	if (access(path, F_OK) == 0)
		return;
	maps_make(cap, true);
	struct texporter_meta m = {
		.magic = TEXPORTER_META_MAGIC,
		.layout_version = TEXPORTER_LAYOUT_VERSION,
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

static __u32 slot(__u32 fam, __u32 src, __u32 dst)
{
	__u32 cap = meta_get().capacity;

	if (fam != 4 && fam != 6)
		die("family must be 4 or 6");
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

static void cmd_count(char *args)
{
	unsigned fam, src, dst;
	unsigned long long bytes, packets;
	char cpu_text[16] = "0";
	struct texporter_counter *v = calloc(ncpu, sizeof(*v));
	int fd = pin_get(TEXPORTER_PIN_COUNTERS), cpu;
	__u32 key;

	if (sscanf(args, "%u %u %u %llu %llu %15s", &fam, &src, &dst, &bytes,
		   &packets, cpu_text) < 5)
		die("usage: count FAM SRC DST BYTES PACKETS [CPU]");
	cpu = cpu_parse(cpu_text);
	key = slot(fam, src, dst);
	if (bpf_map_lookup_elem(fd, &key, v))
		die("read counter: %s", strerror(errno));
	v[cpu].bytes += bytes;
	v[cpu].packets += packets;
	if (bpf_map_update_elem(fd, &key, v, 0))
		die("write counter: %s", strerror(errno));
	close(fd);
	free(v);
}

static void cmd_carry(char *args)
{
	unsigned fam, src, dst;
	unsigned long long bytes, packets;
	struct texporter_counter v;
	char path[512];
	int fd;
	__u32 key, cap = meta_get().capacity;

	if (sscanf(args, "%u %u %u %llu %llu", &fam, &src, &dst, &bytes,
		   &packets) != 5)
		die("usage: carry FAM SRC DST BYTES PACKETS");
	pin_path(path, sizeof(path), TEXPORTER_PIN_CARRY);
	if (access(path, F_OK))
		close(map_make(TEXPORTER_PIN_CARRY, BPF_MAP_TYPE_ARRAY,
			       sizeof(struct texporter_counter), texporter_counter_slots(cap)));
	fd = pin_get(TEXPORTER_PIN_CARRY);
	key = slot(fam, src, dst);
	v.bytes = bytes;
	v.packets = packets;
	if (bpf_map_update_elem(fd, &key, &v, 0))
		die("write carry: %s", strerror(errno));
	close(fd);
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

/* Every pair of n names, both families; values derived from the slot. */
static void cmd_fill(char *args)
{
	__u32 n = (__u32)strtoul(args, NULL, 10);
	struct texporter_meta m = meta_get();
	__u32 cap = m.capacity, slots = texporter_counter_slots(cap), count = 0;
	struct texporter_counter *v = calloc((size_t)slots * ncpu, sizeof(*v));
	__u32 *keys = calloc(slots, sizeof(*keys));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd;

	if (n < 1 || n > cap)
		die("fill needs 1..capacity names");
	for (__u32 id = 0; id < n; id++) {
		char text[16];

		snprintf(text, sizeof(text), id ? "r%03u" : "other", id);
		name_set(id, text);
	}
	for (__u32 f = 0; f < 2; f++)
		for (__u32 s = 0; s < n; s++)
			for (__u32 d = 0; d < n; d++) {
				__u32 k = texporter_counter_index(cap, f, s, d);
				struct texporter_counter *c = &v[(size_t)count * ncpu];

				keys[count++] = k;
				for (int cpu = 0; cpu < ncpu; cpu++) {
					c[cpu].packets = 1 + (k + cpu) % 7;
					c[cpu].bytes = c[cpu].packets * (40 + k % 1460);
				}
			}
	fd = pin_get(TEXPORTER_PIN_COUNTERS);
	if (bpf_map_update_batch(fd, keys, v, &count, &opts))
		die("fill counters: %s", strerror(errno));
	close(fd);
	m.ranges = n;
	meta_put(&m);
	free(v);
	free(keys);
}

static void cmd_grow(char *args)
{
	__u32 cap = (__u32)strtoul(args, NULL, 10);
	struct texporter_meta m = meta_get();

	char path[512];

	maps_make(cap, false);
	pin_path(path, sizeof(path), TEXPORTER_PIN_CARRY);
	if (access(path, F_OK) == 0)
		close(map_make(TEXPORTER_PIN_CARRY, BPF_MAP_TYPE_ARRAY,
			       sizeof(struct texporter_counter), texporter_counter_slots(cap)));
	m.capacity = cap;
	meta_put(&m);
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
		{ "carry", cmd_carry }, { "error", cmd_error },
		{ "fill", cmd_fill },   { "grow", cmd_grow },
		{ "unpin", cmd_unpin },
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
