// SPDX-License-Identifier: Apache-2.0
#include "percpu.h"

#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int percpu_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

bool percpu_sum(const __u64 *values, int ncpus, size_t fields, __u64 *sum)
{
	bool saturated = false;

	for (int c = 0; c < ncpus; c++)
		for (size_t f = 0; f < fields; f++)
			sum[f] = u64_add_sat(sum[f], values[(size_t)c * fields + f], &saturated);
	return saturated;
}

int percpu_lookup_sum(int fd, __u32 key, __u64 *sum, size_t fields)
{
	int ncpus = percpu_ncpus();
	__u64 *values = calloc((size_t)ncpus * fields, sizeof(*values));
	int err = -1;

	memset(sum, 0, fields * sizeof(*sum));
	if (values && bpf_map_lookup_elem(fd, &key, values) == 0) {
		percpu_sum(values, ncpus, fields, sum);
		err = 0;
	}
	free(values);
	return err;
}
