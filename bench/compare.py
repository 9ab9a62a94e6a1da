#!/usr/bin/env python3
"""Corral against Apache ZooKeeper 3.8, side by side in one run: every corral-bench workload,
standalone and as a 3-node ensemble on 127.0.0.1, from the same zoo.cfg, fsync on for both and
ZooKeeper with its default JVM heap (zkServer.sh's 1000 MB, the JVM's default collector).

    bench/compare.py [--seconds 8] [--reps 3] [--topologies standalone,ensemble]
                     [--workloads create,set,get,mixed,watch,connect,ephemeral]
                     [--corral-bin target/release/corral] [--bench-bin target/release/corral-bench]
                     [--large-tree 1000000] [--startup-reps 5]

On a fresh machine it first installs ZooKeeper 3.8 from Debian (scripts/install-test-deps) and
builds the release binaries; then start-to-ready and idle RSS of a fresh standalone server; then
every workload; then bench/large-tree.sh with --large-tree
znodes (0 skips it).

Both systems run at once; the repetitions interleave (ZooKeeper, Corral, ZooKeeper, ...), so a
noisy neighbour hurts both alike. The load goes to the leader (the standalone server), with
corral-bench's defaults: 4 sessions x 16 requests in flight, 100-byte values. Prints a table of
medians with the ratio Corral / ZooKeeper, and with --json one JSON line per measurement.
"""

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import failover  # noqa: E402  (the ensemble process handling is shared)

WORKLOADS = {
    "create": ["create"],
    "set": ["set"],
    "get": ["get"],
    "mixed": ["mixed", "--read-pct", "90"],
    "watch": ["watch", "--watchers", "100"],
    "connect": ["connect"],
    "ephemeral": ["ephemeral"],
}
# The number that matters for each workload, and whether higher is better.
HEADLINE = {
    "create": ("ops_per_sec", True), "set": ("ops_per_sec", True), "get": ("ops_per_sec", True),
    "mixed": ("ops_per_sec", True), "watch": ("last_notified_p50_us", False),
    "connect": ("ops_per_sec", True), "ephemeral": ("ops_per_sec", True),
}


class DefaultJvmZooKeeper(failover.ZooKeeper):
    """ZooKeeper as zkServer.sh starts it: 1000 MB heap, the JVM's default collector."""

    def argv(self, node):
        argv = super().argv(node)
        return ["-Xmx1000m" if a == "-Xmx512m" else a for a in argv if a != "-XX:+UseSerialGC"]


def run_bench(bench, node, workload, seconds, tag):
    argv = [bench, "--server", node.address, "--pid", str(node.proc.pid), "--json",
            "--seconds", str(seconds), "--prefix", "/bench-%s" % tag] + WORKLOADS[workload]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 10 + 120)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError("corral-bench %s failed: %s %s" % (workload, p.stdout[-500:], p.stderr[-500:]))
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--topologies", default="standalone,ensemble")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--corral-bin", help="default: target/release/corral, built first")
    ap.add_argument("--bench-bin", help="default: target/release/corral-bench, built first")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--large-tree", type=int, default=1000000,
                    help="znodes for bench/large-tree.sh after the workloads; 0 skips it")
    ap.add_argument("--startup-reps", type=int, default=5,
                    help="fresh standalone starts per system for start-to-ready and idle RSS")
    ap.add_argument("--table-from", metavar="JSONL",
                    help="print the tables from the JSON lines of an earlier --json run, and stop")
    args = ap.parse_args()
    if args.table_from:
        return table_from(args.table_from)
    prepare(args)
    workloads = [w for w in args.workloads.split(",") if w]
    results = []  # (topology, workload, system, record)
    startup = measure_startup(args)
    for topology in args.topologies.split(","):
        size = 1 if topology == "standalone" else 3
        systems = [DefaultJvmZooKeeper(), failover.Corral(args.corral_bin)]
        ensembles = [failover.Ensemble(s, size=size) for s in systems]
        try:
            for e in ensembles:
                e.start()
            leaders = [e.wait_healthy() for e in ensembles]
            for workload in workloads:
                for rep in range(args.reps):
                    for system, leader in zip(systems, leaders):
                        tag = "%s-%s-%d" % (workload, system.name, rep)
                        record = run_bench(args.bench_bin, leader, workload, args.seconds, tag)
                        results.append((topology, workload, system.name, record))
                        if args.json:
                            print(json.dumps(dict(record, topology=topology, system=system.name, rep=rep)),
                                  flush=True)
                        else:
                            key, _ = HEADLINE[workload]
                            print("%-10s %-9s %-9s rep %d: %s=%s p99=%sus errors=%s" % (
                                topology, workload, system.name, rep, key, record.get(key),
                                record.get("p99_us"), record.get("errors")), file=sys.stderr, flush=True)
        finally:
            for e in ensembles:
                e.close()
    print_table(results, workloads, args.topologies.split(","))
    print_startup(startup)
    if args.large_tree > 0:
        sys.stdout.flush()
        env = dict(os.environ, N=str(args.large_tree))
        subprocess.run([os.path.join(failover.REPO, "bench", "large-tree.sh")], env=env, check=True)


def table_from(path):
    results, startup, topologies, workloads = [], [], [], []
    with open(path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("workload") == "startup":
                startup.append((r["system"], r["ready_ms"], r["idle_rss_kib"]))
            elif "topology" in r:
                results.append((r["topology"], r["workload"], r["system"], r))
                if r["topology"] not in topologies:
                    topologies.append(r["topology"])
                if r["workload"] not in workloads:
                    workloads.append(r["workload"])
    print_table(results, workloads, topologies)
    print_startup(startup)


def session_established(port):
    """One ZooKeeper handshake (jute ConnectRequest); True once the server hands out a session.
    That is ready as a client sees it: the port is open and a session was created."""
    body = struct.pack(">iqiqi16s?", 0, 0, 30000, 0, 16, b"\0" * 16, False)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            head = s.recv(4, socket.MSG_WAITALL)
            if len(head) < 4:
                return False
            reply = s.recv(struct.unpack(">i", head)[0], socket.MSG_WAITALL)
            return len(reply) >= 16 and struct.unpack(">q", reply[8:16])[0] != 0
    except OSError:
        return False


def measure_startup(args):
    """Start to ready with an empty data dir, then RSS after a few idle seconds; standalone,
    each system in turn, --startup-reps times."""
    out = []  # (system, ready_ms, idle_rss_kib)
    if args.startup_reps <= 0:
        return out
    for rep in range(args.startup_reps):
        for system in (DefaultJvmZooKeeper(), failover.Corral(args.corral_bin)):
            e = failover.Ensemble(system, size=1)
            node = e.nodes[0]
            try:
                started = time.monotonic()
                node.start()
                while not session_established(node.client_port):
                    if not node.alive() or time.monotonic() - started > 60:
                        raise RuntimeError("%s did not start:\n%s" % (system.name, node.log_tail()))
                    time.sleep(0.001)
                ready_ms = (time.monotonic() - started) * 1000.0
                time.sleep(3.0)
                rss = rss_kib(node.proc.pid)
            finally:
                e.close()
            out.append((system.name, ready_ms, rss))
            if args.json:
                print(json.dumps({"workload": "startup", "system": system.name, "rep": rep,
                                  "ready_ms": round(ready_ms, 1), "idle_rss_kib": rss}), flush=True)
            else:
                print("startup   %-9s rep %d: ready=%.1fms idle_rss=%dKiB" % (system.name, rep, ready_ms, rss),
                      file=sys.stderr, flush=True)
    return out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def print_startup(startup):
    if not startup:
        return
    print("\n| standalone, empty data dir | ZooKeeper | Corral | Corral / ZooKeeper | target |")
    print("|---|---|---|---|---|")
    for label, col, limit in (("start to ready (first session), ms", 1, 50.0),
                              ("idle RSS, KiB", 2, 20 * 1024.0)):
        med = {s: statistics.median([r[col] for r in startup if r[0] == s]) for s in ("zookeeper", "corral")}
        print("| %s | %.1f | %.1f | %.3f | < %g: %s |" % (
            label, med["zookeeper"], med["corral"], med["corral"] / med["zookeeper"], limit,
            "met" if med["corral"] < limit else "MISSED"))


def prepare(args):
    """What a fresh machine lacks: ZooKeeper from Debian, and the release binaries."""
    if not os.path.exists("/usr/share/zookeeper/bin/zkServer.sh"):
        subprocess.run([os.path.join(failover.REPO, "scripts", "install-test-deps")], check=True)
    if args.corral_bin is None or args.bench_bin is None:
        # Always the release build: a debug one left by the tests would measure nothing useful.
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "corral", "-p", "corral-bench"],
                       cwd=failover.REPO, check=True)
        release = os.path.join(failover.REPO, "target", "release")
        args.corral_bin = args.corral_bin or os.path.join(release, "corral")
        args.bench_bin = args.bench_bin or os.path.join(release, "corral-bench")


# The benchmarks issue's targets, Corral / ZooKeeper: (headline ratio, write p99 ratio).
TARGETS = {
    "create": ((">=", 3.0), ("<=", 1 / 3)), "set": ((">=", 3.0), ("<=", 1 / 3)),
    "get": ((">=", 2.0), None), "mixed": ((">=", 2.0), None),
    "watch": (("<=", 1 / 3), None), "connect": ((">=", 3.0), None),
}


def verdict(target, ratio):
    if target is None or ratio is None:
        return "-"
    op, bound = target
    met = ratio >= bound if op == ">=" else ratio <= bound
    return "%s %s: %s" % (op, "1/3" if abs(bound - 1 / 3) < 1e-9 else "%g" % bound, "met" if met else "MISSED")


def print_table(results, workloads, topologies):
    print("\n| topology | workload | measure | ZooKeeper | Corral | Corral / ZooKeeper | target "
          "| p99 ZK us | p99 Corral us | p99 ratio | p99 target |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for topology in topologies:
        for workload in workloads:
            key, higher = HEADLINE[workload]
            med = {}
            p99 = {}
            for system in ("zookeeper", "corral"):
                recs = [r for t, w, s, r in results if (t, w, s) == (topology, workload, system)]
                vals = [r.get(key) for r in recs if r.get(key) is not None]
                med[system] = statistics.median(vals) if vals else None
                p99[system] = statistics.median([r["p99_us"] for r in recs]) if recs else None
            ratio = (med["corral"] / med["zookeeper"]) if med["zookeeper"] and med["corral"] is not None else None
            p99_ratio = (p99["corral"] / p99["zookeeper"]) if p99["zookeeper"] and p99["corral"] is not None else None
            target, p99_target = TARGETS.get(workload, (None, None))
            print("| %s | %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                topology, workload, key, "" if higher else " (lower is better)",
                med["zookeeper"], med["corral"], "%.2f" % ratio if ratio is not None else "-",
                verdict(target, ratio), p99["zookeeper"], p99["corral"],
                "%.2f" % p99_ratio if p99_ratio is not None else "-", verdict(p99_target, p99_ratio)))


if __name__ == "__main__":
    main()
