"""`corral supervise`, Exhibitor's supervision for one server: it starts the server,
logs Exhibitor's activity lines, restarts the server after kill -9, and stops it with
itself. And systemd's notify protocol on the server: READY=1 once it listens, WATCHDOG=1
at half of WATCHDOG_USEC, none while the process is stopped (SIGSTOP), and STOPPING=1."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import servers
import zkwire


def wait_for(lines, pattern, start=0, timeout=60.0):
    """The index of the first line at or after `start` matching `pattern`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i in range(start, len(lines)):
            if re.search(pattern, lines[i]):
                return i
        time.sleep(0.05)
    raise AssertionError("no line matching %r after line %d in:\n%s" % (pattern, start, "\n".join(lines)))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def standalone_cfg(prefix):
    """A temp dir with a standalone server's zoo.cfg in it: (dir, client port, zoo.cfg)."""
    root = tempfile.mkdtemp(prefix=prefix)
    port = servers.free_port()
    cfg = os.path.join(root, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(servers.zoo_cfg(port, os.path.join(root, "data")))
    return root, port, cfg


def test_supervise_restarts_a_server_killed_with_sigkill():
    root, port, cfg = standalone_cfg("corral-supervise-")
    log = open(os.path.join(root, "server.log"), "wb")
    sup = subprocess.Popen([servers.corral_bin(), "supervise", "--config", cfg, "--check-ms", "200"],
                           stdout=subprocess.PIPE, stderr=log, start_new_session=True, text=True)
    lines = []
    reader = threading.Thread(target=lambda: [lines.append(l.rstrip("\n")) for l in sup.stdout], daemon=True)
    reader.start()
    first_pid = None
    try:
        started = wait_for(lines, r"\tINFO\tProcess started via: .* server --config .* \(pid \d+\)$")
        first_pid = int(re.search(r"\(pid (\d+)\)", lines[started]).group(1))
        up = wait_for(lines, r"\tINFO\tState: serving$", started)
        # Java's Date.toString(), then a tab, the type and the text.
        assert re.match(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}\tINFO\t", lines[up]), lines[up]
        os.kill(first_pid, signal.SIGKILL)
        down = wait_for(lines, r"\tINFO\tState: down", up)
        again = wait_for(lines, r"\tINFO\tProcess started via: .*\(pid \d+\)$", down)
        second_pid = int(re.search(r"\(pid (\d+)\)", lines[again]).group(1))
        assert second_pid != first_pid
        wait_for(lines, r"\tINFO\tState: serving$", again)
        c = zkwire.ZkConn(servers.HOST, port, timeout_ms=10000)
        assert c.create("/after-restart", b"x").err == 0
        c.close()
        os.killpg(sup.pid, signal.SIGTERM)
        assert sup.wait(30) == 0
        reader.join(5)
        assert lines[-1].endswith("\tINFO\tCorral supervisor stopped"), lines[-3:]
        deadline = time.monotonic() + 10
        while alive(second_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(second_pid), "the supervised server outlived its supervisor"
    finally:
        if sup.poll() is None:
            os.killpg(sup.pid, signal.SIGKILL)
            sup.wait(10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def test_the_server_speaks_systemd_s_notify_and_watchdog_protocol():
    root, _, cfg = standalone_cfg("corral-notify-")
    path = os.path.join(root, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
    log = open(os.path.join(root, "server.log"), "wb")
    srv = subprocess.Popen([servers.corral_bin(), "server", "--config", cfg], stdout=log, stderr=log,
                           env=env, start_new_session=True)

    def receive(timeout):
        sock.settimeout(timeout)
        try:
            return sock.recv(4096).decode()
        except socket.timeout:
            return None

    try:
        ready = receive(60)
        assert ready is not None and "READY=1" in ready.splitlines(), ready
        assert "MAINPID=%d" % srv.pid in ready.splitlines(), ready
        pings = [receive(2) for _ in range(3)]
        assert pings == ["WATCHDOG=1"] * 3, pings
        os.kill(srv.pid, signal.SIGSTOP)
        time.sleep(0.3)
        while receive(0.05) is not None:
            pass  # what was sent before the stop
        assert receive(1.5) is None, "a stopped server pinged its watchdog"
        os.kill(srv.pid, signal.SIGCONT)
        assert receive(2) == "WATCHDOG=1"
        os.kill(srv.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline:
            m = receive(1)
            if m is None:
                break
            seen.append(m)
            if m == "STOPPING=1":
                break
        assert "STOPPING=1" in seen, seen
        assert srv.wait(15) == 0
    finally:
        if srv.poll() is None:
            os.kill(srv.pid, signal.SIGCONT)
            os.killpg(srv.pid, signal.SIGKILL)
            srv.wait(10)
        log.close()
        sock.close()
        shutil.rmtree(root, ignore_errors=True)
