// SPDX-License-Identifier: Apache-2.0
#include "kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "log.h"
#include "texporter.h"

#ifndef BPF_F_XDP_HAS_FRAGS
#define BPF_F_XDP_HAS_FRAGS (1U << 5)
#endif

#define XDP_HEADROOM 256     /* XDP_PACKET_HEADROOM */
#define SKB_SHARED_INFO 320  /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64 */
#define ETHERNET_HEADER 14

const char *kernel_forced_fallbacks(void)
{
	const char *list = getenv("TEXPORTER_FORCE_FALLBACKS");

	return list ? list : "";
}

/* Whether TEXPORTER_FORCE_FALLBACKS names WHAT. */
static bool forced(const char *what)
{
	const char *list = kernel_forced_fallbacks();
	size_t len = strlen(what);

	for (const char *p = list; *p; p += strcspn(p, ",")) {
		p += *p == ',';
		if (strncmp(p, what, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	}
	return false;
}

/* Loads the smallest XDP program with BPF_F_XDP_HAS_FRAGS: kernels before
 * 5.18 refuse the unknown flag. */
bool kernel_xdp_frags(void)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = BPF_F_XDP_HAS_FRAGS);
	int fd;

	if (forced("xdp-single"))
		return false;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "texporter_probe", "Apache-2.0", pass, 2, &opts);
	if (fd < 0) {
		log_debug("XDP programs cannot take multi-buffer frames here (%s)", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

unsigned int kernel_xdp_single_mtu_max(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return (unsigned int)(page > 0 ? page : 4096) - XDP_HEADROOM - SKB_SHARED_INFO -
	       ETHERNET_HEADER;
}

static int create_ranges(struct range_table *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);

	t->fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ranges", sizeof(__u32), t->value_size,
			       t->elements, &opts);
	return t->fd < 0 ? -1 : 0;
}

static int create_split(size_t entries, struct range_table *t)
{
	t->split = true;
	t->elements = (__u32)((entries + TEXPORTER_TRIE_CHUNK_ENTRIES - 1) /
			      TEXPORTER_TRIE_CHUNK_ENTRIES);
	t->value_size = TEXPORTER_TRIE_CHUNK_ENTRIES * sizeof(__u32);
	t->entries = (size_t)t->elements * TEXPORTER_TRIE_CHUNK_ENTRIES;
	return create_ranges(t);
}

int kernel_create_table(size_t entries, struct range_table *t)
{
	size_t bytes = entries * sizeof(__u32);
	int err;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!forced("table-split")) {
		t->elements = 1;
		t->value_size = (__u32)bytes;
		t->entries = entries;
		if (create_ranges(t) == 0)
			return 0;
		err = errno;
		if (err != E2BIG || bytes <= TEXPORTER_TRIE_CHUNK_ENTRIES * sizeof(__u32))
			goto fail;
		log_info("this kernel caps a map value below the range table's %zu KiB: the table is split into 4 MiB elements",
			 bytes / 1024);
	}
	if (create_split(entries, t) == 0)
		return 0;
	err = errno;
fail:
	log_error("cannot create the range table map (%u elements of %u bytes): %s",
		  t->elements, t->value_size, strerror(err));
	errno = err;
	return -1;
}
