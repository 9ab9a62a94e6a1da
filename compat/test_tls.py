"""Client TLS against a real Corral: certificates made with the openssl command, real
clients (kazoo, openssl s_client, a raw TLS socket speaking the wire protocol).

Covers issue 15's Done-when points 1 (kazoo and s_client over TLS, plaintext refused
on the TLS port), 4 (x509 identities and ACLs) and 6 (new certificates without a
restart), plus client.portUnification and ssl.handshakeDetectionTimeoutMillis.
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, Permissions

import zkwire
from servers import HOST, Server, corral_bin, free_port, zoo_cfg

ALICE_DN = "CN=alice,OU=eng,O=corp"
ROOT_DN = "CN=root,OU=ops,O=corp"


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, **kw)


class Pki:
    """A CA, a server certificate for 127.0.0.1/localhost, and client certificates."""

    def __init__(self, root):
        self.root = root
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=Corral Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.server = self.issue("server", "/CN=localhost",
                                 "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        for name, subj in [("alice", "/O=corp/OU=eng/CN=alice"), ("bob", "/O=corp/OU=eng/CN=bob"),
                           ("root", "/O=corp/OU=ops/CN=root")]:
            self.issue(name, subj, "extendedKeyUsage=clientAuth\n")
        # ZooKeeper's PEM key store: the certificate chain and the key in one file.
        self.key_store = self.path("keystore.pem")
        self.write_key_store()

    def path(self, name):
        return os.path.join(self.root, name)

    def issue(self, name, subject, extensions):
        key, csr, crt, ext = (self.path(name + s) for s in (".key", ".csr", ".crt", ".ext"))
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", csr, "-subj", subject)
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" + extensions)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-set_serial",
                str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-extfile", ext, "-out", crt)
        return crt

    def write_key_store(self):
        """Writes the key store in place, over the old file, as `cat > keystore.pem` does."""
        parts = []
        for part in (self.path("server.crt"), self.path("server.key")):
            with open(part, "rb") as f:
                parts.append(f.read())
        with open(self.key_store, "wb") as out:
            out.write(b"".join(parts))

    def serial(self, crt):
        return openssl("x509", "-noout", "-serial", "-in", crt).stdout.decode().strip()

    def client(self, name):
        return {"certfile": self.path(name + ".crt"), "keyfile": self.path(name + ".key"), "ca": self.ca}


@pytest.fixture(scope="module")
def pki():
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is not installed")
    root = tempfile.mkdtemp(prefix="corral-tls-pki-")
    yield Pki(root)
    shutil.rmtree(root, ignore_errors=True)


def write_cfg(pki, work, port, extra, plaintext=True):
    """The compat suite's zoo.cfg with the TLS files, `extra` lines, and without
    clientPort when `plaintext` is false."""
    lines = zoo_cfg(port, os.path.join(work, "data")).split("\n")
    if not plaintext:
        lines = [l for l in lines if not l.startswith("clientPort=")]
    cfg = os.path.join(work, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("\n".join(lines))
        f.write("\n".join([
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
            "ssl.keyStore.location=%s" % pki.key_store, "ssl.keyStore.type=PEM",
            "ssl.trustStore.location=%s" % pki.ca, "ssl.trustStore.type=PEM",
            "X509AuthenticationProvider.superUser=%s" % ROOT_DN,
            *extra, ""]))
    return cfg


def start(pki, extra):
    binary = corral_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.skip("Corral binary not found at %s (set CORRAL_BIN)" % binary)
    work = tempfile.mkdtemp(prefix="corral-tls-")
    os.makedirs(os.path.join(work, "data"))
    port = free_port()
    cfg = write_cfg(pki, work, port, extra)
    srv = Server("corral", [binary, "server", "--config", cfg], port, work)
    try:
        return srv.wait_ready(30)
    except Exception:
        srv.stop()
        raise


@pytest.fixture(scope="module")
def secure(pki):
    """A Corral with a plaintext clientPort and a TLS-only secureClientPort."""
    sport = free_port()
    srv = start(pki, ["secureClientPort=%d" % sport, "ssl.clientAuth=need",
                      "ssl.handshakeDetectionTimeoutMillis=1500"])
    srv.secure_port = sport
    yield srv
    srv.stop()


def kazoo(pki, port, who):
    zk = KazooClient(hosts="%s:%d" % (HOST, port), use_ssl=True, verify_certs=True, timeout=10,
                     **pki.client(who))
    zk.start(timeout=20)
    return zk


def tls_wire(pki, port, who):
    """A zkwire session over a TLS socket, for requests kazoo does not send (whoAmI)."""
    ctx = ssl.create_default_context(cafile=pki.ca)
    if who:
        ctx.load_cert_chain(pki.path(who + ".crt"), pki.path(who + ".key"))
    conn = zkwire.ZkConn(HOST, port, connect=False)
    raw = socket.create_connection((HOST, port), timeout=10)
    conn.sock = ctx.wrap_socket(raw, server_hostname="localhost")
    conn.handshake()
    return conn


def s_client(pki, port, text=b"", who="alice"):
    return subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-quiet", "-CAfile", pki.ca,
         "-cert", pki.path(who + ".crt"), "-key", pki.path(who + ".key")],
        input=text, capture_output=True, timeout=30)


def served_serial(pki, port):
    shown = subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-CAfile", pki.ca,
         "-cert", pki.path("alice.crt"), "-key", pki.path("alice.key")],
        input=b"", capture_output=True, timeout=30).stdout
    return subprocess.run(["openssl", "x509", "-noout", "-serial"], input=shown, capture_output=True,
                          check=True).stdout.decode().strip()


def test_kazoo_creates_reads_and_watches_over_tls(pki, secure):
    zk = kazoo(pki, secure.secure_port, "alice")
    try:
        zk.create("/tls-node", b"over tls")
        data, stat = zk.get("/tls-node")
        assert data == b"over tls"
        seen = []
        zk.get("/tls-node", watch=seen.append)
        zk.set("/tls-node", b"changed")
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen and seen[0].path == "/tls-node" and seen[0].type == "CHANGED"
    finally:
        zk.stop()
        zk.close()


def test_four_letter_words_answer_over_tls(pki, secure):
    done = s_client(pki, secure.secure_port, b"ruok")
    assert done.stdout == b"imok", done.stderr


def test_conf_names_the_secure_client_port(secure):
    conf = zkwire.four_letter(HOST, secure.port, "conf", 5)
    assert "secureClientPort=%d\n" % secure.secure_port in conf, conf


def test_plaintext_client_on_the_tls_port_is_closed_and_logged(secure):
    conn = zkwire.ZkConn(HOST, secure.secure_port, connect=False)
    conn.open_socket()
    with pytest.raises(zkwire.Closed):
        conn.handshake()
    deadline = time.monotonic() + 10
    while "is not a TLS ClientHello" not in secure.log_tail(200) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "is not a TLS ClientHello" in secure.log_tail(200)


def test_a_client_without_a_certificate_is_refused_when_client_auth_is_need(pki, secure):
    ctx = ssl.create_default_context(cafile=pki.ca)
    raw = socket.create_connection((HOST, secure.secure_port), timeout=10)
    with pytest.raises((ssl.SSLError, ConnectionError, zkwire.Closed, OSError)):
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        conn = zkwire.ZkConn(HOST, secure.secure_port, connect=False)
        conn.sock = tls
        conn.handshake()


def test_a_silent_connection_is_closed_after_the_handshake_detection_timeout(secure):
    with socket.create_connection((HOST, secure.secure_port), timeout=30) as s:
        assert s.recv(1) == b""
    assert "ssl.handshakeDetectionTimeoutMillis" in secure.log_tail(200)


def test_the_certificate_subject_is_the_x509_identity(pki, secure):
    conn = tls_wire(pki, secure.secure_port, "alice")
    try:
        who = conn.call("whoAmI")
        assert who.ok, who
        assert ("x509", ALICE_DN) in [tuple(i) for i in who.body["clientInfo"]], who.body
    finally:
        conn.close()


def test_an_acl_on_the_x509_id_admits_alice_and_refuses_bob(pki, secure):
    alice = kazoo(pki, secure.secure_port, "alice")
    bob = kazoo(pki, secure.secure_port, "bob")
    root = kazoo(pki, secure.secure_port, "root")
    try:
        alice.create("/alice-only", b"secret", acl=[ACL(Permissions.ALL, Id("x509", ALICE_DN))])
        assert alice.get("/alice-only")[0] == b"secret"
        with pytest.raises(NoAuthError):
            bob.get("/alice-only")
        # X509AuthenticationProvider.superUser: root's DN passes every ACL.
        assert root.get("/alice-only")[0] == b"secret"
    finally:
        for zk in (alice, bob, root):
            zk.stop()
            zk.close()


def test_new_certificate_files_reach_the_next_connection_without_a_restart(pki, secure):
    before = served_serial(pki, secure.secure_port)
    assert before == pki.serial(pki.path("server.crt"))
    carried = kazoo(pki, secure.secure_port, "alice")
    try:
        pki.issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        pki.write_key_store()
        after = served_serial(pki, secure.secure_port)
        assert after == pki.serial(pki.path("server.crt")) and after != before
        assert secure.alive() and secure.proc.pid == secure.pid
        # The connection made before the reload carries on.
        carried.create("/after-reload", b"x")
        assert carried.get("/after-reload")[0] == b"x"
    finally:
        carried.stop()
        carried.close()


def test_port_unification_serves_tls_and_plaintext_on_the_client_port(pki):
    srv = start(pki, ["client.portUnification=true", "ssl.clientAuth=want"])
    try:
        # wait_ready already spoke plaintext (ruok and a session) to clientPort.
        zk = kazoo(pki, srv.port, "alice")
        try:
            zk.create("/unified", b"tls")
        finally:
            zk.stop()
            zk.close()
        plain = srv.conn()
        assert plain.get_data("/unified").body["data"] == b"tls"
        plain.close()
        assert s_client(pki, srv.port, b"ruok").stdout == b"imok"
        # ssl.clientAuth=want: a TLS client without a certificate is served, with no x509 id.
        anonymous = tls_wire(pki, srv.port, None)
        who = anonymous.call("whoAmI")
        assert [tuple(i) for i in who.body["clientInfo"]] == [("ip", "127.0.0.1")], who.body
        anonymous.close()
    finally:
        srv.stop()


def test_secure_client_port_without_client_port_is_a_tls_only_server(pki):
    work = tempfile.mkdtemp(prefix="corral-tls-only-")
    os.makedirs(os.path.join(work, "data"))
    sport, unused = free_port(), free_port()  # unused: zoo_cfg's clientPort, dropped
    cfg = write_cfg(pki, work, unused, ["secureClientPort=%d" % sport], plaintext=False)
    srv = Server("corral", [corral_bin(), "server", "--config", cfg], sport, work)
    try:
        deadline = time.monotonic() + 30
        while srv.alive() and time.monotonic() < deadline:
            if s_client(pki, sport, b"ruok").stdout == b"imok":
                break
            time.sleep(0.2)
        assert s_client(pki, sport, b"ruok").stdout == b"imok", srv.log_tail()
        # The one client listener is the TLS port: clientPort's default (2181) is not
        # bound (probing 2181 could meet another program's server).
        log = srv.log_tail(200)
        assert "binding to port %s:%d;" % (HOST, sport) in log, log
        assert ":2181" not in log, log
    finally:
        srv.stop()


@pytest.mark.parametrize("line,named", [
    ("ssl.keyStore.type=JKS", "keytool -importkeystore"),
    ("ssl.enabledProtocols=TLSv1.1", "ssl.enabledProtocols"),
    ("ssl.ciphersuites=TLS_RSA_WITH_RC4_128_MD5", "ssl.ciphersuites"),
    ("ssl.clientAuth=sometimes", "ssl.clientAuth"),
])
def test_a_bad_tls_setting_stops_the_server_naming_its_key(pki, line, named):
    work = tempfile.mkdtemp(prefix="corral-tls-bad-")
    try:
        cfg = os.path.join(work, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(zoo_cfg(free_port(), os.path.join(work, "data")))
            f.write("secureClientPort=%d\nssl.keyStore.location=%s\nssl.trustStore.location=%s\n%s\n"
                    % (free_port(), pki.key_store, pki.ca, line))
        done = subprocess.run([corral_bin(), "server", "--config", cfg], capture_output=True, timeout=30)
        assert done.returncode != 0
        assert named in (done.stdout + done.stderr).decode(), done
    finally:
        shutil.rmtree(work, ignore_errors=True)


ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def test_zkcli_with_the_netty_socket_and_pem_stores(pki, secure):
    if not os.path.exists(ZKCLI) or not shutil.which("java"):
        pytest.skip("zkCli.sh / java not installed")
    # zkCli's PEM key store is one file with the certificate and the key, as the server's.
    store = pki.path("alice-store.pem")
    with open(store, "wb") as out:
        for part in ("alice.crt", "alice.key"):
            with open(pki.path(part), "rb") as f:
                out.write(f.read())
    # Debian's zkCli.sh classpath (zookeeper.jar's manifest) lacks netty's resolver and
    # codec jars that ClientCnxnSocketNetty needs; a later -cp replaces zkEnv.sh's.
    netty = ["/usr/share/java/netty-%s.jar" % n for n in
             ("buffer", "codec", "common", "handler", "resolver", "transport",
              "transport-native-epoll", "transport-native-unix-common")]
    if not all(os.path.exists(j) for j in netty):
        pytest.skip("Debian's netty jars are not installed")
    classpath = ":".join(["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar", *netty])
    env = dict(os.environ)
    env["JVMFLAGS"] = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -cp " + classpath
    env["CLIENT_JVMFLAGS"] = " ".join([
        "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
        "-Dzookeeper.client.secure=true",
        "-Dzookeeper.ssl.keyStore.location=%s" % store, "-Dzookeeper.ssl.keyStore.type=PEM",
        "-Dzookeeper.ssl.trustStore.location=%s" % pki.ca, "-Dzookeeper.ssl.trustStore.type=PEM",
    ])
    script = "create /zkcli-tls over-tls\nget /zkcli-tls\nwhoami\nquit\n"
    done = subprocess.run([ZKCLI, "-server", "%s:%d" % (HOST, secure.secure_port)], input=script,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env=env)
    assert "Created /zkcli-tls" in done.stdout, done.stdout[-3000:] + secure.log_tail(20)
    assert "\nover-tls\n" in done.stdout, done.stdout[-3000:]
    # zkCli's whoami prints each identity as "scheme: user".
    assert "\nx509: %s\n" % ALICE_DN in done.stdout, done.stdout[-3000:]


def admin_https(pki, port, path, who=None, plain=False):
    """GET `path` from the AdminServer; JSON back, or the exception urllib raised."""
    import json
    import urllib.request
    scheme = "http" if plain else "https"
    ctx = None
    if not plain:
        ctx = ssl.create_default_context(cafile=pki.ca)
        if who:
            ctx.load_cert_chain(pki.path(who + ".crt"), pki.path(who + ".key"))
    try:
        with urllib.request.urlopen("%s://%s:%d%s" % (scheme, HOST, port, path), context=ctx,
                                    timeout=10) as reply:
            return json.loads(reply.read())
    except Exception as e:  # noqa: BLE001 - the caller asserts on what failed
        return e


def start_admin(pki, extra):
    """A Corral whose AdminServer is on, with the `extra` admin.* lines; waits for it."""
    aport = free_port()
    srv = start(pki, ["admin.enableServer=true", "admin.serverAddress=%s" % HOST,
                      "admin.serverPort=%d" % aport, "ssl.clientAuth=none", *extra])
    srv.admin_port = aport
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "AdminServer listening" not in srv.log_tail(200):
        time.sleep(0.1)
    return srv


def test_admin_server_under_force_https_serves_https_only(pki):
    srv = start_admin(pki, ["admin.forceHttps=true"])
    try:
        ruok = admin_https(pki, srv.admin_port, "/commands/ruok")
        assert isinstance(ruok, dict) and ruok["command"] == "ruok" and ruok["error"] is None, ruok
        stat = admin_https(pki, srv.admin_port, "/commands/srvr")
        assert isinstance(stat, dict) and "server_stats" in stat, stat
        before = served_serial(pki, srv.admin_port)
        assert before == pki.serial(pki.path("server.crt"))
        # New files written over the old ones reach the AdminServer's next connection.
        pki.issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        pki.write_key_store()
        after = served_serial(pki, srv.admin_port)
        assert after == pki.serial(pki.path("server.crt")) and after != before
        plain = admin_https(pki, srv.admin_port, "/commands/ruok", plain=True)
        assert isinstance(plain, Exception), plain
        assert "not TLS and admin.forceHttps=true" in srv.log_tail(200)
        # The client port is untouched by the AdminServer's TLS.
        conn = srv.conn()
        assert conn.create("/admin-https", b"x").err == 0
        conn.close()
    finally:
        srv.stop()


def test_admin_server_under_port_unification_serves_http_and_https(pki):
    srv = start_admin(pki, ["admin.portUnification=true"])
    try:
        for plain in (False, True):
            ruok = admin_https(pki, srv.admin_port, "/commands/ruok", plain=plain)
            assert isinstance(ruok, dict) and ruok["error"] is None, (plain, ruok)
    finally:
        srv.stop()


def test_admin_server_need_client_auth_wants_a_certificate_from_the_trust_store(pki):
    srv = start_admin(pki, ["admin.forceHttps=true", "admin.needClientAuth=true"])
    try:
        refused = admin_https(pki, srv.admin_port, "/commands/ruok")
        assert isinstance(refused, Exception), refused
        ruok = admin_https(pki, srv.admin_port, "/commands/ruok", who="alice")
        assert isinstance(ruok, dict) and ruok["error"] is None, ruok
        assert "AdminServer: closing connection" in srv.log_tail(200)
    finally:
        srv.stop()


def test_admin_force_https_without_a_key_store_stops_the_server_naming_the_key():
    work = tempfile.mkdtemp(prefix="corral-admin-https-bad-")
    try:
        cfg = os.path.join(work, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(zoo_cfg(free_port(), os.path.join(work, "data")))
            f.write("admin.enableServer=true\nadmin.serverPort=%d\nadmin.forceHttps=true\n" % free_port())
        done = subprocess.run([corral_bin(), "server", "--config", cfg], capture_output=True, timeout=30)
        out = (done.stdout + done.stderr).decode()
        assert done.returncode != 0 and "admin.forceHttps" in out and "ssl.quorum.keyStore.location" in out, out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_admin_server_https_reads_the_quorum_stores_when_they_are_set(pki):
    """ZooKeeper's Jetty reads ssl.quorum.*: with a quorum key store, that is served."""
    quorum_store = pki.path("quorum-keystore.pem")
    with open(quorum_store, "wb") as out:
        for part in ("bob.crt", "bob.key"):
            with open(pki.path(part), "rb") as f:
                out.write(f.read())
    srv = start_admin(pki, ["admin.forceHttps=true", "ssl.quorum.keyStore.location=%s" % quorum_store,
                            "ssl.quorum.trustStore.location=%s" % pki.ca])
    try:
        assert served_serial(pki, srv.admin_port) == pki.serial(pki.path("bob.crt"))
    finally:
        srv.stop()


def pkcs12_stores(pki, tool):
    """A PKCS#12 key store (the server's certificate and key) and trust store (the CA),
    made by `tool`: openssl 3's defaults (PBES2/AES), openssl -legacy (3DES/RC2), or
    Java's keytool."""
    key_p12, trust_p12 = pki.path("server-%s.p12" % tool), pki.path("trust-%s.p12" % tool)
    for f in (key_p12, trust_p12):
        if os.path.exists(f):
            os.remove(f)
    legacy = ["-legacy"] if tool == "legacy" else []
    openssl("pkcs12", "-export", *legacy, "-in", pki.path("server.crt"), "-inkey", pki.path("server.key"),
            "-certfile", pki.ca, "-name", "server", "-passout", "pass:storepw", "-out", key_p12)
    if tool == "keytool":
        # keytool's own trust store: the CA as a trusted-certificate entry.
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", pki.ca,
                        "-keystore", trust_p12, "-storetype", "PKCS12", "-storepass", "storepw"],
                       check=True, capture_output=True)
    else:
        openssl("pkcs12", "-export", *legacy, "-nokeys", "-in", pki.ca, "-passout", "pass:storepw",
                "-out", trust_p12)
    return key_p12, trust_p12


@pytest.mark.parametrize("tool", ["openssl", "legacy", "keytool"])
def test_pkcs12_key_and_trust_stores_serve_tls(pki, tool):
    if tool == "keytool" and not shutil.which("keytool"):
        pytest.skip("keytool (Java) is not installed")
    key_p12, trust_p12 = pkcs12_stores(pki, tool)
    sport = free_port()
    srv = start(pki, ["secureClientPort=%d" % sport, "ssl.clientAuth=need",
                      "ssl.keyStore.location=%s" % key_p12, "ssl.keyStore.type=PKCS12",
                      "ssl.keyStore.password=storepw", "ssl.trustStore.location=%s" % trust_p12,
                      "ssl.trustStore.type=PKCS12", "ssl.trustStore.password=storepw"])
    try:
        assert served_serial(pki, sport) == pki.serial(pki.path("server.crt"))
        zk = kazoo(pki, sport, "alice")
        try:
            zk.create("/pkcs12-" + tool, b"x")
            assert zk.get("/pkcs12-" + tool)[0] == b"x"
        finally:
            zk.stop()
            zk.close()
    finally:
        srv.stop()


def test_a_wrong_pkcs12_password_stops_the_server_naming_the_store(pki):
    key_p12, _ = pkcs12_stores(pki, "openssl")
    work = tempfile.mkdtemp(prefix="corral-tls-p12-")
    try:
        cfg = os.path.join(work, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(zoo_cfg(free_port(), os.path.join(work, "data")))
            # No type given: the .p12 name makes it PKCS12, as in ZooKeeper.
            f.write("secureClientPort=%d\nssl.keyStore.location=%s\nssl.keyStore.password=wrong\n"
                    "ssl.clientAuth=none\n" % (free_port(), key_p12))
        done = subprocess.run([corral_bin(), "server", "--config", cfg], capture_output=True, timeout=30)
        out = (done.stdout + done.stderr).decode()
        assert done.returncode != 0 and "ssl.keyStore.location" in out and "password" in out, out
    finally:
        shutil.rmtree(work, ignore_errors=True)
