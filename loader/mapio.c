// SPDX-License-Identifier: Apache-2.0
#include "mapio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Whether a batch call failed because the kernel has none: go key by key. */
static bool batch_refused(int err)
{
	return err == EINVAL || err == ENOTSUPP || err == EOPNOTSUPP;
}

int mapio_read_all(int fd, __u32 count, size_t value_size, void *values)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *keys = malloc(count * sizeof(*keys));
	__u32 n = count, cursor;
	int err = -1;

	if (!keys)
		return -1;
	if (bpf_map_lookup_batch(fd, NULL, &cursor, keys, values, &n, &opts) == 0 ||
	    (errno == ENOENT && n == count))
		err = 0;
	else if (batch_refused(errno))
		for (__u32 k = err = 0; k < count && !err; k++)
			err = bpf_map_lookup_elem(fd, &k, (char *)values + k * value_size);
	else if (errno == ENOENT)
		errno = EIO; /* the map ended early: not the map we took it for */
	free(keys);
	return err;
}

/* Writes N keys at once, or key by key where the kernel has no batches. */
static int write_batch(int fd, const __u32 *keys, __u32 n, const void *values, size_t value_size)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = n;
	int err = 0;

	if (n && bpf_map_update_batch(fd, keys, values, &done, &opts)) {
		err = -1;
		if (batch_refused(errno))
			for (__u32 i = err = 0; i < n && !err; i++)
				err = bpf_map_update_elem(fd, &keys[i],
							  (const char *)values + i * value_size,
							  BPF_ANY);
	}
	return err;
}

int mapio_write_all(int fd, __u32 count, size_t value_size, const void *values)
{
	__u32 *keys = malloc(count * sizeof(*keys));
	int err;

	if (!keys)
		return -1;
	for (__u32 k = 0; k < count; k++)
		keys[k] = k;
	err = write_batch(fd, keys, count, values, value_size);
	free(keys);
	return err;
}

int mapio_write_same(int fd, const __u32 *keys, __u32 n, const void *value, size_t value_size)
{
	char *values = n ? malloc(n * value_size) : NULL;
	int err;

	if (!n)
		return 0;
	if (!values)
		return -1;
	/* A batch takes one value per key. */
	for (__u32 i = 0; i < n; i++)
		memcpy(values + i * value_size, value, value_size);
	err = write_batch(fd, keys, n, values, value_size);
	free(values);
	return err;
}
