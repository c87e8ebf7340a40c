// SPDX-License-Identifier: Apache-2.0
/*
 * Load and reload. Everything that can fail for a reason of the config or
 * the kernel (validation, id planning, trie build, program load, trie fill)
 * happens before the running state is touched. A first load attaches, pins
 * everything but meta, and pins meta last: the interface appears to
 * readers whole, or not at all. A reload stages what it installs (new
 * counter maps too when loader/counters.h says so) and writes its intent
 * to the journal (loader/journal.h); then, with meta.seq odd, it writes the new
 * names, switches each direction to the new program in one step and
 * completes (carry, renames, names, meta with seq even). Whatever instant
 * the loader dies at, the next run finds the old state or completes the
 * new one. docs/architecture.md explains why a scrape never sees a half
 * state.
 */
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include "config.h"
#include "counters.h"
#include "group.h"
#include "ids.h"
#include "journal.h"
#include "kernel.h"
#include "hash.h"
#include "log.h"
#include "mapio.h"
#include "percpu.h"
#include "pindir.h"
#include "state.h"
#include "texporter.skel.h"
#include "trie.h"
#include "unmatched.h"

/* Everything one load or reload works with. */
struct job {
	const struct load_options *o;
	struct attach_request req; /* o->attach, as this kernel and interface allow */
	__u32 features;            /* enum texporter_feature */
	struct range_table table;
	struct config cfg;
	struct id_plan plan;
	struct trie trie;
	struct state cur;
	struct texporter_bpf *skel;
	struct attachment att[2];
	bool attached_new[2]; /* attached by this job */
	bool switched[2];     /* switched in place to the new program */
	bool removed_old[2];  /* the previous attachment was taken down */
	int old_prog[2];      /* what ran before, to go back to on failure */
	int ifindex;
	gid_t gid;
	__u32 capacity;
	__u32 slots;  /* per CPU in the counters map after this job */
	bool grow;    /* more ids than the current counter maps hold */
	bool replace; /* new counter maps, the old ones' totals carried */
	__u64 hash;
	struct unmatched_plan unmatched;
	int names_fd; /* the names after this job: pinned by a first load, staged by a reload */
	int meta_fd;  /* a first load's */
};

/* The config, every option that shapes the result of a load, the data
 * plane chosen for this kernel and the BPF object itself: after an
 * upgrade, reloading the same config installs the new programs. */
static __u64 job_hash(const struct job *j)
{
	size_t object_size;
	const void *object = texporter_bpf__elf_bytes(&object_size);
	__u64 h = fnv1a(FNV1A_OFFSET, &j->cfg.hash, sizeof(j->cfg.hash));

	h = fnv1a(h, object, object_size);

	h = fnv1a(h, j->o->unmatched, strlen(j->o->unmatched) + 1);
	h = fnv1a(h, &j->o->discovery, sizeof(j->o->discovery));
	h = fnv1a(h, &j->o->counter_slots, sizeof(j->o->counter_slots));
	h = fnv1a(h, &j->req, sizeof(j->req));
	h = fnv1a(h, &j->features, sizeof(j->features));
	h = fnv1a(h, kernel_forced_fallbacks(), strlen(kernel_forced_fallbacks()));
	return fnv1a(h, &j->gid, sizeof(j->gid));
}

/* Without multi-buffer XDP, a frame above one page would reach XDP
 * linearised (generic mode, a copy per frame that may fail and drop it) or
 * not at all (native drivers refuse the MTU): count ingress with tc. */
static void job_choose_dataplane(struct job *j)
{
	unsigned int mtu;

	j->req = j->o->attach;
	if (j->req.ingress != INGRESS_XDP || kernel_xdp_frags())
		return;
	j->features |= TEXPORTER_FEATURE_XDP_SINGLE_BUFFER;
	mtu = attach_mtu(j->o->ifname);
	if (mtu > kernel_xdp_single_mtu_max()) {
		log_info("%s: MTU %u is above the %u bytes this kernel's XDP sees in one buffer (multi-buffer XDP needs Linux 5.18): counting ingress with tc instead",
			 j->o->ifname, mtu, kernel_xdp_single_mtu_max());
		j->req.ingress = INGRESS_TC;
	}
}

static int job_prepare(struct job *j)
{
	if (config_load(j->o->config_path, &j->cfg) ||
	    config_check_unmatched_name(&j->cfg, j->o->config_path, j->o->unmatched))
		return EXIT_USAGE;
	if (group_resolve(j->o->group, &j->gid))
		return EXIT_USAGE;
	j->ifindex = (int)if_nametoindex(j->o->ifname);
	if (!j->ifindex) {
		log_error("interface %s not found: %s", j->o->ifname, strerror(errno));
		return EXIT_RUNTIME;
	}
	job_choose_dataplane(j);
	return EXIT_OK;
}

/* Unchanged only when what runs and what is pinned is what this job would
 * make: the same config and options, the unmatched pins they ask for,
 * both directions attached to programs that use the pinned maps, no
 * change in progress, pins owned as asked. */
static bool job_unchanged(const struct job *j)
{
	return j->cur.loaded && !j->replace && j->cur.meta.config_hash == j->hash &&
	       unmatched_pinned(&j->o->discovery, j->cur.dir) &&
	       !(j->cur.meta.seq & 1) &&
	       state_attached(&j->cur, DIR_INGRESS, j->ifindex) &&
	       state_attached(&j->cur, DIR_EGRESS, j->ifindex) &&
	       state_runs_pinned_maps(&j->cur, j->ifindex) &&
	       pindir_owner_matches(j->cur.dir, j->gid);
}

/* New counter maps when the current ones cannot take the change in
 * place (loader/counters.h). */
static bool job_replaces_counters(const struct job *j)
{
	bool removes = false;

	for (__u32 id = 0; id < TEXPORTER_MAX_IDS; id++)
		removes |= j->plan.removed[id];
	return j->grow || removes || j->cur.meta.layout_version == TEXPORTER_LAYOUT_DENSE ||
	       counters_slots_of(j->cur.pins.counters) != j->slots;
}

static bool job_xdp_single(const struct job *j)
{
	return j->features & TEXPORTER_FEATURE_XDP_SINGLE_BUFFER;
}

static int job_load_programs(struct job *j)
{
	struct texporter_bpf *skel = texporter_bpf__open();
	bool reuse_counters = j->cur.loaded && !j->replace;

	if (!skel) {
		log_error("cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	j->skel = skel;
	skel->rodata->capacity = j->capacity;
	skel->rodata->slots = j->slots;
	skel->rodata->slot_bits = (__u32)__builtin_ctz(j->slots);
	skel->rodata->v4_root_bits = j->trie.layout.v4_root_bits;
	skel->rodata->v6_second_bits = j->trie.layout.v6_second_bits;
	skel->rodata->trie_entries = (__u32)j->trie.used;
	skel->rodata->trie_split = j->table.split;
	/* At most one XDP program is loaded: the other would not load on
	 * every kernel, and with tc ingress neither is needed. */
	bpf_program__set_autoload(skel->progs.texporter_xdp,
				  j->req.ingress == INGRESS_XDP && !job_xdp_single(j));
	bpf_program__set_autoload(skel->progs.texporter_xdp_single,
				  j->req.ingress == INGRESS_XDP && job_xdp_single(j));
	if (bpf_map__reuse_fd(skel->maps.ranges, j->table.fd) ||
	    bpf_map__set_max_entries(skel->maps.counters, j->slots) ||
	    bpf_map__set_max_entries(skel->maps.shared, texporter_counter_slots(j->capacity)) ||
	    (reuse_counters && bpf_map__reuse_fd(skel->maps.counters, j->cur.pins.counters)) ||
	    (reuse_counters && bpf_map__reuse_fd(skel->maps.shared, j->cur.pins.shared)) ||
	    (j->cur.loaded && bpf_map__reuse_fd(skel->maps.errors, j->cur.pins.errors)) ||
	    unmatched_configure(skel, &j->o->discovery, &j->unmatched)) {
		log_error("cannot prepare the BPF maps: %s", strerror(errno));
		return -1;
	}
	if (texporter_bpf__load(skel)) {
		log_error("cannot load the BPF programs: %s (run with -l debug for the verifier's log)",
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* A split table's elements lie back to back in the map's memory, so both
 * shapes fill alike: the trie, then zeros (a fresh map's) to the end. */
static int job_fill_trie(struct job *j)
{
	size_t bytes = j->trie.used * sizeof(*j->trie.entries);
	long page = sysconf(_SC_PAGESIZE);
	size_t total = j->table.entries * sizeof(*j->trie.entries);
	size_t mapped = (total + (size_t)page - 1) / (size_t)page * (size_t)page;
	void *mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(j->skel->maps.ranges), 0);

	if (mem == MAP_FAILED) {
		log_error("cannot map the range table: %s", strerror(errno));
		return -1;
	}
	memcpy(mem, j->trie.entries, bytes);
	munmap(mem, mapped);
	return 0;
}

static int create_map(enum bpf_map_type type, const char *name, __u32 value_size,
		      __u32 entries)
{
	int fd = bpf_map_create(type, name, sizeof(__u32), value_size, entries, NULL);

	if (fd < 0)
		log_error("cannot create map %s: %s", name, strerror(errno));
	return fd;
}

/* The names table after this job (every name of the plan), and a first
 * load's meta. */
static int job_open_tables(struct job *j)
{
	if (!j->cur.loaded) {
		j->meta_fd = create_map(BPF_MAP_TYPE_ARRAY, "texporter_meta",
					sizeof(struct texporter_meta), 1);
		if (j->meta_fd < 0)
			return -1;
	}
	j->names_fd = create_map(BPF_MAP_TYPE_ARRAY, "texporter_names", sizeof(struct texporter_name),
				 TEXPORTER_MAX_IDS);
	if (j->names_fd < 0)
		return -1;
	if (mapio_write_all(j->names_fd, TEXPORTER_MAX_IDS, sizeof(*j->plan.names), j->plan.names)) {
		log_error("cannot write the range names: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const link_pins[] = { TEXPORTER_PIN_LINK_INGRESS, TEXPORTER_PIN_LINK_EGRESS };

static int job_attach_direction(struct job *j, enum direction dir, int prog_fd)
{
	struct journal_take t = { .att = { .link_fd = -1 } };
	int err = journal_take_direction(&j->cur, dir, &j->req, j->ifindex, j->o->ifname, prog_fd, &t);

	j->att[dir] = t.att;
	j->switched[dir] = t.switched;
	j->removed_old[dir] = t.removed_old;
	j->attached_new[dir] = t.attached_new;
	return err;
}

static void job_undo_new_attachments(struct job *j)
{
	for (int dir = 0; dir < 2; dir++) {
		if (!j->attached_new[dir])
			continue;
		if (j->att[dir].how == TEXPORTER_ATTACH_TC_LEGACY)
			attach_remove_legacy(dir, j->ifindex, j->o->ifname);
		if (j->att[dir].link_fd >= 0)
			close(j->att[dir].link_fd);
		j->att[dir].link_fd = -1;
		j->attached_new[dir] = false;
	}
}

/* Attaches the program that ran before as it was attached before, after a
 * mode change that the kernel refused. */
static void job_reattach_old(struct job *j, enum direction dir)
{
	struct attach_request req = attach_request_for(j->cur.att[dir].how);
	struct attachment back;

	if (attach_new(&req, dir, j->ifindex, j->o->ifname, j->old_prog[dir], &back)) {
		log_error("%s: could not restore the previous %s attachment either; load again",
			  j->o->ifname, dir == DIR_INGRESS ? "ingress" : "egress");
		return;
	}
	if (back.link_fd >= 0) {
		pindir_replace(back.link_fd, j->cur.dir, link_pins[dir], 0);
		close(back.link_fd);
	}
	log_info("%s: kept %s", j->o->ifname, attach_describe(back.how));
}

/* A direction failed: every direction goes back to the program and the
 * attachment it had, so a refused reload changes nothing. */
static void job_restore_attachments(struct job *j)
{
	for (int dir = 0; dir < 2; dir++)
		if (j->switched[dir])
			attach_switch(&j->att[dir], dir, j->ifindex, j->o->ifname, j->old_prog[dir]);
	job_undo_new_attachments(j);
	for (int dir = 0; dir < 2; dir++)
		if (j->removed_old[dir] && j->old_prog[dir] >= 0)
			job_reattach_old(j, dir);
}

/* The new program of each direction (enum direction). */
static void job_programs(const struct job *j, int prog[2])
{
	int xdp_fd = bpf_program__fd(job_xdp_single(j) ? j->skel->progs.texporter_xdp_single :
							 j->skel->progs.texporter_xdp);

	prog[DIR_EGRESS] = bpf_program__fd(j->skel->progs.texporter_tc);
	prog[DIR_INGRESS] = j->req.ingress == INGRESS_XDP ? xdp_fd : prog[DIR_EGRESS];
}

static int job_attach(struct job *j)
{
	int prog[2];
	int err = 0;

	job_programs(j, prog);

	for (int dir = 0; dir < 2; dir++)
		j->old_prog[dir] = state_attached(&j->cur, dir, j->ifindex) ?
			attach_prog_fd(&j->cur.att[dir], dir, j->ifindex) : -1;
	if (job_attach_direction(j, DIR_INGRESS, prog[DIR_INGRESS]) ||
	    job_attach_direction(j, DIR_EGRESS, prog[DIR_EGRESS])) {
		job_restore_attachments(j);
		err = -1;
	}
	for (int dir = 0; dir < 2; dir++)
		if (j->old_prog[dir] >= 0)
			close(j->old_prog[dir]);
	return err;
}

/* A first load's pins, meta aside, each with its owner and mode. */
static int job_pin(struct job *j)
{
	const struct {
		int fd;
		const char *name;
	} pins[] = {
		{ bpf_map__fd(j->skel->maps.ranges), TEXPORTER_PIN_RANGES },
		{ j->names_fd, TEXPORTER_PIN_NAMES },
		{ bpf_map__fd(j->skel->maps.errors), TEXPORTER_PIN_ERRORS },
		{ bpf_map__fd(j->skel->maps.counters), TEXPORTER_PIN_COUNTERS },
		{ bpf_map__fd(j->skel->maps.shared), TEXPORTER_PIN_SHARED },
		{ j->att[DIR_INGRESS].link_fd, TEXPORTER_PIN_LINK_INGRESS },
		{ j->att[DIR_EGRESS].link_fd, TEXPORTER_PIN_LINK_EGRESS },
		{ j->unmatched.fd, TEXPORTER_PIN_UNMATCHED },
		{ j->unmatched.cache_fd, TEXPORTER_PIN_UNMATCHED_CACHE },
	};

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		if (pins[i].fd >= 0 && pindir_replace(pins[i].fd, j->cur.dir, pins[i].name, j->gid))
			return -1;
	return 0;
}

static void job_fill_meta(struct job *j, struct texporter_meta *m)
{
	__u64 now = (__u64)time(NULL);

	if (!j->cur.loaded) {
		memset(m, 0, sizeof(*m));
		m->magic = TEXPORTER_META_MAGIC;
		m->loaded_at = now;
	} else {
		m->reloads++;
	}
	m->layout_version = TEXPORTER_LAYOUT_VERSION; /* a reload converts layout 1 */
	m->capacity = j->capacity;
	m->ifindex = (__u32)j->ifindex;
	m->ingress = j->att[DIR_INGRESS].how;
	m->egress = j->att[DIR_EGRESS].how;
	m->ranges = j->plan.in_use;
	m->prefixes[TEXPORTER_IPV4] = (__u32)j->cfg.prefixes_per_family[TEXPORTER_IPV4];
	m->prefixes[TEXPORTER_IPV6] = (__u32)j->cfg.prefixes_per_family[TEXPORTER_IPV6];
	m->trie_entries = (__u32)j->table.entries;
	m->trie_used = (__u32)j->trie.used;
	m->v4_root_bits = (__u16)j->trie.layout.v4_root_bits;
	m->v6_second_bits = (__u16)j->trie.layout.v6_second_bits;
	m->features = j->features | (j->table.split ? TEXPORTER_FEATURE_TABLE_SPLIT : 0);
	m->changed_at = now;
	m->config_hash = j->hash;
	snprintf(m->ifname, sizeof(m->ifname), "%s", j->o->ifname);
}

static void job_report(const struct job *j, const char *what, const struct texporter_meta *m)
{
	char dataplane[96];

	printf("%s: %s: ingress %s, egress %s; %zu IPv4 + %zu IPv6 prefixes in %zu ranges; %s\n",
	       j->o->ifname, what, attach_describe(j->att[DIR_INGRESS].how),
	       attach_describe(j->att[DIR_EGRESS].how),
	       j->cfg.prefixes_per_family[TEXPORTER_IPV4],
	       j->cfg.prefixes_per_family[TEXPORTER_IPV6], j->cfg.n_ranges,
	       attach_describe_dataplane(m, dataplane, sizeof(dataplane)));
	fflush(stdout);
}

/* A first load: attach, pin all but meta, pin meta (the commit). Killed
 * before the commit, it leaves a directory without meta, which the next
 * run removes with what it attached (journal_recover). */
static int job_first_load(struct job *j)
{
	struct texporter_meta *m = &j->cur.meta;
	__u32 zero = 0;

	if (job_attach(j))
		return -1;
	if (mkdir(j->cur.dir, 0700) && errno != EEXIST) {
		log_error("cannot create %s: %s", j->cur.dir, strerror(errno));
		goto fail;
	}
	if (pindir_own_dir(j->cur.dir, j->gid))
		goto fail;
	job_fill_meta(j, m);
	if (job_pin(j) || bpf_map_update_elem(j->meta_fd, &zero, m, BPF_ANY) ||
	    pindir_replace(j->meta_fd, j->cur.dir, TEXPORTER_PIN_META, j->gid))
		goto fail;
	return 0;
fail:
	job_undo_new_attachments(j); /* legacy filters too */
	pindir_remove(j->cur.dir);
	return -1;
}

/* A reload, by the journal: clear, stage, begin (seq odd), names, switch,
 * complete. A switch the kernel refuses takes everything back. */
static int job_reload(struct job *j)
{
	struct journal_record rec = { .gid = (__u32)j->gid, .ingress = j->req.ingress,
				      .xdp_mode = j->req.xdp_mode, .tc_mode = j->req.tc_mode };
	struct journal_stage st = { .names = j->names_fd, .ranges = j->table.fd,
				    .counters = j->replace ? bpf_map__fd(j->skel->maps.counters) : -1,
				    .shared = j->replace ? bpf_map__fd(j->skel->maps.shared) : -1,
				    .unmatched = j->unmatched.fresh ? j->unmatched.fd : -1,
				    .unmatched_cache = j->unmatched.cache_fresh ?
							       j->unmatched.cache_fd : -1 };

	rec.unmatched = j->unmatched.fresh ? JOURNAL_UNMATCHED_REPLACE :
			j->unmatched.remove ? JOURNAL_UNMATCHED_REMOVE : JOURNAL_UNMATCHED_KEEP;
	rec.replace_counters = j->replace;
	rec.target = j->cur.meta;
	job_fill_meta(j, &rec.target);
	job_programs(j, st.prog);
	if (journal_begin(&j->cur, &rec, &st))
		return -1;
	if (journal_add_names(&j->cur) || job_attach(j)) {
		journal_abort(&j->cur);
		return -1;
	}
	if (journal_complete(&j->cur, &rec, j->att, j->attached_new)) {
		log_error("%s: the reload stopped half way; run texporter-load again to complete it",
			  j->o->ifname);
		return -1;
	}
	return 0;
}

static int job_run(struct job *j)
{
	char dir[PATH_MAX];
	int rc = job_prepare(j);

	if (rc != EXIT_OK)
		return rc;
	if (pindir_prepare_root(j->o->pin_root) || pindir_lock(j->o->pin_root) < 0)
		return EXIT_RUNTIME;
	if (pindir_path(dir, j->o->pin_root, j->o->ifname) ||
	    journal_recover(dir, j->o->ifname) || state_open(&j->cur, dir))
		return EXIT_RUNTIME;
	if (ids_plan(&j->plan, j->cur.loaded ? j->cur.names : NULL, &j->cfg, j->o->unmatched))
		return EXIT_USAGE;
	j->capacity = ids_capacity_for(j->plan.highest);
	if (j->cur.loaded && j->capacity < j->cur.meta.capacity)
		j->capacity = j->cur.meta.capacity; /* never shrink: counters stay put */
	j->grow = j->cur.loaded && j->capacity > j->cur.meta.capacity;
	j->slots = counters_slots_for(j->capacity, j->o->counter_slots, (unsigned)percpu_ncpus());
	j->replace = j->cur.loaded && job_replaces_counters(j);
	j->hash = job_hash(j);
	if (job_unchanged(j)) {
		j->att[DIR_INGRESS] = j->cur.att[DIR_INGRESS];
		j->att[DIR_EGRESS] = j->cur.att[DIR_EGRESS];
		job_report(j, "unchanged", &j->cur.meta);
		return EXIT_OK;
	}
	if (trie_build(&j->trie, &j->cfg, j->plan.ids, trie_choose_layout(&j->cfg))) {
		int err = errno;

		log_error("%s: cannot build the range table: %s", j->o->config_path, trie_strerror(err));
		return err == E2BIG ? EXIT_USAGE : EXIT_RUNTIME;
	}
	/* The range table first: the biggest map, and its error names it. */
	if (kernel_create_table(j->trie.used, &j->table) ||
	    unmatched_plan(&j->o->discovery, j->cur.dir, j->cur.loaded, &j->unmatched) ||
	    job_load_programs(j) ||
	    job_fill_trie(j) || job_open_tables(j) ||
	    (j->cur.loaded ? job_reload(j) : job_first_load(j)))
		return EXIT_RUNTIME;
	job_report(j, j->cur.loaded ? "reloaded" : "attached", &j->cur.meta);
	return EXIT_OK;
}

int load_run(const struct load_options *o)
{
	struct job j = { .o = o, .names_fd = -1, .meta_fd = -1, .old_prog = { -1, -1 },
			 .table = { .fd = -1 }, .unmatched = { .fd = -1, .cache_fd = -1 } };
	int rc;

	log_route_libbpf();
	j.att[0].link_fd = j.att[1].link_fd = -1;
	state_open(&j.cur, ""); /* an empty state, so cleanup is uniform */
	rc = job_run(&j);
	for (int d = 0; d < 2; d++)
		if (j.att[d].link_fd >= 0 && j.att[d].link_fd != j.cur.att[d].link_fd)
			close(j.att[d].link_fd);
	if (j.meta_fd >= 0)
		close(j.meta_fd);
	if (j.names_fd >= 0)
		close(j.names_fd);
	state_close(&j.cur);
	if (j.table.fd >= 0)
		close(j.table.fd);
	unmatched_plan_free(&j.unmatched);
	texporter_bpf__destroy(j.skel);
	trie_free(&j.trie);
	ids_free(&j.plan);
	config_free(&j.cfg);
	return rc;
}
