//! A TLS-capable listener's side of a new connection: the first byte tells a TLS
//! ClientHello (record type 0x16) from plaintext, the handshake runs under
//! `ssl.handshakeDetectionTimeoutMillis`, and the client certificate's subject becomes
//! the connection's `x509:` id (and `super` when it is the configured super user).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use corral_jute::records::Id;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::identity::subject_dn;
use super::material::Material;
use crate::connection;
use crate::state::ServerState;
use crate::wire::ConnId;

/// The first byte of a TLS record that carries a handshake message.
const TLS_HANDSHAKE: u8 = 0x16;

/// What a listener serves.
#[derive(Clone)]
pub enum Port {
    Plain,
    /// `secureClientPort`: TLS only.
    Tls(Arc<Material>),
    /// `client.portUnification`: TLS or plaintext, told apart by the first byte.
    Unified(Arc<Material>),
}

/// Serves one accepted connection as its port says.
pub async fn serve(
    port: Port,
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<ServerState>,
    id: ConnId,
) {
    let (material, unified) = match port {
        Port::Plain => return connection::serve(stream, peer, state, id).await,
        Port::Tls(m) => (m, false),
        Port::Unified(m) => (m, true),
    };
    let limit = Duration::from_millis(state.config.tls.handshake_timeout_ms);
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(limit, stream.peek(&mut first)).await;
    match peeked {
        Ok(Ok(1..)) => {}
        Ok(_) => return,
        Err(_) => {
            tracing::warn!("closing connection from {peer}: nothing arrived within ssl.handshakeDetectionTimeoutMillis ({} ms)", limit.as_millis());
            return;
        }
    }
    if first[0] != TLS_HANDSHAKE {
        if unified {
            return connection::serve(stream, peer, state, id).await;
        }
        tracing::warn!(
            "closing connection from {peer}: its first byte 0x{:02x} is not a TLS ClientHello; \
             the secure client port takes TLS only (is the client configured for TLS?)",
            first[0]
        );
        return;
    }
    let _ = stream.set_nodelay(true);
    let acceptor = TlsAcceptor::from(material.current());
    let tls = match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::warn!("closing connection from {peer}: TLS handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::warn!("closing connection from {peer}: TLS handshake not finished within ssl.handshakeDetectionTimeoutMillis ({} ms)", limit.as_millis());
            return;
        }
    };
    let certified = certificate_ids(&state, tls.get_ref().1.peer_certificates(), peer);
    connection::serve_tls(tls, certified, peer, state, id).await;
}

/// The ids ZooKeeper's X509AuthenticationProvider gives a verified client
/// certificate: `x509:<subject DN>`, and `super:<DN>` first when the DN is
/// `X509AuthenticationProvider.superUser`.
fn certificate_ids(
    state: &ServerState,
    chain: Option<&[rustls_pki_types::CertificateDer<'_>]>,
    peer: SocketAddr,
) -> Vec<Id> {
    let Some(leaf) = chain.and_then(|c| c.first()) else {
        return Vec::new();
    };
    let Some(dn) = subject_dn(leaf) else {
        tracing::warn!("client {peer}: its certificate's subject does not parse; no x509 id");
        return Vec::new();
    };
    let mut ids = Vec::with_capacity(2);
    if state.config.tls.x509_super_user.as_deref() == Some(dn.as_str()) {
        ids.push(Id {
            scheme: "super".into(),
            id: dn.clone(),
        });
    }
    tracing::info!("client {peer} authenticated as x509:{dn}");
    ids.push(Id {
        scheme: "x509".into(),
        id: dn,
    });
    ids
}
