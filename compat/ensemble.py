"""A 3-server Corral ensemble on 127.0.0.1 for the compat suite, started from one zoo.cfg
per server with every server.N line and a myid file, as an operator starts ZooKeeper.

With ssl_quorum=True the members speak TLS to each other (sslQuorum=true): one CA made
with the openssl command signs a certificate per member (docs/security.md's commands),
and each member's zoo.cfg names its PEM key store and the CA as its trust store."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import zkwire
from servers import HOST, corral_bin, free_port, zoo_cfg


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def quorum_pki(root, size):
    """A CA and one PEM key store (certificate, then key) per member, for 127.0.0.1; the
    CA's path and the key stores' paths."""
    os.makedirs(root)
    ca_key, ca = os.path.join(root, "ca.key"), os.path.join(root, "ca.pem")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=Quorum CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ext = os.path.join(root, "member.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:%s\n" % HOST)
    stores = []
    for i in range(1, size + 1):
        key, csr, crt = (os.path.join(root, "member-%d.%s" % (i, s)) for s in ("key", "csr", "crt"))
        openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=member-%d" % i)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", str(i),
                "-days", "2", "-extfile", ext, "-out", crt)
        store = os.path.join(root, "member-%d.pem" % i)
        with open(store, "wb") as out:
            for part in (crt, key):
                with open(part, "rb") as f:
                    out.write(f.read())
        stores.append(store)
    return ca, stores


class Member:
    def __init__(self, myid, workdir, client_port, quorum_port):
        self.myid = myid
        self.workdir = workdir
        self.port = client_port
        self.quorum_port = quorum_port
        self.proc = None
        self.runs = 0

    def log(self):
        """Every run's log, oldest first."""
        text = ""
        for n in range(1, self.runs + 1):
            with open(os.path.join(self.workdir, "server-%d.log" % n), errors="replace") as f:
                text += f.read()
        return text

    @property
    def address(self):
        return "%s:%d" % (HOST, self.port)

    def start(self):
        self.runs += 1
        log = open(os.path.join(self.workdir, "server-%d.log" % self.runs), "wb")
        self.proc = subprocess.Popen([corral_bin(), "server", "--config", os.path.join(self.workdir, "zoo.cfg")],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def stop(self, sig=signal.SIGTERM):
        """Stops only the process we started, by its pid."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        self.proc = None

    def mode(self):
        try:
            text = zkwire.four_letter(HOST, self.port, "srvr", 2.0)
        except OSError:
            return None
        m = re.search(r"^Mode: (\S+)", text, re.M)
        return m.group(1) if m else None


class Ensemble:
    def __init__(self, size=3, ssl_quorum=False, extra_cfg=None):
        """`extra_cfg(i)`, if given, returns zoo.cfg lines for the member of index i."""
        self.root = tempfile.mkdtemp(prefix="corral-compat-ensemble-")
        self.ssl_quorum = ssl_quorum
        ports = [(free_port(), free_port(), free_port()) for _ in range(size)]
        servers = "".join("server.%d=%s:%d:%d;%s:%d\n" % (i + 1, HOST, q, e, HOST, c)
                          for i, (c, q, e) in enumerate(ports))
        tls = [""] * size
        if ssl_quorum:
            ca, stores = quorum_pki(os.path.join(self.root, "pki"), size)
            tls = ["sslQuorum=true\nssl.quorum.keyStore.location=%s\nssl.quorum.trustStore.location=%s\n"
                   % (store, ca) for store in stores]
        self.members = []
        for i, (client, quorum, _) in enumerate(ports):
            work = os.path.join(self.root, "s%d" % (i + 1))
            data = os.path.join(work, "data")
            os.makedirs(data)
            with open(os.path.join(data, "myid"), "w") as f:
                f.write("%d\n" % (i + 1))
            with open(os.path.join(work, "zoo.cfg"), "w") as f:
                extra = extra_cfg(i) if extra_cfg else ""
                f.write(zoo_cfg(client, data) + tls[i] + extra + servers)
            self.members.append(Member(i + 1, work, client, quorum))

    @property
    def hosts(self):
        return ",".join(m.address for m in self.members)

    def start(self):
        for m in self.members:
            m.start()
        self.wait_settled()
        return self

    def wait_settled(self, timeout=60.0):
        """Waits for one leader and every other running member following; the leader's index."""
        deadline = time.monotonic() + timeout
        while True:
            modes = [m.mode() for m in self.members if m.proc is not None]
            if modes.count("leader") == 1 and modes.count("follower") == len(modes) - 1:
                return [m.mode() for m in self.members].index("leader")
            if time.monotonic() > deadline:
                raise AssertionError("ensemble did not settle: %s\n%s" % (modes, self.diagnosis()))
            time.sleep(0.1)

    def diagnosis(self, lines=12):
        """Each member's exit status and the end of its log, for a failure's message."""
        out = []
        for m in self.members:
            status = None if m.proc is None else m.proc.poll()
            tail = m.log().splitlines()[-lines:] if m.runs else []
            out.append("member %d (client %d, quorum %d): exit %s\n  %s"
                       % (m.myid, m.port, m.quorum_port, status, "\n  ".join(tail)))
        return "\n".join(out)

    def stop(self):
        for m in self.members:
            m.stop()
        if not os.environ.get("COMPAT_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
