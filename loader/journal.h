/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reload journal: what makes a reload survive the loader being killed
 * at any instant. Before a reload changes anything a reader or the data
 * plane sees, everything it will install is pinned under staged names
 * (next_*) and its intent is written to the `journal` pin; from then on,
 * any later run of the loader rolls the change forward to its end from
 * the pins alone, and every step may be repeated. meta.seq is odd from the
 * journal's seq on and is made even by the commit, the last meta write.
 * docs/architecture.md ("Crash safety") has the states and why each step
 * is idempotent. Pins of other names are not touched here.
 */
#ifndef TEXPORTER_JOURNAL_H
#define TEXPORTER_JOURNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "attach.h"
#include "state.h"
#include "texporter.h"

/* Staged pins; they exist only while a journal does (or as leftovers of a
 * loader killed before it wrote one, which the next run removes). */
#define JOURNAL_PIN "journal"
#define JOURNAL_NEXT_INGRESS "next_prog_ingress"
#define JOURNAL_NEXT_EGRESS "next_prog_egress"
#define JOURNAL_NEXT_NAMES "next_names"
#define JOURNAL_NEXT_RANGES "next_ranges"
#define JOURNAL_NEXT_COUNTERS "next_counters" /* only when the counter maps are */
#define JOURNAL_NEXT_SHARED "next_shared"     /* replaced (loader/counters.h) */
#define JOURNAL_NEXT_CARRY "next_carry"       /* written in the carried phase */
#define JOURNAL_NEXT_UNMATCHED "next_unmatched" /* only when a new one replaces it */
#define JOURNAL_NEXT_UNMATCHED_CACHE "next_unmatched_cache" /* with it, or alone
							     * beside a kept map */

/* What the change does to the unmatched map (journal_record.unmatched). */
enum journal_unmatched {
	JOURNAL_UNMATCHED_KEEP = 0,    /* the pinned one (or none) stays */
	JOURNAL_UNMATCHED_REPLACE = 1, /* next_unmatched takes its place */
	JOURNAL_UNMATCHED_REMOVE = 2,  /* discovery is turned off: the pins go */
};

enum journal_phase {
	JOURNAL_SWITCH = 1,  /* take both directions to the staged programs */
	JOURNAL_CARRIED = 2, /* switched, and next_carry holds the old counts */
};

/* The value of the journal pin (an array of one). */
struct journal_record {
	__u32 magic;        /* JOURNAL_MAGIC */
	__u32 phase;        /* enum journal_phase */
	__u32 seq;          /* the odd meta.seq the change runs under */
	__u32 gid;          /* the readers' group of the pins */
	__u32 old_capacity; /* the counter map's before the change */
	__u32 how[2];       /* enum texporter_attach per direction, once CARRIED */
	__u32 ingress, xdp_mode, tc_mode; /* the struct attach_request asked for */
	struct texporter_meta target;     /* meta after the change, seq aside */
	__u32 unmatched;                  /* enum journal_unmatched; after the
					   * fields above, so a record of an older
					   * loader reads as KEEP */
	__u32 replace_counters;           /* 1: next_counters and next_shared
					   * replace the counter maps (an older
					   * loader's record: when capacity grows) */
	__u32 fresh[TEXPORTER_MAX_IDS / 32]; /* bit per id that had no name
					      * when the change began: the carry
					      * leaves its old counts behind */
};

#define JOURNAL_MAGIC 0x4a524e4cu /* "JRNL" */

/* What a reload stages: descriptors the caller keeps owning. */
struct journal_stage {
	int prog[2];  /* by enum direction */
	int names;    /* the whole names table after the change */
	int ranges;   /* the new range table */
	int counters; /* the new counter maps, or -1 when they stay */
	int shared;
	int unmatched; /* the new unmatched map, or -1 */
	int unmatched_cache; /* the new unmatched cache, or -1 */
};

/* Pins what STAGE holds, writes REC (phase JOURNAL_SWITCH, seq the odd
 * one after S's) and makes meta.seq odd: from here on the change is
 * rolled forward, never back. 0, or -1 after logging and removing what
 * it staged. */
int journal_begin(struct state *s, struct journal_record *rec, const struct journal_stage *st);

/* Writes the names of the staged table that are not in S's yet: the ids a
 * switched program may classify into. Repeatable. */
int journal_add_names(struct state *s);

/* After both directions run the staged programs (ATT, NEW_LINK[dir] when
 * a link was made by this run and is not pinned yet): moves the old counts
 * to next_carry if the counter maps are replaced, renames the staged maps into place,
 * writes the names, owners and meta (the commit: seq even) and removes the
 * journal. REC is the journal's record. 0, or -1 after logging. */
int journal_complete(struct state *s, struct journal_record *rec, struct attachment att[2],
		     const bool new_link[2]);

/* Takes back a change whose switch the kernel refused (every direction is
 * on its old program again): the names S had, seq even, staged pins gone. */
void journal_abort(struct state *s);

/* What taking one direction to a program did (journal_take_direction). */
struct journal_take {
	struct attachment att; /* the direction's attachment now */
	bool switched;         /* the existing attachment runs the program now */
	bool removed_old;      /* the old attachment was taken down */
	bool attached_new;     /* a new attachment was made (att.link_fd unpinned) */
};

/* Takes direction DIR of S's interface to PROG_FD: in place when the
 * current attachment is alive and of the kind REQ asks for, otherwise by
 * removing it and attaching anew (a moment without counting, never double
 * counting). Repeatable: switching to the program already running is a
 * no-op. 0, or -1 after logging, with T saying how far it got. */
int journal_take_direction(struct state *s, enum direction dir, const struct attach_request *req,
			   int ifindex, const char *ifname, int prog_fd, struct journal_take *t);

/* Run first by every load, --status and --detach on IFNAME's pin
 * directory DIR (with the pin root locked): a directory without meta (a
 * first load or a detach that was killed) is removed with whatever it
 * attached; a journal is rolled forward to its commit; an odd seq without
 * one is made even; staged leftovers are removed. Says what it did on
 * stdout. 0, or -1 after logging. */
int journal_recover(const char *dir, const char *ifname);

/* Takes IFNAME's pinned links off their hooks, removes texporter's legacy
 * tc filters from the interface and every pin of DIR, then DIR. Refuses
 * (-1 after logging) a DIR that holds anything texporter does not pin. */
int journal_discard_dir(const char *dir, const char *ifname);

#endif /* TEXPORTER_JOURNAL_H */
