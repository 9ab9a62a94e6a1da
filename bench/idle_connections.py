#!/usr/bin/env python3
"""What idle sessions cost: N idle sessions (10,000 by default), each a raw ConnectRequest
from this one script, held open against a standalone server; RSS before and after, per
connection, and a working session's request latency without and with them. Corral and
ZooKeeper 3.8 in one run, from the same zoo.cfg.

    bench/idle_connections.py [--count 10000] [--systems corral,zookeeper]
                              [--corral-bin target/release/corral] [--requests 2000]

The idle sessions ask for a 10-minute timeout (maxSessionTimeout is raised to match), so
they stay without pings. The working session sends `--requests` getData round trips one
at a time; p50 and p99 are reported. The file-descriptor limit is raised to its hard
limit first (the server inherits it).
"""

import argparse
import os
import resource
import socket
import statistics
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import failover  # noqa: E402
from compare import DefaultJvmZooKeeper  # noqa: E402  (zkServer.sh's heap, as compare.py runs it)

TIMEOUT_MS = 600_000


def connect_request():
    body = struct.pack(">iqiqi16s?", 0, 0, TIMEOUT_MS, 0, 16, b"\0" * 16, False)
    return struct.pack(">i", len(body)) + body


def read_frame(s):
    head = s.recv(4, socket.MSG_WAITALL)
    if len(head) < 4:
        raise OSError("connection closed")
    n = struct.unpack(">i", head)[0]
    return s.recv(n, socket.MSG_WAITALL)


def open_session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(connect_request())
    reply = read_frame(s)
    if len(reply) < 16 or struct.unpack(">q", reply[8:16])[0] == 0:
        raise OSError("no session")
    return s


def latencies(port, requests):
    """getData("/") round trips on one session, one at a time; microseconds, sorted."""
    s = open_session(port)
    path = b"/"
    out = []
    for xid in range(1, requests + 1):
        body = struct.pack(">ii", xid, 4) + struct.pack(">i", len(path)) + path + b"\0"
        t = time.perf_counter()
        s.sendall(struct.pack(">i", len(body)) + body)
        reply = read_frame(s)
        out.append((time.perf_counter() - t) * 1e6)
        if struct.unpack(">i", reply[:4])[0] != xid:
            raise RuntimeError("reply out of order")
    s.close()
    out.sort()
    return out


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(system, count, requests):
    base = tempfile.mkdtemp(prefix="corral-idle-")
    port = failover.pick_ports(1)[0]
    node = failover.Node(system, 1, base, port, 0, 0)
    node.write_config([])
    with open(node.cfg_path, "a") as f:
        f.write("maxSessionTimeout=%d\n" % TIMEOUT_MS)
    node.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                open_session(port).close()
                break
            except OSError:
                if time.monotonic() > deadline or not node.alive():
                    raise SystemExit("%s did not start:\n%s" % (system.name, node.log_tail()))
                time.sleep(0.05)
        latencies(port, 200)  # warm up
        time.sleep(2)
        before = rss_kib(node.proc.pid)
        quiet = latencies(port, requests)
        started = time.monotonic()
        held = []
        for i in range(count):
            held.append(open_session(port))
            if (i + 1) % 1000 == 0:
                print("  %s: %d idle sessions, %.1f s" % (system.name, i + 1, time.monotonic() - started),
                      file=sys.stderr, flush=True)
        setup_s = time.monotonic() - started
        time.sleep(3)
        after = rss_kib(node.proc.pid)
        busy = latencies(port, requests)
        alive = node.alive()
        for s in held:
            s.close()
        return {
            "system": system.name, "count": count, "setup_s": setup_s,
            "rss_before_kib": before, "rss_after_kib": after,
            "per_conn_kib": (after - before) / count,
            "p50_quiet_us": pct(quiet, 0.5), "p99_quiet_us": pct(quiet, 0.99),
            "p50_busy_us": pct(busy, 0.5), "p99_busy_us": pct(busy, 0.99),
            "mean_quiet_us": statistics.mean(quiet), "mean_busy_us": statistics.mean(busy),
            "alive": alive,
        }
    finally:
        node.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--systems", default="corral,zookeeper")
    ap.add_argument("--corral-bin", default=failover.default_corral_bin())
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count * 2 + 1000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(want, soft)), hard))
    results = []
    for name in args.systems.split(","):
        system = failover.Corral(args.corral_bin) if name == "corral" else DefaultJvmZooKeeper()
        r = measure(system, args.count, args.requests)
        results.append(r)
        print(r, flush=True)
    print()
    print("| system | idle sessions | set-up | RSS before → after | per connection | "
          "getData p50 / p99 alone | with the idle sessions |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print("| %s | %d | %.1f s | %.1f → %.1f MiB | %.1f KiB | %.0f / %.0f µs | %.0f / %.0f µs |" % (
            r["system"], r["count"], r["setup_s"], r["rss_before_kib"] / 1024, r["rss_after_kib"] / 1024,
            r["per_conn_kib"], r["p50_quiet_us"], r["p99_quiet_us"], r["p50_busy_us"], r["p99_busy_us"]))
    if any(not r["alive"] for r in results):
        raise SystemExit("a server died during the run")


if __name__ == "__main__":
    main()
