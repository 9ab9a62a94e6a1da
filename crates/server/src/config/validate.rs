//! The rules a configuration must keep before the server starts: ZooKeeper's own (its
//! QuorumPeerConfig refuses a tickTime of 0, a minSessionTimeout above the
//! maxSessionTimeout, an ensemble without initLimit, syncLimit or a myid), and those
//! that keep Corral's arithmetic in range: every millisecond count fits the protocol's
//! 32-bit signed fields, which `tickTime * 20` or `initLimit * tickTime` can overflow.
//! A broken rule stops the server with a message naming each key involved, instead of
//! a panic in every connection later (a handshake clamps a session's timeout between
//! the two bounds).

use std::net::{IpAddr, SocketAddr};

use super::error::ConfigError;
use super::settings::Config;
use super::tls::ClientAuth;

/// The largest millisecond count a timeout can be: ZooKeeper's fields are Java ints,
/// and the handshake carries the session timeout as a signed 32-bit number.
const MAX_MS: u64 = i32::MAX as u64;

/// Which keys the file (or a JVM flag) set, for the rules and defaults that depend on it.
#[derive(Debug, Default)]
pub(super) struct Given {
    pub min_session_timeout: bool,
    pub max_session_timeout: bool,
    pub admin_address: bool,
    pub metrics_host: bool,
    pub client_port: bool,
    pub myid_file: bool,
}

impl Given {
    pub(super) fn note(&mut self, key: &str, value: &str) {
        match key {
            // -1 is ZooKeeper's way to ask for the default.
            "minSessionTimeout" => self.min_session_timeout = value.trim() != "-1",
            "maxSessionTimeout" => self.max_session_timeout = value.trim() != "-1",
            "admin.serverAddress" => self.admin_address = true,
            "metricsProvider.httpHost" => self.metrics_host = true,
            "clientPort" => self.client_port = true,
            _ => {}
        }
    }
}

fn rule(message: String) -> Result<(), ConfigError> {
    Err(ConfigError::Rule(message))
}

/// ZooKeeper's defaults for the session timeout bounds the file leaves out: two and
/// twenty ticks. Refused when that many ticks do not fit a timeout.
pub(super) fn derive_session_timeouts(
    config: &mut Config,
    given: &Given,
) -> Result<(), ConfigError> {
    let tick = u64::from(config.tick_time);
    let derive = |ticks: u64, key: &str| -> Result<u32, ConfigError> {
        let ms = tick * ticks;
        u32::try_from(ms)
            .ok()
            .filter(|ms| u64::from(*ms) <= MAX_MS)
            .ok_or_else(|| {
                ConfigError::Rule(format!(
                "tickTime={tick} is too large: {key} defaults to tickTime * {ticks} = {ms} ms, \
                 more than the largest timeout ({MAX_MS} ms); lower tickTime or set {key}"
            ))
            })
    };
    if !given.min_session_timeout {
        config.min_session_timeout = derive(2, "minSessionTimeout")?;
    }
    if !given.max_session_timeout {
        config.max_session_timeout = derive(20, "maxSessionTimeout")?;
    }
    Ok(())
}

/// Every rule, in the order an operator would fix them.
pub(super) fn check(config: &Config, given: &Given) -> Result<(), ConfigError> {
    check_timing(config, given)?;
    check_sizes(config)?;
    check_server_lines(config)?;
    if config.is_ensemble() {
        check_ensemble(config, given)?;
    }
    check_tls(config)?;
    check_admin_https(config)?;
    config.peer_security.check()?;
    config.limits.check()?;
    check_listeners(config, given)
}

/// HTTPS on the AdminServer needs a key store, and a client certificate check a
/// trust store, in the family it reads (see `Config::admin_tls`).
fn check_admin_https(config: &Config) -> Result<(), ConfigError> {
    let Some(tls) = config.admin_tls() else {
        return Ok(());
    };
    let why = if config.admin_https.force_https {
        "admin.forceHttps=true"
    } else {
        "admin.portUnification=true"
    };
    if tls.key_store.is_none() {
        return rule(format!(
            "{why} but neither ssl.quorum.keyStore.location nor ssl.keyStore.location is \
             set: the AdminServer serves HTTPS with the PEM certificate chain and key named \
             there"
        ));
    }
    if config.admin_https.need_client_auth && tls.trust_store.is_none() {
        return rule(format!(
            "admin.needClientAuth=true but {} is not set: name a PEM file of the CA \
             certificates the AdminServer checks client certificates against",
            tls.key("trustStore.location")
        ));
    }
    Ok(())
}

/// A TLS listener needs its key, and a client certificate needs a trust store to be
/// checked against (ZooKeeper would fall back on the JVM's; Corral has none).
fn check_tls(config: &Config) -> Result<(), ConfigError> {
    let tls = &config.tls;
    if !tls.enabled() {
        return Ok(());
    }
    let why = if tls.port_unification {
        "client.portUnification=true"
    } else {
        "secureClientPort is set"
    };
    if tls.key_store.is_none() {
        return rule(format!(
            "{why} but ssl.keyStore.location is not: name the PEM file with the server's \
             certificate chain and private key"
        ));
    }
    if tls.trust_store.is_none() && tls.client_auth != ClientAuth::None {
        return rule(format!(
            "{why} and ssl.clientAuth is {:?} but ssl.trustStore.location is not: name a \
             PEM file of the CA certificates clients' certificates are checked against, or \
             set ssl.clientAuth=none",
            tls.client_auth
        ));
    }
    Ok(())
}

fn check_timing(config: &Config, given: &Given) -> Result<(), ConfigError> {
    let tick = u64::from(config.tick_time);
    if tick == 0 {
        return rule("tickTime is 0: it must be a positive number of milliseconds".into());
    }
    if tick > MAX_MS {
        return rule(format!(
            "tickTime={tick} is larger than the largest timeout ({MAX_MS} ms)"
        ));
    }
    let (min, max) = (config.min_session_timeout, config.max_session_timeout);
    for (key, value) in [("minSessionTimeout", min), ("maxSessionTimeout", max)] {
        if u64::from(value) > MAX_MS {
            return rule(format!(
                "{key}={value} is larger than the largest timeout ({MAX_MS} ms)"
            ));
        }
    }
    if min > max {
        let source = |set: bool, ticks: u32| {
            if set {
                String::new()
            } else {
                format!(" (the default, tickTime * {ticks})")
            }
        };
        return rule(format!(
            "minSessionTimeout={min}{} must not be larger than maxSessionTimeout={max}{}",
            source(given.min_session_timeout, 2),
            source(given.max_session_timeout, 20),
        ));
    }
    Ok(())
}

fn check_sizes(config: &Config) -> Result<(), ConfigError> {
    if config.max_buffer == 0 || config.max_buffer as u64 > MAX_MS {
        // A frame's length is a signed 32-bit number; 0 would refuse every request.
        return rule(format!(
            "jute.maxbuffer={} must be between 1 and {MAX_MS} bytes",
            config.max_buffer
        ));
    }
    if config.log_segment_bytes == 0 {
        return rule("corral.logSegmentBytes is 0: a log segment needs at least 1 byte".into());
    }
    Ok(())
}

/// What an ensemble needs beyond a standalone server: the limits ZooKeeper requires
/// and this server's own id among the server.N lines.
fn check_ensemble(config: &Config, given: &Given) -> Result<(), ConfigError> {
    let tick = u64::from(config.tick_time);
    for (key, ticks) in [
        ("initLimit", config.init_limit),
        ("syncLimit", config.sync_limit),
    ] {
        if ticks == 0 {
            return rule(format!(
                "{key} is 0: an ensemble (server.N lines) needs it, in ticks"
            ));
        }
        let ms = u64::from(ticks) * tick;
        if ms > MAX_MS {
            return rule(format!(
                "{key} * tickTime = {ticks} * {tick} = {ms} ms is more than the largest \
                 timeout ({MAX_MS} ms)"
            ));
        }
    }
    let myid = config.data_dir.join("myid");
    if !given.myid_file {
        return rule(format!(
            "{} is missing: each server of an ensemble (server.N lines) needs its id there",
            myid.display()
        ));
    }
    if config.me().is_none() {
        let ids: Vec<String> = config.servers.iter().map(|p| p.id.to_string()).collect();
        return rule(format!(
            "myid {} (from {}) is not among the server.N lines (server ids: {})",
            config.my_id,
            myid.display(),
            ids.join(", ")
        ));
    }
    if config.servers.iter().all(|p| p.observer) {
        return rule("every server.N line is an observer: an ensemble needs participants".into());
    }
    Ok(())
}

/// Each server.N line's ports are real and its own, and no two lines claim the same
/// host and port.
fn check_server_lines(config: &Config) -> Result<(), ConfigError> {
    let mut claimed: Vec<(String, u16, String)> = Vec::new();
    for p in &config.servers {
        let key = format!("server.{}", p.id);
        if p.quorum_port == 0 || p.election_port == 0 {
            return rule(format!(
                "{key}: port 0 is not a quorum or election port the others can reach"
            ));
        }
        let host = p.host.to_ascii_lowercase();
        let mut ports = vec![
            (host.clone(), p.quorum_port, format!("{key}'s quorum port")),
            (
                host.clone(),
                p.election_port,
                format!("{key}'s election port"),
            ),
        ];
        if let Some((address, port)) = &p.client {
            let at = address.as_deref().map_or(host, str::to_ascii_lowercase);
            ports.push((at, *port, format!("{key}'s client port")));
        }
        for (host, port, what) in ports {
            if let Some((_, _, other)) = claimed.iter().find(|(h, q, _)| *h == host && *q == port) {
                return rule(format!("{what} and {other} are both {host}:{port}"));
            }
            claimed.push((host, port, what));
        }
    }
    Ok(())
}

/// The ports this server listens on are distinct, and an explicit clientPort agrees
/// with this server's own server.N line (ZooKeeper refuses the two disagreeing).
fn check_listeners(config: &Config, given: &Given) -> Result<(), ConfigError> {
    let me = config.me().filter(|_| config.is_ensemble());
    let mut client = SocketAddr::new(config.client_port_address, config.client_port);
    if let Some((address, port)) = me.and_then(|p| p.client.as_ref()) {
        if given.client_port && *port != config.client_port {
            return rule(format!(
                "clientPort={} differs from the client port of server.{}, {port}",
                config.client_port, config.my_id
            ));
        }
        client.set_port(*port);
        if let Some(ip) = address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) {
            client.set_ip(ip);
        }
    }
    let any = IpAddr::from([0, 0, 0, 0]);
    let mut listeners = Vec::new();
    if !config.tls.secure_only {
        listeners.push(("clientPort".to_string(), client));
    }
    if let Some(port) = config.tls.secure_client_port {
        let ip = config
            .tls
            .secure_client_port_address
            .unwrap_or(config.client_port_address);
        listeners.push(("secureClientPort".to_string(), SocketAddr::new(ip, port)));
    }
    listeners.extend(config.admin.map(|a| ("admin.serverPort".to_string(), a)));
    listeners.extend(
        config
            .metrics
            .map(|a| ("metricsProvider.httpPort".to_string(), a)),
    );
    if let Some(p) = me {
        let key = format!("server.{}", p.id);
        listeners.push((format!("{key}'s quorum port"), (any, p.quorum_port).into()));
        listeners.push((
            format!("{key}'s election port"),
            (any, p.election_port).into(),
        ));
    }
    for (i, (key, a)) in listeners.iter().enumerate() {
        for (other, b) in &listeners[..i] {
            let overlap = a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified();
            if a.port() != 0 && a.port() == b.port() && overlap {
                return rule(format!(
                    "{key} and {other} are both port {} on this server",
                    a.port()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use crate::config::Config;

    /// Loads `lines` as a zoo.cfg in a directory of its own, which is also its dataDir;
    /// `myid` is written there when given. The error's message, or the config.
    fn load(lines: &str, myid: Option<&str>) -> Result<Config, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("corral-rules-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if let Some(id) = myid {
            std::fs::write(dir.join("myid"), id).map_err(|e| e.to_string())?;
        }
        let cfg = dir.join("zoo.cfg");
        let text = format!("dataDir={}\n{lines}\n", dir.display());
        std::fs::write(&cfg, text).map_err(|e| e.to_string())?;
        let loaded = Config::load(&cfg).map_err(|e| e.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        loaded
    }

    /// The message of a refused config (empty if it loaded).
    fn refused(lines: &str, myid: Option<&str>) -> String {
        load(lines, myid).err().unwrap_or_default()
    }

    const THREE: &str = "server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\n\
                         server.3=127.0.0.1:2890:3890;2183";

    fn names(message: &str, keys: &[&str]) -> bool {
        !message.is_empty() && keys.iter().all(|k| message.contains(k))
    }

    #[test]
    fn min_session_timeout_above_max_is_refused_naming_both() {
        let e = refused("minSessionTimeout=50000\nmaxSessionTimeout=40000", None);
        assert!(
            names(&e, &["minSessionTimeout=50000", "maxSessionTimeout=40000"]),
            "{e}"
        );
        // Against the default maximum, the message says where the maximum came from.
        let e = refused("tickTime=1000\nminSessionTimeout=30000", None);
        assert!(
            names(
                &e,
                &["maxSessionTimeout=20000 (the default, tickTime * 20)"]
            ),
            "{e}"
        );
        let e = refused("tickTime=1000\nmaxSessionTimeout=1000", None);
        assert!(
            names(
                &e,
                &["minSessionTimeout=2000 (the default", "maxSessionTimeout"]
            ),
            "{e}"
        );
        assert_eq!(
            load("minSessionTimeout=4000\nmaxSessionTimeout=4000", None)
                .map(|c| (c.min_session_timeout, c.max_session_timeout)),
            Ok((4000, 4000))
        );
    }

    #[test]
    fn minus_one_asks_for_the_default_session_timeout() {
        let c = load(
            "tickTime=1000\nminSessionTimeout=-1\nmaxSessionTimeout=-1",
            None,
        );
        assert_eq!(
            c.map(|c| (c.min_session_timeout, c.max_session_timeout)),
            Ok((2000, 20000))
        );
        assert!(names(
            &refused("minSessionTimeout=-2", None),
            &["minSessionTimeout"]
        ));
    }

    #[test]
    fn tick_time_must_be_positive_and_its_defaults_must_fit() {
        assert!(names(&refused("tickTime=0", None), &["tickTime is 0"]));
        assert!(names(&refused("tickTime=-5", None), &["tickTime", "-5"]));
        // 200 000 000 * 20 overflows a signed 32-bit timeout; * 2 does not.
        let e = refused("tickTime=200000000", None);
        assert!(
            names(
                &e,
                &["tickTime=200000000", "maxSessionTimeout", "tickTime * 20"]
            ),
            "{e}"
        );
        let e = refused("tickTime=1100000000\nmaxSessionTimeout=2000000000", None);
        assert!(names(&e, &["minSessionTimeout", "tickTime * 2 "]), "{e}");
        let e = refused(
            "tickTime=3000000000\nminSessionTimeout=1\nmaxSessionTimeout=2",
            None,
        );
        assert!(
            names(&e, &["tickTime=3000000000", "largest timeout"]),
            "{e}"
        );
    }

    #[test]
    fn session_timeouts_must_fit_the_protocol() {
        let e = refused("maxSessionTimeout=3000000000", None);
        assert!(
            names(&e, &["maxSessionTimeout=3000000000", "largest timeout"]),
            "{e}"
        );
        let e = refused(
            "minSessionTimeout=2147483648\nmaxSessionTimeout=2147483648",
            None,
        );
        assert!(names(&e, &["minSessionTimeout=2147483648"]), "{e}");
        assert!(load("maxSessionTimeout=2147483647", None).is_ok());
    }

    #[test]
    fn negative_counts_and_out_of_range_ports_are_refused() {
        for (line, key) in [
            ("initLimit=-1", "initLimit"),
            ("syncLimit=-1", "syncLimit"),
            ("maxClientCnxns=-1", "maxClientCnxns"),
            ("snapCount=-1", "snapCount"),
            ("autopurge.purgeInterval=-1", "autopurge.purgeInterval"),
            ("clientPort=70000", "clientPort"),
            ("secureClientPort=70000", "secureClientPort"),
            ("admin.serverPort=65536", "admin.serverPort"),
            ("metricsProvider.httpPort=-1", "metricsProvider.httpPort"),
        ] {
            let e = refused(line, None);
            assert!(names(&e, &[key]), "{line}: {e:?}");
        }
    }

    #[test]
    fn an_ensemble_needs_init_and_sync_limits_that_fit() {
        assert!(load(THREE, Some("2")).is_ok());
        let e = refused(&format!("initLimit=0\n{THREE}"), Some("1"));
        assert!(names(&e, &["initLimit is 0"]), "{e}");
        let e = refused(&format!("syncLimit=0\n{THREE}"), Some("1"));
        assert!(names(&e, &["syncLimit is 0"]), "{e}");
        let e = refused(
            &format!("tickTime=2000\ninitLimit=2000000\n{THREE}"),
            Some("1"),
        );
        assert!(names(&e, &["initLimit * tickTime", "4000000000 ms"]), "{e}");
        let e = refused(
            &format!("tickTime=2000\nsyncLimit=1500000\n{THREE}"),
            Some("1"),
        );
        assert!(names(&e, &["syncLimit * tickTime"]), "{e}");
        // A standalone server has no use for them, as in ZooKeeper.
        assert!(load("initLimit=0\nsyncLimit=0", None).is_ok());
    }

    #[test]
    fn an_ensemble_needs_this_servers_id_among_its_lines() {
        let e = refused(THREE, None);
        assert!(names(&e, &["myid is missing"]), "{e}");
        let e = refused(THREE, Some("7\n"));
        assert!(names(&e, &["myid 7", "server ids: 1, 2, 3"]), "{e}");
        let e = refused(THREE, Some("two\n"));
        assert!(names(&e, &["myid", "\"two\"", "server id"]), "{e}");
        // A standalone server needs no myid, but a broken one is still refused.
        assert!(load("", None).is_ok());
        assert!(names(&refused("", Some("x")), &["myid"]));
        let observers =
            "server.1=127.0.0.1:2888:3888:observer\nserver.2=127.0.0.1:2889:3889:observer";
        let e = refused(observers, Some("1"));
        assert!(names(&e, &["every server.N line is an observer"]), "{e}");
    }

    #[test]
    fn server_lines_must_not_share_ports() {
        let e = refused("server.1=h:2888:2888\nserver.2=h:2889:3889", Some("1"));
        assert!(
            names(
                &e,
                &[
                    "server.1's election port",
                    "server.1's quorum port",
                    "h:2888"
                ]
            ),
            "{e}"
        );
        let e = refused("server.1=h:2888:3888\nserver.2=H:3888:3889", Some("1"));
        assert!(
            names(&e, &["server.2's quorum port", "server.1's election port"]),
            "{e}"
        );
        let e = refused("server.1=h:2888:3888;2888\nserver.2=g:2888:3888", Some("1"));
        assert!(
            names(&e, &["server.1's client port", "server.1's quorum port"]),
            "{e}"
        );
        let e = refused("server.1=h:0:3888\nserver.2=g:2888:3888", Some("1"));
        assert!(names(&e, &["server.1", "port 0"]), "{e}");
        let e = refused("server.1=h:2888:3888\nserver.01=g:2888:3888", Some("1"));
        assert!(
            names(&e, &["server.", "server 1 is named by more than one"]),
            "{e}"
        );
        // The same ports on different hosts are fine.
        assert!(load(
            "server.1=h:2888:3888;2181\nserver.2=g:2888:3888;2181",
            Some("1")
        )
        .is_ok());
    }

    #[test]
    fn this_servers_listeners_must_not_share_a_port() {
        let e = refused("clientPort=8080", None);
        assert!(
            names(&e, &["admin.serverPort", "clientPort", "port 8080"]),
            "{e}"
        );
        assert!(load("clientPort=8080\nadmin.enableServer=false", None).is_ok());
        let e = refused("admin.serverPort=7000", None);
        assert!(
            names(&e, &["metricsProvider.httpPort", "admin.serverPort"]),
            "{e}"
        );
        // Different addresses of the machine do not clash.
        let apart = "admin.serverAddress=127.0.0.1\nmetricsProvider.httpHost=127.0.0.2\n\
                     admin.serverPort=9000\nmetricsProvider.httpPort=9000";
        assert!(load(apart, None).is_ok());
        let e = refused(&format!("admin.serverPort=3888\n{THREE}"), Some("1"));
        assert!(
            names(&e, &["server.1's election port", "admin.serverPort"]),
            "{e}"
        );
        let e = refused(&format!("clientPort=2999\n{THREE}"), Some("1"));
        assert!(names(&e, &["clientPort=2999", "server.1", "2181"]), "{e}");
    }

    #[test]
    fn a_tls_listener_needs_its_key_and_trust_files_and_a_port_of_its_own() {
        let e = refused("secureClientPort=2282", None);
        assert!(
            names(&e, &["secureClientPort", "ssl.keyStore.location"]),
            "{e}"
        );
        let e = refused(
            "client.portUnification=true\nssl.keyStore.location=/k.pem",
            None,
        );
        assert!(
            names(&e, &["client.portUnification", "ssl.trustStore.location"]),
            "{e}"
        );
        let no_auth = "secureClientPort=2282\nssl.keyStore.location=/k.pem\nssl.clientAuth=none";
        assert!(load(no_auth, None).is_ok());
        let e = refused(
            "clientPort=2282\nsecureClientPort=2282\nssl.keyStore.location=/k.pem\nssl.clientAuth=none",
            None,
        );
        assert!(
            names(&e, &["secureClientPort and clientPort", "2282"]),
            "{e}"
        );
    }

    #[test]
    fn sizes_and_election_algorithm_are_checked() {
        assert!(names(
            &refused("jute.maxbuffer=0", None),
            &["jute.maxbuffer=0"]
        ));
        let e = refused("jute.maxbuffer=0x80000000", None);
        assert!(names(&e, &["jute.maxbuffer=2147483648"]), "{e}");
        assert!(names(
            &refused("corral.logSegmentBytes=0", None),
            &["corral.logSegmentBytes"]
        ));
        assert!(names(
            &refused("electionAlg=1", None),
            &["electionAlg", "only 3"]
        ));
        assert!(load("electionAlg=3", None).is_ok());
    }

    #[test]
    fn zookeeper_corrections_are_kept_and_reported() {
        let c = load("snapCount=1\nautopurge.snapRetainCount=1", None);
        let c = c.as_ref();
        assert_eq!(
            c.map(|c| (c.snap_count, c.autopurge_snap_retain_count)),
            Ok((2, 3))
        );
        let warnings = c.map(|c| c.warnings.join("\n")).unwrap_or_default();
        assert!(
            names(&warnings, &["snapCount", "autopurge.snapRetainCount"]),
            "{warnings}"
        );
    }
}
