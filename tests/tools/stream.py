#!/usr/bin/env python3
"""Send a steady stream of raw IPv4/IPv6 UDP frames until told to stop.

For tests that change something while traffic flows: the stream runs at
--rate frames per second, cycling through the --dst addresses, until
SIGTERM or SIGINT (or --count frames), then prints exactly what it sent:

    stream: started pid 4242
    stream: sent 1234 frames, l3_bytes=100 each, l3_total=123400
    stream: dst 198.51.100.7 sent 617
    stream: dst 203.0.113.9 sent 617

A frame counts as sent once the kernel accepted it (send() returned); a
send that fails with ENOBUFS/EAGAIN is retried, any other failure ends the
stream with status 1 after printing the counts so far. Frames are built by
sendraw.py (same directory), so their bytes are the ones its tests check;
the default destination MAC belongs to nobody, so nothing answers.
"""

import argparse
import errno
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sendraw  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", action="append", required=True,
                   help="destination address; repeat to cycle through several")
    p.add_argument("--l3-size", type=int, default=100)
    p.add_argument("--dst-mac", default=sendraw.DEFAULT_DST_MAC)
    p.add_argument("--rate", type=float, default=500.0,
                   help="frames per second (default %(default)s)")
    p.add_argument("--count", type=int, default=0,
                   help="stop after this many frames (default: until signalled)")
    return p.parse_args(argv)


def frame_for(args, dst, src_mac):
    raw = sendraw.parse_args(["--iface", args.iface, "--src", args.src,
                              "--dst", dst, "--l3-size", str(args.l3_size),
                              "--dst-mac", args.dst_mac])
    frames, _ = sendraw.build_frames(sendraw.Packet(raw), src_mac)
    return frames[0]


def main(argv):
    args = parse_args(argv)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sock = sendraw.open_socket(args.iface)
    src_mac = sock.getsockname()[4]
    frames = [frame_for(args, dst, src_mac) for dst in args.dst]
    sent = [0] * len(frames)
    total = 0
    status = 0
    print(f"stream: started pid {os.getpid()}", flush=True)
    start = time.monotonic()
    while not stop and not (args.count and total >= args.count):
        due = start + total / args.rate
        now = time.monotonic()
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        i = total % len(frames)
        try:
            sock.send(frames[i])
        except OSError as e:
            if e.errno in (errno.ENOBUFS, errno.EAGAIN):
                time.sleep(0.001)
                continue
            print(f"stream: send failed on {args.iface}: {e.strerror}", flush=True)
            status = 1
            break
        sent[i] += 1
        total += 1
    print(f"stream: sent {total} frames, l3_bytes={args.l3_size} each, "
          f"l3_total={total * args.l3_size}")
    for dst, n in zip(args.dst, sent):
        print(f"stream: dst {dst} sent {n}")
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
