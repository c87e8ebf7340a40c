/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The counter maps (bpf/texporter.h, "Counters"): how many per-CPU slots a
 * load gives them, what they cost in kernel memory, and replacing them.
 * A reload replaces counters and shared when it grows the id capacity,
 * changes the slots, takes a name away or converts layout-1 pins: the new
 * programs count into new maps, and what the old maps had counted moves
 * into the `carry` map, which only the loader writes and the reader adds.
 * Per-CPU slots are never written from user space while a program may add
 * to them, so no count is lost; and a name taken away leaves no counts
 * behind, so an id handed out later starts from zero.
 */
#ifndef TEXPORTER_COUNTERS_H
#define TEXPORTER_COUNTERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "state.h"

/* The automatic choice of slots per CPU: one per pair while all of a
 * host's slots take at most COUNTERS_SLOT_BUDGET bytes, else the largest
 * power of two that fits it, but never below COUNTERS_SLOT_FLOOR. */
#define COUNTERS_SLOT_BUDGET (32u << 20)
#define COUNTERS_SLOT_FLOOR 4096u

/* Bytes of kernel memory (memlock, as bpftool map show reports it on Linux
 * 6.18) of an array map of ENTRIES values of VALUE_SIZE, per-CPU or not,
 * on a host with NCPUS possible CPUs. */
#define COUNTERS_ARRAY_HEADER 312u /* struct bpf_array on Linux 6.18 */
unsigned long long counters_array_memory(__u32 entries, __u32 value_size, bool percpu,
					 unsigned ncpus);

/* The kernel memory of a load's counter maps: counters (SLOTS per CPU),
 * shared, and carry when WITH_CARRY, for CAPACITY ids and NCPUS CPUs. */
unsigned long long counters_memory(__u32 capacity, __u32 slots, unsigned ncpus, bool with_carry);

/* --counter-slots N: 0 (automatic) or a power of two in
 * TEXPORTER_MIN_SLOTS..TEXPORTER_MAX_SLOTS; 0, or EXIT_USAGE after the
 * usage error. */
int counters_parse_slots(const char *arg, __u32 *slots);

/* The slots a load with CAPACITY ids gives each of NCPUS CPUs: REQUESTED
 * (--counter-slots) if not 0, capped at one per pair, else the
 * automatic choice. */
__u32 counters_slots_for(__u32 capacity, __u32 requested, unsigned ncpus);

/* The slots of the pinned counters map FD (its max_entries), or 0. */
__u32 counters_slots_of(int fd);

/* Prints --check's lines on counter memory for a config of RANGES ranges
 * (the unmatched one aside) with REQUESTED slots: on this host, and with
 * 256 names on a host of 256 CPUs. */
void counters_report(size_t ranges, __u32 requested);

/* What a state's counter maps hold, for --status. */
struct counters_usage {
	__u32 slots;        /* per CPU */
	__u32 held;         /* slots held by a pair on at least one CPU */
	__u32 shared_pairs; /* pairs with counts in shared */
	unsigned long long memory; /* counters_memory() of the maps */
};

/* Fills U from S's pinned maps (layout 2): 0, or -1 with errno. */
int counters_usage(const struct state *s, struct counters_usage *u);

/* Returns once every BPF program that was running when it was called has
 * finished (an update of a map-in-map waits for an RCU grace period). */
int wait_for_running_programs(void);

/* After the switch to programs that count into new maps of NEW_CAPACITY
 * ids: waits for the old programs to finish, then pins as PIN (owned by
 * root:GID) a carry map of NEW_CAPACITY holding what CUR's counters,
 * shared and carry hold for the pairs of ids that NAMES (the names after
 * the change) names and that are not in FRESH (a bit per id without a name
 * before the change: what such an id holds is a removed range's). Reads
 * only what no program writes any more, so it may be repeated. */
int counters_carry(const struct state *cur, __u32 new_capacity, const struct texporter_name *names,
		   const __u32 *fresh, const char *pin, gid_t gid);

#endif /* TEXPORTER_COUNTERS_H */
