// SPDX-License-Identifier: Apache-2.0
#include "attach.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "log.h"

/* Attach types of kernels >= 6.6, missing from older uapi headers. */
#define ATTACH_TYPE_TCX_INGRESS 46
#define ATTACH_TYPE_TCX_EGRESS 47

/* Our legacy clsact filter's identity, so a reload replaces exactly it. */
#define LEGACY_TC_HANDLE 0x7e5
#define LEGACY_TC_PRIORITY 0x7e5

static const char *const direction_names[] = { "ingress", "egress" };

const char *attach_describe(enum texporter_attach how)
{
	switch (how) {
	case TEXPORTER_ATTACH_XDP_NATIVE:
		return "xdp (native)";
	case TEXPORTER_ATTACH_XDP_GENERIC:
		return "xdp (generic)";
	case TEXPORTER_ATTACH_TCX:
		return "tc (tcx)";
	case TEXPORTER_ATTACH_TC_LEGACY:
		return "tc (legacy clsact)";
	default:
		return "nothing";
	}
}

const char *attach_describe_dataplane(const struct texporter_meta *m, char *buf, size_t len)
{
	const char *xdp = m->ingress != TEXPORTER_ATTACH_XDP_NATIVE &&
					  m->ingress != TEXPORTER_ATTACH_XDP_GENERIC ? "" :
			  m->features & TEXPORTER_FEATURE_XDP_SINGLE_BUFFER ? "xdp single-buffer, " :
									      "xdp multi-buffer, ";

	__u32 elements = m->trie_entries / TEXPORTER_TRIE_CHUNK_ENTRIES;

	if (m->features & TEXPORTER_FEATURE_TABLE_SPLIT)
		snprintf(buf, len, "%srange table split in %u element%s of 4 MiB", xdp, elements,
			 elements == 1 ? "" : "s");
	else
		snprintf(buf, len, "%srange table in 1 element", xdp);
	return buf;
}

unsigned int attach_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned int mtu = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (sock >= 0 && ioctl(sock, SIOCGIFMTU, &ifr) == 0)
		mtu = (unsigned int)ifr.ifr_mtu;
	if (sock >= 0)
		close(sock);
	return mtu;
}

bool attach_matches(const struct attach_request *req, enum direction dir,
		    enum texporter_attach current)
{
	bool xdp = dir == DIR_INGRESS && req->ingress == INGRESS_XDP;

	if (xdp)
		return (current == TEXPORTER_ATTACH_XDP_NATIVE && req->xdp_mode != XDP_MODE_GENERIC) ||
		       (current == TEXPORTER_ATTACH_XDP_GENERIC && req->xdp_mode != XDP_MODE_NATIVE);
	return (current == TEXPORTER_ATTACH_TCX && req->tc_mode != TC_MODE_LEGACY) ||
	       (current == TEXPORTER_ATTACH_TC_LEGACY && req->tc_mode != TC_MODE_TCX);
}

static int attach_xdp_link(int ifindex, int prog_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);

	return bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
}

static int attach_xdp(const struct attach_request *req, int ifindex, const char *ifname,
		      int prog_fd, struct attachment *out)
{
	int fd = -1;

	if (req->xdp_mode != XDP_MODE_GENERIC) {
		fd = attach_xdp_link(ifindex, prog_fd, XDP_FLAGS_DRV_MODE);
		if (fd >= 0) {
			out->how = TEXPORTER_ATTACH_XDP_NATIVE;
		} else if (req->xdp_mode == XDP_MODE_NATIVE) {
			log_error("%s: cannot attach XDP in native mode: %s; try --xdp-mode generic",
				  ifname, strerror(errno));
			return -1;
		} else {
			log_info("%s: native XDP not available (%s), using generic XDP", ifname,
				 strerror(errno));
		}
	}
	if (fd < 0) {
		fd = attach_xdp_link(ifindex, prog_fd, XDP_FLAGS_SKB_MODE);
		if (fd < 0) {
			log_error("%s: cannot attach XDP: %s%s", ifname, strerror(errno),
				  errno == EBUSY || errno == EEXIST ?
					  " (another XDP program is attached; texporter needs the XDP hook, or use --ingress tc)" :
					  "");
			return -1;
		}
		out->how = TEXPORTER_ATTACH_XDP_GENERIC;
	}
	out->link_fd = fd;
	return 0;
}

static void legacy_hook(struct bpf_tc_hook *hook, enum direction dir, int ifindex)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = dir == DIR_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static int attach_tc_legacy(enum direction dir, int ifindex, const char *ifname, int prog_fd,
			    __u32 flags)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = LEGACY_TC_HANDLE,
		    .priority = LEGACY_TC_PRIORITY, .prog_fd = prog_fd, .flags = flags);
	int err;

	legacy_hook(&hook, dir, ifindex);
	/* Without a clsact qdisc yet this fails; libbpf would log that. */
	log_mute_libbpf(1);
	err = bpf_tc_attach(&hook, &opts);
	log_mute_libbpf(0);
	if (err == -EINVAL || err == -ENOENT) {
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) {
			log_error("%s: cannot create the clsact qdisc: %s", ifname, strerror(-err));
			return -1;
		}
		opts.prog_id = 0;
		err = bpf_tc_attach(&hook, &opts);
	}
	if (err) {
		log_error("%s: cannot attach the tc %s filter: %s", ifname, direction_names[dir],
			  strerror(-err));
		return -1;
	}
	return 0;
}

static int attach_tc(const struct attach_request *req, enum direction dir, int ifindex,
		     const char *ifname, int prog_fd, struct attachment *out)
{
	int type = dir == DIR_INGRESS ? ATTACH_TYPE_TCX_INGRESS : ATTACH_TYPE_TCX_EGRESS;

	if (req->tc_mode != TC_MODE_LEGACY) {
		int fd = bpf_link_create(prog_fd, ifindex, (enum bpf_attach_type)type, NULL);

		if (fd >= 0) {
			out->how = TEXPORTER_ATTACH_TCX;
			out->link_fd = fd;
			return 0;
		}
		if (req->tc_mode == TC_MODE_TCX) {
			log_error("%s: cannot attach TCX %s: %s (TCX needs Linux >= 6.6; try --tc-mode legacy)",
				  ifname, direction_names[dir], strerror(errno));
			return -1;
		}
		log_info("%s: TCX not available (%s), using a legacy clsact filter", ifname,
			 strerror(errno));
	}
	if (attach_tc_legacy(dir, ifindex, ifname, prog_fd, 0))
		return -1;
	out->how = TEXPORTER_ATTACH_TC_LEGACY;
	out->link_fd = -1;
	return 0;
}

int attach_new(const struct attach_request *req, enum direction dir, int ifindex,
	       const char *ifname, int prog_fd, struct attachment *out)
{
	if (dir == DIR_INGRESS && req->ingress == INGRESS_XDP)
		return attach_xdp(req, ifindex, ifname, prog_fd, out);
	return attach_tc(req, dir, ifindex, ifname, prog_fd, out);
}

int attach_switch(const struct attachment *a, enum direction dir, int ifindex,
		  const char *ifname, int prog_fd)
{
	if (a->how == TEXPORTER_ATTACH_TC_LEGACY)
		return attach_tc_legacy(dir, ifindex, ifname, prog_fd, BPF_TC_F_REPLACE);
	if (bpf_link_update(a->link_fd, prog_fd, NULL)) {
		log_error("%s: cannot switch the %s program: %s", ifname, direction_names[dir],
			  strerror(errno));
		return -1;
	}
	return 0;
}

int attach_remove_legacy(enum direction dir, int ifindex, const char *ifname)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = LEGACY_TC_HANDLE,
		    .priority = LEGACY_TC_PRIORITY);
	int err;

	legacy_hook(&hook, dir, ifindex);
	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
		log_error("%s: cannot remove the tc %s filter: %s", ifname, direction_names[dir],
			  strerror(-err));
		return -1;
	}
	return 0;
}

void attach_detach_link(int link_fd)
{
	if (bpf_link_detach(link_fd) && errno != ENOLINK)
		log_debug("cannot detach link: %s", strerror(errno));
}

int attach_link_ifindex(int link_fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return 0;
	/* XDP and TCX links both keep the ifindex first in their info. */
	return (int)info.xdp.ifindex;
}

int attach_prog_fd(const struct attachment *a, enum direction dir, int ifindex)
{
	__u32 id = 0;

	if (a->how == TEXPORTER_ATTACH_TC_LEGACY) {
		struct bpf_tc_hook hook;
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = LEGACY_TC_HANDLE,
			    .priority = LEGACY_TC_PRIORITY);

		legacy_hook(&hook, dir, ifindex);
		log_mute_libbpf(1);
		if (bpf_tc_query(&hook, &opts) == 0)
			id = opts.prog_id;
		log_mute_libbpf(0);
	} else if (a->link_fd >= 0) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(a->link_fd, &info, &len) == 0)
			id = info.prog_id;
	}
	return id ? bpf_prog_get_fd_by_id(id) : -1;
}

struct attach_request attach_request_for(enum texporter_attach how)
{
	struct attach_request req = { .ingress = INGRESS_TC };

	switch (how) {
	case TEXPORTER_ATTACH_XDP_NATIVE:
		req.ingress = INGRESS_XDP;
		req.xdp_mode = XDP_MODE_NATIVE;
		break;
	case TEXPORTER_ATTACH_XDP_GENERIC:
		req.ingress = INGRESS_XDP;
		req.xdp_mode = XDP_MODE_GENERIC;
		break;
	case TEXPORTER_ATTACH_TC_LEGACY:
		req.tc_mode = TC_MODE_LEGACY;
		break;
	default:
		req.tc_mode = TC_MODE_TCX;
		break;
	}
	return req;
}
