/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unmatched discovery on the loader's side: the options, the pinned
 * `unmatched` map and its `unmatched_cache` (bpf/texporter.h) a load
 * keeps, makes or drops, and the BPF object's settings for them. A map is
 * kept only when it was made for the same prefix lengths and entries: a
 * reload with other options starts a new, empty one and a new cache
 * (staged and renamed into place by the journal like every other map it
 * replaces). A kept map without a cache of the right shape (pins of an
 * older loader) gets a new cache beside it. With 0 entries nothing is
 * pinned and the programs are loaded without the code that counts
 * unmatched prefixes.
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
	int fd;           /* the map the programs count into; -1 when off */
	int cache_fd;     /* its cache; -1 when off */
	bool fresh;       /* fd is a new map this load pins (or stages) */
	bool cache_fresh; /* cache_fd is new (always when fd is) */
	bool remove;      /* the pinned map and cache go (discovery turned off) */
};

/* --unmatched-prefix-len "V4,V6": 0, or EXIT_USAGE after the usage error. */
int unmatched_parse_lengths(const char *arg, struct unmatched_options *o);
/* --unmatched-entries N: 0, or EXIT_USAGE after the usage error. */
int unmatched_parse_entries(const char *arg, struct unmatched_options *o);

/* Decides for the pin directory DIR (LOADED: it holds a committed load):
 * keep the pinned map if it was made for O, else make a new one with its
 * untracked keys in place; keep the pinned cache with a kept map, else
 * make a new one. 0, or -1 after logging. */
int unmatched_plan(const struct unmatched_options *o, const char *dir, bool loaded,
		   struct unmatched_plan *p);
void unmatched_plan_free(struct unmatched_plan *p);
/* Whether DIR holds the pins O asks for: the map and its cache, or
 * neither when discovery is off. */
bool unmatched_pinned(const struct unmatched_options *o, const char *dir);

/* Sets the object's constants and maps for P, before it is loaded. 0, or
 * -1 with errno. */
int unmatched_configure(struct texporter_bpf *skel, const struct unmatched_options *o,
			const struct unmatched_plan *p);

/* --status: prints one line on the unmatched map pinned in DIR (how many
 * prefixes it tracks of how many, at which lengths, and what found it
 * full) and one on its cache (slots held), or that discovery is off. */
void unmatched_status(const char *dir);

#endif /* TEXPORTER_UNMATCHED_H */
