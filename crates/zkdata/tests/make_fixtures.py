"""Writes the ZooKeeper 3.8 data directories the crate's tests read: a small tree built
by compat/zkimport.build_tree in the real ZooKeeper from Debian, with snapCount low (so
several snapshots and logs), the log preallocation at 16 KiB (small files), and the
server killed with SIGKILL. One directory per snapshot compression (none, gz, snappy).

  python3 crates/zkdata/tests/make_fixtures.py
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "compat"))

import servers  # noqa: E402
import zkimport  # noqa: E402
import zkwire  # noqa: E402


def make(name, compression):
    data = tempfile.mkdtemp(prefix="corral-zkfixture-")
    port = servers.free_port()
    flags = ["-Dzookeeper.preAllocSize=16", "-Dzookeeper.snapCount=40"]
    if compression:
        flags.append("-Dzookeeper.snapshot.compression.method=" + compression)
    srv = zkimport.start_zookeeper_on(data, port, ["snapCount=40"], flags)
    try:
        c = zkwire.ZkConn(servers.HOST, port, timeout_ms=30000)
        zkimport.build_tree(c, small=60, big=0)
        # An ephemeral whose session is alive at the crash.
        zkimport.ok(c.create("/app/eph", b"e", flags=zkimport.EPHEMERAL), "ephemeral")
        zkimport.kill9(srv)
    finally:
        srv.stop()
    out = os.path.join(HERE, "fixtures", name)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(os.path.join(data, "version-2"), os.path.join(out, "version-2"))
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    make("zk38-plain", "")
    make("zk38-gz", "gz")
    make("zk38-snappy", "snappy")
