//! The ZooKeeper-compatible server: sockets, sessions, requests and watches.
//!
//! A `create` travels: `listener` accepts the socket; `connection` reads frames,
//! does the handshake and keeps each session's replies in the order it sent the
//! requests; `request::write` turns the request into a transaction and submits it to
//! the log (`corral-consensus`); once applied to the tree (`corral-tree`) the
//! `hub` is told, fires watches through `watches`, and the reply goes out. Reads are
//! answered by `request::read` from this server's tree. `session` tracks liveness and
//! expires sessions through the log; `reaper` removes empty containers and expired TTL
//! nodes; `fourletter` answers operators' words on the client port.

pub mod config;
mod connection;
mod fourletter;
mod hub;
mod listener;
mod reaper;
mod request;
mod session;
mod stats;
mod watches;

use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::{Consensus, Paths, SharedTree, Timing};

pub use config::{Config, ConfigError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Consensus(#[from] corral_consensus::ConsensusError),
    #[error("dataDir {dir}: {reason}")]
    DataDir {
        dir: std::path::PathBuf,
        reason: String,
    },
}

/// Holds `<dataDir>/corral.lock` for the life of the server, so a second server
/// pointed at the same directory refuses to start instead of corrupting it.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, ServerError> {
    let fail = |reason: String| ServerError::DataDir {
        dir: dir.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("corral.lock"))
        .map_err(|e| fail(e.to_string()))?;
    file.try_lock()
        .map_err(|_| fail("another server is using this directory".into()))?;
    Ok(file)
}

/// Everything a connection needs, shared by all of them.
pub(crate) struct ServerState {
    pub config: Config,
    pub consensus: Consensus,
    pub hub: Arc<hub::Hub>,
    pub stats: stats::Stats,
    pub session_ids: session::SessionIds,
    pub started: Instant,
    _lock: std::fs::File,
}

impl ServerState {
    pub fn tree(&self) -> &SharedTree {
        self.consensus.tree()
    }
}

/// A started server; dropping it does not stop it, `shutdown` does.
pub struct Server {
    state: Arc<ServerState>,
    local_addr: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Starts the consensus node, the listener and the background tasks.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        let lock = lock_data_dir(&config.data_dir)?;
        let hub = Arc::new(hub::Hub::default());
        let tick = u64::from(config.tick_time.max(1));
        let timing = Timing {
            heartbeat_ms: (tick / 2).max(50),
            election_min_ms: tick * 2,
            election_max_ms: tick * 4,
            snap_count: config.snap_count.max(1),
        };
        let paths = Paths {
            snapshots: config.data_dir.join("snapshots"),
            log: config.log_dir().join("log"),
            snap_retain: config.autopurge_snap_retain_count as usize,
            autopurge: config.autopurge_purge_interval_hours > 0,
            extended_types: config.extended_types,
            log_segment_bytes: config.log_segment_bytes,
        };
        let consensus =
            Consensus::start_standalone(config.my_id, &paths, hub.clone(), timing).await?;
        consensus.wait_leader(Duration::from_secs(30)).await?;
        consensus.wait_caught_up(Duration::from_secs(600)).await?;
        let addr = std::net::SocketAddr::new(config.client_port_address, config.client_port);
        let socket = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = socket
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let config_id = config.my_id;
        let state = Arc::new(ServerState {
            config,
            consensus,
            hub,
            stats: stats::Stats::default(),
            session_ids: session::SessionIds::new(config_id),
            started: Instant::now(),
            _lock: lock,
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = vec![
            tokio::spawn(listener::run(socket, state.clone(), stopped.clone())),
            tokio::spawn(session::expire_loop(state.clone(), stopped.clone())),
            tokio::spawn(reaper::run(state.clone(), stopped)),
        ];
        tracing::info!(
            "binding to port {local_addr}; serving standalone (myid {})",
            state.config.my_id
        );
        Ok(Server {
            state,
            local_addr,
            stop,
            tasks,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        self.state.consensus.shutdown().await;
    }
}
