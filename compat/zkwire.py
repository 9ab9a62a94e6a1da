"""zkwire: a small, independent raw ZooKeeper wire-protocol client.

Jute over TCP: every frame is a 4-byte big-endian length followed by the
payload.  Requests are RequestHeader{xid:int,type:int} + body, replies are
ReplyHeader{xid:int,zxid:long,err:int} + body.  Watch notifications arrive as
replies with xid -1 and a WatcherEvent{type,state,path} body.

The client is deliberately low level: it can send any opcode (including
unknown ones), raw bytes, several requests in flight (pipelining), and it
keeps every item it receives (replies and events) in arrival order in
``ZkConn.items``.
"""

import hashlib
import base64
import socket
import struct
import time

# ---------------------------------------------------------------- constants

OP = {
    "notification": 0,
    "create": 1,
    "delete": 2,
    "exists": 3,
    "getData": 4,
    "setData": 5,
    "getACL": 6,
    "setACL": 7,
    "getChildren": 8,
    "sync": 9,
    "ping": 11,
    "getChildren2": 12,
    "check": 13,
    "multi": 14,
    "create2": 15,
    "reconfig": 16,
    "checkWatches": 17,
    "removeWatches": 18,
    "createContainer": 19,
    "deleteContainer": 20,
    "createTTL": 21,
    "multiRead": 22,
    "auth": 100,
    "setWatches": 101,
    "sasl": 102,
    "getEphemerals": 103,
    "getAllChildrenNumber": 104,
    "setWatches2": 105,
    "addWatch": 106,
    "whoAmI": 107,
    "createSession": -10,
    "closeSession": -11,
    "error": -1,
}
OP_NAME = {v: k for k, v in OP.items()}

XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SET_WATCHES = -8

ERR = {
    0: "OK",
    -1: "SYSTEMERROR",
    -2: "RUNTIMEINCONSISTENCY",
    -3: "DATAINCONSISTENCY",
    -4: "CONNECTIONLOSS",
    -5: "MARSHALLINGERROR",
    -6: "UNIMPLEMENTED",
    -7: "OPERATIONTIMEOUT",
    -8: "BADARGUMENTS",
    -12: "UNKNOWNSESSION",
    -13: "NEWCONFIGNOQUORUM",
    -14: "RECONFIGINPROGRESS",
    -100: "APIERROR",
    -101: "NONODE",
    -102: "NOAUTH",
    -103: "BADVERSION",
    -108: "NOCHILDRENFOREPHEMERALS",
    -110: "NODEEXISTS",
    -111: "NOTEMPTY",
    -112: "SESSIONEXPIRED",
    -113: "INVALIDCALLBACK",
    -114: "INVALIDACL",
    -115: "AUTHFAILED",
    -118: "SESSIONMOVED",
    -119: "NOTREADONLY",
    -120: "EPHEMERALONLOCALSESSION",
    -121: "NOWATCHER",
    -122: "REQUESTTIMEOUT",
    -123: "RECONFIGDISABLED",
    -124: "SESSIONCLOSEDREQUIRESASLAUTH",
    -125: "QUOTAEXCEEDED",
    -127: "THROTTLEDOP",
}


def err_name(code):
    return ERR.get(code, "ERR(%d)" % code)


EVENT_TYPE = {
    -1: "None",
    1: "NodeCreated",
    2: "NodeDeleted",
    3: "NodeDataChanged",
    4: "NodeChildrenChanged",
    5: "DataWatchRemoved",
    6: "ChildWatchRemoved",
    7: "PersistentWatchRemoved",
}
KEEPER_STATE = {
    -1: "Unknown",
    0: "Disconnected",
    1: "NoSyncConnected",
    3: "SyncConnected",
    4: "AuthFailed",
    5: "ConnectedReadOnly",
    6: "SaslAuthenticated",
    -112: "Expired",
    7: "Closed",
}

# Create modes (CreateRequest.flags)
PERSISTENT = 0
EPHEMERAL = 1
PERSISTENT_SEQUENTIAL = 2
EPHEMERAL_SEQUENTIAL = 3
CONTAINER = 4
PERSISTENT_WITH_TTL = 5
PERSISTENT_SEQUENTIAL_WITH_TTL = 6

# WatcherType for checkWatches / removeWatches
WT_CHILDREN = 1
WT_DATA = 2
WT_ANY = 3
WT_PERSISTENT = 4
WT_PERSISTENT_RECURSIVE = 5

# AddWatch modes
ADD_PERSISTENT = 0
ADD_PERSISTENT_RECURSIVE = 1

# Permissions
READ, WRITE, CREATE, DELETE, ADMIN = 1, 2, 4, 8, 16
ALL = 31


def acl(perms, scheme, ident):
    return (perms, scheme, ident)


OPEN_ACL_UNSAFE = [(ALL, "world", "anyone")]
READ_ACL_UNSAFE = [(READ, "world", "anyone")]
CREATOR_ALL_ACL = [(ALL, "auth", "")]


def digest_id(user, password):
    """user:base64(sha1(user:password)) as DigestAuthenticationProvider does."""
    raw = ("%s:%s" % (user, password)).encode()
    return "%s:%s" % (user, base64.b64encode(hashlib.sha1(raw).digest()).decode())


# ---------------------------------------------------------------- jute encoding


class Writer:
    def __init__(self):
        self.parts = []

    def int(self, v):
        self.parts.append(struct.pack(">i", v))
        return self

    def long(self, v):
        self.parts.append(struct.pack(">q", v))
        return self

    def bool(self, v):
        self.parts.append(b"\x01" if v else b"\x00")
        return self

    def buffer(self, b):
        if b is None:
            return self.int(-1)
        self.int(len(b))
        self.parts.append(bytes(b))
        return self

    def string(self, s):
        if s is None:
            return self.int(-1)
        if isinstance(s, str):
            s = s.encode("utf-8")
        return self.buffer(s)

    def vector(self, items, fn):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for it in items:
            fn(self, it)
        return self

    def acl_list(self, acls):
        def one(w, a):
            w.int(a[0]).string(a[1]).string(a[2])

        return self.vector(acls, one)

    def raw(self, b):
        self.parts.append(b)
        return self

    def bytes(self):
        return b"".join(self.parts)


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def remaining(self):
        return len(self.data) - self.pos

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("short read: need %d at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        if n < 0:
            return None
        return self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", "replace")

    def vector(self, fn):
        n = self.int()
        if n < 0:
            return None
        return [fn(self) for _ in range(n)]

    def stat(self):
        names = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
                 "ephemeralOwner", "dataLength", "numChildren", "pzxid")
        vals = [self.long(), self.long(), self.long(), self.long(), self.int(), self.int(),
                self.int(), self.long(), self.int(), self.int(), self.long()]
        return dict(zip(names, vals))

    def acl_list(self):
        return self.vector(lambda r: (r.int(), r.string(), r.string()))


# ---------------------------------------------------------------- request bodies


def enc_create(path, data=b"", acls=None, flags=0):
    return Writer().string(path).buffer(data).acl_list(OPEN_ACL_UNSAFE if acls is None else acls).int(flags).bytes()


def enc_create_ttl(path, data=b"", acls=None, flags=PERSISTENT_WITH_TTL, ttl=60000):
    return (Writer().string(path).buffer(data).acl_list(OPEN_ACL_UNSAFE if acls is None else acls)
            .int(flags).long(ttl).bytes())


def enc_path_version(path, version=-1):
    return Writer().string(path).int(version).bytes()


def enc_path_watch(path, watch=False):
    return Writer().string(path).bool(watch).bytes()


def enc_path(path):
    return Writer().string(path).bytes()


def enc_set_data(path, data, version=-1):
    return Writer().string(path).buffer(data).int(version).bytes()


def enc_set_acl(path, acls, version=-1):
    return Writer().string(path).acl_list(acls).int(version).bytes()


def enc_path_int(path, v):
    return Writer().string(path).int(v).bytes()


def enc_reconfig(joining=None, leaving=None, new_members=None, cur_config_id=-1):
    return Writer().string(joining).string(leaving).string(new_members).long(cur_config_id).bytes()


def enc_auth(scheme, auth, typ=0):
    if isinstance(auth, str):
        auth = auth.encode()
    return Writer().int(typ).string(scheme).buffer(auth).bytes()


def enc_set_watches(rel_zxid, data=(), exist=(), child=()):
    w = Writer().long(rel_zxid)
    for lst in (data, exist, child):
        w.vector(list(lst), lambda w, s: w.string(s))
    return w.bytes()


def enc_set_watches2(rel_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
    w = Writer().long(rel_zxid)
    for lst in (data, exist, child, persistent, recursive):
        w.vector(list(lst), lambda w, s: w.string(s))
    return w.bytes()


def enc_sasl(token=b""):
    return Writer().buffer(token).bytes()


def enc_multi(ops):
    """ops: list of (opname, kwargs-dict) using the op names of OP.

    MultiOperationRecord = repeated MultiHeader{type,done=false,err=-1} + record,
    terminated by MultiHeader{-1,true,-1}.
    """
    w = Writer()
    for op in ops:
        name, args = op[0], (op[1] if len(op) > 1 else {})
        code = OP[name] if isinstance(name, str) else name
        w.int(code).bool(False).int(-1)
        w.raw(encode_body(name, **args))
    w.int(-1).bool(True).int(-1)
    return w.bytes()


def encode_body(name, **a):
    """Encode the request record for an opcode name (used by call() and multi)."""
    if name in ("create", "create2", "createContainer"):
        flags = a.get("flags", CONTAINER if name == "createContainer" else 0)
        return enc_create(a["path"], a.get("data", b""), a.get("acl"), flags)
    if name == "createTTL":
        return enc_create_ttl(a["path"], a.get("data", b""), a.get("acl"),
                              a.get("flags", PERSISTENT_WITH_TTL), a.get("ttl", 60000))
    if name in ("delete", "check"):
        return enc_path_version(a["path"], a.get("version", -1))
    if name == "deleteContainer":
        # ZooKeeper's internal ContainerManager sends the raw UTF-8 path as the body.
        if a.get("jute", False):
            return enc_path_version(a["path"], a.get("version", -1))
        return a["path"].encode()
    if name in ("exists", "getData", "getChildren", "getChildren2"):
        return enc_path_watch(a["path"], a.get("watch", False))
    if name == "setData":
        return enc_set_data(a["path"], a.get("data", b""), a.get("version", -1))
    if name in ("getACL", "sync", "getEphemerals", "getAllChildrenNumber"):
        return enc_path(a["path"])
    if name == "setACL":
        return enc_set_acl(a["path"], a["acl"], a.get("version", -1))
    if name in ("checkWatches", "removeWatches"):
        return enc_path_int(a["path"], a.get("type", WT_ANY))
    if name == "addWatch":
        return enc_path_int(a["path"], a.get("mode", ADD_PERSISTENT))
    if name == "reconfig":
        return enc_reconfig(a.get("joining"), a.get("leaving"), a.get("new_members"), a.get("cur_config_id", -1))
    if name == "auth":
        return enc_auth(a["scheme"], a["auth"], a.get("type", 0))
    if name == "setWatches":
        return enc_set_watches(a.get("rel_zxid", 0), a.get("data", ()), a.get("exist", ()), a.get("child", ()))
    if name == "setWatches2":
        return enc_set_watches2(a.get("rel_zxid", 0), a.get("data", ()), a.get("exist", ()), a.get("child", ()),
                                a.get("persistent", ()), a.get("recursive", ()))
    if name == "sasl":
        return enc_sasl(a.get("token", b""))
    if name == "multi" or name == "multiRead":
        return enc_multi(a["ops"])
    if name in ("ping", "whoAmI", "closeSession"):
        return b""
    if "raw" in a:
        return a["raw"]
    raise ValueError("no encoder for %r" % (name,))


# ---------------------------------------------------------------- reply bodies


def _dec_multi(r):
    results = []
    while True:
        typ = r.int()
        done = r.bool()
        err = r.int()
        if done:
            break
        if typ in (OP["create"],):
            results.append({"op": "create", "path": r.string()})
        elif typ in (OP["create2"], OP["createContainer"], OP["createTTL"]):
            results.append({"op": OP_NAME[typ], "path": r.string(), "stat": r.stat()})
        elif typ in (OP["delete"], OP["check"], OP["deleteContainer"]):
            results.append({"op": OP_NAME[typ]})
        elif typ == OP["setData"]:
            results.append({"op": "setData", "stat": r.stat()})
        elif typ == OP["getChildren"]:
            results.append({"op": "getChildren", "children": r.vector(lambda rr: rr.string())})
        elif typ == OP["getData"]:
            results.append({"op": "getData", "data": r.buffer(), "stat": r.stat()})
        elif typ == OP["error"]:
            results.append({"op": "error", "err": err_name(r.int())})
        else:
            raise DecodeError("unknown multi result type %d (hdr err %d)" % (typ, err))
    return {"results": results}


DECODERS = {
    "create": lambda r: {"path": r.string()},
    "create2": lambda r: {"path": r.string(), "stat": r.stat()},
    "createContainer": lambda r: {"path": r.string(), "stat": r.stat()},
    "createTTL": lambda r: {"path": r.string(), "stat": r.stat()},
    "exists": lambda r: {"stat": r.stat()},
    "getData": lambda r: {"data": r.buffer(), "stat": r.stat()},
    "setData": lambda r: {"stat": r.stat()},
    "getACL": lambda r: {"acl": r.acl_list(), "stat": r.stat()},
    "setACL": lambda r: {"stat": r.stat()},
    "getChildren": lambda r: {"children": r.vector(lambda rr: rr.string())},
    "getChildren2": lambda r: {"children": r.vector(lambda rr: rr.string()), "stat": r.stat()},
    "sync": lambda r: {"path": r.string()},
    "reconfig": lambda r: {"data": r.buffer(), "stat": r.stat()},
    "sasl": lambda r: {"token": r.buffer()},
    "getEphemerals": lambda r: {"ephemerals": r.vector(lambda rr: rr.string())},
    "getAllChildrenNumber": lambda r: {"totalNumber": r.int()},
    "whoAmI": lambda r: {"clientInfo": r.vector(lambda rr: (rr.string(), rr.string()))},
    "multi": _dec_multi,
    "multiRead": _dec_multi,
    "addWatch": lambda r: {"errResponse": r.int()},
}


def decode_reply_body(opname, data):
    """Decode a reply body; returns None for an empty body, or {'raw': hex, ...} if it can't be decoded."""
    if not data:
        return None
    dec = DECODERS.get(opname)
    if dec is None:
        return {"raw": data.hex()}
    r = Reader(data)
    try:
        body = dec(r)
    except DecodeError as e:
        return {"raw": data.hex(), "decode_error": str(e)}
    if r.remaining():
        body["trailing"] = data[r.pos:].hex()
    return body


# ---------------------------------------------------------------- items


class Reply:
    __slots__ = ("xid", "zxid", "err", "op", "body", "raw")

    def __init__(self, xid, zxid, err, op, body, raw):
        self.xid, self.zxid, self.err, self.op, self.body, self.raw = xid, zxid, err, op, body, raw

    @property
    def ok(self):
        return self.err == 0

    @property
    def err_name(self):
        return err_name(self.err)

    def __repr__(self):
        return "Reply(xid=%d, op=%s, zxid=%#x, err=%s, body=%r)" % (
            self.xid, self.op, self.zxid, self.err_name, self.body)


class Event:
    __slots__ = ("type", "state", "path", "zxid")

    def __init__(self, typ, state, path, zxid):
        self.type, self.state, self.path, self.zxid = typ, state, path, zxid

    @property
    def type_name(self):
        return EVENT_TYPE.get(self.type, str(self.type))

    @property
    def state_name(self):
        return KEEPER_STATE.get(self.state, str(self.state))

    def __repr__(self):
        return "Event(%s, %s, %r)" % (self.type_name, self.state_name, self.path)


class Closed(Exception):
    """The server closed the connection (EOF or reset)."""


# ---------------------------------------------------------------- connection


class ZkConn:
    """One TCP connection to a ZooKeeper-compatible server."""

    def __init__(self, host="127.0.0.1", port=2181, timeout_ms=10000, session_id=0, passwd=b"\x00" * 16,
                 last_zxid=0, read_only=False, sock_timeout=5.0, connect=True, send_read_only=True):
        self.host, self.port = host, port
        self.timeout_ms = timeout_ms
        self.sock_timeout = sock_timeout
        self.session_id = session_id
        self.passwd = passwd
        self.last_zxid = last_zxid
        self.read_only = read_only
        self.send_read_only = send_read_only
        self.sock = None
        self.buf = b""
        self.items = []          # every received Reply / Event, in arrival order
        self.events = []         # just the events, in arrival order
        self.pending = {}        # xid -> opname, in send order
        self.replies = {}        # xid -> Reply not yet taken
        self.closed = False
        self.next_xid = 1
        self.connect_response = None
        if connect:
            self.open()

    # -- socket level
    def open_socket(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.sock_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def open(self):
        self.open_socket()
        return self.handshake()

    def handshake(self):
        w = (Writer().int(0).long(self.last_zxid).int(self.timeout_ms).long(self.session_id)
             .buffer(self.passwd))
        if self.send_read_only:
            w.bool(self.read_only)
        self.send_frame(w.bytes())
        frame = self.read_frame()
        r = Reader(frame)
        resp = {"protocolVersion": r.int(), "timeOut": r.int(), "sessionId": r.long(), "passwd": r.buffer()}
        resp["readOnly"] = r.bool() if r.remaining() >= 1 else None
        self.connect_response = resp
        if resp["timeOut"] > 0:
            self.session_id = resp["sessionId"]
            self.passwd = resp["passwd"]
        return resp

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.closed = True
            raise Closed(str(e))

    def send_frame(self, payload):
        self.send_raw(struct.pack(">i", len(payload)) + payload)

    def _recv_exact(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes" % n)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError as e:
                self.closed = True
                raise Closed(str(e))
            except socket.timeout:
                raise
            except OSError as e:
                self.closed = True
                raise Closed(str(e))
            if not chunk:
                self.closed = True
                raise Closed("EOF")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (self.sock_timeout if timeout is None else timeout)
        n = struct.unpack(">i", self._recv_exact(4, deadline))[0]
        if n < 0 or n > 64 * 1024 * 1024:
            raise DecodeError("bad frame length %d" % n)
        return self._recv_exact(n, deadline)

    def close(self):
        """Close the socket only (the session stays alive on the server)."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.closed = True

    # -- request level
    def alloc_xid(self):
        x = self.next_xid
        self.next_xid += 1
        return x

    def send(self, opname, body=b"", xid=None, opcode=None):
        """Send one request without waiting; returns its xid."""
        if opcode is None:
            opcode = OP[opname]
        if xid is None:
            if opname == "ping":
                xid = XID_PING
            elif opname == "auth":
                xid = XID_AUTH
            elif opname in ("setWatches", "setWatches2"):
                xid = XID_SET_WATCHES
            else:
                xid = self.alloc_xid()
        self.pending.setdefault(xid, []).append(opname)
        self.send_frame(Writer().int(xid).int(opcode).bytes() + body)
        return xid

    def submit(self, opname, **args):
        return self.send(opname, encode_body(opname, **args))

    def read_item(self, timeout=None):
        frame = self.read_frame(timeout)
        r = Reader(frame)
        xid, zxid, err = r.int(), r.long(), r.int()
        rest = frame[r.pos:]
        if xid == XID_NOTIFICATION:
            er = Reader(rest)
            ev = Event(er.int(), er.int(), er.string(), zxid)
            self.items.append(ev)
            self.events.append(ev)
            return ev
        ops = self.pending.get(xid)
        opname = ops.pop(0) if ops else None
        if ops is not None and not ops:
            del self.pending[xid]
        body = decode_reply_body(opname, rest) if opname else ({"raw": rest.hex()} if rest else None)
        rep = Reply(xid, zxid, err, opname, body, rest)
        if zxid > 0 and zxid > self.last_zxid:
            self.last_zxid = zxid
        self.items.append(rep)
        self.replies.setdefault(xid, []).append(rep)
        return rep

    def wait(self, xid, timeout=None):
        """Read until the reply for xid arrives; events are collected on the way."""
        deadline = time.monotonic() + (self.sock_timeout if timeout is None else timeout)
        while True:
            lst = self.replies.get(xid)
            if lst:
                rep = lst.pop(0)
                if not lst:
                    del self.replies[xid]
                return rep
            self.read_item(max(0.001, deadline - time.monotonic()))

    def call(self, opname, timeout=None, **args):
        return self.wait(self.submit(opname, **args), timeout)

    def drain(self, timeout=0.2):
        """Read whatever arrives within timeout; returns the new items."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.read_item(left))
            except socket.timeout:
                return out

    def wait_closed(self, timeout=3.0):
        """True if the server closes the connection within timeout (items read on the way are kept)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self.read_item(left)
            except (Closed, DecodeError):
                return True
            except socket.timeout:
                return False

    def take_events(self):
        ev, self.events = self.events, []
        return ev

    # -- conveniences
    def ping(self):
        return self.wait(self.send("ping"))

    def close_session(self):
        rep = self.call("closeSession")
        self.close()
        return rep

    def bye(self):
        """closeSession, tolerating a server that closes without replying (checked elsewhere)."""
        try:
            self.close_session()
        except (Closed, OSError, DecodeError):
            self.close()

    def create(self, path, data=b"", acl=None, flags=0):
        return self.call("create", path=path, data=data, acl=acl, flags=flags)

    def get_data(self, path, watch=False):
        return self.call("getData", path=path, watch=watch)

    def add_auth(self, scheme, auth):
        return self.call("auth", scheme=scheme, auth=auth)


def four_letter(host, port, cmd, timeout=3.0, extra=b""):
    """Send a four-letter word (and `extra` bytes: stmk's mask) and return the full text
    answer ('' if refused)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode() + extra)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
        return out.decode("utf-8", "replace")
