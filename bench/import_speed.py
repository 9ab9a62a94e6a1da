"""Times `corral import` on a ZooKeeper 3.8 data directory of N small nodes, with its
peak RSS, beside ZooKeeper's own start-up on the same directory (issue 16, done-when 4).

  CORRAL_BIN=target/release/corral python3 bench/import_speed.py [N]   (default 1000000)

Prints one line per measurement; docs/benchmarks.md takes them as they are.
"""

import os
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


MEASURE = """
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "import", sys.argv[2], "--to", sys.argv[3]])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(r.returncode)
"""


def fill(port, n):
    c = zkwire.ZkConn(servers.HOST, port, timeout_ms=30000, sock_timeout=60.0)
    zkimport.ok(c.create("/bench", b""), "create /bench")
    for i in range(0, n, 1000):
        xids = [c.submit("create", path="/bench/n%07d" % j, data=b"x" * 16) for j in range(i, min(n, i + 1000))]
        for x in xids:
            zkimport.ok(c.wait(x, 60), "create")
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
    # In a child of its own: RUSAGE_CHILDREN here would count the JVM too.
    res = subprocess.run([sys.executable, "-c", MEASURE, servers.corral_bin(), data, os.path.join(root, "corral")],
                         capture_output=True, text=True, timeout=3600)
    took = time.monotonic() - started
    rss = int(res.stderr.strip().splitlines()[-1]) if res.returncode == 0 else 0
    if res.returncode != 0:
        print(res.stdout, res.stderr)
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
