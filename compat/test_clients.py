"""Real clients drive a scripted session against the system under test and, as a control,
against ZooKeeper: zkCli.sh (Java), cli_mt (the C client) and kazoo (Python).

Each covers create/get/set/ls/delete, ephemeral and sequential nodes, a watch that fires,
multi, and digest auth with an ACL that denies another session.

Multi: zkCli.sh 3.8 has no multi/transaction command and cli_mt has none either, so for the Java
and C clients multi is covered by two small programs written against the same client libraries
(programs/MultiCheck.java with ZooKeeper.multi, programs/multi_check.c with zoo_multi), compiled
here and run against each server; kazoo covers it with transaction().
"""

import os
import re
import shutil
import subprocess
import time

import pytest

import zkwire
from zkwire import digest_id

ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
CLI_MT = os.environ.get("CLI_MT", "/usr/lib/zookeeper/bin/cli_mt")
ALICE_ACL_ID = digest_id("alice", "pw1")


def wire(server):
    return zkwire.ZkConn(server.host, server.port)


# ----------------------------------------------------------------- zkCli.sh

def run_zkcli(hosts, commands, timeout=90):
    env = dict(os.environ)
    env.setdefault("JVMFLAGS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m")
    if not isinstance(hosts, str):
        hosts = hosts.address
    p = subprocess.run([ZKCLI, "-server", hosts], input="\n".join(commands + ["quit"]) + "\n",
                       capture_output=True, text=True, timeout=timeout, env=env)
    return p.stdout + p.stderr


def test_zkcli(any_server):
    if not os.path.exists(ZKCLI) or not shutil.which("java"):
        pytest.skip("zkCli.sh / java not installed")
    srv = any_server
    base = "/zkcli"
    zkcli_script(srv.address, base)

    # after zkCli quit its session is closed: the ephemeral is gone; the ACL denies another session
    c = wire(srv)
    assert c.call("exists", path=base + "/eph").err_name == "NONODE"
    assert c.get_data(base + "/secret").err_name == "NOAUTH"
    assert c.get_data(base).body["data"] == b"again"
    c.bye()

    # a second zkCli without the credentials is denied; with them it may read
    out2 = run_zkcli(srv, ["get %s/secret" % base, "addauth digest alice:pw1", "get %s/secret" % base,
                           "delete %s/secret" % base])
    assert "Insufficient permission : %s/secret" % base in out2, out2
    assert out2.count("topsecret") == 1, out2
    c = wire(srv)
    assert c.call("exists", path=base + "/secret").err_name == "NONODE"
    c.bye()


def zkcli_script(hosts, base):
    """One zkCli.sh session; returns its output after checking it."""
    out = run_zkcli(hosts, [
        "create %s hello" % base,
        "get %s" % base,
        "set %s world" % base,
        "get -s %s" % base,
        "create -e %s/eph e" % base,
        "create -s %s/seq- s1" % base,
        "create -s %s/seq- s2" % base,
        "ls %s" % base,
        "get -w %s" % base,             # one-shot data watch ...
        "set %s again" % base,          # ... fired by this set
        "addauth digest alice:pw1",
        "create %s/secret topsecret digest:%s:cdrwa" % (base, ALICE_ACL_ID),
        "get %s/secret" % base,
        "getAcl %s/secret" % base,
        "create %s/gone x" % base,
        "delete %s/gone" % base,
        "ls %s" % base,
        "stat %s/gone" % base,
    ])
    assert "Created %s" % base in out, out
    assert "hello" in out and "world" in out, out
    assert re.search(r"dataVersion = 1", out), out
    assert "Created %s/seq-0000000001" % base in out, out
    assert "Created %s/seq-0000000002" % base in out, out
    assert "[eph, seq-0000000001, seq-0000000002]" in out, out
    assert re.search(r"WatchedEvent state:SyncConnected type:NodeDataChanged path:%s\b" % base, out), out
    assert "topsecret" in out, out
    assert "'digest,'%s" % ALICE_ACL_ID in out, out
    assert "Node does not exist: %s/gone" % base in out, out
    assert "[eph, secret, seq-0000000001, seq-0000000002]" in out, out
    return out


# ----------------------------------------------------------------- cli_mt (C client)

def run_cli_mt(server, commands, pause=0.35):
    p = subprocess.Popen([CLI_MT, server.address], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.7)
        for line in commands + ["quit"]:
            p.stdin.write(line + "\n")
            p.stdin.flush()
            time.sleep(pause)
        out, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return out


def test_cli_mt(any_server):
    if not os.path.exists(CLI_MT):
        pytest.skip("cli_mt (zookeeper-bin) not installed")
    srv = any_server
    base = "/climt"
    # a node guarded by alice's digest, made by another (wire) session
    c = wire(srv)
    assert c.add_auth("digest", "alice:pw1").ok
    assert c.create("/climt_secret", b"c-secret", acl=[(zkwire.ALL, "digest", ALICE_ACL_ID)]).ok
    c.bye()

    out = run_cli_mt(srv, [
        "create %s" % base,
        "set %s hello" % base,
        "get %s" % base,               # also leaves a data watch ...
        "set %s world" % base,         # ... which fires here (CHANGED_EVENT)
        "create +e %s/eph" % base,
        "create +s %s/seq-" % base,
        "create2 +es %s/eseq-" % base,
        "ls %s" % base,
        "wexists %s/later" % base,     # exists watch on a missing node ...
        "create %s/later" % base,      # ... fires CREATED_EVENT
        "delete %s/later" % base,
        "exists %s/later" % base,
        "get /climt_secret",           # denied: no auth yet
        "addauth digest alice:pw1",
        "get /climt_secret",           # allowed now
    ])
    assert "Got a new session id" in out, out
    assert "[%s]: rc = 0" % base in out, out
    assert "name = %s/seq-0000000001" % base in out, out
    assert "name = %s/eseq-0000000002" % base in out, out
    assert re.search(r"Watcher CHANGED_EVENT state = CONNECTED_STATE for path %s\b" % base, out), out
    assert re.search(r"Watcher CREATED_EVENT state = CONNECTED_STATE for path %s/later\b" % base, out), out
    assert "value_len = 5\nhello" in out, out
    assert "/climt_secret: rc = -102" in out, out
    assert "c-secret" in out, out
    children = re.search(r"%s: rc = 0\n((?:\t.*\n)+)" % base, out)
    assert children and sorted(children.group(1).split()) == ["eph", "eseq-0000000002", "later", "seq-0000000001"] \
        or children and sorted(children.group(1).split()) == ["eph", "eseq-0000000002", "seq-0000000001"], out
    assert "Error -101 for %s/later" % base in out, out

    c = wire(srv)
    rep = c.call("getChildren", path=base)
    assert sorted(rep.body["children"]) == ["seq-0000000001"], rep  # ephemerals gone with the session
    assert c.get_data(base).body["data"] == b"world"
    assert c.get_data("/climt_secret").err_name == "NOAUTH"
    c.bye()


# ----------------------------------------------------------------- kazoo

def test_kazoo(any_server):
    pytest.importorskip("kazoo.client")
    kazoo_script(any_server.address, "/kazoo")


def kazoo_script(hosts, base, servers_restart=False):
    """The kazoo client script. `other` syncs before it reads what `zk` wrote, as a client
    of an ensemble must to see another session's writes (a no-op for a standalone).

    With `servers_restart`, `zk`'s closeSession may be lost with the server it went to (or
    kazoo, reconnecting, sends none), with ZooKeeper as with Corral: its ephemerals then go
    when its 10 s session expires, which is waited for."""
    from kazoo import client as kazoo_client
    from kazoo.exceptions import NoAuthError, NodeExistsError, NoNodeError, RolledBackError, BadVersionError
    from kazoo.security import make_digest_acl
    zk = kazoo_client.KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=15)
    other = kazoo_client.KazooClient(hosts=hosts, timeout=10)
    other.start(timeout=15)
    try:
        zk.create(base, b"hello")
        assert zk.get(base)[0] == b"hello"
        zk.set(base, b"world")
        data, stat = zk.get(base)
        assert data == b"world" and stat.version == 1
        with pytest.raises(NodeExistsError):
            zk.create(base)

        # ephemeral + sequential
        eph = zk.create(base + "/eph", b"e", ephemeral=True)
        s1 = zk.create(base + "/seq-", sequence=True)
        s2 = zk.create(base + "/eseq-", ephemeral=True, sequence=True)
        assert s1 == base + "/seq-0000000001" and s2 == base + "/eseq-0000000002", (s1, s2)
        assert sorted(zk.get_children(base)) == ["eph", "eseq-0000000002", "seq-0000000001"]
        assert zk.exists(eph).ephemeralOwner == zk.client_id[0]

        # watches: a one-shot data watch and a child watch fired by the other session
        fired = []
        zk.get(base, watch=lambda ev: fired.append(("data", ev.type, ev.path)))
        zk.get_children(base, watch=lambda ev: fired.append(("child", ev.type, ev.path)))
        other.sync(base)
        other.set(base, b"by other")
        other.create(base + "/new")
        deadline = time.time() + 10
        while len(fired) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert ("data", "CHANGED", base) in fired and ("child", "CHILD", base) in fired, fired

        # multi (transaction): success, then an all-or-nothing failure
        t = zk.transaction()
        t.check(base, 1 + 1)  # version is now 2 after two sets
        t.create(base + "/t1", b"1")
        t.set_data(base + "/new", b"n")
        t.delete(base + "/seq-0000000001")
        results = t.commit()
        assert results[1] == base + "/t1" and results[0] is True and results[3] is True, results
        t = zk.transaction()
        t.create(base + "/t2")
        t.check(base, 99)
        results = t.commit()
        assert isinstance(results[0], RolledBackError) and isinstance(results[1], BadVersionError), results
        assert zk.exists(base + "/t2") is None

        # digest auth + ACL that denies another session
        zk.add_auth("digest", "alice:pw1")
        zk.create(base + "/secret", b"s", acl=[make_digest_acl("alice", "pw1", all=True)])
        assert zk.get(base + "/secret")[0] == b"s"
        other.sync(base)
        with pytest.raises(NoAuthError):
            other.get(base + "/secret")
        other.add_auth("digest", "alice:pw1")
        assert other.get(base + "/secret")[0] == b"s"

        # delete
        zk.delete(base + "/t1")
        with pytest.raises(NoNodeError):
            zk.delete(base + "/t1")
        zk.stop()
        zk.close()
        # the ephemerals went away with the session
        deadline = time.monotonic() + (20 if servers_restart else 0)
        while True:
            other.sync(base)
            children = sorted(other.get_children(base))
            if children == ["new", "secret"] or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        assert children == ["new", "secret"], children
    finally:
        for c in (zk, other):
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass


# ------------------------------------------------- multi through the client libraries

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


def _check_output(out, label):
    assert "done" in out and "FAILED" not in out, "%s:\n%s" % (label, out)


ZK_JAR = "/usr/share/java/zookeeper.jar"


def compile_multi_check(tmp_path):
    """Compiles programs/MultiCheck.java; returns the classpath to run it with."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java or not os.path.exists(ZK_JAR):
        pytest.skip("javac/java or zookeeper.jar not installed")
    subprocess.run([javac, "-cp", ZK_JAR, "-d", str(tmp_path), os.path.join(PROGRAMS, "MultiCheck.java")],
                   check=True, capture_output=True, timeout=120)
    return ":".join([str(tmp_path), ZK_JAR, "/usr/share/java/slf4j-api.jar"])


def run_multi_check(classpath, hosts, base):
    p = subprocess.run([shutil.which("java"), "-XX:TieredStopAtLevel=1", "-cp", classpath, "MultiCheck", hosts, base],
                       capture_output=True, text=True, timeout=120)
    return p.stdout + p.stderr


def test_java_library_multi(any_server, tmp_path):
    out = run_multi_check(compile_multi_check(tmp_path), any_server.address, "/jmulti")
    _check_output(out, "Java ZooKeeper.multi")


def test_c_library_multi(any_server, tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc or not os.path.exists("/usr/include/zookeeper/zookeeper.h"):
        pytest.skip("gcc or libzookeeper-mt-dev not installed")
    binary = str(tmp_path / "multi_check")
    subprocess.run([cc, "-Wall", "-Werror", "-o", binary, os.path.join(PROGRAMS, "multi_check.c"), "-lzookeeper_mt"],
                   check=True, capture_output=True, timeout=120)
    p = subprocess.run([binary, any_server.address, "/cmulti"], capture_output=True, text=True, timeout=120)
    _check_output(p.stdout + p.stderr, "C zoo_multi")
