"""Helpers for the migration tests: build a tree in a real ZooKeeper with every node kind
and ACL scheme, dump a server's whole tree from the client side, and start ZooKeeper or
Corral on a given data directory and port (servers.py's starters pick their own)."""

import os
import shutil
import subprocess
import tempfile

import servers
import zkwire

SEQUENTIAL, EPHEMERAL = 2, 1


def ok(rep, what):
    assert rep.err == 0, "%s: %s" % (what, rep.err_name())
    return rep


def start_zookeeper_on(data_dir, port, extra_cfg=(), jvm_flags=()):
    """A ZooKeeper 3.8 standalone on `data_dir` and `port` (its working files in a temp dir)."""
    work = tempfile.mkdtemp(prefix="corral-import-zk-")
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(servers.zoo_cfg(port, data_dir, extra_cfg))
    argv = [shutil.which("java") or "java", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.extendedTypesEnabled=true", "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.4lw.commands.whitelist=*",
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=%s" % servers.SUPER_DIGEST,
            "-Djute.maxbuffer=%d" % (servers.JUTE_MAXBUFFER * 2),
            ] + list(jvm_flags) + [
            "-cp", servers.zk_classpath() + ":/usr/share/java/snappy-java.jar",
            "org.apache.zookeeper.server.ZooKeeperServerMain", cfg]
    srv = servers.Server("zookeeper", argv, port, work)
    try:
        return srv.wait_ready(90)
    except Exception:
        srv.stop()
        raise


def start_corral_on(data_dir, port, extra_cfg=()):
    work = tempfile.mkdtemp(prefix="corral-import-corral-")
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(servers.zoo_cfg(port, data_dir, extra_cfg))
    srv = servers.Server("corral", [servers.corral_bin(), "server", "--config", cfg], port, work)
    try:
        return srv.wait_ready(60)
    except Exception:
        srv.stop()
        raise


def kill9(srv):
    """SIGKILL, as a crash: the last log keeps its preallocated zeros."""
    srv.proc.kill()
    srv.proc.wait(10)


def build_tree(conn, small=200, big=2, ttl_ms=3600000):
    """Every node kind, every ACL scheme ZooKeeper ships, a quota, multis, changed data and
    ACLs, deletes (so cversion and pzxid move), `small` small nodes and `big` near 1 MiB."""
    ok(conn.add_auth("digest", b"alice:secret"), "auth")
    ok(conn.create("/app", b"root of the app"), "create /app")
    ok(conn.create("/app/seq-", b"s", flags=SEQUENTIAL), "sequential")
    ok(conn.create("/app/seq-", b"s", flags=SEQUENTIAL), "sequential")
    ok(conn.create("/app/gone", b"x"), "create")
    ok(conn.call("delete", path="/app/gone"), "delete")
    ok(conn.call("createContainer", path="/app/box", data=b"c"), "container")
    ok(conn.create("/app/box/item", b"i"), "in container")
    ok(conn.call("createTTL", path="/app/ttl", data=b"t", ttl=ttl_ms), "ttl")
    ok(conn.create("/acl-world", b"w", acl=[(zkwire.READ | zkwire.WRITE, "world", "anyone")]), "world")
    ok(conn.create("/acl-auth", b"a", acl=zkwire.CREATOR_ALL_ACL), "auth acl")
    ok(conn.create("/acl-digest", b"d", acl=[(zkwire.ALL, "digest", zkwire.digest_id("bob", "pw"))]), "digest")
    ok(conn.create("/acl-ip", b"i", acl=[(zkwire.ALL, "ip", "127.0.0.1"), (zkwire.READ, "ip", "10.0.0.0/8")]), "ip")
    ok(conn.call("setACL", path="/app", acl=[(zkwire.ALL, "world", "anyone"), (zkwire.READ, "ip", "127.0.0.1")]),
       "setACL")
    for v in range(3):
        ok(conn.call("setData", path="/app", data=b"v%d" % v), "setData")
    # A quota as zkCli's setquota writes it: limits and stats under /zookeeper/quota.
    ok(conn.create("/zookeeper/quota/app", b""), "quota")
    ok(conn.create("/zookeeper/quota/app/zookeeper_limits", b"count=5000,bytes=-1"), "limits")
    ok(conn.create("/zookeeper/quota/app/zookeeper_stats", b"count=0,bytes=0"), "stats")
    ok(conn.call("multi", ops=[("create", dict(path="/app/m1", data=b"1")),
                               ("create", dict(path="/app/m2", data=b"2")),
                               ("setData", dict(path="/app/m1", data=b"11"))]), "multi")
    # A multi that fails: logged as an error multi, nothing applied.
    conn.call("multi", ops=[("create", dict(path="/app/m3", data=b"3")), ("delete", dict(path="/app/absent"))])
    assert conn.call("exists", path="/app/m3").err != 0, "a failed multi applied an op"
    ok(conn.create("/app/small", b""), "small parent")
    for i in range(small):
        conn.submit("create", path="/app/small/n%05d" % i, data=b"%d" % i)
        if i % 200 == 199:
            conn.drain(0.05)
    for i in range(big):
        ok(conn.create("/app/big%d" % i, bytes([65 + i]) * (1024 * 1024 - 4096)), "big node")
    ok(conn.call("sync", path="/"), "sync")


def dump(host, port):
    """Every node's path, data, ACL and full Stat, read as the super user."""
    c = zkwire.ZkConn(host, port, timeout_ms=30000, sock_timeout=30.0)
    ok(c.add_auth("digest", ("%s:%s" % (servers.SUPER_USER, servers.SUPER_PASSWORD)).encode()), "super")
    out = {}
    stack = ["/"]
    while stack:
        path = stack.pop()
        data = ok(c.call("getData", path=path), "getData " + path).body
        acl = ok(c.call("getACL", path=path), "getACL " + path).body
        kids = ok(c.call("getChildren", path=path), "getChildren " + path).body
        out[path] = (data, acl)
        for k in kids["children"]:
            stack.append(("/" if path == "/" else path + "/") + k)
    c.close()
    return out


def diff(a, b):
    """The paths whose data, ACL or Stat differ, with both values."""
    out = []
    for p in sorted(set(a) | set(b)):
        if a.get(p) != b.get(p):
            out.append((p, a.get(p), b.get(p)))
    return out


def run_import(zk_dir, to, *extra):
    return subprocess.run([servers.corral_bin(), "import", zk_dir, "--to", to] + list(extra),
                          capture_output=True, text=True, timeout=600)
