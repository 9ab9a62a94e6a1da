"""SASL DIGEST-MD5 with real clients (kazoo with pure-sasl, zkCli.sh with a JAAS Client
section), run against real ZooKeeper 3.8 and the system under test with the same JAAS file and
zoo.cfg keys, so both give the same replies.

With SASL not configured ZooKeeper 3.8 answers the first token with an empty one and kazoo
loops until the session expires, then fails with AuthFailedError; Corral refuses at once with
AuthFailed (DIVERGENCES.md). Both end in AuthFailedError, which is what is compared.
"""

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError

import servers

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


def test_sasl_not_configured_is_auth_failed(any_server):
    k = kazoo_sasl(any_server, "bob", "bobsecret")
    try:
        with pytest.raises(AuthFailedError):
            # ZooKeeper's spin lasts one session timeout; a server that never answers
            # fails here with a timeout instead of hanging the suite.
            k.get_async("/").get(timeout=60)
    finally:
        close(k)
