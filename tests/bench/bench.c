// SPDX-License-Identifier: Apache-2.0
/*
 * bench: the measuring half of `make bench`; tests/bench/run sets up the
 * namespaces, the bpffs and the loads, and calls it.
 *
 *   bench testrun --pins DIR --config FILE --label NAME --floor-obj FILE
 *                 --floor-if IFACE [--lpm-obj FILE --lpm-if IFACE]
 *                 [--rounds N] [--calls N] [--hit-rounds N] [--repeat N]
 *                 [--compare-pins DIR] [--fallback-pins DIR] [--slots-pins DIR]
 *                 [--nodisc-pins DIR]
 *       Per-packet cost of texporter's XDP and TC programs (found through
 *       the link pins in DIR) by BPF_PROG_TEST_RUN, beside a floor program
 *       that only returns and, optionally, a reference program doing two
 *       LPM-trie lookups, and optionally another texporter build loaded on
 *       another interface (--compare-pins: A/B of a data-plane change, both
 *       measured in the same rounds), and optionally the same build loaded
 *       with the data plane of older kernels (--fallback-pins: single-buffer
 *       XDP, split range table), also against texporter's own figures
 *       ("fallback-vs" rows), and optionally the same build loaded with few
 *       counter slots (--slots-pins: --counter-slots, so that pairs share a
 *       slot and some go to the shared map; before the runs, a pair that
 *       hashes to a hit pair's slot claims it where the config has one),
 *       also against texporter's own figures ("slots-vs" rows), and
 *       optionally the same build loaded with --unmatched-entries 0
 *       (--nodisc-pins), with texporter's figures against its own as
 *       "discovery-cost" rows: what unmatched discovery costs. Prints
 *       one "row" line per figure (tab-separated: row, section, config,
 *       case, program ns, floor ns, overhead ns: the median of the
 *       per-round differences), then, for each load of this build, a
 *       "counted" line (prefix, packets counted in the run = the runs it
 *       was given, pairs with counts in shared, their packets, ids per
 *       axis, slots per CPU, the families whose hit pair has counts in
 *       shared or "none") once its counters (slots + shared + carry, by
 *       pair) equal the runs exactly, and an "unmatched" line (prefix,
 *       packets of unmatched prefixes in the cache, in the unmatched map).
 *       The --slots-pins load also gets, before the runs, a frame whose
 *       unmatched prefixes take the cache slots of the miss frame's, so its
 *       miss rows measure a prefix without a cache slot.
 *   bench populate PIN_DIR CONFIG
 *       Runs the attached XDP program once per (family, src, dst) pair of
 *       range ids, so that each of those counters is non-zero.
 *   bench attach-floor OBJ IFACE PIN_DIR
 *       Attaches the floor programs to IFACE as texporter attaches its own
 *       (XDP link, TCX egress link) and pins the links as DIR/link_ingress
 *       and DIR/link_egress.
 *   bench time [--netns PATH] [--stdout FILE] -- CMD [ARG...]
 *       Runs CMD (in network namespace PATH) and prints its wall time in
 *       ms, its peak RSS in KiB and its exit status.
 *   bench counters OBJ ROUNDS REPEAT
 *       The counter layouts of tests/bench/counters.bpf.c (256 names;
 *       the striped one with 16 stripes):
 *       "mem" lines (map, memlock, bytes per CPU, entries, value size),
 *       "row" lines as testrun's (one pair; a pair whose cache slot another
 *       holds; a new pair when the indirection has no slot left; one pair
 *       counted by both CPUs at once), "overlap" (the mean
 *       share of a two-CPU run during which both CPUs ran), and "exact" once
 *       every layout's counts equal the runs it was given.
 *
 * BENCH_DEBUG=1 in the environment prints every sample of testrun to stderr.
 *
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "texporter.h"
#include "trie_walk.h"

#define ATTACH_TYPE_TCX_EGRESS 47 /* missing from older uapi headers */
#define XDP_PASS_RETVAL 2
#define TC_ACT_UNSPEC_RETVAL 0xffffffffu

#define FRAME_MAX 128   /* Ethernet + 2 MPLS labels + IPv6 + UDP + payload fits */
#define UDP_PAYLOAD 26  /* an IPv4 frame is 68 bytes, an IPv6 one 88 */
#define VLAN_ID 100
#define MPLS_LABEL 16   /* the first of two: an L3VPN's transport and VPN labels */
#define PPPOE_SESSION 1
#define MATCHED_IN_4 3  /* of 4 drawn addresses come from a configured prefix */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* --- deterministic random numbers (splitmix64) --------------------------- */

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* --- the config: names and prefixes per family ---------------------------- */

struct prefix {
	uint8_t addr[16];
	uint8_t len;
	uint16_t name; /* index into config.names */
};

struct prefixes {
	struct prefix *p;
	size_t n, cap;
};

struct config {
	size_t n_names;
	char **names;
	struct prefixes fam[TEXPORTER_FAMILY_COUNT];
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("%s: cannot size: %s", path, strerror(errno));
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		die("%s: cannot read", path);
	buf[size] = 0;
	fclose(f);
	return buf;
}

static void prefixes_add(struct prefixes *ps, const struct prefix *p)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 1024;
		ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
		if (!ps->p)
			die("out of memory");
	}
	ps->p[ps->n++] = *p;
}

static int parse_cidr(const char *text, int family, struct prefix *p)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	unsigned int bits = family == TEXPORTER_IPV4 ? 32 : 128;
	size_t n = slash ? (size_t)(slash - text) : strlen(text);

	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = 0;
	memset(p->addr, 0, sizeof(p->addr));
	if (inet_pton(family == TEXPORTER_IPV4 ? AF_INET : AF_INET6, addr, p->addr) != 1)
		return -1;
	p->len = (uint8_t)(slash ? strtoul(slash + 1, NULL, 10) : bits);
	return p->len > bits ? -1 : 0;
}

static void config_load(const char *path, struct config *cfg)
{
	static const char *const keys[] = { "ipv4", "ipv6" };
	char *text = read_file(path);
	cJSON *root = cJSON_Parse(text);
	const cJSON *range;

	if (!cJSON_IsArray(root))
		die("%s: not a JSON array of ranges", path);
	memset(cfg, 0, sizeof(*cfg));
	cfg->names = calloc((size_t)cJSON_GetArraySize(root), sizeof(*cfg->names));
	if (!cfg->names)
		die("out of memory");
	cJSON_ArrayForEach(range, root) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(range, "name");

		if (!cJSON_IsString(name))
			die("%s: a range without a name", path);
		cfg->names[cfg->n_names] = strdup(name->valuestring);
		for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
			const cJSON *cidr;

			cJSON_ArrayForEach(cidr, cJSON_GetObjectItemCaseSensitive(range, keys[f])) {
				struct prefix p;

				if (!cJSON_IsString(cidr) || parse_cidr(cidr->valuestring, f, &p))
					die("%s: %s: bad prefix", path, name->valuestring);
				p.name = (uint16_t)cfg->n_names;
				prefixes_add(&cfg->fam[f], &p);
			}
		}
		cfg->n_names++;
	}
	cJSON_Delete(root);
	free(text);
}

/* An address uniform over the unicast space (1.0.0.0-223.255.255.255,
 * 2000::/3): nearly always unmatched. */
static void draw_random(int family, uint64_t *rng, uint8_t *out)
{
	uint64_t r[2] = { rng_next(rng), rng_next(rng) };

	memcpy(out, r, family == TEXPORTER_IPV4 ? 4 : 16);
	if (family == TEXPORTER_IPV4)
		out[0] = (uint8_t)(1 + out[0] % 223);
	else
		out[0] = (uint8_t)(0x20 | (out[0] & 0x1f));
}

/* An address inside a configured prefix of FAMILY chosen uniformly, host
 * bits random; a random one when the family has no prefix. */
static void draw_matched(const struct config *cfg, int family, uint64_t *rng, uint8_t *out)
{
	const struct prefixes *ps = &cfg->fam[family];
	size_t bytes = family == TEXPORTER_IPV4 ? 4 : 16;
	uint64_t r[2] = { rng_next(rng), rng_next(rng) };
	const uint8_t *random = (const uint8_t *)r;
	const struct prefix *p;

	if (ps->n == 0) {
		draw_random(family, rng, out);
		return;
	}
	p = &ps->p[rng_next(rng) % ps->n];
	for (size_t i = 0; i < bytes; i++) {
		unsigned int keep = p->len >= (i + 1) * 8 ? 8 : p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		out[i] = (uint8_t)((p->addr[i] & mask) | (random[i] & ~mask));
	}
}

/* The cold mix: MATCHED_IN_4 of 4 addresses from a configured prefix. */
static void draw_address(const struct config *cfg, int family, uint64_t *rng, uint8_t *out)
{
	if (rng_next(rng) % 4 < MATCHED_IN_4)
		draw_matched(cfg, family, rng, out);
	else
		draw_random(family, rng, out);
}

/* --- frames ---------------------------------------------------------------- */

static uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* What carries a test frame's IP packet behind the Ethernet header. */
enum link {
	LINK_PLAIN,
	LINK_VLAN,  /* one 802.1Q tag */
	LINK_MPLS,  /* two MPLS labels */
	LINK_PPPOE, /* a PPPoE session header */
};

/* The link headers of LINK between the MAC addresses and the IP packet
 * of L3 bytes at F; returns their length. */
static size_t link_build(uint8_t *f, int family, enum link link, size_t l3)
{
	size_t off = 0;

	if (link == LINK_VLAN) {
		put16(f, 0x8100);
		put16(f + 2, VLAN_ID);
		off = 4;
	}
	if (link == LINK_MPLS) {
		put16(f, 0x8847);
		/* label, no bottom of stack, TTL 64; then the bottom label */
		put16(f + 2, MPLS_LABEL >> 4);
		put16(f + 4, (MPLS_LABEL & 0xf) << 12 | 64);
		put16(f + 6, (MPLS_LABEL + 1) >> 4);
		put16(f + 8, ((MPLS_LABEL + 1) & 0xf) << 12 | 1 << 8 | 64);
		return 10;
	}
	if (link == LINK_PPPOE) {
		put16(f, 0x8864);
		f[2] = 0x11; /* version 1, type 1 */
		f[3] = 0;    /* code: session data */
		put16(f + 4, PPPOE_SESSION);
		put16(f + 6, (uint16_t)(2 + l3)); /* PPP protocol and packet */
		put16(f + 8, family == TEXPORTER_IPV4 ? 0x0021 : 0x0057);
		return 10;
	}
	put16(f + off, family == TEXPORTER_IPV4 ? 0x0800 : 0x86dd);
	return off + 2;
}

/* A valid Ethernet + LINK + IPv4/IPv6 + UDP frame; returns its length. */
static size_t frame_build(uint8_t *f, int family, enum link link, const uint8_t *src,
			  const uint8_t *dst)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	size_t addr_len = family == TEXPORTER_IPV4 ? 4 : 16;
	size_t off = 12, l4;
	uint8_t *udp;
	uint32_t sum;

	memcpy(f, macs, sizeof(macs));
	off += link_build(f + off, family, link,
			  (family == TEXPORTER_IPV4 ? 20 : 40) + 8 + UDP_PAYLOAD);
	if (family == TEXPORTER_IPV4) {
		uint8_t *ip = f + off;

		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, 20 + 8 + UDP_PAYLOAD);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		l4 = off + 20;
	} else {
		uint8_t *ip6 = f + off;

		memset(ip6, 0, 40);
		ip6[0] = 0x60;
		put16(ip6 + 4, 8 + UDP_PAYLOAD);
		ip6[6] = 17;
		ip6[7] = 64;
		memcpy(ip6 + 8, src, 16);
		memcpy(ip6 + 24, dst, 16);
		l4 = off + 40;
	}
	udp = f + l4;
	put16(udp, 40000);
	put16(udp + 2, 4242);
	put16(udp + 4, 8 + UDP_PAYLOAD);
	put16(udp + 6, 0);
	for (int i = 0; i < UDP_PAYLOAD; i++)
		udp[8 + i] = (uint8_t)i;
	/* checksum over the pseudo header (addresses, protocol, length) and UDP */
	sum = csum_add(0, src, addr_len);
	sum = csum_add(sum, dst, addr_len);
	sum += 17 + 8 + UDP_PAYLOAD;
	sum = csum_add(sum, udp, 8 + UDP_PAYLOAD);
	put16(udp + 6, csum_fold(sum) ? csum_fold(sum) : 0xffff);
	return l4 + 8 + UDP_PAYLOAD;
}

/* --- programs -------------------------------------------------------------- */

/* The program a pinned link runs: link pin -> link info -> prog id -> fd. */
static int prog_of_link(const char *dir, const char *pin)
{
	char path[PATH_MAX];
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int link, prog;

	snprintf(path, sizeof(path), "%s/%s", dir, pin);
	link = bpf_obj_get(path);
	if (link < 0)
		die("%s: %s (is texporter loaded there?)", path, strerror(errno));
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link, &info, &len))
		die("%s: link info: %s", path, strerror(errno));
	prog = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog < 0)
		die("%s: program %u: %s", path, info.prog_id, strerror(errno));
	close(link);
	return prog;
}

static struct bpf_object *object_open(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);

	if (!obj)
		die("%s: %s", path, strerror(errno));
	return obj;
}

static int object_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p)
		die("no program %s in the object", name);
	return bpf_program__fd(p);
}

static int ifindex_of(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex)
		die("interface %s: %s", ifname, strerror(errno));
	return ifindex;
}

static int attach_xdp(int prog, const char *ifname)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	int link = bpf_link_create(prog, ifindex_of(ifname), BPF_XDP, &opts);

	if (link < 0)
		die("%s: cannot attach XDP: %s", ifname, strerror(errno));
	return link;
}

/* One test run of PROG on FRAME, REPEAT times; the kernel's average ns per
 * run in *duration. Checks that the program returned PASS/UNSPEC. */
static void test_run(int prog, bool xdp, const void *frame, size_t len, __u32 repeat,
		     __u32 *duration)
{
	uint8_t out[FRAME_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &o))
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if (o.retval != (xdp ? XDP_PASS_RETVAL : TC_ACT_UNSPEC_RETVAL))
		die("BPF_PROG_TEST_RUN: unexpected return value %u", o.retval);
	if (duration)
		*duration = o.duration;
}

/* The same without data_out, as fast as the syscall goes: the cold loop. */
static void test_run_fast(int prog, const void *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len);

	if (bpf_prog_test_run_opts(prog, &o))
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --- testrun ---------------------------------------------------------------- */

#define MAX_ROUNDS 201
#define CASES 8

/* The plain and tagged cases first, as before MPLS and PPPoE were counted. */
static const struct {
	const char *name;
	int family;
	enum link link;
} cases[CASES] = {
	{ "ipv4", TEXPORTER_IPV4, LINK_PLAIN },      { "ipv4 vlan", TEXPORTER_IPV4, LINK_VLAN },
	{ "ipv6", TEXPORTER_IPV6, LINK_PLAIN },      { "ipv6 vlan", TEXPORTER_IPV6, LINK_VLAN },
	{ "ipv4 mpls", TEXPORTER_IPV4, LINK_MPLS },  { "ipv6 mpls", TEXPORTER_IPV6, LINK_MPLS },
	{ "ipv4 pppoe", TEXPORTER_IPV4, LINK_PPPOE }, { "ipv6 pppoe", TEXPORTER_IPV6, LINK_PPPOE },
};

/* A load of this build under test: what its maps held before the runs and
 * the runs the bench gave its programs since, to check every run counted. */
struct counted {
	const char *prefix; /* as its subjects' */
	const char *pins;
	__u64 not_counted;  /* errors-map total before the runs */
	__u64 packets;      /* packets its counters held before the runs */
	__u64 runs;         /* test runs of its programs since */
};

#define MAX_SUBJECTS 7 /* texporter, floor, lpm-ref, compare, fallback, slots, nodisc */

struct subject {
	const char *prefix; /* of its rows' section: "" for texporter */
	int fd;
	bool xdp;
	bool versus;        /* also reported against texporter, as "PREFIX-vs" rows */
	const char *cost_of; /* texporter also reported against it, as "COST_OF-cost"
			      * rows: what texporter pays for what it leaves out */
	struct counted *counted; /* NULL: not this build (floor, lpm-ref, compare) */
	double hit[CASES][MAX_ROUNDS];  /* ns per run, per case and round */
	double miss[CASES][MAX_ROUNDS]; /* the same, for the miss frames */
	double cold[CASES][MAX_ROUNDS];
};

struct testrun {
	const char *label;
	const struct config *cfg;
	int rounds;     /* cold samples */
	int hit_rounds; /* hit samples */
	int calls;      /* test runs per cold sample */
	__u32 repeat;   /* kernel repeats per hit sample */
	uint8_t *frames; /* calls * FRAME_MAX */
	size_t *lengths;
	double *times;   /* calls * (MAX_SUBJECTS + 1) */
	uint64_t rng;
	const uint32_t *trie; /* the pinned ranges map, mapped read-only */
	struct texporter_meta meta; /* for the trie's strides */
};

/* Medians of the subject, of the floor, and of their per-round difference
 * (each round measures both back to back, so drift cancels). */
static void print_row(const struct testrun *t, const char *section, const char *kase,
		      const double *subject, const double *floor, int n)
{
	double v[MAX_ROUNDS], f[MAX_ROUNDS], d[MAX_ROUNDS];

	for (int r = 0; r < n; r++) {
		v[r] = subject[r];
		f[r] = floor[r];
		d[r] = v[r] - f[r];
	}
	if (getenv("BENCH_DEBUG")) {
		fprintf(stderr, "%s %s %s:", section, t->label, kase);
		for (int r = 0; r < n; r++)
			fprintf(stderr, " %.0f/%.0f", subject[r], floor[r]);
		fputc('\n', stderr);
	}
	printf("row\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\n", section, t->label, kase, median(v, n),
	       median(f, n), median(d, n));
	fflush(stdout);
}

/* Nodes the data plane's trie walk visits for ADDR, read from the pinned
 * ranges map with the strides meta names. */
static int trie_nodes(const struct testrun *t, int family, const uint8_t *addr)
{
	struct trie_layout layout = { t->meta.v4_root_bits, t->meta.v6_second_bits };
	unsigned int nodes;

	trie_lookup(t->trie, layout, family, addr, &nodes);
	return (int)nodes;
}

/* The hit frame of each case: both addresses inside configured prefixes,
 * the same pair of a family behind every link header. The miss frame:
 * both addresses outside every prefix (the unmatched range on both
 * sides, the costliest unmatched packet), so that each run after the
 * first adds to two tracked unmatched prefixes. */
struct hit_frame {
	uint8_t frame[FRAME_MAX];
	size_t len;
	int nodes[2];
};

/* An address that the pinned trie classifies as unmatched. */
static void draw_unmatched(const struct testrun *t, int family, uint64_t *rng, uint8_t *out)
{
	struct trie_layout layout = { t->meta.v4_root_bits, t->meta.v6_second_bits };
	unsigned int nodes;

	do
		draw_random(family, rng, out);
	while (trie_lookup(t->trie, layout, family, out, &nodes) != TEXPORTER_UNMATCHED_ID);
}

/* The addresses of FAMILY's miss frames: the same in every case and run. */
static void miss_addresses(const struct testrun *t, int family, uint8_t *src, uint8_t *dst)
{
	uint64_t pick = 0x5117 + (uint64_t)family;

	draw_unmatched(t, family, &pick, src);
	draw_unmatched(t, family, &pick, dst);
}

static void miss_frames(const struct testrun *t, struct hit_frame *h)
{
	for (int c = 0; c < CASES; c++) {
		int family = cases[c].family;
		uint8_t src[16], dst[16];

		miss_addresses(t, family, src, dst);
		h[c].nodes[0] = trie_nodes(t, family, src);
		h[c].nodes[1] = trie_nodes(t, family, dst);
		h[c].len = frame_build(h[c].frame, family, cases[c].link, src, dst);
	}
}

/* The addresses of FAMILY's hit frames: the same in every case and run. */
static void hit_addresses(const struct testrun *t, int family, uint8_t *src, uint8_t *dst)
{
	uint64_t pick = 0x417 + (uint64_t)family;

	draw_matched(t->cfg, family, &pick, src);
	draw_matched(t->cfg, family, &pick, dst);
}

/* The range id the pinned trie gives ADDR. */
static __u32 range_id(const struct testrun *t, int family, const uint8_t *addr)
{
	struct trie_layout layout = { t->meta.v4_root_bits, t->meta.v6_second_bits };
	unsigned int nodes;

	return trie_lookup(t->trie, layout, family, addr, &nodes);
}

/* The counter index of FAMILY's hit pair. */
static __u32 hit_pair(const struct testrun *t, int family)
{
	uint8_t src[16], dst[16];

	hit_addresses(t, family, src, dst);
	return texporter_counter_index(t->meta.capacity, (__u32)family, range_id(t, family, src),
				       range_id(t, family, dst));
}

static void hit_frames(const struct testrun *t, struct hit_frame *h)
{
	for (int c = 0; c < CASES; c++) {
		int family = cases[c].family;
		uint8_t src[16], dst[16];

		hit_addresses(t, family, src, dst);
		h[c].nodes[0] = trie_nodes(t, family, src);
		h[c].nodes[1] = trie_nodes(t, family, dst);
		if (getenv("BENCH_DEBUG")) {
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
			int af = family == TEXPORTER_IPV4 ? AF_INET : AF_INET6;

			fprintf(stderr, "%s hit case %d: %s (%d nodes) -> %s (%d nodes)\n", t->label, c,
				inet_ntop(af, src, s, sizeof(s)), h[c].nodes[0],
				inet_ntop(af, dst, d, sizeof(d)), h[c].nodes[1]);
		}
		h[c].len = frame_build(h[c].frame, family, cases[c].link, src, dst);
	}
}

/* One hit sample of every subject for case C: REPEAT runs in the kernel,
 * which reports the average; the subjects' order turns each round. */
static void hit_round(const struct testrun *t, struct subject *s, int ns,
		      const struct hit_frame *h, int c, int r, bool miss)
{
	for (int k = 0; k < ns; k++) {
		struct subject *x = &s[(k + r) % ns];
		__u32 d;

		test_run(x->fd, x->xdp, h->frame, h->len, t->repeat, &d);
		if (x->counted)
			x->counted->runs += t->repeat;
		if (miss)
			x->miss[c][r] = d;
		else
			x->hit[c][r] = d;
	}
}

/* Mean of the N per-call times in V, leaving out calls slower than ten
 * times the median: an interrupt or a preemption, not the program. */
static double robust_mean(const double *v, int n, double *scratch)
{
	double limit, sum = 0;
	int kept = 0;

	memcpy(scratch, v, sizeof(double) * (size_t)n);
	limit = 10 * median(scratch, n);
	for (int i = 0; i < n; i++) {
		if (v[i] <= limit) {
			sum += v[i];
			kept++;
		}
	}
	return sum / kept;
}

/* One cold sample of every subject for case C: CALLS new random (src, dst)
 * frames, one run per call. Every frame goes to every subject back to back,
 * in an order that turns with each call, and each call is timed from user
 * space: whatever else the machine does hits all subjects alike. */
static void cold_round(struct testrun *t, struct subject *s, int ns, int c, int r)
{
	int family = cases[c].family;
	size_t calls = (size_t)t->calls;

	for (size_t i = 0; i < calls; i++) {
		uint8_t src[16], dst[16];

		draw_address(t->cfg, family, &t->rng, src);
		draw_address(t->cfg, family, &t->rng, dst);
		t->lengths[i] = frame_build(t->frames + i * FRAME_MAX, family, cases[c].link, src,
					    dst);
	}
	for (size_t i = 0; i < calls; i++) {
		for (int k = 0; k < ns; k++) {
			size_t which = (size_t)((k + (int)(i % (size_t)ns)) % ns);
			double start = now_ns();

			test_run_fast(s[which].fd, t->frames + i * FRAME_MAX, t->lengths[i]);
			t->times[which * calls + i] = now_ns() - start;
			if (s[which].counted)
				s[which].counted->runs++;
		}
	}
	for (int k = 0; k < ns; k++)
		s[k].cold[c][r] = robust_mean(t->times + (size_t)k * calls, t->calls,
					      t->times + (size_t)ns * calls);
}

/* Subjects: [0] texporter, [1] the floor, then references ("lpm-ref",
 * "compare", "fallback", "slots", "nodisc"), each reported against the
 * floor; those marked versus also against texporter, as "PREFIX-vs" rows
 * with texporter in the floor column; those with cost_of the other way
 * round, as "COST_OF-cost" rows with the reference in the floor column. */
/* The samples of WHAT ("hit", "miss" or "cold") of case C of X, and
 * their number. */
static const double *samples(const struct testrun *t, const struct subject *x, const char *what,
			     int c, int *n)
{
	*n = strcmp(what, "cold") ? t->hit_rounds : t->rounds;
	return !strcmp(what, "hit") ? x->hit[c] : !strcmp(what, "miss") ? x->miss[c] : x->cold[c];
}

static void print_rows(const struct testrun *t, const char *hook, const char *what,
		       const char *kase, const struct subject *s, int ns, int c)
{
	const double *floor;
	char section[64];
	int n = 0;

	for (int k = 0; k < ns; k++) {
		if (k == 1)
			continue;
		/* The LPM reference parses IP behind Ethernet and VLAN tags only. */
		if (!strcmp(s[k].prefix, "lpm-ref") && cases[c].link >= LINK_MPLS)
			continue;
		snprintf(section, sizeof(section), "%s%s%s %s", s[k].prefix, *s[k].prefix ? " " : "",
			 hook, what);
		floor = samples(t, &s[1], what, c, &n);
		print_row(t, section, kase, samples(t, &s[k], what, c, &n), floor, n);
		if (s[k].versus) {
			snprintf(section, sizeof(section), "%s-vs %s %s", s[k].prefix, hook, what);
			print_row(t, section, kase, samples(t, &s[k], what, c, &n),
				  samples(t, &s[0], what, c, &n), n);
		}
		if (s[k].cost_of) {
			snprintf(section, sizeof(section), "%s-cost %s %s", s[k].cost_of, hook, what);
			print_row(t, section, kase, samples(t, &s[0], what, c, &n),
				  samples(t, &s[k], what, c, &n), n);
		}
	}
}

/* Rounds outermost, cases inside: every case sees the same mix of the
 * machine's slow and fast phases (a VM's neighbours, frequency changes). */
static void testrun_hook(struct testrun *t, const char *hook, struct subject *s, int ns)
{
	struct hit_frame h[CASES], m[CASES];
	char kase[64];

	hit_frames(t, h);
	miss_frames(t, m);
	for (int r = 0; r < t->hit_rounds; r++)
		for (int c = 0; c < CASES; c++) {
			hit_round(t, s, ns, &h[c], c, r, false);
			hit_round(t, s, ns, &m[c], c, r, true);
		}
	for (int r = 0; r < t->rounds; r++)
		for (int c = 0; c < CASES; c++)
			cold_round(t, s, ns, c, r);
	for (int c = 0; c < CASES; c++) {
		snprintf(kase, sizeof(kase), "%s, trie nodes %d+%d", cases[c].name, h[c].nodes[0],
			 h[c].nodes[1]);
		print_rows(t, hook, "hit", kase, s, ns, c);
		snprintf(kase, sizeof(kase), "%s, both unmatched", cases[c].name);
		print_rows(t, hook, "miss", kase, s, ns, c);
		print_rows(t, hook, "cold", cases[c].name, s, ns, c);
	}
}

/* The frames the data plane under PINS did not count as traffic, ignored
 * ones included: all reasons of its errors map, summed over CPUs. */
static __u64 not_counted(const char *pins)
{
	char path[PATH_MAX];
	int ncpu = libbpf_num_possible_cpus(), fd;
	__u64 sum = 0;

	snprintf(path, sizeof(path), "%s/%s", pins, TEXPORTER_PIN_ERRORS);
	fd = bpf_obj_get(path);
	if (fd < 0 || ncpu < 1)
		die("%s: %s", path, strerror(errno));
	for (__u32 e = 0; e < TEXPORTER_ERR_COUNT; e++) {
		__u64 v[ncpu];

		if (bpf_map_lookup_elem(fd, &e, v))
			die("%s: %s", path, strerror(errno));
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
	}
	close(fd);
	return sum;
}

static void read_meta(const char *pins, struct texporter_meta *meta)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pins, TEXPORTER_PIN_META);
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, meta))
		die("%s: %s", path, strerror(errno));
	close(fd);
}

/* --- what a load counted (layout 2: slots + shared + carry) ---------------- */

/* Pinned map NAME of the load under PINS and its info; -1 when it is absent
 * and OPTIONAL. */
static int pinned_map(const char *pins, const char *name, bool optional, struct bpf_map_info *info)
{
	char path[PATH_MAX];
	__u32 len = sizeof(*info);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pins, name);
	fd = bpf_obj_get(path);
	if (fd < 0 && optional && errno == ENOENT)
		return -1;
	memset(info, 0, sizeof(*info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, info, &len))
		die("%s: %s", path, strerror(errno));
	return fd;
}

/* Adds each CPU's slots of the counters map FD to BY_PAIR under the pair
 * that holds the slot (key - 1). */
static void add_slots(const char *pins, int fd, const struct bpf_map_info *info, __u64 *by_pair,
		      __u32 pairs)
{
	int ncpu = libbpf_num_possible_cpus();
	struct texporter_slot *v = calloc((size_t)ncpu, sizeof(*v));

	if (!v || info->value_size != sizeof(*v))
		die("%s/%s: not a layout-2 counters map (value %u bytes, want %zu)", pins,
		    TEXPORTER_PIN_COUNTERS, info->value_size, sizeof(*v));
	for (__u32 k = 0; k < info->max_entries; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			die("%s/%s: lookup: %s", pins, TEXPORTER_PIN_COUNTERS, strerror(errno));
		for (int c = 0; c < ncpu; c++) {
			if (!v[c].key)
				continue;
			if (v[c].key > pairs)
				die("%s/%s: slot %u of CPU %d holds key %u, past %u pairs", pins,
				    TEXPORTER_PIN_COUNTERS, k, c, v[c].key, pairs);
			by_pair[v[c].key - 1] += v[c].packets;
		}
	}
	free(v);
}

/* Adds the array map NAME (shared or carry: one struct texporter_counter
 * per counter index) to BY_PAIR; returns its pairs with packets and adds
 * their packets to *PACKETS. An absent carry adds nothing. */
static __u32 add_pairs(const char *pins, const char *name, __u64 *by_pair, __u32 pairs,
		       __u64 *packets)
{
	struct bpf_map_info info;
	struct texporter_counter v;
	int fd = pinned_map(pins, name, !strcmp(name, TEXPORTER_PIN_CARRY), &info);
	__u32 nonzero = 0;

	if (fd < 0)
		return 0;
	if (info.max_entries != pairs || info.value_size != sizeof(v))
		die("%s/%s: %u entries of %u bytes, want %u of %zu (ids per axis as meta says)", pins,
		    name, info.max_entries, info.value_size, pairs, sizeof(v));
	for (__u32 k = 0; k < pairs; k++) {
		if (bpf_map_lookup_elem(fd, &k, &v))
			die("%s/%s: lookup: %s", pins, name, strerror(errno));
		by_pair[k] += v.packets;
		nonzero += v.packets != 0;
		*packets += v.packets;
	}
	close(fd);
	return nonzero;
}

struct counts {
	__u64 packets;        /* all pairs, slots + shared + carry */
	__u32 shared_pairs;   /* pairs with packets in shared */
	__u64 shared_packets;
	__u32 capacity;       /* ids per axis */
	__u32 slots;          /* per CPU */
};

/* What the load under PINS has counted, summed by pair as the reader
 * sums it: every CPU's slots by the key they hold, shared, carry. */
static void counts_read(const char *pins, struct counts *out)
{
	struct texporter_meta meta;
	struct bpf_map_info info;
	__u64 *by_pair, carried = 0;
	__u32 pairs;
	int fd;

	read_meta(pins, &meta);
	memset(out, 0, sizeof(*out));
	out->capacity = meta.capacity;
	pairs = texporter_counter_slots(meta.capacity);
	by_pair = calloc(pairs, sizeof(*by_pair));
	if (!by_pair)
		die("out of memory");
	fd = pinned_map(pins, TEXPORTER_PIN_COUNTERS, false, &info);
	out->slots = info.max_entries;
	add_slots(pins, fd, &info, by_pair, pairs);
	close(fd);
	out->shared_pairs =
		add_pairs(pins, TEXPORTER_PIN_SHARED, by_pair, pairs, &out->shared_packets);
	add_pairs(pins, TEXPORTER_PIN_CARRY, by_pair, pairs, &carried);
	for (__u32 k = 0; k < pairs; k++)
		out->packets += by_pair[k];
	free(by_pair);
}

/* Packets of the pair with counter index INDEX in the shared map under PINS. */
static __u64 shared_packets_of(const char *pins, __u32 index)
{
	struct bpf_map_info info;
	struct texporter_counter v;
	int fd = pinned_map(pins, TEXPORTER_PIN_SHARED, false, &info);

	if (bpf_map_lookup_elem(fd, &index, &v))
		die("%s/%s: lookup %u: %s", pins, TEXPORTER_PIN_SHARED, index, strerror(errno));
	close(fd);
	return v.packets;
}

/* Notes what the load in C holds before the runs. */
static void counted_start(struct counted *c)
{
	struct counts n;

	counts_read(c->pins, &n);
	c->not_counted = not_counted(c->pins);
	c->packets = n.packets;
	c->runs = 0;
}

/* Packets of the unmatched prefixes under PINS: in the cache and in the
 * unmatched map (untracked keys aside). False when discovery is off. */
static bool unmatched_packets(const char *pins, __u64 *cache, __u64 *map)
{
	struct bpf_map_info info;
	int ncpu = libbpf_num_possible_cpus();
	int fd = pinned_map(pins, TEXPORTER_PIN_UNMATCHED_CACHE, true, &info);
	struct texporter_unmatched_key key, next;
	void *prev = NULL;

	*cache = *map = 0;
	if (fd < 0)
		return false;
	for (__u32 i = 0; i < info.max_entries; i++) {
		struct texporter_unmatched_slot s[ncpu];

		if (bpf_map_lookup_elem(fd, &i, s))
			die("%s/%s: %s", pins, TEXPORTER_PIN_UNMATCHED_CACHE, strerror(errno));
		for (int c = 0; c < ncpu; c++)
			*cache += s[c].key.untracked ? 0 : s[c].packets;
	}
	close(fd);
	fd = pinned_map(pins, TEXPORTER_PIN_UNMATCHED, false, &info);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct texporter_counter v[ncpu];

		key = next;
		prev = &key;
		if (key.untracked || bpf_map_lookup_elem(fd, &key, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			*map += v[c].packets;
	}
	close(fd);
	return true;
}

/* Dies unless the load in C counted every run it was given exactly once
 * and refused or ignored none (a test frame the parser does not count
 * would be measured on a shorter path than the case says); then prints
 * its "counted" line. */
static void check_all_counted(const struct testrun *t, const struct counted *c)
{
	__u64 now = not_counted(c->pins);
	struct counts n;
	char hit_shared[32] = "";
	__u64 cache, map;

	if (now != c->not_counted)
		die("%s: %llu test frames not counted as traffic (see the errors map): a bench frame is wrong",
		    c->pins, (unsigned long long)(now - c->not_counted));
	counts_read(c->pins, &n);
	if (n.packets - c->packets != c->runs)
		die("%s: counters (slots + shared + carry) grew by %llu packets for %llu test runs: a count was lost or doubled",
		    c->pins, (unsigned long long)(n.packets - c->packets),
		    (unsigned long long)c->runs);
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		if (shared_packets_of(c->pins, hit_pair(t, f)))
			strcat(hit_shared, f == TEXPORTER_IPV4 ? " ipv4" : " ipv6");
	printf("counted\t%s\t%llu\t%u\t%llu\t%u\t%u\t%s\n", *c->prefix ? c->prefix : "texporter",
	       (unsigned long long)c->runs, n.shared_pairs, (unsigned long long)n.shared_packets,
	       n.capacity, n.slots, *hit_shared ? hit_shared + 1 : "none");
	if (unmatched_packets(c->pins, &cache, &map))
		printf("unmatched\t%s\t%llu\t%llu\n", *c->prefix ? c->prefix : "texporter",
		       (unsigned long long)cache, (unsigned long long)map);
	fflush(stdout);
}

/* The trie as the data plane sees it: the pinned ranges map, mmapped. */
static const uint32_t *trie_map(const char *pins)
{
	char path[PATH_MAX];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	void *mem;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pins, TEXPORTER_PIN_RANGES);
	fd = bpf_obj_get(path);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		die("%s: %s", path, strerror(errno));
	mem = mmap(NULL, (size_t)info.max_entries * info.value_size, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	close(fd);
	return mem;
}

static long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long memlock = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %ld", &memlock) == 1)
			break;
	fclose(f);
	return memlock;
}

/* Sizes and fills the reference program's LPM tries from the config. */
static struct bpf_object *lpm_load(const char *path, const struct config *cfg)
{
	static const char *const maps[] = { "lpm4", "lpm6" };
	struct bpf_object *obj = object_open(path);
	double start;
	long memlock = 0;

	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, maps[f]);
		size_t n = cfg->fam[f].n;

		if (!m || bpf_map__set_max_entries(m, n ? (__u32)n : 1))
			die("%s: map %s", path, maps[f]);
	}
	if (bpf_object__load(obj))
		die("%s: cannot load: %s", path, strerror(errno));
	start = now_ns();
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		int fd = bpf_map__fd(bpf_object__find_map_by_name(obj, maps[f]));

		for (size_t i = 0; i < cfg->fam[f].n; i++) {
			const struct prefix *p = &cfg->fam[f].p[i];
			struct {
				__u32 prefixlen;
				__u8 addr[16];
			} key = { .prefixlen = p->len };
			__u32 id = p->name + 1u;

			memcpy(key.addr, p->addr, sizeof(key.addr));
			if (bpf_map_update_elem(fd, &key, &id, BPF_ANY))
				die("lpm fill: %s", strerror(errno));
		}
		memlock += fdinfo_memlock(fd);
	}
	printf("lpm\t%s\t%ld\t%.0f\n", "fill", memlock, (now_ns() - start) / 1e6);
	return obj;
}

static void pin_to_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)(n > 1 ? n - 1 : 0), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The first address of NAME's first prefix of FAMILY; false when it has none. */
static bool address_of_name(const struct config *cfg, int family, size_t name, uint8_t *out)
{
	const struct prefixes *ps = &cfg->fam[family];

	for (size_t i = 0; i < ps->n; i++) {
		if (ps->p[i].name == name) {
			memcpy(out, ps->p[i].addr, 16);
			out[family == TEXPORTER_IPV4 ? 3 : 15] |= 1;
			return true;
		}
	}
	return false;
}

/* An address of FAMILY that the pinned trie classifies as each range id
 * the config has (the unmatched one included), with the id: *N of them. */
struct classified {
	uint8_t addr[16];
	__u32 id;
};

static struct classified *classified_addresses(const struct testrun *t, int family, size_t *n)
{
	struct classified *a = calloc(t->cfg->n_names + 1, sizeof(*a));
	uint64_t pick = 0xc1a1;

	if (!a)
		die("out of memory");
	draw_unmatched(t, family, &pick, a[0].addr);
	*n = 1;
	for (size_t i = 0; i < t->cfg->n_names; i++) {
		if (!address_of_name(t->cfg, family, i, a[*n].addr))
			continue;
		a[*n].id = range_id(t, family, a[*n].addr);
		++*n;
	}
	return a;
}

/* With fewer slots than pairs (--slots-pins), a hit pair holds its slot
 * unless another pair claimed it first. To measure the costlier path, the
 * shared map's atomic add, one frame of a pair whose slot is the hit
 * pair's goes to PROG (texporter's XDP program of the load in C) before
 * the runs, on this CPU, where every run is made. A config with few ids
 * may have no such pair: the "counted" line says where the hit pairs went. */
static void claim_hit_slots(const struct testrun *t, struct counted *c, int prog)
{
	struct bpf_map_info info;
	struct classified *a[TEXPORTER_FAMILY_COUNT];
	size_t n[TEXPORTER_FAMILY_COUNT];
	__u32 cap = t->meta.capacity, slots, bits;
	int fd = pinned_map(c->pins, TEXPORTER_PIN_COUNTERS, false, &info);

	close(fd);
	slots = info.max_entries; /* a power of two */
	bits = (__u32)__builtin_ctz(slots);
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		a[f] = classified_addresses(t, f, &n[f]);
	for (int h = 0; h < TEXPORTER_FAMILY_COUNT; h++) {
		__u32 hit = hit_pair(t, h), slot = texporter_slot_of(hit, cap, slots, bits);
		bool claimed = false;

		for (int f = 0; f < TEXPORTER_FAMILY_COUNT && !claimed; f++)
			for (size_t i = 0; i < n[f] * n[f] && !claimed; i++) {
				const struct classified *src = &a[f][i / n[f]], *dst = &a[f][i % n[f]];
				__u32 q = texporter_counter_index(cap, (__u32)f, src->id, dst->id);
				uint8_t frame[FRAME_MAX];

				if (q == hit || texporter_slot_of(q, cap, slots, bits) != slot)
					continue;
				test_run(prog, true, frame,
					 frame_build(frame, f, LINK_PLAIN, src->addr, dst->addr), 1, NULL);
				c->runs++;
				claimed = true;
			}
	}
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		free(a[f]);
}

/* The prefix lengths of the unmatched map under PINS, by family: false
 * when discovery is off there. */
static bool unmatched_lengths(const char *pins, unsigned len[TEXPORTER_FAMILY_COUNT])
{
	struct bpf_map_info info;
	int fd = pinned_map(pins, TEXPORTER_PIN_UNMATCHED, true, &info);

	if (fd < 0)
		return false;
	close(fd);
	return sscanf(info.name, TEXPORTER_UNMATCHED_NAME_FMT, &len[0], &len[1]) == 2;
}

/* ADDR's unmatched key on SIDE, with LEN[family] bits kept, as the data
 * plane makes it. */
static struct texporter_unmatched_key unmatched_key(int family, int side, const uint8_t *addr,
						   const unsigned len[TEXPORTER_FAMILY_COUNT])
{
	struct texporter_unmatched_key k = { .family = (__u8)family, .side = (__u8)side,
					     .len = (__u8)len[family] };
	uint8_t *a = (uint8_t *)k.addr;

	for (unsigned b = 0; b < (family == TEXPORTER_IPV4 ? 4u : 16u); b++) {
		unsigned bits = len[family] <= 8 * b ? 0 : len[family] - 8 * b;

		a[b] = bits >= 8 ? addr[b] : (uint8_t)(addr[b] & (0xff00 >> bits));
	}
	return k;
}

/* An unmatched address other than ADDR whose prefix on SIDE has the cache
 * slot of ADDR's. */
static void unmatched_colliding(const struct testrun *t, int family, int side, const uint8_t *addr,
				const unsigned len[TEXPORTER_FAMILY_COUNT], uint8_t *out)
{
	struct texporter_unmatched_key want = unmatched_key(family, side, addr, len), k;
	uint64_t pick = 0xc011 + (uint64_t)side;

	do {
		draw_unmatched(t, family, &pick, out);
		k = unmatched_key(family, side, out, len);
	} while (!memcmp(&k, &want, sizeof(k)) ||
		 texporter_unmatched_slot_of(&k) != texporter_unmatched_slot_of(&want));
}

/* On the --slots-pins load, the miss frames' unmatched prefixes find
 * their cache slots held, so its miss rows measure the path of a prefix
 * the cache cannot take (the unmatched map's hash lookup). Before the
 * runs, one frame whose two prefixes have the slots of a miss frame's
 * goes to PROG on this CPU, where every run is made (the cache is per
 * CPU). */
static void claim_miss_slots(const struct testrun *t, struct counted *c, int prog)
{
	unsigned len[TEXPORTER_FAMILY_COUNT];

	if (!unmatched_lengths(c->pins, len))
		return;
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		uint8_t src[16], dst[16], claim_src[16], claim_dst[16], frame[FRAME_MAX];

		miss_addresses(t, f, src, dst);
		unmatched_colliding(t, f, TEXPORTER_SIDE_SRC, src, len, claim_src);
		unmatched_colliding(t, f, TEXPORTER_SIDE_DST, dst, len, claim_dst);
		test_run(prog, true, frame, frame_build(frame, f, LINK_PLAIN, claim_src, claim_dst),
			 1, NULL);
		c->runs++;
	}
}

/* Adds the XDP and TC programs of the texporter load under PINS as
 * subjects PREFIX (VERSUS: also against texporter; COST_OF: texporter
 * also against it; COUNTED: checked). */
static void add_load(struct subject *xdp, int *nx, struct subject *tc, int *nt, const char *prefix,
		     const char *pins, bool versus, const char *cost_of, struct counted *counted)
{
	xdp[(*nx)++] = (struct subject){ .prefix = prefix, .xdp = true, .versus = versus,
					 .cost_of = cost_of, .counted = counted,
					 .fd = prog_of_link(pins, TEXPORTER_PIN_LINK_INGRESS) };
	tc[(*nt)++] = (struct subject){ .prefix = prefix, .versus = versus, .cost_of = cost_of,
					.counted = counted,
					.fd = prog_of_link(pins, TEXPORTER_PIN_LINK_EGRESS) };
}

static int cmd_testrun(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pins", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'L' },
		{ "floor-obj", required_argument, NULL, 'f' },
		{ "floor-if", required_argument, NULL, 'F' },
		{ "lpm-obj", required_argument, NULL, 'l' },
		{ "lpm-if", required_argument, NULL, 'I' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "calls", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "hit-rounds", required_argument, NULL, 'H' },
		{ "compare-pins", required_argument, NULL, 'C' },
		{ "fallback-pins", required_argument, NULL, 'B' },
		{ "slots-pins", required_argument, NULL, 'S' },
		{ "nodisc-pins", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pins = NULL, *config = NULL, *floor_obj = NULL, *floor_if = NULL;
	const char *lpm_obj = NULL, *lpm_if = NULL, *compare = NULL, *fallback = NULL;
	const char *slots = NULL, *nodisc = NULL;
	struct counted loads[4]; /* texporter, fallback, slots, nodisc */
	struct testrun t = { .label = "config", .rounds = 21, .hit_rounds = 101, .calls = 40000,
			     .repeat = 20000, .rng = 0x7e57 };
	struct bpf_object *floor, *lpm = NULL;
	struct config cfg;
	int opt, links[2];

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': pins = optarg; break;
		case 'c': config = optarg; break;
		case 'L': t.label = optarg; break;
		case 'f': floor_obj = optarg; break;
		case 'F': floor_if = optarg; break;
		case 'l': lpm_obj = optarg; break;
		case 'I': lpm_if = optarg; break;
		case 'r': t.rounds = atoi(optarg); break;
		case 'n': t.calls = atoi(optarg); break;
		case 'R': t.repeat = (__u32)atoi(optarg); break;
		case 'H': t.hit_rounds = atoi(optarg); break;
		case 'C': compare = optarg; break;
		case 'B': fallback = optarg; break;
		case 'S': slots = optarg; break;
		case 'D': nodisc = optarg; break;
		default: return 2;
		}
	}
	if (!pins || !config || !floor_obj || !floor_if || (lpm_obj && !lpm_if) ||
	    t.rounds < 1 || t.rounds > MAX_ROUNDS || t.hit_rounds < 1 ||
	    t.hit_rounds > MAX_ROUNDS || t.calls < 1 || t.repeat < 1) {
		fprintf(stderr, "bench testrun: see the usage at the top of tests/bench/bench.c\n");
		return 2;
	}
	config_load(config, &cfg);
	t.cfg = &cfg;
	t.trie = trie_map(pins);
	read_meta(pins, &t.meta);
	t.frames = malloc((size_t)t.calls * FRAME_MAX);
	t.lengths = malloc((size_t)t.calls * sizeof(*t.lengths));
	/* One column per subject, one for robust_mean's scratch. */
	t.times = malloc((size_t)t.calls * (MAX_SUBJECTS + 1) * sizeof(*t.times));
	if (!t.frames || !t.lengths || !t.times)
		die("out of memory");

	floor = object_open(floor_obj);
	if (bpf_object__load(floor))
		die("%s: cannot load: %s", floor_obj, strerror(errno));
	/* XDP test runs are fast only for programs attached somewhere. */
	links[0] = attach_xdp(object_prog(floor, "floor_xdp"), floor_if);
	links[1] = -1;
	if (lpm_obj) {
		lpm = lpm_load(lpm_obj, &cfg);
		links[1] = attach_xdp(object_prog(lpm, "lpm_xdp"), lpm_if);
	}
	pin_to_cpu();

	{
		struct subject xdp[MAX_SUBJECTS] = {
			{ .prefix = "", .fd = prog_of_link(pins, TEXPORTER_PIN_LINK_INGRESS), .xdp = true,
			  .counted = &loads[0] },
			{ .prefix = "floor", .fd = object_prog(floor, "floor_xdp"), .xdp = true },
		};
		struct subject tc[MAX_SUBJECTS] = {
			{ .prefix = "", .fd = prog_of_link(pins, TEXPORTER_PIN_LINK_EGRESS),
			  .counted = &loads[0] },
			{ .prefix = "floor", .fd = object_prog(floor, "floor_tc") },
		};
		int nx = 2, nt = 2, nl = 1;

		loads[0] = (struct counted){ .prefix = "", .pins = pins };
		if (lpm)
			xdp[nx++] = (struct subject){ .prefix = "lpm-ref", .xdp = true,
						      .fd = object_prog(lpm, "lpm_xdp") };
		/* Another build's maps may be laid out otherwise: not checked. */
		if (compare)
			add_load(xdp, &nx, tc, &nt, "compare", compare, false, NULL, NULL);
		if (fallback) {
			loads[nl] = (struct counted){ .prefix = "fallback", .pins = fallback };
			add_load(xdp, &nx, tc, &nt, "fallback", fallback, true, NULL, &loads[nl++]);
		}
		if (slots) {
			loads[nl] = (struct counted){ .prefix = "slots", .pins = slots };
			add_load(xdp, &nx, tc, &nt, "slots", slots, true, NULL, &loads[nl++]);
		}
		for (int i = 0; i < nl; i++)
			counted_start(&loads[i]);
		if (slots) {
			claim_hit_slots(&t, &loads[nl - 1], xdp[nx - 1].fd);
			claim_miss_slots(&t, &loads[nl - 1], xdp[nx - 1].fd);
		}
		if (nodisc) {
			loads[nl] = (struct counted){ .prefix = "nodisc", .pins = nodisc };
			counted_start(&loads[nl]);
			add_load(xdp, &nx, tc, &nt, "nodisc", nodisc, false, "discovery",
				 &loads[nl++]);
		}
		testrun_hook(&t, "xdp", xdp, nx);
		testrun_hook(&t, "tc", tc, nt);
		for (int i = 0; i < nl; i++)
			check_all_counted(&t, &loads[i]);
	}
	for (int i = 0; i < 2; i++)
		if (links[i] >= 0)
			close(links[i]);
	bpf_object__close(lpm);
	bpf_object__close(floor);
	return 0;
}

/* --- populate ----------------------------------------------------------------- */

static int cmd_populate(int argc, char **argv)
{
	/* Outside every generated range: classified as unmatched. */
	static const uint8_t unmatched[2][16] = {
		{ 192, 0, 2, 1 },
		{ 0x3f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	};
	const char *pins = argc > 1 ? argv[1] : NULL, *config = argc > 2 ? argv[2] : NULL;
	struct config cfg;
	size_t runs = 0;
	int prog;

	if (argc != 3) {
		fprintf(stderr, "usage: bench populate PIN_DIR CONFIG\n");
		return 2;
	}
	config_load(config, &cfg);
	prog = prog_of_link(pins, TEXPORTER_PIN_LINK_INGRESS);
	for (int f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		/* index 0: unmatched, then the names in config order */
		for (size_t s = 0; s <= cfg.n_names; s++) {
			uint8_t src[16];

			if (s ? !address_of_name(&cfg, f, s - 1, src) : !memcpy(src, unmatched[f], 16))
				continue;
			for (size_t d = 0; d <= cfg.n_names; d++) {
				uint8_t dst[16], frame[FRAME_MAX];

				if (d ? !address_of_name(&cfg, f, d - 1, dst) :
					!memcpy(dst, unmatched[f], 16))
					continue;
				test_run(prog, true, frame,
					 frame_build(frame, f, LINK_PLAIN, src, dst), 1, NULL);
				runs++;
			}
		}
	}
	printf("populated %zu counters\n", runs);
	return 0;
}

/* --- attach-floor --------------------------------------------------------------- */

static void pin_or_die(int fd, const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path))
		die("pin %s: %s", path, strerror(errno));
}

static int cmd_attach_floor(int argc, char **argv)
{
	struct bpf_object *obj;
	int xdp_link, tc_link;

	if (argc != 4) {
		fprintf(stderr, "usage: bench attach-floor OBJ IFACE PIN_DIR\n");
		return 2;
	}
	obj = object_open(argv[1]);
	if (bpf_object__load(obj))
		die("%s: cannot load: %s", argv[1], strerror(errno));
	xdp_link = attach_xdp(object_prog(obj, "floor_xdp"), argv[2]);
	tc_link = bpf_link_create(object_prog(obj, "floor_tc"), ifindex_of(argv[2]),
				  (enum bpf_attach_type)ATTACH_TYPE_TCX_EGRESS, NULL);
	if (tc_link < 0)
		die("%s: cannot attach TCX egress: %s", argv[2], strerror(errno));
	if (mkdir(argv[3], 0700) && errno != EEXIST)
		die("%s: %s", argv[3], strerror(errno));
	pin_or_die(xdp_link, argv[3], TEXPORTER_PIN_LINK_INGRESS);
	pin_or_die(tc_link, argv[3], TEXPORTER_PIN_LINK_EGRESS);
	bpf_object__close(obj);
	return 0;
}

/* --- time ------------------------------------------------------------------------- */

static int cmd_time(int argc, char **argv)
{
	const char *netns = NULL, *out = "/dev/null";
	struct rusage ru;
	double start, wall;
	int i = 1, status;
	pid_t pid;

	for (; i < argc && strcmp(argv[i], "--"); i += 2) {
		if (i + 1 >= argc)
			return 2;
		if (!strcmp(argv[i], "--netns"))
			netns = argv[i + 1];
		else if (!strcmp(argv[i], "--stdout"))
			out = argv[i + 1];
		else
			return 2;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: bench time [--netns PATH] [--stdout FILE] -- CMD [ARG...]\n");
		return 2;
	}
	start = now_ns();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd;

		if (netns) {
			fd = open(netns, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET))
				die("%s: %s", netns, strerror(errno));
		}
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			die("%s: %s", out, strerror(errno));
		execvp(argv[i + 1], argv + i + 1);
		die("%s: %s", argv[i + 1], strerror(errno));
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		die("wait4: %s", strerror(errno));
	wall = (now_ns() - start) / 1e6;
	printf("%.3f %ld %d\n", wall, ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* --- counters: the counter layouts of tests/bench/counters.bpf.c ------------ */

#define CNT_CAPACITY 256u /* as counters.bpf.c */
#define CNT_SLOT_BITS 11u
#define CNT_PAIRS (TEXPORTER_FAMILY_COUNT * CNT_CAPACITY * CNT_CAPACITY)
#define CNT_STRIPES 16u /* as counters.bpf.c */
#define CNT_LAYOUTS 5
#define CNT_CASES 3
#define CNT_BOTH_LONGER 10 /* two-CPU runs take REPEAT x this, to overlap */

static const char *const cnt_progs[CNT_LAYOUTS] = {
	"cnt_percpu", "cnt_shared", "cnt_cache", "cnt_indirect", "cnt_striped",
};

struct cnt_bench {
	struct bpf_object *obj;
	int floor, progs[CNT_LAYOUTS];
	uint8_t frames[CNT_CASES][FRAME_MAX];
	size_t lengths[CNT_CASES];
	__u32 repeat;
	__u64 runs[CNT_LAYOUTS]; /* packets each layout was given */
	double overlap;          /* sum of cnt_overlap() over both_runs */
	int both_runs;
};

/* The IPv4 frame whose pair counters.bpf.c takes as (SRC, DST). */
static size_t cnt_frame(uint8_t *f, uint8_t src, uint8_t dst)
{
	uint8_t s[16] = { 192, 0, 2, src }, d[16] = { 198, 51, 100, dst };

	return frame_build(f, TEXPORTER_IPV4, LINK_PLAIN, s, d);
}

static __u32 cnt_cache_slot(__u32 index)
{
	return texporter_slot_of(index, CNT_CAPACITY, 1u << CNT_SLOT_BITS, CNT_SLOT_BITS);
}

static void cnt_size(struct bpf_object *obj, const char *map, __u32 entries)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, map);

	if (!m || bpf_map__set_max_entries(m, entries))
		die("counters.bpf.o: map %s", map);
}

static void cnt_open(struct cnt_bench *b, const char *path)
{
	b->obj = object_open(path);
	cnt_size(b->obj, "percpu", CNT_PAIRS);
	cnt_size(b->obj, "shared", CNT_PAIRS);
	cnt_size(b->obj, "pair_slot", CNT_PAIRS);
	cnt_size(b->obj, "striped", CNT_STRIPES * CNT_PAIRS);
	cnt_size(b->obj, "cache", 1u << CNT_SLOT_BITS);
	cnt_size(b->obj, "slots", 1u << CNT_SLOT_BITS);
	if (bpf_object__load(b->obj))
		die("%s: cannot load: %s", path, strerror(errno));
	b->floor = object_prog(b->obj, "cnt_floor");
	for (int i = 0; i < CNT_LAYOUTS; i++)
		b->progs[i] = object_prog(b->obj, cnt_progs[i]);
}

/* Memory of each map: memlock from fdinfo, and per CPU for per-CPU maps. */
static void cnt_memory(const struct cnt_bench *b)
{
	static const char *const maps[] = { "percpu", "shared", "cache", "pair_slot", "slots",
					    "striped" };

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(b->obj, maps[i]);
		bool percpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY;
		__u64 per_cpu = percpu ? (__u64)(bpf_map__value_size(m) + 7) / 8 * 8 *
						 bpf_map__max_entries(m) : 0;

		printf("mem\t%s\t%ld\t%llu\t%u\t%u\n", maps[i], fdinfo_memlock(bpf_map__fd(m)),
		       (unsigned long long)per_cpu, bpf_map__max_entries(m), bpf_map__value_size(m));
	}
}

/* Pair (3, 7) always; a second pair whose cache slot is the first one's,
 * so that cnt_cache takes its fallback for it; a third one that comes
 * only after cnt_indirect has handed out its last slot (cnt_slots_full). */
static void cnt_frames(struct cnt_bench *b)
{
	__u32 first = texporter_counter_index(CNT_CAPACITY, TEXPORTER_IPV4, 3, 7);

	b->lengths[0] = cnt_frame(b->frames[0], 3, 7);
	b->lengths[2] = cnt_frame(b->frames[2], 200, 201);
	for (__u32 s = 0; s < CNT_CAPACITY; s++)
		for (__u32 d = 0; d < CNT_CAPACITY; d++)
			if ((s != 3 || d != 7) &&
			    cnt_cache_slot(texporter_counter_index(CNT_CAPACITY, TEXPORTER_IPV4, s, d)) ==
				    cnt_cache_slot(first)) {
				b->lengths[1] = cnt_frame(b->frames[1], (uint8_t)s, (uint8_t)d);
				return;
			}
	die("no pair shares a cache slot with (3, 7)");
}

/* The same program on both CPUs at once, on frame F: the cost per run
 * when two CPUs count one pair (what a shared line costs). */
struct cnt_thread {
	const struct cnt_bench *b;
	pthread_barrier_t *start_line;
	int prog, cpu;
	__u32 duration;
	double start, end; /* wall clock around the test run */
	const uint8_t *frame;
	size_t len;
};

static void *cnt_thread_run(void *arg)
{
	struct cnt_thread *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(t->start_line);
	t->start = now_ns();
	test_run(t->prog, false, t->frame, t->len, t->b->repeat * CNT_BOTH_LONGER, &t->duration);
	t->end = now_ns();
	return NULL;
}

/* The share of the longer run during which both ran (1 = all of it). */
static double cnt_overlap(const struct cnt_thread *t)
{
	double both = fmin(t[0].end, t[1].end) - fmax(t[0].start, t[1].start);

	return fmax(both, 0) / fmax(t[0].end - t[0].start, t[1].end - t[1].start);
}

static double cnt_both_cpus(struct cnt_bench *b, int prog, int layout)
{
	struct cnt_thread t[2];
	pthread_barrier_t start_line;
	pthread_t th;

	pthread_barrier_init(&start_line, NULL, 2);
	for (int i = 0; i < 2; i++)
		t[i] = (struct cnt_thread){ .b = b, .start_line = &start_line, .prog = prog, .cpu = i,
					    .frame = b->frames[0], .len = b->lengths[0] };
	if (pthread_create(&th, NULL, cnt_thread_run, &t[0]))
		die("pthread_create failed");
	cnt_thread_run(&t[1]);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&start_line);
	b->overlap += cnt_overlap(t);
	b->both_runs++;
	if (layout >= 0)
		b->runs[layout] += 2ull * b->repeat * CNT_BOTH_LONGER;
	return (t[0].duration + t[1].duration) / 2.0;
}

/* Hands out every slot of cnt_indirect but the ones taken, as if other
 * pairs had taken them. */
static void cnt_slots_full(const struct cnt_bench *b)
{
	struct bpf_map *m = bpf_object__find_map_by_name(b->obj, "claims");
	struct {
		__u32 lock;
		__u32 next;
	} claim = { 0, (1u << CNT_SLOT_BITS) - 1 };
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(m), &zero, &claim, BPF_ANY))
		die("claims: update: %s", strerror(errno));
}

static double cnt_one(struct cnt_bench *b, int prog, int layout, int kase)
{
	__u32 d;

	test_run(prog, false, b->frames[kase], b->lengths[kase], b->repeat, &d);
	if (layout >= 0)
		b->runs[layout] += b->repeat;
	return d;
}

/* Packets counted in map NAME: per-CPU maps summed over the CPUs. */
static __u64 cnt_packets(const struct cnt_bench *b, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(b->obj, name);
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(m);
	bool percpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY;
	size_t stride = (bpf_map__value_size(m) + 7) / 8 * 8;
	size_t off = bpf_map__value_size(m) == sizeof(struct texporter_counter) ? 8 : 16;
	uint8_t *v = malloc(stride * (size_t)(percpu ? ncpu : 1));
	__u64 sum = 0;

	if (!v)
		die("out of memory");
	for (__u32 k = 0; k < bpf_map__max_entries(m); k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			die("%s: lookup: %s", name, strerror(errno));
		for (int c = 0; c < (percpu ? ncpu : 1); c++) {
			__u64 p;

			memcpy(&p, v + (size_t)c * stride + off, sizeof(p));
			sum += p;
		}
	}
	free(v);
	return sum;
}

/* Every layout counted each run exactly once: today's and the striped one
 * alone in their maps, the others together in their own maps plus the
 * shared one. */
static void cnt_check_exact(const struct cnt_bench *b)
{
	__u64 percpu = cnt_packets(b, "percpu");
	__u64 striped = cnt_packets(b, "striped");
	__u64 rest = cnt_packets(b, "shared") + cnt_packets(b, "cache") + cnt_packets(b, "slots");
	__u64 want = b->runs[1] + b->runs[2] + b->runs[3];

	if (percpu != b->runs[0] || striped != b->runs[4] || rest != want)
		die("counters: not exact: percpu %llu of %llu, striped %llu of %llu, others %llu of %llu",
		    (unsigned long long)percpu, (unsigned long long)b->runs[0],
		    (unsigned long long)striped, (unsigned long long)b->runs[4],
		    (unsigned long long)rest, (unsigned long long)want);
	printf("exact\t%llu\n", (unsigned long long)(percpu + striped + rest));
}

static void cnt_print(const char *kase, const char *layout, double *prog, double *over, int n,
		      double floor)
{
	printf("row\tcounters\t%s\t%s\t%.1f\t%.1f\t%.1f\n", kase, layout, median(prog, n), floor,
	       median(over, n));
}

static int cmd_counters(int argc, char **argv)
{
	static const char *const kases[CNT_CASES] = {
		"one pair", "pair's cache slot taken", "new pair, no slot left",
	};
	struct cnt_bench b = { .repeat = 20000 };
	int rounds = 101;
	static double prog[CNT_CASES + 1][CNT_LAYOUTS][MAX_ROUNDS];
	static double over[CNT_CASES + 1][CNT_LAYOUTS][MAX_ROUNDS];
	double floors[CNT_CASES + 1][MAX_ROUNDS];

	if (argc != 4 || (rounds = atoi(argv[2])) < 1 || rounds > MAX_ROUNDS ||
	    (b.repeat = (__u32)atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: bench counters OBJ ROUNDS REPEAT\n");
		return 2;
	}
	cnt_open(&b, argv[1]);
	cnt_memory(&b);
	cnt_frames(&b);
	/* The pair of case 0 takes its slots first, as the busiest pair would;
	 * then case 1's pair; case 2's comes when no slot is left. */
	for (int k = 0; k < 2; k++)
		for (int l = 0; l < CNT_LAYOUTS; l++)
			cnt_one(&b, b.progs[l], l, k);
	cnt_slots_full(&b);
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < CNT_CASES; k++) {
			floors[k][r] = cnt_one(&b, b.floor, -1, k);
			for (int l = 0; l < CNT_LAYOUTS; l++) {
				prog[k][l][r] = cnt_one(&b, b.progs[l], l, k);
				over[k][l][r] = prog[k][l][r] - floors[k][r];
			}
		}
		floors[CNT_CASES][r] = cnt_both_cpus(&b, b.floor, -1);
		for (int l = 0; l < CNT_LAYOUTS; l++) {
			prog[CNT_CASES][l][r] = cnt_both_cpus(&b, b.progs[l], l);
			over[CNT_CASES][l][r] = prog[CNT_CASES][l][r] - floors[CNT_CASES][r];
		}
	}
	for (int k = 0; k <= CNT_CASES; k++) {
		double floor = median(floors[k], rounds);

		for (int l = 0; l < CNT_LAYOUTS; l++)
			cnt_print(k < CNT_CASES ? kases[k] : "one pair, 2 CPUs at once",
				  cnt_progs[l] + 4, prog[k][l], over[k][l], rounds, floor);
	}
	printf("overlap\t%.2f\n", b.overlap / b.both_runs);
	cnt_check_exact(&b);
	bpf_object__close(b.obj);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} cmds[] = {
		{ "testrun", cmd_testrun },
		{ "populate", cmd_populate },
		{ "attach-floor", cmd_attach_floor },
		{ "time", cmd_time },
		{ "counters", cmd_counters },
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "usage: bench testrun|populate|attach-floor|time|counters ... (see tests/bench/bench.c)\n");
	return 2;
}
