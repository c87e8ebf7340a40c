#!/usr/bin/env python3
"""Longest-prefix match over a texporter range config, computed in Python.

A ground truth for classification tests that owes nothing to texporter's
own trie: the config is read with the json module and every prefix is
compared with the ipaddress module.

  lpm.py CONFIG classify ADDR...   print the range of each address, one a
                                   line ("other" when nothing matches)
  lpm.py CONFIG pick               print "NAME IPV4 IPV6" per range: an
                                   address of each family that the range
                                   wins by longest match ("-" when none)
  lpm.py CONFIG count              print "IPV4 IPV6": distinct prefixes of
                                   each family, host bits cleared
  lpm.py CONFIG sample N SEED      print "ADDRESS NAME" for N addresses:
                                   each inside a prefix drawn at random
                                   (every prefix once before any twice),
                                   host bits random, named by longest match
"""

import ipaddress
import json
import random
import sys

UNMATCHED = "other"


def load(path):
    with open(path, encoding="utf-8") as f:
        ranges = json.load(f)
    table = []  # (network, name)
    for entry in ranges:
        for key in ("ipv4", "ipv6"):
            for text in entry.get(key) or []:
                net = ipaddress.ip_network(text, strict=False)
                table.append((net, entry["name"]))
    return ranges, table


def classify(table, address):
    addr = ipaddress.ip_address(address)
    best = None
    for net, name in table:
        if net.version == addr.version and addr in net:
            if best is None or net.prefixlen > best[0].prefixlen:
                best = (net, name)
    return best[1] if best else UNMATCHED


def pick(ranges, table, name, version):
    """An address inside one of NAME's prefixes that NAME wins: the middle
    of the prefix first, then its first host, then any of a few others."""
    for entry in ranges:
        if entry["name"] != name:
            continue
        for text in entry.get("ipv4" if version == 4 else "ipv6") or []:
            net = ipaddress.ip_network(text, strict=False)
            size = net.num_addresses
            for offset in (size // 2 + 1, 1, size - 2, size // 3, 0):
                if 0 <= offset < size:
                    candidate = net.network_address + offset
                    if classify(table, candidate) == name:
                        return str(candidate)
    return "-"


def sample(table, count, seed):
    rng = random.Random(seed)
    nets = [net for net, _ in table]
    rng.shuffle(nets)
    for i in range(count):
        net = nets[i % len(nets)]
        host = rng.getrandbits(net.max_prefixlen - net.prefixlen)
        address = net.network_address + host
        print(address, classify(table, address))


def main(argv):
    if len(argv) < 2 or argv[1] not in ("classify", "pick", "count", "sample"):
        sys.exit(__doc__)
    ranges, table = load(argv[0])
    if argv[1] == "sample":
        sample(table, int(argv[2]), int(argv[3]))
        return
    if argv[1] == "count":
        print(*(len({net for net, _ in table if net.version == v}) for v in (4, 6)))
        return
    if argv[1] == "classify":
        for address in argv[2:]:
            print(classify(table, address))
        return
    for entry in ranges:
        name = entry["name"]
        print(name, pick(ranges, table, name, 4), pick(ranges, table, name, 6))


if __name__ == "__main__":
    main(sys.argv[1:])
