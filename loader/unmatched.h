/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unmatched discovery on the loader's side: the options, the pinned
 * `unmatched` map (bpf/texporter.h) a load keeps, makes or drops, and
 * the BPF object's settings for it. A map is kept only when it was made
 * for the same prefix lengths and entries: a reload with other options
 * starts a new, empty one (staged and renamed into place by the journal
 * like every other map it replaces). With 0 entries nothing is pinned and
 * the programs are loaded without the code that counts unmatched
 * prefixes.
 */
#ifndef TEXPORTER_UNMATCHED_H
#define TEXPORTER_UNMATCHED_H

#include <stdbool.h>

#include <linux/types.h>

#include "texporter.h"

struct texporter_bpf;

struct unmatched_options {
	__u32 len[TEXPORTER_FAMILY_COUNT]; /* --unmatched-prefix-len V4,V6 */
	__u32 entries;                     /* --unmatched-entries; 0 = off */
};

#define UNMATCHED_OPTIONS_DEFAULT                                                   \
	((struct unmatched_options){ { TEXPORTER_UNMATCHED_DEFAULT_V4_LEN,          \
				       TEXPORTER_UNMATCHED_DEFAULT_V6_LEN },        \
				     TEXPORTER_UNMATCHED_DEFAULT_ENTRIES })

/* What a load does with the map. */
struct unmatched_plan {
	int fd;      /* the map the programs count into; -1 when off */
	bool fresh;  /* fd is a new map this load pins (or stages) */
	bool remove; /* a pinned map goes (discovery turned off) */
};

/* --unmatched-prefix-len "V4,V6": 0, or EXIT_USAGE after the usage error. */
int unmatched_parse_lengths(const char *arg, struct unmatched_options *o);
/* --unmatched-entries N: 0, or EXIT_USAGE after the usage error. */
int unmatched_parse_entries(const char *arg, struct unmatched_options *o);

/* Decides for the pin directory DIR (LOADED: it holds a committed load):
 * keep the pinned map if it was made for O, else make a new one with its
 * untracked keys in place. 0, or -1 after logging. */
int unmatched_plan(const struct unmatched_options *o, const char *dir, bool loaded,
		   struct unmatched_plan *p);
void unmatched_plan_free(struct unmatched_plan *p);

/* Sets the object's constants and map for P, before it is loaded. 0, or
 * -1 with errno. */
int unmatched_configure(struct texporter_bpf *skel, const struct unmatched_options *o,
			const struct unmatched_plan *p);

/* --status: prints one line on the unmatched map pinned in DIR (how many
 * prefixes it tracks of how many, at which lengths, and what found it
 * full), or that discovery is off. */
void unmatched_status(const char *dir);

#endif /* TEXPORTER_UNMATCHED_H */
