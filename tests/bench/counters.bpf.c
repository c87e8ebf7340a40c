// SPDX-License-Identifier: Apache-2.0
/*
 * Counter layouts weighed for many names, for the benchmark only (not part
 * of texporter): each program takes the pair from the frame the same way
 * (ids = the last byte of the IPv4 source and destination, so the bench
 * chooses them) and counts it in one layout. cnt_floor stops before the
 * count, so program - cnt_floor is what the layout costs per packet.
 *
 *   cnt_percpu    today's: PERCPU_ARRAY[2 x C^2], plain adds
 *   cnt_shared    ARRAY[2 x C^2] shared by all CPUs, atomic adds (BPF_XADD)
 *   cnt_striped   ARRAY[K x 2 x C^2], K stripes, CPU n adding atomically
 *                 to stripe n mod K: at most ceil(CPUs / K) CPUs per line
 *   cnt_cache     PERCPU_ARRAY[S] of struct texporter_slot, direct-mapped
 *                 by texporter_slot_of (what texporter built from this:
 *                 counter layout 2); a CPU claims a free slot for itself
 *                 (no other CPU writes it), a slot held by another pair sends
 *                 the packet to the shared array (atomic adds): exact
 *   cnt_indirect  ARRAY[2 x C^2] of u32 slot numbers (0 = none yet) shared,
 *                 PERCPU_ARRAY[S] of counters; a slot is handed out under a
 *                 bpf_spin_lock (5.10 has it in array values), the shared
 *                 array takes what finds no slot
 *
 * bench.c sizes the maps for these C and S before load. What must stay true: every
 * program counts each run exactly once, in one place, so bench.c can check
 * the sum of every layout against the runs it made.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "texporter.h"

#define capacity 256u  /* ids per axis, C: all countries */
#define slot_bits 11u  /* S = 2^slot_bits slots per CPU */
#define stripe_bits 4u /* K = 2^stripe_bits stripes: 32 MiB at C = 256 */

struct claim {
	struct bpf_spin_lock lock;
	__u32 next; /* slots handed out */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 1);
} percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 1);
} shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 1);
} striped SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_slot); /* texporter's own, layout 2 */
	__uint(max_entries, 1);
} cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} pair_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 1);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct claim);
	__uint(max_entries, 1);
} claims SEC(".maps");

/* The pair's counter index, or -1 when the frame is not Ethernet + IPv4. */
static __always_inline long pair_of(struct __sk_buff *skb, __u32 *bytes)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 src, dst;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	src = (bpf_ntohl(ip->saddr) & 0xff) % capacity;
	dst = (bpf_ntohl(ip->daddr) & 0xff) % capacity;
	*bytes = bpf_ntohs(ip->tot_len);
	return texporter_counter_index(capacity, TEXPORTER_IPV4, src, dst);
}

/* One packet of BYTES, added atomically: other CPUs may add to C too. */
static __always_inline void add_atomic(struct texporter_counter *c, __u32 bytes)
{
	__sync_fetch_and_add(&c->bytes, bytes);
	__sync_fetch_and_add(&c->packets, 1);
}

static __always_inline void add_shared(__u32 index, __u32 bytes)
{
	struct texporter_counter *c = bpf_map_lookup_elem(&shared, &index);

	if (c)
		add_atomic(c, bytes);
}

SEC("tc")
int cnt_floor(struct __sk_buff *skb)
{
	__u32 bytes;

	return pair_of(skb, &bytes) < 0 ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

SEC("tc")
int cnt_percpu(struct __sk_buff *skb)
{
	__u32 bytes, index;
	long pair = pair_of(skb, &bytes);
	struct texporter_counter *c;

	if (pair < 0)
		return TC_ACT_SHOT;
	index = (__u32)pair;
	c = bpf_map_lookup_elem(&percpu, &index);
	if (c) {
		c->bytes += bytes;
		c->packets += 1;
	}
	return TC_ACT_UNSPEC;
}

SEC("tc")
int cnt_shared(struct __sk_buff *skb)
{
	__u32 bytes;
	long pair = pair_of(skb, &bytes);

	if (pair < 0)
		return TC_ACT_SHOT;
	add_shared((__u32)pair, bytes);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int cnt_striped(struct __sk_buff *skb)
{
	__u32 bytes, stripe, index;
	long pair = pair_of(skb, &bytes);
	struct texporter_counter *c;

	if (pair < 0)
		return TC_ACT_SHOT;
	stripe = bpf_get_smp_processor_id() & ((1u << stripe_bits) - 1);
	index = stripe * (TEXPORTER_FAMILY_COUNT * capacity * capacity) + (__u32)pair;
	c = bpf_map_lookup_elem(&striped, &index);
	if (c)
		add_atomic(c, bytes);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int cnt_cache(struct __sk_buff *skb)
{
	__u32 bytes, index, key;
	long pair = pair_of(skb, &bytes);
	struct texporter_slot *s;

	if (pair < 0)
		return TC_ACT_SHOT;
	key = (__u32)pair + 1;
	index = texporter_slot_of((__u32)pair, capacity, 1u << slot_bits, slot_bits);
	s = bpf_map_lookup_elem(&cache, &index);
	if (!s)
		return TC_ACT_UNSPEC;
	if (s->key == 0)
		s->key = key; /* this CPU's slot: no other CPU writes it */
	if (s->key == key) {
		s->bytes += bytes;
		s->packets += 1;
	} else {
		add_shared((__u32)pair, bytes);
	}
	return TC_ACT_UNSPEC;
}

/* A slot for the pair at INDEX: the one handed out before, or the next
 * free one; 0 when none is left. */
static __always_inline __u32 slot_claim(__u32 *assigned)
{
	__u32 zero = 0, slot = 0;
	struct claim *c = bpf_map_lookup_elem(&claims, &zero);

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	slot = *assigned;
	if (!slot && c->next + 1 < (1u << slot_bits)) {
		slot = ++c->next;
		*assigned = slot;
	}
	bpf_spin_unlock(&c->lock);
	return slot;
}

SEC("tc")
int cnt_indirect(struct __sk_buff *skb)
{
	__u32 bytes, index, slot;
	long pair = pair_of(skb, &bytes);
	struct texporter_counter *c;
	__u32 *assigned;

	if (pair < 0)
		return TC_ACT_SHOT;
	index = (__u32)pair;
	assigned = bpf_map_lookup_elem(&pair_slot, &index);
	if (!assigned)
		return TC_ACT_UNSPEC;
	slot = *assigned;
	if (!slot)
		slot = slot_claim(assigned);
	c = slot ? bpf_map_lookup_elem(&slots, &slot) : NULL;
	if (c) {
		c->bytes += bytes;
		c->packets += 1;
	} else {
		add_shared(index, bytes);
	}
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Apache-2.0";
