/* SPDX-License-Identifier: Apache-2.0 */
/* Per-CPU map values, summed over the CPUs. A lookup of a per-CPU element
 * returns one value per possible CPU, each rounded up to 8 bytes; every
 * per-CPU value of texporter is a whole number of __u64s, so no rounding
 * applies and a value is FIELDS __u64s (2 for unmatched and layout-1
 * counters, 1 for errors). */
#ifndef TEXPORTER_PERCPU_H
#define TEXPORTER_PERCPU_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

/* The possible CPUs, as the kernel sizes per-CPU values; at least 1. */
int percpu_ncpus(void);

/* A + B, or 2^64-1 (and *SATURATED set) when the sum does not fit: a
 * total that cannot be represented is shown at its ceiling, never wrapped
 * around to a small number that would look like a counter reset. */
static inline __u64 u64_add_sat(__u64 a, __u64 b, bool *saturated)
{
	__u64 sum;

	if (!__builtin_add_overflow(a, b, &sum))
		return sum;
	*saturated = true;
	return ~(__u64)0;
}

/* Adds the NCPUS values of one element (FIELDS __u64s each) at VALUES
 * into SUM[FIELDS], which the caller zeroes. Saturates (u64_add_sat):
 * true if a field did. */
bool percpu_sum(const __u64 *values, int ncpus, size_t fields, __u64 *sum);

/* Looks up KEY in the per-CPU map FD and sums it into SUM[FIELDS]: 0, or
 * -1 with errno and SUM zero. One system call per key: for the few
 * lookups of the loader; the reader reads whole maps in batches. */
int percpu_lookup_sum(int fd, __u32 key, __u64 *sum, size_t fields);

#endif /* TEXPORTER_PERCPU_H */
