#!/usr/bin/env python3
"""The unmatched cache, seen without texporter's code (bpf/texporter.h,
"The unmatched cache"):

    unmatched_cache.py slot FAMILY SIDE PREFIX
        the cache slot of a prefix (FAMILY 4 or 6, SIDE src or dst,
        PREFIX its network address, e.g. 198.51.100.0)
    unmatched_cache.py collide SIDE PREFIX
        another IPv4 /24 (its network address) whose slot is that of the
        IPv4 /24 PREFIX, from 198.18.0.0/15 (benchmarking addresses)
    unmatched_cache.py counts DIR FAMILY SIDE PREFIX LEN
        "SLOTS CACHE_PACKETS MAP_PACKETS": the slots and CPUs holding the
        prefix's key (as "slot:cpu" words), the packets counted there, and
        the packets of its element of the unmatched map

Reads the pins of DIR with bpftool. Used by tests/unmatched.bats.
"""
import ipaddress
import json
import struct
import subprocess
import sys

GOLDEN = 0x9E3779B1
CACHE_BITS = 8
FAMILY = {"4": 0, "6": 1}
SIDE = {"src": 0, "dst": 1}


def key_bytes(family, side, prefix, length, untracked=0):
    """struct texporter_unmatched_key: family, side, len, untracked, addr[16]."""
    addr = ipaddress.ip_address(prefix).packed.ljust(16, b"\0")
    return struct.pack("BBBB", FAMILY[family], SIDE[side], length, untracked) + addr


def slot_of(family, side, prefix):
    words = struct.unpack("<4I", key_bytes(family, side, prefix, 0)[4:])
    h = words[0] ^ words[1] ^ words[2] ^ words[3] ^ (FAMILY[family] << 1 | SIDE[side])
    return ((h * GOLDEN) & 0xFFFFFFFF) >> (32 - CACHE_BITS)


def collide(side, prefix):
    want = slot_of("4", side, prefix)
    for n in range(512):
        other = "198.%d.%d.0" % (18 + n // 256, n % 256)
        if other != prefix and slot_of("4", side, other) == want:
            return other
    sys.exit("no /24 of 198.18.0.0/15 shares the slot of " + prefix)


def dump(path):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def raw(words):
    return bytes(int(b, 16) for b in words)


def counts(pins, family, side, prefix, length):
    want = key_bytes(family, side, prefix, int(length))
    held, cache = [], 0
    for elem in dump(pins + "/unmatched_cache"):
        slot = struct.unpack("<I", raw(elem["key"]))[0]
        for v in elem["values"]:
            value = raw(v["value"])
            if value[:20] == want:
                held.append("%d:%d" % (slot, v["cpu"]))
                cache += struct.unpack("<Q", value[32:40])[0]
    mapped = 0
    for elem in dump(pins + "/unmatched"):
        if raw(elem["key"]) == want:
            mapped = sum(struct.unpack("<Q", raw(v["value"])[8:16])[0] for v in elem["values"])
    return "%s %d %d" % (",".join(held) or "-", cache, mapped)


def main(argv):
    if len(argv) == 5 and argv[1] == "slot":
        print(slot_of(*argv[2:]))
    elif len(argv) == 4 and argv[1] == "collide":
        print(collide(*argv[2:]))
    elif len(argv) == 7 and argv[1] == "counts":
        print(counts(*argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
