"""Start/stop a real Apache ZooKeeper 3.8 standalone and a Corral standalone for the compat suite.

Both servers get the same zoo.cfg content (only clientPort and dataDir differ).

Environment:
  CORRAL_BIN      path to the corral binary (default /work/main/target/debug/corral)
  COMPAT_TARGET   "corral" (default) or "zookeeper": with "zookeeper" the system under test is a
                  second ZooKeeper instance, which self-checks the suite (ZooKeeper vs ZooKeeper must pass).
  ZK_CLASSPATH    override the Java classpath used to run ZooKeeper.
  COMPAT_KEEP     if set, temp dirs (configs, logs) are kept after the run.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import zkwire

HOST = "127.0.0.1"
DEFAULT_CORRAL_BIN = "/work/main/target/debug/corral"
ZK_JAR = "/usr/share/java/zookeeper.jar"
SUPER_USER, SUPER_PASSWORD = "super", "superpw"
SUPER_DIGEST = zkwire.digest_id(SUPER_USER, SUPER_PASSWORD)
MIN_SESSION_TIMEOUT = 4000
MAX_SESSION_TIMEOUT = 40000
TICK_TIME = 2000
JUTE_MAXBUFFER = 0xFFFFF


_handed_out = set()


def free_port():
    """A port nothing listens on now, and that this process has not handed out before:
    the kernel may give a just-closed port again, and a test that picks a dozen ports
    before starting its servers must not get one twice."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def zoo_cfg(port, data_dir, extra=()):
    """The one zoo.cfg used for both servers; `extra` lines are appended (the same for both)."""
    return "\n".join([
        "tickTime=%d" % TICK_TIME,
        "initLimit=10",
        "syncLimit=5",
        "dataDir=%s" % data_dir,
        "clientPort=%d" % port,
        "clientPortAddress=%s" % HOST,
        "minSessionTimeout=%d" % MIN_SESSION_TIMEOUT,
        "maxSessionTimeout=%d" % MAX_SESSION_TIMEOUT,
        "4lw.commands.whitelist=*",
        "extendedTypesEnabled=true",
        "DigestAuthenticationProvider.superDigest=%s" % SUPER_DIGEST,
        "jute.maxbuffer=%d" % JUTE_MAXBUFFER,
        "admin.enableServer=false",
        "metricsProvider.httpPort=0",
    ] + list(extra) + [""])


def zk_classpath():
    cp = os.environ.get("ZK_CLASSPATH")
    if cp:
        return cp
    parts = ["/etc/zookeeper/conf", ZK_JAR]
    simple = "/usr/share/java/slf4j-simple.jar"
    if os.path.exists(simple):
        parts.append(simple)
    return ":".join(parts)


class Server:
    """A started server process (ZooKeeper or Corral)."""

    def __init__(self, kind, argv, port, workdir, env=None):
        self.kind = kind
        self.name = kind
        self.host = HOST
        self.port = port
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "server.log")
        self.argv = argv
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=workdir,
                                     env=env, start_new_session=True)
        self.pid = self.proc.pid

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def alive(self):
        return self.proc.poll() is None

    def ruok(self, timeout=2.0):
        try:
            return zkwire.four_letter(self.host, self.port, "ruok", timeout) == "imok"
        except OSError:
            return False

    def wait_ready(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("%s exited with %s before it was ready; log tail:\n%s"
                                   % (self.kind, self.proc.returncode, self.log_tail()))
            if self.ruok(1.0) and self._session_ok():
                return self
            time.sleep(0.1)
        raise RuntimeError("%s did not answer ruok within %.0fs; log tail:\n%s" % (self.kind, timeout, self.log_tail()))

    def _session_ok(self):
        # ZooKeeper answers ruok before it serves sessions, so also open a real session.
        # (Only the handshake counts; how closeSession is answered is tested elsewhere.)
        try:
            c = zkwire.ZkConn(self.host, self.port, sock_timeout=2.0)
        except (OSError, zkwire.Closed, zkwire.DecodeError):
            return False
        ok = c.connect_response["timeOut"] > 0
        try:
            c.close_session()
        except (OSError, zkwire.Closed, zkwire.DecodeError):
            pass
        c.close()
        return ok

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def conn(self, **kw):
        return zkwire.ZkConn(self.host, self.port, **kw)

    def stop(self):
        """Stop only the process we started (by pid; it leads its own process group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.proc.wait(10)
        self._log.close()
        if not os.environ.get("COMPAT_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def _workdir(kind):
    d = tempfile.mkdtemp(prefix="corral-compat-%s-" % kind)
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    return d


def start_zookeeper(label="zookeeper", extra_cfg=(), jvm_flags=()):
    """`jvm_flags` are -D words, given to ZooKeeper on its command line and to Corral in
    SERVER_JVMFLAGS, the variable zkServer.sh passes to the JVM."""
    if not os.path.exists(ZK_JAR) and not os.environ.get("ZK_CLASSPATH"):
        pytest.skip("Apache ZooKeeper is not installed (%s missing); run compat/run.sh" % ZK_JAR)
    java = shutil.which("java")
    if not java:
        pytest.skip("java is not installed")
    work = _workdir("zk")
    port = free_port()
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(zoo_cfg(port, os.path.join(work, "data"), extra_cfg))
    argv = [java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.4lw.commands.whitelist=*",
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=%s" % SUPER_DIGEST,
            "-Djute.maxbuffer=%d" % JUTE_MAXBUFFER,
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        ] + list(jvm_flags) + [
            "-cp", zk_classpath(),
            "org.apache.zookeeper.server.ZooKeeperServerMain", cfg]
    srv = Server("zookeeper", argv, port, work)
    srv.name = label
    try:
        return srv.wait_ready()
    except Exception:
        srv.stop()
        raise


def corral_bin():
    return os.environ.get("CORRAL_BIN", DEFAULT_CORRAL_BIN)


def start_corral(extra_cfg=(), jvm_flags=()):
    binary = corral_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.skip("Corral binary not found at %s (set CORRAL_BIN or build it); Corral side skipped" % binary)
    work = _workdir("corral")
    port = free_port()
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write(zoo_cfg(port, os.path.join(work, "data"), extra_cfg))
    env = None
    if jvm_flags:
        env = dict(os.environ, SERVER_JVMFLAGS=" ".join(jvm_flags))
    srv = Server("corral", [binary, "server", "--config", cfg], port, work, env=env)
    try:
        return srv.wait_ready(30)
    except Exception:
        srv.stop()
        raise


def target_kind():
    return os.environ.get("COMPAT_TARGET", "corral").lower()


def start_target(extra_cfg=(), jvm_flags=()):
    """The system under test: Corral, or a second ZooKeeper when COMPAT_TARGET=zookeeper."""
    if target_kind() in ("zookeeper", "zk"):
        return start_zookeeper("zookeeper-target", extra_cfg, jvm_flags)
    return start_corral(extra_cfg, jvm_flags)


def _server_fixture(starter):
    srv = starter()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def zk_server():
    yield from _server_fixture(start_zookeeper)


@pytest.fixture(scope="module")
def target_server():
    yield from _server_fixture(start_target)


@pytest.fixture(scope="module", params=["zookeeper", "target"])
def any_server(request):
    """Parametrize a module over the reference ZooKeeper and the system under test."""
    yield from _server_fixture(start_zookeeper if request.param == "zookeeper" else start_target)
