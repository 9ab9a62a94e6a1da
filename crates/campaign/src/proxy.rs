//! A TCP proxy that the nemesis can cut: one listener on 127.0.0.1 in front of one
//! upstream address, carrying every connection made through it.
//!
//! A cut stalls the link instead of closing it, as a partition does: bytes already
//! sent wait in the kernel's buffers, nothing new arrives, and a connection opened
//! during the cut is accepted but reaches nobody until the cut heals. When it heals,
//! what waited is delivered in order, so no stream is ever corrupted. `reset` is the
//! other fault: every connection through the proxy is closed at once, as when a
//! middlebox drops its state.
//!
//! A link is one direction of connecting: the proxy in front of server j that server
//! i dials. Cutting it one way stalls what i sends on the connections i opened to j,
//! while j's own connections to i (another proxy) keep working.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Which way bytes may flow through a link at the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// From the side that connected to the upstream server.
    pub outbound: bool,
    /// From the upstream server back.
    pub inbound: bool,
}

impl Flow {
    pub const OPEN: Flow = Flow {
        outbound: true,
        inbound: true,
    };
    pub const CUT: Flow = Flow {
        outbound: false,
        inbound: false,
    };
}

#[derive(Debug, Clone, Copy)]
struct State {
    flow: Flow,
    /// Bumped by `reset`: connections from an older generation close.
    generation: u64,
}

/// A handle to a running proxy.
#[derive(Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<watch::Sender<State>>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, _) = watch::channel(State {
            flow: Flow::OPEN,
            generation: 0,
        });
        let state = Arc::new(state);
        tokio::spawn(accept(listener, upstream, state.clone()));
        Ok(Proxy { addr, state })
    }

    pub fn set_flow(&self, flow: Flow) {
        self.state.send_modify(|s| s.flow = flow);
    }

    pub fn flow(&self) -> Flow {
        self.state.borrow().flow
    }

    /// Closes every connection through the proxy now; new ones are carried as usual.
    pub fn reset(&self) {
        self.state.send_modify(|s| s.generation += 1);
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, state: Arc<watch::Sender<State>>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors, most likely: spinning would not free any.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let _ = client.set_nodelay(true);
        tokio::spawn(carry(client, upstream, state.subscribe()));
    }
}

/// One connection: waits until it may reach upstream, then pumps both ways.
async fn carry(client: TcpStream, upstream: SocketAddr, mut state: watch::Receiver<State>) {
    let generation = state.borrow().generation;
    let reached = state
        .wait_for(|s| s.generation != generation || s.flow.outbound)
        .await
        .map(|s| s.generation == generation);
    if !matches!(reached, Ok(true)) {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let out = pump(client_read, server_write, state.clone(), generation, |f| {
        f.outbound
    });
    let back = pump(server_read, client_write, state, generation, |f| f.inbound);
    // Either side closing, or a reset, ends the connection both ways.
    tokio::select! {
        _ = out => {}
        _ = back => {}
    }
}

/// Copies one direction while the flow allows it; returns when the stream ends, an
/// error occurs or the proxy is reset.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut state: watch::Receiver<State>,
    generation: u64,
    allowed: fn(&Flow) -> bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Not reading while cut is what makes the sender's bytes wait, not vanish.
        let open = state
            .wait_for(|s| s.generation != generation || allowed(&s.flow))
            .await
            .map(|s| s.generation == generation);
        if !matches!(open, Ok(true)) {
            return;
        }
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = state.changed() => continue,
        };
        // A cut that begins now holds these bytes until it heals.
        let open = state
            .wait_for(|s| s.generation != generation || allowed(&s.flow))
            .await
            .map(|s| s.generation == generation);
        if !matches!(open, Ok(true)) || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
