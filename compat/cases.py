"""Differential cases: each case is a small script run against a server through difftool.Run.

A case is a function taking a Run `r`; it opens named sessions with r.session(name), performs
operations (every call is recorded), and paths live under r.p() (a fresh root per case).
CASES maps case name -> function. Families are generated from tables (data-driven).
"""

from zkwire import (ADD_PERSISTENT, ADD_PERSISTENT_RECURSIVE, ADMIN, ALL, CONTAINER, CREATE, DELETE,
                    EPHEMERAL, EPHEMERAL_SEQUENTIAL, OPEN_ACL_UNSAFE, PERSISTENT, PERSISTENT_SEQUENTIAL,
                    PERSISTENT_SEQUENTIAL_WITH_TTL, PERSISTENT_WITH_TTL, READ, WRITE, WT_ANY, WT_CHILDREN,
                    WT_DATA, WT_PERSISTENT, WT_PERSISTENT_RECURSIVE, digest_id)
from servers import SUPER_PASSWORD, SUPER_USER

CASES = {}


def case(name):
    def deco(fn):
        assert name not in CASES, name
        CASES[name] = fn
        return fn
    return deco


def add(name, fn):
    assert name not in CASES, name
    CASES[name] = fn


HOUR = 3600 * 1000
MODES = {
    "persistent": PERSISTENT,
    "ephemeral": EPHEMERAL,
    "pseq": PERSISTENT_SEQUENTIAL,
    "eseq": EPHEMERAL_SEQUENTIAL,
    "container": CONTAINER,
    "ttl": PERSISTENT_WITH_TTL,
    "pseqttl": PERSISTENT_SEQUENTIAL_WITH_TTL,
}
CREATE_OPS = ["create", "create2", "createContainer", "createTTL"]
PERMS = {"read": READ, "write": WRITE, "create": CREATE, "delete": DELETE, "admin": ADMIN}
ALICE = digest_id("alice", "pw1")
BOB = digest_id("bob", "pw2")


def create_any(s, path, flags=0, data=b"", acl=None):
    """Create with the opcode that suits the mode (createTTL for TTL modes, createContainer for containers)."""
    if flags in (PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL):
        return s.op("createTTL", path=path, data=data, acl=acl, flags=flags, ttl=HOUR)
    if flags == CONTAINER:
        return s.op("createContainer", path=path, data=data, acl=acl, flags=flags)
    return s.op("create2", path=path, data=data, acl=acl, flags=flags)


def made(rep, fallback):
    """The path a create returned (for sequential nodes), or fallback."""
    if rep is not None and rep.err == 0 and rep.body and rep.body.get("path"):
        return rep.body["path"]
    return fallback


# ============================================================ A. create modes x create opcodes

def _mk_create_matrix(op, mode, flags):
    def fn(r):
        a = r.session("a")
        args = dict(path=r.p("n"), data=b"v", flags=flags)
        if op == "createTTL":
            args["ttl"] = HOUR
        a.op(op, **args)
        a.op(op, **args)
        a.ls2(r.p())
        a.op("getEphemerals", path=r.p())
        a.op("getAllChildrenNumber", path=r.p())
        a.close()
        b = r.session("b")
        b.ls2(r.p())
        b.op("getEphemerals", path=r.p())
    return fn


for _op in CREATE_OPS:
    for _mode, _flags in MODES.items():
        add("create_matrix_%s_%s" % (_op, _mode), _mk_create_matrix(_op, _mode, _flags))


def _mk_child_under(mode, flags):
    def fn(r):
        a = r.session("a")
        n = made(create_any(a, r.p("n"), flags, b"parent"), r.p("n"))
        for cmode, cflags in (("persistent", PERSISTENT), ("ephemeral", EPHEMERAL), ("pseq", PERSISTENT_SEQUENTIAL),
                              ("container", CONTAINER), ("ttl", PERSISTENT_WITH_TTL)):
            create_any(a, n + "/c_" + cmode, cflags)
        a.ls2(n)
        a.get(n)
    return fn


for _mode, _flags in MODES.items():
    add("create_children_under_%s" % _mode, _mk_child_under(_mode, _flags))


for _fl in (7, 8, -1, 100):
    def _bad_flags(r, fl=_fl):
        a = r.session("a")
        a.create(r.p("n"), flags=fl)
        a.create2(r.p("m"), flags=fl)
        a.ls(r.p())
    add("create_bad_flags_%s" % str(_fl).replace("-", "neg"), _bad_flags)


for _name, _ttl in (("zero", 0), ("neg", -1), ("one", 1), ("max", 0xFFFFFFFFFF), ("over_max", 0x10000000000)):
    def _ttl_case(r, ttl=_ttl):
        a = r.session("a")
        a.op("createTTL", path=r.p("t"), flags=PERSISTENT_WITH_TTL, ttl=ttl)
        a.op("createTTL", path=r.p("s"), flags=PERSISTENT_SEQUENTIAL_WITH_TTL, ttl=ttl)
        a.ls(r.p())
    add("create_ttl_value_%s" % _name, _ttl_case)


@case("create_ttl_via_create_opcode")
def _(r):
    a = r.session("a")
    a.create(r.p("t"), flags=PERSISTENT_WITH_TTL)
    a.create2(r.p("t2"), flags=PERSISTENT_SEQUENTIAL_WITH_TTL)
    a.ls(r.p())


@case("create_container_via_create_opcode")
def _(r):
    a = r.session("a")
    a.create(r.p("c1"), flags=CONTAINER)
    a.create2(r.p("c2"), flags=CONTAINER)
    a.ls(r.p())


# ============================================================ B. basic CRUD and error paths

@case("crud_basic")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"hello")
    a.get(r.p("x"))
    a.set(r.p("x"), b"world")
    a.get(r.p("x"))
    a.exists(r.p("x"))
    a.ls(r.p())
    a.delete(r.p("x"))
    a.exists(r.p("x"))
    a.ls(r.p())


@case("crud_create2_stat_matches_exists")
def _(r):
    a = r.session("a")
    a.create2(r.p("x"), b"abc")
    a.exists(r.p("x"))
    a.get(r.p("x"))
    a.ls2(r.p())


for _op, _args in (("getData", {}), ("setData", {"data": b"x"}), ("delete", {}), ("exists", {}),
                   ("getChildren", {}), ("getChildren2", {}), ("getACL", {}), ("setACL", {"acl": OPEN_ACL_UNSAFE}),
                   ("sync", {}), ("getAllChildrenNumber", {}), ("getEphemerals", {}),
                   ("create", {"path_suffix": "/child"})):
    def _nonode(r, op=_op, args=_args):
        a = r.session("a")
        args = dict(args)
        suffix = args.pop("path_suffix", "")
        a.op(op, path=r.p("missing") + suffix, **args)
    add("nonode_%s" % _op, _nonode)


@case("nodeexists_create_twice")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"1")
    a.create(r.p("x"), b"2")
    a.create2(r.p("x"), b"3")
    a.get(r.p("x"))


@case("nodeexists_ephemeral_vs_persistent")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"), flags=EPHEMERAL)
    b.create(r.p("x"))
    b.create(r.p("x"), flags=EPHEMERAL)


@case("notempty_delete_parent")
def _(r):
    a = r.session("a")
    a.create(r.p("p"))
    a.create(r.p("p/c"))
    a.delete(r.p("p"))
    a.delete(r.p("p/c"))
    a.delete(r.p("p"))
    a.ls(r.p())


@case("notempty_ephemeral_child_of_other_session")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("p"))
    b.create(r.p("p/e"), flags=EPHEMERAL)
    a.delete(r.p("p"))
    b.close()
    a.delete(r.p("p"))


@case("badversion_setdata")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"0")
    a.set(r.p("x"), b"1", version=5)
    a.set(r.p("x"), b"1", version=0)
    a.set(r.p("x"), b"2", version=0)
    a.set(r.p("x"), b"2", version=1)
    a.set(r.p("x"), b"3", version=-1)
    a.set(r.p("x"), b"4", version=-2)
    a.get(r.p("x"))


@case("badversion_delete")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.set(r.p("x"), b"1")
    a.delete(r.p("x"), version=0)
    a.delete(r.p("x"), version=2)
    a.delete(r.p("x"), version=1)
    a.exists(r.p("x"))


@case("badversion_setacl")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.set_acl(r.p("x"), OPEN_ACL_UNSAFE, version=3)
    a.set_acl(r.p("x"), OPEN_ACL_UNSAFE, version=0)
    a.set_acl(r.p("x"), OPEN_ACL_UNSAFE, version=0)
    a.set_acl(r.p("x"), [(READ | WRITE, "world", "anyone")], version=1)
    a.get_acl(r.p("x"))


@case("version_wraps_and_stat_counters")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"")
    for i in range(12):
        a.set(r.p("x"), b"v%d" % i)
    a.exists(r.p("x"))


@case("stat_cversion_pzxid_track_children")
def _(r):
    a = r.session("a")
    a.create(r.p("p"), b"data")
    a.exists(r.p("p"))
    a.create(r.p("p/a"))
    a.exists(r.p("p"))
    a.create(r.p("p/b"))
    a.set(r.p("p/a"), b"changed")
    a.exists(r.p("p"))
    a.delete(r.p("p/a"))
    a.exists(r.p("p"))
    a.set(r.p("p"), b"d2")
    a.exists(r.p("p"))


@case("stat_numchildren_datalength")
def _(r):
    a = r.session("a")
    a.create(r.p("p"), b"12345")
    for i in range(5):
        a.create(r.p("p/c%d" % i), b"x" * i)
    a.ls2(r.p("p"))
    a.set(r.p("p"), b"")
    a.exists(r.p("p"))


@case("data_empty_null_binary")
def _(r):
    a = r.session("a")
    a.create(r.p("empty"), b"")
    a.op("create", path=r.p("null"), data=None)
    a.create(r.p("bin"), bytes(range(256)))
    a.get(r.p("empty"))
    a.get(r.p("null"))
    a.get(r.p("bin"))
    a.op("setData", path=r.p("bin"), data=None)
    a.get(r.p("bin"))


@case("data_large_1mb_minus")
def _(r):
    a = r.session("a")
    big = bytes((i * 7) & 0xFF for i in range(1000000))
    a.create(r.p("big"), big)
    a.get(r.p("big"))
    a.set(r.p("big"), big[::-1])
    a.get(r.p("big"))


@case("data_unicode_path_and_data")
def _(r):
    a = r.session("a")
    a.create(r.p("h\u00e9llo-\u4e16\u754c"), "d\u00e4ta".encode())
    a.ls(r.p())
    a.get(r.p("h\u00e9llo-\u4e16\u754c"))


@case("root_and_zookeeper_nodes")
def _(r):
    a = r.session("a")
    a.ls("/zookeeper")
    a.get("/zookeeper/config")
    a.get_acl("/zookeeper")
    a.get_acl("/")
    a.exists("/zookeeper/quota")


@case("zookeeper_node_writes")
def _(r):
    a = r.session("a")
    a.create("/zookeeper")
    a.create("/zookeeper/quota")
    a.delete("/zookeeper/config")
    a.delete("/zookeeper")


@case("quota_stats_follow_writes")
def _(r):
    """A quota as zkCli's setquota writes it, then writes inside and outside it, one
    failing multi, and a nested quota: the stats node's data after each (ZooKeeper's
    DataTree.updateQuotaStat; the longest quota counts)."""
    a = r.session("a")
    a.create(r.p("q"), b"12345")
    a.create(r.p("q/a"), b"xy")
    quota = "/zookeeper/quota" + r.p("q")
    parts = quota.split("/")
    for i in range(3, len(parts) + 1):
        a.create("/".join(parts[:i]))
    a.create(quota + "/zookeeper_limits", b"count=10,bytes=-1")
    a.create(quota + "/zookeeper_stats", b"count=0,bytes=0")
    a.get(quota + "/zookeeper_stats")
    a.create(r.p("q/b"), b"abc")
    a.set(r.p("q/b"), b"a")
    a.delete(r.p("q/a"))
    a.create(r.p("qq"), b"outside")
    a.multi([("create", dict(path=r.p("q/m"), data=b"mmm")), ("delete", dict(path=r.p("q/absent")))])
    a.get(quota + "/zookeeper_stats")
    a.create(r.p("q/b/c"), b"")
    a.create(quota + "/b")
    a.create(quota + "/b/zookeeper_limits", b"count=1")
    a.create(quota + "/b/zookeeper_stats", b"")
    a.create(r.p("q/b/c/d"), b"12")
    a.get(quota + "/zookeeper_stats")
    a.get(quota + "/b/zookeeper_stats")


@case("delete_root")
def _(r):
    a = r.session("a")
    a.delete("/")
    a.set("/zookeeper", b"x", version=99)


@case("create_deep_missing_parents")
def _(r):
    a = r.session("a")
    a.create(r.p("a/b/c"))
    a.create(r.p("a"))
    a.create(r.p("a/b/c"))
    a.create(r.p("a/b"))
    a.create(r.p("a/b/c"))
    a.op("getAllChildrenNumber", path=r.p())
    a.op("getAllChildrenNumber", path=r.p("a"))
    a.op("getAllChildrenNumber", path=r.p("a/b/c"))


@case("sync_paths")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.op("sync", path=r.p("x"))
    a.op("sync", path="/")
    a.op("sync", path=r.p("nope"))
    a.op("sync", path="bad")


@case("get_children_many")
def _(r):
    a = r.session("a")
    for i in range(50):
        a.op("create", path=r.p("c%03d" % i), _quiet=True)
    a.ls(r.p())
    a.ls2(r.p())
    a.op("getAllChildrenNumber", path=r.p())


# ============================================================ C. invalid paths

# "{R}" is the case root; {R}/x exists when these run, so ZooKeeper's parent lookup succeeds and
# path validation itself is exercised.  "missing_parent_*" variants check the order of checks.
BAD_PATHS = {
    "empty": "",
    "relative": "a",
    "relative_nested": "x/y",
    "trailing_slash": "{R}/x/",
    "double_slash": "{R}//x",
    "double_slash_inner": "{R}/x//y",
    "dot": "{R}/x/./y",
    "dotdot": "{R}/x/../y",
    "final_dot": "{R}/x/.",
    "final_dotdot": "{R}/x/..",
    "nul": "{R}/x/a\x00b",
    "ctrl": "{R}/x/a\x01b",
    "del_char": "{R}/x/a\x7fb",
    "c1_ctrl": "{R}/x/a\u0085b",
    "private_use": "{R}/x/a\ue000b",
    "fff5": "{R}/x/a\ufff5b",
    "slash_only_double": "//",
    "missing_parent_trailing_slash": "{R}/nope/",
    "missing_parent_dot": "{R}/nope/.",
}


def _fill(path, r):
    return path.replace("{R}", r.root)


for _pname, _path in BAD_PATHS.items():
    def _bad_create(r, path=_path):
        a = r.session("a")
        a.create(r.p("x"))
        path = _fill(path, r)
        a.create(path, b"x")
        a.create2(path, b"x", flags=EPHEMERAL)
        a.create(path, b"x", flags=PERSISTENT_SEQUENTIAL)
        a.op("createContainer", path=path, flags=CONTAINER)
        a.ls(r.p("x"))
    add("badpath_create_%s" % _pname, _bad_create)

for _pname in ("empty", "relative", "trailing_slash", "double_slash", "dotdot", "final_dot", "nul"):
    def _bad_other(r, path=BAD_PATHS[_pname]):
        a = r.session("a")
        a.create(r.p("x"))
        path = _fill(path, r)
        a.op("getData", path=path)
        a.op("exists", path=path)
        a.op("setData", path=path, data=b"x")
        a.op("delete", path=path)
        a.op("getChildren", path=path)
        a.op("getACL", path=path)
        a.op("setACL", path=path, acl=OPEN_ACL_UNSAFE)
        a.op("sync", path=path)
        a.op("addWatch", path=path, mode=ADD_PERSISTENT)
        if path:  # "" means "/" to ZooKeeper's reads: its total count depends on other cases
            a.op("getAllChildrenNumber", path=path)
        a.multi([("create", dict(path=path))])
    add("badpath_other_ops_%s" % _pname, _bad_other)


@case("sequential_trailing_slash_is_valid")
def _(r):
    a = r.session("a")
    a.create(r.p("q"))
    a.create(r.p("q") + "/", flags=PERSISTENT_SEQUENTIAL)
    a.create(r.p("q") + "/", flags=EPHEMERAL_SEQUENTIAL)
    a.create(r.p("q") + "/", flags=PERSISTENT)
    a.ls(r.p("q"))


# ============================================================ D. sequential nodes

@case("seq_basic_suffixes")
def _(r):
    a = r.session("a")
    for _ in range(3):
        a.create(r.p("s-"), flags=PERSISTENT_SEQUENTIAL)
    a.ls(r.p())


@case("seq_counter_follows_cversion")
def _(r):
    a = r.session("a")
    a.create(r.p("plain1"))
    a.create(r.p("s-"), flags=PERSISTENT_SEQUENTIAL)
    a.delete(r.p("plain1"))
    a.create(r.p("s-"), flags=PERSISTENT_SEQUENTIAL)
    a.create(r.p("s-"), flags=EPHEMERAL_SEQUENTIAL)
    a.ls2(r.p())


@case("seq_failed_create_does_not_bump")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.create(r.p("x"))
    a.create(r.p("s"), flags=PERSISTENT_SEQUENTIAL)
    a.create(r.p("nope/s"), flags=PERSISTENT_SEQUENTIAL)
    a.create(r.p("s"), flags=PERSISTENT_SEQUENTIAL)
    a.ls(r.p())


@case("seq_two_sessions_interleaved")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("lock-"), flags=EPHEMERAL_SEQUENTIAL)
    b.create(r.p("lock-"), flags=EPHEMERAL_SEQUENTIAL)
    a.create(r.p("lock-"), flags=EPHEMERAL_SEQUENTIAL)
    a.ls(r.p())
    a.close()
    b.ls(r.p())


@case("seq_name_with_digits_and_empty_prefix")
def _(r):
    a = r.session("a")
    a.create(r.p("123"), flags=PERSISTENT_SEQUENTIAL)
    a.create(r.p("0000000000"), flags=PERSISTENT_SEQUENTIAL)
    a.ls(r.p())


@case("seq_setacl_does_not_bump_cversion")
def _(r):
    a = r.session("a")
    a.create(r.p("s"), flags=PERSISTENT_SEQUENTIAL)
    a.set_acl(r.p(), OPEN_ACL_UNSAFE)
    a.set(r.p(), b"x")
    a.create(r.p("s"), flags=PERSISTENT_SEQUENTIAL)
    a.ls2(r.p())


@case("seq_in_multi")
def _(r):
    a = r.session("a")
    a.multi([("create", dict(path=r.p("m-"), flags=PERSISTENT_SEQUENTIAL)),
             ("create", dict(path=r.p("m-"), flags=PERSISTENT_SEQUENTIAL)),
             ("create2", dict(path=r.p("m-"), flags=EPHEMERAL_SEQUENTIAL))])
    a.ls(r.p())


# ============================================================ E. ephemerals and sessions

@case("ephemeral_removed_on_close")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("e1"), flags=EPHEMERAL)
    a.create(r.p("e2"), flags=EPHEMERAL_SEQUENTIAL)
    b.exists(r.p("e1"), watch=True)
    b.ls(r.p(), watch=True)
    a.close()
    b.ls2(r.p())


@case("ephemeral_survives_reconnect")
def _(r):
    a = r.session("a")
    a.create(r.p("e"), flags=EPHEMERAL)
    a.disconnect()
    b = r.session("b")
    b.exists(r.p("e"))
    a.reconnect()
    a.exists(r.p("e"))
    a.op("getEphemerals", path=r.p())


@case("ephemeral_deleted_by_other_session")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("e"), flags=EPHEMERAL)
    b.delete(r.p("e"))
    a.op("getEphemerals", path="/")
    a.exists(r.p("e"))


@case("get_ephemerals_prefixes")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("d"))
    a.create(r.p("e1"), flags=EPHEMERAL)
    a.create(r.p("d/e2"), flags=EPHEMERAL)
    a.create(r.p("ex"), flags=EPHEMERAL_SEQUENTIAL)
    b.create(r.p("b1"), flags=EPHEMERAL)
    a.op("getEphemerals", path=r.p())
    a.op("getEphemerals", path=r.p("e"))
    a.op("getEphemerals", path=r.p("d"))
    a.op("getEphemerals", path=r.p("zz"))
    b.op("getEphemerals", path=r.p())
    a.op("getEphemerals", path="/")


@case("nochildrenforephemerals_all_modes")
def _(r):
    a = r.session("a")
    a.create(r.p("e"), flags=EPHEMERAL)
    for fl in (PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL):
        a.create(r.p("e/c"), flags=fl)
    a.op("createContainer", path=r.p("e/k"), flags=CONTAINER)
    a.op("createTTL", path=r.p("e/t"), flags=PERSISTENT_WITH_TTL, ttl=HOUR)
    b = r.session("b")
    b.create(r.p("e/fromb"))


@case("session_timeout_negotiation")
def _(r):
    for name, t in (("t0", 0), ("t1", 1000), ("t4", 4000), ("t10", 10000), ("t40", 40000), ("t99", 99000),
                    ("tneg", -5)):
        r.session(name, timeout_ms=t)


@case("session_wrong_password")
def _(r):
    a = r.session("a")
    a.create(r.p("e"), flags=EPHEMERAL)
    a.disconnect()
    a.reconnect(passwd=b"\x01" * 16)
    b = r.session("b")
    b.exists(r.p("e"))
    a.reconnect()
    a.exists(r.p("e"))


@case("session_unknown_id")
def _(r):
    a = r.session("a")
    a.disconnect()
    a.reconnect(session_id=0x7EADBEEF12345)
    r.session("b").exists(r.p())


@case("session_reconnect_after_close")
def _(r):
    a = r.session("a")
    a.create(r.p("e"), flags=EPHEMERAL)
    a.close()
    a.reconnect()
    r.session("b").exists(r.p("e"))


@case("session_short_passwd")
def _(r):
    a = r.session("a")
    a.disconnect()
    a.reconnect(passwd=b"\x00" * 4)


@case("session_without_readonly_byte")
def _(r):
    a = r.session("a", send_read_only=False)
    a.create(r.p("x"), b"legacy handshake")
    a.get(r.p("x"))


@case("session_readonly_requested")
def _(r):
    a = r.session("a", read_only=True)
    a.create(r.p("x"))
    a.get(r.p("x"))


@case("session_last_zxid_from_future")
def _(r):
    r.session("a", last_zxid=0x7FFFFFFF00000000)
    r.session("b").exists(r.p())


@case("session_ping_and_close")
def _(r):
    a = r.session("a")
    a.op("ping")
    a.op("ping")
    a.close()
    a.op("exists", path=r.p())


@case("session_whoami_fresh")
def _(r):
    a = r.session("a")
    a.op("whoAmI")


@case("session_expiry_removes_ephemerals")
def _(r):
    a = r.session("a", timeout_ms=4000)
    b = r.session("b")
    a.create(r.p("e"), flags=EPHEMERAL)
    b.exists(r.p("e"), watch=True)
    a.disconnect()
    # Wait (bounded) for the server to expire a's session; poll quietly from b.
    import time
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rep = b.op("exists", path=r.p("e"), _quiet=True)
        if rep is not None and rep.err != 0:
            break
        time.sleep(0.5)
    b.exists(r.p("e"))
    a.reconnect()


# ============================================================ F. one-shot watches

@case("watch_data_fires_on_set")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"), b"1")
    b.get(r.p("x"), watch=True)
    a.set(r.p("x"), b"2")
    a.set(r.p("x"), b"3")


@case("watch_data_fires_on_delete")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    a.delete(r.p("x"))


@case("watch_data_self_triggered_order")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.get(r.p("x"), watch=True)
    a.set(r.p("x"), b"new")
    a.get(r.p("x"), watch=True)
    a.delete(r.p("x"))


@case("watch_exists_on_missing_fires_created")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.exists(r.p("x"), watch=True)
    a.create(r.p("x"))
    a.delete(r.p("x"))
    a.create(r.p("x"))


@case("watch_exists_on_existing")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.exists(r.p("x"), watch=True)
    a.set(r.p("x"), b"1")
    b.exists(r.p("x"), watch=True)
    a.delete(r.p("x"))


@case("watch_getdata_nonode_sets_no_watch")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.get(r.p("x"), watch=True)
    b.ls(r.p("x"), watch=True)
    a.create(r.p("x"))
    a.set(r.p("x"), b"1")


@case("watch_child_create_delete")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.ls(r.p(), watch=True)
    a.create(r.p("c1"))
    a.create(r.p("c2"))
    b.ls2(r.p(), watch=True)
    a.delete(r.p("c1"))


@case("watch_child_not_on_child_setdata")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("c"))
    b.ls(r.p(), watch=True)
    a.set(r.p("c"), b"x")
    a.set(r.p(), b"parentdata")
    a.create(r.p("c/gc"))
    a.create(r.p("c2"))


@case("watch_child_fires_deleted_on_node_delete")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("p"))
    b.ls(r.p("p"), watch=True)
    a.delete(r.p("p"))


@case("watch_data_and_child_same_node_delete_dedup")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("p"))
    b.get(r.p("p"), watch=True)
    b.ls(r.p("p"), watch=True)
    b.exists(r.p("p"), watch=True)
    a.delete(r.p("p"))


@case("watch_multiple_sessions_same_node")
def _(r):
    a = r.session("a")
    b = r.session("b")
    c = r.session("c")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    c.exists(r.p("x"), watch=True)
    a.get(r.p("x"), watch=True)
    a.set(r.p("x"), b"v")


@case("watch_repeat_registration_fires_once")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    for _ in range(3):
        b.get(r.p("x"), watch=True)
        b.exists(r.p("x"), watch=True)
    a.set(r.p("x"), b"v")
    a.set(r.p("x"), b"w")


@case("watch_parent_and_child_on_ephemeral_close")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("e"), flags=EPHEMERAL)
    b.get(r.p("e"), watch=True)
    b.ls(r.p(), watch=True)
    a.close()


@case("watch_removed_when_session_disconnects")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    b.disconnect()
    a.set(r.p("x"), b"1")
    b.reconnect()
    a.set(r.p("x"), b"2")


@case("watch_multi_triggers")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    a.create(r.p("y"))
    b.get(r.p("x"), watch=True)
    b.exists(r.p("y"), watch=True)
    b.ls(r.p(), watch=True)
    b.exists(r.p("z"), watch=True)
    a.multi([("setData", dict(path=r.p("x"), data=b"1")), ("delete", dict(path=r.p("y"))),
             ("create", dict(path=r.p("z")))])


@case("watch_failed_multi_triggers_nothing")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    b.ls(r.p(), watch=True)
    a.multi([("setData", dict(path=r.p("x"), data=b"1")), ("create", dict(path=r.p("x")))])
    a.set(r.p("x"), b"2")


@case("watch_sequential_create_child_event")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.ls(r.p(), watch=True)
    a.create(r.p("s-"), flags=EPHEMERAL_SEQUENTIAL)


@case("watch_setacl_does_not_fire")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    b.ls(r.p("x"), watch=True)
    a.set_acl(r.p("x"), [(ALL, "world", "anyone")])
    a.set(r.p("x"), b"1")


@case("watch_event_for_root_children")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.ls("/compat", watch=True)
    b.exists(r.p(), watch=True)
    a.set(r.p(), b"x")


# ============================================================ G. persistent watches (addWatch)

@case("addwatch_persistent_basic")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.add_watch(r.p("x"), ADD_PERSISTENT)
    a.create(r.p("x"))
    a.set(r.p("x"), b"1")
    a.set(r.p("x"), b"2")
    a.create(r.p("x/c"))
    a.set(r.p("x/c"), b"child data")
    a.create(r.p("x/c/gc"))
    a.delete(r.p("x/c/gc"))
    a.delete(r.p("x/c"))
    a.delete(r.p("x"))
    a.create(r.p("x"))


@case("addwatch_recursive_basic")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.add_watch(r.p("x"), ADD_PERSISTENT_RECURSIVE)
    a.create(r.p("x"))
    a.set(r.p("x"), b"1")
    a.create(r.p("x/c"))
    a.set(r.p("x/c"), b"2")
    a.create(r.p("x/c/gc"), flags=EPHEMERAL)
    a.set(r.p("x/c/gc"), b"3")
    a.create(r.p("xsibling"))
    a.delete(r.p("x/c/gc"))
    a.delete(r.p("x/c"))
    a.delete(r.p("x"))


@case("addwatch_recursive_on_case_root_with_multi")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.add_watch(r.p(), ADD_PERSISTENT_RECURSIVE)
    a.multi([("create", dict(path=r.p("a"))), ("create", dict(path=r.p("a/b"))),
             ("setData", dict(path=r.p("a"), data=b"x")), ("delete", dict(path=r.p("a/b")))])


@case("addwatch_self_triggered")
def _(r):
    a = r.session("a")
    a.add_watch(r.p(), ADD_PERSISTENT_RECURSIVE)
    a.create(r.p("n"))
    a.set(r.p("n"), b"1")
    a.delete(r.p("n"))


@case("addwatch_persistent_plus_oneshot")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.add_watch(r.p("x"), ADD_PERSISTENT)
    b.get(r.p("x"), watch=True)
    b.ls(r.p("x"), watch=True)
    a.set(r.p("x"), b"1")
    a.create(r.p("x/c"))
    a.set(r.p("x"), b"2")


@case("addwatch_recursive_and_persistent_same_path")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.add_watch(r.p("x"), ADD_PERSISTENT)
    b.add_watch(r.p("x"), ADD_PERSISTENT_RECURSIVE)
    a.set(r.p("x"), b"1")
    a.create(r.p("x/c"))


@case("addwatch_bad_mode")
def _(r):
    a = r.session("a")
    a.add_watch(r.p(), 2)
    a.add_watch(r.p(), -1)
    a.add_watch(r.p(), 99)
    a.create(r.p("n"))


@case("addwatch_nested_recursive_watchers")
def _(r):
    a = r.session("a")
    b = r.session("b")
    c = r.session("c")
    b.add_watch(r.p(), ADD_PERSISTENT_RECURSIVE)
    c.add_watch(r.p("p"), ADD_PERSISTENT_RECURSIVE)
    a.create(r.p("p"))
    a.create(r.p("p/q"))
    a.create(r.p("p/q/r"))
    a.set(r.p("p/q/r"), b"v")


@case("addwatch_removed_on_close_session")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.add_watch(r.p(), ADD_PERSISTENT_RECURSIVE)
    a.create(r.p("x"))
    b.close()
    a.set(r.p("x"), b"v")


# ============================================================ H. checkWatches / removeWatches per WatcherType

WATCH_TYPES = {"children": WT_CHILDREN, "data": WT_DATA, "any": WT_ANY, "persistent": WT_PERSISTENT,
               "recursive": WT_PERSISTENT_RECURSIVE}

SETUPS = {
    "none": lambda s, p: None,
    "data": lambda s, p: s.get(p, watch=True),
    "exist": lambda s, p: s.exists(p, watch=True),
    "child": lambda s, p: s.ls(p, watch=True),
    "persistent": lambda s, p: s.add_watch(p, ADD_PERSISTENT),
    "recursive": lambda s, p: s.add_watch(p, ADD_PERSISTENT_RECURSIVE),
}


def _mk_watch_mgmt(op, tname, wtype, setup):
    def fn(r):
        a = r.session("a")
        b = r.session("b")
        a.create(r.p("x"))
        SETUPS[setup](b, r.p("x"))
        b.op(op, path=r.p("x"), type=wtype)
        b.op(op, path=r.p("x"), type=wtype)
        # After removal (or not) does a change still notify b?
        a.set(r.p("x"), b"changed")
        a.create(r.p("x/c"))
    return fn


WATCH_MGMT_PAIRS = [(t, "none") for t in WATCH_TYPES] + [
    ("children", "child"), ("data", "data"), ("data", "exist"), ("any", "data"), ("any", "child"),
    ("persistent", "persistent"), ("recursive", "recursive"), ("any", "persistent"), ("any", "recursive"),
]
for _op in ("checkWatches", "removeWatches"):
    for _tname, _setup in WATCH_MGMT_PAIRS:
        add("%s_%s_with_%s_watch" % (_op, _tname, _setup),
            _mk_watch_mgmt(_op, _tname, WATCH_TYPES[_tname], _setup))


@case("removewatches_exist_watch_on_missing_node")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.exists(r.p("nx"), watch=True)
    b.op("checkWatches", path=r.p("nx"), type=WT_DATA)
    b.op("removeWatches", path=r.p("nx"), type=WT_DATA)
    a.create(r.p("nx"))


@case("removewatches_bad_type")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.get(r.p("x"), watch=True)
    a.op("removeWatches", path=r.p("x"), type=0)
    a.op("removeWatches", path=r.p("x"), type=6)
    a.op("checkWatches", path=r.p("x"), type=-1)


@case("removewatches_wrong_type_keeps_watch")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    b.op("removeWatches", path=r.p("x"), type=WT_CHILDREN)
    b.op("removeWatches", path=r.p("x"), type=WT_PERSISTENT)
    a.set(r.p("x"), b"1")


@case("removewatches_other_session_watch")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    a.op("removeWatches", path=r.p("x"), type=WT_ANY)
    a.set(r.p("x"), b"1")


# ============================================================ I. setWatches / setWatches2 on reconnect

def _reconnect_case(kind, change, op="setWatches"):
    """b watches /x (kind), disconnects, a applies `change`, b reconnects and re-arms with relativeZxid."""
    def fn(r):
        a = r.session("a")
        b = r.session("b")
        x = r.p("x")
        if change != "create":
            a.create(x, b"0")
            a.create(r.p("x/old"))
        if kind == "data":
            b.get(x, watch=True)
        elif kind == "exist":
            b.exists(x, watch=True)
        elif kind == "child":
            b.ls(x, watch=True)
        elif kind == "persistent":
            b.add_watch(x, ADD_PERSISTENT)
        elif kind == "recursive":
            b.add_watch(x, ADD_PERSISTENT_RECURSIVE)
        rel = b.seen_zxid
        b.disconnect()
        if change == "set":
            a.set(x, b"1")
        elif change == "delete":
            a.delete(r.p("x/old"))
            a.delete(x)
        elif change == "create":
            a.create(x, b"new")
        elif change == "child":
            a.create(r.p("x/new"))
        elif change == "none":
            pass
        b.reconnect()
        lists = {"data": [], "exist": [], "child": [], "persistent": [], "recursive": []}
        lists[kind] = [x]
        if op == "setWatches":
            b.op("setWatches", rel_zxid=rel, data=lists["data"], exist=lists["exist"], child=lists["child"])
        else:
            b.op("setWatches2", rel_zxid=rel, **lists)
        # later changes must notify b per the (re-armed) watch
        if change != "delete":
            a.set(x, b"later")
            a.create(r.p("x/later"))
    return fn


for _kind, _changes in (("data", ("set", "delete", "none", "child")),
                        ("exist", ("create", "set", "delete", "none")),
                        ("child", ("child", "delete", "set", "none"))):
    for _ch in _changes:
        add("setwatches_%s_after_%s" % (_kind, _ch), _reconnect_case(_kind, _ch, "setWatches"))
for _kind, _changes in (("data", ("set", "none")), ("exist", ("create",)), ("child", ("child",)),
                        ("persistent", ("set", "child", "none", "delete")),
                        ("recursive", ("set", "child", "none", "delete"))):
    for _ch in _changes:
        add("setwatches2_%s_after_%s" % (_kind, _ch), _reconnect_case(_kind, _ch, "setWatches2"))


@case("setwatches_relzxid_zero_fires_all")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.create(r.p("x/c"))
    b = r.session("b")
    b.op("setWatches", rel_zxid=0, data=[r.p("x")], exist=[r.p("missing")], child=[r.p("x")])
    a.create(r.p("missing"))


@case("setwatches_on_fresh_session_missing_paths")
def _(r):
    a = r.session("a")
    b = r.session("b")
    b.op("setWatches", rel_zxid=b.seen_zxid, data=[r.p("nodata")], exist=[r.p("noexist")], child=[r.p("nochild")])
    a.create(r.p("noexist"))
    a.create(r.p("nodata"))
    a.create(r.p("nochild"))


@case("setwatches_many_paths")
def _(r):
    a = r.session("a")
    for i in range(10):
        a.op("create", path=r.p("n%d" % i), _quiet=True)
    b = r.session("b")
    rel = b.seen_zxid
    for i in range(0, 10, 2):
        a.op("setData", path=r.p("n%d" % i), data=b"x", _quiet=True)
    b.op("setWatches", rel_zxid=rel, data=[r.p("n%d" % i) for i in range(10)])


# ============================================================ J. ACLs

def _perm_case(pname, perm):
    def fn(r):
        a = r.session("a")
        b = r.session("b")
        a.create(r.p("x"), b"secret")
        a.create(r.p("x/child"))
        a.set_acl(r.p("x"), [(ALL & ~perm, "world", "anyone")])
        b.get(r.p("x"))
        b.exists(r.p("x"))
        b.set(r.p("x"), b"w")
        b.create(r.p("x/new"))
        b.delete(r.p("x/child"))
        b.ls(r.p("x"))
        b.ls2(r.p("x"))
        b.get_acl(r.p("x"))
        b.op("getAllChildrenNumber", path=r.p("x"))
        b.op("addWatch", path=r.p("x"), mode=ADD_PERSISTENT)
        b.op("sync", path=r.p("x"))
        b.multi_read([("getData", dict(path=r.p("x"))), ("getChildren", dict(path=r.p("x")))])
        b.set_acl(r.p("x"), OPEN_ACL_UNSAFE)
        b.get_acl(r.p("x"))
    return fn


for _pname, _perm in PERMS.items():
    add("acl_world_without_%s" % _pname, _perm_case(_pname, _perm))


@case("acl_world_no_perms")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"d", acl=[(0, "world", "anyone")])
    a.get(r.p("x"))
    a.get_acl(r.p("x"))
    a.set(r.p("x"), b"e")
    a.delete(r.p("x"))


@case("acl_world_read_only_acl")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"d", acl=[(READ, "world", "anyone")])
    a.get(r.p("x"))
    a.set(r.p("x"), b"e")
    a.create(r.p("x/c"))
    a.delete(r.p("x"))


@case("acl_digest_allows_owner_denies_other")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.auth("digest", "alice:pw1")
    a.create(r.p("x"), b"alice data", acl=[(ALL, "digest", ALICE)])
    a.get(r.p("x"))
    a.get_acl(r.p("x"))
    b.get(r.p("x"))
    b.auth("digest", "alice:wrong")
    b.get(r.p("x"))
    b.auth("digest", "alice:pw1")
    b.get(r.p("x"))
    b.op("whoAmI")


@case("acl_digest_multiple_ids")
def _(r):
    a = r.session("a")
    b = r.session("b")
    c = r.session("c")
    a.create(r.p("x"), b"shared", acl=[(READ, "digest", ALICE), (READ | WRITE, "digest", BOB)])
    b.auth("digest", "alice:pw1")
    c.auth("digest", "bob:pw2")
    b.get(r.p("x"))
    b.set(r.p("x"), b"by alice")
    c.set(r.p("x"), b"by bob")
    c.get(r.p("x"))
    a.get(r.p("x"))


@case("acl_auth_scheme_requires_auth")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), acl=[(ALL, "auth", "")])
    a.auth("digest", "alice:pw1")
    a.create(r.p("x"), acl=[(ALL, "auth", "")])
    a.get_acl(r.p("x"))
    a.create(r.p("y"), acl=[(READ, "auth", "ignored-id")])
    a.get_acl(r.p("y"))
    b = r.session("b")
    b.get(r.p("x"))


@case("acl_auth_scheme_multiple_auths")
def _(r):
    a = r.session("a")
    a.auth("digest", "alice:pw1")
    a.auth("digest", "bob:pw2")
    a.create(r.p("x"), acl=[(ALL, "auth", "")])
    a.get_acl(r.p("x"))
    a.op("whoAmI")


@case("acl_auth_scheme_in_setacl")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.set_acl(r.p("x"), [(ALL, "auth", "")])
    a.auth("digest", "bob:pw2")
    a.set_acl(r.p("x"), [(ALL, "auth", "")])
    a.get_acl(r.p("x"))
    r.session("b").get(r.p("x"))


IP_ACLS = {
    "exact": "127.0.0.1",
    "cidr8": "127.0.0.0/8",
    "cidr32": "127.0.0.1/32",
    "cidr0": "0.0.0.0/0",
    "other_net": "10.0.0.0/8",
    "other_host": "192.0.2.7",
    "bad_octet": "300.1.1.1",
    "bad_prefix": "127.0.0.1/33",
    "garbage": "not-an-ip",
    "ipv6_loopback": "0:0:0:0:0:0:0:1",
}

for _iname, _ip in IP_ACLS.items():
    def _ip_case(r, ip=_ip):
        a = r.session("a")
        a.create(r.p("x"), b"ipdata", acl=[(READ | ADMIN, "ip", ip), (ADMIN, "world", "anyone")])
        a.get_acl(r.p("x"))
        a.get(r.p("x"))
        a.set(r.p("x"), b"nope")
        a.set_acl(r.p("x"), [(ALL, "ip", ip)])
        a.set(r.p("x"), b"maybe")
    add("acl_ip_%s" % _iname, _ip_case)


@case("acl_super_digest_bypasses")
def _(r):
    a = r.session("a")
    a.auth("digest", "alice:pw1")
    a.create(r.p("x"), b"private", acl=[(ALL, "digest", ALICE)])
    s = r.session("s")
    s.get(r.p("x"))
    s.auth("digest", "%s:%s" % (SUPER_USER, SUPER_PASSWORD))
    s.get(r.p("x"))
    s.set(r.p("x"), b"by super")
    s.create(r.p("x/c"))
    s.set_acl(r.p("x"), OPEN_ACL_UNSAFE)
    s.op("whoAmI")
    s.delete(r.p("x/c"))
    r.session("b").get(r.p("x"))


@case("acl_super_wrong_password")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"private", acl=[(ALL, "digest", ALICE)])
    s = r.session("s")
    s.auth("digest", "%s:wrong" % SUPER_USER)
    s.get(r.p("x"))
    s.op("whoAmI")


@case("acl_super_with_no_perms_node")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"locked", acl=[(0, "world", "anyone")])
    s = r.session("s")
    s.auth("digest", "%s:%s" % (SUPER_USER, SUPER_PASSWORD))
    s.get(r.p("x"))
    s.delete(r.p("x"))


for _aname, _acl in (("unknown_scheme", [(ALL, "foo", "bar")]),
                     ("empty_list", []),
                     ("null_list", None),
                     ("world_wrong_id", [(ALL, "world", "somebody")]),
                     ("digest_no_colon", [(ALL, "digest", "alice")]),
                     ("digest_plain", [(ALL, "digest", "alice:pw1")]),
                     ("perms_over_all", [(0xFF, "world", "anyone")]),
                     ("perms_negative", [(-1, "world", "anyone")]),
                     ("super_scheme", [(ALL, "super", "x")]),
                     ("mixed_valid_invalid", [(ALL, "world", "anyone"), (ALL, "nope", "x")]),
                     ("duplicate_entries", [(READ, "world", "anyone"), (READ, "world", "anyone")]),
                     ("x509", [(ALL, "x509", "CN=foo")])):
    def _acl_validity(r, acl=_acl):
        a = r.session("a")
        if acl is None:
            a.op("create", path=r.p("x"), acl=None, _quiet=True)  # default ACL (our encoder) first
            a.op("setACL", path=r.p("x"), acl=None)
            from zkwire import Writer, encode_body  # noqa: F401
            # null ACL vector on create
            c = a.conn
            from zkwire import Writer as W
            body = W().string(r.p("y")).buffer(b"").int(-1).int(0).bytes()
            rep = c.wait(c.send("create", body))
            r.rec("a", "create null acl", {"err": rep.err_name})
        else:
            a.create(r.p("x"), acl=acl)
            a.create(r.p("ok"))
            a.set_acl(r.p("ok"), acl)
        a.get_acl(r.p("x"))
        a.get_acl(r.p("ok"))
    add("acl_validity_%s" % _aname, _acl_validity)


@case("auth_unknown_scheme")
def _(r):
    a = r.session("a")
    a.auth("nosuchscheme", "whatever")
    a.op("exists", path=r.p())


@case("auth_ip_scheme_explicit")
def _(r):
    a = r.session("a")
    a.auth("ip", "127.0.0.1")
    a.op("whoAmI")


@case("auth_digest_no_colon")
def _(r):
    a = r.session("a")
    a.auth("digest", "justauser")
    a.op("whoAmI")
    a.create(r.p("x"), acl=[(ALL, "auth", "")])
    a.get_acl(r.p("x"))


@case("auth_world_scheme")
def _(r):
    a = r.session("a")
    a.auth("world", "anyone")
    a.op("whoAmI")


@case("auth_twice_same")
def _(r):
    a = r.session("a")
    a.auth("digest", "alice:pw1")
    a.auth("digest", "alice:pw1")
    a.op("whoAmI")


@case("acl_getacl_returns_stat")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), acl=[(READ, "world", "anyone"), (ALL, "ip", "127.0.0.1")])
    a.get_acl(r.p("x"))
    a.set_acl(r.p("x"), [(ALL, "ip", "127.0.0.0/8")])
    a.get_acl(r.p("x"))


@case("acl_delete_needs_parent_delete_perm")
def _(r):
    a = r.session("a")
    a.create(r.p("p"))
    a.create(r.p("p/c"), acl=[(0, "world", "anyone")])
    a.delete(r.p("p/c"))
    a.set_acl(r.p("p"), [(ALL & ~DELETE, "world", "anyone")])
    a.create(r.p("p/d"))
    a.delete(r.p("p/d"))


@case("acl_multi_noauth")
def _(r):
    a = r.session("a")
    a.create(r.p("ro"), acl=[(READ, "world", "anyone")])
    a.multi([("create", dict(path=r.p("fine"))), ("setData", dict(path=r.p("ro"), data=b"x"))])
    a.multi_read([("getData", dict(path=r.p("ro")))])
    a.ls(r.p())


@case("acl_exists_ignores_acl")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), acl=[(0, "world", "anyone")])
    a.exists(r.p("x"), watch=True)
    a.op("getEphemerals", path=r.p())
    a.op("checkWatches", path=r.p("x"), type=WT_DATA)


# ============================================================ K. multi / multiRead

@case("multi_all_ok")
def _(r):
    a = r.session("a")
    a.create(r.p("old"), b"o")
    a.multi([("create", dict(path=r.p("a"), data=b"1")),
             ("create2", dict(path=r.p("b"), data=b"2")),
             ("setData", dict(path=r.p("old"), data=b"new")),
             ("check", dict(path=r.p("old"), version=1)),
             ("delete", dict(path=r.p("a")))])
    a.ls2(r.p())
    a.get(r.p("old"))


@case("multi_empty")
def _(r):
    a = r.session("a")
    a.multi([])
    a.multi_read([])


for _pos in (0, 1, 2):
    def _multi_fail(r, pos=_pos):
        a = r.session("a")
        a.create(r.p("exists"))
        ops = [("create", dict(path=r.p("n0"))), ("create", dict(path=r.p("n1"))), ("create", dict(path=r.p("n2")))]
        ops[pos] = ("create", dict(path=r.p("exists")))
        a.multi(ops)
        a.ls(r.p())
    add("multi_fail_at_%d" % _pos, _multi_fail)


for _ename, _bad in (("nonode", ("setData", dict(path="{R}/missing", data=b"x"))),
                     ("badversion", ("check", dict(path="{R}/base", version=7))),
                     ("check_nonode", ("check", dict(path="{R}/missing", version=0))),
                     ("notempty", ("delete", dict(path="{R}/base"))),
                     ("noephchildren", ("create", dict(path="{R}/eph/c"))),
                     ("badpath", ("create", dict(path="{R}/bad/"))),
                     ("invalidacl", ("create", dict(path="{R}/n9", acl=[(ALL, "foo", "x")]))),
                     ("delete_badversion", ("delete", dict(path="{R}/base/kid", version=3))),
                     ("ttl_bad", ("createTTL", dict(path="{R}/t", flags=PERSISTENT_WITH_TTL, ttl=0)))):
    def _multi_err(r, bad=_bad):
        a = r.session("a")
        a.create(r.p("base"))
        a.create(r.p("base/kid"))
        a.create(r.p("eph"), flags=EPHEMERAL)
        name, args = bad
        args = {k: (v.replace("{R}", r.root) if isinstance(v, str) else v) for k, v in args.items()}
        a.multi([("create", dict(path=r.p("first"))), ("setData", dict(path=r.p("base"), data=b"changed")),
                 (name, args), ("create", dict(path=r.p("last")))])
        a.get(r.p("base"))
        a.ls(r.p())
    add("multi_error_%s" % _ename, _multi_err)


@case("multi_create_then_delete_same")
def _(r):
    a = r.session("a")
    a.multi([("create", dict(path=r.p("t"))), ("create", dict(path=r.p("t/c"))),
             ("delete", dict(path=r.p("t/c"))), ("delete", dict(path=r.p("t")))])
    a.ls2(r.p())


@case("multi_dependent_versions")
def _(r):
    a = r.session("a")
    a.create(r.p("v"))
    a.multi([("setData", dict(path=r.p("v"), data=b"1", version=0)),
             ("setData", dict(path=r.p("v"), data=b"2", version=1)),
             ("check", dict(path=r.p("v"), version=2))])
    a.get(r.p("v"))


@case("multi_check_only")
def _(r):
    a = r.session("a")
    a.create(r.p("v"))
    a.multi([("check", dict(path=r.p("v"), version=0))])
    a.multi([("check", dict(path=r.p("v"), version=1))])


@case("multi_all_create_kinds")
def _(r):
    a = r.session("a")
    a.multi([("create", dict(path=r.p("p"), flags=PERSISTENT)),
             ("create2", dict(path=r.p("e"), flags=EPHEMERAL)),
             ("createContainer", dict(path=r.p("c"), flags=CONTAINER)),
             ("createTTL", dict(path=r.p("t"), flags=PERSISTENT_WITH_TTL, ttl=HOUR)),
             ("create2", dict(path=r.p("s-"), flags=PERSISTENT_SEQUENTIAL))])
    a.ls2(r.p())
    a.exists(r.p("c"))
    a.exists(r.p("t"))


@case("multi_with_read_op_rejected")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.multi([("getData", dict(path=r.p("x")))])
    a.multi([("create", dict(path=r.p("y"))), ("getChildren", dict(path=r.p()))])
    a.ls(r.p())
    a.op("exists", path=r.p())


@case("multiread_all_ok")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"xd")
    a.create(r.p("x/c1"))
    a.create(r.p("x/c2"))
    a.multi_read([("getData", dict(path=r.p("x"))), ("getChildren", dict(path=r.p("x"))),
                  ("getData", dict(path=r.p("x/c1")))])


@case("multiread_partial_failure")
def _(r):
    a = r.session("a")
    a.create(r.p("x"), b"xd")
    a.multi_read([("getData", dict(path=r.p("missing"))), ("getChildren", dict(path=r.p("x"))),
                  ("getChildren", dict(path=r.p("missing2"))), ("getData", dict(path=r.p("x")))])


@case("multiread_with_write_op")
def _(r):
    a = r.session("a")
    a.multi_read([("create", dict(path=r.p("x")))])
    a.ls(r.p())
    a.op("exists", path=r.p())


@case("multiread_watch_flag")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.multi_read([("getData", dict(path=r.p("x"), watch=True)), ("getChildren", dict(path=r.p("x"), watch=True))])
    a.set(r.p("x"), b"1")
    a.create(r.p("x/c"))


@case("multi_large_batch")
def _(r):
    a = r.session("a")
    a.multi([("create", dict(path=r.p("n%03d" % i), data=b"d")) for i in range(100)])
    a.op("getAllChildrenNumber", path=r.p())
    a.multi([("delete", dict(path=r.p("n%03d" % i))) for i in range(100)])
    a.ls2(r.p())


@case("multi_ephemeral_then_close")
def _(r):
    a = r.session("a")
    a.multi([("create", dict(path=r.p("e1"), flags=EPHEMERAL)), ("create", dict(path=r.p("e2"), flags=EPHEMERAL))])
    a.op("getEphemerals", path=r.p())
    a.close()
    r.session("b").ls(r.p())


# ============================================================ L. other opcodes

@case("op_reconfig_standalone")
def _(r):
    a = r.session("a")
    a.op("reconfig", joining="server.2=127.0.0.1:1:2;3", leaving=None, new_members=None, cur_config_id=-1)
    a.op("reconfig", joining=None, leaving="1", new_members=None)
    a.op("exists", path=r.p())


@case("op_sasl_without_sasl")
def _(r):
    a = r.session("a")
    a.op("sasl", token=b"")
    a.op("sasl", token=b"\x01\x02\x03")
    a.op("exists", path=r.p())


@case("op_deletecontainer_from_client")
def _(r):
    a = r.session("a")
    a.op("createContainer", path=r.p("c"), flags=CONTAINER)
    a.op("deleteContainer", path=r.p("c"))
    a.op("deleteContainer", path=r.p("c"), jute=True)
    a.exists(r.p("c"))


@case("op_check_standalone")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.op("check", path=r.p("x"), version=0, _timeout=1.5)
    a.op("check", path=r.p("x"), version=5, _timeout=1.5)
    a.op("exists", path=r.p())


for _code in (10, 23, 99, 108, 999, -3, -10):
    def _unknown(r, code=_code):
        a = r.session("a")
        c = a.conn
        rep = None
        try:
            x = c.send("op%d" % code, b"", opcode=code)
            rep = c.wait(x, timeout=2.0)
            r.rec("a", "opcode %d" % code, {"err": rep.err_name, "body": rep.raw.hex() or None})
        except Exception as e:  # noqa: BLE001 - record the class of failure
            r.rec("a", "opcode %d" % code, type(e).__name__)
        r.rec("a", "still-open", not c.wait_closed(1.0))
        b = r.session("b")
        b.exists(r.p())
    add("op_unknown_opcode_%s" % str(_code).replace("-", "neg"), _unknown)


@case("op_getallchildrennumber_nested")
def _(r):
    a = r.session("a")
    for p in ("a", "a/b", "a/b/c", "a/d", "e"):
        a.create(r.p(p))
    a.create(r.p("a/x"), flags=EPHEMERAL)
    for p in ("", "a", "a/b", "a/b/c", "e"):
        a.op("getAllChildrenNumber", path=r.p(p))


@case("op_whoami_after_digest")
def _(r):
    a = r.session("a")
    a.auth("digest", "alice:pw1")
    a.op("whoAmI")
    a.auth("digest", "bob:pw2")
    a.op("whoAmI")


@case("op_ping_pipelined_with_requests")
def _(r):
    a = r.session("a")
    a.pipeline([("create", dict(path=r.p("x"))), ("ping", {}), ("getData", dict(path=r.p("x"))), ("ping", {})])


# ============================================================ M. pipelining

@case("pipeline_creates_in_order")
def _(r):
    a = r.session("a")
    a.pipeline([("create", dict(path=r.p("n%02d" % i), flags=PERSISTENT_SEQUENTIAL if i % 2 else 0))
                for i in range(20)])
    a.ls(r.p())


@case("pipeline_write_then_read")
def _(r):
    a = r.session("a")
    a.pipeline([("create", dict(path=r.p("x"), data=b"1")), ("setData", dict(path=r.p("x"), data=b"2")),
                ("getData", dict(path=r.p("x"))), ("delete", dict(path=r.p("x"))),
                ("exists", dict(path=r.p("x")))])


@case("pipeline_errors_mixed")
def _(r):
    a = r.session("a")
    a.pipeline([("create", dict(path=r.p("x"))), ("create", dict(path=r.p("x"))),
                ("getData", dict(path=r.p("nope"))), ("delete", dict(path=r.p("x"), version=9)),
                ("setData", dict(path=r.p("x"), data=b"ok", version=0)), ("getChildren", dict(path=r.p()))])


@case("pipeline_watch_events_interleaved")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.pipeline([("getData", dict(path=r.p("x"), watch=True)), ("setData", dict(path=r.p("x"), data=b"1")),
                ("getData", dict(path=r.p("x"), watch=True)), ("setData", dict(path=r.p("x"), data=b"2")),
                ("exists", dict(path=r.p("x")))])


@case("pipeline_two_sessions")
def _(r):
    a = r.session("a")
    b = r.session("b")
    a.create(r.p("x"))
    b.get(r.p("x"), watch=True)
    a.pipeline([("setData", dict(path=r.p("x"), data=str(i).encode())) for i in range(10)])
    b.get(r.p("x"))


@case("pipeline_with_auth_and_setwatches")
def _(r):
    a = r.session("a")
    a.create(r.p("x"))
    a.pipeline([("auth", dict(scheme="digest", auth="alice:pw1")),
                ("create", dict(path=r.p("y"), acl=[(ALL, "auth", "")])),
                ("setWatches", dict(rel_zxid=0, data=[r.p("x")])),
                ("getACL", dict(path=r.p("y")))])


# ============================================================ N. containers and TTL details

@case("container_lifecycle_stats")
def _(r):
    a = r.session("a")
    a.op("createContainer", path=r.p("c"), flags=CONTAINER)
    a.exists(r.p("c"))
    a.create(r.p("c/k"))
    a.ls2(r.p("c"))
    a.delete(r.p("c/k"))
    a.ls2(r.p("c"))
    a.set(r.p("c"), b"data")
    a.delete(r.p("c"))


@case("container_sequential_flag_rejected")
def _(r):
    a = r.session("a")
    a.op("createContainer", path=r.p("c"), flags=PERSISTENT_SEQUENTIAL)
    a.op("createContainer", path=r.p("d"), flags=EPHEMERAL)
    a.op("createContainer", path=r.p("e"), flags=PERSISTENT)
    a.ls(r.p())


@case("ttl_node_stats_and_children")
def _(r):
    a = r.session("a")
    a.op("createTTL", path=r.p("t"), data=b"ttl", flags=PERSISTENT_WITH_TTL, ttl=HOUR)
    a.exists(r.p("t"))
    a.create(r.p("t/c"))
    a.set(r.p("t"), b"x")
    a.get(r.p("t"))
    a.op("createTTL", path=r.p("t/s"), flags=PERSISTENT_SEQUENTIAL_WITH_TTL, ttl=HOUR)
    a.ls2(r.p("t"))


@case("ttl_ephemeral_flags_rejected")
def _(r):
    a = r.session("a")
    a.op("createTTL", path=r.p("t1"), flags=EPHEMERAL, ttl=HOUR)
    a.op("createTTL", path=r.p("t2"), flags=EPHEMERAL_SEQUENTIAL, ttl=HOUR)
    a.op("createTTL", path=r.p("t3"), flags=CONTAINER, ttl=HOUR)
    a.op("createTTL", path=r.p("t4"), flags=PERSISTENT_SEQUENTIAL, ttl=HOUR)
    a.ls(r.p())
