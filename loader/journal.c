// SPDX-License-Identifier: Apache-2.0
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <net/if.h>

#include "counters.h"
#include "iface_pins.h"
#include "log.h"
#include "pindir.h"

static const char *const link_pins[] = { TEXPORTER_PIN_LINK_INGRESS, TEXPORTER_PIN_LINK_EGRESS };
static const char *const staged_progs[] = { JOURNAL_NEXT_INGRESS, JOURNAL_NEXT_EGRESS };

/* Everything texporter may pin in an interface's directory; new_* and
 * next_* are temporary and staged names of these. */
static bool pin_name_is_ours(const char *name)
{
	static const char *const ours[] = {
		TEXPORTER_PIN_META, TEXPORTER_PIN_NAMES, TEXPORTER_PIN_COUNTERS,
		TEXPORTER_PIN_SHARED, TEXPORTER_PIN_CARRY, TEXPORTER_PIN_ERRORS, TEXPORTER_PIN_RANGES,
		TEXPORTER_PIN_LINK_INGRESS, TEXPORTER_PIN_LINK_EGRESS, JOURNAL_PIN,
		TEXPORTER_PIN_UNMATCHED, TEXPORTER_PIN_UNMATCHED_CACHE,
	};

	if (strncmp(name, "new_", 4) == 0 || strncmp(name, "next_", 5) == 0)
		return true;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strcmp(name, ours[i]) == 0)
			return true;
	return false;
}

/* Removes the staged and temporary pins of DIR, then the journal: what is
 * left is the committed state. Repeatable. */
static void remove_staged(const char *dir)
{
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "new_", 4) == 0 || strncmp(de->d_name, "next_", 5) == 0)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	if (pindir_path(path, dir, JOURNAL_PIN) == 0)
		unlink(path);
}

static int journal_write(const char *dir, const struct journal_record *rec)
{
	int fd = pin_open(dir, JOURNAL_PIN, false);
	__u32 zero = 0;
	int err = fd < 0 ? -1 : bpf_map_update_elem(fd, &zero, rec, BPF_ANY);

	if (err)
		log_error("cannot write %s/%s: %s", dir, JOURNAL_PIN, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

/* 0 and *REC when DIR has a journal of ours; -1 with errno ENOENT when it
 * has none (or one that is not ours, which is then removed). */
static int journal_read(const char *dir, struct journal_record *rec)
{
	int fd = pin_open(dir, JOURNAL_PIN, false);
	__u32 zero = 0;
	int err;

	if (fd < 0)
		return -1;
	err = bpf_map_lookup_elem(fd, &zero, rec);
	close(fd);
	if (err || rec->magic != JOURNAL_MAGIC) {
		char path[PATH_MAX];

		if (pindir_path(path, dir, JOURNAL_PIN) == 0)
			unlink(path);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int stage(const struct state *s, const struct journal_stage *st, gid_t gid)
{
	for (int d = 0; d < 2; d++)
		if (pindir_replace(st->prog[d], s->dir, staged_progs[d], 0))
			return -1;
	if (pindir_replace(st->names, s->dir, JOURNAL_NEXT_NAMES, gid) ||
	    pindir_replace(st->ranges, s->dir, JOURNAL_NEXT_RANGES, gid))
		return -1;
	if (st->unmatched >= 0 &&
	    pindir_replace(st->unmatched, s->dir, JOURNAL_NEXT_UNMATCHED, gid))
		return -1;
	if (st->unmatched_cache >= 0 &&
	    pindir_replace(st->unmatched_cache, s->dir, JOURNAL_NEXT_UNMATCHED_CACHE, gid))
		return -1;
	if (st->counters < 0)
		return 0;
	return pindir_replace(st->counters, s->dir, JOURNAL_NEXT_COUNTERS, gid) ||
	       pindir_replace(st->shared, s->dir, JOURNAL_NEXT_SHARED, gid);
}

int journal_begin(struct state *s, struct journal_record *rec, const struct journal_stage *st)
{
	int fd = -1, err = -1;
	__u32 zero = 0;

	rec->magic = JOURNAL_MAGIC;
	rec->phase = JOURNAL_SWITCH;
	rec->seq = s->meta.seq + 1;
	rec->old_capacity = s->meta.capacity;
	memset(rec->fresh, 0, sizeof(rec->fresh));
	for (__u32 id = 0; id < TEXPORTER_MAX_IDS; id++)
		if (!s->names[id].name[0])
			rec->fresh[id / 32] |= 1u << (id % 32);
	if (stage(s, st, rec->gid))
		goto out;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "texporter_jrnl", sizeof(__u32), sizeof(*rec), 1,
			    NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, rec, BPF_ANY)) {
		log_error("cannot create the reload journal: %s", strerror(errno));
		goto out;
	}
	/* The journal's rename is the point of no return. */
	if (pindir_replace(fd, s->dir, JOURNAL_PIN, 0))
		goto out;
	s->meta.seq = rec->seq;
	err = state_write_meta(s);
out:
	if (fd >= 0)
		close(fd);
	if (err)
		remove_staged(s->dir);
	return err;
}

/* The staged names table, read into memory (TEXPORTER_MAX_IDS entries). */
static struct texporter_name *read_staged_names(const char *dir)
{
	struct texporter_name *names = calloc(TEXPORTER_MAX_IDS, sizeof(*names));
	int fd = pin_open(dir, JOURNAL_NEXT_NAMES, false);

	if (!names || fd < 0 || state_read_names(fd, names)) {
		log_error("cannot read %s/%s: %s", dir, JOURNAL_NEXT_NAMES, strerror(errno));
		free(names);
		names = NULL;
	}
	if (fd >= 0)
		close(fd);
	return names;
}

/* Writes the staged names that differ from S's: those of free ids
 * (NEW_IDS) or the others. S's in-memory names stay what was committed,
 * for journal_abort. */
static int write_names(struct state *s, const struct texporter_name *target, bool new_ids)
{
	for (__u32 id = 0; id < TEXPORTER_MAX_IDS; id++) {
		bool differs = strncmp(s->names[id].name, target[id].name, TEXPORTER_NAME_LEN) != 0;

		if (differs && new_ids == !s->names[id].name[0] &&
		    state_write_name(s->pins.names, id, &target[id]))
			return -1;
	}
	return 0;
}

int journal_add_names(struct state *s)
{
	struct texporter_name *target = read_staged_names(s->dir);
	int err = target ? write_names(s, target, true) : -1;

	free(target);
	return err;
}

/* Discovery turned off: the switched programs no longer count into the
 * pinned map and cache. Repeatable. */
static int remove_unmatched(const char *dir)
{
	static const char *const pins[] = { TEXPORTER_PIN_UNMATCHED,
					    TEXPORTER_PIN_UNMATCHED_CACHE };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (pindir_path(path, dir, pins[i]))
			return -1;
		if (unlink(path) && errno != ENOENT) {
			log_error("cannot remove %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Moves the staged maps into place. A missing staged pin was moved by an
 * earlier run (or was never staged): repeatable. */
static int rename_staged(const char *dir, const struct journal_record *rec)
{
	static const char *const moves[][2] = {
		{ JOURNAL_NEXT_CARRY, TEXPORTER_PIN_CARRY },
		{ JOURNAL_NEXT_COUNTERS, TEXPORTER_PIN_COUNTERS },
		{ JOURNAL_NEXT_SHARED, TEXPORTER_PIN_SHARED },
		{ JOURNAL_NEXT_RANGES, TEXPORTER_PIN_RANGES },
		{ JOURNAL_NEXT_UNMATCHED, TEXPORTER_PIN_UNMATCHED },
		{ JOURNAL_NEXT_UNMATCHED_CACHE, TEXPORTER_PIN_UNMATCHED_CACHE },
	};

	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		char from[PATH_MAX], to[PATH_MAX];

		if (pindir_path(from, dir, moves[i][0]) || pindir_path(to, dir, moves[i][1]))
			return -1;
		if (rename(from, to) && errno != ENOENT) {
			log_error("cannot rename %s to %s: %s", from, to, strerror(errno));
			return -1;
		}
	}
	return rec->unmatched == JOURNAL_UNMATCHED_REMOVE ? remove_unmatched(dir) : 0;
}

/* The replaced maps' carry: the old counters, shared and carry, for the
 * staged names. Only once both directions run the staged programs, which
 * count into next_counters and next_shared: the old maps no longer
 * change. */
static int carry_over(struct state *s, struct journal_record *rec, const struct attachment att[2],
		      const struct texporter_name *target)
{
	if (counters_carry(s, rec->target.capacity, target, rec->fresh, JOURNAL_NEXT_CARRY,
			   rec->gid))
		return -1;
	rec->phase = JOURNAL_CARRIED;
	for (int d = 0; d < 2; d++)
		rec->how[d] = att[d].how;
	return journal_write(s->dir, rec);
}

static int commit(struct state *s, const struct journal_record *rec, const struct attachment att[2])
{
	s->meta = rec->target;
	s->meta.seq = rec->seq + 1;
	s->meta.ingress = att[DIR_INGRESS].how;
	s->meta.egress = att[DIR_EGRESS].how;
	if (pindir_set_owner(s->dir, rec->gid) || state_write_meta(s))
		return -1;
	remove_staged(s->dir);
	return 0;
}

int journal_complete(struct state *s, struct journal_record *rec, struct attachment att[2],
		     const bool new_link[2])
{
	struct texporter_name *target = read_staged_names(s->dir);
	int err = -1;

	if (!target)
		return -1;
	/* A link this run made lives only in its fd until pinned. */
	for (int d = 0; d < 2; d++)
		if (new_link[d] && att[d].link_fd >= 0 &&
		    pindir_replace(att[d].link_fd, s->dir, link_pins[d], 0))
			goto out;
	if (rec->phase == JOURNAL_SWITCH &&
	    (rec->replace_counters || rec->target.capacity != rec->old_capacity) &&
	    carry_over(s, rec, att, target))
		goto out;
	if (rename_staged(s->dir, rec) || write_names(s, target, false) || commit(s, rec, att))
		goto out;
	err = 0;
out:
	free(target);
	return err;
}

void journal_abort(struct state *s)
{
	struct texporter_name *target = read_staged_names(s->dir);

	for (__u32 id = 0; target && id < TEXPORTER_MAX_IDS; id++)
		if (!s->names[id].name[0] && target[id].name[0])
			state_write_name(s->pins.names, id, &s->names[id]);
	free(target);
	s->meta.seq += s->meta.seq & 1;
	if (state_write_meta(s) == 0)
		remove_staged(s->dir);
}

int journal_take_direction(struct state *s, enum direction dir, const struct attach_request *req,
			   int ifindex, const char *ifname, int prog_fd, struct journal_take *t)
{
	struct attachment *cur = &s->att[dir];
	char path[PATH_MAX];

	if (state_attached(s, dir, ifindex) && attach_matches(req, dir, cur->how)) {
		t->att = *cur;
		if (attach_switch(cur, dir, ifindex, ifname, prog_fd))
			return -1;
		t->switched = true;
		return 0;
	}
	if (s->loaded) {
		if (cur->how == TEXPORTER_ATTACH_TC_LEGACY && (int)s->meta.ifindex == ifindex)
			attach_remove_legacy(dir, ifindex, ifname);
		if (pindir_path(path, s->dir, link_pins[dir]) == 0)
			unlink(path);
		if (cur->link_fd >= 0) {
			attach_detach_link(cur->link_fd);
			close(cur->link_fd);
		}
		cur->link_fd = -1;
		t->removed_old = true;
	}
	if (attach_new(req, dir, ifindex, ifname, prog_fd, &t->att))
		return -1;
	t->attached_new = true;
	return 0;
}

/* Recovery's switch: each direction to its staged program. Where the
 * interface the change was for is gone, nothing can be attached (a later
 * load attaches again), and the directions keep what meta says. */
static int recover_switch(struct state *s, const char *ifname, const struct journal_record *rec,
			  struct attachment att[2], bool new_link[2])
{
	struct attach_request req = { .ingress = (enum ingress_hook)rec->ingress,
				      .xdp_mode = (enum xdp_mode)rec->xdp_mode,
				      .tc_mode = (enum tc_mode)rec->tc_mode };
	int ifindex = (int)if_nametoindex(ifname);

	for (int d = 0; d < 2; d++) {
		struct journal_take t = { .att = { .link_fd = -1 } };
		int prog;

		att[d] = s->att[d];
		if (!ifindex || (__u32)ifindex != rec->target.ifindex)
			continue;
		prog = pin_open(s->dir, staged_progs[d], false);
		if (prog < 0) {
			log_error("cannot open %s/%s: %s", s->dir, staged_progs[d], strerror(errno));
			return -1;
		}
		if (journal_take_direction(s, (enum direction)d, &req, ifindex, ifname, prog, &t)) {
			close(prog);
			return -1;
		}
		close(prog);
		att[d] = t.att;
		new_link[d] = t.attached_new && t.att.link_fd >= 0;
	}
	return 0;
}

static int roll_forward(struct state *s, const char *ifname, struct journal_record *rec)
{
	struct attachment att[2] = { { .link_fd = -1 }, { .link_fd = -1 } };
	bool new_link[2] = { false, false };
	int err = 0;

	if (s->meta.seq != rec->seq) {
		s->meta.seq = rec->seq;
		err = state_write_meta(s);
	}
	if (!err)
		err = journal_add_names(s);
	if (!err && rec->phase == JOURNAL_SWITCH)
		err = recover_switch(s, ifname, rec, att, new_link);
	for (int d = 0; d < 2 && rec->phase == JOURNAL_CARRIED; d++) {
		att[d] = s->att[d];
		att[d].how = rec->how[d];
	}
	if (!err)
		err = journal_complete(s, rec, att, new_link);
	for (int d = 0; d < 2; d++)
		if (new_link[d])
			close(att[d].link_fd);
	if (err)
		log_error("%s: could not complete the reload an interrupted texporter-load began; run texporter-load again, or --detach",
			  ifname);
	else
		printf("%s: completed the reload an interrupted texporter-load began\n", ifname);
	return err;
}

/* Whether seq A comes after seq B (seq wraps around). */
static bool seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

static int recover_state(struct state *s, const char *ifname)
{
	struct journal_record rec = { 0 }; /* an older loader's record is shorter */

	if (journal_read(s->dir, &rec)) {
		remove_staged(s->dir);
		if (!(s->meta.seq & 1))
			return 0;
		/* Odd without a journal: a loader killed before this protocol
		 * existed, or between its first and last write here. */
		s->meta.seq++;
		if (state_write_meta(s))
			return -1;
		printf("%s: made meta seq even, left odd by an interrupted texporter-load\n", ifname);
		return 0;
	}
	if (seq_after(s->meta.seq, rec.seq)) {
		remove_staged(s->dir); /* committed or taken back; only leftovers */
		return 0;
	}
	return roll_forward(s, ifname, &rec);
}

/* Whether DIR holds a journal or staged pins, or a meta with odd seq: the
 * marks of a change a killed loader left. Costs one lookup. */
static bool change_left(const char *dir)
{
	struct texporter_meta m;
	bool found = false;
	struct dirent *de;
	__u32 zero = 0;
	int fd = pin_open(dir, TEXPORTER_PIN_META, false);
	DIR *d = opendir(dir);

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &m) || (m.seq & 1))
		found = true;
	while (!found && d && (de = readdir(d)))
		found = strcmp(de->d_name, JOURNAL_PIN) == 0 ||
			strncmp(de->d_name, "new_", 4) == 0 || strncmp(de->d_name, "next_", 5) == 0;
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	return found;
}

/* A link that a run killed in journal_complete had pinned under its
 * temporary name but not yet renamed: it holds the hook and runs a staged
 * program of the change being rolled forward, so the rename it was about
 * to make is made here, before the state is read. (Its own pin is never
 * there too: a direction is taken down before it is attached anew.) */
static int adopt_new_links(const char *dir)
{
	for (int d = 0; d < 2; d++)
		if (pindir_finish_replace(dir, link_pins[d]))
			return -1;
	return 0;
}

int journal_recover(const char *dir, const char *ifname)
{
	struct state s;
	int meta, err;

	if (!pindir_exists(dir))
		return 0;
	meta = pin_open(dir, TEXPORTER_PIN_META, false);
	if (meta < 0 && errno == ENOENT) {
		err = journal_discard_dir(dir, ifname);
		if (!err)
			printf("%s: removed what an interrupted first load or --detach left in %s\n",
			       ifname, dir);
		return err;
	}
	if (meta >= 0)
		close(meta);
	if (!change_left(dir))
		return 0;
	if (adopt_new_links(dir))
		return -1;
	if (state_open(&s, dir) || !s.loaded) {
		state_close(&s);
		return -1; /* state_open said what is wrong */
	}
	err = recover_state(&s, ifname);
	state_close(&s);
	return err;
}

/* Refuses DIR when it holds anything texporter does not pin. */
static int check_only_ours(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d) {
		log_error("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	while (!err && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    pin_name_is_ours(de->d_name))
			continue;
		log_error("%s holds %s, which texporter does not pin; it is not texporter's: remove it yourself, or choose another --pin-root",
			  dir, de->d_name);
		err = -1;
	}
	closedir(d);
	return err;
}

int journal_discard_dir(const char *dir, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	char meta[PATH_MAX];
	int err = 0;

	if (check_only_ours(dir) || pindir_path(meta, dir, TEXPORTER_PIN_META))
		return -1;
	/* Gone from the readers' view first, as one step. */
	if (unlink(meta) && errno != ENOENT) {
		log_error("cannot remove %s: %s", meta, strerror(errno));
		return -1;
	}
	log_mute_libbpf(1); /* no clsact qdisc: nothing to remove, no news */
	for (int d = 0; d < 2; d++) {
		int link = pin_open(dir, link_pins[d], false);

		if (link >= 0) {
			attach_detach_link(link);
			close(link);
		}
		/* Our filter's handle is texporter's own: whatever load made
		 * it, it goes (a filter dies with its device anyway). A filter
		 * that stays keeps the directory, without meta, so that the
		 * next run of the loader removes both. */
		if (ifindex && attach_remove_legacy((enum direction)d, ifindex, ifname))
			err = -1;
	}
	log_mute_libbpf(0);
	if (err) {
		log_error("%s: the tc filter is still attached; run texporter-load --detach again as root (it needs CAP_NET_ADMIN)",
			  ifname);
		return -1;
	}
	return pindir_remove(dir);
}
