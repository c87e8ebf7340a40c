// SPDX-License-Identifier: Apache-2.0
#include "counters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "ids.h"
#include "log.h"
#include "mapio.h"
#include "percpu.h"
#include "pindir.h"

unsigned long long counters_array_memory(__u32 entries, __u32 value_size, bool percpu,
					 unsigned ncpus)
{
	unsigned long long value = (value_size + 7ull) / 8 * 8;

	if (percpu) /* each CPU's value, and a pointer per entry */
		return COUNTERS_ARRAY_HEADER + entries * (value * ncpus + sizeof(void *));
	return COUNTERS_ARRAY_HEADER + entries * value;
}

unsigned long long counters_memory(__u32 capacity, __u32 slots, unsigned ncpus, bool with_carry)
{
	unsigned long long shared = counters_array_memory(texporter_counter_slots(capacity),
							  sizeof(struct texporter_counter), false,
							  ncpus);

	return counters_array_memory(slots, sizeof(struct texporter_slot), true, ncpus) + shared +
	       (with_carry ? shared : 0);
}

int counters_parse_slots(const char *arg, __u32 *slots)
{
	unsigned v;

	if (cli_parse_uint("--counter-slots", arg, TEXPORTER_MAX_SLOTS, &v))
		return EXIT_USAGE;
	if (v && (v < TEXPORTER_MIN_SLOTS || (v & (v - 1)))) {
		cli_usage_error("--counter-slots %s: 0 (automatic) or a power of two from %u to %u",
				arg, TEXPORTER_MIN_SLOTS, TEXPORTER_MAX_SLOTS);
		return EXIT_USAGE;
	}
	*slots = v;
	return 0;
}

__u32 counters_slots_for(__u32 capacity, __u32 requested, unsigned ncpus)
{
	__u32 pairs = texporter_counter_slots(capacity), slots = COUNTERS_SLOT_FLOOR;

	if (requested)
		return requested < pairs ? requested : pairs;
	while (slots < pairs &&
	       (unsigned long long)slots * 2 * sizeof(struct texporter_slot) * ncpus <=
		       COUNTERS_SLOT_BUDGET)
		slots *= 2;
	return slots < pairs ? slots : pairs;
}

__u32 counters_slots_of(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

static void report_line(const char *what, __u32 capacity, __u32 slots, unsigned ncpus)
{
	unsigned long long bytes = counters_memory(capacity, slots, ncpus, false);
	unsigned long long carried = counters_memory(capacity, slots, ncpus, true);

	printf("  counter maps %s (%u CPUs): %u ids per axis, %u slots per CPU: %llu bytes (%.1f MiB), %llu (%.1f MiB) with carry\n",
	       what, ncpus, capacity, slots, bytes, bytes / 1048576.0, carried,
	       carried / 1048576.0);
}

void counters_report(size_t ranges, __u32 requested)
{
	unsigned ncpus = (unsigned)percpu_ncpus();
	__u32 capacity = ids_capacity_for((__u32)ranges);
	__u32 big = ids_capacity_for(256);

	report_line("on this host", capacity, counters_slots_for(capacity, requested, ncpus), ncpus);
	report_line("with 256 ranges", big, counters_slots_for(big, requested, 256), 256);
	printf("  (counters %u + slots x (24 x CPUs + 8), shared and carry %u + 2 x ids^2 x 16 bytes each)\n",
	       COUNTERS_ARRAY_HEADER, COUNTERS_ARRAY_HEADER);
}

/* The counters map FD whole: *SLOTS slots of every CPU, slot i of CPU c
 * at i x CPUs + c. NULL with errno if it cannot be read; free it. */
static struct texporter_slot *slots_read(int fd, __u32 *slots)
{
	size_t ncpus = (size_t)percpu_ncpus();
	struct texporter_slot *v;

	*slots = counters_slots_of(fd);
	v = calloc((size_t)*slots * ncpus + 1, sizeof(*v));
	if (v && (!*slots || mapio_read_all(fd, *slots, sizeof(*v) * ncpus, v))) {
		free(v);
		return NULL;
	}
	return v;
}

/* A map of one struct texporter_counter per pair (shared, carry) whole.
 * NULL with errno if it cannot be read; free it. */
static struct texporter_counter *pairs_read(int fd, __u32 pairs)
{
	struct texporter_counter *v = calloc(pairs, sizeof(*v));

	if (v && mapio_read_all(fd, pairs, sizeof(*v), v)) {
		free(v);
		return NULL;
	}
	return v;
}

int counters_usage(const struct state *s, struct counters_usage *u)
{
	__u32 pairs = texporter_counter_slots(s->meta.capacity);
	size_t ncpus = (size_t)percpu_ncpus();
	struct texporter_slot *v;
	struct texporter_counter *c = NULL;

	memset(u, 0, sizeof(*u));
	v = slots_read(s->pins.counters, &u->slots);
	if (v)
		c = pairs_read(s->pins.shared, pairs);
	if (c) {
		for (size_t i = 0; i < u->slots; i++) {
			bool held = false;

			for (size_t cpu = 0; cpu < ncpus; cpu++)
				held |= v[i * ncpus + cpu].key != 0;
			u->held += held;
		}
		for (__u32 k = 0; k < pairs; k++)
			u->shared_pairs += c[k].packets != 0;
		u->memory = counters_memory(s->meta.capacity, u->slots, (unsigned)ncpus,
					    s->pins.carry >= 0);
	}
	free(v);
	free(c);
	return c ? 0 : -1;
}

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

static void total_add(struct texporter_counter *t, __u64 bytes, __u64 packets)
{
	bool saturated = false;

	t->bytes = u64_add_sat(t->bytes, bytes, &saturated);
	t->packets = u64_add_sat(t->packets, packets, &saturated);
}

/* Layout 2: every CPU's slot adds to the pair its key names. */
static int add_slots(int fd, __u32 pairs, struct texporter_counter *totals)
{
	__u32 slots;
	struct texporter_slot *v = slots_read(fd, &slots);
	size_t n = (size_t)slots * (size_t)percpu_ncpus();

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i].key && v[i].key <= pairs)
			total_add(&totals[v[i].key - 1], v[i].bytes, v[i].packets);
	free(v);
	return 0;
}

/* Layout 1: a per-CPU counter per pair. */
static int add_dense(int fd, __u32 pairs, struct texporter_counter *totals)
{
	int ncpus = percpu_ncpus();
	size_t percpu_size = sizeof(*totals) * (size_t)ncpus;
	__u64 *values = calloc(pairs, percpu_size);
	int err = -1;

	if (values && mapio_read_all(fd, pairs, percpu_size, values) == 0) {
		for (__u32 k = 0; k < pairs; k++) {
			__u64 sum[2] = { 0, 0 };

			percpu_sum(values + (size_t)k * 2 * (size_t)ncpus, ncpus, 2, sum);
			total_add(&totals[k], sum[0], sum[1]);
		}
		err = 0;
	}
	free(values);
	return err;
}

/* Shared or carry: one counter per pair. */
static int add_array(int fd, __u32 pairs, struct texporter_counter *totals)
{
	struct texporter_counter *v = pairs_read(fd, pairs);

	if (!v)
		return -1;
	for (__u32 k = 0; k < pairs; k++)
		total_add(&totals[k], v[k].bytes, v[k].packets);
	free(v);
	return 0;
}

/* Everything CUR's maps counted, per pair (indexed with its capacity). */
static int read_totals(const struct state *cur, struct texporter_counter *totals)
{
	__u32 pairs = texporter_counter_slots(cur->meta.capacity);
	int err = cur->meta.layout_version == TEXPORTER_LAYOUT_DENSE ?
			  add_dense(cur->pins.counters, pairs, totals) :
			  add_slots(cur->pins.counters, pairs, totals);

	if (!err && cur->pins.shared >= 0)
		err = add_array(cur->pins.shared, pairs, totals);
	if (!err && cur->pins.carry >= 0)
		err = add_array(cur->pins.carry, pairs, totals);
	if (err)
		log_error("cannot read the counters of %s: %s", cur->dir, strerror(errno));
	return err;
}

/* Whether the id is named after the change and was before it. */
static bool id_kept(const struct texporter_name *names, const __u32 *fresh, __u32 id)
{
	return names[id].name[0] && !(fresh[id / 32] & (1u << (id % 32)));
}

/* TOTALS of kept pairs only, at their index for the new capacity (never
 * smaller than the old): an id without a name before or after the change
 * holds counts of a removed range, which a name taking the id must not
 * inherit. */
static void carry_named(struct texporter_counter *carry, const struct texporter_counter *totals,
			const struct texporter_name *names, const __u32 *fresh,
			__u32 old_capacity, __u32 new_capacity)
{
	for (__u32 f = 0; f < TEXPORTER_FAMILY_COUNT; f++)
		for (__u32 src = 0; src < old_capacity; src++)
			for (__u32 dst = 0; dst < old_capacity; dst++)
				if (id_kept(names, fresh, src) && id_kept(names, fresh, dst))
					carry[texporter_counter_index(new_capacity, f, src, dst)] =
						totals[texporter_counter_index(old_capacity, f,
									       src, dst)];
}

int counters_carry(const struct state *cur, __u32 new_capacity, const struct texporter_name *names,
		   const __u32 *fresh, const char *pin, gid_t gid)
{
	__u32 old_capacity = cur->meta.capacity, entries = texporter_counter_slots(new_capacity);
	struct texporter_counter *totals = calloc(texporter_counter_slots(old_capacity),
						  sizeof(*totals));
	struct texporter_counter *carry = calloc(entries, sizeof(*carry));
	int carry_fd = -1, err = -1;

	if (wait_for_running_programs())
		goto out;
	carry_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "texporter_carry", sizeof(__u32),
				  sizeof(struct texporter_counter), entries, NULL);
	if (!totals || !carry || carry_fd < 0) {
		log_error("cannot create the carry map for %u range ids: %s", new_capacity,
			  strerror(errno));
		goto out;
	}
	if (read_totals(cur, totals))
		goto out;
	carry_named(carry, totals, names, fresh, old_capacity, new_capacity);
	if (mapio_write_all(carry_fd, entries, sizeof(*carry), carry)) {
		log_error("cannot write carried counters: %s", strerror(errno));
		goto out;
	}
	if (pindir_replace(carry_fd, cur->dir, pin, gid))
		goto out;
	if (old_capacity != new_capacity)
		log_info("%s: counter maps grow from %u to %u range ids", cur->dir, old_capacity,
			 new_capacity);
	err = 0;
out:
	if (carry_fd >= 0)
		close(carry_fd);
	free(carry);
	free(totals);
	return err;
}
