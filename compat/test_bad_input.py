"""Bad input: while a second, well-behaved session keeps working, send malformed or hostile
requests and check that each gets a clean refusal (an error code, or the connection closed),
that the server still answers ruok, and that the other session's data is intact.

Each case runs against ZooKeeper (which must refuse cleanly) and against the system under
test, which must refuse in the same class (same error code / connection closed) as ZooKeeper.
"""

import os
import socket
import struct

import pytest

import zkwire
from zkwire import EPHEMERAL, Writer

MAXBUF = 0xFFFFF


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def req(xid, opcode, body=b""):
    return frame(Writer().int(xid).int(opcode).bytes() + body)


def handshake_bytes(timeout_ms=10000):
    return frame(Writer().int(0).long(0).int(timeout_ms).long(0).buffer(b"\x00" * 16).bool(False).bytes())


# Each case: (needs_session, bytes-producer(root) or callable(conn, root) -> outcome override)
# The producer returns the raw bytes to send after the handshake (or before it, if needs_session
# is False).
def _create_body(path, data=b"", acl=zkwire.OPEN_ACL_UNSAFE, flags=0):
    return zkwire.enc_create(path, data, acl, flags)


CASES = {
    # --- before any handshake
    "pre_garbage_bytes": (False, lambda root: bytes.fromhex("deadbeefcafebabe0011223344556677") * 4),
    "pre_negative_length": (False, lambda root: struct.pack(">i", -5) + b"\x00" * 16),
    "pre_length_over_maxbuffer": (False, lambda root: struct.pack(">i", MAXBUF + 1000) + b"\x00" * 64),
    "pre_truncated_connect": (False, lambda root: struct.pack(">i", 44) + b"\x00" * 10),
    "pre_short_connect_record": (False, lambda root: frame(b"\x00" * 8)),
    # --- after a normal handshake
    "garbage_bytes": (True, lambda root: os.urandom(0) + bytes(range(7, 7 + 64))),
    "truncated_frame": (True, lambda root: struct.pack(">i", 100) + b"\x00\x00\x00\x01\x00\x00\x00\x04"),
    "negative_length": (True, lambda root: struct.pack(">i", -1) + b"\x00" * 8),
    "length_over_maxbuffer": (True, lambda root: struct.pack(">i", MAXBUF + 1) + b"\x00" * 64),
    "length_huge": (True, lambda root: struct.pack(">i", 0x7FFFFFF0) + b"\x00" * 64),
    "zero_length_frame": (True, lambda root: struct.pack(">i", 0)),
    "header_only_create": (True, lambda root: req(1, 1)),
    "truncated_create_body": (True, lambda root: req(1, 1, Writer().string(root + "/t").bytes())),
    "string_length_negative": (True, lambda root: req(1, 4, struct.pack(">i", -7) + b"\x00")),
    "string_length_too_long": (True, lambda root: req(1, 4, struct.pack(">i", 5000) + b"/abc\x00")),
    "acl_vector_count_huge": (True, lambda root: req(1, 1, Writer().string(root + "/v").buffer(b"")
                                                     .int(0x7FFFFFFF).bytes())),
    "unknown_opcode": (True, lambda root: req(1, 4242)),
    "unknown_opcode_negative": (True, lambda root: req(1, -77)),
    "multi_bad_op_type": (True, lambda root: req(1, 14, Writer().int(4242).bool(False).int(-1)
                                                 .string(root + "/m").int(-1).int(-1).bool(True).int(-1).bytes())),
    "setdata_over_maxbuffer": (True, lambda root: req(1, 5, zkwire.enc_set_data(root + "/keep", b"z" * (MAXBUF + 10)))),
    "create_over_maxbuffer": (True, lambda root: req(1, 1, _create_body(root + "/big", b"z" * (MAXBUF + 10)))),
    "path_empty": (True, lambda root: req(1, 1, _create_body(""))),
    "path_trailing_slash": (True, lambda root: req(1, 1, _create_body(root + "/"))),
    "path_double_slash": (True, lambda root: req(1, 1, _create_body(root + "//x"))),
    "path_dot": (True, lambda root: req(1, 1, _create_body(root + "/."))),
    "path_dotdot": (True, lambda root: req(1, 1, _create_body(root + "/.."))),
    "path_dot_inner": (True, lambda root: req(1, 1, _create_body(root + "/./b"))),
    "path_nul": (True, lambda root: req(1, 1, _create_body(root + "/a\x00b"))),
    "path_relative": (True, lambda root: req(1, 1, _create_body("relative/x"))),
    "create_under_ephemeral": (True, lambda root: req(1, 1, _create_body(root + "/eph/child"))),
    "four_letter_after_handshake": (True, lambda root: b"ruok"),
}


def outcome(conn):
    """Classify what the server did: 'error:<CODE>', 'ok', 'closed', or 'open-no-reply'."""
    try:
        frm = conn.read_frame(timeout=3.0)
    except zkwire.Closed:
        return "closed"
    except zkwire.DecodeError as e:
        return "bad-frame:%s" % e
    except socket.timeout:
        return "open-no-reply"
    r = zkwire.Reader(frm)
    try:
        r.int()
        r.long()
        err = r.int()
    except zkwire.DecodeError:
        return "bad-frame"
    res = "ok" if err == 0 else "error:" + zkwire.err_name(err)
    # Does the server also close the connection after the error reply?
    closed = conn.wait_closed(1.0)
    return res + ("+closed" if closed else "")


def run_bad(server, name):
    needs_session, producer = CASES[name]
    root = "/badinput-%s" % name
    keeper = server.conn()  # the well-behaved session
    assert keeper.create(root, b"root").err == 0
    assert keeper.create(root + "/keep", b"precious").err == 0
    keeper.create(root + "/eph", flags=EPHEMERAL)
    if name == "create_under_ephemeral":
        # the ephemeral must belong to the session doing the bad request? No: any session gets the error.
        pass
    bad = zkwire.ZkConn(server.host, server.port, connect=False, sock_timeout=5.0)
    bad.open_socket()
    if needs_session:
        bad.handshake()
    payload = producer(root)
    try:
        bad.send_raw(payload)
        if name in ("truncated_frame", "pre_truncated_connect"):
            bad.sock.shutdown(socket.SHUT_WR)
        res = outcome(bad)
    except zkwire.Closed:
        res = "closed"
    finally:
        bad.close()
    # The well-behaved session keeps working and its data is intact.
    rep = keeper.get_data(root + "/keep")
    assert rep.err == 0 and rep.body["data"] == b"precious", "%s: keeper data damaged: %r" % (server.name, rep)
    assert keeper.create(root + "/after", b"still works").err == 0, server.name
    assert keeper.get_data(root + "/after").body["data"] == b"still works"
    assert keeper.call("exists", path=root + "/eph").err == 0
    assert server.ruok(), "%s no longer answers ruok after %s" % (server.name, name)
    assert server.alive(), "%s died after %s:\n%s" % (server.name, name, server.log_tail())
    keeper.bye()
    return res


CLEAN = ("closed", "error:", "ok")
ZK_RESULTS = {}


def _zk(zk_server, name):
    if name not in ZK_RESULTS:
        ZK_RESULTS[name] = run_bad(zk_server, name)
    return ZK_RESULTS[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_zookeeper_refuses_cleanly(name, zk_server):
    res = _zk(zk_server, name)
    assert res.startswith(CLEAN), "ZooKeeper: %s -> %s" % (name, res)


@pytest.mark.parametrize("name", sorted(CASES))
def test_target_refuses_like_zookeeper(name, zk_server, target_server):
    ref = _zk(zk_server, name)
    got = run_bad(target_server, name)
    assert got.startswith(CLEAN) or got == "open-no-reply" and ref == "open-no-reply", \
        "%s: unclean refusal %s" % (name, got)
    assert got == ref, "%s: ZooKeeper %s, %s %s" % (name, ref, target_server.name, got)
