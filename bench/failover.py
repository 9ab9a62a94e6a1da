#!/usr/bin/env python3
"""Leader failover time of a 3-node ensemble: kill -9 of the leader -> first successful write.

    bench/failover.py --system zookeeper [--trials 10] [--json]
    bench/failover.py --system corral [--corral-bin target/release/corral] [--trials 10] [--json]

Starts three servers on 127.0.0.1 (free ports, one temp dir each with its own zoo.cfg,
data/myid and log files), with default timing settings: tickTime=2000, initLimit=10,
syncLimit=5. Both systems get the same zoo.cfg; only the command line differs:

    zookeeper: java ... org.apache.zookeeper.server.quorum.QuorumPeerMain <dir>/zoo.cfg
    corral:    CORRAL_BIN server --config <dir>/zoo.cfg

Per trial:
  1. wait until the ensemble is healthy: `srvr` shows one `Mode: leader` and two
     `Mode: follower`, every server accepts a session, and a write succeeds;
  2. a writer (kazoo) connects to the two non-leaders only and does one successful write;
  3. the leader is killed with SIGKILL; t0 is taken right after kill(2) returns;
  4. the writer retries a small set_data on one znode (each attempt with a short timeout,
     a new attempt at once on any error, a new client if the session is lost) until one
     succeeds: t1. Reported: t1 - t0 in ms. kazoo's reconnect loop is set to retry every
     --reconnect-delay seconds without backoff, so it does not inflate the number;
  5. the killed server is restarted (same dir, same ports) before the next trial.

Other options: --attempt-timeout (0.5 s), --reconnect-delay (0.01 s), --settle (1 s pause
once healthy), --healthy-timeout (180 s), --keep, --verbose (kazoo's log on stderr).

Prints one line per trial and median/min/max; with --json only one JSON line on stdout,
{"system": .., "trials": [ms, ..], "median_ms": .., ...}, and progress on stderr.
All servers and temp dirs are removed at the end, also on error, Ctrl-C or SIGTERM
(--keep keeps the dirs for reading the server logs).

Note on the server lines: they are written as `server.N=127.0.0.1:QP:EP;127.0.0.1:CP`.
With a bare `;CP`, ZooKeeper binds the client port on 0.0.0.0 (the client address of the
server line overrides clientPortAddress), and this benchmark binds 127.0.0.1 only.
"""

import argparse
import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat"))
import zkwire  # noqa: E402  (the compat suite's wire helpers)
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionClosedError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZK_JAR = "/usr/share/java/zookeeper.jar"
ZK_CONF_DIR = "/etc/zookeeper/conf"
LOG4J_JARS = ["/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"]
SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"
ZNODE = "/failover-bench"
N_SERVERS = 3


def log(msg):
    sys.stderr.write("[failover %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ------------------------------------------------------------------ small helpers

def pick_ports(n, lo=20000, hi=32000):
    """n distinct ports that bind on 127.0.0.1, below the usual ephemeral range
    (32768+) so that client sockets do not take a port a restarted server needs."""
    ports, held = [], []
    try:
        while len(ports) < n:
            p = random.randrange(lo, hi)
            if p in ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((HOST, p))
            except OSError:
                s.close()
                continue
            held.append(s)
            ports.append(p)
    finally:
        for s in held:
            s.close()
    return ports


def four_letter(port, word, timeout=2.0):
    """Send a four-letter word; the whole answer as text ('' if refused/closed)."""
    return zkwire.four_letter(HOST, port, word, timeout)


def fast_retry(delay):
    """kazoo connection retry: forever, fixed short delay, no backoff, no jitter."""
    return KazooRetry(max_tries=-1, delay=delay, backoff=1, max_jitter=0.0, max_delay=delay)


def quiet_kazoo(verbose):
    lg = logging.getLogger("kazoo")
    lg.propagate = False
    if verbose:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("[kazoo %(asctime)s] %(levelname)s %(message)s"))
        lg.addHandler(h)
        lg.setLevel(logging.INFO)
    else:
        lg.addHandler(logging.NullHandler())
        lg.setLevel(logging.CRITICAL)


def stop_client(c):
    try:
        c.stop()
    except Exception:
        pass
    try:
        c.close()
    except Exception:
        pass


# ------------------------------------------------------------------ the two systems

class System:
    """How to start one server of a system; everything else is shared."""
    name = None

    def prepare(self, node):
        """Write system-specific files into the node's dir (besides zoo.cfg and myid)."""

    def argv(self, node):
        raise NotImplementedError

    def env(self, node):
        return dict(os.environ)


class ZooKeeper(System):
    name = "zookeeper"

    def __init__(self):
        self.java = shutil.which("java")
        if not self.java:
            raise SystemExit("java not found")
        if not os.path.exists(ZK_JAR):
            raise SystemExit("%s not found (apt-get install zookeeper)" % ZK_JAR)
        self.use_log4j = all(os.path.exists(j) for j in LOG4J_JARS)

    def prepare(self, node):
        # log4j 1.2 behind slf4j (the Debian package ships no slf4j binding of its own):
        # INFO and above to <dir>/zookeeper.log. Without the jars, slf4j-simple writes to
        # stderr, which goes to <dir>/server.log.
        with open(os.path.join(node.dir, "log4j.properties"), "w") as f:
            f.write("\n".join([
                "log4j.rootLogger=INFO, FILE",
                "log4j.appender.FILE=org.apache.log4j.FileAppender",
                "log4j.appender.FILE.File=${zookeeper.log.dir}/${zookeeper.log.file}",
                "log4j.appender.FILE.Append=true",
                "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.FILE.layout.ConversionPattern="
                "%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n",
                "",
            ]))

    def argv(self, node):
        cp = [node.dir, ZK_JAR]  # node.dir first: its log4j.properties wins
        if self.use_log4j:
            cp += LOG4J_JARS
        elif os.path.exists(SLF4J_SIMPLE):
            cp.append(SLF4J_SIMPLE)
        return [self.java, "-Xmx512m", "-XX:+UseSerialGC",
                "-Dzookeeper.log.dir=%s" % node.dir,
                "-Dzookeeper.log.file=zookeeper.log",
                "-Dzookeeper.root.logger=INFO,FILE",
                "-Dlog4j.configuration=file:%s" % os.path.join(node.dir, "log4j.properties"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.4lw.commands.whitelist=*",
                "-cp", ":".join(cp),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", node.cfg_path]

    def env(self, node):
        e = dict(os.environ)
        e["ZOO_LOG_DIR"] = node.dir
        e["ZOO_LOG4J_PROP"] = "INFO,FILE"
        return e


class Corral(System):
    name = "corral"

    def __init__(self, binary):
        self.binary = os.path.abspath(binary)
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise SystemExit("corral binary not found or not executable: %s" % self.binary)

    def argv(self, node):
        return [self.binary, "server", "--config", node.cfg_path]


def default_corral_bin():
    if os.environ.get("CORRAL_BIN"):
        return os.environ["CORRAL_BIN"]
    for kind in ("release", "debug"):
        p = os.path.join(REPO, "target", kind, "corral")
        if os.path.exists(p):
            return p
    return os.path.join(REPO, "target", "release", "corral")


# ------------------------------------------------------------------ processes (shared)

class Node:
    """One server: its dir, ports, and the process we started (if any)."""

    def __init__(self, system, sid, base, client_port, quorum_port, election_port):
        self.system = system
        self.sid = sid
        self.dir = os.path.join(base, "server%d" % sid)
        self.data_dir = os.path.join(self.dir, "data")
        self.cfg_path = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "server.log")
        self.client_port = client_port
        self.quorum_port = quorum_port
        self.election_port = election_port
        self.proc = None
        self._log = None
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write("%d\n" % sid)

    @property
    def address(self):
        return "%s:%d" % (HOST, self.client_port)

    def server_line(self):
        return "server.%d=%s:%d:%d;%s:%d" % (self.sid, HOST, self.quorum_port, self.election_port,
                                            HOST, self.client_port)

    def write_config(self, server_lines):
        with open(self.cfg_path, "w") as f:
            f.write("\n".join([
                "tickTime=2000",
                "initLimit=10",
                "syncLimit=5",
                "dataDir=%s" % self.data_dir,
                "clientPort=%d" % self.client_port,
                "clientPortAddress=%s" % HOST,
                "4lw.commands.whitelist=*",
                "admin.enableServer=false",
                "maxClientCnxns=0",
                "metricsProvider.httpPort=0",
            ] + server_lines + [""]))
        self.system.prepare(self)

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        if self._log:
            self._log.close()
        self._log = open(self.log_path, "ab")
        self._log.write(("\n==== failover.py: start %s\n" % time.strftime("%F %T")).encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.system.argv(self), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=self.system.env(self), start_new_session=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL the server process; returns the time right after kill(2) returned."""
        os.kill(self.proc.pid, signal.SIGKILL)
        return time.monotonic()

    def reap(self, timeout=10):
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        """Stop the process we started (it leads its own process group), TERM then KILL."""
        if self.proc is not None and self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log:
            self._log.close()
            self._log = None

    def four(self, word, timeout=2.0):
        try:
            return four_letter(self.client_port, word, timeout)
        except OSError:
            return ""

    def mode(self):
        m = re.search(r"^Mode: *(\S+)", self.four("srvr"), re.M)
        return m.group(1) if m else None

    def log_tail(self, n=30):
        paths = [self.log_path, os.path.join(self.dir, "zookeeper.log")]
        out = []
        for p in paths:
            try:
                with open(p, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
                out.append("--- %s\n%s" % (p, "\n".join(lines[-n:])))
            except OSError:
                pass
        return "\n".join(out)


class Ensemble:
    def __init__(self, system, keep=False, reconnect_delay=0.01, healthy_timeout=180.0,
                 size=N_SERVERS):
        self.system = system
        self.size = size
        self.healthy_timeout = healthy_timeout
        self.keep = keep
        self.reconnect_delay = reconnect_delay
        self.base = tempfile.mkdtemp(prefix="corral-failover-%s-" % system.name)
        self.nodes = []
        try:
            ports = pick_ports(3 * size)
            self.nodes = [Node(system, i + 1, self.base, *ports[3 * i:3 * i + 3])
                          for i in range(size)]
            lines = [n.server_line() for n in self.nodes]
            for n in self.nodes:
                n.write_config(lines)
        except BaseException:
            shutil.rmtree(self.base, ignore_errors=True)
            raise

    def start(self):
        for n in self.nodes:
            n.start()

    def close(self):
        for n in self.nodes:
            n.stop()
        if self.keep:
            log("kept %s" % self.base)
        else:
            shutil.rmtree(self.base, ignore_errors=True)

    def hosts(self, nodes=None):
        return ",".join(n.address for n in (nodes or self.nodes))

    def client(self, nodes=None, timeout=10.0):
        return KazooClient(hosts=self.hosts(nodes), timeout=timeout,
                           connection_retry=fast_retry(self.reconnect_delay))

    def modes(self):
        return {n.sid: n.mode() for n in self.nodes}

    def leader(self):
        leaders = [n for n in self.nodes if n.mode() in ("leader", "standalone")]
        return leaders[0] if len(leaders) == 1 else None

    def _session_ok(self, node):
        c = self.client([node])
        try:
            c.start(timeout=5)
            return True
        except Exception:
            return False
        finally:
            stop_client(c)

    def _write_ok(self):
        c = self.client()
        try:
            c.start(timeout=5)
            c.ensure_path(ZNODE)
            c.set(ZNODE, b"healthy")
            return True
        except Exception:
            return False
        finally:
            stop_client(c)

    def wait_healthy(self, timeout=None):
        """One leader, the others followers, each serving sessions, and a write succeeds."""
        timeout = self.healthy_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for n in self.nodes:
                if not n.alive():
                    raise RuntimeError("server %d exited with %s; log tail:\n%s"
                                       % (n.sid, n.proc.returncode, n.log_tail()))
            modes = self.modes()
            last = modes
            vals = list(modes.values())
            # One server line alone runs standalone, for ZooKeeper and Corral alike.
            settled = (vals == ["standalone"] if self.size == 1 else
                       vals.count("leader") == 1 and vals.count("follower") == self.size - 1)
            if settled:
                if all(self._session_ok(n) for n in self.nodes) and self._write_ok():
                    if self.modes() == modes:
                        return self.leader()
            time.sleep(0.2)
        raise RuntimeError("ensemble not healthy after %.0fs (modes %s); logs:\n%s"
                           % (timeout, last, "\n".join(n.log_tail(15) for n in self.nodes)))


# ------------------------------------------------------------------ the writer

class Writer:
    """A kazoo client on the survivors that retries one small set_data until it succeeds."""

    def __init__(self, ensemble, nodes, attempt_timeout):
        self.ensemble = ensemble
        self.nodes = nodes
        self.attempt_timeout = attempt_timeout
        self.clients = []
        self.client = None
        self._lock = threading.Lock()
        self._done = []  # completion times of successful attempts
        self.attempts = 0
        self.new_clients = 0
        self.errors = {}  # exception class name -> count, for the report

    def _new_client(self, wait=None):
        if self.client is not None:
            old = self.client
            threading.Thread(target=stop_client, args=(old,), daemon=True).start()
        self.client = self.ensemble.client(self.nodes)
        self.clients.append(self.client)
        if wait is None:
            self.client.start_async()  # requests queue up until it is connected
        else:
            self.client.start(timeout=wait)

    def connect_and_write(self, timeout=30.0):
        """Connected, with one successful write done, before the leader is killed."""
        self._new_client(wait=timeout)
        self.client.set(ZNODE, b"before")

    def _on_done(self, ar):
        now = time.monotonic()
        if ar.successful():
            with self._lock:
                self._done.append(now)

    def _first_success(self):
        with self._lock:
            return min(self._done) if self._done else None

    def write_until_success(self, deadline_s=300.0):
        """Returns the time of the first successful write (monotonic)."""
        end = time.monotonic() + deadline_s
        payload = b"after"
        while True:
            t = self._first_success()
            if t is not None:
                return t
            if time.monotonic() > end:
                raise RuntimeError("no successful write within %.0fs after the kill" % deadline_s)
            started = time.monotonic()
            self.attempts += 1
            try:
                ar = self.client.set_async(ZNODE, payload)
                ar.rawlink(self._on_done)
                ar.get(timeout=self.attempt_timeout)
                now = time.monotonic()
                with self._lock:
                    self._done.append(now)
            except KazooTimeoutError:
                self._count("timeout")  # stays queued/in flight; if it succeeds later, it counts
            except (SessionExpiredError, ConnectionClosedError) as e:
                self._count(type(e).__name__)
                self.new_clients += 1
                self._new_client()
            except Exception as e:
                self._count(type(e).__name__)
                # ConnectionLoss, OperationTimeout, ...: retry at once, but do not spin
                # faster than every 5 ms when the failure was immediate.
                if time.monotonic() - started < 0.005:
                    time.sleep(0.005)

    def _count(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1

    def close(self):
        for c in self.clients:
            stop_client(c)


# ------------------------------------------------------------------ main

def run(args):
    system = ZooKeeper() if args.system == "zookeeper" else Corral(args.corral_bin)
    ens = Ensemble(system, keep=args.keep, reconnect_delay=args.reconnect_delay,
                   healthy_timeout=args.healthy_timeout)
    out = sys.stderr if args.json else sys.stdout
    results, details = [], []
    try:
        log("%s ensemble in %s: %s" % (system.name, ens.base,
                                       ", ".join("%d=%s" % (n.sid, n.address) for n in ens.nodes)))
        ens.start()
        t_start = time.monotonic()
        ens.wait_healthy()
        log("healthy after %.1fs, modes %s" % (time.monotonic() - t_start, ens.modes()))
        for i in range(1, args.trials + 1):
            ens.wait_healthy()
            time.sleep(args.settle)
            leader = ens.leader() or ens.wait_healthy()
            survivors = [n for n in ens.nodes if n is not leader]
            writer = Writer(ens, survivors, args.attempt_timeout)
            try:
                writer.connect_and_write()
                t0 = leader.kill9()
                t1 = writer.write_until_success()
            finally:
                writer.close()
            ms = (t1 - t0) * 1000.0
            leader.reap()
            new_modes = {n.sid: n.mode() for n in survivors}
            new_leader = [sid for sid, m in new_modes.items() if m == "leader"]
            results.append(round(ms, 1))
            details.append({"trial": i, "killed": leader.sid,
                            "new_leader": new_leader[0] if new_leader else None,
                            "ms": round(ms, 1), "attempts": writer.attempts,
                            "new_sessions": writer.new_clients, "errors": writer.errors})
            print("trial %2d: killed leader %d -> first write after %8.1f ms "
                  "(new leader %s, %d attempts%s%s)"
                  % (i, leader.sid, ms, new_leader[0] if new_leader else "?", writer.attempts,
                     ", %d new sessions" % writer.new_clients if writer.new_clients else "",
                     "; failed: " + ", ".join("%s x%d" % kv for kv in sorted(writer.errors.items()))
                     if writer.errors else ""),
                  file=out, flush=True)
            leader.start()  # the next trial waits until it has rejoined
    finally:
        # No second Ctrl-C/SIGTERM in the middle of the clean-up.
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            ens.close()
        finally:
            for s, h in old.items():
                signal.signal(s, h)
    summary = {"system": system.name, "trials": results,
               "median_ms": round(statistics.median(results), 1),
               "min_ms": min(results), "max_ms": max(results),
               "details": details}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print("%s: %d trials, median %.1f ms, min %.1f ms, max %.1f ms"
              % (system.name, len(results), summary["median_ms"], summary["min_ms"],
                 summary["max_ms"]), flush=True)
    return summary


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--system", required=True, choices=["zookeeper", "corral"])
    p.add_argument("--corral-bin", default=default_corral_bin(),
                   help="corral binary (default $CORRAL_BIN, else target/release/corral, "
                        "else target/debug/corral)")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    p.add_argument("--attempt-timeout", type=float, default=0.5,
                   help="seconds to wait for one write attempt before issuing another")
    p.add_argument("--reconnect-delay", type=float, default=0.01,
                   help="kazoo reconnect delay after a full pass over the hosts (no backoff)")
    p.add_argument("--settle", type=float, default=1.0,
                   help="seconds to wait after the ensemble is healthy before a trial")
    p.add_argument("--healthy-timeout", type=float, default=180.0,
                   help="seconds to wait for a healthy ensemble (at start and after each restart)")
    p.add_argument("--keep", action="store_true", help="keep the temp dirs (server logs)")
    p.add_argument("--verbose", action="store_true", help="kazoo logging on stderr")
    args = p.parse_args()
    if args.trials < 1:
        p.error("--trials must be at least 1")
    quiet_kazoo(args.verbose)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        run(args)
    except KeyboardInterrupt:
        log("interrupted; servers stopped, temp dirs removed")
        return 130
    except Exception as e:
        log("error: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
