/* SPDX-License-Identifier: Apache-2.0 */
/* Attaching the programs: XDP or TC on ingress, TC on egress; TC as a TCX
 * bpf_link (kernel >= 6.6) or a legacy clsact filter. Links are pinned by
 * the caller so they outlive the loader. */
#ifndef TEXPORTER_ATTACH_H
#define TEXPORTER_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include "texporter.h"

enum ingress_hook { INGRESS_XDP, INGRESS_TC };
enum xdp_mode { XDP_MODE_AUTO, XDP_MODE_NATIVE, XDP_MODE_GENERIC };
enum tc_mode { TC_MODE_AUTO, TC_MODE_TCX, TC_MODE_LEGACY };

enum direction { DIR_INGRESS = 0, DIR_EGRESS = 1 };

struct attach_request {
	enum ingress_hook ingress;
	enum xdp_mode xdp_mode;
	enum tc_mode tc_mode;
};

/* One direction's attachment: how, and the link fd (-1 for legacy tc). */
struct attachment {
	enum texporter_attach how;
	int link_fd;
};

/* Whether CURRENT (as recorded) satisfies the request for DIR. */
bool attach_matches(const struct attach_request *req, enum direction dir,
		    enum texporter_attach current);

/* Attaches PROG_FD for DIR on IFINDEX as requested. Returns 0 or -1 after
 * logging. */
int attach_new(const struct attach_request *req, enum direction dir, int ifindex,
	       const char *ifname, int prog_fd, struct attachment *out);

/* Switches an existing attachment to PROG_FD in one step (link update or
 * tc filter replace). Returns 0 or -1 after logging. */
int attach_switch(const struct attachment *a, enum direction dir, int ifindex,
		  const char *ifname, int prog_fd);

/* Removes an attachment (closing the link fd is the caller's job once its
 * pin is gone; legacy filters are deleted here). */
int attach_remove_legacy(enum direction dir, int ifindex, const char *ifname);

/* A new fd of the program attachment A runs, or -1. */
int attach_prog_fd(const struct attachment *a, enum direction dir, int ifindex);

/* The request that makes exactly the attachment HOW again (its ingress
 * hook field matters for the ingress direction only). */
struct attach_request attach_request_for(enum texporter_attach how);

/* Takes the link LINK_FD off its hook now. Dropping the last reference
 * would do that too, but kernels before 5.13 or so drop a pinned one only
 * after an RCU grace period, too late for an attach that follows. */
void attach_detach_link(int link_fd);

/* The ifindex a link is attached to, 0 when its device is gone. */
int attach_link_ifindex(int link_fd);

const char *attach_describe(enum texporter_attach how);

/* The data plane M records, in words: "xdp multi-buffer, range table in 1
 * element" and the like (the XDP part only when ingress is XDP). */
const char *attach_describe_dataplane(const struct texporter_meta *m, char *buf, size_t len);

/* IFNAME's MTU, 0 when it cannot be read. */
unsigned int attach_mtu(const char *ifname);

#endif /* TEXPORTER_ATTACH_H */
