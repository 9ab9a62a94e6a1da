"""docs/migration.md's runbook for a 3-member ensemble, as written, against a real
ZooKeeper 3.8 ensemble (QuorumPeerMain) on one machine: ZooKeeper holds a tree with
every node kind and ACL scheme and a client's ephemeral; every member is stopped; the
newest data directory is found with `corral import --dry-run` and imported into two
Corral members with `--config`, the third left empty; the Corral ensemble elects a
leader, the empty member catches up from it, the ensemble goes on after
ZooKeeper's zxid, serves the same tree on every member (every path, data, ACL and Stat
field) and takes back the client's session with its ephemeral. Then the way back:
followers stopped, then the leader, its directory exported and copied to three
ZooKeeper members, which serve the tree Corral held."""

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

IDS = (1, 2, 3)


def member_cfg(ports, me, data_dir):
    """A member's zoo.cfg: the one the compat suite uses, and the ensemble's server lines."""
    lines = ["server.%d=%s:%d:%d;%s:%d" % (i, servers.HOST, p["quorum"], p["election"], servers.HOST, p["client"])
             for i, p in ports.items()]
    return servers.zoo_cfg(ports[me]["client"], data_dir, lines)


def new_data_dir(root, name, myid):
    data = os.path.join(root, name, "data")
    os.makedirs(data)
    with open(os.path.join(data, "myid"), "w") as f:
        f.write("%d\n" % myid)
    return data


def start(kind, root, name, cfg_text, port):
    # Its own folder for zoo.cfg and the log, apart from the data: servers.Server
    # removes that folder when it stops the server.
    work = os.path.join(root, name, "run")
    os.makedirs(work)
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    if kind == "zookeeper":
        argv = [shutil.which("java") or "java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.DigestAuthenticationProvider.superDigest=%s" % servers.SUPER_DIGEST,
                "-Djute.maxbuffer=%d" % (servers.JUTE_MAXBUFFER * 2),
                "-cp", servers.zk_classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
    else:
        argv = [servers.corral_bin(), "server", "--config", cfg]
    return servers.Server(kind, argv, port, work), cfg


def modes(members):
    out = []
    for m in members:
        try:
            text = zkwire.four_letter(servers.HOST, m.port, "srvr", 2.0)
        except OSError:
            out.append(None)
            continue
        found = re.search(r"^Mode: (\S+)", text, re.M)
        out.append(found.group(1) if found else None)
    return out


def settle(members, timeout=90.0):
    """The index of the leader, once one leads and the others follow."""
    deadline = time.monotonic() + timeout
    while True:
        now = modes(members)
        if now.count("leader") == 1 and now.count("follower") == len(members) - 1:
            return now.index("leader")
        if time.monotonic() > deadline:
            raise AssertionError("the ensemble did not settle: %s\n%s" % (now, members[0].log_tail()))
        time.sleep(0.2)


def server_zxid(member):
    text = zkwire.four_letter(servers.HOST, member.port, "srvr", 2.0)
    return int(re.search(r"^Zxid: (0x[0-9a-f]+)", text, re.M).group(1), 16)


def tree_of(port):
    """zkimport.dump, but for /zookeeper/config's mtime: each member, ZooKeeper or
    Corral, writes that node from its own configuration when it starts."""
    out = zkimport.dump(servers.HOST, port)
    config = "/zookeeper/config"
    if config in out:
        node, acl = out[config]
        out[config] = (dict(node, stat=dict(node["stat"], mtime=0)), dict(acl, stat=dict(acl["stat"], mtime=0)))
    return out


def corral(*args):
    return subprocess.run([servers.corral_bin()] + list(args), capture_output=True, text=True, timeout=600)


def test_a_zookeeper_ensemble_moves_to_corral_and_back():
    root = tempfile.mkdtemp(prefix="corral-migrate-ensemble-")
    ports = {i: dict(client=servers.free_port(), quorum=servers.free_port(), election=servers.free_port())
             for i in IDS}
    running = []
    try:
        # A ZooKeeper 3.8 ensemble, with a tree and a client's ephemeral.
        zk_data = {i: new_data_dir(root, "zk%d" % i, i) for i in IDS}
        zk = [start("zookeeper", root, "zk%d" % i, member_cfg(ports, i, zk_data[i]), ports[i]["client"])[0]
              for i in IDS]
        running += zk
        settle(zk)
        c = zkwire.ZkConn(servers.HOST, zk[0].port, timeout_ms=30000, sock_timeout=30.0)
        zkimport.build_tree(c, small=300, big=1)
        client = zkwire.ZkConn(servers.HOST, zk[1].port, timeout_ms=servers.MAX_SESSION_TIMEOUT)
        zkimport.ok(client.create("/migrated-eph", b"mine", flags=zkwire.EPHEMERAL), "ephemeral")
        session_id, passwd = client.session_id, client.passwd
        zkimport.ok(c.call("sync", path="/"), "sync")
        want = tree_of(zk[0].port)
        zk_zxid = max(server_zxid(m) for m in zk)
        c.close()
        client.sock.close()  # the client is cut off, not closed: its session lives on

        # Step 1: each Corral member's zoo.cfg and myid. Step 2: stop ZooKeeper.
        corral_data = {i: new_data_dir(root, "corral%d" % i, i) for i in IDS}
        for m in zk:
            m.stop()
        # Step 3: the newest data directory, by --dry-run.
        last = {}
        for i in IDS:
            r = corral("import", zk_data[i], "--dry-run")
            assert r.returncode == 0, (r.stderr, sorted(os.listdir(zk_data[i])))
            last[i] = int(re.search(r"last zxid (0x[0-9a-f]+)", r.stdout).group(1), 16)
        newest = max(IDS, key=lambda i: last[i])
        assert last[newest] >= zk_zxid, (last, zk_zxid)
        # Step 4: that directory into a majority (here two), each with its own zoo.cfg;
        # the third starts empty and catches up from the leader.
        cfgs = {}
        for i in IDS:
            cfgs[i] = os.path.join(root, "corral%d" % i, "zoo.cfg")
            with open(cfgs[i], "w") as f:
                f.write(member_cfg(ports, i, corral_data[i]))
            if i == 3:
                continue
            r = corral("import", zk_data[newest], "--config", cfgs[i])
            assert r.returncode == 0, r.stdout + r.stderr
            assert "for server %d of the membership {1, 2, 3}" % i in r.stdout, r.stdout
        # Step 5: start them, in any order.
        members = []
        for i in (3, 1, 2):
            srv, _ = start("corral", root, "corral%d" % i, open(cfgs[i]).read(), ports[i]["client"])
            members.append(srv)
            running.append(srv)
        members.sort(key=lambda m: [ports[i]["client"] for i in IDS].index(m.port))
        settle(members)
        # The empty member follows at once, and has the tree once the snapshot is in.
        deadline = time.monotonic() + 60
        while not all(server_zxid(m) >= last[newest] for m in members):
            assert time.monotonic() < deadline, [hex(server_zxid(m)) for m in members]
            time.sleep(0.2)
        # Step 6: the session comes back with its ephemeral; every member serves the tree.
        back = zkwire.ZkConn(servers.HOST, members[2].port, timeout_ms=servers.MAX_SESSION_TIMEOUT,
                             session_id=session_id, passwd=passwd)
        assert back.session_id == session_id, "the session did not survive the move"
        for m in members:
            zkimport.ok(zkwire.ZkConn(servers.HOST, m.port).call("sync", path="/"), "sync")
            got = tree_of(m.port)
            assert zkimport.diff(want, got) == [], repr(zkimport.diff(want, got)[:3])[:1500]
        on_corral = zkwire.ZkConn(servers.HOST, members[0].port, timeout_ms=30000)
        zkimport.ok(on_corral.create("/written-on-corral", b"c"), "a write on Corral")
        assert server_zxid(members[0]) > last[newest]
        back.close_session()
        zkimport.ok(on_corral.call("sync", path="/"), "sync")
        held = tree_of(members[0].port)
        on_corral.close()

        # The way back. Step 1: the followers, then the leader.
        leader = settle(members)
        for i, m in enumerate(members):
            if i != leader:
                m.stop()
        members[leader].stop()
        # Step 2: export the leader's directory. Step 3: a copy for every ZooKeeper member.
        exported = os.path.join(root, "exported")
        r = corral("export", corral_data[IDS[leader]], "--to", exported)
        assert r.returncode == 0, r.stdout + r.stderr
        again = {}
        for i in IDS:
            again[i] = new_data_dir(root, "zkback%d" % i, i)
            shutil.copytree(os.path.join(exported, "version-2"), os.path.join(again[i], "version-2"))
        # Step 4: start ZooKeeper.
        zk2 = [start("zookeeper", root, "zkback%d" % i, member_cfg(ports, i, again[i]), ports[i]["client"])[0]
               for i in IDS]
        running += zk2
        settle(zk2)
        for m in zk2:
            got = tree_of(m.port)
            assert "/written-on-corral" in got
            assert zkimport.diff(held, got) == [], repr(zkimport.diff(held, got)[:3])[:1500]
    finally:
        for srv in running:
            srv.stop()
        if not os.environ.get("COMPAT_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
