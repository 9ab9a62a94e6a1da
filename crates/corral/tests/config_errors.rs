//! A zoo.cfg that breaks a rule stops the real `corral server` at start: it exits
//! non-zero and its message names the keys at fault, instead of starting and failing
//! every client later (a minSessionTimeout above the maxSessionTimeout made each
//! handshake panic).

mod support;

use support::ServerProcess;

/// Starts a server on `extra` zoo.cfg lines that must refuse them; its stderr.
fn refused(extra: &str) -> String {
    let mut server = ServerProcess::configure(extra);
    server.spawn();
    let status = server.wait_exit();
    let log = server.log();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the server did not refuse {extra:?} (exit status {status:?}): {log}"
    );
    log
}

#[test]
fn min_session_timeout_above_max_stops_the_server_naming_both_keys() {
    let log = refused("minSessionTimeout=5000\nmaxSessionTimeout=4000");
    assert!(
        log.contains("minSessionTimeout") && log.contains("maxSessionTimeout"),
        "the message does not name both keys: {log}"
    );
}

#[test]
fn a_tick_time_whose_default_timeout_overflows_stops_the_server() {
    let log = refused("tickTime=200000000");
    assert!(
        log.contains("tickTime") && log.contains("maxSessionTimeout"),
        "the message does not name tickTime and maxSessionTimeout: {log}"
    );
}

#[test]
fn an_ensemble_without_a_myid_stops_the_server() {
    let log = refused(
        "initLimit=10\nsyncLimit=5\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889",
    );
    assert!(
        log.contains("myid"),
        "the message does not name myid: {log}"
    );
}

#[test]
fn what_loading_corrects_is_logged_once_the_server_runs() {
    let server = ServerProcess::start("snapCount=1\nnoSuchKey=1");
    let log = server.log();
    assert!(
        log.contains("snapCount should be 2 or more") && log.contains("noSuchKey"),
        "the corrections were not logged: {log}"
    );
}

#[test]
fn a_missing_jaas_file_or_section_stops_the_server_naming_the_key() {
    let log = refused("java.security.auth.login.config=/nonexistent/corral-jaas.conf");
    assert!(
        log.contains("java.security.auth.login.config"),
        "the message does not name the key: {log}"
    );
    let jaas = std::env::temp_dir().join(format!("corral-jaas-client-only-{}", std::process::id()));
    std::fs::write(
        &jaas,
        "Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"bob\"; };",
    )
    .ok();
    let log = refused(&format!(
        "java.security.auth.login.config={}",
        jaas.display()
    ));
    std::fs::remove_file(&jaas).ok();
    assert!(
        log.contains("java.security.auth.login.config") && log.contains("\"Server\""),
        "the message does not name the key and the section: {log}"
    );
}

#[test]
fn quorum_security_mistakes_stop_the_server_naming_the_key() {
    let cases = [
        ("sslQuorum=true", "ssl.quorum.keyStore.location"),
        (
            "sslQuorum=true\nssl.quorum.keyStore.location=/k.pem",
            "ssl.quorum.trustStore.location",
        ),
        ("ssl.quorum.keyStore.type=JKS", "ssl.quorum.keyStore.type"),
        (
            "ssl.quorum.clientAuth=none\nsslQuorum=true\n\
             ssl.quorum.keyStore.location=/k\nssl.quorum.trustStore.location=/t",
            "ssl.quorum.clientAuth",
        ),
        (
            "quorum.auth.learnerRequireSasl=true",
            "quorum.auth.enableSasl",
        ),
        (
            "quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true",
            "quorum.auth.learnerRequireSasl",
        ),
        (
            "quorum.auth.enableSasl=true",
            "java.security.auth.login.config",
        ),
        ("sslQuorum=maybe", "sslQuorum"),
    ];
    for (lines, key) in cases {
        let log = refused(lines);
        assert!(
            log.contains(key),
            "{lines:?}: the message does not name {key}: {log}"
        );
    }
}

#[test]
fn quorum_sasl_needs_both_jaas_sections() {
    let jaas = std::env::temp_dir().join(format!("corral-jaas-quorum-{}", std::process::id()));
    std::fs::write(
        &jaas,
        "QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_a=\"b\"; };",
    )
    .ok();
    let log = refused(&format!(
        "quorum.auth.enableSasl=true\njava.security.auth.login.config={}",
        jaas.display()
    ));
    std::fs::remove_file(&jaas).ok();
    assert!(
        log.contains("QuorumLearner") && log.contains("quorum.auth.learner.saslLoginContext"),
        "the message does not name the missing section: {log}"
    );
}

#[test]
fn an_unreadable_quorum_key_store_stops_an_ensemble_member_naming_the_key() {
    let mut server = ServerProcess::configure_with(support::free_port(), |data| {
        std::fs::write(data.join("myid"), "1\n").ok();
        format!(
            "dataDir={}\ninitLimit=10\nsyncLimit=5\nserver.1=127.0.0.1:{}:{}\n\
             server.2=127.0.0.1:{}:{}\n\
             sslQuorum=true\nssl.quorum.keyStore.location=/nonexistent/member.pem\n\
             ssl.quorum.trustStore.location=/nonexistent/ca.pem\n",
            data.display(),
            support::free_port(),
            support::free_port(),
            support::free_port(),
            support::free_port()
        )
    });
    server.spawn();
    let status = server.wait_exit();
    let log = server.log();
    assert!(status.is_some_and(|s| !s.success()), "not refused: {log}");
    assert!(
        log.contains("ssl.quorum.keyStore.location=/nonexistent/member.pem"),
        "the message does not name the key and file: {log}"
    );
}
