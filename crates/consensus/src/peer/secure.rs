//! How a connection between members is secured before the first frame: the
//! [`PeerSecurity`] hook, which the server above implements (TLS, SASL) and this
//! crate runs on every peer connection, on both ends, before a `Hello` is read or
//! written. [`Plain`] is the hook of an ensemble without quorum security: the TCP
//! stream as it is.
//!
//! The hook owns its own limits: whatever it reads from a stranger before refusing
//! it, it bounds itself, so that this crate reads no frame from an unauthenticated
//! peer.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream between two members, TLS or plain.
pub trait PeerStream: AsyncRead + AsyncWrite + Send + Sync + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin> PeerStream for T {}

/// A secured peer connection.
pub type Secured = Box<dyn PeerStream>;

/// Why an accepted connection is not served.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Closed before it sent anything, as the election driver's probes do: not worth
    /// a warning.
    #[error("closed before sending anything")]
    Quiet,
    /// Refused, for the reason given (the serving side logs it as a warning).
    #[error("{0}")]
    Refused(String),
}

/// Secures a peer connection on each end.
pub trait PeerSecurity: Send + Sync {
    /// A connection accepted on the quorum port from `peer`.
    fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> BoxFuture<'static, Result<Secured, Refusal>>;

    /// A connection this server opened to the member at `addr` (host:port as the
    /// server.N line or corral.peerConnectAddress.N names it).
    fn connect(
        &self,
        stream: TcpStream,
        addr: &str,
    ) -> BoxFuture<'static, std::io::Result<Secured>>;
}

/// No quorum security: the TCP stream as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl PeerSecurity for Plain {
    fn accept(
        &self,
        stream: TcpStream,
        _peer: SocketAddr,
    ) -> BoxFuture<'static, Result<Secured, Refusal>> {
        Box::pin(async move { Ok(Box::new(stream) as Secured) })
    }

    fn connect(
        &self,
        stream: TcpStream,
        _addr: &str,
    ) -> BoxFuture<'static, std::io::Result<Secured>> {
        Box::pin(async move { Ok(Box::new(stream) as Secured) })
    }
}

/// Opens a secured connection to `addr`: TCP, then the hook, both within `limit`.
pub(crate) async fn dial(
    security: &dyn PeerSecurity,
    addr: &str,
    limit: std::time::Duration,
) -> std::io::Result<Secured> {
    let attempt = async {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        security.connect(stream, addr).await
    };
    tokio::time::timeout(limit, attempt).await.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("connecting to {addr} timed out"),
        )
    })?
}
