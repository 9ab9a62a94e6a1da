//! Quorum SASL, as ZooKeeper's SaslQuorumAuthLearner and SaslQuorumAuthServer run it:
//! the member that connects (the learner) authenticates with DIGEST-MD5 to the member
//! it connects to (the server), with the QuorumLearner section's username and
//! password, checked against the QuorumServer section's `user_NAME` entries.
//!
//! ZooKeeper's followers connect to their leader, so the leader checks every
//! follower. Corral's leader connects to its followers (Raft's direction), so each
//! connection is checked both ways: once the learner is authenticated, the member it
//! connected to proves itself back with its own QuorumLearner credentials. A member
//! with a wrong QuorumLearner password therefore takes part in no connection, either
//! way, as in ZooKeeper it can follow no leader.
//!
//! The exchange is the connection's first packets, ZooKeeper's QuorumAuthPacket: a
//! magic long, a status (0 in progress, 1 success, -1 error) and a token. The magic's
//! first four bytes are no frame length the peer wire allows, so a server tells an
//! authenticating learner from one that does not (let through unless
//! `quorum.auth.serverRequireSasl`) by those four bytes, which it hands back to the
//! stream. A token over `MAX_TOKEN` bytes ends the connection before anything is
//! allocated for it; the whole exchange runs under `EXCHANGE_TIMEOUT`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corral_consensus::{Refusal, Secured};
use corral_sasl::{ClientStep, DigestClient, DigestServer, Service, Step};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::config::QuorumSasl;

/// QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER, -0xa0dbcafecafe1234L in Java.
const MAGIC: u64 = 0xa0db_cafe_cafe_1234_u64.wrapping_neg();
const IN_PROGRESS: i32 = 0;
const SUCCESS: i32 = 1;
const ERROR: i32 = -1;
/// A DIGEST-MD5 token is a few hundred bytes.
const MAX_TOKEN: usize = 4096;
/// DIGEST-MD5 takes two rounds; ZooKeeper allows a few more before giving up.
const MAX_ROUNDS: usize = 5;
/// How long a learner may take over the exchange (ZooKeeper's cnxTimeout default).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct QuorumAuth {
    learner_require: bool,
    server_require: bool,
    learner: Option<(String, String)>,
    users: Arc<BTreeMap<String, String>>,
    /// When a failed exchange of this learner was last logged: peers are retried
    /// several times a second, and the log says so at most every `WARN_EVERY`.
    warned: Mutex<Option<Instant>>,
}

const WARN_EVERY: Duration = Duration::from_secs(10);

/// Which half of a dialed connection's exchange failed.
enum Failed {
    /// This member's proof.
    Proving(String),
    /// The other member's.
    Checking(String),
}

impl QuorumAuth {
    /// The exchange `config` asks for; `None` with quorum.auth.enableSasl=false.
    pub fn new(config: &QuorumSasl) -> Option<QuorumAuth> {
        config.enabled.then(|| QuorumAuth {
            learner_require: config.learner_require,
            server_require: config.server_require,
            learner: config.learner.clone(),
            users: Arc::new(config.users.clone()),
            warned: Mutex::new(None),
        })
    }

    /// The accepting side, on a connection from `peer`: checks the learner, then
    /// proves itself to it.
    pub async fn accept(&self, mut stream: Secured, peer: SocketAddr) -> Result<Secured, Refusal> {
        let mut head = [0u8; 4];
        match tokio::time::timeout(EXCHANGE_TIMEOUT, stream.read_exact(&mut head)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(Refusal::Quiet),
            Err(_) => return Err(Refusal::Refused("nothing arrived within 5 s".into())),
        }
        if head != MAGIC.to_be_bytes()[..4] {
            if self.server_require {
                return Err(Refusal::Refused(
                    "it did not authenticate, and quorum.auth.serverRequireSasl=true".into(),
                ));
            }
            return Ok(Box::new(Rewound {
                head,
                at: 0,
                inner: stream,
            }));
        }
        let both = async {
            let user = self.check(&mut stream, true).await?;
            // The learner authenticated: it waits for this server's proof.
            self.prove(&mut stream)
                .await
                .map_err(|why| format!("proving this server to it: {why}"))?;
            Ok::<_, String>(user)
        };
        let outcome = match tokio::time::timeout(EXCHANGE_TIMEOUT, both).await {
            Ok(outcome) => outcome,
            Err(_) => Err("the SASL exchange did not finish within 5 s".to_string()),
        };
        match outcome {
            Ok(user) => {
                tracing::info!("quorum peer {peer} authenticated with SASL as {user}");
                Ok(stream)
            }
            Err(why) if self.server_require => Err(Refusal::Refused(format!(
                "SASL authentication failed: {why} (quorum.auth.serverRequireSasl=true)"
            ))),
            Err(why) => {
                tracing::warn!(
                    "quorum peer {peer}: SASL authentication failed: {why}; keeping the \
                     connection, as quorum.auth.serverRequireSasl=false"
                );
                Ok(stream)
            }
        }
    }

    /// The dialing side, on a connection this server opened to `addr`: proves itself
    /// (the learner), then checks the other member's proof.
    pub async fn connect(&self, mut stream: Secured, addr: &str) -> std::io::Result<Secured> {
        if !self.learner_require {
            // ZooKeeper's learner authenticates only when it requires SASL itself.
            return Ok(stream);
        }
        let both = async {
            self.prove(&mut stream).await.map_err(Failed::Proving)?;
            self.check(&mut stream, false)
                .await
                .map_err(Failed::Checking)
        };
        let outcome = match tokio::time::timeout(EXCHANGE_TIMEOUT, both).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failed::Proving("no answer within 5 s".into())),
        };
        let why = match outcome {
            Ok(user) => {
                tracing::debug!("quorum peer {addr} proved itself with SASL as {user}");
                return Ok(stream);
            }
            Err(Failed::Checking(why)) if !self.server_require => {
                let why = format!(
                    "its proof: {why}; keeping the connection, as quorum.auth.serverRequireSasl=false"
                );
                self.warn(&why, addr);
                return Ok(stream);
            }
            Err(Failed::Checking(why)) => format!("its proof: {why}"),
            Err(Failed::Proving(why)) => why,
        };
        self.warn(&why, addr);
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("SASL authentication with {addr} failed: {why}"),
        ))
    }

    /// ZooKeeper's quorum server role: checks the other member's DIGEST-MD5 proof
    /// against the QuorumServer users. `after_head` when the first packet's first
    /// four bytes are read already. The authenticated user.
    async fn check(&self, stream: &mut Secured, after_head: bool) -> Result<String, String> {
        let Some(nonce) = corral_sasl::fresh_nonce() else {
            return Err("no OS randomness for a DIGEST-MD5 nonce".into());
        };
        let mut server = DigestServer::new(Service::QUORUM, nonce);
        let mut token = read_packet(stream, after_head).await?.1;
        for _ in 0..MAX_ROUNDS {
            match server.step(&token, |user| self.users.get(user).cloned()) {
                Step::Continue(challenge) => {
                    write_packet(stream, IN_PROGRESS, &challenge).await?;
                    token = read_packet(stream, false).await?.1;
                }
                Step::Success { user, token } => {
                    write_packet(stream, SUCCESS, &token).await?;
                    return Ok(user);
                }
                Step::Failure(why) => {
                    let _ = write_packet(stream, ERROR, &[]).await;
                    return Err(why);
                }
            }
        }
        let _ = write_packet(stream, ERROR, &[]).await;
        Err(format!("more than {MAX_ROUNDS} rounds"))
    }

    /// ZooKeeper's learner role: proves this member with the QuorumLearner username
    /// and password.
    async fn prove(&self, stream: &mut Secured) -> Result<(), String> {
        let Some((user, password)) = &self.learner else {
            return Err("no QuorumLearner username and password".into());
        };
        let Some(cnonce) = corral_sasl::fresh_nonce() else {
            return Err("no OS randomness for a DIGEST-MD5 cnonce".into());
        };
        let mut client = DigestClient::new(Service::QUORUM, user, password, cnonce);
        write_packet(stream, IN_PROGRESS, &client.initial()).await?;
        for _ in 0..MAX_ROUNDS {
            let (status, token) = read_packet(stream, false).await?;
            match (status, client.step(&token)) {
                (SUCCESS, ClientStep::Done) => return Ok(()),
                (IN_PROGRESS, ClientStep::Continue(answer)) => {
                    write_packet(stream, IN_PROGRESS, &answer).await?
                }
                (ERROR, _) => return Err(format!("the other member refused {user:?}")),
                (_, ClientStep::Failure(why)) => return Err(why),
                (status, _) => return Err(format!("unexpected status {status}")),
            }
        }
        Err(format!("more than {MAX_ROUNDS} rounds"))
    }

    /// Logs a failed exchange with `addr`, at most every `WARN_EVERY`. The lock
    /// guards one instant written whole, which a panic cannot tear.
    fn warn(&self, why: &str, addr: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *warned = Some(Instant::now());
            tracing::warn!(
                "quorum SASL with {addr} failed: {why} (the JAAS QuorumLearner and \
                 QuorumServer sections, quorum.auth.learnerRequireSasl=true); retrying, \
                 logged at most every {} s",
                WARN_EVERY.as_secs()
            );
        }
    }
}

/// Reads one QuorumAuthPacket; `after_head` when the magic's first four bytes are
/// read already. Its status and token (a null token is empty).
async fn read_packet(stream: &mut Secured, after_head: bool) -> Result<(i32, Vec<u8>), String> {
    let io = |e: std::io::Error| e.to_string();
    let magic = MAGIC.to_be_bytes();
    let mut rest = [0u8; 8];
    let from = if after_head { 4 } else { 0 };
    stream.read_exact(&mut rest[from..]).await.map_err(io)?;
    if rest[from..] != magic[from..] {
        return Err("a packet without the quorum auth magic".into());
    }
    let status = stream.read_i32().await.map_err(io)?;
    let len = stream.read_i32().await.map_err(io)?;
    let len = match usize::try_from(len) {
        Ok(n) if n <= MAX_TOKEN => n,
        // -1: a null token.
        Err(_) if len == -1 => 0,
        _ => return Err(format!("a token of {len} bytes (the limit is {MAX_TOKEN})")),
    };
    // Grown as bytes arrive: a peer that announces 4 KiB and sends less gets less.
    let mut token = Vec::new();
    (&mut *stream)
        .take(len as u64)
        .read_to_end(&mut token)
        .await
        .map_err(io)?;
    if token.len() != len {
        return Err("the connection closed inside a token".into());
    }
    Ok((status, token))
}

async fn write_packet(stream: &mut Secured, status: i32, token: &[u8]) -> Result<(), String> {
    let mut packet = Vec::with_capacity(16 + token.len());
    packet.extend_from_slice(&MAGIC.to_be_bytes());
    packet.extend_from_slice(&status.to_be_bytes());
    packet.extend_from_slice(&(token.len() as i32).to_be_bytes());
    packet.extend_from_slice(token);
    stream.write_all(&packet).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())
}

/// A stream whose first four bytes were read to tell an auth packet from a frame,
/// and are read again from here.
struct Rewound {
    head: [u8; 4],
    at: usize,
    inner: Secured,
}

impl AsyncRead for Rewound {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.at < self.head.len() {
            let n = (self.head.len() - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.head[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewound {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
