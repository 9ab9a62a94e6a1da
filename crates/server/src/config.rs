//! Server configuration, read from an Apache ZooKeeper `zoo.cfg` as it is.
//!
//! ZooKeeper turns keys it does not know into `zookeeper.`-prefixed system properties,
//! and takes some settings only as `-D` JVM flags. Corral accepts every such key with
//! or without the prefix, from the file or from `-Dkey=value` words in SERVER_JVMFLAGS
//! and JVMFLAGS; the file wins, as ZooKeeper's own parsing does.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: java_properties::PropertiesError,
    },
    #[error("{key}: {value:?} is not a valid {what}")]
    Invalid {
        key: String,
        value: String,
        what: &'static str,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

fn set_port(addr: &mut Option<SocketAddr>, port: u16) {
    if let Some(a) = addr {
        a.set_port(port);
    }
}

fn set_ip(addr: &mut Option<SocketAddr>, ip: IpAddr) {
    if let Some(a) = addr {
        a.set_ip(ip);
    }
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
    /// `None` means the default set (see `fourletter`); `Some(["*"])` means all.
    pub four_letter_whitelist: Option<Vec<String>>,
    pub max_buffer: usize,
    pub extended_types: bool,
    pub super_digest: Option<String>,
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
    /// Prometheus /metrics: `metricsProvider.httpHost` and `metricsProvider.httpPort`
    /// (`metricsProvider.httpPort=0` turns it off).
    pub metrics: Option<std::net::SocketAddr>,
    /// `corral.metricsZooKeeperCountNames`: also export znode_count, watch_count and
    /// ephemerals_count, which promtool's lint rejects (see metrics.rs).
    pub metrics_zk_count_names: bool,
    /// `corral.logDir` (or ZOO_LOG_DIR): daily log files there besides stderr.
    pub log_dir: Option<PathBuf>,
    /// `corral.logFormat`: `text` (ZooKeeper's line shape) or `json`.
    pub log_format: LogFormat,
    pub my_id: u64,
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
            four_letter_whitelist: None,
            max_buffer: corral_jute::DEFAULT_MAX_BUFFER,
            extended_types: false,
            super_digest: None,
            read_only_mode: false,
            snap_count: 100_000,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 1,
            container_check_interval_ms: 60_000,
            servers: Vec::new(),
            peer_type_observer: false,
            admin: Some(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 8080)),
            metrics: Some(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 7000)),
            log_dir: std::env::var_os("ZOO_LOG_DIR").map(PathBuf::from),
            log_format: LogFormat::Text,
            metrics_zk_count_names: false,
            my_id: 1,
            log_segment_bytes: 64 << 20,
            source: None,
            peer_connect: Default::default(),
            #[cfg(feature = "test-faults")]
            test_fault: None,
        }
    }
}

/// Keys ZooKeeper knows that Corral accepts without acting on them yet.
const ACCEPTED: &[&str] = &[
    "electionAlg",
    "quorumListenOnAllIPs",
    "standaloneEnabled",
    "reconfigEnabled",
    "metricsProvider.className",
    "admin.commandURL",
    "syncEnabled",
    "preAllocSize",
    "globalOutstandingLimit",
    "leaderServes",
    "cnxTimeout",
    "forceSync",
    "dynamicConfigFile",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "secureClientPort",
    "serverCnxnFactory",
    "maxSessionTimeout",
    "znode.container.maxPerMinute",
    "skipACL",
    "4lw.commands.whitelist",
];

impl Config {
    /// Reads a zoo.cfg, with JVM-flag properties from the environment beneath it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = std::fs::File::open(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let props = java_properties::read(std::io::BufReader::new(file)).map_err(|source| {
            ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let mut merged = jvm_flag_properties();
        merged.extend(
            props
                .into_iter()
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string())),
        );
        let mut config = Config {
            // A zoo.cfg without clientPortAddress binds every interface, as ZooKeeper does.
            client_port_address: IpAddr::from([0, 0, 0, 0]),
            source: Some(path.to_path_buf()),
            ..Config::default()
        };
        let mut min_set = false;
        let mut max_set = false;
        let mut admin_ip_set = false;
        let mut metrics_ip_set = false;
        for (key, value) in &merged {
            let key = key.strip_prefix("zookeeper.").unwrap_or(key);
            match key {
                "minSessionTimeout" => min_set = true,
                "maxSessionTimeout" => max_set = true,
                "admin.serverAddress" => admin_ip_set = true,
                "metricsProvider.httpHost" => metrics_ip_set = true,
                _ => {}
            }
            config.set(key, value)?;
        }
        // The HTTP endpoints listen where the client port does unless told otherwise:
        // every interface for a plain zoo.cfg, as ZooKeeper's AdminServer does.
        if !admin_ip_set {
            set_ip(&mut config.admin, config.client_port_address);
        }
        if !metrics_ip_set {
            set_ip(&mut config.metrics, config.client_port_address);
        }
        if !min_set {
            config.min_session_timeout = config.tick_time * 2;
        }
        if !max_set {
            config.max_session_timeout = config.tick_time * 20;
        }
        if let Some(id) = read_myid(&config.data_dir) {
            config.my_id = id;
        }
        Ok(config)
    }

    /// The embedded default, with JVM-flag properties from the environment applied.
    pub fn embedded() -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for (key, value) in jvm_flag_properties() {
            let key = key.strip_prefix("zookeeper.").unwrap_or(&key).to_string();
            config.set(&key, &value)?;
        }
        Ok(config)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "clientPort" => self.client_port = parse(key, value, "port")?,
            "clientPortAddress" => self.client_port_address = parse(key, value, "address")?,
            "dataDir" => self.data_dir = PathBuf::from(value),
            "dataLogDir" => self.data_log_dir = Some(PathBuf::from(value)),
            "tickTime" => self.tick_time = parse(key, value, "number of milliseconds")?,
            "initLimit" => self.init_limit = parse(key, value, "number of ticks")?,
            "syncLimit" => self.sync_limit = parse(key, value, "number of ticks")?,
            "minSessionTimeout" => self.min_session_timeout = parse(key, value, "timeout")?,
            "maxSessionTimeout" => self.max_session_timeout = parse(key, value, "timeout")?,
            "maxClientCnxns" => self.max_client_cnxns = parse(key, value, "count")?,
            "4lw.commands.whitelist" => {
                let words = value
                    .split(',')
                    .map(|w| w.trim().to_string())
                    .filter(|w| !w.is_empty())
                    .collect();
                self.four_letter_whitelist = Some(words);
            }
            "jute.maxbuffer" => self.max_buffer = parse_int_or_hex(key, value)?,
            "extendedTypesEnabled" => self.extended_types = parse_bool(key, value)?,
            "DigestAuthenticationProvider.superDigest" => self.super_digest = Some(value.into()),
            "readonlymode.enabled" => self.read_only_mode = parse_bool(key, value)?,
            "snapCount" => self.snap_count = parse(key, value, "count")?,
            "autopurge.snapRetainCount" => {
                // ZooKeeper never keeps fewer than 3.
                self.autopurge_snap_retain_count = parse::<u32>(key, value, "count")?.max(3)
            }
            "autopurge.purgeInterval" => {
                self.autopurge_purge_interval_hours = parse(key, value, "number of hours")?
            }
            "znode.container.checkIntervalMs" => {
                self.container_check_interval_ms = parse(key, value, "number of milliseconds")?
            }
            "peerType" => match value {
                "observer" => self.peer_type_observer = true,
                "participant" => self.peer_type_observer = false,
                _ => {
                    return Err(ConfigError::Invalid {
                        key: key.into(),
                        value: value.into(),
                        what: "peer type (participant or observer)",
                    })
                }
            },
            "admin.enableServer" => {
                if !parse_bool(key, value)? {
                    self.admin = None;
                } else if self.admin.is_none() {
                    self.admin = Some(SocketAddr::new(self.client_port_address, 8080));
                }
            }
            "admin.serverPort" => set_port(&mut self.admin, parse(key, value, "port")?),
            "admin.serverAddress" => set_ip(&mut self.admin, parse(key, value, "address")?),
            "metricsProvider.httpPort" => {
                let port: u16 = parse(key, value, "port")?;
                if port == 0 {
                    self.metrics = None;
                } else {
                    set_port(&mut self.metrics, port);
                }
            }
            "metricsProvider.httpHost" => set_ip(&mut self.metrics, parse(key, value, "address")?),
            "corral.metricsZooKeeperCountNames" => {
                self.metrics_zk_count_names = parse_bool(key, value)?
            }
            "corral.logDir" => self.log_dir = Some(PathBuf::from(value)),
            "corral.logFormat" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => {
                        return Err(ConfigError::Invalid {
                            key: key.into(),
                            value: value.into(),
                            what: "log format (text or json)",
                        })
                    }
                }
            }
            "corral.logSegmentBytes" => self.log_segment_bytes = parse(key, value, "size")?,
            #[cfg(feature = "test-faults")]
            "corral.testFault" => {
                self.test_fault = match value {
                    "none" => None,
                    _ => Some(corral_consensus::Fault::parse(value).ok_or_else(|| {
                        ConfigError::Invalid {
                            key: key.into(),
                            value: value.into(),
                            what: "test fault (none, stale-sync or panic-applying:PATH)",
                        }
                    })?),
                }
            }
            #[cfg(not(feature = "test-faults"))]
            "corral.testFault" => {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    value: value.into(),
                    what: "setting in this build: it has no test faults (they need the test-faults feature)",
                })
            }
            k if k.starts_with("corral.peerConnectAddress.") => {
                let id = parse(key, &k["corral.peerConnectAddress.".len()..], "server id")?;
                if value.rsplit_once(':').is_none() {
                    return Err(ConfigError::Invalid {
                        key: key.into(),
                        value: value.into(),
                        what: "host:port",
                    });
                }
                self.peer_connect.insert(id, value.to_string());
            }
            k if k.starts_with("server.") => {
                let id = parse(key, &k["server.".len()..], "server id")?;
                self.servers.push(parse_peer(id, key, value)?);
            }
            k if ACCEPTED.contains(&k) => {}
            _ => tracing::warn!("unknown configuration key {key:?} ignored"),
        }
        Ok(())
    }

    /// True when the server.N lines describe an ensemble. One voter alone runs
    /// standalone, as ZooKeeper does with standaloneEnabled (its default).
    pub fn is_ensemble(&self) -> bool {
        self.servers.len() > 1 || self.servers.iter().any(|p| p.observer)
    }

    /// This server's own server.N line.
    pub fn me(&self) -> Option<&Peer> {
        self.servers.iter().find(|p| p.id == self.my_id)
    }

    /// Where the transaction log lives: dataLogDir, or dataDir when it is unset.
    pub fn log_dir(&self) -> &Path {
        self.data_log_dir.as_deref().unwrap_or(&self.data_dir)
    }
}

fn parse<T: std::str::FromStr>(
    key: &str,
    value: &str,
    what: &'static str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what,
    })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: key.into(),
            value: value.into(),
            what: "boolean",
        }),
    }
}

fn parse_int_or_hex(key: &str, value: &str) -> Result<usize, ConfigError> {
    let v = value.trim();
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => usize::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    };
    parsed.ok_or_else(|| ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what: "size",
    })
}

/// `host:quorumPort:electionPort[:participant|:observer][;[clientAddr:]clientPort]`
fn parse_peer(id: u64, key: &str, value: &str) -> Result<Peer, ConfigError> {
    let bad = || ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what: "server address",
    };
    let (server, client) = match value.split_once(';') {
        Some((s, c)) => (s, Some(c)),
        None => (value, None),
    };
    let parts: Vec<&str> = server.trim().split(':').collect();
    if parts.len() < 3 {
        return Err(bad());
    }
    let observer = match parts.get(3).copied() {
        None | Some("participant") => false,
        Some("observer") => true,
        Some(_) => return Err(bad()),
    };
    let client = match client.map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(match c.rsplit_once(':') {
            Some((addr, port)) => (Some(addr.to_string()), port.parse().map_err(|_| bad())?),
            None => (None, c.parse().map_err(|_| bad())?),
        }),
    };
    Ok(Peer {
        id,
        host: parts[0].to_string(),
        quorum_port: parts[1].parse().map_err(|_| bad())?,
        election_port: parts[2].parse().map_err(|_| bad())?,
        observer,
        client,
    })
}

fn read_myid(data_dir: &Path) -> Option<u64> {
    std::fs::read_to_string(data_dir.join("myid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// `-Dkey=value` words from SERVER_JVMFLAGS and JVMFLAGS.
fn jvm_flag_properties() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for var in ["JVMFLAGS", "SERVER_JVMFLAGS"] {
        if let Ok(flags) = std::env::var(var) {
            for word in flags.split_whitespace() {
                if let Some((k, v)) = word.strip_prefix("-D").and_then(|kv| kv.split_once('=')) {
                    out.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_zookeeper_cfg() {
        let dir = std::env::temp_dir().join(format!("corral-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let cfg = dir.join("zoo.cfg");
        let text = "tickTime=1000\nclientPort=2999\ndataDir=/tmp/x\nzookeeper.extendedTypesEnabled=true\n\
            jute.maxbuffer=0x1000\nserver.1=127.0.0.1:2888:3888;2181\nserver.2=h:1:2:observer;0.0.0.0:2182\n\
            someUnknownKey=1\n4lw.commands.whitelist=ruok, mntr\n";
        std::fs::write(&cfg, text).ok();
        let c = Config::load(&cfg).map_err(|e| e.to_string());
        let c = c.as_ref();
        assert_eq!(
            c.map(|c| (c.client_port, c.tick_time, c.max_buffer)),
            Ok((2999, 1000, 4096))
        );
        assert_eq!(
            c.map(|c| (c.min_session_timeout, c.max_session_timeout)),
            Ok((2000, 20000))
        );
        assert_eq!(c.map(|c| c.extended_types), Ok(true));
        assert_eq!(c.map(|c| c.servers.len()), Ok(2));
        assert_eq!(c.map(|c| c.servers[1].observer), Ok(true));
        assert_eq!(
            c.map(|c| c.servers[0].client.clone()),
            Ok(Some((None, 2181)))
        );
        let wl = c.map(|c| c.four_letter_whitelist.clone());
        assert_eq!(wl, Ok(Some(vec!["ruok".to_string(), "mntr".to_string()])));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn campaign_keys_reroute_peers_and_switch_on_a_fault() {
        let dir = std::env::temp_dir().join(format!("corral-cfg-fault-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let cfg = dir.join("zoo.cfg");
        let load = |text: &str| {
            std::fs::write(&cfg, text).ok();
            Config::load(&cfg).map_err(|e| e.to_string())
        };
        let c = load("dataDir=/tmp/x\ncorral.peerConnectAddress.2=127.0.0.1:4000\n");
        assert_eq!(
            c.as_ref().map(|c| c.peer_connect.get(&2).cloned()),
            Ok(Some("127.0.0.1:4000".to_string()))
        );
        assert!(load("corral.peerConnectAddress.2=nowhere\n").is_err());
        #[cfg(feature = "test-faults")]
        {
            let c = load("dataDir=/tmp/x\ncorral.testFault=stale-sync\n");
            assert_eq!(
                c.map(|c| c.test_fault),
                Ok(Some(corral_consensus::Fault::StaleSync))
            );
            assert_eq!(load("dataDir=/tmp/x\n").map(|c| c.test_fault), Ok(None));
            assert!(load("corral.testFault=everything\n").is_err());
        }
        // A build without the test faults refuses the key rather than run without
        // the fault a campaign asked for.
        #[cfg(not(feature = "test-faults"))]
        {
            let refused = load("dataDir=/tmp/x\ncorral.testFault=stale-sync\n");
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.contains("corral.testFault")),
                "{refused:?}"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_peer(1, "server.1", "h:x:3").is_err());
        assert!(parse_bool("k", "maybe").is_err());
        assert!(parse_int_or_hex("k", "0xzz").is_err());
    }
}
