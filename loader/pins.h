/* SPDX-License-Identifier: Apache-2.0 */
/* The pin directory of an interface, <pin-root>/<iface>/, on bpffs. */
#ifndef TEXPORTER_LOADER_PINS_H
#define TEXPORTER_LOADER_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* Makes sure ROOT exists on a bpffs, mounting bpffs on /sys/fs/bpf when
 * ROOT is below it and nothing is mounted there yet (as bpftool and tc
 * do). Returns 0 or -1 after logging. */
int pins_prepare_root(const char *root);

/* Takes the loaders' lock on ROOT (waiting for another loader, with a
 * message). Returns the fd that holds it, or -1 after logging. */
int pins_lock(const char *root);

int pins_path(char *out, const char *dir, const char *name);
/* Opens a pinned object; -1 with errno ENOENT when there is none. */
int pins_open(const char *dir, const char *name);
/* Pins FD as DIR/NAME, replacing whatever was there in one rename. */
int pins_replace(int fd, const char *dir, const char *name);
/* Directory 0750 and maps 0440 root:GID, links 0600 root:root. */
int pins_set_owner(const char *dir, gid_t gid);
/* Removes every pin in DIR and DIR itself. */
int pins_remove_dir(const char *dir);
bool pins_dir_exists(const char *dir);

#endif /* TEXPORTER_LOADER_PINS_H */
