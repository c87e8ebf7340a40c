/* SPDX-License-Identifier: Apache-2.0 */
/*
 * texporter map and pin layout: the one contract between the BPF programs
 * (bpf/texporter.bpf.c), the loader and the reader. Both sides include this
 * file; nothing else about the layout is written down twice.
 *
 * Pins, under <pin-root>/<iface>/:
 *   meta      ARRAY[1]  struct texporter_meta        loader writes, reader reads
 *   names     ARRAY[capacity] struct texporter_name  id -> range name ("" = free);
 *             id 0 holds the name of the unmatched range (default "other")
 *   counters  PERCPU_ARRAY[slots] struct texporter_slot: each CPU's own
 *             counts of the pairs it holds a slot for (see "Counters"
 *             below); slots is the map's max_entries, a power of two
 *   shared    ARRAY[texporter_counter_slots(capacity)] struct texporter_counter,
 *             index texporter_counter_index(family, src id, dst id): the
 *             counts of pairs that found their slot held by another pair,
 *             added atomically
 *   carry     ARRAY, same layout as shared, optional: totals carried over
 *             from counter maps the loader replaced (when it grew them or
 *             a reload removed a name); the reader adds it
 *   errors    PERCPU_ARRAY[TEXPORTER_ERR_COUNT] __u64 (enum texporter_error)
 *   ranges    ARRAY of the classification trie (__u32 entries): one element
 *             holding all of it, or, on kernels that cap a map value at
 *             4 MiB (the loader probes), split into elements of
 *             TEXPORTER_TRIE_CHUNK_ENTRIES each (meta.features says which)
 *   unmatched PERCPU_HASH[entries + TEXPORTER_UNMATCHED_RESERVED]
 *             struct texporter_unmatched_key -> struct texporter_counter:
 *             unmatched addresses aggregated to a prefix, per family and
 *             side, plus the untracked key of each (family, side): what
 *             found the map full. Optional: absent with
 *             --unmatched-entries 0 or from an older loader. Its map name
 *             records the prefix lengths (texporter_unmatched_map_name)
 *   unmatched_cache  PERCPU_ARRAY[TEXPORTER_UNMATCHED_CACHE_ENTRIES] struct
 *             texporter_unmatched_slot: each CPU's counts of tracked
 *             prefixes that hold a slot on it, and of the untracked keys
 *             (see "The unmatched cache" below); pinned, kept and replaced
 *             with unmatched
 *   link_ingress, link_egress  bpf_link pins (0600); absent for legacy tc
 *   journal, next_*  the loader's own, only while a reload is under way or
 *             after a loader was killed in one (loader/journal.h); readers
 *             ignore them
 */
#ifndef TEXPORTER_H
#define TEXPORTER_H

#include <linux/types.h>

#define TEXPORTER_LAYOUT_VERSION 2
/* Layout 1 (texporter before slots): counters was a PERCPU_ARRAY of
 * texporter_counter_slots(capacity) struct texporter_counter indexed by
 * texporter_counter_index, and there was no shared map. The loader reads
 * it once to carry its totals into layout 2; nothing else reads it. */
#define TEXPORTER_LAYOUT_DENSE 1
#define TEXPORTER_META_MAGIC 0x54455850u /* "TEXP" */

#define TEXPORTER_NAME_LEN 64      /* 1-63 bytes of UTF-8 + NUL */
#define TEXPORTER_MAX_IDS 1024     /* ids per interface, unmatched id 0 included */
#define TEXPORTER_MIN_CAPACITY 16  /* smallest id capacity the loader creates */
#define TEXPORTER_UNMATCHED_ID 0

/*
 * The trie is a flat multibit trie in one u32 array. An entry is a leaf,
 * the range id << TEXPORTER_TRIE_LEAF_SHIFT, or a child node: the index of
 * the node's first entry (always a multiple of 32) with TEXPORTER_TRIE_CHILD
 * set, and the node's kind in the other low bits. With the flags in bits a
 * node's index leaves free, a step down the trie is one add to the loaded
 * entry. Nodes are of two kinds:
 *
 * - array node (TEXPORTER_TRIE_SPAN clear): 2^s entries, one per value of
 *   the next s address bits, so the child's entry for the next bits is
 *   entry - flags + those bits. Prefix lengths are expanded to the node
 *   boundaries by the loader. From IPv6 bit 32 on, s is 16 with
 *   TEXPORTER_TRIE_WIDE set (only on a 16-bit boundary), else 8.
 * - span node (TEXPORTER_TRIE_SPAN set; IPv6, from address bit 16 on, not
 *   at the last byte of a word): the rest of the 32-bit address word the
 *   node starts in (all of it when it starts on a word boundary), cut into
 *   at most 16 runs that classify alike. Its 32 entries are 15 ascending
 *   run starts (unused ones 0xffffffff), one unused entry, then 16 values:
 *   the value for address bits K (the word's remaining bits, as a number)
 *   is entry 16 + (the number of run starts <= K). Unused values repeat the
 *   last run's. A value is a leaf or, for a run of one that holds longer
 *   prefixes, a child node starting at the next word. One cache line of
 *   starts and one of values stand in for up to four array nodes where a
 *   sparse part of the address space would use one slot of each.
 *
 * The strides are chosen by the loader per load (struct texporter_meta says
 * which): IPv4 starts with a root of 2^16 entries, or of 2^24 entries when
 * the config is large enough that the 16-bit root's children take as much
 * memory anyway; IPv6 starts with a root of 2^16 entries, then (unless a
 * span node does) a node of 2^16 entries, or 2^8 when that would cost too
 * much memory, for address bits 16-31. The IPv4 root starts at entry 0,
 * the IPv6 root right after it.
 */
#define TEXPORTER_TRIE_CHILD 0x1u
#define TEXPORTER_TRIE_SPAN 0x2u
#define TEXPORTER_TRIE_WIDE 0x4u
#define TEXPORTER_TRIE_FLAGS 0x7u
#define TEXPORTER_TRIE_LEAF_SHIFT 3
#define TEXPORTER_TRIE_V4_ROOT 0u
#define TEXPORTER_TRIE_V6_ROOT_BITS 16
#define TEXPORTER_TRIE_SPAN_SIZE 32u   /* entries of a span node */
#define TEXPORTER_TRIE_SPAN_RUNS 16u
#define TEXPORTER_TRIE_SPAN_FIRST 16u  /* the first IPv6 bit a span node starts at */
#define TEXPORTER_TRIE_WIDE_FIRST 32u  /* the first IPv6 bit a wide node starts at */
/* The smallest trie: the two 16-bit roots. */
#define TEXPORTER_TRIE_MIN_ENTRIES (2u << TEXPORTER_TRIE_V6_ROOT_BITS)
/* A split table's elements: 4 MiB, the largest map value every supported
 * kernel accepts (KMALLOC_MAX_SIZE with 4 KiB pages). A power of two, so
 * that entry i is entry (i & MASK) of element (i >> SHIFT); nodes start on
 * multiples of 32, so a span node never straddles two elements. */
#define TEXPORTER_TRIE_CHUNK_SHIFT 20
#define TEXPORTER_TRIE_CHUNK_ENTRIES (1u << TEXPORTER_TRIE_CHUNK_SHIFT)
#define TEXPORTER_TRIE_CHUNK_MASK (TEXPORTER_TRIE_CHUNK_ENTRIES - 1)

static inline __u32 texporter_trie_v6_root(__u32 v4_root_bits)
{
	return 1u << v4_root_bits;
}

/* One step of the search below: past the 2^k run starts ahead when the last
 * of them is <= KEY. The empty asm keeps it a branch around an add (the
 * branch is predicted, so the next load need not wait for this compare);
 * as a select, each step's load would wait for the last one's. */
#define TEXPORTER_TRIE_SPAN_STEP(run, key, k)                          \
	do {                                                           \
		if ((run)[(k) - 1] <= (key)) {                         \
			__asm__ __volatile__("" : "+r"(run));          \
			(run) += (k);                                  \
		}                                                      \
	} while (0)

/* The value of span node NODE (its 32 entries) for KEY, the address bits
 * the node covers: a binary search of the 15 run starts. */
static inline __attribute__((always_inline)) const __u32 *
texporter_trie_span_value(const __u32 *node, __u32 key)
{
	const __u32 *run = node;

	TEXPORTER_TRIE_SPAN_STEP(run, key, 8);
	TEXPORTER_TRIE_SPAN_STEP(run, key, 4);
	TEXPORTER_TRIE_SPAN_STEP(run, key, 2);
	TEXPORTER_TRIE_SPAN_STEP(run, key, 1);
	return run + TEXPORTER_TRIE_SPAN_RUNS;
}

enum texporter_family {
	TEXPORTER_IPV4 = 0,
	TEXPORTER_IPV6 = 1,
	TEXPORTER_FAMILY_COUNT = 2,
};

struct texporter_counter {
	__u64 bytes;   /* L3 bytes */
	__u64 packets; /* wire packets (GSO segments) */
};

static inline __u32 texporter_counter_index(__u32 capacity, __u32 family,
					    __u32 src, __u32 dst)
{
	return (family * capacity + src) * capacity + dst;
}

/* Slots of a counter map (and of carry) with CAPACITY ids per axis: one
 * per family, source id and destination id. At most TEXPORTER_MAX_IDS
 * ids, so the count fits a __u32. */
static inline __u32 texporter_counter_slots(__u32 capacity)
{
	return TEXPORTER_FAMILY_COUNT * capacity * capacity;
}

/*
 * Counters. Each CPU counts a pair (family, source id, destination id) in
 * a slot of its own copy of the counters map: slot texporter_slot_of()
 * of the pair's counter index. The first pair to reach a free slot on a
 * CPU claims it there (stores its key; no other CPU writes that copy), and
 * keeps it until the loader replaces the map. A pair whose slot on this
 * CPU is held by another pair is added atomically to its entry in the
 * shared map instead. So every packet is counted exactly once, with
 * plain adds for every pair that holds a slot, and memory is slots x
 * CPUs rather than pairs x CPUs. When slots >= pairs every pair has a
 * slot of its own (slot = counter index) and the shared map stays zero.
 * The loader never writes a slot in place (an update of a per-CPU element
 * writes every CPU's copy); it replaces the maps and carries the totals.
 */
struct texporter_slot {
	__u32 key;      /* 1 + counter index of the pair that holds the slot; 0 = free */
	__u32 reserved;
	__u64 bytes;
	__u64 packets;
};

#define TEXPORTER_MIN_SLOTS 64u          /* --counter-slots limits */
#define TEXPORTER_MAX_SLOTS (1u << 21)  /* = texporter_counter_slots(TEXPORTER_MAX_IDS) */
#define TEXPORTER_SLOT_HASH 0x9e3779b1u  /* 2^32 / golden ratio, odd */

/* The slot of the pair with counter index INDEX in a counters map of
 * SLOTS (a power of two, 2^SLOT_BITS) for CAPACITY ids per axis. */
static inline __u32 texporter_slot_of(__u32 index, __u32 capacity, __u32 slots,
				      __u32 slot_bits)
{
	if (slots >= texporter_counter_slots(capacity))
		return index;
	return ((index + 1) * TEXPORTER_SLOT_HASH) >> (32 - slot_bits);
}

/* Unmatched discovery. An address that matches no range is also counted
 * under its prefix of the configured length, keyed by family, side and
 * the masked address (network order; IPv4 in addr[0], the rest zero).
 * Inserts never evict (BPF_NOEXIST into a hash without LRU): when the
 * map is full, the packet is added to the untracked key of its (family,
 * side) instead, which the loader inserts before any program runs. So
 * for each (family, side) the tracked keys plus the untracked one add up
 * exactly to the traffic counted with the unmatched id on that side. */
enum texporter_side {
	TEXPORTER_SIDE_SRC = 0,
	TEXPORTER_SIDE_DST = 1,
	TEXPORTER_SIDE_COUNT = 2,
};

struct texporter_unmatched_key {
	__u8 family;    /* enum texporter_family */
	__u8 side;      /* enum texporter_side */
	__u8 len;       /* prefix length; 0 in an untracked key */
	__u8 untracked; /* 1: the untracked key of (family, side), addr 0 */
	__u32 addr[4];
};

#define TEXPORTER_UNMATCHED_RESERVED (TEXPORTER_FAMILY_COUNT * TEXPORTER_SIDE_COUNT)
#define TEXPORTER_UNMATCHED_MAX_ENTRIES 1000000u /* --unmatched-entries limit */
#define TEXPORTER_UNMATCHED_DEFAULT_ENTRIES 4096u
#define TEXPORTER_UNMATCHED_DEFAULT_V4_LEN 24u
#define TEXPORTER_UNMATCHED_DEFAULT_V6_LEN 48u
/* "texp_unm_24_48": the kernel keeps a map's name (15 bytes), so the
 * prefix lengths a pinned map was made for can be read back from it. */
#define TEXPORTER_UNMATCHED_NAME_FMT "texp_unm_%u_%u"

/* The unmatched cache. A tracked prefix's packets are counted in a slot
 * of the CPU's own copy of unmatched_cache, slot texporter_unmatched_slot_of
 * of its key, so most unmatched packets cost an array lookup instead of a
 * hash lookup. A slot is claimed by the first prefix that reaches it free
 * on that CPU, and only once the prefix is in the unmatched map: the
 * cache holds tracked prefixes only, so --unmatched-entries still bounds
 * them, and nothing is evicted. Other prefixes keep counting in the
 * unmatched map. After the slots, one more per (family, side) holds its
 * untracked key (set by the loader when it makes the cache, on every CPU)
 * and takes what the full map refused, so a full map costs no second
 * hash lookup. A key's count is its unmatched value plus its slot on
 * every CPU (the reader adds the slots of the keys it read from the
 * unmatched map; a slot claimed since is read at the next scrape).
 * Nobody but the programs writes a slot once the loader has made the
 * cache; the loader replaces the cache whenever it replaces the
 * unmatched map. */
#define TEXPORTER_UNMATCHED_CACHE_BITS 8
#define TEXPORTER_UNMATCHED_CACHE_SLOTS (1u << TEXPORTER_UNMATCHED_CACHE_BITS)
#define TEXPORTER_UNMATCHED_CACHE_ENTRIES \
	(TEXPORTER_UNMATCHED_CACHE_SLOTS + TEXPORTER_UNMATCHED_RESERVED)

struct texporter_unmatched_slot {
	struct texporter_unmatched_key key; /* all zero: free */
	__u32 reserved;
	__u64 bytes;
	__u64 packets;
};

/* Whether slot S is free: a key the programs make has len >= 1 or
 * untracked = 1, so its first word (family, side, len, untracked) is
 * never zero. */
static inline int texporter_unmatched_slot_free(const struct texporter_unmatched_slot *s)
{
	return *(const __u32 *)&s->key == 0;
}

/* The cache entry of the untracked key of (FAMILY, SIDE). */
static inline __u32 texporter_unmatched_untracked_slot(__u32 family, __u32 side)
{
	return TEXPORTER_UNMATCHED_CACHE_SLOTS + (family & 1) * TEXPORTER_SIDE_COUNT + (side & 1);
}

/* The cache slot of the unmatched key K (not an untracked one). */
static inline __u32 texporter_unmatched_slot_of(const struct texporter_unmatched_key *k)
{
	__u32 h = k->addr[0] ^ k->addr[1] ^ k->addr[2] ^ k->addr[3] ^
		  ((__u32)k->family << 1 | k->side);

	return (h * TEXPORTER_SLOT_HASH) >> (32 - TEXPORTER_UNMATCHED_CACHE_BITS);
}

struct texporter_name {
	char name[TEXPORTER_NAME_LEN];
};

/* Frames the data plane saw but could not count as traffic, and why. */
enum texporter_error {
	TEXPORTER_ERR_TRUNCATED = 0, /* frame ends inside an L2/L3 header: not counted */
	TEXPORTER_ERR_MALFORMED = 1, /* bad IP version or IHL < 5: not counted */
	TEXPORTER_ERR_LENGTH = 2,    /* IP length larger than the frame: counted
				      * with the bytes actually present */
	TEXPORTER_ERR_NON_IP = 3,    /* not IPv4/IPv6 (ARP, LLDP, ...): ignored */
	TEXPORTER_ERR_COUNT = 4,
};

/* How a direction is attached; stored in struct texporter_meta. */
enum texporter_attach {
	TEXPORTER_ATTACH_NONE = 0,
	TEXPORTER_ATTACH_XDP_NATIVE = 1,
	TEXPORTER_ATTACH_XDP_GENERIC = 2,
	TEXPORTER_ATTACH_TCX = 3,
	TEXPORTER_ATTACH_TC_LEGACY = 4,
};

/* How the data plane was built for the kernel it runs on (meta.features).
 * Zero, as loaders before these bits wrote, is the full build: an XDP
 * program that takes multi-buffer frames, the range table in one element. */
enum texporter_feature {
	TEXPORTER_FEATURE_XDP_SINGLE_BUFFER = 1u << 0, /* no xdp.frags (Linux < 5.18) */
	TEXPORTER_FEATURE_TABLE_SPLIT = 1u << 1,       /* ranges in 4 MiB elements */
};

struct texporter_meta {
	__u32 magic;          /* TEXPORTER_META_MAGIC once initialised */
	__u32 layout_version; /* TEXPORTER_LAYOUT_VERSION */
	__u32 seq;            /* odd while the loader is changing the state */
	__u32 capacity;       /* ids per axis of the counter map */
	__u32 ifindex;
	__u32 ingress;        /* enum texporter_attach */
	__u32 egress;         /* enum texporter_attach */
	__u32 ranges;         /* names in use, unmatched included */
	__u32 prefixes[TEXPORTER_FAMILY_COUNT];
	__u32 trie_entries;   /* entries the ranges map holds (a split table
			       * rounds up to whole elements) */
	__u32 trie_used;      /* entries the current trie occupies */
	__u16 v4_root_bits;   /* trie strides in use: 16 or 24 */
	__u16 v6_second_bits; /* 8 or 16 */
	__u32 features;       /* enum texporter_feature bits; in what was
			       * padding before, so the layout is unchanged */
	__u64 loaded_at;      /* unix time of the first load */
	__u64 changed_at;     /* unix time of the last load or reload that changed something */
	__u64 reloads;        /* reloads that changed something */
	__u64 config_hash;    /* of the normalised config and attach options */
	char ifname[16];
};

#define TEXPORTER_PIN_META "meta"
#define TEXPORTER_PIN_NAMES "names"
#define TEXPORTER_PIN_COUNTERS "counters"
#define TEXPORTER_PIN_SHARED "shared"
#define TEXPORTER_PIN_CARRY "carry"
#define TEXPORTER_PIN_ERRORS "errors"
#define TEXPORTER_PIN_RANGES "ranges"
#define TEXPORTER_PIN_UNMATCHED "unmatched"
#define TEXPORTER_PIN_UNMATCHED_CACHE "unmatched_cache"
#define TEXPORTER_PIN_LINK_INGRESS "link_ingress"
#define TEXPORTER_PIN_LINK_EGRESS "link_egress"
#define TEXPORTER_DEFAULT_PIN_ROOT "/sys/fs/bpf/texporter"

#endif /* TEXPORTER_H */
