//! The AdminServer's listener under `admin.forceHttps` (HTTPS only) or
//! `admin.portUnification` (HTTPS and HTTP on one port, told apart by the first
//! byte, as ZooKeeper's Jetty UnifiedConnectionFactory does).
//!
//! Handshakes run in their own tasks, so one slow or silent client cannot hold up
//! the next; finished connections reach axum through a bounded queue. The key and
//! trust files are the client port's `Material`, read again when they change.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::tls::Material;

/// The first byte of a TLS record that carries a handshake message.
const TLS_HANDSHAKE: u8 = 0x16;
/// Connections handshaken and not yet taken by axum.
const READY: usize = 64;
/// Handshakes in progress at once; more wait in the kernel's accept queue.
const HANDSHAKING: usize = 256;

/// A connection's byte stream, TLS or (under port unification) plain.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What axum serves: connections whose TLS handshake is done.
pub struct HttpsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(Box<dyn Stream>, SocketAddr)>,
    _accepting: tokio::task::JoinHandle<()>,
}

impl HttpsListener {
    pub fn new(
        listener: TcpListener,
        material: Arc<Material>,
        unified: bool,
        handshake_timeout: Duration,
    ) -> io::Result<HttpsListener> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY);
        let accepting = tokio::spawn(accept_loop(
            listener,
            material,
            unified,
            handshake_timeout,
            tx,
        ));
        Ok(HttpsListener {
            local,
            ready,
            _accepting: accepting,
        })
    }
}

impl Drop for HttpsListener {
    fn drop(&mut self) {
        self._accepting.abort();
    }
}

impl axum::serve::Listener for HttpsListener {
    type Io = Box<dyn Stream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop ends only when the listener is dropped; wait for the
            // graceful shutdown that is dropping it.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    listener: TcpListener,
    material: Arc<Material>,
    unified: bool,
    limit: Duration,
    ready: mpsc::Sender<(Box<dyn Stream>, SocketAddr)>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(HANDSHAKING));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("AdminServer accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (material, ready) = (material.clone(), ready.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let conn = tokio::time::timeout(limit, handshake(stream, peer, &material, unified));
            match conn.await {
                Ok(Some(io)) => {
                    let _ = ready.send((io, peer)).await;
                }
                Ok(None) => {}
                Err(_) => tracing::warn!(
                    "AdminServer: closing connection from {peer}: TLS handshake not finished \
                     within ssl.handshakeDetectionTimeoutMillis ({} ms)",
                    limit.as_millis()
                ),
            }
        });
    }
}

/// The connection as axum should read it, or None when it was refused (logged).
async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    material: &Material,
    unified: bool,
) -> Option<Box<dyn Stream>> {
    let mut first = [0u8; 1];
    if !matches!(stream.peek(&mut first).await, Ok(1..)) {
        return None;
    }
    if first[0] != TLS_HANDSHAKE {
        if unified {
            return Some(Box::new(stream));
        }
        tracing::warn!(
            "AdminServer: closing connection from {peer}: it is not TLS and \
             admin.forceHttps=true (use https://)"
        );
        return None;
    }
    match TlsAcceptor::from(material.current()).accept(stream).await {
        Ok(tls) => Some(Box::new(tls)),
        Err(e) => {
            tracing::warn!(
                "AdminServer: closing connection from {peer}: TLS handshake failed: {e}"
            );
            None
        }
    }
}
