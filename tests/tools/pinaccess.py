#!/usr/bin/env python3
"""Try to open and change a pinned BPF map, and print what the kernel said.

What texporter promises about its pins: a reader opens them read-only
(BPF_OBJ_GET with BPF_F_RDONLY) and can look values up, but can never
change a map through that descriptor, and a user without write permission
on the pin cannot open it read-write at all. Run under setpriv to try it
as another user. Standard library only.

  pinaccess.py PIN

prints one line per attempt, "WHAT RESULT", RESULT being "ok" or the
errno name:

  open-rdonly ok        BPF_OBJ_GET, file_flags BPF_F_RDONLY
  lookup ok             BPF_MAP_LOOKUP_ELEM of KEY (see below)
  update EPERM          BPF_MAP_UPDATE_ELEM of KEY with zeros, BPF_ANY
  delete EPERM          BPF_MAP_DELETE_ELEM of KEY
  open-rdwr EACCES      BPF_OBJ_GET, file_flags 0 (closed at once if it works)
  open-wronly EACCES    BPF_OBJ_GET, file_flags BPF_F_WRONLY (likewise)

KEY is the first key whose value is not all zeros (so that an update that
got through would show in the counts), else the first key. Exit status 0
when every attempt was made, 1 when the tool itself could not go on.
"""

import ctypes
import errno
import os
import struct
import sys

SYS_BPF = {"x86_64": 321, "aarch64": 280}
BPF_MAP_LOOKUP_ELEM = 1
BPF_MAP_UPDATE_ELEM = 2
BPF_MAP_DELETE_ELEM = 3
BPF_MAP_GET_NEXT_KEY = 4
BPF_OBJ_GET = 7
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_F_RDONLY = 1 << 3
BPF_F_WRONLY = 1 << 4
BPF_ANY = 0
PERCPU_TYPES = {5, 6, 10, 21}  # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
ATTR_SIZE = 128
MAX_SCAN = 1 << 20

libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = SYS_BPF.get(os.uname().machine)


def fail(message):
    sys.exit(f"pinaccess: {message}")


def bpf(cmd, attr):
    """(result, errno) of the bpf(2) command CMD on the attribute buffer."""
    ctypes.set_errno(0)
    ret = libc.syscall(NR_BPF, cmd, attr, ctypes.c_uint(ATTR_SIZE))
    return ret, (ctypes.get_errno() if ret < 0 else 0)


def outcome(err):
    return "ok" if err == 0 else errno.errorcode.get(err, str(err))


def obj_get(path, flags):
    name = ctypes.create_string_buffer(os.fsencode(path))
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=QII", attr, 0, ctypes.addressof(name), 0, flags)
    return bpf(BPF_OBJ_GET, attr)


def map_info(fd):
    """(type, key_size, value_size, max_entries) of the map behind FD."""
    info = ctypes.create_string_buffer(256)
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=IIQ", attr, 0, fd, len(info), ctypes.addressof(info))
    ret, err = bpf(BPF_OBJ_GET_INFO_BY_FD, attr)
    if ret < 0:
        fail(f"BPF_OBJ_GET_INFO_BY_FD: {os.strerror(err)}")
    map_type, _, key_size, value_size, max_entries = struct.unpack_from("=IIIII", info, 0)
    return map_type, key_size, value_size, max_entries


def possible_cpus():
    with open("/sys/devices/system/cpu/possible", encoding="ascii") as f:
        total = 0
        for part in f.read().strip().split(","):
            first, _, last = part.partition("-")
            total += int(last or first) - int(first) + 1
        return total


def elem_attr(fd, key, value, flags=0):
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=IIQQQ", attr, 0, fd, 0, ctypes.addressof(key),
                     ctypes.addressof(value) if value is not None else 0, flags)
    return attr


def next_key(fd, key, key_size):
    """The key after KEY (None: the first), or None at the end."""
    following = ctypes.create_string_buffer(key_size)
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=IIQQ", attr, 0, fd, 0, ctypes.addressof(key) if key is not None else 0,
                     ctypes.addressof(following))
    ret, err = bpf(BPF_MAP_GET_NEXT_KEY, attr)
    if ret < 0:
        if err == errno.ENOENT:
            return None
        fail(f"BPF_MAP_GET_NEXT_KEY: {os.strerror(err)}")
    return following


def pick_key(fd, key_size, value_buf):
    """The first key with a non-zero value, else the first key."""
    first = key = next_key(fd, None, key_size)
    scanned = 0
    while key is not None and scanned < MAX_SCAN:
        ret, err = bpf(BPF_MAP_LOOKUP_ELEM, elem_attr(fd, key, value_buf))
        if ret < 0:
            fail(f"BPF_MAP_LOOKUP_ELEM while scanning: {os.strerror(err)}")
        if any(value_buf.raw):
            return key
        key = next_key(fd, key, key_size)
        scanned += 1
    if first is None:
        fail("the map has no key to try")
    return first


def main():
    if len(sys.argv) != 2:
        fail("usage: pinaccess.py PIN")
    if NR_BPF is None:
        fail(f"bpf syscall number unknown on {os.uname().machine}")
    pin = sys.argv[1]

    fd, err = obj_get(pin, BPF_F_RDONLY)
    print("open-rdonly", outcome(err))
    if fd < 0:
        fail(f"cannot go on without a read-only descriptor of {pin}")
    map_type, key_size, value_size, _ = map_info(fd)
    if map_type in PERCPU_TYPES:
        value_size = (value_size + 7) // 8 * 8 * possible_cpus()
    value = ctypes.create_string_buffer(value_size)
    key = pick_key(fd, key_size, value)

    ret, err = bpf(BPF_MAP_LOOKUP_ELEM, elem_attr(fd, key, value))
    print("lookup", outcome(err))
    zeros = ctypes.create_string_buffer(value_size)
    ret, err = bpf(BPF_MAP_UPDATE_ELEM, elem_attr(fd, key, zeros, BPF_ANY))
    print("update", outcome(err))
    ret, err = bpf(BPF_MAP_DELETE_ELEM, elem_attr(fd, key, None))
    print("delete", outcome(err))
    os.close(fd)

    for what, flags in (("open-rdwr", 0), ("open-wronly", BPF_F_WRONLY)):
        other, err = obj_get(pin, flags)
        if other >= 0:
            os.close(other)
        print(what, outcome(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
