// SPDX-License-Identifier: Apache-2.0
/*
 * Reference for the benchmark, not part of texporter: the obvious design
 * texporter's flat trie replaced. The same parse (Ethernet, two VLAN tags,
 * IPv4/IPv6) and the same per-CPU counter add, but source and destination
 * are classified with two BPF_MAP_TYPE_LPM_TRIE lookups. tests/bench/bench.c
 * sizes and fills the tries from the same config.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "texporter.h"

#define LPM_CAPACITY 64 /* ids per axis; bench configs have fewer names */

struct lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm4_key);
	__type(value, __u32);
	__uint(max_entries, 1); /* set by bench.c */
} lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm6_key);
	__type(value, __u32);
	__uint(max_entries, 1); /* set by bench.c */
} lpm6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 2 * LPM_CAPACITY * LPM_CAPACITY);
} lpm_counters SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

static __always_inline __u32 id_of(const __u32 *value)
{
	return value ? *value & (LPM_CAPACITY - 1) : TEXPORTER_UNMATCHED_ID;
}

static __always_inline void add(__u32 family, __u32 src, __u32 dst, __u32 bytes)
{
	__u32 index = (family * LPM_CAPACITY + src) * LPM_CAPACITY + dst;
	struct texporter_counter *c = bpf_map_lookup_elem(&lpm_counters, &index);

	if (c) {
		c->bytes += bytes;
		c->packets += 1;
	}
}

SEC("xdp.frags")
int lpm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vlan = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		proto = vlan->encapsulated_proto;
		off += sizeof(*vlan);
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		struct lpm4_key key = { .prefixlen = 32 };
		__u32 src;

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(key.addr, &ip->saddr, 4);
		src = id_of(bpf_map_lookup_elem(&lpm4, &key));
		__builtin_memcpy(key.addr, &ip->daddr, 4);
		add(TEXPORTER_IPV4, src, id_of(bpf_map_lookup_elem(&lpm4, &key)),
		    bpf_ntohs(ip->tot_len));
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		struct lpm6_key key = { .prefixlen = 128 };
		__u32 src;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
		src = id_of(bpf_map_lookup_elem(&lpm6, &key));
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
		add(TEXPORTER_IPV6, src, id_of(bpf_map_lookup_elem(&lpm6, &key)),
		    sizeof(*ip6) + bpf_ntohs(ip6->payload_len));
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Apache-2.0";
