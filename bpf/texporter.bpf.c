// SPDX-License-Identifier: Apache-2.0
/*
 * texporter data plane: classify the source and destination address of every
 * IPv4/IPv6 packet by named range and add its L3 bytes and wire packets to a
 * per-CPU counter. XDP on ingress (or TC ingress), TC on egress. Programs
 * never drop, redirect or modify a packet.
 *
 * Hot path: one parse, two trie walks of at most 3 (IPv4) or 15 (IPv6)
 * bounds-checked array loads each, one inlined per-CPU array add into the
 * pair's slot. No hash lookup, no atomic, no lock, no allocation. Only a
 * pair whose slot on this CPU another pair holds (possible only when the
 * loader gave fewer slots than pairs, bpf/texporter.h "Counters") adds
 * atomically to the shared map instead. Only an unmatched side, with
 * discovery on, leaves that path: a per-CPU array lookup into the
 * unmatched cache, and a per-CPU hash lookup (once per new prefix an
 * insert from the map's preallocated elements) only for a prefix that
 * holds no cache slot on this CPU.
 *
 * Kernel variants (the loader probes and picks; counts are the same): the
 * XDP program comes as texporter_xdp (xdp.frags, Linux >= 5.18) and as
 * texporter_xdp_single for older kernels; the range table is one map
 * element, or split into 4 MiB elements where the kernel caps a value
 * there (trie_split), at one more inlined array lookup per trie step.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "texporter.h"

/* Set by the loader before load: ids per axis and slots of the counter
 * maps, and the trie's strides (bpf/texporter.h). Constants to the verifier, so the
 * walks below compile down to the one layout in use. */
const volatile __u32 capacity = TEXPORTER_MIN_CAPACITY;
const volatile __u32 slots = 2 * TEXPORTER_MIN_CAPACITY * TEXPORTER_MIN_CAPACITY;
const volatile __u32 slot_bits = 9; /* slots = 2^slot_bits */
const volatile __u32 v4_root_bits = 16;
const volatile __u32 v6_second_bits = 8;
const volatile __u32 trie_entries = TEXPORTER_TRIE_MIN_ENTRIES;
const volatile __u32 trie_split = 0;
/* Unmatched discovery (bpf/texporter.h): off unless the loader turns it
 * on, in which case the code below is dead and removed at load. Masks in
 * network order, set by the loader from the prefix lengths. */
const volatile __u32 unmatched_on = 0;
const volatile __u32 unmatched_len[TEXPORTER_FAMILY_COUNT] = { 0, 0 };
const volatile __u32 unmatched_v4_mask = 0;
const volatile __u32 unmatched_v6_mask[4] = { 0, 0, 0, 0 };

/* The whole trie is one element, so that a walk reads it through one
 * pointer: a step is a bounds check and a load. With trie_split, elements
 * of TEXPORTER_TRIE_CHUNK_ENTRIES each, back to back in the map's memory
 * (so user space fills both shapes alike through one mmap). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, TEXPORTER_TRIE_MIN_ENTRIES * sizeof(__u32)); /* set by the loader */
	__uint(max_entries, 1); /* set by the loader */
} ranges SEC(".maps");

/* Both sized by the loader (bpf/texporter.h, "Counters"). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_slot);
	__uint(max_entries, 2 * TEXPORTER_MIN_CAPACITY * TEXPORTER_MIN_CAPACITY);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_counter);
	__uint(max_entries, 2 * TEXPORTER_MIN_CAPACITY * TEXPORTER_MIN_CAPACITY);
} shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, TEXPORTER_ERR_COUNT);
} errors SEC(".maps");

/* Set once an insert found the unmatched map full. Nothing ever deletes
 * a prefix (only a reload replaces the map, with new programs and so a
 * new flag), so a full map stays full: from then on a new prefix goes
 * straight to the untracked key, without an insert that would take the
 * bucket lock and search every CPU's free list only to fail. */
__u32 unmatched_full = 0;

/* Sized by the loader, which creates and pins it (or, with discovery
 * off, leaves this one-entry map unused and unpinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct texporter_unmatched_key);
	__type(value, struct texporter_counter);
	__uint(max_entries, 1);
} unmatched SEC(".maps");

/* Each CPU's recent tracked prefixes (bpf/texporter.h, "The unmatched
 * cache"); made and pinned by the loader with the unmatched map. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct texporter_unmatched_slot);
	__uint(max_entries, 1);
} unmatched_cache SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* What the parser learnt about one frame. */
struct frame {
	void *data;
	void *data_end;
	struct xdp_md *xdp; /* XDP with frags: frame length asked for only when needed */
	struct __sk_buff *skb; /* TC: asked for a VLAN tag held aside, or for GSO,
				* only when the frame needs it */
	__u32 len;      /* otherwise: the frame's length, L2 included */
	__u32 l3_off;   /* offset of the IP header */
	__u32 family;   /* enum texporter_family */
	__u32 l3_bytes; /* the IP packet's length as counted */
	__u32 src;      /* range ids */
	__u32 dst;
};

static __always_inline void count_error(__u32 reason)
{
	__u64 *value = bpf_map_lookup_elem(&errors, &reason);

	if (value)
		*value += 1;
}

/* The trie as a walk reads it: its entries, and their number, read once
 * per packet into a register rather than from .rodata at every step. In a
 * split table, entries and size are the element the walk is in, which
 * starts at entry base; the walk mostly stays there (a path's nodes are
 * built close together), and looks another element up only when it
 * leaves. */
struct trie {
	const __u32 *entries;
	__u64 size;
	__u64 base;
	int split; /* a constant in each copy of the walk: see classify() */
};

/* Moves TRIE to the element of a split table that holds entry INDEX, by
 * an array lookup the verifier inlines. Returns 0 when there is none. */
static __always_inline int trie_move(struct trie *trie, __u64 index)
{
	__u32 element = (__u32)(index >> TEXPORTER_TRIE_CHUNK_SHIFT);
	const __u32 *entries = bpf_map_lookup_elem(&ranges, &element);

	if (!entries)
		return 0;
	trie->entries = entries;
	trie->base = (__u64)element << TEXPORTER_TRIE_CHUNK_SHIFT;
	return 1;
}

/* Entry INDEX of TRIE. The bound is what lets the verifier allow the load;
 * in a one-element table it never fails on a trie the loader built, in a
 * split one it fails when the walk leaves the element it is in. */
static __always_inline __u32 trie_entry(struct trie *trie, __u64 index)
{
	__u64 off = index - trie->base;

	/* Keep clang from turning the compare below into one on what OFF was
	 * computed from (address < 2^28 for address >> 8 < 2^20), whose
	 * bound the verifier would not carry over to OFF. */
	if (trie->split)
		asm volatile("" : "+r"(off));
	if (off < trie->size)
		return trie->entries[off];
	if (!trie->split || !trie_move(trie, index))
		return TEXPORTER_UNMATCHED_ID;
	/* The mask is the verifier's bound: keep clang from dropping it where
	 * it knows INDEX is small (a root entry), which older verifiers do not
	 * (they lose the bounds of a byte-swapped address). */
	asm volatile("" : "+r"(index));
	return trie->entries[index & TEXPORTER_TRIE_CHUNK_MASK];
}

/* The entry for the next address BITS of array node ENTRY, whose flags are
 * FLAGS: one add on the path from one load to the next. */
static __always_inline __u32 trie_array(struct trie *trie, __u32 entry, __u32 flags, __u32 bits)
{
	return trie_entry(trie, (__u64)entry - flags + bits);
}

/* The value of span node ENTRY for KEY, the address bits it covers. Nodes
 * start on multiples of 32, so a node is all in one element of a split
 * table, which the mask proves to the verifier. */
static __always_inline __u32 trie_span(struct trie *trie, __u32 entry, __u32 key)
{
	__u64 first = (__u64)entry - (TEXPORTER_TRIE_CHILD | TEXPORTER_TRIE_SPAN);
	__u64 off = first - trie->base;

	if (off > trie->size - TEXPORTER_TRIE_SPAN_SIZE) {
		if (!trie->split || !trie_move(trie, first))
			return TEXPORTER_UNMATCHED_ID;
		asm volatile("" : "+r"(first)); /* keep the mask: see trie_entry() */
		off = first & (TEXPORTER_TRIE_CHUNK_MASK & ~(TEXPORTER_TRIE_SPAN_SIZE - 1));
	}
	/* The node's address from the register just checked, which is what
	 * the verifier knows the bound of (not one recomputed from ENTRY). */
	asm volatile("" : "+r"(off));
	return *texporter_trie_span_value(trie->entries + off, key);
}

/* The range id of a leaf. */
static __always_inline __u32 trie_leaf(__u32 entry)
{
	return entry >> TEXPORTER_TRIE_LEAF_SHIFT;
}

static __always_inline __u32 classify_ipv4(struct trie *trie, __be32 address)
{
	__u32 host = bpf_ntohl(address);
	__u32 entry;

	if (v4_root_bits == 24) {
		entry = trie_entry(trie, TEXPORTER_TRIE_V4_ROOT + (host >> 8));
		if (!(entry & TEXPORTER_TRIE_CHILD))
			return trie_leaf(entry);
		return trie_leaf(trie_array(trie, entry, TEXPORTER_TRIE_CHILD, host & 0xff));
	}
	entry = trie_entry(trie, TEXPORTER_TRIE_V4_ROOT + (host >> 16));
	if (!(entry & TEXPORTER_TRIE_CHILD))
		return trie_leaf(entry);
	entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, (host >> 8) & 0xff);
	if (!(entry & TEXPORTER_TRIE_CHILD))
		return trie_leaf(entry);
	return trie_leaf(trie_array(trie, entry, TEXPORTER_TRIE_CHILD, host & 0xff));
}

static __always_inline __u32 classify_ipv6(struct trie *trie, const struct in6_addr *address)
{
	const __u32 wide = TEXPORTER_TRIE_CHILD | TEXPORTER_TRIE_WIDE;
	__u32 word = bpf_ntohl(address->in6_u.u6_addr32[0]);
	__u32 entry = trie_entry(trie, texporter_trie_v6_root(v4_root_bits) + (word >> 16));

	if (!(entry & TEXPORTER_TRIE_CHILD))
		return trie_leaf(entry);
	if (entry & TEXPORTER_TRIE_SPAN) {
		entry = trie_span(trie, entry, word & 0xffff);
	} else if (v6_second_bits == 16) {
		entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, word & 0xffff);
	} else {
		entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, (word >> 8) & 0xff);
		if (!(entry & TEXPORTER_TRIE_CHILD))
			return trie_leaf(entry);
		entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, word & 0xff);
	}
	/* Bits 32-127, word by word: an array node takes the next byte (a
	 * wide one two, starting at byte 0 or 2), a span node the rest of the
	 * word (starting at byte 0, 1 or 2). */
#pragma unroll
	for (int w = 1; w < 4; w++) {
		word = bpf_ntohl(address->in6_u.u6_addr32[w]);
		if (!(entry & TEXPORTER_TRIE_CHILD))
			return trie_leaf(entry);
		if (entry & TEXPORTER_TRIE_SPAN) {
			entry = trie_span(trie, entry, word);
			continue;
		}
		if (entry & TEXPORTER_TRIE_WIDE) {
			entry = trie_array(trie, entry, wide, word >> 16);
		} else {
			entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, word >> 24);
			if (!(entry & TEXPORTER_TRIE_CHILD))
				return trie_leaf(entry);
			if (entry & TEXPORTER_TRIE_SPAN) {
				entry = trie_span(trie, entry, word & 0xffffff);
				continue;
			}
			entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, (word >> 16) & 0xff);
		}
		if (!(entry & TEXPORTER_TRIE_CHILD))
			return trie_leaf(entry);
		if (entry & TEXPORTER_TRIE_SPAN) {
			entry = trie_span(trie, entry, word & 0xffff);
			continue;
		}
		if (entry & TEXPORTER_TRIE_WIDE) {
			entry = trie_array(trie, entry, wide, word & 0xffff);
			continue;
		}
		entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, (word >> 8) & 0xff);
		if (!(entry & TEXPORTER_TRIE_CHILD))
			return trie_leaf(entry);
		entry = trie_array(trie, entry, TEXPORTER_TRIE_CHILD, word & 0xff);
	}
	return trie_leaf(entry);
}

/* parse_ethernet's and parse_carrier's answer for a frame that carries no
 * IP packet: the enum texporter_error reason, above every ethertype. */
#define L2_NOT_IP(reason) (0x10000u | (reason))
#define L2_IS_NOT_IP(proto) ((proto) > 0xffffu)

/* Whether the kernel holds a VLAN tag of the frame aside, in skb metadata:
 * on TC ingress the outer tag always (the kernel takes it out of the frame
 * before TC runs), on TC egress a tag a VLAN device left to the driver. XDP
 * sees every tag in the frame. */
static __always_inline int frame_tag_aside(const struct frame *f)
{
	return f->skb && f->skb->vlan_present;
}

/* Whether the frame is a GSO packet (TC only): the one kind whose IP
 * length field the kernel accepts as 0 (BIG TCP), taking the length from
 * the frame. */
static __always_inline int frame_gso(const struct frame *f)
{
	return f->skb && f->skb->gso_size;
}

/* Skips up to two VLAN tags (802.1Q, 802.1ad), a tag held aside counting as
 * the first, so that every hook sees the same two; returns the ethertype
 * of the payload and sets f->l3_off, or returns L2_NOT_IP(reason). With a
 * third tag the answer is that tag's ethertype, which is not IP. */
static __always_inline __u32 parse_ethernet(struct frame *f)
{
	struct ethhdr *eth = f->data;
	__u32 proto;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > f->data_end)
		return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vlan = f->data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		/* Asked only here, so untagged frames never ask. */
		if (i == 1 && frame_tag_aside(f))
			break;
		if ((void *)(vlan + 1) > f->data_end)
			return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
		proto = vlan->encapsulated_proto;
		off += sizeof(*vlan);
	}
	f->l3_off = off;
	return proto;
}

/* An MPLS label stack entry (RFC 3032): label, traffic class, bottom of
 * stack, TTL. */
#define MPLS_BOTTOM_OF_STACK 0x00000100u
#define MPLS_LABELS_MAX 8

/* Walks an MPLS label stack from f->l3_off to its bottom and takes the
 * payload for IP by its first nibble, as routers do when they hash it:
 * 4 IPv4, 6 IPv6. Anything else (a pseudowire control word, Ethernet over
 * MPLS without one) and a stack deeper than MPLS_LABELS_MAX are not IP.
 * Returns the payload's ethertype with f->l3_off at it, or L2_NOT_IP. */
static __always_inline __u32 parse_mpls(struct frame *f)
{
	__u32 off = f->l3_off;

#pragma unroll
	for (int i = 0; i < MPLS_LABELS_MAX; i++) {
		__be32 *entry = f->data + off;
		__u8 *payload = (void *)(entry + 1);

		if ((void *)(entry + 1) > f->data_end)
			return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
		off += sizeof(*entry);
		if (!(*entry & bpf_htonl(MPLS_BOTTOM_OF_STACK)))
			continue;
		if ((void *)(payload + 1) > f->data_end)
			return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
		f->l3_off = off;
		if (*payload >> 4 == 4)
			return bpf_htons(ETH_P_IP);
		if (*payload >> 4 == 6)
			return bpf_htons(ETH_P_IPV6);
		return L2_NOT_IP(TEXPORTER_ERR_NON_IP);
	}
	return L2_NOT_IP(TEXPORTER_ERR_NON_IP);
}

/* A PPPoE session frame (RFC 2516): the PPPoE header, then PPP's protocol
 * field, uncompressed as RFC 2516 asks. */
struct pppoe_session {
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;
	__be16 protocol;
};

#define PPP_PROTO_IPV4 0x0021
#define PPP_PROTO_IPV6 0x0057

/* Returns the ethertype of a PPPoE session frame's IPv4 or IPv6 packet
 * with f->l3_off at it, or L2_NOT_IP (LCP, IPCP, anything else of PPP's). */
static __always_inline __u32 parse_pppoe(struct frame *f)
{
	struct pppoe_session *s = f->data + f->l3_off;

	if ((void *)(s + 1) > f->data_end)
		return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
	f->l3_off += sizeof(*s);
	if (s->protocol == bpf_htons(PPP_PROTO_IPV4))
		return bpf_htons(ETH_P_IP);
	if (s->protocol == bpf_htons(PPP_PROTO_IPV6))
		return bpf_htons(ETH_P_IPV6);
	return L2_NOT_IP(TEXPORTER_ERR_NON_IP);
}

/* f->l3_off as an offset the verifier knows only to be below 256. It
 * checks the IP parsers and both trie walks once per IP header offset it
 * knows exactly: three for IP behind Ethernet, but 27 more for MPLS (8
 * depths) and PPPoE behind 0-2 VLAN tags, and several times as many
 * instructions to check. Adding a difference of two copies of a packet
 * byte, which it cannot tell is 0, makes them all one offset to check. */
static __always_inline __u32 l3_off_unknown_to_verifier(struct frame *f)
{
	__u8 *byte = f->data + (f->l3_off & 0xff);
	__u32 same;

	if ((void *)(byte + 1) > f->data_end)
		return L2_NOT_IP(TEXPORTER_ERR_TRUNCATED);
	same = *byte;
	asm volatile("" : "+r"(same));
	f->l3_off = (f->l3_off + *byte - same) & 0xff;
	return 0;
}

/* What carries IP on links where it is not right behind Ethernet: MPLS on
 * a provider's core links, PPPoE on an access concentrator's. PROTO is
 * what parse_ethernet answered; off the hot path. */
static __always_inline __u32 parse_carrier(struct frame *f, __u32 proto)
{
	if (proto == bpf_htons(ETH_P_MPLS_UC) || proto == bpf_htons(ETH_P_MPLS_MC))
		proto = parse_mpls(f);
	else if (proto == bpf_htons(ETH_P_PPP_SES))
		proto = parse_pppoe(f);
	else if (!L2_IS_NOT_IP(proto))
		return L2_NOT_IP(TEXPORTER_ERR_NON_IP);
	if (L2_IS_NOT_IP(proto))
		return proto;
	return l3_off_unknown_to_verifier(f) ?: proto;
}

/* Bytes present from the IP header on. XDP multi-buffer frames (jumbo,
 * xdp.frags) carry more than the linear part: ask for their length only
 * when the linear part does not hold the CLAIMED bytes, off the hot path. */
static __always_inline __u32 frame_l3_present(const struct frame *f, __u32 claimed)
{
	__u32 linear = (__u32)(f->data_end - f->data) - f->l3_off;

	if (!f->xdp)
		return f->len - f->l3_off;
	if (claimed <= linear)
		return linear;
	return (__u32)bpf_xdp_get_buff_len(f->xdp) - f->l3_off;
}

/* The claimed IP length checked against the frame: a claim longer than the
 * frame is counted with what is there and reported. */
static __always_inline __u32 l3_length(const struct frame *f, __u32 claimed)
{
	__u32 present = frame_l3_present(f, claimed);

	if (claimed > present) {
		count_error(TEXPORTER_ERR_LENGTH);
		return present;
	}
	return claimed;
}

/* parse_frame's answer for an IP packet that f now describes; any other
 * answer is the enum texporter_error reason it is not counted. */
#define FRAME_IP (-1)

/* Sets f->src and f->dst from the IP header at L3 with a walk built for
 * one shape of the table: SPLIT is a constant in each of the two copies
 * parse_frame makes, so the copy the loaded table does not use is dead
 * code the verifier removes, and the one-element walk pays nothing for
 * the split one. */
static __always_inline void classify(struct frame *f, const void *l3, int split)
{
	__u32 zero = 0;
	struct trie trie = {
		.entries = bpf_map_lookup_elem(&ranges, &zero), /* never NULL */
		.size = split ? TEXPORTER_TRIE_CHUNK_ENTRIES : trie_entries,
		.split = split,
	};

	if (!trie.entries)
		return;
	if (f->family == TEXPORTER_IPV4) {
		const struct iphdr *ip = l3;

		f->src = classify_ipv4(&trie, ip->saddr);
		f->dst = classify_ipv4(&trie, ip->daddr);
	} else {
		const struct ipv6hdr *ip6 = l3;

		f->src = classify_ipv6(&trie, &ip6->saddr);
		f->dst = classify_ipv6(&trie, &ip6->daddr);
	}
}

static __always_inline void classify_frame(struct frame *f, const void *l3)
{
	if (trie_split)
		classify(f, l3, 1);
	else
		classify(f, l3, 0);
}

/* Version 4 and an IHL of 5 to 15 words, in one compare of the first byte. */
#define IPV4_FIRST_BYTE_MIN 0x45
#define IPV4_FIRST_BYTE_MAX 0x4f

/* An IPv4 packet as the kernel's ip_rcv takes it: a total length below
 * the header's own is a header error, and so is 0, except in a GSO packet
 * (BIG TCP), whose length is the frame's. */
static __always_inline int parse_ipv4(struct frame *f)
{
	struct iphdr *ip = f->data + f->l3_off;
	__u32 first, claimed;

	if ((void *)(ip + 1) > f->data_end)
		return TEXPORTER_ERR_TRUNCATED;
	first = *(__u8 *)ip;
	if (first - IPV4_FIRST_BYTE_MIN > IPV4_FIRST_BYTE_MAX - IPV4_FIRST_BYTE_MIN)
		return TEXPORTER_ERR_MALFORMED;
	claimed = bpf_ntohs(ip->tot_len);
	if (claimed >= (first & 0xf) * 4)
		f->l3_bytes = l3_length(f, claimed);
	else if (claimed == 0 && frame_gso(f))
		f->l3_bytes = f->len - f->l3_off; /* TC: the frame is linear or f->len */
	else
		return TEXPORTER_ERR_MALFORMED;
	f->family = TEXPORTER_IPV4;
	classify_frame(f, ip);
	return FRAME_IP;
}

#define IPV6_JUMBO_OPTION 0xc2
#define IPV6_OPTION_PAD1 0
#define IPV6_HBH_OPTIONS_MAX 8 /* options looked at for a Jumbo Payload one */

/* The length a Jumbo Payload option (RFC 2675) gives an IPv6 packet whose
 * payload length is 0, checked as the kernel's ipv6_hop_jumbo checks it:
 * in the hop-by-hop header right after the IPv6 header, option length 4,
 * aligned 4n + 2, a value above 65,535. Returns FRAME_IP with *length set
 * (40 + the value, at most 2^32 - 1), or the reason the packet is not
 * counted: without such an option, or with a bad one, it is malformed. */
static __always_inline int ipv6_jumbo_length(const struct frame *f, const struct ipv6hdr *ip6,
					     __u32 *length)
{
	const __u8 *hbh = (const void *)(ip6 + 1);
	__u32 end, off = 2, value;

	if (ip6->nexthdr != IPPROTO_HOPOPTS)
		return TEXPORTER_ERR_MALFORMED;
	if ((void *)(hbh + 2) > f->data_end)
		return TEXPORTER_ERR_TRUNCATED;
	end = (hbh[1] + 1) * 8;
#pragma unroll
	for (int i = 0; i < IPV6_HBH_OPTIONS_MAX; i++) {
		const __u8 *option = hbh + off;

		if (off >= end)
			break;
		if ((void *)(option + 1) > f->data_end)
			return TEXPORTER_ERR_TRUNCATED;
		if (option[0] == IPV6_OPTION_PAD1) {
			off += 1;
			continue;
		}
		if ((void *)(option + 2) > f->data_end)
			return TEXPORTER_ERR_TRUNCATED;
		if (option[0] != IPV6_JUMBO_OPTION) {
			off += 2 + option[1];
			continue;
		}
		if (option[1] != 4 || (off & 3) != 2 || off + 6 > end)
			return TEXPORTER_ERR_MALFORMED;
		if ((void *)(option + 6) > f->data_end)
			return TEXPORTER_ERR_TRUNCATED;
		value = (__u32)option[2] << 24 | (__u32)option[3] << 16 | (__u32)option[4] << 8 |
			option[5];
		if (value <= 0xffff)
			return TEXPORTER_ERR_MALFORMED;
		*length = value > 0xffffffffu - sizeof(*ip6) ? 0xffffffffu : sizeof(*ip6) + value;
		return FRAME_IP;
	}
	return TEXPORTER_ERR_MALFORMED;
}

/* An IPv6 packet as the kernel's ipv6_rcv takes it: 40 + the payload
 * length; a payload length of 0 only in a jumbogram (the length in its
 * Jumbo Payload option) or a GSO packet (BIG TCP: the frame's length). */
static __always_inline int parse_ipv6(struct frame *f)
{
	struct ipv6hdr *ip6 = f->data + f->l3_off;
	__u32 payload, jumbo;
	int reason;

	if ((void *)(ip6 + 1) > f->data_end)
		return TEXPORTER_ERR_TRUNCATED;
	if (ip6->version != 6)
		return TEXPORTER_ERR_MALFORMED;
	payload = bpf_ntohs(ip6->payload_len);
	if (payload) {
		f->l3_bytes = l3_length(f, sizeof(*ip6) + payload);
	} else if (frame_gso(f)) {
		f->l3_bytes = f->len - f->l3_off; /* TC: the frame is linear or f->len */
	} else {
		reason = ipv6_jumbo_length(f, ip6, &jumbo);
		if (reason != FRAME_IP)
			return reason;
		f->l3_bytes = l3_length(f, jumbo);
	}
	f->family = TEXPORTER_IPV6;
	classify_frame(f, ip6);
	return FRAME_IP;
}

/* Returns FRAME_IP, or the enum texporter_error reason the frame is not
 * counted as traffic. IP right behind Ethernet and its VLAN tags goes
 * straight to the IP parsers, as before MPLS and PPPoE were counted; only
 * other frames look further, and join those parsers (one copy each) with
 * a second look at what they found. */
static __always_inline int parse_frame(struct frame *f)
{
	__u32 proto = parse_ethernet(f);

	if (proto == bpf_htons(ETH_P_IP))
		goto ipv4;
	if (proto == bpf_htons(ETH_P_IPV6))
		goto ipv6;
	proto = parse_carrier(f, proto);
	if (L2_IS_NOT_IP(proto))
		return proto & 0xffff;
	if (proto == bpf_htons(ETH_P_IPV6))
		goto ipv6;
ipv4:
	return parse_ipv4(f);
ipv6:
	return parse_ipv6(f);
}

/* A pair whose slot on this CPU another pair holds: added atomically
 * (BPF_XADD, which 5.10 has), as other CPUs may add to it too. */
static __always_inline void count_shared(__u32 index, __u32 bytes, __u32 packets)
{
	struct texporter_counter *c = bpf_map_lookup_elem(&shared, &index);

	if (!c)
		return; /* ids are below capacity by construction */
	__sync_fetch_and_add(&c->bytes, bytes);
	__sync_fetch_and_add(&c->packets, packets);
}

/* In the pair's slot of this CPU's copy of counters, claimed when free:
 * no other CPU writes this copy, so plain adds. */
static __always_inline void count(const struct frame *f, __u32 bytes, __u32 packets)
{
	__u32 index = texporter_counter_index(capacity, f->family, f->src, f->dst);
	__u32 at = texporter_slot_of(index, capacity, slots, slot_bits);
	struct texporter_slot *s = bpf_map_lookup_elem(&counters, &at);

	if (!s)
		return; /* the slot is below slots by construction */
	if (!s->key)
		s->key = index + 1;
	if (s->key != index + 1) {
		count_shared(index, bytes, packets);
		return;
	}
	s->bytes += bytes;
	s->packets += packets;
}

/* K's address: SIDE's of the IP header at f->l3_off, masked to the
 * configured prefix. 0, or -1 when the header is not there (it was when
 * the frame was parsed). */
static __always_inline int unmatched_key_fill(const struct frame *f, __u32 side,
					      struct texporter_unmatched_key *k)
{
	if (f->family == TEXPORTER_IPV4) {
		const struct iphdr *ip = f->data + (f->l3_off & 0xff);

		if ((void *)(ip + 1) > f->data_end)
			return -1;
		k->addr[0] = (side ? ip->daddr : ip->saddr) & unmatched_v4_mask;
	} else {
		const struct ipv6hdr *ip6 = f->data + (f->l3_off & 0xff);
		const __u32 *a;

		if ((void *)(ip6 + 1) > f->data_end)
			return -1;
		a = side ? ip6->daddr.in6_u.u6_addr32 : ip6->saddr.in6_u.u6_addr32;
		k->addr[0] = a[0] & unmatched_v6_mask[0];
		k->addr[1] = a[1] & unmatched_v6_mask[1];
		k->addr[2] = a[2] & unmatched_v6_mask[2];
		k->addr[3] = a[3] & unmatched_v6_mask[3];
	}
	k->len = (__u8)unmatched_len[f->family & 1];
	return 0;
}

/* Whether two unmatched keys are equal (word by word: 20 bytes). */
static __always_inline int unmatched_key_equal(const struct texporter_unmatched_key *a,
					       const struct texporter_unmatched_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* K's element of the unmatched map, or NULL when the packet is already
 * counted (*COUNTED: K was new and inserted with it) or the map is full
 * (a full map refuses the insert, no eviction). */
#ifndef E2BIG
#define E2BIG 7
#endif
static __always_inline struct texporter_counter *
unmatched_tracked(const struct texporter_unmatched_key *k, __u32 bytes, __u32 packets,
		  int *counted)
{
	struct texporter_counter *v = bpf_map_lookup_elem(&unmatched, k);
	struct texporter_counter fresh = { bytes, packets };
	long err;

	if (v || unmatched_full)
		return v;
	err = bpf_map_update_elem(&unmatched, k, &fresh, BPF_NOEXIST);
	if (!err) {
		*counted = 1;
		return NULL;
	}
	if (err == -E2BIG) {
		unmatched_full = 1;
		return NULL;
	}
	return bpf_map_lookup_elem(&unmatched, k); /* inserted by another CPU */
}

/* Entry SLOT of this CPU's unmatched cache (NULL only if the lookup
 * fails). */
static __always_inline struct texporter_unmatched_slot *unmatched_slot(__u32 slot)
{
	return bpf_map_lookup_elem(&unmatched_cache, &slot);
}

/* Adds to the slot S if K holds it: 1 when it did. */
static __always_inline int unmatched_slot_add(struct texporter_unmatched_slot *s,
					      const struct texporter_unmatched_key *k,
					      __u32 bytes, __u32 packets)
{
	if (!s || !unmatched_key_equal(&s->key, k))
		return 0;
	s->bytes += bytes;
	s->packets += packets;
	return 1;
}

/* K, which is in the unmatched map, takes the slot S if it is free: its
 * next packets on this CPU count there. */
static __always_inline void unmatched_slot_claim(struct texporter_unmatched_slot *s,
						 const struct texporter_unmatched_key *k)
{
	if (s && texporter_unmatched_slot_free(s))
		s->key = *k;
}

/* Adds to SIDE's prefix: in its slot of this CPU's cache when it holds
 * the slot, else in the unmatched map, inserting it when new, and then
 * claims the slot if it is free. A prefix the full map cannot take goes
 * to the untracked key of (family, side), in its cache entry (or in the
 * map, should the entry not hold it), so nothing counted as unmatched is
 * missing from the sum. */
static __always_inline void count_unmatched_side(const struct frame *f, __u32 side, __u32 bytes,
						 __u32 packets)
{
	struct texporter_unmatched_key k = { .family = (__u8)f->family, .side = (__u8)side };
	struct texporter_unmatched_slot *s;
	struct texporter_counter *v;
	int counted = 0;

	if (unmatched_key_fill(f, side, &k))
		return;
	s = unmatched_slot(texporter_unmatched_slot_of(&k));
	if (unmatched_slot_add(s, &k, bytes, packets))
		return;
	v = unmatched_tracked(&k, bytes, packets, &counted);
	if (v || counted) {
		unmatched_slot_claim(s, &k);
		if (counted)
			return;
	} else {
		struct texporter_unmatched_key u = { .family = (__u8)f->family,
						     .side = (__u8)side, .untracked = 1 };

		s = unmatched_slot(texporter_unmatched_untracked_slot(f->family, side));
		if (unmatched_slot_add(s, &u, bytes, packets))
			return;
		v = bpf_map_lookup_elem(&unmatched, &u);
		if (!v)
			return; /* the loader inserts it before any program runs */
	}
	v->bytes += bytes;
	v->packets += packets;
}

/* Off the hit path: only a packet with an unmatched side gets here. */
static __always_inline void count_unmatched(const struct frame *f, __u32 bytes, __u32 packets)
{
	if (f->src == TEXPORTER_UNMATCHED_ID)
		count_unmatched_side(f, TEXPORTER_SIDE_SRC, bytes, packets);
	if (f->dst == TEXPORTER_UNMATCHED_ID)
		count_unmatched_side(f, TEXPORTER_SIDE_DST, bytes, packets);
}

/* Counts a classified frame, and its unmatched sides when asked to. */
static __always_inline void count_frame(const struct frame *f, __u32 bytes, __u32 packets)
{
	count(f, bytes, packets);
	if (unmatched_on && (f->src == TEXPORTER_UNMATCHED_ID || f->dst == TEXPORTER_UNMATCHED_ID))
		count_unmatched(f, bytes, packets);
}

/* FRAGS: the program may see multi-buffer frames, whose length beyond the
 * linear part it asks the kernel for; without, the frame is all linear. */
static __always_inline int xdp_count(struct xdp_md *ctx, int frags)
{
	struct frame f = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	int reason;

	if (frags)
		f.xdp = ctx;
	else
		f.len = (__u32)(f.data_end - f.data);
	reason = parse_frame(&f);
	if (reason != FRAME_IP)
		count_error(reason);
	else
		count_frame(&f, f.l3_bytes, 1);
	return XDP_PASS;
}

SEC("xdp.frags")
int texporter_xdp(struct xdp_md *ctx)
{
	return xdp_count(ctx, 1);
}

/* For kernels before 5.18, which load no xdp.frags program (nor call
 * bpf_xdp_get_buff_len): they hand XDP single-buffer frames only. */
SEC("xdp")
int texporter_xdp_single(struct xdp_md *ctx)
{
	return xdp_count(ctx, 0);
}

/* What every segment of a GSO packet repeats, and what the super-packet
 * carries that no segment does. */
struct gso_shape {
	__u32 headers;     /* IP, extension and transport header bytes per segment */
	__u32 not_on_wire; /* the IPv6 jumbo option of BIG TCP, stripped when segmenting */
};

#define IPV6_EXT_MAX 3 /* extension headers followed before giving up */

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-byte units, not counting the first 8 */
	__u8 option_type;
	__u8 option_len;
};

/* Walks IPv6 extension headers (hop-by-hop, routing, destination) to the
 * transport header. Returns its protocol and sets *l4_off. */
static __always_inline __u8 ipv6_skip_extensions(const struct frame *f, __u8 proto, __u32 *l4_off,
						 struct gso_shape *g)
{
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		struct ipv6_ext *ext = f->data + (*l4_off & 0xff);

		if (proto != IPPROTO_HOPOPTS && proto != IPPROTO_ROUTING && proto != IPPROTO_DSTOPTS)
			break;
		if ((void *)(ext + 1) > f->data_end)
			break;
		if (proto == IPPROTO_HOPOPTS && ext->hdrlen == 0 &&
		    ext->option_type == IPV6_JUMBO_OPTION)
			g->not_on_wire += 8;
		else
			g->headers += (ext->hdrlen + 1) * 8;
		*l4_off += (ext->hdrlen + 1) * 8;
		proto = ext->nexthdr;
	}
	return proto;
}

/* Fills g for a GSO packet; headers stays without the transport header
 * when the transport is neither TCP nor UDP. */
static __always_inline void gso_shape_of(const struct frame *f, struct gso_shape *g)
{
	__u32 l4_off;
	__u8 proto;

	if (f->family == TEXPORTER_IPV4) {
		struct iphdr *ip = f->data + f->l3_off;

		if ((void *)(ip + 1) > f->data_end)
			return;
		g->headers = ip->ihl * 4;
		l4_off = f->l3_off + g->headers;
		proto = ip->protocol;
	} else {
		struct ipv6hdr *ip6 = f->data + f->l3_off;

		if ((void *)(ip6 + 1) > f->data_end)
			return;
		g->headers = sizeof(*ip6);
		l4_off = f->l3_off + sizeof(*ip6);
		proto = ipv6_skip_extensions(f, ip6->nexthdr, &l4_off, g);
	}
	if (proto == IPPROTO_UDP) {
		g->headers += sizeof(struct udphdr);
	} else if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = f->data + (l4_off & 0xff);

		if ((void *)(tcp + 1) <= f->data_end)
			g->headers += tcp->doff * 4;
	}
}

/* Ethernet, two VLAN tags, eight MPLS labels, IPv6 with a few extension
 * headers and the longest TCP header. */
#define TC_HEADERS_MAX 192

static __always_inline int tc_count(struct __sk_buff *skb)
{
	__u32 want = skb->len < TC_HEADERS_MAX ? skb->len : TC_HEADERS_MAX;
	__u32 segments = skb->gso_segs;
	struct frame f = { .len = skb->len, .skb = skb };
	int reason;

	/* Headers beyond the linear part (rare): make them readable first. */
	if ((void *)(long)skb->data + want > (void *)(long)skb->data_end)
		bpf_skb_pull_data(skb, want);
	f.data = (void *)(long)skb->data;
	f.data_end = (void *)(long)skb->data_end;
	reason = parse_frame(&f);
	if (reason != FRAME_IP) {
		count_error(reason);
		return TC_ACT_UNSPEC;
	}
	if (segments > 1 && skb->gso_size) {
		/* A GSO/GRO super-packet: the wire carries `segments` packets, each
		 * repeating the IP and transport headers. */
		struct gso_shape g = {};

		gso_shape_of(&f, &g);
		count_frame(&f, skb->len - f.l3_off - g.not_on_wire + (segments - 1) * g.headers,
			    segments);
	} else {
		count_frame(&f, f.l3_bytes, 1);
	}
	return TC_ACT_UNSPEC;
}

/* One program for TC ingress and egress: both see the frame from L2. */
SEC("tc")
int texporter_tc(struct __sk_buff *skb)
{
	return tc_count(skb);
}

char LICENSE[] SEC("license") = "Apache-2.0";
