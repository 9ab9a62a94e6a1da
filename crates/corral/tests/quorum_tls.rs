//! TLS between the servers of an ensemble (`sslQuorum=true`, `ssl.quorum.*`): three
//! real `corral server` processes with certificates made by the openssl command elect
//! a leader and replicate; a plaintext peer, a peer without a certificate, one with a
//! certificate of another CA and one whose certificate names another address are
//! refused on the quorum port, with a warning naming their address, while the
//! ensemble keeps serving; and with `sslQuorumReloadCertFiles=true` a new key store
//! is used for new peer connections without a restart.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::ensemble::{connect, persistent, runtime, serial, Ensemble};
use support::pki::{path, Ca};
use support::within;

/// A CA for the members, a key store per member and, to be refused, a CA of nobody's.
struct Pki {
    dir: PathBuf,
    ca: Ca,
    stranger: Ca,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("corral-qtls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ca = Ca::new(&dir.join("ca"), "Quorum CA");
        let stranger = Ca::new(&dir.join("stranger"), "Stranger CA");
        for i in 0..3 {
            ca.issue(
                &format!("member-{i}"),
                "IP:127.0.0.1",
                &dir.join(format!("member-{i}.pem")),
            );
        }
        stranger.issue("intruder", "IP:127.0.0.1", &dir.join("intruder.pem"));
        ca.issue("elsewhere", "IP:10.9.9.9", &dir.join("elsewhere.pem"));
        Pki { dir, ca, stranger }
    }

    fn key_store(&self, i: usize) -> PathBuf {
        self.dir.join(format!("member-{i}.pem"))
    }

    /// The zoo.cfg lines of member `i`.
    fn lines(&self, i: usize, extra: &str) -> String {
        format!(
            "sslQuorum=true\nssl.quorum.keyStore.location={}\nssl.quorum.trustStore.location={}\n{extra}",
            self.key_store(i).display(),
            self.ca.cert.display()
        )
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What `openssl s_client` makes of a TLS connection to `port`, presenting the key
/// store `cert` if given: its whole output.
fn s_client(port: u16, trust: &Path, cert: Option<&Path>) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-CAfile", path(trust)]);
    if let Some(cert) = cert {
        cmd.args(["-cert", path(cert), "-key", path(cert)]);
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .expect("run openssl s_client");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Sends `bytes` on a plain TCP connection to `port`; the connection's local address,
/// and whether the server closed it (rather than waiting for more).
fn plaintext(port: u16, bytes: &[u8]) -> (String, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = s.write_all(bytes);
    let mut buf = [0u8; 64];
    let closed = matches!(s.read(&mut buf), Ok(0) | Err(_));
    (local, closed)
}

/// Waits until member `i`'s log holds `needle`.
fn logged(ensemble: &Ensemble, i: usize, needle: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if ensemble.log(i).contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Writes `path` through the ensemble, then reads it back from every member.
async fn replicated(ensemble: &Ensemble, path: &str) {
    let client = connect(&ensemble.connect_string()).await;
    within("create", client.create(path, b"tls", &persistent()))
        .await
        .expect("create");
    for i in 0..ensemble.members.len() {
        let reader = connect(&ensemble.addr(i)).await;
        within("sync", reader.sync("/")).await.expect("sync");
        let (data, _) = within("get", reader.get_data(path))
            .await
            .unwrap_or_else(|e| panic!("member {i} lacks {path}: {e}"));
        assert_eq!(data, b"tls", "member {i}");
    }
}

#[test]
fn a_tls_quorum_replicates_and_refuses_peers_without_a_trusted_certificate() {
    let _turn = serial();
    let pki = Pki::new("refuse");
    let mut ensemble = Ensemble::configure_each(3, 0, |i| pki.lines(i, ""));
    for i in 0..3 {
        ensemble.restart(i);
    }
    ensemble.wait_settled();
    assert!(ensemble.log(0).contains("quorum TLS: sslQuorum=true"));
    runtime().block_on(replicated(&ensemble, "/over-tls"));
    let port = ensemble.members[0].quorum_port;

    // A member speaking plaintext (its Hello frame) and an HTTP request: closed
    // before a frame is read, each named in a warning.
    for (bytes, first) in [
        (&b"\0\0\0\x03\x08\x01\x02"[..], "0x00"),
        (b"GET / HTTP/1.0\r\n\r\n", "0x47"),
    ] {
        let (local, closed) = plaintext(port, bytes);
        assert!(closed, "a plaintext peer was not closed");
        let needle = format!("refused a peer connection from {local}: its first byte {first}");
        assert!(
            logged(&ensemble, 0, &needle),
            "no warning {needle:?}: {}",
            ensemble.log(0)
        );
    }

    // TLS without a certificate, with one another CA signed, and with one of the
    // right CA for another address: each handshake is refused.
    let cases = [
        (None, "TLS handshake failed"),
        (Some(pki.dir.join("intruder.pem")), "TLS handshake failed"),
        (
            Some(pki.dir.join("elsewhere.pem")),
            "does not name its address 127.0.0.1",
        ),
    ];
    for (cert, why) in cases {
        let before = ensemble.log(0).matches(why).count();
        let _ = s_client(port, &pki.ca.cert, cert.as_deref());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while ensemble.log(0).matches(why).count() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no refusal ({why}) for {cert:?}: {}",
                ensemble.log(0)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(ensemble
            .log(0)
            .contains("refused a peer connection from 127.0.0.1:"));
    }
    // The stranger's CA is not the members': s_client cannot verify a member either.
    let out = s_client(port, &pki.stranger.cert, Some(&pki.key_store(1)));
    assert!(out.contains("verify error"), "{out}");

    // The ensemble is unaffected: it still writes and every member reads it.
    runtime().block_on(replicated(&ensemble, "/after-strangers"));
}

/// The subject of the certificate the member on `port` presents.
fn presented(pki: &Pki, port: u16) -> String {
    let out = s_client(port, &pki.ca.cert, Some(&pki.key_store(2)));
    out.lines()
        .find_map(|l| l.strip_prefix("subject="))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no subject in {out}"))
}

#[test]
fn new_quorum_key_stores_are_used_without_a_restart_with_reload_on() {
    let _turn = serial();
    let pki = Pki::new("reload");
    let mut ensemble = Ensemble::configure_each(3, 0, |i| {
        // Member 0 reloads changed files; member 1 keeps what it read at start.
        let reload = if i == 0 {
            "sslQuorumReloadCertFiles=true\n"
        } else {
            ""
        };
        pki.lines(i, reload)
    });
    for i in 0..3 {
        ensemble.restart(i);
    }
    ensemble.wait_settled();
    let ports = [
        ensemble.members[0].quorum_port,
        ensemble.members[1].quorum_port,
    ];
    assert!(presented(&pki, ports[0]).contains("member-0"));
    assert!(presented(&pki, ports[1]).contains("member-1"));

    pki.ca.issue("renewed-0", "IP:127.0.0.1", &pki.key_store(0));
    pki.ca.issue("renewed-1", "IP:127.0.0.1", &pki.key_store(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !presented(&pki, ports[0]).contains("renewed-0") {
        assert!(
            std::time::Instant::now() < deadline,
            "member 0 kept its old certificate"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ensemble.log(0).contains("TLS key or trust file changed"));
    let kept = presented(&pki, ports[1]);
    assert!(
        kept.contains("member-1"),
        "member 1 reloaded without sslQuorumReloadCertFiles: {kept}"
    );

    // Member 2 comes back and connects anew to both, with their current material.
    ensemble.kill9(2);
    ensemble.restart(2);
    ensemble.wait_settled();
    runtime().block_on(replicated(&ensemble, "/after-reload"));
}

/// Rewrites member `i`'s zoo.cfg with `edit` and restarts it.
fn reconfigure(ensemble: &mut Ensemble, i: usize, edit: impl Fn(&str) -> String) {
    let cfg = ensemble.members[i].server.dir.join("zoo.cfg");
    let text = std::fs::read_to_string(&cfg).expect("zoo.cfg");
    std::fs::write(&cfg, edit(&text)).expect("zoo.cfg");
    ensemble.kill9(i);
    ensemble.restart(i);
    ensemble.wait_settled();
}

#[test]
fn a_plaintext_quorum_moves_to_tls_by_rolling_restarts_with_port_unification() {
    let _turn = serial();
    let pki = Pki::new("unify");
    // Step 0: plaintext between the members, each quorum port taking TLS as well.
    let mut ensemble = Ensemble::configure_each(3, 0, |i| {
        pki.lines(i, "portUnification=true\n")
            .replace("sslQuorum=true", "sslQuorum=false")
    });
    for i in 0..3 {
        ensemble.restart(i);
    }
    ensemble.wait_settled();
    runtime().block_on(replicated(&ensemble, "/unified"));
    // Step 1: one at a time, members dial in TLS; the rest still dial in plaintext.
    for i in 0..3 {
        reconfigure(&mut ensemble, i, |t| {
            t.replace("sslQuorum=false", "sslQuorum=true")
        });
        runtime().block_on(replicated(&ensemble, &format!("/tls-dialing-{i}")));
    }
    // Step 2: one at a time, quorum ports stop taking plaintext.
    for i in 0..3 {
        reconfigure(&mut ensemble, i, |t| {
            t.replace("portUnification=true\n", "")
        });
        runtime().block_on(replicated(&ensemble, &format!("/tls-only-{i}")));
    }
    let (local, closed) = plaintext(ensemble.members[0].quorum_port, b"\0\0\0\x03\x08\x01\x02");
    assert!(closed, "a plaintext peer was not closed");
    let needle = format!("refused a peer connection from {local}: its first byte 0x00");
    assert!(logged(&ensemble, 0, &needle), "{}", ensemble.log(0));
}

#[test]
fn without_hostname_verification_only_the_chain_is_checked() {
    let _turn = serial();
    let pki = Pki::new("nohost");
    // Member 2's certificate names an address it does not have.
    pki.ca.issue("member-2", "IP:10.9.9.9", &pki.key_store(2));
    let mut ensemble = Ensemble::configure_each(3, 0, |i| {
        pki.lines(i, "ssl.quorum.hostnameVerification=false\n")
    });
    for i in 0..3 {
        ensemble.restart(i);
    }
    ensemble.wait_settled();
    runtime().block_on(replicated(&ensemble, "/any-name"));
    // A certificate of another CA is still refused.
    let port = ensemble.members[0].quorum_port;
    let before = ensemble.log(0).matches("TLS handshake failed").count();
    let _ = s_client(port, &pki.ca.cert, Some(&pki.dir.join("intruder.pem")));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ensemble.log(0).matches("TLS handshake failed").count() == before {
        assert!(std::time::Instant::now() < deadline, "{}", ensemble.log(0));
        std::thread::sleep(Duration::from_millis(50));
    }
}
