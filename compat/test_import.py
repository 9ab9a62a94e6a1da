"""`corral import` against the real ZooKeeper 3.8: a tree with every node kind and ACL
scheme, a quota, thousands of small nodes and some near 1 MiB, several snapshots and logs,
ZooKeeper killed with SIGKILL. Corral started on the import and ZooKeeper restarted on a
copy of the same directory must serve the same tree: every path, data, ACL and Stat field.
Damaged inputs give the documented fallback or a clear error, and write nothing; clients'
sessions (kazoo and the Java client library, its data watch too) survive the move to
Corral on the same port."""

import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import zlib

import pytest

import servers
import zkimport
import zkwire

pytestmark = pytest.mark.skipif(not os.path.exists(servers.ZK_JAR), reason="ZooKeeper 3.8 not installed")

ZK_FLAGS = ["-Dzookeeper.snapCount=600", "-Dzookeeper.preAllocSize=1024"]


@pytest.fixture(scope="module")
def zk_data():
    """A ZooKeeper data directory as a crash leaves it, and the last zxid a client saw."""
    root = tempfile.mkdtemp(prefix="corral-import-src-")
    data = os.path.join(root, "zk")
    port = servers.free_port()
    srv = zkimport.start_zookeeper_on(data, port, ["snapCount=600"], ZK_FLAGS)
    try:
        c = zkwire.ZkConn(servers.HOST, port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=3000, big=3)
        # An ephemeral whose session is alive at the crash.
        e = zkwire.ZkConn(servers.HOST, port, timeout_ms=40000)
        zkimport.ok(e.create("/app/eph", b"e", flags=zkimport.EPHEMERAL), "ephemeral")
        last = zkimport.ok(c.call("setData", path="/app", data=b"last"), "setData").zxid
        zkimport.kill9(srv)
    finally:
        srv.stop()
    yield data, last
    shutil.rmtree(root, ignore_errors=True)


def files(data, prefix):
    v2 = os.path.join(data, "version-2")
    names = [n for n in os.listdir(v2) if n.startswith(prefix + ".")]
    return [os.path.join(v2, n) for n in sorted(names, key=lambda n: int(n.split(".")[1], 16))]


def copy(data):
    dst = tempfile.mkdtemp(prefix="corral-import-copy-")
    shutil.copytree(data, os.path.join(dst, "zk"))
    return os.path.join(dst, "zk")


def test_import_serves_the_tree_zookeeper_serves(zk_data):
    data, last_zxid = zk_data
    assert len(files(data, "snapshot")) >= 3 and len(files(data, "log")) >= 3
    zk_copy = copy(data)
    target = os.path.join(tempfile.mkdtemp(prefix="corral-import-dst-"), "corral")
    res = zkimport.run_import(data, target)
    assert res.returncode == 0, res.stderr
    assert "sessions" in res.stdout and "last zxid 0x%x" % last_zxid in res.stdout, res.stdout
    # ZooKeeper's digest, as its DigestCalculator computes it, matches ours once the
    # replay reaches the digest's zxid.
    assert "digest at zxid 0x" in res.stdout and "matches the replayed tree" in res.stdout, res.stdout
    corral = zkimport.start_corral_on(target, servers.free_port())
    zk = zkimport.start_zookeeper_on(zk_copy, servers.free_port(), ["snapCount=600"], ZK_FLAGS)
    try:
        want = zkimport.dump(zk.host, zk.port)
        got = zkimport.dump(corral.host, corral.port)
        assert len(want) > 3000
        assert "/app/eph" in want and "/app/ttl" in want and "/app/box" in want
        assert zkimport.diff(want, got) == []
        # A client that saw ZooKeeper's last zxid is accepted, and writes go on after it.
        c = zkwire.ZkConn(corral.host, corral.port, last_zxid=last_zxid)
        assert c.connect_response["timeOut"] > 0
        assert zkimport.ok(c.create("/after", b"x"), "create").zxid > last_zxid
        c.close()
    finally:
        corral.stop()
        zk.stop()
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        shutil.rmtree(os.path.dirname(zk_copy), ignore_errors=True)


def test_dry_run_writes_nothing(zk_data):
    target = os.path.join(tempfile.mkdtemp(prefix="corral-import-dst-"), "corral")
    res = zkimport.run_import(zk_data[0], target, "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "nothing written" in res.stdout
    assert not os.path.exists(target)
    os.rmdir(os.path.dirname(target))


def refused(data, *words):
    """Import must fail naming each of `words`, and leave no target behind."""
    parent = tempfile.mkdtemp(prefix="corral-import-dst-")
    target = os.path.join(parent, "corral")
    res = zkimport.run_import(data, target)
    try:
        assert res.returncode != 0, res.stdout
        for w in words:
            assert w in res.stderr, res.stderr
        assert os.listdir(parent) == [], "import left %s behind" % os.listdir(parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return res.stderr


def first_record(log):
    """The offset of the first record's txnEntry and its length."""
    with open(log, "rb") as f:
        head = f.read(28)
    return 28, int.from_bytes(head[24:28], "big")


def test_a_truncated_snapshot_falls_back_to_the_older_one(zk_data):
    data = copy(zk_data[0])
    newest = files(data, "snapshot")[-1]
    with open(newest, "r+b") as f:
        f.truncate(os.path.getsize(newest) // 2)
    target = os.path.join(tempfile.mkdtemp(prefix="corral-import-dst-"), "corral")
    res = zkimport.run_import(data, target)
    try:
        assert res.returncode == 0, res.stderr
        assert os.path.basename(newest) in res.stderr and "is corrupt" in res.stderr, res.stderr
        assert "using the older" in res.stderr
    finally:
        shutil.rmtree(os.path.dirname(target), ignore_errors=True)
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def test_a_flipped_byte_in_a_log_names_file_offset_and_zxid(zk_data):
    data = copy(zk_data[0])
    log = files(data, "log")[-1]
    body, _ = first_record(log)
    with open(log, "r+b") as f:
        f.seek(body + 40)
        b = f.read(1)
        f.seek(body + 40)
        f.write(bytes([b[0] ^ 0x5A]))
    try:
        refused(data, os.path.basename(log), "bad checksum", "byte 16", "zxid 0x")
    finally:
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def test_a_missing_log_is_a_gap(zk_data):
    data = copy(zk_data[0])
    # The newest snapshot gone (as if never copied), and the log after the one left.
    snaps = files(data, "snapshot")
    os.remove(snaps[-1])
    older = int(os.path.basename(snaps[-2]).split(".")[1], 16)
    logs = files(data, "log")
    after = [l for l in logs if int(os.path.basename(l).split(".")[1], 16) > older]
    os.remove(after[0])
    try:
        refused(data, "gap in the transaction logs")
    finally:
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


def test_an_unknown_txn_type_names_file_offset_and_zxid(zk_data):
    data = copy(zk_data[0])
    log = files(data, "log")[-1]
    body, length = first_record(log)
    with open(log, "r+b") as f:
        raw = bytearray(f.read())
    raw[body + 28:body + 32] = (99).to_bytes(4, "big")
    raw[16:24] = zlib.adler32(bytes(raw[body:body + length])).to_bytes(8, "big")
    zxid = int.from_bytes(raw[body + 12:body + 20], "big")
    with open(log, "wb") as f:
        f.write(raw)
    try:
        refused(data, os.path.basename(log), "unknown transaction type 99", "byte 16", "zxid 0x%x" % zxid)
    finally:
        shutil.rmtree(os.path.dirname(data), ignore_errors=True)


PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


class JavaHolder:
    """programs/SessionHold.java running: the Java client library with an ephemeral
    and a data watch; its stdout lines are read as they come."""

    def __init__(self, workdir, hosts, ephemeral, watched):
        javac, java = shutil.which("javac"), shutil.which("java")
        if not javac or not java:
            pytest.skip("javac/java not installed")
        subprocess.run([javac, "-cp", servers.ZK_JAR, "-d", workdir, os.path.join(PROGRAMS, "SessionHold.java")],
                       check=True, capture_output=True, timeout=120)
        cp = ":".join([workdir, servers.ZK_JAR, "/usr/share/java/slf4j-api.jar"])
        self.err = open(os.path.join(workdir, "java.stderr"), "w+")
        self.proc = subprocess.Popen([java, "-XX:TieredStopAtLevel=1", "-cp", cp, "SessionHold", hosts,
                                      ephemeral, watched], stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, word, timeout):
        """The next line, which must start with `word`; the rest of it."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            line = "(nothing in %ss)" % timeout
        if line is None or not (line == word or line.startswith(word + " ")):
            self.err.seek(0)
            raise AssertionError("Java client: wanted %r, got %r\n%s" % (word, line, self.err.read()[-3000:]))
        return line[len(word) + 1:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.err.close()


def test_sessions_and_watches_survive_the_move_to_corral():
    """Done-when 2: a kazoo session and a Java one, each with an ephemeral, the Java one
    with a data watch; ZooKeeper stopped, its data imported, Corral on the same port.
    Both reconnect with their session ids, their ephemerals are there, and the Java
    client's watch (carried by its setWatches) fires on the next change."""
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState

    root = tempfile.mkdtemp(prefix="corral-import-session-")
    data = os.path.join(root, "zk")
    port = servers.free_port()
    hosts = "%s:%d" % (servers.HOST, port)
    zk = zkimport.start_zookeeper_on(data, port, [], ZK_FLAGS)
    client = KazooClient(hosts=hosts, timeout=30.0,
                         connection_retry={"max_tries": -1, "delay": 0.2, "max_delay": 1.0})
    corral = java = None
    try:
        client.start(timeout=30)
        client.create("/held", b"mine", ephemeral=True)
        client.create("/watched", b"before")
        session_id, passwd = client.client_id
        java = JavaHolder(root, hosts, "/held-by-java", "/watched")
        java_session = int(java.expect("ready", 60), 16)
        assert java_session != session_id
        states = []
        client.add_listener(states.append)
        zkimport.kill9(zk)
        zk.stop()
        target = os.path.join(root, "corral")
        res = zkimport.run_import(data, target)
        assert res.returncode == 0, res.stderr
        assert "2 sessions" in res.stdout, res.stdout
        corral = zkimport.start_corral_on(target, port)
        assert int(java.expect("reconnected", 60), 16) == java_session
        assert int(java.expect("ephemeral owner", 30), 16) == java_session
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not (states and states[-1] == KazooState.CONNECTED):
            time.sleep(0.1)
        assert states and states[-1] == KazooState.CONNECTED, states
        assert KazooState.LOST not in states
        assert client.client_id[0] == session_id
        stat = client.exists("/held")
        assert stat is not None and stat.ephemeralOwner == session_id
        # The next change fires the watch the Java client set on ZooKeeper.
        client.set("/watched", b"after")
        assert java.expect("fired", 30) == "NodeDataChanged /watched"
        java.expect("done", 30)
        assert java.proc.wait(30) == 0
        # The password is checked: the same id with other bytes is refused.
        wrong = zkwire.ZkConn(servers.HOST, port, session_id=session_id, passwd=b"\x01" * 16)
        assert wrong.connect_response["timeOut"] <= 0 or wrong.wait_closed(3.0)
        wrong.close()
    finally:
        if java:
            java.stop()
        client.stop()
        client.close()
        if corral:
            corral.stop()
        zk.stop()
        shutil.rmtree(root, ignore_errors=True)
