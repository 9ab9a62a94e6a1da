#!/usr/bin/env python3
"""Writes the fuzz corpus's seeds, fuzz/corpus/<target>/seed-*: real encodings of
every message each target reads, so the fuzzer starts from inputs that decode.

    python3 fuzz/seed.py [CORRAL_DATA_DIR]

The peer frames and log records are the pinned encodings in the consensus crate's
tests; ZooKeeper's files are crates/zkdata's fixtures (written by ZooKeeper 3.8); the
client requests are built here field by field from zookeeper.jute. With a Corral data
dir (a server that took a few writes), its log segment and snapshot are added too
(the snapshot's tree decompressed needs python's lz4 module)."""

import hashlib
import pathlib
import re
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def put_reject(target, name, data):
    """An input the target must refuse; the replay checks that it still does."""
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"reject-{name}").write_bytes(data)


# --- jute ---------------------------------------------------------------------
def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def boolean(v):
    return b"\x01" if v else b"\x00"


def buf(b):
    return i32(-1) if b is None else i32(len(b)) + b


def string(s):
    return buf(s.encode())


def vec(items, enc):
    return i32(len(items)) + b"".join(enc(x) for x in items)


def acl(perms, scheme, ident):
    return i32(perms) + string(scheme) + string(ident)


OPEN = [acl(31, "world", "anyone")]
DIGEST = [acl(31, "digest", "bob:pKE4bDoEvDiAPSW+9sa0oHrVJUA="), acl(1, "ip", "127.0.0.1")]


def acls(a):
    return i32(len(a)) + b"".join(a)


def multi_header(op, done=False, err=-1):
    return i32(op) + boolean(done) + i32(err)


def client_requests():
    p = "/corral/fuzz"
    create = string(p) + buf(b"data") + acls(OPEN) + i32(0)
    bodies = {
        "create": (1, create),
        "create-seq-eph": (1, string(p + "/n-") + buf(None) + acls(DIGEST) + i32(3)),
        "create2": (15, create),
        "container": (19, string(p) + buf(b"") + acls(OPEN) + i32(4)),
        "ttl": (21, string(p) + buf(b"x") + acls(OPEN) + i32(5) + i64(60000)),
        "delete": (2, string(p) + i32(-1)),
        "exists": (3, string(p) + boolean(True)),
        "getdata": (4, string(p) + boolean(False)),
        "setdata": (5, string(p) + buf(b"new") + i32(3)),
        "getacl": (6, string(p)),
        "setacl": (7, string(p) + acls(DIGEST) + i32(0)),
        "children": (8, string("/") + boolean(True)),
        "sync": (9, string(p)),
        "ping": (11, b""),
        "children2": (12, string("/zookeeper") + boolean(False)),
        "check": (13, string(p) + i32(7)),
        "reconfig": (16, string("server.4=127.0.0.1:2888:3888;2181") + string("2") + buf(None) + i64(-1)),
        "checkwatches": (17, string(p) + i32(1)),
        "removewatches": (18, string(p) + i32(3)),
        "auth": (100, i32(0) + string("digest") + buf(b"bob:bobsecret")),
        "setwatches": (101, i64(5) + vec([p], string) + vec(["/a"], string) + vec([], string)),
        "sasl": (102, buf(b'charset=utf-8,username="bob",realm="zk-sasl-md5"')),
        "ephemerals": (103, string("/")),
        "allchildren": (104, string("/")),
        "setwatches2": (105, i64(5) + b"".join(vec([p], string) for _ in range(5))),
        "addwatch": (106, string(p) + i32(1)),
        "whoami": (107, b""),
        "close": (-11, b""),
    }
    multi = (
        multi_header(1) + create
        + multi_header(13) + string(p) + i32(0)
        + multi_header(5) + string(p) + buf(b"v") + i32(-1)
        + multi_header(2) + string(p) + i32(-1)
        + multi_header(21) + string(p) + buf(b"x") + acls(OPEN) + i32(5) + i64(1000)
        + multi_header(-1, True, -1)
    )
    bodies["multi"] = (14, multi)
    bodies["multiread"] = (
        22,
        multi_header(8) + string("/") + boolean(False)
        + multi_header(4) + string(p) + boolean(False)
        + multi_header(-1, True, -1),
    )
    for n, (op, body) in bodies.items():
        put("client_request", n, i32(7) + i32(op) + body)
    put("connect_request", "new", i32(0) + i64(0) + i32(30000) + i64(0) + buf(bytes(16)) + boolean(False))
    put("connect_request", "resume", i32(0) + i64(0x100000005) + i32(4000) + i64(0x1000001abcd) + buf(b"p" * 16) + boolean(True))
    put("connect_request", "old-client", i32(0) + i64(0) + i32(30000) + i64(0) + buf(bytes(16)))


def sasl_exchange():
    user, realm, password, nonce, cnonce = "super", "zk-sasl-md5", "secret", "fuzznonce", "cn0nce"
    uri, nc, qop = "zookeeper/zk-sasl-md5", "00000001", "auth"
    md5 = lambda b: hashlib.md5(b).digest()
    hexmd5 = lambda b: hashlib.md5(b).hexdigest()
    a1 = md5(f"{user}:{realm}:{password}".encode()) + f":{nonce}:{cnonce}".encode()
    a2 = f"AUTHENTICATE:{uri}".encode()
    response = hexmd5(f"{hexmd5(a1)}:{nonce}:{nc}:{cnonce}:{qop}:{hexmd5(a2)}".encode())
    token = (
        f'charset=utf-8,username="{user}",realm="{realm}",nonce="{nonce}",nc={nc},'
        f'cnonce="{cnonce}",digest-uri="{uri}",maxbuf=65536,response={response},qop={qop}'
    ).encode()
    put("sasl_digest", "exchange", b"\x00" + token)
    put_reject("sasl_digest", "response-before-challenge", token)
    put_reject("sasl_digest", "wrong-password", b"\x00" + token.replace(response.encode(), b"0" * 32))


def pinned_hex(path, start_marker):
    text = (ROOT / path).read_text()
    text = text[text.index(start_marker):]
    return re.findall(r'"([0-9a-f]{6,})"', text)


def pinned_frames():
    """(name, 'r' for a request or 'a' for a response, bytes) of every_frame's list."""
    text = (ROOT / "crates/consensus/src/peer/wire.rs").read_text()
    text = text[text.index("fn every_frame"):]
    found = re.findall(r'\(\s*"(\w+)",\s*([ra])\(.*?"([0-9a-f]{6,})"', text, re.S)
    return [(n, kind, bytes.fromhex(h)) for n, kind, h in found]


def consensus():
    frames = pinned_frames()
    hello = bytes.fromhex("00000003080102")
    for name, kind, f in frames:
        if kind == "r":
            put("peer_requests", f"hello-then-{name}", hello + f)
        else:
            put("peer_responses", f"{name}", f)
    put("peer_requests", "hello-then-all", hello + b"".join(f for _, k, f in frames if k == "r"))
    # A first frame over HELLO_MAX (64 bytes) is refused before it is read.
    put_reject("peer_requests", "first-frame-too-long", struct.pack(">I", 200) + b"\x06" + bytes(199))
    for i, r in enumerate(pinned_hex("crates/consensus/src/record.rs", "fn every_kind")):
        put("log_record", f"kind-{i}", bytes.fromhex(r))


def zookeeper_files():
    fixtures = ROOT / "crates" / "zkdata" / "tests" / "fixtures" / "zk38-plain" / "version-2"
    for f in sorted(fixtures.iterdir()):
        data = f.read_bytes().rstrip(b"\x00")
        if f.name.startswith("snapshot."):
            put("zk_snapshot", f.name, data)
        else:
            put("zk_txnlog", f.name, data)
            # Each record: zxid-ordered [crc i64][len i32][txn][0x42]; the txn alone
            # is what `zk_txn` decodes.
            at = 16
            n = 0
            while at + 12 <= len(data):
                (length,) = struct.unpack(">i", data[at + 8:at + 12])
                if length <= 0:
                    break
                put("zk_txn", f"{f.name}-{n}", data[at + 12:at + 12 + length])
                at += 12 + length + 1
                n += 1


def operator_files():
    put("zoo_cfg", "standalone", b"tickTime=2000\ndataDir=/nonexistent/corral-fuzz\nclientPort=2181\n")
    put_reject(
        "zoo_cfg",
        "ensemble-without-myid",
        b"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/nonexistent/corral-fuzz\n"
        b"clientPort=2181\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n"
        b"server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n"
        b"server.3=127.0.0.1:2890:3890:observer\nadmin.serverPort=8080\nautopurge.snapRetainCount=3\n"
        b"maxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\njute.maxbuffer=0xfffff\n",
    )
    put_reject(
        "zoo_cfg",
        "tls-sasl-missing-files",
        b"dataDir=/nonexistent/corral-fuzz\nsecureClientPort=2281\nssl.keyStore.location=/nonexistent/k.pem\n"
        b"ssl.trustStore.location=/nonexistent/t.pem\nssl.clientAuth=want\nssl.protocol=TLSv1.3\n"
        b"client.portUnification=true\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
        b"sessionRequireClientSASLAuth=true\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl\n"
        b"sslQuorum=true\nssl.quorum.keyStore.location=/nonexistent/q.pem\n"
        b"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
    )
    put(
        "jaas",
        "server-client",
        b'// users\nServer {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n'
        b'  user_super="adminsecret"\n  user_bob="bobsecret";\n};\n'
        b'Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret"; };\n',
    )
    put(
        "jaas",
        "quorum",
        b"/* quorum */ QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_zk=\"s\"; };\n"
        b"# learner\nQuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required\n"
        b'username="zk" password="s"; };\n',
    )


def corral_files(data_dir):
    for seg in sorted(data_dir.rglob("log-*.wal")):
        put("wal_segment", seg.name, seg.read_bytes().rstrip(b"\x00")[: 1 << 16])
    for snap in sorted(data_dir.rglob("snapshot-*")):
        if snap.name.endswith(".tmp"):
            continue
        data = snap.read_bytes()
        put("snapshot_file", snap.name, data)
        try:
            import lz4.frame
        except ImportError:
            print("no lz4 module: tree_snapshot gets no seed from", snap)
            continue
        # The layout of storage/src/snapshot.rs: magic, version, index, meta, tree.
        meta_len = struct.unpack(">I", data[20:24])[0]
        tree_at = 24 + meta_len + 8
        tree = data[tree_at:len(data) - 4 - 8]
        put("tree_snapshot", snap.name, lz4.frame.decompress(tree))


client_requests()
sasl_exchange()
consensus()
zookeeper_files()
operator_files()
if len(sys.argv) > 1:
    corral_files(pathlib.Path(sys.argv[1]))
