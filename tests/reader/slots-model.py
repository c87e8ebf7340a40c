#!/usr/bin/env python3
"""What texporter-read must show for texporter-fixture commands, worked out
here from the rules of counter layout 2 alone (bpf/texporter.h, "Counters"),
without texporter's code: the checker of the reader's slot tests.

    slots-model.py IFACE CAPACITY SLOTS NCPU < commands

Takes the fixture's name and count lines (others are ignored) for one
interface made with `iface IFACE capacity=CAPACITY slots=SLOTS`, NCPU
possible CPUs. Each CPU claims a pair's slot (hash of the pair's counter
index) when it is free there, else the pair is counted in the shared map.
Prints the lines texporter-read must print for the interface's
texporter_captured_{bytes,packets}_total, texporter_counters_shared_pairs
and texporter_counters_slots_used, in its order.
"""
import sys

GOLDEN = 0x9E3779B1


def slot_of(index, capacity, slots):
    if slots >= 2 * capacity * capacity:
        return index
    bits = slots.bit_length() - 1
    return (((index + 1) * GOLDEN) & 0xFFFFFFFF) >> (32 - bits)


def main():
    iface, capacity, slots, ncpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4])
    names = {}
    holder = {}   # (cpu, slot) -> pair index
    totals = {}   # pair index -> [bytes, packets]
    shared = set()
    for line in sys.stdin:
        words = line.split()
        if len(words) >= 2 and words[0] == "name":
            names[int(words[1])] = " ".join(words[2:])
        if not words or words[0] != "count":
            continue
        fam, src, dst, nbytes, packets = (int(w) for w in words[1:6])
        cpu = words[6] if len(words) > 6 else "0"
        cpu = ncpu - 1 if cpu == "last" else int(cpu)
        index = ((fam == 6) * capacity + src) * capacity + dst
        at = (cpu, slot_of(index, capacity, slots))
        if holder.setdefault(at, index) != index:
            shared.add(index)
        total = totals.setdefault(index, [0, 0])
        total[0] += nbytes
        total[1] += packets

    def named(index):
        return bool(names.get(index // capacity % capacity)) and \
            bool(names.get(index % capacity))

    series = sorted(
        (("ipv4", "ipv6")[index // (capacity * capacity)],
         names[index // capacity % capacity].encode(), names[index % capacity].encode(),
         total)
        for index, total in totals.items() if named(index) and total[1])
    for which, metric in enumerate(("bytes", "packets")):
        for family, src, dst, total in series:
            print('texporter_captured_%s_total{iface="%s",family="%s",src="%s",dst="%s"} %d'
                  % (metric, iface, family, src.decode(), dst.decode(), total[which]))
    print('texporter_counters_shared_pairs{iface="%s"} %d'
          % (iface, sum(1 for index in shared if named(index))))
    print('texporter_counters_slots_used{iface="%s"} %d'
          % (iface, len({at[1] for at, index in holder.items() if named(index)})))


if __name__ == "__main__":
    main()
