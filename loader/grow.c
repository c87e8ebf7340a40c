// SPDX-License-Identifier: Apache-2.0
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "log.h"
#include "mapio.h"
#include "pindir.h"

int wait_for_running_programs(void)
{
	int inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "texporter_sync", 4, 4, 1, NULL);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .inner_map_fd = inner);
	int outer = -1, err = -1;
	__u32 zero = 0;

	if (inner >= 0)
		outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "texporter_sync", 4, 4, 1, &opts);
	if (outer >= 0)
		err = bpf_map_update_elem(outer, &zero, &inner, BPF_ANY);
	if (err)
		log_error("cannot wait for running programs: %s", strerror(errno));
	if (outer >= 0)
		close(outer);
	if (inner >= 0)
		close(inner);
	return err;
}

/* Sums the per-CPU values of every slot of the old counter map, plus the
 * old carry, into TOTALS (indexed with the old capacity). */
static int read_old_totals(const struct state *cur, struct texporter_counter *totals)
{
	__u32 slots = texporter_counter_slots(cur->meta.capacity);
	int ncpus = percpu_ncpus();
	size_t percpu_size = sizeof(*totals) * (size_t)ncpus;
	__u64 *values = calloc(slots, percpu_size);
	int err = -1;

	if (values && mapio_read_all(cur->pins.counters, slots, percpu_size, values) == 0 &&
	    (cur->pins.carry < 0 || mapio_read_all(cur->pins.carry, slots, sizeof(*totals), totals) == 0)) {
		for (__u32 k = 0; k < slots; k++) {
			__u64 sum[2] = { 0, 0 };

			percpu_sum(values + (size_t)k * 2 * (size_t)ncpus, ncpus, 2, sum);
			if (cur->pins.carry < 0)
				totals[k].bytes = totals[k].packets = 0;
			totals[k].bytes += sum[0];
			totals[k].packets += sum[1];
		}
		err = 0;
	}
	if (err)
		log_error("cannot read the counters of %s: %s", cur->dir, strerror(errno));
	free(values);
	return err;
}

/* Carries the totals of named ids only: an unnamed id's slots hold counts of
 * a removed range, which a later name taking the id must not inherit. */
static int write_carry(int carry_fd, const struct texporter_counter *totals,
		       const struct texporter_name *names, __u32 old_capacity, __u32 new_capacity)
{
	for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++) {
		for (__u32 src = 0; src < old_capacity; src++) {
			for (__u32 dst = 0; dst < old_capacity; dst++) {
				const struct texporter_counter *t =
					&totals[texporter_counter_index(old_capacity, f, src, dst)];
				__u32 key = texporter_counter_index(new_capacity, f, src, dst);

				if ((!t->packets && !t->bytes) || !names[src].name[0] ||
				    !names[dst].name[0])
					continue;
				if (bpf_map_update_elem(carry_fd, &key, t, BPF_ANY)) {
					log_error("cannot write carried counters: %s", strerror(errno));
					return -1;
				}
			}
		}
	}
	return 0;
}

int grow_carry(const struct state *cur, __u32 new_capacity, const struct texporter_name *names,
	       const char *pin, gid_t gid)
{
	__u32 old_capacity = cur->meta.capacity;
	__u32 entries = texporter_counter_slots(new_capacity);
	struct texporter_counter *totals;
	int carry_fd, err = -1;

	if (wait_for_running_programs())
		return -1;
	totals = calloc(texporter_counter_slots(old_capacity), sizeof(*totals));
	carry_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "texporter_carry", sizeof(__u32),
				  sizeof(struct texporter_counter), entries, NULL);
	if (!totals || carry_fd < 0) {
		log_error("cannot create the carry map for %u range ids: %s", new_capacity,
			  strerror(errno));
		goto out;
	}
	if (read_old_totals(cur, totals) ||
	    write_carry(carry_fd, totals, names, old_capacity, new_capacity) ||
	    pindir_replace(carry_fd, cur->dir, pin, gid))
		goto out;
	log_info("%s: counter map grows from %u to %u range ids", cur->dir, old_capacity,
		 new_capacity);
	err = 0;
out:
	if (carry_fd >= 0)
		close(carry_fd);
	free(totals);
	return err;
}
