// SPDX-License-Identifier: Apache-2.0
/* --status: what is attached where, how full the maps are, what the data
 * plane could not count, and whether the interface is still the one the
 * programs were attached to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <net/if.h>

#include "counters.h"
#include "journal.h"
#include "load.h"
#include "log.h"
#include "pindir.h"
#include "state.h"
#include "unmatched.h"

static const char *format_time(__u64 t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "never");
	return buf;
}

static void print_interface_health(const struct state *s, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	char now_named[IF_NAMESIZE];
	struct ifreq ifr = { 0 };
	int sock;

	if (!ifindex && if_indextoname(s->meta.ifindex, now_named)) {
		printf("  interface: renamed to %s (ifindex %u); counting goes on under iface=\"%s\"; to count under the new name: texporter-load --detach -i %s, then load -i %s\n",
		       now_named, s->meta.ifindex, ifname, ifname, now_named);
		return;
	}
	if (!ifindex) {
		printf("  interface: missing (was ifindex %u); texporter-load --detach -i %s cleans up, a reload attaches again once it is back\n",
		       s->meta.ifindex, ifname);
		return;
	}
	if ((__u32)ifindex != s->meta.ifindex) {
		printf("  interface: recreated (ifindex %d, programs were attached to %u); reload to attach again\n",
		       ifindex, s->meta.ifindex);
		return;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0)
		printf("  interface: present (ifindex %d), %s\n", ifindex,
		       (ifr.ifr_flags & IFF_UP) ? "up" : "down");
	if (sock >= 0)
		close(sock);
	for (int dir = 0; dir < 2; dir++) {
		if (s->att[dir].how != TEXPORTER_ATTACH_TC_LEGACY && !state_attached(s, dir, ifindex))
			printf("  %s: not attached any more; reload to attach again\n",
			       dir == DIR_INGRESS ? "ingress" : "egress");
	}
}

static void print_counters(const struct state *s)
{
	struct counters_usage u;

	if (s->meta.layout_version == TEXPORTER_LAYOUT_DENSE) {
		printf("  counters: layout %u of an older texporter-load; texporter-read needs layout %u: load again to convert (counts are kept)\n",
		       s->meta.layout_version, (unsigned)TEXPORTER_LAYOUT_VERSION);
		return;
	}
	if (counters_usage(s, &u)) {
		printf("  counters: unreadable: %s\n", strerror(errno));
		return;
	}
	printf("  counters: %u slots per CPU, %u held; %u pairs counted in the shared map%s; %.1f %s of kernel memory\n",
	       u.slots, u.held, u.shared_pairs, s->pins.carry >= 0 ? "; plus carried totals" : "",
	       u.memory < (1 << 20) ? u.memory / 1024.0 : u.memory / 1048576.0,
	       u.memory < (1 << 20) ? "KiB" : "MiB");
}

static void print_maps(const struct state *s)
{
	const struct texporter_meta *m = &s->meta;
	__u64 errs[TEXPORTER_ERR_COUNT];

	for (__u32 e = 0; e < TEXPORTER_ERR_COUNT; e++)
		percpu_lookup_sum(s->pins.errors, e, &errs[e], 1); /* 0 when unreadable */
	printf("  ranges: %u of %u ids (unmatched: \"%s\"); prefixes: ipv4 %u, ipv6 %u\n",
	       m->ranges, m->capacity, s->names[0].name, m->prefixes[TEXPORTER_IPV4],
	       m->prefixes[TEXPORTER_IPV6]);
	print_counters(s);
	unmatched_status(s->dir);
	printf("  trie: %u entries (%u KiB) in a map of %u KiB, first strides ipv4 %u, ipv6 16+%u\n",
	       m->trie_used, m->trie_used / 256, m->trie_entries / 256, m->v4_root_bits,
	       m->v6_second_bits);
	printf("  not counted: truncated %llu, malformed %llu, length mismatch %llu, ignored non-IP %llu\n",
	       (unsigned long long)errs[TEXPORTER_ERR_TRUNCATED],
	       (unsigned long long)errs[TEXPORTER_ERR_MALFORMED],
	       (unsigned long long)errs[TEXPORTER_ERR_LENGTH],
	       (unsigned long long)errs[TEXPORTER_ERR_NON_IP]);
}

static int status_interface(const char *root, const char *ifname)
{
	char dir[PATH_MAX], t1[32], t2[32], dataplane[96];
	struct state s;
	int rc = EXIT_OK;

	if (pindir_path(dir, root, ifname) || journal_recover(dir, ifname))
		return EXIT_RUNTIME;
	if (!pindir_exists(dir)) {
		printf("%s: not loaded\n", ifname);
		return EXIT_RUNTIME;
	}
	if (state_open(&s, dir) || !s.loaded) {
		state_close(&s);
		return EXIT_RUNTIME;
	}
	printf("%s: ingress %s, egress %s\n", ifname, attach_describe(s.meta.ingress),
	       attach_describe(s.meta.egress));
	printf("  data plane: %s\n", attach_describe_dataplane(&s.meta, dataplane, sizeof(dataplane)));
	print_interface_health(&s, ifname);
	printf("  loaded: %s, last change: %s, reloads: %llu\n",
	       format_time(s.meta.loaded_at, t1, sizeof(t1)),
	       format_time(s.meta.changed_at, t2, sizeof(t2)), (unsigned long long)s.meta.reloads);
	print_maps(&s);
	state_close(&s);
	return rc;
}

/* A change a killed loader left half done is completed or taken back
 * first, under the loaders' lock, so what is described is a whole state. */
static int status_locked(const struct load_options *o)
{
	char **ifaces;
	size_t n;
	int rc = EXIT_OK;

	if (o->ifname)
		return status_interface(o->pin_root, o->ifname);
	if (iface_list(o->pin_root, &ifaces, &n)) {
		if (errno == ENOENT) {
			printf("nothing loaded (no %s)\n", o->pin_root);
			return EXIT_OK;
		}
		log_error("cannot open %s: %s", o->pin_root, strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++)
		if (status_interface(o->pin_root, ifaces[i]) != EXIT_OK)
			rc = EXIT_RUNTIME;
	if (!n)
		printf("nothing loaded (no interface under %s)\n", o->pin_root);
	iface_list_free(ifaces, n);
	return rc;
}

int status_run(const struct load_options *o)
{
	int lock, rc;

	log_route_libbpf();
	if (!pindir_exists(o->pin_root))
		return status_locked(o); /* nothing loaded: nothing to lock */
	lock = pindir_lock(o->pin_root);
	if (lock < 0)
		return EXIT_RUNTIME;
	rc = status_locked(o);
	close(lock);
	return rc;
}
