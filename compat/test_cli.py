"""`corral cli` against a real Corral server: the interactive shell through a pseudo-terminal
(compared line by line with zkCli.sh running the same commands against the same state),
completion of a znode path, history kept across runs, a watch event printed while the shell
waits, and one-shot commands with --json checked by a JSON parser."""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

from servers import corral_bin, start_corral
from test_clients import ZKCLI

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# One session's commands; the state they build is the same whichever shell runs them.
SCRIPT = [
    "create /cli hello",
    "create /cli/child c",
    "create -e /cli/eph e",
    "create -s /cli/seq- s",
    "ls /cli",
    "get /cli",
    "set /cli world",
    "get -s /cli",
    "stat /cli/child",
    "getAcl /cli",
    "setAcl /cli world:anyone:cdrwa",
    "ls -R /cli",
    "getAllChildrenNumber /cli",
    "getEphemerals /cli",
    "addauth digest alice:pw",
    "whoami",
    "delete /cli/missing",
    "set -v 99 /cli x",
    "create /cli hello",
    "delete /cli",
    "sync /cli",
    "set -s /cli again",
    "create /cli/v v",
    "delete -v 5 /cli/v",
    "delete -v 0 /cli/v",
    "setAcl -s -v 1 /cli world:anyone:cdrwa",
    "config -s",
    "ls -w /cli",
    "stat -w /cli",
    "get -w /cli/child",
    "printwatches off",
    "printwatches on",
    "addWatch /cli",
    "addWatch -m PERSISTENT /cli/child",
    "removewatches /cli",
    "create -c /cli/container",
    "create -t 60000 /cli/ttl t",
    "setAcl -R /cli world:anyone:cdrwa",
    "getAcl -s /cli/child",
    "config",
    "deleteall -b 10 /cli",
    "reconfig -remove 3",
    "ls /",
]


class Pty:
    """`corral cli` on a pseudo-terminal."""

    def __init__(self, server, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(env or {})
            os.execv(corral_bin(), [corral_bin(), "cli", "-server", server])
        self.buf = ""
        self.expect(r"\] $")

    def read(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    self.buf += os.read(self.fd, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        return self.buf

    def expect(self, pattern, timeout=15.0):
        end = time.time() + timeout
        while time.time() < end:
            text = ANSI.sub("", self.buf).replace("\r", "")
            if re.search(pattern, text):
                return text
            self.read(0.1)
        raise AssertionError("no %r in:\n%s" % (pattern, ANSI.sub("", self.buf)))

    def run(self, line, timeout=15.0):
        """Sends one line; returns what it printed before the next prompt."""
        self.buf = ""
        os.write(self.fd, line.encode() + b"\r")
        text = self.expect(r"\[zk: [^\]]*\] $", timeout)
        body = text.split("\n", 1)[1] if "\n" in text else ""
        return body.rsplit("[zk:", 1)[0]

    def close(self):
        """quit (after clearing whatever is on the line); killed if it does not exit."""
        try:
            os.write(self.fd, b"\x15quit\r")
            deadline = time.time() + 15
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.time() > deadline:
                    os.kill(self.pid, 9)
                    os.waitpid(self.pid, 0)
                    raise AssertionError("the shell did not quit")
                self.read(0.1)
        except ChildProcessError:
            pass
        finally:
            os.close(self.fd)


def normalize(text):
    """Values that differ between runs (times, zxids, session ids) become placeholders."""
    out = []
    for line in text.replace("\r", "").split("\n"):
        line = re.sub(r"^(ctime|mtime) = .*", r"\1 = <time>", line)
        line = re.sub(r"0x[0-9a-f]+", "<hex>", line)
        out.append(line)
    return "\n".join(out).strip("\n")


def zkcli_outputs(address, script):
    """zkCli.sh's answer to each command. Without a terminal it prints no prompt, so a
    `stat` of a missing marker node after each command marks where the answer ends."""
    marked = []
    for i, line in enumerate(script):
        marked += [line, "stat /__end_%d" % i]
    env = dict(os.environ)
    env.setdefault("JVMFLAGS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m")
    # zkCli prints errors on stderr and the rest on stdout: one stream keeps their order.
    p = subprocess.run([ZKCLI, "-server", address], input="\n".join(marked + ["quit"]) + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env=env)
    text = p.stdout
    text = text.split("WatchedEvent state:SyncConnected type:None path:null", 1)[-1]
    text = "\n".join(l for l in text.split("\n")
                     if not re.search(r"\b(INFO|WARN|ERROR)\b|^SLF4J", l))
    parts = re.split(r"Node does not exist: /__end_\d+\n", text.lstrip("\n"))
    return parts[:len(script)]


@pytest.fixture(scope="module")
def servers():
    a, b = start_corral(), start_corral()
    yield a, b
    a.stop()
    b.stop()


def test_shell_prints_what_zkcli_prints(servers):
    if not os.path.exists("/usr/share/zookeeper/bin/zkCli.sh") or not shutil.which("java"):
        pytest.skip("zkCli.sh / java not installed")
    ours_srv, theirs_srv = servers
    shell = Pty(ours_srv.address)
    try:
        ours = [shell.run(line.format(address=ours_srv.address)) for line in SCRIPT]
    finally:
        shell.close()
    theirs = zkcli_outputs(theirs_srv.address, [l.format(address=theirs_srv.address) for l in SCRIPT])
    assert len(theirs) == len(SCRIPT), theirs
    differences = []
    for line, o, t in zip(SCRIPT, ours, theirs):
        # zkCli's own log lines are not command output.
        t = "\n".join(l for l in t.replace("\r", "").split("\n") if not re.search(r"\b(INFO|WARN|ERROR)\b", l))
        o, t = normalize(o), normalize(t)
        if line.startswith("removewatches"):
            # zkCli keeps the removed kinds in a HashMap keyed by an enum, whose
            # identity hash changes with every JVM: its order is not ZooKeeper's
            # behaviour, so only the set of events is compared.
            o, t = sorted(o.split("\n")), sorted(t.split("\n"))
        if o != t:
            differences.append("%s\n  corral: %r\n  zkCli:  %r" % (line, o, t))
    assert not differences, "differences from zkCli.sh:\n" + "\n".join(differences)


def test_completion_history_and_watch_events(servers, tmp_path):
    srv = servers[0]
    history = str(tmp_path / "history")
    shell = Pty(srv.address, {"CORRAL_CLI_HISTORY": history})
    try:
        shell.run("create /completion-target x")
        shell.buf = ""
        os.write(shell.fd, b"get /completion-ta\t")
        shell.expect(r"get /completion-target")
        os.write(shell.fd, b"\r")
        shell.expect(r"\nx\n")
        # A watch set in the shell fires while it waits for input.
        shell.run("get -w /completion-target")
        subprocess.run([corral_bin(), "cli", "-server", srv.address, "set", "/completion-target", "y"],
                       check=True, capture_output=True, timeout=30)
        shell.expect(r"WatchedEvent state:SyncConnected type:NodeDataChanged path:/completion-target")
    finally:
        shell.close()
    # history numbers the commands; redo runs one again (zkCli's numbering: from 0).
    shell = Pty(srv.address, {"CORRAL_CLI_HISTORY": history})
    try:
        shell.run("create /redo-me r")
        shell.run("delete /redo-me")
        listed = shell.run("history")
        assert re.search(r"^0 - create /redo-me r$", listed, re.M), listed
        assert re.search(r"^1 - delete /redo-me$", listed, re.M), listed
        assert shell.run("redo 0") == "Created /redo-me\n"
        # close ends the session; connect opens a new one.
        assert "state:Closed" in shell.run("close")
        assert shell.run("ls /") == "Not connected\n"
        assert "state:SyncConnected" in shell.run("connect %s" % srv.address)
        assert "redo-me" in shell.run("ls /")
    finally:
        shell.close()
    with open(history) as f:
        saved = f.read()
    assert "get -w /completion-target" in saved and "connect " in saved, saved
    # A new shell starts with the old history: the up arrow brings the last command back.
    again = Pty(srv.address, {"CORRAL_CLI_HISTORY": history})
    try:
        os.write(again.fd, b"\x1b[A\x1b[A")
        again.expect(r"\] connect 127\.0\.0\.1:\d+")
    finally:
        again.close()


def test_one_shot_json(servers):
    srv = servers[0]

    def cli(*args, ok=True):
        p = subprocess.run([corral_bin(), "cli", "-server", srv.address] + list(args),
                           capture_output=True, text=True, timeout=30)
        assert (p.returncode == 0) == ok, (args, p.stdout, p.stderr)
        return p.stdout

    assert cli("create", "/json", "data") == "Created /json\n"
    cli("create", "/json/a", "1")
    got = json.loads(cli("--json", "get", "-s", "/json"))
    assert got["data"] == "data" and got["stat"]["numChildren"] == 1, got
    listed = json.loads(cli("--json", "ls", "-s", "/json"))
    assert listed["children"] == ["a"] and listed["stat"]["dataLength"] == 4, listed
    stat = json.loads(cli("--json", "stat", "/json/a"))
    assert stat["stat"]["dataLength"] == 1, stat
    acl = json.loads(cli("--json", "getAcl", "/json"))
    assert acl["acl"] == [{"scheme": "world", "id": "anyone", "perms": "cdrwa"}], acl
    count = json.loads(cli("--json", "getAllChildrenNumber", "/json"))
    assert count["count"] == 1, count
    assert "Node does not exist: /json/none" in cli("get", "/json/none", ok=False)
