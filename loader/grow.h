/* SPDX-License-Identifier: Apache-2.0 */
/* Growing the counter map when a reload needs more range ids than it holds.
 * The new program counts into a new, larger map; what the old map had
 * counted moves into the `carry` map, which only the loader writes and the
 * reader adds. Kernel per-CPU slots are never written from user space while
 * a program may add to them, so no count is lost. */
#ifndef TEXPORTER_GROW_H
#define TEXPORTER_GROW_H

#include <sys/types.h>

#include "state.h"

/* Returns once every BPF program that was running when it was called has
 * finished (an update of a map-in-map waits for an RCU grace period). */
int wait_for_running_programs(void);

/* After the switch to a program with a counter map of NEW_CAPACITY: waits
 * for the old program to finish, then pins as PIN (owned by root:GID) a
 * carry map of NEW_CAPACITY holding the old counters plus the old carry of
 * the ids NAMES (the names after the change) names. Reads only what no
 * program writes any more, so it may be repeated. */
int grow_carry(const struct state *cur, __u32 new_capacity, const struct texporter_name *names,
	       const char *pin, gid_t gid);

#endif /* TEXPORTER_GROW_H */
