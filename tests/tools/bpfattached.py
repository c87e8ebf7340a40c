#!/usr/bin/env python3
"""Print which BPF programs the kernel has attached to an interface.

Asks the kernel itself, not texporter's pins: XDP through rtnetlink
(IFLA_XDP), TCX ingress/egress through BPF_PROG_QUERY. iproute2 6.1 and
bpftool 7.1 cannot show TCX attachments, hence this tool. Standard library
only; acts in the caller's network namespace (run it under nsenter).

  bpfattached.py IFACE    ->  "xdp 1 tcx_ingress 0 tcx_egress 1"
                              (program counts per hook)
"""

import ctypes
import errno
import os
import socket
import struct
import sys

SYS_BPF = {"x86_64": 321, "aarch64": 280}
BPF_PROG_QUERY = 16
BPF_TCX_INGRESS = 46
BPF_TCX_EGRESS = 47

RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
NLMSG_ERROR = 2
IFLA_XDP = 43
IFLA_XDP_ATTACHED = 2
IFLA_EXT_MASK = 29
RTEXT_FILTER_SKIP_STATS = 1 << 3


def fail(message):
    sys.exit(f"bpfattached: {message}")


def tcx_count(ifindex, attach_type):
    libc = ctypes.CDLL(None, use_errno=True)
    nr = SYS_BPF.get(os.uname().machine)
    if nr is None:
        fail(f"bpf syscall number unknown on {os.uname().machine}")
    # union bpf_attr, query: target_ifindex, attach_type, query_flags,
    # attach_flags, prog_ids (u64), prog_cnt, pad, prog_attach_flags,
    # link_ids, link_attach_flags, revision
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("=IIII", attr, 0, ifindex, attach_type, 0, 0)
    struct.pack_into("=QI", attr, 16, 0, 0)
    if libc.syscall(nr, BPF_PROG_QUERY, attr, len(attr)) != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOTSUP):
            return 0  # kernel without TCX: nothing can be attached there
        fail(f"BPF_PROG_QUERY: {os.strerror(err)}")
    return struct.unpack_from("=I", attr, 24)[0]


def xdp_attached(ifindex):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.bind((0, 0))
    ifinfo = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0)
    mask = struct.pack("=HHI", 8, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
    body = ifinfo + mask
    sock.send(struct.pack("=IHHII", 16 + len(body), RTM_GETLINK, NLM_F_REQUEST, 1, 0) + body)
    reply = sock.recv(1 << 20)
    length, msg_type = struct.unpack_from("=IH", reply)
    if msg_type == NLMSG_ERROR:
        fail(f"RTM_GETLINK: {os.strerror(-struct.unpack_from('=i', reply, 16)[0])}")
    offset = 32
    while offset + 4 <= length:
        alen, kind = struct.unpack_from("=HH", reply, offset)
        if alen < 4:
            break
        if kind & 0x3FFF == IFLA_XDP:
            inner, end = offset + 4, offset + alen
            while inner + 4 <= end:
                ilen, ikind = struct.unpack_from("=HH", reply, inner)
                if ilen < 4:
                    break
                if ikind == IFLA_XDP_ATTACHED:
                    return 1 if reply[inner + 4] else 0
                inner += (ilen + 3) & ~3
        offset += (alen + 3) & ~3
    return 0


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    try:
        ifindex = socket.if_nametoindex(argv[0])
    except OSError:
        fail(f"no interface {argv[0]}")
    print(f"xdp {xdp_attached(ifindex)} "
          f"tcx_ingress {tcx_count(ifindex, BPF_TCX_INGRESS)} "
          f"tcx_egress {tcx_count(ifindex, BPF_TCX_EGRESS)}")


if __name__ == "__main__":
    main(sys.argv[1:])
