"""`corral export`, the way back, against the real ZooKeeper 3.8: Corral holds a tree with
every node kind and ACL scheme, a quota, sequential children, nodes near 1 MiB and a
client's ephemeral; Corral stops, its directory is exported, and ZooKeeper started on the
result on the same port serves the same tree (the same dump as test_import.py), computes
the digest the snapshot carries, goes on after Corral's last zxid, and takes back the
client's session with its ephemeral. A busy or non-empty target is refused."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import servers
import zkimport
import zkwire

pytestmark = pytest.mark.skipif(not os.path.exists(servers.ZK_JAR), reason="ZooKeeper 3.8 not installed")


def run_export(corral_dir, to, *extra):
    return subprocess.run([servers.corral_bin(), "export", corral_dir, "--to", to] + list(extra),
                          capture_output=True, text=True, timeout=600)


def test_export_round_trip_to_zookeeper():
    from kazoo.client import KazooClient
    from kazoo.protocol.states import KazooState

    root = tempfile.mkdtemp(prefix="corral-export-")
    corral_dir, zk_dir = os.path.join(root, "corral"), os.path.join(root, "zk")
    port = servers.free_port()
    corral = zk = None
    client = KazooClient(hosts="%s:%d" % (servers.HOST, port), timeout=30.0,
                         connection_retry={"max_tries": -1, "delay": 0.2, "max_delay": 1.0})
    try:
        # Sessions that may move back to ZooKeeper need its derived passwords.
        corral = zkimport.start_corral_on(corral_dir, port, ["corral.sessionPasswords=zookeeper"])
        c = zkwire.ZkConn(servers.HOST, port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=2000, big=2)
        client.start(timeout=30)
        client.create("/app/kazoo-eph", b"mine", ephemeral=True)
        session_id = client.client_id[0]
        last_zxid = zkimport.ok(c.call("setData", path="/app", data=b"last"), "setData").zxid
        want = zkimport.dump(servers.HOST, port)
        app = zkimport.ok(c.call("exists", path="/app"), "exists").body["stat"]
        c.close()
        states = []
        client.add_listener(states.append)
        corral.stop()
        corral = None

        # The server's own zoo.cfg, as an operator passes it (its ACL providers judge the
        # replay of the log).
        cfg = os.path.join(root, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(servers.zoo_cfg(port, corral_dir))
        res = run_export(corral_dir, zk_dir, "--config", cfg)
        assert res.returncode == 0, res.stderr
        assert "1 ephemeral, 1 containers, 1 TTL" in res.stdout, res.stdout
        # The dump's own session closed after the setData: one more zxid.
        exported_zxid = int(re.search(r"last zxid 0x([0-9a-f]+)", res.stdout).group(1), 16)
        assert exported_zxid >= last_zxid, res.stdout
        last_zxid = exported_zxid
        digest = int(re.search(r"digest ([0-9a-f]+) \(version 2\)", res.stdout).group(1), 16)
        assert sorted(os.listdir(os.path.join(zk_dir, "version-2"))) == [
            "acceptedEpoch", "currentEpoch", "snapshot.%x" % last_zxid]

        zk = zkimport.start_zookeeper_on(zk_dir, port)
        # ZooKeeper read the digest from the snapshot and computed its own from the
        # nodes it loaded: both are ours.
        with open(zk.log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        stored = re.search(r"with zxid as 0x([0-9a-f]+), and digest value as (-?\d+)", log)
        loaded = re.search(r"Snapshot loaded in \d+ ms, highest zxid is 0x([0-9a-f]+), digest is (-?\d+)", log)
        assert stored and loaded, log[-3000:]
        assert int(stored.group(1), 16) == last_zxid and int(stored.group(2)) == digest
        assert int(loaded.group(1), 16) == last_zxid and int(loaded.group(2)) == digest

        got = zkimport.dump(zk.host, zk.port)
        assert len(want) > 2000 and "/app/kazoo-eph" in want and "/app/ttl" in want
        assert zkimport.diff(want, got) == [], repr(zkimport.diff(want, got)[:3])[:1500]

        # The session made on Corral reconnects to ZooKeeper, with its ephemeral.
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not (states and states[-1] == KazooState.CONNECTED):
            time.sleep(0.1)
        assert states and states[-1] == KazooState.CONNECTED, states
        assert KazooState.LOST not in states and client.client_id[0] == session_id
        stat = client.exists("/app/kazoo-eph")
        assert stat is not None and stat.ephemeralOwner == session_id

        # A client that saw Corral's last zxid is accepted; zxids and sequence numbers go on.
        after = zkwire.ZkConn(zk.host, zk.port, last_zxid=last_zxid)
        assert after.connect_response["timeOut"] > 0
        made = zkimport.ok(after.create("/app/seq-", b"", flags=zkimport.SEQUENTIAL), "sequential")
        assert made.zxid > last_zxid
        stored_cversion = (app["cversion"] + app["numChildren"]) // 2
        assert made.body["path"] == "/app/seq-%010d" % stored_cversion
        after.close()
    finally:
        client.stop()
        client.close()
        for srv in (corral, zk):
            if srv:
                srv.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_export_refuses_a_running_server_and_a_non_empty_target():
    root = tempfile.mkdtemp(prefix="corral-export-")
    corral_dir = os.path.join(root, "corral")
    corral = zkimport.start_corral_on(corral_dir, servers.free_port())
    try:
        c = corral.conn()
        zkimport.ok(c.create("/x", b"1"), "create")
        c.close()
        busy = run_export(corral_dir, os.path.join(root, "zk"))
        assert busy.returncode != 0 and "a server is running" in busy.stderr, busy.stderr
        assert "nothing was written" in busy.stderr
        corral.stop()
        corral = None
        full = os.path.join(root, "full")
        os.makedirs(full)
        with open(os.path.join(full, "keep"), "w") as f:
            f.write("mine")
        refused = run_export(corral_dir, full)
        assert refused.returncode != 0 and "is not empty" in refused.stderr, refused.stderr
        assert os.listdir(full) == ["keep"]
        missing = run_export(os.path.join(root, "nothing-here"), os.path.join(root, "zk"))
        assert missing.returncode != 0 and "not a Corral data directory" in missing.stderr, missing.stderr
        assert sorted(os.listdir(root)) == ["corral", "full"]
    finally:
        if corral:
            corral.stop()
        shutil.rmtree(root, ignore_errors=True)


def admin_get(port, path, auth=None):
    """(status, headers, body) of a GET on the AdminServer."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request("http://%s:%d%s" % (servers.HOST, port, path))
    if auth is not None:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_admin_snapshot_streams_what_zookeeper_loads():
    """3.9's snapshot command: refused without ALL on / (401 without or with a bad
    Authorization header, 403 for a user without it), rate limited (429), and the body a
    snapshot ZooKeeper 3.8 starts from and serves as Corral does."""
    import json

    root = tempfile.mkdtemp(prefix="corral-admin-snap-")
    admin_port = servers.free_port()
    # ZooKeeper reads the interval of the snapshot limiter as microseconds: 600 s here.
    corral = zkimport.start_corral_on(os.path.join(root, "corral"), servers.free_port(), [
        "admin.enableServer=true", "admin.serverPort=%d" % admin_port,
        "admin.serverAddress=%s" % servers.HOST, "admin.rateLimiterIntervalInMS=600000000"])
    zk = None
    try:
        c = corral.conn(timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=300, big=1)
        admin_id = zkwire.digest_id("admin", "pw")
        zkimport.ok(c.call("setACL", path="/", acl=[(zkwire.ALL, "digest", admin_id),
                                                    (zkwire.READ, "world", "anyone")]), "setACL /")
        c.close()
        for auth, status, error in [(None, 401, "Auth info is missing for the command"),
                                    ("sasl whoever", 401, "Not authenticated"),
                                    ("digest", 401, "Not authenticated"),
                                    ("digest bob:pw", 403, "Not authorized")]:
            got, _, body = admin_get(admin_port, "/commands/snapshot?streaming=true", auth)
            assert (got, json.loads(body)["error"]) == (status, error), (auth, got, body)
        status, headers, body = admin_get(admin_port, "/commands/snapshot?streaming=true", "digest admin:pw")
        assert status == 200, body
        assert headers["content-type"] == "application/octet-stream"
        assert int(headers["snapshot_size"]) == len(body) > 1024 * 1024
        last_zxid = int(headers["last_zxid"], 16)
        again, _, _ = admin_get(admin_port, "/commands/snap", "digest admin:pw")
        assert again == 429
        want = zkimport.dump(corral.host, corral.port)
        zk_dir = os.path.join(root, "zk")
        os.makedirs(os.path.join(zk_dir, "version-2"))
        with open(os.path.join(zk_dir, "version-2", "snapshot.%x" % last_zxid), "wb") as f:
            f.write(body)
        corral.stop()
        corral = None
        zk = zkimport.start_zookeeper_on(zk_dir, servers.free_port())
        got = zkimport.dump(zk.host, zk.port)
        assert len(want) > 300 and zkimport.diff(want, got) == [], repr(zkimport.diff(want, got)[:3])[:1500]
    finally:
        for srv in (corral, zk):
            if srv:
                srv.stop()
        shutil.rmtree(root, ignore_errors=True)
