//! Reading a zoo.cfg: each key into its place in `Config`.
//!
//! ZooKeeper turns keys it does not know into `zookeeper.`-prefixed system properties,
//! and takes some settings only as `-D` JVM flags. Corral accepts every such key with
//! or without the prefix, from the file or from `-Dkey=value` words in SERVER_JVMFLAGS
//! and JVMFLAGS; the file wins, as ZooKeeper's own parsing does.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::settings::{Config, LogFormat, Peer};
use super::validate::{self, Given};
use super::values::{invalid, parse, parse_bool};

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

/// Keys ZooKeeper knows that Corral accepts without acting on them yet.
const ACCEPTED: &[&str] = &[
    "quorumListenOnAllIPs",
    "standaloneEnabled",
    "reconfigEnabled",
    "admin.commandURL",
    "syncEnabled",
    "preAllocSize",
    "leaderServes",
    "cnxTimeout",
    "forceSync",
    "dynamicConfigFile",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "znode.container.maxPerMinute",
    "skipACL",
];

impl Config {
    /// Reads a zoo.cfg, with JVM-flag properties from the environment beneath it, and
    /// refuses it unless every rule in `validate` holds.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let props = read_properties(path)?;
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
        let mut given = Given::default();
        for (key, value) in &merged {
            let key = key.strip_prefix("zookeeper.").unwrap_or(key);
            given.note(key, value);
            config.set(key, value)?;
        }
        // The HTTP endpoints listen where the client port does unless told otherwise:
        // every interface for a plain zoo.cfg, as ZooKeeper's AdminServer does.
        if !given.admin_address {
            set_ip(&mut config.admin, config.client_port_address);
        }
        if !given.metrics_host {
            set_ip(&mut config.metrics, config.client_port_address);
        }
        // ZooKeeper opens a plaintext port only for a clientPort (of the file or of
        // this server's server.N line); secureClientPort alone is a TLS-only server.
        config.tls.secure_only = config.tls.secure_client_port.is_some()
            && !given.client_port
            && config.me().and_then(|p| p.client.as_ref()).is_none();
        validate::derive_session_timeouts(&mut config, &given)?;
        config.resolve_jaas()?;
        if let Some(id) = read_myid(&config.data_dir)? {
            config.my_id = id;
            given.myid_file = true;
        }
        validate::check(&config, &given)?;
        Ok(config)
    }

    /// The embedded default, with JVM-flag properties from the environment applied.
    pub fn embedded() -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut given = Given::default();
        for (key, value) in jvm_flag_properties() {
            let key = key.strip_prefix("zookeeper.").unwrap_or(&key).to_string();
            given.note(&key, &value);
            config.set(&key, &value)?;
        }
        config.resolve_jaas()?;
        validate::check(&config, &given)?;
        Ok(config)
    }

    /// Reads the JAAS file's sections: the clients' and, with quorum SASL, the
    /// members'. A file made for quorum SASL alone need not have the clients'.
    fn resolve_jaas(&mut self) -> Result<(), ConfigError> {
        let quorum_only = self.peer_security.sasl.enabled;
        self.sasl.resolve(quorum_only)?;
        let login_config = self.sasl.login_config.clone();
        self.peer_security.resolve(login_config.as_deref())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if self.set_zookeeper_key(key, value)?
            || self.sasl.set(key, value)?
            || self.set_http_key(key, value)?
            || self.set_corral_key(key, value)?
            || self.set_metrics_provider(key, value)
            || self.peer_security.set(key, value)?
            || self.tls.set(key, value)?
            || self.limits.set(key, value)?
        {
            return Ok(());
        }
        if let Some(id) = key.strip_prefix("server.") {
            let id = parse(key, id, "server id")?;
            if self.servers.iter().any(|p| p.id == id) {
                return Err(ConfigError::Rule(format!(
                    "{key}: server {id} is named by more than one server.N line"
                )));
            }
            self.servers.push(parse_peer(id, key, value)?);
        } else if !ACCEPTED.contains(&key) {
            self.warnings
                .push(format!("unknown configuration key {key:?} ignored"));
        }
        Ok(())
    }

    /// The keys ZooKeeper itself reads from zoo.cfg; false if `key` is not one of them.
    fn set_zookeeper_key(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "clientPort" => self.client_port = parse(key, value, "port")?,
            "clientPortAddress" => self.client_port_address = parse(key, value, "address")?,
            "dataDir" => self.data_dir = PathBuf::from(value),
            "dataLogDir" => self.data_log_dir = Some(PathBuf::from(value)),
            "tickTime" => self.tick_time = parse(key, value, "number of milliseconds")?,
            "initLimit" => self.init_limit = parse(key, value, "number of ticks")?,
            "syncLimit" => self.sync_limit = parse(key, value, "number of ticks")?,
            // -1 is ZooKeeper's "unset": the default from tickTime then applies.
            "minSessionTimeout" | "maxSessionTimeout" if value.trim() == "-1" => {}
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
            "snapCount" => {
                let count: u64 = parse(key, value, "count")?;
                if count < 2 {
                    // ZooKeeper's own correction, with its warning.
                    self.warnings.push(format!(
                        "snapCount should be 2 or more; {count} is reset to 2"
                    ));
                }
                self.snap_count = count.max(2);
            }
            "autopurge.snapRetainCount" => {
                let count: u32 = parse(key, value, "count")?;
                if count < 3 {
                    // ZooKeeper never keeps fewer than 3, and says so.
                    self.warnings.push(format!(
                        "invalid autopurge.snapRetainCount {count}; defaulting to 3"
                    ));
                }
                self.autopurge_snap_retain_count = count.max(3);
            }
            "autopurge.purgeInterval" => {
                self.autopurge_purge_interval_hours = parse(key, value, "number of hours")?
            }
            "znode.container.checkIntervalMs" => {
                self.container_check_interval_ms = parse(key, value, "number of milliseconds")?
            }
            // ZooKeeper knows only fast leader election, number 3; Corral elects its own way.
            "electionAlg" if value.trim() == "3" => {}
            "electionAlg" => {
                return Err(ConfigError::Rule(format!(
                    "electionAlg: {value:?} is not supported; only 3 is (as in ZooKeeper)"
                )))
            }
            "peerType" => match value {
                "observer" => self.peer_type_observer = true,
                "participant" => self.peer_type_observer = false,
                _ => return Err(invalid(key, value, "peer type (participant or observer)")),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The AdminServer's and the Prometheus endpoint's keys.
    fn set_http_key(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "admin.enableServer" => {
                if !parse_bool(key, value)? {
                    self.admin = None;
                } else if self.admin.is_none() {
                    self.admin = Some(SocketAddr::new(self.client_port_address, 8080));
                }
            }
            "admin.serverPort" => set_port(&mut self.admin, parse(key, value, "port")?),
            "admin.serverAddress" => set_ip(&mut self.admin, parse(key, value, "address")?),
            "admin.forceHttps" => self.admin_https.force_https = parse_bool(key, value)?,
            "admin.portUnification" => self.admin_https.port_unification = parse_bool(key, value)?,
            "admin.needClientAuth" => self.admin_https.need_client_auth = parse_bool(key, value)?,
            "admin.snapshot.enabled" => self.admin_snapshot_enabled = parse_bool(key, value)?,
            "admin.restore.enabled" => self.admin_restore_enabled = parse_bool(key, value)?,
            "admin.snapshot.intervalInMS" => {
                self.admin_snapshot_interval_ms = Some(parse(key, value, "number of milliseconds")?)
            }
            "admin.restore.intervalInMS" => {
                self.admin_restore_interval_ms = Some(parse(key, value, "number of milliseconds")?)
            }
            "admin.rateLimiterIntervalInMS" => {
                self.admin_rate_limiter_interval = parse(key, value, "number of milliseconds")?
            }
            "metricsProvider.httpPort" => {
                let port: u16 = parse(key, value, "port")?;
                if port == 0 {
                    self.metrics = None;
                } else {
                    set_port(&mut self.metrics, port);
                }
            }
            "metricsProvider.httpHost" => set_ip(&mut self.metrics, parse(key, value, "address")?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `metricsProvider.className`: ZooKeeper's Prometheus provider turns on its
    /// names on /metrics; its default provider, or any other class, changes nothing.
    fn set_metrics_provider(&mut self, key: &str, value: &str) -> bool {
        if key != "metricsProvider.className" {
            return false;
        }
        let prometheus =
            value == "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
        self.metrics_zookeeper_provider = prometheus;
        self.metrics_zk_count_names |= prometheus;
        true
    }

    /// Corral's own `corral.` keys.
    fn set_corral_key(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "corral.metricsZooKeeperCountNames" => {
                self.metrics_zk_count_names = parse_bool(key, value)?
            }
            "corral.logDir" => self.log_dir = Some(PathBuf::from(value)),
            "corral.logFormat" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(invalid(key, value, "log format (text or json)")),
                }
            }
            "corral.logSegmentBytes" => self.log_segment_bytes = parse(key, value, "size")?,
            "corral.sessionPasswords" => {
                self.zookeeper_session_passwords = match value {
                    "random" => false,
                    "zookeeper" => true,
                    _ => {
                        return Err(invalid(
                            key,
                            value,
                            "session password kind (random or zookeeper)",
                        ))
                    }
                }
            }
            #[cfg(feature = "test-faults")]
            "corral.testFault" => {
                self.test_fault = match value {
                    "none" => None,
                    _ => Some(corral_consensus::Fault::parse(value).ok_or_else(|| {
                        invalid(
                            key,
                            value,
                            "test fault (none, stale-sync or panic-applying:PATH)",
                        )
                    })?),
                }
            }
            // A build without the test faults refuses the key rather than run without
            // the fault a campaign asked for.
            #[cfg(not(feature = "test-faults"))]
            "corral.testFault" => return Err(invalid(
                key,
                value,
                "setting in this build: it has no test faults (they need the test-faults feature)",
            )),
            k if k.starts_with("corral.peerConnectAddress.") => {
                let id = parse(key, &k["corral.peerConnectAddress.".len()..], "server id")?;
                if value.rsplit_once(':').is_none() {
                    return Err(invalid(key, value, "host:port"));
                }
                self.peer_connect.insert(id, value.to_string());
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A properties file as Java's `Properties.load(InputStream)` reads a zoo.cfg:
/// ISO-8859-1, one character per byte, whatever the bytes. Decoded here rather than by
/// java_properties, whose decoder sniffs a byte-order mark and then panics on a stray
/// byte at the end of the file (found by the `zoo_cfg` fuzz target; the input is in
/// its corpus). Later keys win, as in Java.
pub(crate) fn read_properties(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text: String = bytes.iter().copied().map(char::from).collect();
    let mut props = HashMap::new();
    java_properties::PropertiesIter::new_with_encoding(text.as_bytes(), encoding_rs::UTF_8)
        .read_into(|k, v| {
            props.insert(k, v);
        })
        .map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(props)
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

/// The id in `dataDir/myid`, if there is such a file. ZooKeeper reads its first line.
fn read_myid(data_dir: &Path) -> Result<Option<u64>, ConfigError> {
    let path = data_dir.join("myid");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let line = text.lines().next().unwrap_or("").trim();
    match line.parse() {
        Ok(id) => Ok(Some(id)),
        Err(_) => Err(invalid(&path.display().to_string(), line, "server id")),
    }
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
        std::fs::write(dir.join("myid"), "1\n").ok();
        let text = format!(
            "tickTime=1000\nclientPort=2999\ndataDir={}\nzookeeper.extendedTypesEnabled=true\n\
            jute.maxbuffer=0x1000\nserver.1=127.0.0.1:2888:3888;2999\nserver.2=h:1:2:observer;0.0.0.0:2182\n\
            someUnknownKey=1\n4lw.commands.whitelist=ruok, mntr\n",
            dir.display()
        );
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
            Ok(Some((None, 2999)))
        );
        assert_eq!(c.map(|c| c.my_id), Ok(1));
        assert_eq!(
            c.map(|c| c.warnings.clone()),
            Ok(vec![
                "unknown configuration key \"someUnknownKey\" ignored".to_string()
            ])
        );
        let wl = c.map(|c| c.four_letter_whitelist.clone());
        assert_eq!(wl, Ok(Some(vec!["ruok".to_string(), "mntr".to_string()])));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Bytes as Java's Properties.load reads them: ISO-8859-1, so é (0xE9) in a value
    /// is é, and a file that opens like a UTF-16 byte-order mark and ends on an odd
    /// byte (the fuzzer's crash input) is read, not a panic.
    #[test]
    fn a_zoo_cfg_is_read_as_iso_8859_1_whatever_its_bytes() {
        let dir = std::env::temp_dir().join(format!("corral-cfg-latin1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let cfg = dir.join("zoo.cfg");
        std::fs::write(&cfg, b"dataDir=/tmp/caf\xe9\nclientPort=2999\n").ok();
        let c = Config::load(&cfg).map(|c| c.data_dir);
        assert_eq!(c.ok(), Some(PathBuf::from("/tmp/caf\u{e9}")));
        let mut odd = vec![0xff, 0xfe, 0xff, 0xf9];
        odd.extend(std::iter::repeat_n(0xff, 374));
        odd.push(0xfd);
        std::fs::write(&cfg, &odd).ok();
        let read = read_properties(&cfg).map(|p| p.len());
        assert_eq!(read.ok(), Some(1));
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
