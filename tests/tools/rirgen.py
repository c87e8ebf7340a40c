#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a synthetic set of the five RIRs' delegated-<rir>-extended-latest
files, in the RIR statistics exchange format, for texporter-update-ranges
tests: RECORDS records in all, spread over the five files and about 250
country codes; IPv4 address counts that are often not powers of two,
IPv6 prefixes, AS numbers, and available/reserved space between them.
Blocks never overlap, so every address has one true country.

Prints probes as JSON on stdout: [{"address": A, "country": CC or null}],
the first, last and a middle address of a few records, and addresses of
available space (country null), taken from the records written, not from
any parser.

    rirgen.py DIR [--records N] [--seed S]
"""

import argparse
import ipaddress
import json
import os
import random
import string

RIRS = ("afrinic", "apnic", "arin", "lacnic", "ripencc")
# Address counts an RIR hands out: mostly /24../16 multiples, many of
# them not a power of two.
V4_COUNTS = (256, 512, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096, 5120,
             6144, 8192, 12288, 16384, 24576, 32768, 65536)
V6_LENGTHS = (29, 32, 36, 40, 44, 48)
V4_FIRST = int(ipaddress.IPv4Address("11.0.0.0"))    # after 10/8, the tests' own
V4_END = int(ipaddress.IPv4Address("224.0.0.0"))     # before multicast
V6_FIRST = int(ipaddress.IPv6Address("2400::"))


def countries():
    letters = string.ascii_uppercase
    return [a + b for a in letters[:10] for b in letters][:250]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--records", type=int, default=200000)
    p.add_argument("--seed", type=int, default=15)
    args = p.parse_args()
    rnd = random.Random(args.seed)
    codes = countries()
    lines = {rir: [] for rir in RIRS}
    probes = []
    v4, v6, asn, available = V4_FIRST, V6_FIRST, 1000, 0

    def record(rir, cc, kind, start, value, status):
        lines[rir].append(f"{rir}|{cc}|{kind}|{start}|{value}|20200101|{status}|id-{len(lines[rir])}")

    for n in range(args.records):
        rir, cc, roll = rnd.choice(RIRS), rnd.choice(codes), rnd.random()
        if roll < 0.70:
            count = rnd.choice(V4_COUNTS)
            if v4 + count > V4_END:
                count = 256
            if v4 + count > V4_END:
                raise SystemExit("rirgen.py: the IPv4 space is full; fewer --records")
            status = "available" if roll < 0.02 else "allocated" if roll < 0.40 else "assigned"
            first = ipaddress.IPv4Address(v4)
            record(rir, "" if status == "available" else cc, "ipv4", first, count, status)
            if status == "available" and available < 2:
                probes.append({"address": str(first + count // 2), "country": None})
                available += 1
            elif n % 20000 == 7:
                for offset in (0, count // 2, count - 1):
                    probes.append({"address": str(first + offset), "country": cc})
            v4 += count
        elif roll < 0.95:
            length = rnd.choice(V6_LENGTHS)
            size = 1 << (128 - length)
            v6 = (v6 + size - 1) // size * size  # aligned: a prefix
            first = ipaddress.IPv6Address(v6)
            record(rir, cc, "ipv6", first, length, "allocated")
            if n % 20000 == 11:
                probes.append({"address": str(first + size // 3), "country": cc})
            v6 += size
        else:
            record(rir, cc, "asn", asn, 1, "allocated")
            asn += 1
    os.makedirs(args.dir, exist_ok=True)
    for rir in RIRS:
        path = os.path.join(args.dir, f"delegated-{rir}-extended-latest")
        with open(path, "w", encoding="ascii") as f:
            f.write(f"2.3|{rir}|20261119|{len(lines[rir])}|19830101|20261119|+0000\n")
            for kind in ("asn", "ipv4", "ipv6"):
                total = sum(f"|{kind}|" in line for line in lines[rir])
                f.write(f"{rir}|*|{kind}|*|{total}|summary\n")
            f.write("\n".join(lines[rir]) + "\n")
    json.dump(probes, os.sys.stdout)
    print()


if __name__ == "__main__":
    main()
