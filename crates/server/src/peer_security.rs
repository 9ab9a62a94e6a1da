//! Security between the members of an ensemble: the consensus crate's
//! [`PeerSecurity`] hook, run on every peer connection before its first frame, built
//! from zoo.cfg's `sslQuorum`, `portUnification` and `ssl.quorum.*` keys (TLS, with
//! `crate::tls`) and `quorum.auth.*` (SASL DIGEST-MD5, `sasl`).
//!
//! With `sslQuorum=true` a connection whose first byte is not a TLS ClientHello, or
//! whose handshake fails (no certificate, one the trust store does not sign), is
//! refused before a byte of it reaches the consensus layer; the handshake runs under
//! `ssl.quorum.handshakeDetectionTimeoutMillis`. SASL, when on, runs next, inside the
//! TLS stream if there is one.
//!
//! Imports: uses `tls` and `config`; `sasl` uses `corral_sasl` and `config`.

mod sasl;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use corral_consensus::{PeerSecurity, Refusal, Secured};
use futures::future::BoxFuture;
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::PeerSecurityConfig;
use crate::tls::{self, Material, TlsError};

/// The first byte of a TLS record that carries a handshake message.
const TLS_HANDSHAKE: u8 = 0x16;

/// The quorum port's TLS.
struct QuorumTls {
    material: Arc<Material>,
    /// `sslQuorum`: connections this server opens speak TLS.
    dial: bool,
    /// `portUnification`: a plaintext connection is served too.
    unified: bool,
    /// `ssl.quorum.hostnameVerification` and `clientHostnameVerification`.
    check_address: bool,
    handshake_timeout: Duration,
}

/// The hook for this server's zoo.cfg.
pub struct Guard {
    tls: Option<Arc<QuorumTls>>,
    sasl: Option<Arc<sasl::QuorumAuth>>,
}

impl Guard {
    /// Reads the TLS files; an error stops the server at start, naming the key.
    pub fn new(config: &PeerSecurityConfig) -> Result<Guard, TlsError> {
        let tls = if config.tls_needed() {
            let material = Material::load_quorum(&config.tls, config.reload_cert_files)?;
            tracing::info!(
                "quorum TLS: sslQuorum={}, portUnification={}, sslQuorumReloadCertFiles={}",
                config.ssl_quorum,
                config.port_unification,
                config.reload_cert_files
            );
            Some(Arc::new(QuorumTls {
                material: Arc::new(material),
                dial: config.ssl_quorum,
                unified: config.port_unification,
                check_address: config.tls.hostname_verification
                    && config.tls.client_hostname_verification,
                handshake_timeout: Duration::from_millis(config.tls.handshake_timeout_ms),
            }))
        } else {
            None
        };
        let sasl = sasl::QuorumAuth::new(&config.sasl).map(Arc::new);
        if sasl.is_some() {
            tracing::info!(
                "quorum SASL: quorum.auth.learnerRequireSasl={}, quorum.auth.serverRequireSasl={}",
                config.sasl.learner_require,
                config.sasl.server_require
            );
        }
        Ok(Guard { tls, sasl })
    }
}

impl PeerSecurity for Guard {
    fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> BoxFuture<'static, Result<Secured, Refusal>> {
        let (tls, sasl) = (self.tls.clone(), self.sasl.clone());
        Box::pin(async move {
            let stream = match tls {
                Some(tls) => accept_tls(&tls, stream, peer).await?,
                None => Box::new(stream),
            };
            match sasl {
                Some(sasl) => sasl.accept(stream, peer).await,
                None => Ok(stream),
            }
        })
    }

    fn connect(
        &self,
        stream: TcpStream,
        addr: &str,
    ) -> BoxFuture<'static, std::io::Result<Secured>> {
        let (tls, sasl) = (self.tls.clone(), self.sasl.clone());
        let addr = addr.to_string();
        Box::pin(async move {
            let stream: Secured = match tls {
                Some(tls) if tls.dial => connect_tls(&tls, stream, &addr).await?,
                _ => Box::new(stream),
            };
            match sasl {
                Some(sasl) => sasl.connect(stream, &addr).await,
                None => Ok(stream),
            }
        })
    }
}

fn refused(why: impl Into<String>) -> Refusal {
    Refusal::Refused(why.into())
}

/// The accepting side: TLS (or, with portUnification, plaintext), the certificate's
/// address checked.
async fn accept_tls(
    tls: &QuorumTls,
    stream: TcpStream,
    peer: SocketAddr,
) -> Result<Secured, Refusal> {
    let limit = tls.handshake_timeout;
    let timeout_key = "ssl.quorum.handshakeDetectionTimeoutMillis";
    let mut first = [0u8; 1];
    match tokio::time::timeout(limit, stream.peek(&mut first)).await {
        Ok(Ok(1..)) => {}
        Ok(_) => return Err(Refusal::Quiet),
        Err(_) => {
            return Err(refused(format!(
                "nothing arrived within {timeout_key} ({} ms)",
                limit.as_millis()
            )))
        }
    }
    if first[0] != TLS_HANDSHAKE {
        if tls.unified {
            return Ok(Box::new(stream));
        }
        return Err(refused(format!(
            "its first byte 0x{:02x} is not a TLS ClientHello; sslQuorum=true takes TLS only \
             (is that member configured with sslQuorum=true?)",
            first[0]
        )));
    }
    let acceptor = TlsAcceptor::from(tls.material.current());
    let stream = match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(refused(format!(
                "TLS handshake failed: {e} (a member needs a certificate ssl.quorum.trustStore.location signs)"
            )))
        }
        Err(_) => {
            return Err(refused(format!(
                "TLS handshake not finished within {timeout_key} ({} ms)",
                limit.as_millis()
            )))
        }
    };
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first());
    let Some(leaf) = leaf else {
        return Err(refused("it presented no certificate"));
    };
    if tls.check_address {
        tls::names_address(leaf, peer.ip()).map_err(refused)?;
    }
    if let Some(dn) = tls::subject_dn(leaf) {
        tracing::debug!("quorum peer {peer} presented a certificate for {dn}");
    }
    Ok(Box::new(stream))
}

/// The dialing side: this member's certificate, the other's checked.
async fn connect_tls(tls: &QuorumTls, stream: TcpStream, addr: &str) -> std::io::Result<Secured> {
    let Some(config) = tls.material.current_client() else {
        return Err(std::io::Error::other("no quorum TLS client material"));
    };
    let name = tls::dialed_name(addr).map_err(std::io::Error::other)?;
    let connected = TlsConnector::from(config).connect(name, stream).await;
    let stream = connected.map_err(|e| {
        std::io::Error::other(format!(
            "TLS handshake with {addr} failed: {e} (ssl.quorum.trustStore.location, ssl.quorum.hostnameVerification)"
        ))
    })?;
    Ok(Box::new(stream))
}
