"""Runner for differential cases: execute one scripted case against one server and return a
normalized transcript (a list of strings), so that transcripts from ZooKeeper and Corral can be
compared line by line.

Normalization rules
  * zxid values (reply-header zxid of successful writes, Stat czxid/mzxid/pzxid, event zxids) are
    replaced by their rank among the distinct zxids seen in the case: only order/equality count.
  * ctime/mtime are dropped; every other Stat field is compared exactly.
  * ephemeralOwner: 0 stays 0, a session of the case becomes "session:<name>", the container
    marker becomes "CONTAINER", a TTL owner "TTL:<ms>", anything else "foreign".
  * children, getEphemerals and whoAmI lists are sorted (ZooKeeper returns hash order).
  * Session ids, passwords and negotiated values are reduced to what a client may rely on.
After every step each open session is synced (an exists("/") round trip) so that watch events
caused by the step are collected deterministically; events are kept in arrival order, interleaved
with the replies of their own session.
"""

import hashlib
import json
import socket

import zkwire
from zkwire import Closed, DecodeError

CASE_PARENT = "/compat"

WRITE_OPS = {"create", "create2", "createContainer", "createTTL", "delete", "setData", "setACL",
             "multi", "deleteContainer", "reconfig", "check"}


class Z(int):
    """A zxid value, normalized to a rank at the end of the case."""


class Owner(int):
    """An ephemeralOwner value, normalized to a symbolic owner."""


class NoReply(Exception):
    pass


def _data(b):
    if b is None:
        return None
    if len(b) <= 48:
        try:
            s = b.decode("ascii")
            if s.isprintable():
                return s
        except UnicodeDecodeError:
            pass
        return "hex:" + b.hex()
    return "len=%d sha1=%s" % (len(b), hashlib.sha1(b).hexdigest()[:16])


def _stat(st):
    if st is None:
        return None
    return {
        "czxid": Z(st["czxid"]), "mzxid": Z(st["mzxid"]), "pzxid": Z(st["pzxid"]),
        "version": st["version"], "cversion": st["cversion"], "aversion": st["aversion"],
        "ephemeralOwner": Owner(st["ephemeralOwner"]), "dataLength": st["dataLength"],
        "numChildren": st["numChildren"],
    }


def norm_body(op, body):
    if body is None:
        return None
    out = {}
    for k, v in body.items():
        if k == "stat":
            out[k] = _stat(v)
        elif k in ("data", "token"):
            out[k] = _data(v)
        elif k in ("children", "ephemerals"):
            out[k] = None if v is None else sorted(v)
        elif k == "acl":
            out[k] = None if v is None else [list(a) for a in v]
        elif k == "clientInfo":
            # ZooKeeper keeps a connection's auth ids in a hash set: the order is not meaningful.
            out[k] = None if v is None else sorted(list(a) for a in v)
        elif k == "results":
            out[k] = [norm_body(r.get("op"), r) for r in v]
        else:
            out[k] = v
    return out


def norm_reply(rep):
    d = {"err": rep.err_name}
    if rep.body is not None:
        d["body"] = norm_body(rep.op, rep.body)
    if rep.err == 0 and rep.op in WRITE_OPS:
        d["zxid"] = Z(rep.zxid)
    return d


def norm_event(ev):
    return [ev.type_name, ev.state_name, ev.path]


class Sess:
    """One named client session inside a case."""

    def __init__(self, run, name, **kw):
        self.run = run
        self.name = name
        self.kw = kw
        self.conn = None
        self.session_id = 0
        self.passwd = b"\x00" * 16
        self.last_zxid = 0
        self.dead = True
        self._connect(**kw)

    # -- connection management
    def _connect(self, record=True, **kw):
        args = dict(timeout_ms=10000)
        args.update(kw)
        try:
            c = zkwire.ZkConn(self.run.server.host, self.run.server.port, sock_timeout=self.run.timeout, **args)
        except (Closed, DecodeError, socket.timeout, OSError) as e:
            if record:
                self.run.rec(self.name, "connect", "CLOSED" if not isinstance(e, socket.timeout) else "NO_REPLY")
            self.dead = True
            return None
        self.conn = c
        resp = c.connect_response
        if resp["timeOut"] > 0 and resp["sessionId"] != 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
            self.run.session_names[self.session_id] = self.name
            self.dead = False
        else:
            self.dead = True
        if record:
            self.run.rec(self.name, "connect", self._norm_connect(resp))
        if self.dead:
            # A refused session: the server is expected to close the connection.
            self.run.rec(self.name, "after-refusal", "closed" if c.wait_closed(2.0) else "open")
            c.close()
        return resp

    def _norm_connect(self, resp):
        sid = resp["sessionId"]
        if sid == 0:
            sid_n = 0
        elif sid in self.run.session_names:
            sid_n = "session:" + self.run.session_names[sid]
        else:
            sid_n = "new"
        pw = resp["passwd"] or b""
        return {"protocolVersion": resp["protocolVersion"], "timeOut": resp["timeOut"], "sessionId": sid_n,
                "passwdLen": len(pw), "passwdZero": pw == b"\x00" * len(pw), "readOnly": resp["readOnly"]}

    def disconnect(self):
        """Drop the TCP connection without closing the session."""
        if self.conn is not None:
            self.last_zxid = self.conn.last_zxid
            self.conn.close()
        self.conn = None
        self.dead = True
        self.run.rec(self.name, "disconnect", None)

    def reconnect(self, passwd=None, session_id=None, **kw):
        """Resume the session on a new connection (optionally with a wrong password / id)."""
        if self.conn is not None:
            self.last_zxid = self.conn.last_zxid
            self.conn.close()
        args = dict(session_id=self.session_id if session_id is None else session_id,
                    passwd=self.passwd if passwd is None else passwd,
                    last_zxid=self.last_zxid)
        args.update(kw)
        return self._connect(**args)

    @property
    def seen_zxid(self):
        return self.conn.last_zxid if self.conn is not None else self.last_zxid

    # -- operations
    def op(self, opname, _timeout=None, _quiet=False, **args):
        """Send one request, wait for its reply, record it (with the events that came before it)."""
        label = self._label(opname, args)
        if self.dead or self.conn is None:
            self.run.rec(self.name, label, "NOT_CONNECTED")
            return None
        c = self.conn
        start = len(c.items)
        rep = None
        try:
            xid = c.submit(opname, **args)
            rep = c.wait(xid, timeout=_timeout or self.run.timeout)
            outcome = norm_reply(rep)
        except socket.timeout:
            outcome = "NO_REPLY"
        except (Closed, DecodeError):
            outcome = "CLOSED"
            self.dead = True
        pre = [norm_event(i) for i in c.items[start:] if isinstance(i, zkwire.Event)]
        c.events = [e for e in c.events if e not in c.items[start:]]
        if pre:
            self.run.rec(self.name, "events", pre)
        if not _quiet:
            self.run.rec(self.name, label, outcome)
        if opname == "closeSession" and rep is not None:
            self.run.rec(self.name, "after-close", "closed" if c.wait_closed(2.0) else "open")
            self.dead = True
        self.run.sync_all()
        return rep

    def pipeline(self, ops):
        """Send several requests back to back, then read every reply (order is recorded)."""
        if self.dead:
            self.run.rec(self.name, "pipeline", "NOT_CONNECTED")
            return
        c = self.conn
        xids = []
        labels = {}
        try:
            for opname, args in ops:
                x = c.submit(opname, **args)
                xids.append(x)
                labels[x] = self._label(opname, args)
            got = []
            nreplies = 0
            while nreplies < len(xids):
                item = c.read_item(self.run.timeout)
                got.append(item)
                if isinstance(item, zkwire.Reply):
                    nreplies += 1
            out = []
            for item in got:
                if isinstance(item, zkwire.Event):
                    out.append(["event"] + norm_event(item))
                else:
                    out.append([xids.index(item.xid) if item.xid in xids else item.xid, labels.get(item.xid),
                                norm_reply(item)])
            c.replies.clear()
            c.events = []
            self.run.rec(self.name, "pipeline", out)
        except socket.timeout:
            self.run.rec(self.name, "pipeline", "NO_REPLY")
        except (Closed, DecodeError):
            self.run.rec(self.name, "pipeline", "CLOSED")
            self.dead = True
        self.run.sync_all()

    def _label(self, opname, args):
        parts = [opname]
        for k in ("path", "flags", "version", "type", "mode", "watch", "scheme"):
            if k in args:
                parts.append("%s=%s" % (k, args[k]))
        if "ops" in args:
            parts.append("ops=%s" % [o[0] for o in args["ops"]])
        return " ".join(parts)

    def sync_events(self):
        """Round-trip an exists("/") so that every event queued before it is read."""
        if self.dead or self.conn is None:
            return
        c = self.conn
        try:
            xid = c.submit("exists", path="/")
            c.wait(xid, timeout=self.run.timeout)
        except socket.timeout:
            self.run.rec(self.name, "sync", "NO_REPLY")
        except (Closed, DecodeError):
            self.run.rec(self.name, "sync", "CLOSED")
            self.dead = True
        evs = c.take_events()
        c.items = []
        if evs:
            self.run.rec(self.name, "events", [norm_event(e) for e in evs])

    # -- shorthands
    def create(self, path, data=b"", acl=None, flags=0, **kw):
        return self.op("create", path=path, data=data, acl=acl, flags=flags, **kw)

    def create2(self, path, data=b"", acl=None, flags=0, **kw):
        return self.op("create2", path=path, data=data, acl=acl, flags=flags, **kw)

    def get(self, path, watch=False):
        return self.op("getData", path=path, watch=watch)

    def set(self, path, data, version=-1):
        return self.op("setData", path=path, data=data, version=version)

    def delete(self, path, version=-1):
        return self.op("delete", path=path, version=version)

    def exists(self, path, watch=False):
        return self.op("exists", path=path, watch=watch)

    def ls(self, path, watch=False):
        return self.op("getChildren", path=path, watch=watch)

    def ls2(self, path, watch=False):
        return self.op("getChildren2", path=path, watch=watch)

    def get_acl(self, path):
        return self.op("getACL", path=path)

    def set_acl(self, path, acl, version=-1):
        return self.op("setACL", path=path, acl=acl, version=version)

    def auth(self, scheme, auth):
        return self.op("auth", scheme=scheme, auth=auth)

    def multi(self, ops):
        return self.op("multi", ops=ops)

    def multi_read(self, ops):
        return self.op("multiRead", ops=ops)

    def add_watch(self, path, mode):
        return self.op("addWatch", path=path, mode=mode)

    def close(self):
        return self.op("closeSession")


class Run:
    """One execution of one case against one server."""

    def __init__(self, server, case_name, timeout=5.0):
        self.server = server
        self.case_name = case_name
        self.root = "%s/%s" % (CASE_PARENT, case_name)
        self.timeout = timeout
        self.records = []
        self.sessions = []
        self.session_names = {}
        self._setup_root()

    def _setup_root(self):
        c = zkwire.ZkConn(self.server.host, self.server.port, sock_timeout=self.timeout)
        try:
            rep = c.create(CASE_PARENT)
            if rep.err not in (0, -110):
                raise RuntimeError("cannot create %s: %s" % (CASE_PARENT, rep))
            rep = c.create(self.root)
            if rep.err != 0:
                raise RuntimeError("cannot create case root %s: %s" % (self.root, rep))
        finally:
            try:
                c.close_session()
            except (Closed, OSError, socket.timeout):
                c.close()

    def p(self, rel=""):
        return self.root + ("/" + rel if rel else "")

    def session(self, name="a", **kw):
        s = Sess(self, name, **kw)
        self.sessions.append(s)
        return s

    def rec(self, who, what, value):
        self.records.append([who, what, value])

    def note(self, label, value):
        self.rec("case", label, value)

    def sync_all(self):
        for s in self.sessions:
            s.sync_events()

    def finish(self):
        for s in self.sessions:
            if not s.dead and s.conn is not None:
                try:
                    s.conn.close_session()
                except (Closed, OSError, socket.timeout, DecodeError):
                    pass
            if s.conn is not None:
                s.conn.close()

    # -- normalization
    def transcript(self):
        zx = set()

        def collect(v):
            if isinstance(v, Z):
                if int(v) > 0:
                    zx.add(int(v))
            elif isinstance(v, dict):
                for x in v.values():
                    collect(x)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    collect(x)

        collect(self.records)
        rank = {z: i + 1 for i, z in enumerate(sorted(zx))}

        def conv(v):
            if isinstance(v, Z):
                return "z%d" % rank[int(v)] if int(v) > 0 else int(v)
            if isinstance(v, Owner):
                return self._owner(int(v))
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        rootlen = len(self.root)

        def text(rec):
            s = json.dumps(conv(rec), sort_keys=True)
            return s.replace(self.root, "{R}") if rootlen else s

        return [text(r) for r in self.records]

    def _owner(self, v):
        u = v & 0xFFFFFFFFFFFFFFFF
        if u == 0:
            return 0
        if v in self.session_names:
            return "session:" + self.session_names[v]
        if u == 0x8000000000000000:
            return "CONTAINER"
        if (u >> 56) == 0xFF:
            return "TTL:%d" % (u & 0x00FFFFFFFFFFFFFF)
        return "foreign"


def run_case(server, name, fn):
    run = Run(server, name)
    try:
        fn(run)
    finally:
        run.finish()
    return run.transcript()
