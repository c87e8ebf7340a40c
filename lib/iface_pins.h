/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An interface's pins, <pin-root>/<iface>/ (layout in bpf/texporter.h), as
 * both tools find and open them: the loader read-write for a reload,
 * --status and --detach; the reader read-only for a scrape. Which
 * directories under a pin root are interfaces, and whether a meta is one
 * this texporter can read, is decided here and nowhere else.
 */
#ifndef TEXPORTER_IFACE_PINS_H
#define TEXPORTER_IFACE_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include "texporter.h"

/* The map pins of one interface; -1 where not open (carry is optional,
 * and shared is absent from layout 1). */
struct iface_pins {
	int meta, names, counters, shared, carry, errors;
};

#define IFACE_PINS_CLOSED ((struct iface_pins){ -1, -1, -1, -1, -1, -1 })

/* Opens DIR/NAME, read-only or read-write. Returns the fd, or -1 with
 * errno (ENOENT: no such pin, EACCES/EPERM: not allowed). */
int pin_open(const char *dir, const char *name, bool read_only);

/* Opens the maps beside meta of layout LAYOUT: names, counters, errors,
 * shared (from layout 2 on) and, when it is pinned, carry. 0, or -1 with
 * errno and *failed naming the pin. */
int iface_pins_open_maps(struct iface_pins *p, const char *dir, __u32 layout, bool read_only,
			 const char **failed);
void iface_pins_close(struct iface_pins *p);

/* Whether M is a meta this texporter can use: initialised, of layout
 * version OLDEST_LAYOUT..TEXPORTER_LAYOUT_VERSION (the reader reads only
 * the current one; the loader converts TEXPORTER_LAYOUT_DENSE too), with
 * a capacity in 1..TEXPORTER_MAX_IDS. If not, -1 with the reason in WHY,
 * worded to follow "pin DIR/meta ". */
int meta_check(const struct texporter_meta *m, __u32 oldest_layout, char *why, size_t why_len);

/* The interfaces under ROOT: its subdirectories that hold a meta pin,
 * sorted. A meta that cannot even be looked at counts as present, so
 * opening it later gives the permission error with its remedy. Fills
 * *NAMES (free with iface_list_free) and *COUNT; -1 with errno. */
int iface_list(const char *root, char ***names, size_t *count);
void iface_list_free(char **names, size_t count);

#endif /* TEXPORTER_IFACE_PINS_H */
