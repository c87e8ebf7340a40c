/* SPDX-License-Identifier: Apache-2.0 */
/* What is pinned for one interface, read into memory: its pins opened
 * read-write (lib/iface_pins.h), meta, names and links, for the loader's
 * reload, --status and --detach. */
#ifndef TEXPORTER_STATE_H
#define TEXPORTER_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "attach.h"
#include "iface_pins.h"
#include "percpu.h"
#include "texporter.h"

struct state {
	char dir[PATH_MAX];
	bool loaded; /* a meta pin with our magic exists */
	struct iface_pins pins;
	struct attachment att[2]; /* by enum direction; link_fd -1 if none */
	struct texporter_meta meta;
	struct texporter_name *names; /* TEXPORTER_MAX_IDS entries */
};

/* Opens DIR's pins read-write. A missing DIR is a state with loaded ==
 * false. Returns 0, or -1 after logging when DIR exists but is not a
 * texporter pin directory of this layout. */
int state_open(struct state *s, const char *dir);
void state_close(struct state *s);

/* Whether direction DIR is attached to the interface IFINDEX right now. */
bool state_attached(const struct state *s, enum direction dir, int ifindex);

/* Whether both directions run programs of one load that count into the
 * pinned counter map with the pinned range table: not so after a loader
 * died between switching the two directions. */
bool state_runs_pinned_maps(const struct state *s, int ifindex);

/* Reads all TEXPORTER_MAX_IDS entries of the names map FD into NAMES.
 * 0, or -1 with errno. */
int state_read_names(int fd, struct texporter_name *names);

int state_write_meta(const struct state *s);
int state_write_name(int names_fd, __u32 id, const struct texporter_name *name);

#endif /* TEXPORTER_STATE_H */
