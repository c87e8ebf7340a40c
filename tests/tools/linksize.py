#!/usr/bin/env python3
"""Set or show an interface's GSO/GRO size limits over rtnetlink.

BIG TCP needs an interface's gso_max_size (IPv6) or gso_ipv4_max_size
(IPv4) raised above 64 KiB. iproute2 before 6.3 cannot set the IPv4 limits
(IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE, Linux >= 6.3), so this
sets them itself. Standard library only. Acts in the caller's network
namespace (run it under nsenter).

  linksize.py IFACE                              print the four limits
  linksize.py IFACE --gso-ipv4-max-size 185000   set, then print
"""

import argparse
import errno
import os
import socket
import struct
import sys

RTM_NEWLINK = 16
RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 2

# include/uapi/linux/if_link.h
ATTRS = {
    "gso_max_size": 41,       # IFLA_GSO_MAX_SIZE
    "gro_max_size": 58,       # IFLA_GRO_MAX_SIZE
    "gso_ipv4_max_size": 63,  # IFLA_GSO_IPV4_MAX_SIZE (Linux 6.3)
    "gro_ipv4_max_size": 64,  # IFLA_GRO_IPV4_MAX_SIZE (Linux 6.3)
}


def fail(message):
    sys.exit(f"linksize: {message}")


def align(n):
    return (n + 3) & ~3


def attr_u32(kind, value):
    return struct.pack("=HHI", 8, kind, value)


def request(sock, msg_type, flags, ifindex, attrs=b""):
    ifinfo = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0)
    body = ifinfo + attrs
    header = struct.pack("=IHHII", 16 + len(body), msg_type, flags, 1, 0)
    sock.send(header + body)
    return sock.recv(65536)


def check_ack(reply, what):
    length, msg_type = struct.unpack_from("=IH", reply)
    if msg_type != NLMSG_ERROR:
        return
    (code,) = struct.unpack_from("=i", reply, 16)
    if code:
        fail(f"{what}: {os.strerror(-code)} ({errno.errorcode.get(-code, code)})")


def parse_attrs(reply):
    length, msg_type = struct.unpack_from("=IH", reply)
    if msg_type == NLMSG_ERROR:
        check_ack(reply, "RTM_GETLINK")
        fail("RTM_GETLINK: unexpected empty answer")
    offset, found = 16 + 16, {}
    while offset + 4 <= length:
        alen, kind = struct.unpack_from("=HH", reply, offset)
        if alen < 4:
            break
        if alen == 8:
            found[kind] = struct.unpack_from("=I", reply, offset + 4)[0]
        offset += align(alen)
    return found


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("iface")
    for name in ATTRS:
        p.add_argument("--" + name.replace("_", "-"), type=int, metavar="BYTES")
    args = p.parse_args(argv)
    try:
        ifindex = socket.if_nametoindex(args.iface)
    except OSError:
        fail(f"no interface {args.iface}")
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.bind((0, 0))
    attrs = b"".join(attr_u32(kind, getattr(args, name))
                     for name, kind in ATTRS.items()
                     if getattr(args, name) is not None)
    if attrs:
        check_ack(request(sock, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex, attrs),
                  f"setting limits of {args.iface}")
    found = parse_attrs(request(sock, RTM_GETLINK, NLM_F_REQUEST, ifindex))
    print(" ".join(f"{name} {found[kind]}" for name, kind in ATTRS.items() if kind in found))
    for name, kind in ATTRS.items():
        wanted = getattr(args, name)
        if wanted is not None and found.get(kind) != wanted:
            fail(f"{args.iface}: {name} is {found.get(kind, 'unknown')}, not {wanted}")


if __name__ == "__main__":
    main(sys.argv[1:])
