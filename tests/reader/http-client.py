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
  http-client.py concurrent HOST PORT N   N scrapes started at once: how many
                                          got 200 (all bodies alike) or 503,
                                          and the slowest one's seconds (up
                                          to 120 s, then it counts as failed)
  http-client.py cap HOST PORT HOLD       HOLD clients that read their answer
                                          slowly, then one more request: its
                                          status line, then whether the held
                                          ones got their whole answer
  http-client.py flood HOST PORT N PID [K]  N idle and slowloris connections
                                          from K addresses 127.0.0.10.. (100),
                                          then 5 scrapes from 127.0.0.2: their
                                          status, median seconds, server RSS
  http-client.py slowreaders HOST PORT N PID  N clients that ask, wait 3 s,
                                          then read: whether all got the same
                                          whole answer, and the server's RSS
                                          before, while they waited, after
"""
import resource
import socket
import statistics
import sys
import threading
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


def rss_kib(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def get(host, port, source=None, rcvbuf=None, timeout=30):
    """A GET /metrics on a new connection (from SOURCE, with a receive
    buffer of RCVBUF bytes); returns the socket, the request sent."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.connect((host, int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    return s


def answer(s, start=b""):
    """The status code and body of the answer on S, whose first bytes START
    were read already; status -1 if the body is not whole."""
    head, _, body = (start + receive_all(s)).partition(b"\r\n\r\n")
    s.close()
    status = int(head.split(b" ")[1]) if head else 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:") and \
                int(line.split(b":")[1]) != len(body):
            return -1, body
    return status, body


def without_duration(body):
    return b"\n".join(l for l in body.split(b"\n")
                      if not l.startswith(b"texporter_scrape_duration"))


def cmd_concurrent(host, port, n):
    n = int(n)
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        barrier.wait()
        started = time.monotonic()
        try:
            status, body = answer(get(host, port, timeout=120))
        except OSError:  # reset, timed out: counted as neither 200 nor 503
            status, body = 0, b""
        results[i] = (status, body, time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r[0] == 200]
    print("answered 200: %d of %d" % (len(ok), n))
    print("answered 503: %d" % sum(r[0] == 503 for r in results))
    print("200 bodies alike: %s" %
          (len({without_duration(r[1]) for r in ok}) <= 1))
    print("slowest seconds: %.3f" % max(r[2] for r in results))


def cmd_cap(host, port, hold):
    held = [get(host, port, rcvbuf=4096) for _ in range(int(hold))]
    firsts = [s.recv(12) for s in held]
    for first in firsts:
        print("held:", first.decode(errors="replace"))
    status, body = answer(get(host, port))
    print("one more: %d %s" % (status, body.decode().strip().split("\n")[-1]))
    results = []
    readers = [threading.Thread(target=lambda s=s, f=f: results.append(answer(s, f)))
               for s, f in zip(held, firsts)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    whole = sum(status == 200 for status, _ in results)
    print("held ones read in full: %d of %s" % (whole, hold))


def raise_fd_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cmd_flood(host, port, n, pid, sources="100"):
    raise_fd_limit()
    flood = []
    for i in range(int(n)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.%d" % (10 + i % int(sources)), 0))
        s.setblocking(False)
        s.connect_ex((host, int(port)))
        flood.append(s)
    time.sleep(0.5)
    for i, s in enumerate(flood):
        if i % 2:  # slowloris: a head that never ends
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
            except OSError:
                pass  # closed by the server already
    statuses, seconds = [], []
    for _ in range(5):
        started = time.monotonic()
        status, _ = answer(get(host, port, source="127.0.0.2"))
        seconds.append(time.monotonic() - started)
        statuses.append(status)
    print("scrapes during the flood: %s" % " ".join(map(str, statuses)))
    print("median seconds: %.3f" % statistics.median(seconds))
    print("server RSS KiB: %d" % rss_kib(pid))
    for s in flood:
        s.close()


def cmd_slowreaders(host, port, n, pid):
    raise_fd_limit()
    before = rss_kib(pid)
    readers = [get(host, port, rcvbuf=4096) for _ in range(int(n))]
    time.sleep(3)
    waiting = rss_kib(pid)
    bodies = [answer(s) for s in readers]
    time.sleep(1.5)
    whole = sum(status == 200 for status, _ in bodies)
    print("answered in full: %d of %s" % (whole, n))
    print("bodies alike: %s" % (len({b for _, b in bodies}) == 1))
    print("body bytes: %d" % len(bodies[0][1]))
    print("server RSS KiB before, waiting, after: %d %d %d" %
          (before, waiting, rss_kib(pid)))


if __name__ == "__main__":
    commands = {"split": cmd_split, "raw": cmd_raw, "slow": cmd_slow,
                "stress": cmd_stress, "concurrent": cmd_concurrent,
                "cap": cmd_cap, "flood": cmd_flood,
                "slowreaders": cmd_slowreaders}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
