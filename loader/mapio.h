/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-map reads and many-key writes of array maps, in as few bpf(2)
 * calls as the kernel allows: batches (Linux >= 5.6), else one call per
 * key. Fewer calls make a reload faster and leave a killed loader fewer
 * instants to die at. */
#ifndef TEXPORTER_MAPIO_H
#define TEXPORTER_MAPIO_H

#include <stddef.h>

#include <linux/types.h>

/* Reads keys 0..COUNT-1 of the array map FD into VALUES (COUNT values of
 * VALUE_SIZE bytes: for a per-CPU map, all CPUs' values). 0, or -1 with
 * errno. */
int mapio_read_all(int fd, __u32 count, size_t value_size, void *values);

/* Writes keys 0..COUNT-1 of the array map FD from VALUES (COUNT values of
 * VALUE_SIZE bytes). 0, or -1 with errno. */
int mapio_write_all(int fd, __u32 count, size_t value_size, const void *values);

/* Writes VALUE (VALUE_SIZE bytes) to each of the N keys KEYS of FD.
 * 0, or -1 with errno. */
int mapio_write_same(int fd, const __u32 *keys, __u32 n, const void *value, size_t value_size);

#endif /* TEXPORTER_MAPIO_H */
