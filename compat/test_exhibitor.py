"""The reading half of Exhibitor's REST API on a 3-member ensemble, with the field names
and types of Exhibitor's ClusterResource and ExplorerResource: cluster/list in JSON and in
the form Curator's ExhibitorEnsembleProvider polls, cluster/status (one leader, then a
stopped member DOWN), cluster/state, cluster/4ltr/{word}, and the explorer's two reads."""

import json
import time
import urllib.parse
import urllib.request

import ensemble
import servers
import zkwire


def get(port, path, accept=None):
    req = urllib.request.Request("http://%s:%d/exhibitor/v1/%s" % (servers.HOST, port, path))
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def test_exhibitor_api_answers_as_exhibitor_does():
    admin_ports = [servers.free_port() for _ in range(3)]
    ens = ensemble.Ensemble(3, extra_cfg=lambda i: (
        "admin.enableServer=true\nadmin.serverAddress=%s\nadmin.serverPort=%d\n" % (servers.HOST, admin_ports[i])))
    try:
        leader = ens.start().wait_settled()
        follower = (leader + 1) % 3
        port = admin_ports[follower]
        member = ens.members[follower]

        _, body = get(port, "cluster/list")
        listed = json.loads(body)
        assert listed == {"servers": [servers.HOST] * 3, "port": member.port}, listed
        kind, form = get(port, "cluster/list", "application/x-www-form-urlencoded")
        assert kind.startswith("application/x-www-form-urlencoded"), kind
        assert urllib.parse.parse_qs(form) == {
            "count": ["3"], "server0": [servers.HOST], "server1": [servers.HOST], "server2": [servers.HOST],
            "port": [str(member.port)]}, form

        _, body = get(port, "cluster/status")
        status = json.loads(body)
        assert [sorted(s) for s in status] == [["code", "description", "hostname", "isLeader"]] * 3
        assert [s["isLeader"] for s in status] == [i == leader for i in range(3)], status
        assert all(s["code"] == 3 and s["description"] == "serving" for s in status), status

        _, body = get(port, "cluster/state")
        state = json.loads(body)
        assert sorted(state) == ["description", "isLeader", "state", "switches"], state
        assert state["state"] == 3 and state["isLeader"] is False, state
        assert sorted(state["switches"]) == ["backups", "cleanup", "restarts"]
        assert all(isinstance(v, bool) for v in state["switches"].values())

        assert json.loads(get(port, "cluster/4ltr/ruok")[1]) == "imok"
        assert "Mode: follower" in json.loads(get(port, "cluster/4ltr/SRVR")[1])
        assert json.loads(get(port, "cluster/4ltr/kill")[1]) == "* unknown *"

        c = zkwire.ZkConn(servers.HOST, member.port, timeout_ms=30000)
        assert c.create("/exhibited", b"hi\n").err == 0
        assert c.create("/exhibited/b", b"").err == 0
        assert c.create("/exhibited/a", b"").err == 0
        assert c.create("/hidden", b"x", acl=[(zkwire.ALL, "digest", zkwire.digest_id("bob", "pw"))]).err == 0
        assert c.call("sync", path="/").err == 0
        children = json.loads(get(port, "explorer/node?key=/exhibited")[1])
        assert children == [{"title": "a", "key": "/exhibited/a", "isLazy": True, "expand": False},
                            {"title": "b", "key": "/exhibited/b", "isLazy": True, "expand": False}], children
        data = json.loads(get(port, "explorer/node-data?key=/exhibited")[1])
        assert data["bytes"] == "68 69 a " and data["str"] == "hi\n", data
        assert data["stat"].startswith("czxid: ") and "numChildren: 2, pzxid: " in data["stat"], data
        assert json.loads(get(port, "explorer/node-data?key=/absent")[1])["stat"] == "* not found * "
        hidden = json.loads(get(port, "explorer/node-data?key=/hidden")[1])
        assert hidden["str"] == "Exception" and "NoAuth" in hidden["stat"], hidden
        c.close()

        # A stopped member is DOWN; the others still serve.
        stopped = (leader + 2) % 3
        ens.members[stopped].stop()
        deadline = time.monotonic() + 30
        while True:
            status = json.loads(get(port, "cluster/status")[1])
            if status[stopped]["code"] == 1:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        assert status[stopped]["description"] == "down" and status[stopped]["isLeader"] is False
        assert [s["code"] for i, s in enumerate(status) if i != stopped] == [3, 3], status
    finally:
        ens.stop()
