"""3.9's `restore` admin command on a 3-member ensemble: a snapshot taken with the
`snapshot` command from one member, the tree changed after it, and the snapshot POSTed
to another member: refused without ALL on / (401, 403), then applied through the log, so
that every member serves the snapshot's tree again, node for node and Stat for Stat. A
second restore within the interval is 429; a body that is not a snapshot is refused and
changes nothing; a connected client keeps its session and hears its watch fire; a server
with admin.restore.enabled=false answers 503."""

import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request

import ensemble
import servers
import zkimport
import zkwire


def admin(port, path, auth=None, body=None):
    """(status, parsed JSON or raw bytes) of a GET, or of a POST when `body` is given."""
    req = urllib.request.Request("http://%s:%d%s" % (servers.HOST, port, path), data=body,
                                 method="POST" if body is not None else "GET")
    if auth is not None:
        req.add_header("Authorization", auth)
    if body is not None:
        req.add_header("Content-Type", "application/octet-stream")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def start_with_admin(root, *extra):
    """A standalone Corral under `root` with its AdminServer on a port of its own."""
    port = servers.free_port()
    corral = zkimport.start_corral_on(os.path.join(root, "corral"), servers.free_port(), [
        "admin.enableServer=true", "admin.serverPort=%d" % port, "admin.serverAddress=%s" % servers.HOST]
        + list(extra))
    return corral, port


def test_restore_brings_every_member_back_to_the_snapshot():
    admin_ports = [servers.free_port() for _ in range(3)]
    ens = ensemble.Ensemble(3, extra_cfg=lambda i: (
        "admin.enableServer=true\nadmin.serverAddress=%s\nadmin.serverPort=%d\n"
        "admin.restore.intervalInMS=600000\n" % (servers.HOST, admin_ports[i])))
    try:
        leader = ens.start().wait_settled()
        followers = [i for i in range(3) if i != leader]
        m = ens.members
        c = zkwire.ZkConn(servers.HOST, m[leader].port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=300, big=1)
        admin_id = zkwire.digest_id("admin", "pw")
        zkimport.ok(c.call("setACL", path="/", acl=[(zkwire.ALL, "digest", admin_id),
                                                    (zkwire.READ | zkwire.CREATE, "world", "anyone")]), "setACL /")
        # The snapshot is of the tree the follower has applied: sync it first.
        there = zkwire.ZkConn(servers.HOST, m[followers[0]].port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.ok(there.call("sync", path="/"), "sync")
        there.close()
        status, snap = admin(admin_ports[followers[0]], "/commands/snapshot?streaming=true", "digest admin:pw")
        assert status == 200 and isinstance(snap, bytes) and len(snap) > 1024 * 1024, status
        want = zkimport.dump(servers.HOST, m[followers[0]].port)

        # After the snapshot: nodes made, changed and deleted, and a watcher waiting.
        for i in range(50):
            zkimport.ok(c.create("/after-%d" % i, b"new"), "create after")
        zkimport.ok(c.call("setData", path="/app", data=b"changed"), "setData")
        zkimport.ok(c.call("delete", path="/app/small/n00007"), "delete")
        watcher = zkwire.ZkConn(servers.HOST, m[followers[1]].port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.ok(watcher.call("getData", path="/app", watch=True), "watch /app")
        assert zkimport.diff(want, zkimport.dump(servers.HOST, m[leader].port)) != []

        target = admin_ports[followers[1]]
        # Refused before the body is read, and the connection closed: urllib, which
        # writes the whole body before it reads, is given a short one here.
        for auth, status in [(None, 401), ("digest bob:pw", 403)]:
            got, _ = admin(target, "/commands/restore", auth, snap[:1000])
            assert got == status, (auth, got)
        bad, answer = admin(target, "/commands/restore", "digest admin:pw", b"\x00" * 64)
        assert bad == 500 and "not a ZooKeeper snapshot" in answer["error"], (bad, answer)
        # The refused body used up the interval, as a refused restore does in ZooKeeper;
        # the next member has its own limiter.
        target = admin_ports[followers[0]]
        status, answer = admin(target, "/commands/restore", "digest admin:pw", snap)
        assert status == 200 and answer["error"] is None, (status, answer)
        assert answer["command"] == "restore" and answer["last_zxid"] > 0, answer
        again, _ = admin(target, "/commands/rest", "digest admin:pw", snap[:1000])
        assert again == 429

        for i, member in enumerate(m):
            zkimport.ok(zkwire.ZkConn(servers.HOST, member.port, timeout_ms=30000).call("sync", path="/"), "sync")
            got = zkimport.dump(servers.HOST, member.port)
            assert zkimport.diff(want, got) == [], (i, repr(zkimport.diff(want, got)[:3])[:1500])
        # The clients stay connected, and a watch on a node the restore changed fires.
        deadline = time.monotonic() + 30
        while not any(e.path == "/app" for e in watcher.events) and time.monotonic() < deadline:
            watcher.drain(0.2)
        assert any(e.path == "/app" and e.type_name == "NodeDataChanged" for e in watcher.events), watcher.events
        assert c.call("exists", path="/app").err == 0
        zkimport.ok(c.create("/after-restore", b"x"), "a write after the restore")
        watcher.close()
        c.close()
    finally:
        ens.stop()


def test_restore_disabled_answers_503_and_the_snapshot_interval_key_is_the_snapshot_s():
    """admin.restore.enabled=false is 503. admin.snapshot.intervalInMS replaces the shared
    interval for snapshot: the shared one is 1 µs here (ZooKeeper's unit for snapshot),
    so only the command's own 600 s makes the second snapshot a 429."""
    root = tempfile.mkdtemp(prefix="corral-restore-off-")
    corral, port = start_with_admin(root, "admin.restore.enabled=false", "admin.rateLimiterIntervalInMS=1",
                                    "admin.snapshot.intervalInMS=600000")
    auth = "digest %s:%s" % (servers.SUPER_USER, servers.SUPER_PASSWORD)
    try:
        status, snap = admin(port, "/commands/snapshot", auth)
        assert status == 200 and isinstance(snap, bytes)
        time.sleep(0.01)
        again, _ = admin(port, "/commands/snapshot", auth)
        assert again == 429
        status, _ = admin(port, "/commands/restore", auth, snap[:1000])
        assert status == 503
    finally:
        corral.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_corral_backup_and_restore_put_a_standalone_server_back():
    """`corral backup` saves the tree and names the file after the zxid; after the tree
    moves on, `corral restore` puts it back; a caller without ALL on / is refused with
    the AdminServer's reason."""
    import subprocess
    root = tempfile.mkdtemp(prefix="corral-backup-")
    corral, port = start_with_admin(root)
    admin_addr = "%s:%d" % (servers.HOST, port)
    auth = "%s:%s" % (servers.SUPER_USER, servers.SUPER_PASSWORD)
    try:
        c = corral.conn(timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=200, big=1)
        # Only the super user (and ALL's holders, none here) may take a backup.
        zkimport.ok(c.call("setACL", path="/", acl=[(zkwire.ALL, "digest", zkwire.digest_id("admin", "pw")),
                                                    (zkwire.ALL & ~zkwire.ADMIN, "world", "anyone")]), "setACL /")
        want = zkimport.dump(corral.host, corral.port)
        refused = subprocess.run([servers.corral_bin(), "backup", "--admin", admin_addr, "--auth", "bob:pw"],
                                 cwd=root, capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and "403: Not authorized" in refused.stderr, refused.stderr
        r = subprocess.run([servers.corral_bin(), "backup", "--admin", admin_addr, "--auth", auth],
                           cwd=root, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        saved = [f for f in os.listdir(root) if f.startswith("snapshot.")]
        assert len(saved) == 1 and "saved" in r.stdout and saved[0][len("snapshot."):] in r.stdout, (saved, r.stdout)
        zkimport.ok(c.call("delete", path="/app/small/n00003"), "delete")
        zkimport.ok(c.create("/later", b"x"), "create")
        assert zkimport.diff(want, zkimport.dump(corral.host, corral.port)) != []
        r = subprocess.run([servers.corral_bin(), "restore", os.path.join(root, saved[0]), "--admin", admin_addr,
                            "--auth", auth], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "restored" in r.stdout, r.stdout + r.stderr
        got = zkimport.dump(corral.host, corral.port)
        assert zkimport.diff(want, got) == [], repr(zkimport.diff(want, got)[:3])[:1500]
        c.close()
    finally:
        corral.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_the_ip_scheme_authenticates_by_the_caller_s_address():
    """ZooKeeper's IPAuthenticationProvider for the admin commands: `Authorization: ip`
    names the caller by its address, and an ACL on / for that address lets it in."""
    root = tempfile.mkdtemp(prefix="corral-admin-ip-")
    corral, port = start_with_admin(root, "admin.snapshot.intervalInMS=0")
    try:
        c = corral.conn(timeout_ms=30000)
        zkimport.ok(c.call("setACL", path="/", acl=[(zkwire.ALL, "ip", "10.0.0.0/8"),
                                                    (zkwire.READ, "world", "anyone")]), "setACL /")
        status, _ = admin(port, "/commands/snapshot", "ip")
        assert status == 403, status
        zkimport.ok(c.add_auth("digest", ("%s:%s" % (servers.SUPER_USER, servers.SUPER_PASSWORD)).encode()), "super")
        zkimport.ok(c.call("setACL", path="/", acl=[(zkwire.ALL, "ip", "127.0.0.0/8"),
                                                    (zkwire.READ, "world", "anyone")]), "setACL /")
        status, body = admin(port, "/commands/snapshot", "ip")
        assert status == 200 and isinstance(body, bytes) and body.startswith(b"ZKSN"), status
        c.close()
    finally:
        corral.stop()
        shutil.rmtree(root, ignore_errors=True)
