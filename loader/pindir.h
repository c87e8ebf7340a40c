/* SPDX-License-Identifier: Apache-2.0 */
/* The loader's side of bpffs: the pin root (mounted, created, locked) and
 * an interface's pin directory (pins replaced in one rename, owners and
 * modes set, removed whole). Opening pins is lib/iface_pins.h. */
#ifndef TEXPORTER_PINDIR_H
#define TEXPORTER_PINDIR_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* Makes sure ROOT exists on a bpffs, mounting bpffs on /sys/fs/bpf when
 * ROOT is below it and nothing is mounted there yet (as bpftool and tc
 * do). ROOT (followed through symlinks) is made 0755 only once it is
 * proven a root-owned directory on a bpffs; a missing ROOT is created only
 * below a bpffs. Returns 0 or -1 after logging, having changed nothing. */
int pindir_prepare_root(const char *root);

/* Takes the loaders' lock on ROOT (waiting for another loader, with a
 * message). Returns the fd that holds it, or -1 after logging. */
int pindir_lock(const char *root);

int pindir_path(char *out, const char *dir, const char *name);
/* Pins FD as DIR/NAME, replacing whatever was there in one rename, with
 * its owner and mode (below) already set. */
int pindir_replace(int fd, const char *dir, const char *name, gid_t gid);
/* Completes a pindir_replace of DIR/NAME that was killed between pinning
 * and renaming: the temporary pin, already owned and moded, takes NAME,
 * unless NAME exists (then nothing changes). 0, or -1 after logging. */
int pindir_finish_replace(const char *dir, const char *name);
/* DIR owned by root and GID, mode 0750; the error names the fix. */
int pindir_own_dir(const char *dir, gid_t gid);
/* Directory 0750 and maps 0440 root:GID; programs, links and the journal
 * 0600 root:root. */
int pindir_set_owner(const char *dir, gid_t gid);
/* Whether DIR and every pin in it are owned as pindir_set_owner makes them. */
bool pindir_owner_matches(const char *dir, gid_t gid);
/* Removes every pin in DIR and DIR itself. */
int pindir_remove(const char *dir);
bool pindir_exists(const char *dir);

#endif /* TEXPORTER_PINDIR_H */
