//! What a server is configured to do: the `Config` value, its server.N lines, and the
//! embedded defaults.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One `server.N=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: u64,
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
    pub observer: bool,
    pub client: Option<(Option<String>, u16)>,
}

impl Peer {
    /// host:quorumPort, where the other members reach this one.
    pub fn quorum_address(&self) -> String {
        format!("{}:{}", self.host, self.quorum_port)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub client_port: u16,
    pub client_port_address: IpAddr,
    pub data_dir: PathBuf,
    pub data_log_dir: Option<PathBuf>,
    pub tick_time: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    pub min_session_timeout: u32,
    pub max_session_timeout: u32,
    pub max_client_cnxns: u32,
    /// The connection and request limits besides `maxClientCnxns`.
    pub limits: super::limits::Limits,
    /// `None` means the default set (see `fourletter`); `Some(["*"])` means all.
    pub four_letter_whitelist: Option<Vec<String>>,
    pub max_buffer: usize,
    pub extended_types: bool,
    pub super_digest: Option<String>,
    pub sasl: super::sasl::SaslConfig,
    pub read_only_mode: bool,
    pub snap_count: u64,
    pub autopurge_snap_retain_count: u32,
    pub autopurge_purge_interval_hours: u32,
    pub container_check_interval_ms: u64,
    pub servers: Vec<Peer>,
    /// `peerType=observer`: this server joins as a non-voting observer.
    pub peer_type_observer: bool,
    /// The AdminServer: `admin.enableServer`, `admin.serverAddress`, `admin.serverPort`.
    pub admin: Option<std::net::SocketAddr>,
    /// `admin.forceHttps`, `admin.portUnification`, `admin.needClientAuth`.
    pub admin_https: super::tls::AdminHttps,
    /// `admin.snapshot.enabled`: the AdminServer's `snapshot` command (3.9).
    pub admin_snapshot_enabled: bool,
    /// `admin.restore.enabled`: the AdminServer's `restore` command (3.9).
    pub admin_restore_enabled: bool,
    /// `admin.rateLimiterIntervalInMS`: at most one `snapshot` per this many
    /// microseconds (ZooKeeper's unit quirk, kept), one `restore` per this many ms.
    pub admin_rate_limiter_interval: u64,
    /// `admin.snapshot.intervalInMS` and `admin.restore.intervalInMS` (Corral's): each
    /// command's own interval, in milliseconds, in place of the shared one.
    pub admin_snapshot_interval_ms: Option<u64>,
    pub admin_restore_interval_ms: Option<u64>,
    /// Prometheus /metrics: `metricsProvider.httpHost` and `metricsProvider.httpPort`
    /// (`metricsProvider.httpPort=0` turns it off).
    pub metrics: Option<std::net::SocketAddr>,
    /// `corral.metricsZooKeeperCountNames`: also export znode_count, watch_count and
    /// ephemerals_count, which promtool's lint rejects (see metrics.rs).
    pub metrics_zk_count_names: bool,
    /// `metricsProvider.className=org.apache.zookeeper.metrics.prometheus.
    /// PrometheusMetricsProvider`: /metrics also has every name ZooKeeper's provider
    /// exports, from mntr's values (the count names included).
    pub metrics_zookeeper_provider: bool,
    /// `corral.logDir` (or ZOO_LOG_DIR): daily log files there besides stderr.
    pub log_dir: Option<PathBuf>,
    /// `corral.logFormat`: `text` (ZooKeeper's line shape) or `json`.
    pub log_format: LogFormat,
    pub my_id: u64,
    /// `corral.sessionPasswords=zookeeper`: new sessions get the password ZooKeeper
    /// derives from the id, so they can move back to ZooKeeper; `random` (default).
    pub zookeeper_session_passwords: bool,
    /// `corral.logSegmentBytes`: when a log segment is sealed and a new one started.
    pub log_segment_bytes: u64,
    /// The config file this came from, for `conf`.
    pub source: Option<PathBuf>,
    /// `corral.peerConnectAddress.N=host:port`: reach server N there rather than at
    /// its server.N address (a proxy or NAT between the servers; the fault campaign
    /// puts its proxies there).
    pub peer_connect: std::collections::BTreeMap<u64, String>,
    /// `corral.testFault`: a deliberate bug, for the fault campaign to catch. Off
    /// unless set; only a build with the `test-faults` feature has it.
    #[cfg(feature = "test-faults")]
    pub test_fault: Option<corral_consensus::Fault>,
    /// Client TLS: `secureClientPort`, `client.portUnification` and the `ssl.*` keys.
    pub tls: super::tls::TlsSettings,
    /// Security between the members: `sslQuorum`, `ssl.quorum.*`, `quorum.auth.*`.
    pub peer_security: super::peer_security::PeerSecurityConfig,
    /// What loading corrected or ignored (as ZooKeeper does, with a warning): logging
    /// is not set up while the file is read, so the server logs these once it is.
    pub warnings: Vec<String>,
}

impl Default for Config {
    /// The embedded default: standalone on 127.0.0.1:2181, data under `./data`.
    fn default() -> Self {
        Config {
            client_port: 2181,
            client_port_address: IpAddr::from([127, 0, 0, 1]),
            data_dir: PathBuf::from("data"),
            data_log_dir: None,
            tick_time: 2000,
            init_limit: 10,
            sync_limit: 5,
            min_session_timeout: 4000,
            max_session_timeout: 40000,
            max_client_cnxns: 60,
            limits: Default::default(),
            four_letter_whitelist: None,
            max_buffer: corral_jute::DEFAULT_MAX_BUFFER,
            extended_types: false,
            super_digest: None,
            sasl: Default::default(),
            read_only_mode: false,
            snap_count: 100_000,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 1,
            container_check_interval_ms: 60_000,
            servers: Vec::new(),
            peer_type_observer: false,
            admin: Some(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 8080)),
            admin_https: Default::default(),
            admin_snapshot_enabled: true,
            admin_restore_enabled: true,
            admin_rate_limiter_interval: 300_000,
            admin_snapshot_interval_ms: None,
            admin_restore_interval_ms: None,
            metrics: Some(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 7000)),
            log_dir: std::env::var_os("ZOO_LOG_DIR").map(PathBuf::from),
            log_format: LogFormat::Text,
            metrics_zk_count_names: false,
            metrics_zookeeper_provider: false,
            my_id: 1,
            log_segment_bytes: 64 << 20,
            zookeeper_session_passwords: false,
            source: None,
            peer_connect: Default::default(),
            #[cfg(feature = "test-faults")]
            test_fault: None,
            tls: Default::default(),
            peer_security: Default::default(),
            warnings: Vec::new(),
        }
    }
}

impl Config {
    /// True when the server.N lines describe an ensemble. One voter alone runs
    /// standalone, as ZooKeeper does with standaloneEnabled (its default).
    pub fn is_ensemble(&self) -> bool {
        self.servers.len() > 1 || self.servers.iter().any(|p| p.observer)
    }

    /// This server's own server.N line.
    pub fn me(&self) -> Option<&Peer> {
        self.servers.iter().find(|p| p.id == self.my_id)
    }

    /// The TLS settings of the AdminServer's HTTPS, when it has any: the
    /// `ssl.quorum.*` stores as ZooKeeper's Jetty reads them, or the client port's
    /// `ssl.*` ones when no quorum key store is set (one PEM file serves both).
    pub fn admin_tls(&self) -> Option<super::tls::TlsSettings> {
        if self.admin.is_none() || !self.admin_https.enabled() {
            return None;
        }
        let family = if self.peer_security.tls.key_store.is_some() {
            &self.peer_security.tls
        } else {
            &self.tls
        };
        Some(family.for_admin(self.admin_https))
    }

    /// Where the transaction log lives: dataLogDir, or dataDir when it is unset.
    pub fn log_dir(&self) -> &Path {
        self.data_log_dir.as_deref().unwrap_or(&self.data_dir)
    }
}
