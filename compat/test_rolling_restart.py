"""kazoo, the Java client library and zkCli.sh, each given all three servers of a Corral ensemble
in its connect string, run the client scripts of test_clients.py over and over while the
servers are restarted one at a time (a rolling restart, as operators upgrade an ensemble).

A client whose own server goes down sees ConnectionLoss for the requests in flight, with Corral
as with ZooKeeper; a run that meets one is repeated on a fresh path. Any other failure fails the
test, and so does a restart that no run overlapped.

Every case runs twice: on a plaintext ensemble, and on one whose members speak TLS to
each other (sslQuorum=true, issue 15's Done-when 2), where a plaintext peer is refused.
"""

import os
import shutil
import socket
import threading
import time

import pytest

from ensemble import Ensemble
from test_clients import ZKCLI, compile_multi_check, kazoo_script, run_multi_check, zkcli_script

RETRYABLE = ("ConnectionLoss", "ConnectionClosed", "connection loss", "SessionMoved")


@pytest.fixture(scope="module", params=["plain", "sslQuorum"])
def ensemble(request):
    e = Ensemble(3, ssl_quorum=request.param == "sslQuorum")
    try:
        yield e.start()
    finally:
        e.stop()


class Restarter(threading.Thread):
    """Restarts each server in turn: SIGTERM, a pause, start, and wait for the ensemble."""

    def __init__(self, ensemble, pause=2.0):
        super().__init__(daemon=True)
        self.ensemble = ensemble
        self.pause = pause
        self.done = threading.Event()
        self.restarts = []  # (myid, start, end) in monotonic seconds
        self.error = None

    def run(self):
        try:
            for m in self.ensemble.members:
                began = time.monotonic()
                m.stop()
                time.sleep(self.pause)
                m.start()
                self.ensemble.wait_settled()
                self.restarts.append((m.myid, began, time.monotonic()))
        except Exception as e:  # noqa: BLE001
            self.error = e
        finally:
            self.done.set()


def _during_restart(ensemble, run_once, label, pause=2.0):
    """Runs `run_once(base)` until the rolling restart ends; every run passes or meets only
    connection loss. Returns (passed, retried)."""
    restarter = Restarter(ensemble, pause)
    restarter.start()
    passed, retried, spans = 0, 0, []
    n = 0
    while not restarter.done.is_set() or passed == 0:
        n += 1
        base = "/%s-%d-%d" % (label, os.getpid(), n)
        began = time.monotonic()
        try:
            run_once(base)
            passed += 1
            spans.append((began, time.monotonic()))
        except Exception as e:  # noqa: BLE001
            if not any(word in repr(e) or word in type(e).__name__ for word in RETRYABLE):
                raise
            retried += 1
        assert n < 200, "too many runs"
    restarter.join()
    assert restarter.error is None, restarter.error
    assert len(restarter.restarts) == len(ensemble.members)
    for myid, start, end in restarter.restarts:
        assert any(b < end and e > start for b, e in spans), \
            "no %s run overlapped the restart of server %d" % (label, myid)
    ensemble.wait_settled()
    return passed, retried


def test_kazoo_through_rolling_restart(ensemble):
    pytest.importorskip("kazoo.client")
    def once(base):
        kazoo_script(ensemble.hosts, base, servers_restart=True)

    passed, retried = _during_restart(ensemble, once, "kazoo")
    assert passed >= 3, (passed, retried)


def test_java_client_through_rolling_restart(ensemble, tmp_path):
    classpath = compile_multi_check(tmp_path)

    def once(base):
        out = run_multi_check(classpath, ensemble.hosts, base)
        if "done" not in out or "FAILED" in out:
            raise AssertionError("Java ZooKeeper.multi:\n" + out)

    passed, retried = _during_restart(ensemble, once, "jmulti", pause=5.0)
    assert passed >= 1, (passed, retried)


def test_zkcli_through_rolling_restart(ensemble):
    if not os.path.exists(ZKCLI) or not shutil.which("java"):
        pytest.skip("zkCli.sh / java not installed")

    def once(base):
        try:
            zkcli_script(ensemble.hosts, base)
        except AssertionError as e:
            # zkCli prints the loss of its connection and carries on with the next command.
            if "ConnectionLoss" in str(e) or "CONNECTING" in str(e):
                raise ConnectionError("ConnectionLoss in zkCli") from e
            raise

    # A zkCli run takes seconds (a JVM starts each time): keep each server down long
    # enough for whole runs to happen while it is.
    passed, retried = _during_restart(ensemble, once, "zkcli", pause=8.0)
    assert passed >= 1, (passed, retried)


def test_quorum_port_takes_only_what_the_ensemble_speaks(ensemble):
    """On a TLS quorum, a peer that speaks plaintext is closed before a frame is read and
    named in a warning, and the ensemble keeps its leader; a plain quorum has no TLS."""
    for m in ensemble.members:
        assert ("quorum TLS: sslQuorum=true" in m.log()) == ensemble.ssl_quorum, m.myid
    if not ensemble.ssl_quorum:
        return
    for m in ensemble.members:
        with socket.create_connection(("127.0.0.1", m.quorum_port), timeout=20) as s:
            local = "%s:%d" % s.getsockname()
            s.sendall(b"\0\0\0\x03\x08\x01\x02")  # a member's Hello, in plaintext
            try:
                answer = s.recv(64)
            except ConnectionResetError:  # closed with the Hello unread
                answer = b""
            assert answer == b"", "a plaintext peer was answered"
        needle = "refused a peer connection from %s: its first byte 0x00" % local
        deadline = time.monotonic() + 20
        while needle not in m.log():
            assert time.monotonic() < deadline, "no warning %r" % needle
            time.sleep(0.1)
    ensemble.wait_settled()
