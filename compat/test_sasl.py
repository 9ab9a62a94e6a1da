"""SASL DIGEST-MD5 with real clients (kazoo with pure-sasl, zkCli.sh with a JAAS Client
section), run against real ZooKeeper 3.8 and the system under test with the same JAAS file and
zoo.cfg keys, so both give the same replies.

With SASL not configured ZooKeeper 3.8 answers the first token with an empty one and kazoo
loops until the session expires, then fails with AuthFailedError; Corral refuses at once with
AuthFailed (DIVERGENCES.md). Both end in AuthFailedError, which is what is compared.
"""

import os
import shutil
import subprocess
import tempfile

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import make_acl

import servers

ZKCLI = os.environ.get("ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh")
DIGEST_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"
JAAS = """
// Users for DIGEST-MD5; the Client section is zkCli's.
Server {
  %(m)s required
  user_super="adminsecret"
  user_bob="bobsecret"
  user_alice="alicesecret";
};
Client {
  %(m)s required
  username="bob"
  password="bobsecret";
};
""" % {"m": DIGEST_MODULE}

# The smallest session timeout both servers grant: ZooKeeper's spin (see above) lasts one.
SESSION_TIMEOUT = servers.MIN_SESSION_TIMEOUT / 1000.0


def kazoo_sasl(server, user, password):
    """A started kazoo client asking for DIGEST-MD5. kazoo reports CONNECTED before its SASL
    exchange, so start() returns either way; the exchange's outcome shows on the first request."""
    k = KazooClient(hosts=server.address, timeout=SESSION_TIMEOUT, connection_retry=None,
                    sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password})
    k.start(timeout=30)
    return k


def close(k):
    k.stop()
    k.close()


def assert_auth_failed(server, user, password, caplog):
    """The exchange fails with AuthFailed. kazoo reports it on the first request, or,
    when the refusal arrives before start() has seen the session connected, start()
    itself gives up ("Connection time-out") after logging AUTH_FAILED."""
    k = KazooClient(hosts=server.address, timeout=SESSION_TIMEOUT, connection_retry=None,
                    sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password})
    try:
        try:
            k.start(timeout=30)
        except KazooTimeoutError:
            assert "AUTH_FAILED" in caplog.text, caplog.text
            return
        with pytest.raises(AuthFailedError):
            # ZooKeeper's spin lasts one session timeout; a server that never answers
            # fails here with a timeout instead of hanging the suite.
            k.get_async("/").get(timeout=60)
    finally:
        close(k)


def test_sasl_not_configured_is_auth_failed(any_server, caplog):
    assert_auth_failed(any_server, "bob", "bobsecret", caplog)


@pytest.fixture(scope="module")
def jaas_file():
    d = tempfile.mkdtemp(prefix="corral-compat-jaas-")
    path = os.path.join(d, "jaas.conf")
    with open(path, "w") as f:
        f.write(JAAS)
    yield path
    shutil.rmtree(d, ignore_errors=True)


def sasl_servers(request, jaas_file, cfg=(), flags=()):
    """ZooKeeper or the system under test (the fixture's param) with SASL's provider, the
    JAAS file, and the same extra zoo.cfg keys and -D flags for both."""
    start = servers.start_zookeeper if request.param == "zookeeper" else servers.start_target
    provider = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
    srv = start(extra_cfg=[provider, *cfg],
                jvm_flags=["-Djava.security.auth.login.config=%s" % jaas_file, *flags])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module", params=["zookeeper", "target"])
def sasl_server(request, jaas_file):
    """ZooKeeper and the system under test with the same JAAS file and zoo.cfg keys."""
    yield from sasl_servers(request, jaas_file)


class WhoAmI:
    """kazoo has no whoAmI call; this is its request record (opcode 107)."""
    type = 107

    def serialize(self):
        return bytearray()

    @classmethod
    def deserialize(cls, data, offset):
        r = servers.zkwire.Reader(bytes(data), offset)
        return r.vector(lambda rr: (rr.string(), rr.string()))


def who_am_i(k):
    result = k.handler.async_result()
    k._call(WhoAmI(), result)
    return sorted(result.get(timeout=30))


def test_bob_authenticates_and_who_am_i_shows_sasl_bob(sasl_server):
    k = kazoo_sasl(sasl_server, "bob", "bobsecret")
    try:
        ids = who_am_i(k)
        assert ("sasl", "bob") in ids, ids
        assert [i for i in ids if i[0] != "ip"] == [("sasl", "bob")]
    finally:
        close(k)


def test_sasl_acl_admits_bob_and_refuses_alice(sasl_server):
    bob = kazoo_sasl(sasl_server, "bob", "bobsecret")
    alice = kazoo_sasl(sasl_server, "alice", "alicesecret")
    try:
        bob.create("/sasl-acl", b"for bob", acl=[make_acl("sasl", "bob", all=True)])
        assert bob.get("/sasl-acl")[0] == b"for bob"
        assert bob.get_acls("/sasl-acl")[0][0].id.scheme == "sasl"
        with pytest.raises(NoAuthError):
            alice.get_async("/sasl-acl").get(timeout=30)
        # The auth scheme expands to the creator's sasl id, as in ZooKeeper.
        bob.create("/sasl-auth", b"", acl=[make_acl("auth", "", all=True)])
        acl = bob.get_acls("/sasl-auth")[0]
        assert [(a.id.scheme, a.id.id) for a in acl] == [("sasl", "bob")]
        with pytest.raises(NoAuthError):
            alice.get_async("/sasl-auth").get(timeout=30)
    finally:
        close(bob)
        close(alice)


@pytest.mark.parametrize(
    "user,password", [("bob", "not-bobs"), ("mallory", "x")], ids=["wrong-password", "unknown-user"]
)
def test_bad_credentials_are_auth_failed(sasl_server, user, password, caplog):
    assert_auth_failed(sasl_server, user, password, caplog)


def test_zkcli_authenticates_with_a_jaas_client_section(sasl_server, jaas_file):
    if not os.path.exists(ZKCLI) or not shutil.which("java"):
        pytest.skip("zkCli.sh / java not installed")
    bob = kazoo_sasl(sasl_server, "bob", "bobsecret")
    try:
        bob.ensure_path("/sasl-cli")
        bob.set_acls("/sasl-cli", [make_acl("sasl", "bob", all=True)])
        bob.set("/sasl-cli", b"zkcli-can-read")
    finally:
        close(bob)
    env = dict(os.environ)
    env["JVMFLAGS"] = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m"
    env["CLIENT_JVMFLAGS"] = ("-Djava.security.auth.login.config=%s -Dzookeeper.sasl.client=true"
                              % jaas_file)
    p = subprocess.run([ZKCLI, "-server", sasl_server.address],
                       input="whoami\nget /sasl-cli\nquit\n", capture_output=True, text=True,
                       timeout=120, env=env)
    out = p.stdout + p.stderr
    assert "SaslAuthenticated" in out, out[-3000:]
    assert "sasl: bob" in out, out[-3000:]  # whoami
    assert "zkcli-can-read" in out, out[-3000:]


def raw_digest_exchange(server, password):
    """The exchange on the wire, token by token (puresasl computes the client's side): the
    reply to the response, and whether the server then closed the connection."""
    from puresasl.client import SASLClient
    c = server.conn()
    cli = SASLClient("zk-sasl-md5", "zookeeper", mechanism="DIGEST-MD5", username="bob",
                     password=password)
    first = c.wait(c.send("sasl", servers.zkwire.enc_sasl(b"")))
    assert (first.err, first.zxid) == (0, 0)
    challenge = servers.zkwire.Reader(first.raw).buffer()
    reply = c.wait(c.send("sasl", servers.zkwire.enc_sasl(cli.process(challenge))))
    closed = c.wait_closed(10)
    c.close()
    return reply, closed


def test_wrong_password_on_the_wire(sasl_server):
    reply, closed = raw_digest_exchange(sasl_server, "not-bobs")
    # ZooKeeper's failure reply carries a null token.
    assert (reply.err, reply.zxid, reply.raw) == (-115, 0, b"\xff\xff\xff\xff")
    assert closed


def test_right_password_on_the_wire(sasl_server):
    reply, closed = raw_digest_exchange(sasl_server, "bobsecret")
    assert (reply.err, reply.zxid) == (0, 0)
    assert servers.zkwire.Reader(reply.raw).buffer().startswith(b"rspauth=")
    assert not closed


@pytest.fixture(scope="module", params=["zookeeper", "target"])
def sasl_required_server(request, jaas_file):
    yield from sasl_servers(request, jaas_file, cfg=["sessionRequireClientSASLAuth=true"],
                            flags=["-Dzookeeper.sessionRequireClientSASLAuth=true"])


def test_required_sasl_refuses_a_request_before_auth(sasl_required_server):
    c = sasl_required_server.conn()
    reply = c.call("getData", path="/", watch=False)
    assert (reply.err, reply.zxid, reply.raw) == (-124, 0, b"")
    assert c.wait_closed(10)
    c.close()


def test_required_sasl_serves_bob(sasl_required_server):
    k = kazoo_sasl(sasl_required_server, "bob", "bobsecret")
    try:
        assert ("sasl", "bob") in who_am_i(k)
        k.get("/")
    finally:
        close(k)


@pytest.fixture(scope="module", params=["zookeeper", "target"])
def sasl_super_server(request, jaas_file):
    yield from sasl_servers(request, jaas_file, flags=["-Dzookeeper.superUser=alice"])


def test_super_user_passes_every_acl(sasl_super_server):
    bob = kazoo_sasl(sasl_super_server, "bob", "bobsecret")
    alice = kazoo_sasl(sasl_super_server, "alice", "alicesecret")
    try:
        bob.create("/bobs", b"mine", acl=[make_acl("sasl", "bob", all=True)])
        assert ("super", "") in who_am_i(alice)
        assert alice.get("/bobs")[0] == b"mine"
        assert ("super", "") not in who_am_i(bob)
    finally:
        close(bob)
        close(alice)
