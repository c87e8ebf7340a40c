/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the running kernel can do, asked once per load, and the data plane
 * that follows: an XDP program with or without multi-buffer frames, a
 * range table in one map element or split into 4 MiB elements. Every
 * choice counts the same; the older kernel's one costs a little more.
 *
 * TEXPORTER_FORCE_FALLBACKS (test-only: tests and make bench) makes a new
 * kernel take the older kernel's choices: "xdp-single", "table-split",
 * comma-separated.
 */
#ifndef TEXPORTER_KERNEL_H
#define TEXPORTER_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

/* TEXPORTER_FORCE_FALLBACKS, "" when unset. */
const char *kernel_forced_fallbacks(void);

/* Whether the kernel loads xdp.frags programs (Linux >= 5.18). */
bool kernel_xdp_frags(void);

/* The largest MTU whose frames a single-buffer XDP program sees whole:
 * a page less XDP's headroom, the skb's shared info and the Ethernet
 * header (3506 with 4 KiB pages). */
unsigned int kernel_xdp_single_mtu_max(void);

/* The range table's map as made for this kernel. */
struct range_table {
	int fd;            /* ARRAY, BPF_F_MMAPABLE */
	bool split;        /* elements of TEXPORTER_TRIE_CHUNK_ENTRIES */
	__u32 value_size;  /* bytes per element */
	__u32 elements;    /* 1 unless split */
	size_t entries;    /* u32 entries the map holds, all elements */
};

/* Creates the map for a table of ENTRIES u32 entries: one element where
 * the kernel allows a value that large, else split. Returns 0, or -1
 * after logging. */
int kernel_create_table(size_t entries, struct range_table *t);

#endif /* TEXPORTER_KERNEL_H */
