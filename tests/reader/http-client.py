#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP clients that curl cannot be: raw, slow and many. For tests/reader.bats.

  http-client.py split FILE               split an HTTP response read from FILE
                                          into FILE.head (no CR, no Date) and
                                          FILE.body
  http-client.py raw HOST PORT            send stdin as is, print the response
                                          head (no CR, no Date) and body
  http-client.py slow HOST PORT           send half a request, then wait: print
                                          the status line and whole seconds taken
  http-client.py stress HOST PORT PID     10,000 sequential requests, then 200
                                          slow clients and one normal scrape;
                                          print what happened and the server's
                                          peak memory
"""
import socket
import sys
import time
import urllib.request


def split(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = [l for l in head.decode().split("\r\n") if not l.startswith("Date: ")]
    return "\n".join(lines) + "\n", body


def receive_all(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def connect(host, port):
    return socket.create_connection((host, int(port)), timeout=30)


def cmd_split(path):
    head, body = split(open(path, "rb").read())
    open(path + ".head", "w").write(head)
    open(path + ".body", "wb").write(body)


def cmd_raw(host, port):
    with connect(host, port) as s:
        s.sendall(sys.stdin.buffer.read())
        head, body = split(receive_all(s))
    sys.stdout.write(head)
    sys.stdout.flush()
    sys.stdout.buffer.write(body)


def cmd_slow(host, port):
    with connect(host, port) as s:
        started = time.monotonic()
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        head, _ = split(receive_all(s))
    print(head.splitlines()[0], "after %d s" % int(time.monotonic() - started))


def peak_kib(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def cmd_stress(host, port, pid):
    ok = 0
    for _ in range(10000):
        with connect(host, port) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            ok += receive_all(s).startswith(b"HTTP/1.1 200 OK\r\n")
    print("sequential: %d of 10000 answered 200" % ok)

    slow = []
    for _ in range(200):
        s = connect(host, port)
        s.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
        slow.append(s)
    time.sleep(0.5)
    started = time.monotonic()
    with urllib.request.urlopen("http://%s:%s/metrics" % (host, port),
                                timeout=3) as r:
        r.read()
        print("scrape during 200 slow clients: %d in %s s" %
              (r.status, "under 1" if time.monotonic() - started < 1 else "over 1"))
    timed_out = 0
    for s in slow:
        timed_out += receive_all(s).startswith(b"HTTP/1.1 408 ")
        s.close()
    print("slow clients answered 408: %d of 200" % timed_out)
    print("peak memory under 16 MiB: %s" % (peak_kib(pid) < 16 * 1024))


if __name__ == "__main__":
    commands = {"split": cmd_split, "raw": cmd_raw, "slow": cmd_slow,
                "stress": cmd_stress}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
