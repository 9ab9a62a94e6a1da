//! The ZooKeeper-compatible server: sockets, sessions, requests and watches.
//!
//! A `create` travels: `listener` accepts the socket; `connection` reads frames,
//! does the handshake and keeps each session's replies in the order it sent the
//! requests; `request::write` turns the request into a transaction and submits it to
//! the log (`corral-consensus`); once applied to the tree (`corral-tree`) the
//! `hub` is told, fires watches through `watches`, and the reply goes out. Reads are
//! answered by `request::read` from this server's tree. `session` tracks liveness and
//! expires sessions through the log; `reaper` removes empty containers and expired TTL
//! nodes; `fourletter` answers operators' words on the client port. In an ensemble,
//! `quorum` drops clients when this server loses its leader or quorum, and lets
//! read-only clients in while that lasts (`readonlymode.enabled`).

mod admin;
pub mod config;
mod connection;
mod fourletter;
mod handshake;
mod hub;
mod listener;
mod metrics;
mod mntr;
mod quorum;
mod reaper;
mod request;
mod session;
mod stats;
mod watches;

use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::{Consensus, Members, Paths, SharedTree, Timing};

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
    #[error("ensemble configuration: {0}")]
    Ensemble(String),
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
    /// In an ensemble: the clients of this server are dropped while it cannot serve.
    pub ensemble: bool,
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
    pub async fn start(mut config: Config) -> Result<Server, ServerError> {
        let lock = lock_data_dir(&config.data_dir)?;
        let hub = Arc::new(hub::Hub::default());
        let timing = timing(&config);
        let paths = Paths {
            snapshots: config.data_dir.join("snapshots"),
            log: config.log_dir().join("log"),
            snap_retain: config.autopurge_snap_retain_count as usize,
            autopurge: config.autopurge_purge_interval_hours > 0,
            extended_types: config.extended_types,
            log_segment_bytes: config.log_segment_bytes,
        };
        let ensemble = config.is_ensemble();
        // mntr's dbinittime: loading the snapshot and the log.
        let db_init = Instant::now();
        let consensus = if ensemble {
            let members = members(&mut config)?;
            let c = Consensus::start_cluster(config.my_id, members, &paths, hub.clone(), timing)
                .await?;
            #[cfg(feature = "test-faults")]
            let c = c.with_fault(config.test_fault.clone());
            let data = ensemble_config(&config);
            // ZooKeeper counts its write of the config node in write_per_namespace.
            mntr::get().write("/zookeeper/config", data.len() as u64);
            c.tree().set_config(data);
            c
        } else {
            let c = Consensus::start_standalone(config.my_id, &paths, hub.clone(), timing).await?;
            #[cfg(feature = "test-faults")]
            let c = c.with_fault(config.test_fault.clone());
            c.wait_leader(Duration::from_secs(30)).await?;
            c.wait_caught_up(Duration::from_secs(600)).await?;
            c
        };
        mntr::get()
            .db_init_ms
            .add(db_init.elapsed().as_millis() as u64);
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
            ensemble,
            started: Instant::now(),
            _lock: lock,
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = vec![
            tokio::spawn(listener::run(socket, state.clone(), stopped.clone())),
            tokio::spawn(session::expire_loop(state.clone(), stopped.clone())),
        ];
        if ensemble {
            tasks.push(tokio::spawn(quorum::watch(state.clone(), stopped.clone())));
        }
        tasks.extend(admin::start(state.clone(), stopped.clone()).await);
        tasks.push(tokio::spawn(reaper::run(state.clone(), stopped)));
        tracing::info!(
            "binding to port {local_addr}; {} (myid {})",
            if ensemble {
                "member of an ensemble"
            } else {
                "serving standalone"
            },
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

/// Raft timing from zoo.cfg. Heartbeats go every tickTime/40 (50 ms at ZooKeeper's
/// default tickTime of 2000 ms). A leader whose process is gone is replaced as soon
/// as its lease (a little over two heartbeats) runs out; a leader that is merely
/// silent, after tickTime/5 to 2*tickTime/5. A follower that hears nothing from a
/// leader for 2*tickTime/5, or a leader without a quorum for that long, stops
/// serving clients. initLimit and syncLimit have no Raft counterpart: a catching-up
/// follower is fed by log or snapshot for as long as it takes. docs/decisions.md
/// gives the reasoning.
fn timing(config: &Config) -> Timing {
    let tick = u64::from(config.tick_time.max(1));
    let heartbeat_ms = (tick / 40).max(10);
    let election_min_ms = (tick / 5).max(heartbeat_ms * 4);
    let election_max_ms = (tick * 2 / 5).max(election_min_ms + heartbeat_ms);
    Timing {
        heartbeat_ms,
        election_min_ms,
        election_max_ms,
        snap_count: config.snap_count.max(1),
        lost_after_ms: election_max_ms,
    }
}

/// The ensemble's members from the server.N lines; the client port comes from this
/// server's own line when it names one.
fn members(config: &mut Config) -> Result<Members, ServerError> {
    let Some(me) = config.me().cloned() else {
        return Err(ServerError::Ensemble(format!(
            "myid {} (from {}/myid) is not among the server.N lines",
            config.my_id,
            config.data_dir.display()
        )));
    };
    if config.peer_type_observer && !me.observer {
        return Err(ServerError::Ensemble(format!(
            "peerType=observer but server.{} is not marked :observer",
            me.id
        )));
    }
    if let Some((address, port)) = &me.client {
        config.client_port = *port;
        if let Some(ip) = address.as_deref().and_then(|a| a.parse().ok()) {
            config.client_port_address = ip;
        }
    }
    let mut members = Members {
        connect: config.peer_connect.clone(),
        ..Members::default()
    };
    for p in &config.servers {
        let side = if p.observer {
            &mut members.observers
        } else {
            &mut members.voters
        };
        side.insert(p.id, format!("{}:{}", p.host, p.quorum_port));
    }
    if members.voters.is_empty() {
        return Err(ServerError::Ensemble("no voting server.N lines".into()));
    }
    Ok(members)
}

/// /zookeeper/config as ZooKeeper writes it: one server.N line per member, then the
/// configuration version.
pub(crate) fn ensemble_config(config: &Config) -> Vec<u8> {
    let mut out = String::new();
    for p in &config.servers {
        let role = if p.observer {
            "observer"
        } else {
            "participant"
        };
        let client = match &p.client {
            Some((address, port)) => {
                format!(";{}:{port}", address.as_deref().unwrap_or("0.0.0.0"))
            }
            None => String::new(),
        };
        out.push_str(&format!(
            "server.{}={}:{}:{}:{role}{client}\n",
            p.id, p.host, p.quorum_port, p.election_port
        ));
    }
    out.push_str("version=0");
    out.into_bytes()
}
