//! Starting and stopping a server: the data directory's lock, the consensus node,
//! the client port, and the background tasks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::{Consensus, Paths};

use crate::config::Config;
use crate::ensemble::{ensemble_config, members, timing};
use crate::hub::Hub;
use crate::session::SessionIds;
use crate::state::ServerState;
use crate::telemetry::Telemetry;
use crate::{admin, expiry, listener, peer_security, quorum, reaper, tls};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
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
        // The PEM files are read before anything else starts, so a bad one stops the
        // server with its key named and nothing half started.
        let material = if config.tls.enabled() {
            Some(Arc::new(tls::Material::load(&config.tls)?))
        } else {
            None
        };
        let admin_tls = match config.admin_tls() {
            Some(settings) => Some(Arc::new(tls::Material::load(&settings)?)),
            None => None,
        };
        let peer_security: Arc<dyn corral_consensus::PeerSecurity> = if config.is_ensemble() {
            Arc::new(peer_security::Guard::new(&config.peer_security)?)
        } else {
            Arc::new(corral_consensus::Plain)
        };
        let data_dir_lock = lock_data_dir(&config.data_dir)?;
        let telemetry = Arc::new(Telemetry::new(config.metrics.is_some()));
        let hub = Arc::new(Hub::new(telemetry.clone()));
        let ensemble = config.is_ensemble();
        // mntr's dbinittime: loading the snapshot and the log.
        let db_init = Instant::now();
        let consensus = start_consensus(&mut config, hub.clone(), peer_security).await?;
        telemetry
            .server_metrics
            .db_init_ms
            .add(db_init.elapsed().as_millis() as u64);
        let listeners = bind_client_ports(&config, &material).await?;
        // The first listener is clientPort, or secureClientPort on a TLS-only server.
        let Some(local_addr) = listeners.first().map(|l| l.1) else {
            // secure_only is set only with a secureClientPort, whose material is loaded.
            panic!("no client listener: TLS-only without a secure client port");
        };
        let listeners = listeners
            .into_iter()
            .map(|(socket, _, port)| (socket, port))
            .collect();
        let session_ids = SessionIds::new(config.my_id);
        let limits = Arc::new(crate::limits::ServerLimits::new(config.limits.clone()));
        let state = Arc::new(ServerState {
            config,
            limits,
            consensus,
            hub,
            telemetry,
            session_ids,
            ensemble,
            started: Instant::now(),
            data_dir_lock,
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = spawn_tasks(listeners, admin_tls, &state, stopped).await;
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

type Listener = (tokio::net::TcpListener, std::net::SocketAddr, tls::Port);

async fn bind(
    addr: std::net::SocketAddr,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ServerError> {
    let socket = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = socket
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    Ok((socket, local))
}

/// clientPort (plaintext, or with `client.portUnification` TLS as well) unless the
/// server is TLS-only, then secureClientPort (TLS only).
async fn bind_client_ports(
    config: &Config,
    material: &Option<Arc<tls::Material>>,
) -> Result<Vec<Listener>, ServerError> {
    let mut listeners = Vec::new();
    if !config.tls.secure_only {
        let addr = std::net::SocketAddr::new(config.client_port_address, config.client_port);
        let (socket, local) = bind(addr).await?;
        let port = match material {
            Some(m) if config.tls.port_unification => tls::Port::Unified(m.clone()),
            _ => tls::Port::Plain,
        };
        listeners.push((socket, local, port));
    }
    if let (Some(port), Some(material)) = (config.tls.secure_client_port, material) {
        let ip = config
            .tls
            .secure_client_port_address
            .unwrap_or(config.client_port_address);
        let (socket, local) = bind(std::net::SocketAddr::new(ip, port)).await?;
        tracing::info!("secure client port (TLS) on {local}");
        listeners.push((socket, local, tls::Port::Tls(material.clone())));
    }
    Ok(listeners)
}

/// The consensus node: a member of the ensemble the server.N lines name, or a
/// standalone node that has loaded its log before the server takes clients.
async fn start_consensus(
    config: &mut Config,
    hub: Arc<Hub>,
    security: Arc<dyn corral_consensus::PeerSecurity>,
) -> Result<Consensus, ServerError> {
    let paths = Paths {
        snapshots: config.data_dir.join("snapshots"),
        log: config.log_dir().join("log"),
        snap_retain: config.autopurge_snap_retain_count as usize,
        autopurge: config.autopurge_purge_interval_hours > 0,
        extended_types: config.extended_types,
        auth_schemes: corral_tree::acl::AuthSchemes {
            x509: config.tls.enabled(),
            sasl: !config.sasl.users.is_empty(),
        },
        log_segment_bytes: config.log_segment_bytes,
    };
    let timing = timing(config);
    if config.is_ensemble() {
        let members = members(config).map_err(ServerError::Ensemble)?;
        let c =
            Consensus::start_cluster(config.my_id, members, &paths, hub.clone(), timing, security)
                .await?;
        #[cfg(feature = "test-faults")]
        let c = c.with_fault(config.test_fault.clone());
        let data = ensemble_config(config);
        // ZooKeeper counts its write of the config node in write_per_namespace.
        hub.telemetry()
            .server_metrics
            .write("/zookeeper/config", data.len() as u64);
        c.tree().set_config(data);
        Ok(c)
    } else {
        let c = Consensus::start_standalone(config.my_id, &paths, hub, timing).await?;
        #[cfg(feature = "test-faults")]
        let c = c.with_fault(config.test_fault.clone());
        c.wait_leader(Duration::from_secs(30)).await?;
        c.wait_caught_up(Duration::from_secs(600)).await?;
        Ok(c)
    }
}

/// The listener, session expiry, the quorum monitor (in an ensemble), the admin and
/// metrics servers, and the reaper; each ends when `stopped` turns true.
async fn spawn_tasks(
    listeners: Vec<(tokio::net::TcpListener, tls::Port)>,
    admin_tls: Option<Arc<tls::Material>>,
    state: &Arc<ServerState>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks: Vec<_> = listeners
        .into_iter()
        .map(|(socket, port)| {
            tokio::spawn(listener::run(socket, port, state.clone(), stopped.clone()))
        })
        .collect();
    tasks.push(tokio::spawn(expiry::run(state.clone(), stopped.clone())));
    if state.ensemble {
        tasks.push(tokio::spawn(quorum::watch(state.clone(), stopped.clone())));
    }
    tasks.extend(admin::start(state.clone(), admin_tls, stopped.clone()).await);
    tasks.push(tokio::spawn(reaper::run(state.clone(), stopped)));
    tasks
}
