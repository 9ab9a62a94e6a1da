"""Times `corral import` on a ZooKeeper 3.8 data directory of N small nodes, with its
peak RSS, beside ZooKeeper's own start-up on the same directory (issue 16, done-when 4).

  CORRAL_BIN=target/release/corral python3 bench/import_speed.py [N]   (default 1000000)

Prints one line per measurement; docs/benchmarks.md takes them as they are.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "compat"))

import servers  # noqa: E402
import zkimport  # noqa: E402
import zkwire  # noqa: E402


def fill(port, n):
    c = zkwire.ZkConn(servers.HOST, port, timeout_ms=30000, sock_timeout=60.0)
    zkimport.ok(c.create("/bench", b""), "create /bench")
    for i in range(0, n, 1000):
        for j in range(i, min(n, i + 1000)):
            c.submit("create", path="/bench/n%07d" % j, data=b"x" * 16)
        c.drain(0.01)
        while c.pending:
            c.read_item(60)
    c.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    root = tempfile.mkdtemp(prefix="corral-import-bench-")
    data = os.path.join(root, "zk")
    port = servers.free_port()
    flags = ["-Dzookeeper.snapCount=100000", "-Dzookeeper.preAllocSize=8192"]
    srv = zkimport.start_zookeeper_on(data, port, ["snapCount=100000"], flags)
    try:
        fill(port, n)
    finally:
        zkimport.kill9(srv)
        srv.stop()
    du = subprocess.run(["du", "-sb", os.path.join(data, "version-2")], capture_output=True, text=True)
    print("zookeeper data dir: %s bytes, %d nodes" % (du.stdout.split()[0], n + 5))
    started = time.monotonic()
    res = zkimport.run_import(data, os.path.join(root, "corral"))
    took = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if res.returncode != 0:
        print(res.stderr)
        sys.exit(1)
    print("corral import: %.2f s, peak RSS %d MiB" % (took, rss // 1024))
    print(res.stdout.strip())
    started = time.monotonic()
    zk = zkimport.start_zookeeper_on(data, servers.free_port(), ["snapCount=100000"], flags)
    print("zookeeper 3.8 start-up on the same directory (until it serves a session): %.2f s"
          % (time.monotonic() - started))
    zk.stop()
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
