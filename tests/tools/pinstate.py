#!/usr/bin/env python3
"""Check an interface's pin directory as texporter-load must leave it after
any run, killed runs followed by one more run included.

    pinstate.py DIR IFACE GID

Checks, independently of texporter's own code: meta.seq is even; the
directory holds the committed pins only (no journal, no staged or temporary
pin); the directory is 0750 and the maps 0440 root:GID, links 0600
root:root; each direction of IFACE runs exactly one program, the one its
pinned link holds, and it uses the pinned counters, shared and ranges
maps, and the unmatched map and its cache when they are pinned (always
both or neither; XDP or TCX ingress, TCX egress: the loader's defaults on
kernels >= 6.6); meta has counter layout
2 (counters a per-CPU array of a power of two of 24-byte slots, shared an
array of 16-byte totals). Run it inside the interface's network
namespace. Prints one line per problem and exits 1 if there is any.
"""
import ctypes
import os
import socket
import struct
import sys

# bpf(2) commands; the checks make their own calls (a bpftool run each
# would make a sweep of hundreds of kill points take minutes).
BPF_MAP_LOOKUP_ELEM, BPF_OBJ_GET, BPF_PROG_GET_FD_BY_ID = 1, 7, 13
BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY = 15, 16
BPF_TCX_INGRESS, BPF_TCX_EGRESS = 46, 47
SYS_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
LIBC = ctypes.CDLL(None, use_errno=True)
MAPS = {"meta", "names", "counters", "shared", "errors", "ranges", "carry", "unmatched",
        "unmatched_cache"}
REQUIRED = {"meta", "names", "counters", "shared", "errors", "ranges"}
USED_BY_PROGRAMS = ("counters", "shared", "ranges", "unmatched", "unmatched_cache")
LAYOUT = 2  # struct texporter_meta.layout_version of counter layout 2
BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY = 2, 6
LINKS = {"link_ingress", "link_egress"}


def bpf(cmd, attr, what="bpf"):
    """bpf(2) with the packed union bpf_attr ATTR; its result (an fd or 0)."""
    buf = ctypes.create_string_buffer(attr, 128)
    ret = LIBC.syscall(SYS_BPF, cmd, buf, 128)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))
    return ret


def obj_get(path):
    name = ctypes.create_string_buffer(path.encode())
    return bpf(BPF_OBJ_GET, struct.pack("QIIi", ctypes.addressof(name), 0, 0, 0), path)


def info(fd, size=256):
    out = ctypes.create_string_buffer(size)
    bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("IIQ", fd, size, ctypes.addressof(out)))
    return out


def pinned_info(path):
    fd = obj_get(path)
    try:
        return info(fd)
    finally:
        os.close(fd)


def meta_words(path):
    """magic, layout_version and seq of struct texporter_meta."""
    fd = obj_get(path)
    key, value = ctypes.c_uint32(0), ctypes.create_string_buffer(256)
    try:
        bpf(BPF_MAP_LOOKUP_ELEM, struct.pack("IIQQQ", fd, 0, ctypes.addressof(key),
                                             ctypes.addressof(value), 0))
    finally:
        os.close(fd)
    return struct.unpack_from("III", value.raw, 0)


def check_map_shape(pin_dir, name, map_type, value_size, pow2, problems):
    """bpf_map_info: type at 0, value_size at 12, max_entries at 16."""
    raw = pinned_info(os.path.join(pin_dir, name)).raw
    have_type, have_value, entries = struct.unpack_from("I", raw, 0)[0], \
        struct.unpack_from("I", raw, 12)[0], struct.unpack_from("I", raw, 16)[0]
    if (have_type, have_value) != (map_type, value_size) or \
            (pow2 and entries & (entries - 1)):
        problems.append("%s: map type %d, value %d bytes, %d entries; want type %d, "
                        "value %d bytes%s" % (name, have_type, have_value, entries,
                                              map_type, value_size,
                                              ", a power of two of entries" if pow2 else ""))


def prog_map_ids(prog_id):
    """Map ids of program PROG_ID (bpf_prog_info: nr_map_ids at 52, map_ids at 56)."""
    try:
        fd = bpf(BPF_PROG_GET_FD_BY_ID, struct.pack("I", prog_id))
    except OSError:
        return set()
    ids = (ctypes.c_uint32 * 64)()
    out = ctypes.create_string_buffer(256)
    struct.pack_into("=IQ", out, 52, 64, ctypes.addressof(ids))
    try:
        bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("IIQ", fd, 256, ctypes.addressof(out)))
    finally:
        os.close(fd)
    return set(ids[:min(64, struct.unpack_from("I", out.raw, 52)[0])])


def tcx_progs(ifindex, attach_type):
    """Program ids TCX runs on IFINDEX for ATTACH_TYPE."""
    progs = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(struct.pack(
        "IIIIQIIQQQQ", ifindex, attach_type, 0, 0, ctypes.addressof(progs), 64,
        0, 0, 0, 0, 0), 128)
    if LIBC.syscall(SYS_BPF, BPF_PROG_QUERY, attr, 128) != 0:
        return []
    return list(progs[:struct.unpack_from("I", attr.raw, 24)[0]])


def check_owner(path, gid, mode, problems):
    st = os.lstat(path)
    want = (0, gid if mode != 0o600 else 0, mode)
    have = (st.st_uid, st.st_gid, st.st_mode & 0o7777)
    if have != want:
        problems.append("%s: owner %d:%d mode %o, want %d:%d mode %o" % ((path,) + have + want))


def check_links(pin_dir, ifname, names, problems):
    """bpf_link_info: prog_id at 8, the XDP or TCX ifindex at 16. An XDP
    link that is attached runs on its device (one XDP program per mode);
    TCX is asked which programs run."""
    ifindex = socket.if_nametoindex(ifname)
    want = {struct.unpack_from("I", pinned_info(os.path.join(pin_dir, m)).raw, 4)[0]
            for m in USED_BY_PROGRAMS if m in names}
    tcx = {"link_ingress": tcx_progs(ifindex, BPF_TCX_INGRESS),
           "link_egress": tcx_progs(ifindex, BPF_TCX_EGRESS)}
    for link in sorted(LINKS):
        if link not in names:
            problems.append("%s: missing" % link)
            continue
        raw = pinned_info(os.path.join(pin_dir, link)).raw
        link_type, prog_id, link_ifindex = struct.unpack_from("I", raw, 0)[0], \
            struct.unpack_from("I", raw, 8)[0], struct.unpack_from("I", raw, 16)[0]
        if link_ifindex != ifindex:
            problems.append("%s: attached to ifindex %d, not %s (%d)"
                            % (link, link_ifindex, ifname, ifindex))
        if link_type != 6 and tcx[link] != [prog_id]:  # 6: BPF_LINK_TYPE_XDP
            problems.append("%s: program %d, but TCX runs %s" % (link, prog_id, tcx[link]))
        missing = want - prog_map_ids(prog_id)
        if missing:
            problems.append("%s: program %d does not use the pinned maps %s"
                            % (link, prog_id, sorted(missing)))


def main():
    pin_dir, ifname, gid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    problems = []
    names = set(os.listdir(pin_dir))
    for name in sorted(names - MAPS - LINKS):
        problems.append("%s: left behind" % name)
    for name in sorted(REQUIRED - names):
        problems.append("%s: missing" % name)
    if ("unmatched" in names) != ("unmatched_cache" in names):
        problems.append("unmatched and unmatched_cache: one without the other")
    if not problems:
        _, layout, seq = meta_words(os.path.join(pin_dir, "meta"))
        if seq % 2:
            problems.append("meta: seq %d is odd" % seq)
        if layout != LAYOUT:
            problems.append("meta: layout version %d, want %d" % (layout, LAYOUT))
        check_map_shape(pin_dir, "counters", BPF_MAP_TYPE_PERCPU_ARRAY, 24, True, problems)
        check_map_shape(pin_dir, "shared", BPF_MAP_TYPE_ARRAY, 16, False, problems)
        check_owner(pin_dir, gid, 0o750, problems)
        for name in sorted(names):
            check_owner(os.path.join(pin_dir, name), gid,
                        0o600 if name in LINKS else 0o440, problems)
        check_links(pin_dir, ifname, names, problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
