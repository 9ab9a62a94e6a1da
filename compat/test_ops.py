"""Differential test of the operations surface: four-letter words, the 4lw whitelist and the
AdminServer (HTTP/JSON), with Apache ZooKeeper 3.8 as the oracle.

Topologies (the module-scoped fixture ``pair`` is parametrized over them):
  standalone  one ZooKeeper (ZooKeeperServerMain) vs one system-under-test server
  leader      leader of a 3-node ZooKeeper ensemble (QuorumPeerMain) vs the target ensemble's leader
  follower    a follower of each ensemble

Every server gets the zoo.cfg of servers.zoo_cfg() with ``4lw.commands.whitelist=*`` and the
AdminServer on (admin.enableServer/serverPort/serverAddress=127.0.0.1). Before the words are
sent, one session per compared server creates a few znodes (one ephemeral) and sets a data, an
exists and a child watch, and stays open, so cons/stat/dump/wchc/wchp/... are non-trivial.

What is compared is STRUCTURE, not values (see ``parse_text``/``text_problems``): the target's
output must start with ZooKeeper's lines in ZooKeeper's order; key=value, key<TAB>value and
"Key: value" lines must have the same keys with the same value type (int, float, hex, text,
empty, or e.g. int/float/int for "0/0.5/3"); other lines are compared as templates (numbers
replaced by their type); lists of connections/watches/sessions are compared by line shape
(one regex per ZooKeeper line kind, ``LIST_KINDS``). The target may add lines only after
ZooKeeper's own. AdminServer JSON: same keys (recursively), same JSON types, extra keys allowed.

The whitelist checks use two more standalone pairs: one without a 4lw.commands.whitelist key
(ZooKeeper's default is "srvr" only, Corral's is wider on purpose, so only words both refuse
are compared) and one with ``4lw.commands.whitelist=srvr,ruok``.

Run:
    python3 -m pytest compat/test_ops.py                                # ZooKeeper vs Corral
    COMPAT_TARGET=zookeeper python3 -m pytest compat/test_ops.py        # self-check (must pass)
    COMPAT_OPS_DUMP=/tmp/ops python3 -m pytest compat/test_ops.py       # also write every raw
        output (both systems) and every failure to /tmp/ops/ops-<target>.json
"""

import json
import os
import re
import shutil
import struct
import tempfile
import time
import urllib.error
import urllib.request
from difflib import SequenceMatcher

import pytest

import servers
import zkwire
from servers import HOST, free_port

# ------------------------------------------------------------------ what is tested

WORDS = ["conf", "cons", "crst", "dump", "envi", "ruok", "srst", "srvr", "stat", "wchs", "wchc",
         "wchp", "dirs", "mntr", "isro", "hash", "gtmk", "stmk"]

# stmk is followed by an 8-byte big-endian trace mask; 306 (0x132) is ZooKeeper's default
# mask, so setting it changes nothing for the words that follow.
STMK_MASK = 306

# Default whitelists: ZooKeeper 3.8 allows only srvr; Corral deliberately allows more
# (crates/server/src/fourletter.rs DEFAULT_ON). Only words refused by both are compared.
ZK_DEFAULT_WHITELIST = {"srvr"}
CORRAL_DEFAULT_WHITELIST = {"ruok", "srvr", "stat", "mntr", "conf", "envi", "isro", "dirs", "wchs", "cons"}
REFUSED_BY_BOTH = [w for w in WORDS if w not in ZK_DEFAULT_WHITELIST | CORRAL_DEFAULT_WHITELIST]
EXPLICIT_WHITELIST = "srvr,ruok"

# AdminServer commands. ZooKeeper 3.8 (Jetty) serves GET http://<admin addr>:<port>/commands/<name>
# (e.g. /commands/monitor): always HTTP 200, Content-Type application/json, "command" = the
# primary name, "error" = null or a message (an unknown name gives 200 and
# "error": "Unknown command: <name>"); names are case sensitive, a trailing slash makes an
# unknown name, a query string is ignored. GET /commands (or /commands/) answers 200 with no
# Content-Type and one <a href="/commands/<primary>"> link per command. Every alias below
# (the ones ZooKeeper 3.8 registers) answers exactly like its primary name. Raw outputs:
# /tmp/notes/zk-ops-facts.md.
ADMIN_COMMANDS = {
    # primary name: aliases
    "ruok": [],
    "server_stats": ["srvr"],
    "stats": ["stat"],
    "monitor": ["mntr"],
    "configuration": ["conf", "config"],
    "connections": ["cons"],
    "environment": ["env", "envi"],
    "dirs": [],
    "watch_summary": ["wchs"],
    "is_read_only": ["isro"],
    "leader": ["lead"],
    "voting_view": [],
    "last_snapshot": ["lsnp"],
    "initial_configuration": ["icfg"],
    "system_properties": ["sysp"],
}
ADMIN_ALIASES = [(alias, name) for name, aliases in ADMIN_COMMANDS.items() for alias in aliases]

TOPOLOGIES = ["standalone", "leader", "follower"]

# ------------------------------------------------------------------ raw output recording

RECORD = {"target": servers.target_kind(), "outputs": {}, "failures": {}}


def record(topology, what, zk, target):
    RECORD["outputs"]["%s %s" % (topology, what)] = {"zookeeper": zk, "target": target}


def fail(key, problems, detail):
    """Fail the current test with a problem list (also kept for COMPAT_OPS_DUMP)."""
    RECORD["failures"][key] = problems
    pytest.fail("%s: %d problem(s):\n  %s\n%s" % (key, len(problems), "\n  ".join(problems), detail),
                pytrace=False)


@pytest.fixture(scope="module", autouse=True)
def _dump_record():
    yield
    out = os.environ.get("COMPAT_OPS_DUMP")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "ops-%s.json" % RECORD["target"]), "w") as f:
            json.dump(RECORD, f, indent=1, sort_keys=True)


# ------------------------------------------------------------------ talking to a server


def send_word(port, word, timeout=5.0):
    """A four-letter word's full text answer (stmk gets its 8-byte mask appended)."""
    extra = struct.pack(">q", STMK_MASK) if word == "stmk" else b""
    return zkwire.four_letter(HOST, port, word, timeout, extra)


def http_get(port, path, timeout=10.0):
    """(status, content_type, body text); status None if the server could not be reached."""
    url = "http://%s:%d%s" % (HOST, port, path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, None, "unreachable: %s" % (getattr(e, "reason", None) or e)


# ------------------------------------------------------------------ text structure

# Line kinds of ZooKeeper's lists (connections, sessions, watches, paths). A maximal run of
# list lines is compared as the SET of kinds it contains, not line by line: the number and
# order of entries depend on timing and hash order.
LIST_KINDS = [
    # cons: an established session / a connection without one (e.g. the asking 4lw connection)
    ("conn_full", r" /\S+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=\w+,est=\d+,"
                  r"to=\d+,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=-?\d+,llat=\d+,minlat=\d+,"
                  r"avglat=\d+,maxlat=\d+\)"),
    ("conn_brief", r" /\S+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+\)"),
    # dump: expiry buckets and their members
    ("expiry_bucket", r"\d+ expire at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}:"),
    ("tab_session", r"\t0x[0-9a-f]+"),
    ("tab_cnxn", r"\tip: /\S+ sessionId: 0x[0-9a-f]+"),
    ("session_colon", r"0x[0-9a-f]+:"),
    ("session_timeout", r"0x[0-9a-f]+\t\d+ms"),  # dump of a quorum server: "Global Sessions(N):"
    # wchc: session, then its paths; wchp: path, then its sessions
    ("session", r"0x[0-9a-f]+"),
    ("tab_path", r"\t/\S*"),
    ("path", r"/\S*"),
]
_LIST_RES = [(k, re.compile(p)) for k, p in LIST_KINDS]

_KV_TAB = re.compile(r"([^\t ]+)\t(.*)")
_KV_EQ = re.compile(r"([A-Za-z_][\w.\-]*)=(.*)")
_KV_COLON = re.compile(r"([A-Za-z][\w ./\-]*): (.*)")


def value_type(v):
    if v == "":
        return "empty"
    if re.fullmatch(r"-?\d+", v):
        return "int"
    if re.fullmatch(r"-?\d+\.\d+(?:[eE]-?\d+)?|NaN|-?Infinity", v):
        return "float"
    if re.fullmatch(r"0x[0-9a-fA-F]+", v):
        return "hex"
    parts = v.split("/")
    if len(parts) > 1 and all(value_type(p) in ("int", "float") for p in parts):
        return "/".join(value_type(p) for p in parts)
    return "text"


def template(line):
    """A free-text line with its numbers replaced by their type: 'Total watches:<int>'."""
    line = re.sub(r"\d+\.\d+\.\d+\.\d+", "<ip>", line)
    line = re.sub(r"0x[0-9a-fA-F]+", "<hex>", line)
    line = re.sub(r"\d+\.\d+", "<float>", line)
    return re.sub(r"\d+", "<int>", line)


def normalize_key(key):
    """mntr keys that embed a server id (per-learner metrics on the leader) lose the id."""
    return re.sub(r"_\d+_learner_handler_", "_<sid>_learner_handler_", key)


def classify(line):
    """One line -> (kind, key, type)."""
    if line == "":
        return ("blank", "", "")
    for kind, rx in _LIST_RES:
        if rx.fullmatch(line):
            return ("item", kind, "")
    for kind, rx in (("tab", _KV_TAB), ("eq", _KV_EQ), ("colon", _KV_COLON)):
        m = rx.fullmatch(line)
        if m:
            return (kind, normalize_key(m.group(1)), value_type(m.group(2)))
    return ("line", template(line), "")


def parse_text(text):
    """Text answer -> list of (kind, key, type); runs of list items become one
    ("list", "kind1|kind2", "") token."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if text == "":
        lines = []
    out = []
    for line in lines:
        tok = classify(line)
        if tok[0] == "item":
            if out and out[-1][0] == "list":
                kinds = set(out[-1][1].split("|")) | {tok[1]}
                out[-1] = ("list", "|".join(sorted(kinds)), "")
            else:
                out.append(("list", tok[1], ""))
        else:
            out.append(tok)
    return out


def show_token(t):
    kind, key, typ = t
    if kind == "tab":
        return "%s\\t<%s>" % (key, typ)
    if kind == "eq":
        return "%s=<%s>" % (key, typ)
    if kind == "colon":
        return "%s: <%s>" % (key, typ)
    if kind == "list":
        return "[list of %s]" % key
    if kind == "blank":
        return "<blank line>"
    return repr(key)


def text_problems(zk_text, target_text):
    """Why target_text does not have zk_text's structure ([] if it does)."""
    zt, tt = parse_text(zk_text), parse_text(target_text)
    problems = []
    # Keys that embed a server id (mntr's per-learner metrics on a leader) sit where the hash
    # of their name puts them, which depends on the ids: compared as a set, not in order.
    zsid = [t for t in zt if "<sid>" in t[1]]
    tsid = set(t for t in tt if "<sid>" in t[1])
    problems += ["missing: %s" % show_token(t) for t in zsid if t not in tsid]
    zt = [t for t in zt if "<sid>" not in t[1]]
    tt = [t for t in tt if "<sid>" not in t[1]]
    if tt[:len(zt)] != zt:
        zkeys = {(k, key): typ for k, key, typ in zt}
        tkeys = {(k, key): typ for k, key, typ in tt}
        sm = SequenceMatcher(a=zt, b=tt, autojunk=False)
        missing, unexpected = [], []
        for op, a0, a1, b0, b1 in sm.get_opcodes():
            if op in ("replace", "delete"):
                missing += zt[a0:a1]
            if op in ("replace", "insert") and b0 < len(zt):
                unexpected += tt[b0:min(b1, len(zt))]
        for t in missing:
            other = tkeys.get((t[0], t[1]))
            if t[0] in ("tab", "eq", "colon") and other is not None and other != t[2]:
                problems.append("wrong type: %s, target has <%s>" % (show_token(t), other))
            elif (t[0], t[1]) in tkeys:
                problems.append("out of order: %s" % show_token(t))
            else:
                problems.append("missing: %s" % show_token(t))
        for t in unexpected:
            if (t[0], t[1]) not in zkeys:
                problems.append("inserted before ZooKeeper's last line: %s" % show_token(t))
        if not problems:
            problems.append("line sequence differs (see outputs)")
    # The trailing newline is part of the format (ruok/isro/gtmk have none).
    if zk_text.endswith("\n") and target_text and not target_text.endswith("\n"):
        problems.append("no trailing newline (ZooKeeper ends with one)")
    if zk_text and not zk_text.endswith("\n") and target_text.endswith("\n") and len(tt) == len(zt):
        problems.append("trailing newline (ZooKeeper has none)")
    return problems


def show_outputs(zk_text, target_text, limit=6000):
    def cut(s):
        return s if len(s) <= limit else s[:limit] + "\n... (%d more chars)" % (len(s) - limit)
    return "--- zookeeper:\n%s\n--- target:\n%s" % (cut(repr(zk_text)), cut(repr(target_text)))


def check_text(key, zk_text, target_text):
    problems = text_problems(zk_text, target_text)
    if problems:
        fail(key, problems, show_outputs(zk_text, target_text))


def test_structure_helpers():
    """The comparators themselves (no server): what passes and what is reported."""
    zk = "Zookeeper version: 3.8.0\nClients:\n /127.0.0.1:1[0](queued=0,recved=1,sent=0)\n\nMode: standalone\n"
    assert parse_text(zk) == [("colon", "Zookeeper version", "text"), ("line", "Clients:", ""),
                              ("list", "conn_brief", ""), ("blank", "", ""), ("colon", "Mode", "text")]
    assert text_problems(zk, zk) == []
    assert text_problems(zk, zk + "Extra: 1\n") == []                        # extras after ZooKeeper's lines
    assert text_problems(zk, zk.replace("Mode", "Extra: 1\nMode")) != []     # ... but not before
    assert text_problems(zk, zk.replace("Mode: standalone\n", "")) == ["missing: Mode: <text>"]
    assert text_problems("a=1\nb=2\n", "a=1\nb=x\n") == ["wrong type: b=<int>, target has <text>"]
    assert text_problems("a\t1\nb\t2\n", "b\t2\na\t1\n") != []               # order matters
    assert text_problems("306", "306\n") == ["trailing newline (ZooKeeper has none)"]
    assert text_problems("x=1\n", "x=1") == ["no trailing newline (ZooKeeper ends with one)"]
    assert value_type("0/0.5/3") == "int/float/int" and value_type("0x1f") == "hex"
    assert json_problems({"a": 1, "l": [{"x": "s"}]}, {"a": 2, "l": [{"x": "t", "y": 0}], "z": 0}) == []
    assert json_problems({"a": 1}, {"a": 1.5}) == ["$.a: type float, ZooKeeper has int"]
    assert json_problems({"l": [{"x": 1}]}, {"l": [{}]}) == ["$.l[0].x: missing (ZooKeeper: int)"]


# ------------------------------------------------------------------ JSON structure


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def json_problems(zk, target, path="$"):
    """Same keys (recursively) and JSON types; extra keys in target allowed; lists are
    compared by the shape of their first element."""
    zt, tt = json_type(zk), json_type(target)
    if zt != tt:
        return ["%s: type %s, ZooKeeper has %s" % (path, tt, zt)]
    out = []
    if zt == "object":
        # (keys embedding a server id are matched with the id replaced, see normalize_key)
        target = {normalize_key(k): v for k, v in target.items()}
        for k, v in zk.items():
            k = normalize_key(k)
            if k not in target:
                out.append("%s.%s: missing (ZooKeeper: %s)" % (path, k, json_type(v)))
            else:
                out += json_problems(v, target[k], "%s.%s" % (path, k))
    elif zt == "list" and zk:
        if not target:
            out.append("%s: empty list, ZooKeeper's has %d element(s)" % (path, len(zk)))
        else:
            out += json_problems(zk[0], target[0], path + "[0]")
    return out


def parse_json_response(resp):
    status, ctype, body = resp
    try:
        return json.loads(body), None
    except ValueError as e:
        return None, "status %s, content-type %s, not JSON (%s): %r" % (status, ctype, e, body[:300])


# ------------------------------------------------------------------ starting servers


def ops_cfg(client_port, data_dir, whitelist="*", admin_port=None, server_lines=()):
    """servers.zoo_cfg() with this module's whitelist and AdminServer settings (None = no key)."""
    lines = [l for l in servers.zoo_cfg(client_port, data_dir).splitlines()
             if l and not l.startswith(("4lw.commands.whitelist=", "admin."))]
    if whitelist is not None:
        lines.append("4lw.commands.whitelist=%s" % whitelist)
    if admin_port:
        lines += ["admin.enableServer=true", "admin.serverPort=%d" % admin_port, "admin.serverAddress=%s" % HOST]
    else:
        lines.append("admin.enableServer=false")
    return "\n".join(lines + list(server_lines)) + "\n"


def zk_argv(cfg, main):
    """servers.start_zookeeper's JVM command line, minus the -D whitelist/admin overrides (the
    zoo.cfg decides), plus servlet-api.jar: the Debian jar's manifest lacks it and without it
    the AdminServer does not start ("Unable to load jetty")."""
    if not os.path.exists(servers.ZK_JAR) and not os.environ.get("ZK_CLASSPATH"):
        pytest.skip("Apache ZooKeeper is not installed (%s missing)" % servers.ZK_JAR)
    java = shutil.which("java")
    if not java:
        pytest.skip("java is not installed")
    cp = servers.zk_classpath()
    if os.path.exists("/usr/share/java/servlet-api.jar"):
        cp += ":/usr/share/java/servlet-api.jar"
    return [java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=%s" % servers.SUPER_DIGEST,
            "-Djute.maxbuffer=%d" % servers.JUTE_MAXBUFFER,
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-cp", cp, main, cfg]


def corral_argv(cfg):
    binary = servers.corral_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.skip("Corral binary not found at %s (set CORRAL_BIN)" % binary)
    return [binary, "server", "--config", cfg]


def launch(system, cfg_text, port, workdir, label, ensemble=False):
    """Start one server process (not waiting for it); system is "zookeeper" or "corral"."""
    cfg = os.path.join(workdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    if system == "zookeeper":
        main = ("org.apache.zookeeper.server.quorum.QuorumPeerMain" if ensemble
                else "org.apache.zookeeper.server.ZooKeeperServerMain")
        srv = servers.Server("zookeeper", zk_argv(cfg, main), port, workdir)
    else:
        srv = servers.Server("corral", corral_argv(cfg), port, workdir)
    srv.name = label
    srv.admin_port = None
    return srv


def target_system():
    return "zookeeper" if servers.target_kind() in ("zookeeper", "zk") else "corral"


def start_standalone(system, label, whitelist="*", admin=True):
    work = tempfile.mkdtemp(prefix="corral-ops-%s-" % label)
    data = os.path.join(work, "data")
    os.makedirs(data)
    port = free_port()
    admin_port = free_port() if admin else None
    srv = launch(system, ops_cfg(port, data, whitelist, admin_port), port, work, label)
    srv.admin_port = admin_port
    return srv


def wait_ready(srv, timeout):
    """Like servers.Server.wait_ready, but without ruok (a whitelist may refuse it): ready
    once a session handshake succeeds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not srv.alive():
            raise RuntimeError("%s exited with %s before it was ready; log tail:\n%s"
                               % (srv.name, srv.proc.returncode, srv.log_tail()))
        if srv._session_ok():
            return srv
        time.sleep(0.1)
    raise RuntimeError("%s served no session within %.0fs; log tail:\n%s" % (srv.name, timeout, srv.log_tail()))


def wait_all(srvs, timeout=60.0):
    try:
        for s in srvs:
            wait_ready(s, timeout)
    except Exception:
        for s in srvs:
            s.stop()
        raise


def mode_of(srv):
    try:
        m = re.search(r"^Mode: (\S+)", zkwire.four_letter(HOST, srv.port, "srvr", 2.0), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


class Ensemble:
    """Three servers on 127.0.0.1, one dir + zoo.cfg + myid each (as bench/failover.py and
    compat/ensemble.py do), AdminServer on for each member."""

    def __init__(self, system, label):
        self.system = system
        ids = [1, 2, 3]
        ports = {i: dict(client=free_port(), quorum=free_port(), election=free_port(), admin=free_port())
                 for i in ids}
        lines = ["server.%d=%s:%d:%d;%s:%d" % (i, HOST, p["quorum"], p["election"], HOST, p["client"])
                 for i, p in ports.items()]
        self.members = []
        try:
            for i in ids:
                work = tempfile.mkdtemp(prefix="corral-ops-%s-s%d-" % (label, i))
                data = os.path.join(work, "data")
                os.makedirs(data)
                with open(os.path.join(data, "myid"), "w") as f:
                    f.write("%d\n" % i)
                p = ports[i]
                srv = launch(system, ops_cfg(p["client"], data, "*", p["admin"], lines), p["client"], work,
                             "%s-s%d" % (label, i), ensemble=True)
                srv.admin_port = p["admin"]
                srv.sid = i
                self.members.append(srv)
        except BaseException:
            self.stop()
            raise

    def wait_settled(self, timeout=90.0):
        wait_all(self.members, timeout)
        deadline = time.monotonic() + timeout
        while True:
            modes = [mode_of(m) for m in self.members]
            if modes.count("leader") == 1 and modes.count("follower") == 2:
                self.leader = self.members[modes.index("leader")]
                self.follower = min((m for m, md in zip(self.members, modes) if md == "follower"),
                                    key=lambda m: m.sid)
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s ensemble did not settle: %s" % (self.system, modes))
            time.sleep(0.2)

    def stop(self):
        for m in self.members:
            m.stop()


# ------------------------------------------------------------------ traffic


def open_traffic(srv, prefix):
    """A session that creates a few znodes (one ephemeral) and sets a data watch, an exists
    watch on a missing node and a child watch; it stays open (40 s session timeout)."""
    c = zkwire.ZkConn(HOST, srv.port, timeout_ms=servers.MAX_SESSION_TIMEOUT)
    steps = [("create", dict(path=prefix, data=b"ops")),
             ("create", dict(path=prefix + "/a", data=b"a")),
             ("create", dict(path=prefix + "/b", data=b"b")),
             ("create", dict(path=prefix + "/eph", data=b"e", flags=zkwire.EPHEMERAL)),
             ("setData", dict(path=prefix + "/b", data=b"bb")),
             ("getData", dict(path=prefix + "/a", watch=True)),
             ("exists", dict(path=prefix + "/missing", watch=True)),
             ("getChildren", dict(path=prefix, watch=True))]
    for op, args in steps:
        rep = c.call(op, **args)
        assert rep.err in (0, -101), "%s %s on %s: %r" % (op, args, srv.name, rep)
    return c


class Pair:
    """The ZooKeeper server and the target server compared in one topology, each with its
    open traffic session."""

    def __init__(self, topology, zk, target, prefix):
        self.topology = topology
        self.zk, self.target = zk, target
        self.sessions = [open_traffic(zk, prefix), open_traffic(target, prefix)]

    def keepalive(self):
        for c in self.sessions:
            c.ping()

    def word(self, word):
        self.keepalive()
        return send_word(self.zk.port, word), send_word(self.target.port, word)

    def admin(self, path):
        return http_get(self.zk.admin_port, path), http_get(self.target.admin_port, path)

    def close(self):
        for c in self.sessions:
            try:
                c.bye()
            except Exception:
                pass


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ensembles():
    """ZooKeeper's and the target's 3-node ensembles (started together)."""
    zk = Ensemble("zookeeper", "zk-ens")
    try:
        tg = Ensemble(target_system(), "target-ens")
    except BaseException:
        zk.stop()
        raise
    try:
        zk.wait_settled()
        tg.wait_settled()
    except BaseException:
        zk.stop()
        tg.stop()
        raise
    yield zk, tg
    zk.stop()
    tg.stop()


@pytest.fixture(scope="module", params=TOPOLOGIES)
def pair(request):
    topology = request.param
    if topology == "standalone":
        zk = start_standalone("zookeeper", "zk")
        try:
            tg = start_standalone(target_system(), "target")
        except BaseException:
            zk.stop()
            raise
        wait_all([zk, tg])
        p = Pair(topology, zk, tg, "/ops")
        yield p
        p.close()
        zk.stop()
        tg.stop()
    else:
        zk_ens, tg_ens = request.getfixturevalue("ensembles")
        p = Pair(topology, getattr(zk_ens, topology), getattr(tg_ens, topology), "/ops-" + topology)
        yield p
        p.close()


@pytest.fixture(scope="module")
def whitelist_servers():
    """Standalone pairs for the whitelist checks: {"default": (zk, target), "explicit": (zk, target)}."""
    everyone = []
    try:
        for label, wl in (("wl-default", None), ("wl-explicit", EXPLICIT_WHITELIST)):
            everyone.append(start_standalone("zookeeper", "zk-" + label, wl, admin=False))
            everyone.append(start_standalone(target_system(), "target-" + label, wl, admin=False))
    except BaseException:
        for s in everyone:
            s.stop()
        raise
    wait_all(everyone)
    srvs = {"default": tuple(everyone[0:2]), "explicit": tuple(everyone[2:4])}
    yield srvs
    for s in everyone:
        s.stop()


# ------------------------------------------------------------------ 1. four-letter words


@pytest.mark.parametrize("word", WORDS)
def test_four_letter_word(pair, word):
    """The target's answer has ZooKeeper's structure (lines, keys, value types, order)."""
    zk_out, tg_out = pair.word(word)
    record(pair.topology, word, zk_out, tg_out)
    assert zk_out is not None
    check_text("%s 4lw %s" % (pair.topology, word), zk_out, tg_out)


# ------------------------------------------------------------------ 3. AdminServer


@pytest.mark.parametrize("name", list(ADMIN_COMMANDS))
def test_admin_command(pair, name):
    """GET /commands/<name>: JSON with ZooKeeper's keys (recursively) and JSON types."""
    pair.keepalive()
    zk_resp, tg_resp = pair.admin("/commands/" + name)
    record(pair.topology, "admin /commands/" + name, zk_resp, tg_resp)
    key = "%s admin %s" % (pair.topology, name)
    zk_json, err = parse_json_response(zk_resp)
    assert err is None, "ZooKeeper: " + err
    tg_json, err = parse_json_response(tg_resp)
    if err is not None:
        fail(key, ["target: " + err], "")
    problems = json_problems(zk_json, tg_json)
    if tg_resp[0] != zk_resp[0]:
        problems.insert(0, "HTTP status %s, ZooKeeper %s" % (tg_resp[0], zk_resp[0]))
    if problems:
        fail(key, problems, "--- zookeeper:\n%s\n--- target:\n%s" % (
            json.dumps(zk_json, indent=1)[:6000], json.dumps(tg_json, indent=1)[:6000]))


@pytest.mark.parametrize("pair", ["standalone"], indirect=True)
@pytest.mark.parametrize("alias,name", ADMIN_ALIASES)
def test_admin_alias(pair, alias, name):
    """GET /commands/<alias> answers like the primary name (ZooKeeper: "command": <primary>).
    Checked on the standalone pair only."""
    zk_resp, tg_resp = pair.admin("/commands/" + alias)
    record(pair.topology, "admin /commands/" + alias, zk_resp, tg_resp)
    zk_json, err = parse_json_response(zk_resp)
    assert err is None, "ZooKeeper: " + err
    assert zk_json.get("command") == name
    tg_json, err = parse_json_response(tg_resp)
    key = "%s admin alias %s" % (pair.topology, alias)
    if err is not None:
        fail(key, ["target: " + err], "")
    problems = json_problems(zk_json, tg_json)
    if tg_json.get("command") != name:
        problems.insert(0, '"command" is %r, ZooKeeper answers %r' % (tg_json.get("command"), name))
    if problems:
        fail(key, problems, "")


@pytest.mark.parametrize("pair", ["standalone"], indirect=True)
def test_admin_unknown_command(pair):
    """GET /commands/<unknown>: ZooKeeper answers 200 with {"command": ..., "error": "Unknown command: ..."}.
    Checked on the standalone pair only."""
    zk_resp, tg_resp = pair.admin("/commands/no_such_command")
    record(pair.topology, "admin /commands/no_such_command", zk_resp, tg_resp)
    zk_json, err = parse_json_response(zk_resp)
    assert err is None, "ZooKeeper: " + err
    tg_json, err = parse_json_response(tg_resp)
    if err is not None:
        fail("admin unknown command", ["target: " + err], "")
    problems = json_problems(zk_json, tg_json)
    if tg_resp[0] != zk_resp[0]:
        problems.insert(0, "HTTP status %s, ZooKeeper %s" % (tg_resp[0], zk_resp[0]))
    if tg_json.get("error") != zk_json.get("error"):
        problems.append('"error" is %r, ZooKeeper %r' % (tg_json.get("error"), zk_json.get("error")))
    if problems:
        fail("admin unknown command", problems, "")


def listed_commands(body):
    """Command names in a /commands answer: ZooKeeper's is HTML, one <a href="/commands/x">
    per command; a JSON list/object of names is accepted too."""
    names = set(re.findall(r"/commands/([A-Za-z_]+)", body))
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, (list, dict)):
        names |= {n for n in doc if isinstance(n, str)}
    return names


def test_admin_command_list(pair):
    """GET /commands lists every command of ADMIN_COMMANDS that ZooKeeper lists."""
    zk_resp, tg_resp = pair.admin("/commands")
    record(pair.topology, "admin /commands", zk_resp, tg_resp)
    assert zk_resp[0] == 200, zk_resp
    zk_names = listed_commands(zk_resp[2]) & set(ADMIN_COMMANDS)
    assert zk_names, zk_resp
    if tg_resp[0] != 200:
        fail("%s admin /commands" % pair.topology, ["status %s: %s" % (tg_resp[0], tg_resp[2][:300])], "")
    missing = sorted(zk_names - listed_commands(tg_resp[2]))
    if missing:
        fail("%s admin /commands" % pair.topology, ["not listed: %s" % n for n in missing],
             "--- target:\n%s" % tg_resp[2][:3000])


# ------------------------------------------------------------------ 2. whitelist


def refusal(word):
    return "%s is not executed because it is not in the whitelist.\n" % word


@pytest.mark.parametrize("word", REFUSED_BY_BOTH)
def test_whitelist_default_refusal(whitelist_servers, word):
    """No 4lw.commands.whitelist key: a word outside both default whitelists is refused
    with exactly ZooKeeper's text."""
    zk, tg = whitelist_servers["default"]
    zk_out, tg_out = send_word(zk.port, word), send_word(tg.port, word)
    record("whitelist-default", word, zk_out, tg_out)
    assert zk_out == refusal(word), "ZooKeeper answered %r" % zk_out
    if tg_out != zk_out:
        fail("whitelist default %s" % word, ["answer %r, ZooKeeper %r" % (tg_out, zk_out)], "")


@pytest.mark.parametrize("word", WORDS)
def test_whitelist_explicit(whitelist_servers, word):
    """4lw.commands.whitelist=srvr,ruok: words outside it are refused exactly like ZooKeeper;
    words in it answer with ZooKeeper's structure."""
    zk, tg = whitelist_servers["explicit"]
    zk_out, tg_out = send_word(zk.port, word), send_word(tg.port, word)
    record("whitelist-explicit", word, zk_out, tg_out)
    key = "whitelist explicit %s" % word
    if word in EXPLICIT_WHITELIST.split(","):
        assert zk_out != refusal(word)
        check_text(key, zk_out, tg_out)
    else:
        assert zk_out == refusal(word), "ZooKeeper answered %r" % zk_out
        if tg_out != zk_out:
            fail(key, ["answer %r, ZooKeeper %r" % (tg_out, zk_out)], "")
