//! The TLS keys of a zoo.cfg, read into `TlsSettings`: the client port's
//! (`secureClientPort`, `ssl.*`, `client.portUnification`,
//! `X509AuthenticationProvider.superUser`), and, through `TlsSettings::quorum` and
//! `set_store_key`, the same family under `ssl.quorum.` for the quorum port (see
//! `super::peer_security`). Each value is checked here, so a key rustls cannot honour
//! stops the server at start naming it; the PEM files themselves are read when the
//! server starts (see `crate::tls`).

use std::net::IpAddr;
use std::path::PathBuf;

use super::error::ConfigError;

/// `ssl.clientAuth`: whether a client must, may or must not present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Need,
    Want,
    None,
}

/// `ssl.keyStore.type` / `ssl.trustStore.type`: how a store file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    Pem,
    Pkcs12,
}

impl StoreType {
    /// The type given, or as ZooKeeper's KeyStoreFileType guesses it from the file's
    /// name (`.p12`, `.pfx`); PEM otherwise.
    pub fn of(given: Option<StoreType>, path: &std::path::Path) -> StoreType {
        let by_name = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match (given, by_name.as_deref()) {
            (Some(t), _) => t,
            (None, Some("p12" | "pfx")) => StoreType::Pkcs12,
            (None, _) => StoreType::Pem,
        }
    }
}

/// A TLS version rustls speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// `ssl.` for the client port, `ssl.quorum.` for the quorum port: what every key
    /// of the family starts with, and what errors name.
    pub prefix: &'static str,
    pub secure_client_port: Option<u16>,
    /// secureClientPort without any clientPort: ZooKeeper then opens no plaintext port.
    pub secure_only: bool,
    /// `secureClientPortAddress`; the clientPortAddress when unset.
    pub secure_client_port_address: Option<IpAddr>,
    /// `client.portUnification`: clientPort takes TLS and plaintext alike.
    pub port_unification: bool,
    /// `ssl.keyStore.location`: one PEM file with the certificate chain and the key.
    pub key_store: Option<PathBuf>,
    pub key_store_password: Option<String>,
    /// `ssl.keyStore.type`; unset, the file's name decides (see `StoreType::of`).
    pub key_store_type: Option<StoreType>,
    /// `ssl.trustStore.location`: PEM CA certificates that sign client certificates.
    pub trust_store: Option<PathBuf>,
    /// `ssl.trustStore.password`: opens a PKCS#12 trust store.
    pub trust_store_password: Option<String>,
    pub trust_store_type: Option<StoreType>,
    pub client_auth: ClientAuth,
    /// `ssl.hostnameVerification`: accepted; a server does not check its clients' names.
    /// `ssl.quorum.hostnameVerification`: a member checks the certificate of a member
    /// it connects to against the host it dialed.
    pub hostname_verification: bool,
    /// `ssl.quorum.clientHostnameVerification` (only read for the quorum, where
    /// ZooKeeper's default is true): a member checks the certificate of a member that
    /// connects to it against that member's IP address. Needs hostnameVerification.
    pub client_hostname_verification: bool,
    /// `ssl.protocol`: `Some(V1_2)` serves TLSv1.2 alone; TLSv1.3 (the default) or
    /// "TLS" serve both.
    pub protocol: Option<TlsVersion>,
    /// `ssl.enabledProtocols`, which wins over `ssl.protocol` when given.
    pub enabled_protocols: Option<Vec<TlsVersion>>,
    /// `ssl.ciphersuites`, as IANA names rustls knows; empty means rustls's defaults.
    pub cipher_suites: Vec<String>,
    /// `ssl.handshakeDetectionTimeoutMillis`: a handshake not done by then is closed.
    pub handshake_timeout_ms: u64,
    /// `X509AuthenticationProvider.superUser`: the RFC 2253 DN that is super.
    pub x509_super_user: Option<String>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            prefix: "ssl.",
            secure_client_port: None,
            secure_only: false,
            secure_client_port_address: None,
            port_unification: false,
            key_store: None,
            key_store_password: None,
            key_store_type: None,
            trust_store_password: None,
            trust_store_type: None,
            trust_store: None,
            // ZooKeeper's default: a client must present a certificate.
            client_auth: ClientAuth::Need,
            hostname_verification: true,
            client_hostname_verification: false,
            protocol: None,
            enabled_protocols: None,
            cipher_suites: Vec::new(),
            // ZooKeeper's X509Util default.
            handshake_timeout_ms: 5000,
            x509_super_user: None,
        }
    }
}

/// The AdminServer's HTTPS: `admin.forceHttps`, `admin.portUnification` and
/// `admin.needClientAuth` (ZooKeeper's `zookeeper.admin.*` properties).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminHttps {
    /// HTTPS only.
    pub force_https: bool,
    /// HTTPS and HTTP on the one port, told apart by the first byte.
    pub port_unification: bool,
    /// A client certificate from the trust store is required.
    pub need_client_auth: bool,
}

impl AdminHttps {
    /// Whether the AdminServer speaks TLS at all.
    pub fn enabled(&self) -> bool {
        self.force_https || self.port_unification
    }
}

impl TlsSettings {
    /// The settings the AdminServer's HTTPS uses: this key and trust material, with
    /// a client certificate asked for only under `admin.needClientAuth`.
    pub fn for_admin(&self, admin: AdminHttps) -> TlsSettings {
        TlsSettings {
            client_auth: if admin.need_client_auth {
                ClientAuth::Need
            } else {
                ClientAuth::None
            },
            ..self.clone()
        }
    }

    /// The settings of the quorum port (`ssl.quorum.*`), with ZooKeeper's
    /// QuorumX509Util defaults.
    pub fn quorum() -> TlsSettings {
        TlsSettings {
            prefix: "ssl.quorum.",
            client_hostname_verification: true,
            ..TlsSettings::default()
        }
    }

    /// The full name of the key `name` of this family (`keyStore.location` gives
    /// `ssl.quorum.keyStore.location` for the quorum).
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether any listener serves TLS, and so the key and trust files are needed.
    pub fn enabled(&self) -> bool {
        self.secure_client_port.is_some() || self.port_unification
    }

    /// The versions served: `ssl.enabledProtocols`, else what `ssl.protocol` enables
    /// (Java's SSLContext protocol is the newest version it speaks).
    pub fn versions(&self) -> Vec<TlsVersion> {
        match (&self.enabled_protocols, self.protocol) {
            (Some(list), _) => list.clone(),
            (None, Some(TlsVersion::V1_2)) => vec![TlsVersion::V1_2],
            (None, _) => vec![TlsVersion::V1_3, TlsVersion::V1_2],
        }
    }

    /// Reads one key; false if `key` is not a client TLS key.
    pub(super) fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let value = value.trim();
        match key {
            "secureClientPort" => {
                self.secure_client_port = Some(value.parse().map_err(|_| bad(key, value, "port"))?)
            }
            "secureClientPortAddress" => {
                self.secure_client_port_address =
                    Some(value.parse().map_err(|_| bad(key, value, "address"))?)
            }
            "client.portUnification" => self.port_unification = boolean(key, value)?,
            // ZooKeeper's only provider for TLS clients; others are SASL's business.
            "ssl.authProvider" if value == "x509" => {}
            "ssl.authProvider" => return Err(bad(key, value, "ssl.authProvider (only x509)")),
            "X509AuthenticationProvider.superUser" => {
                self.x509_super_user = Some(value.to_string())
            }
            "serverCnxnFactory" => server_cnxn_factory(key, value)?,
            _ => return self.set_store_key(key, value),
        }
        Ok(true)
    }

    /// Reads one key of the `ssl.` (or `ssl.quorum.`) family this one's prefix names;
    /// false if `key` is not one.
    pub(super) fn set_store_key(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let value = value.trim();
        let Some(name) = key.strip_prefix(self.prefix) else {
            return Ok(false);
        };
        match name {
            "keyStore.location" => self.key_store = Some(PathBuf::from(value)),
            "keyStore.password" => self.key_store_password = Some(value.to_string()),
            "trustStore.location" => self.trust_store = Some(PathBuf::from(value)),
            "trustStore.password" => self.trust_store_password = Some(value.to_string()),
            "keyStore.type" => self.key_store_type = store_type(key, value)?,
            "trustStore.type" => self.trust_store_type = store_type(key, value)?,
            "clientAuth" => {
                self.client_auth = match value.to_ascii_lowercase().as_str() {
                    "need" | "" => ClientAuth::Need,
                    "want" => ClientAuth::Want,
                    "none" => ClientAuth::None,
                    _ => return Err(bad(key, value, "client auth (need, want or none)")),
                }
            }
            "hostnameVerification" => self.hostname_verification = boolean(key, value)?,
            "clientHostnameVerification" => {
                self.client_hostname_verification = boolean(key, value)?
            }
            "protocol" => self.protocol = version(key, value)?,
            "enabledProtocols" => {
                let mut versions = Vec::new();
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match version(key, name)? {
                        Some(v) => versions.push(v),
                        None => versions.extend([TlsVersion::V1_3, TlsVersion::V1_2]),
                    }
                }
                self.enabled_protocols = Some(versions);
            }
            "ciphersuites" => {
                self.cipher_suites = Vec::new();
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    self.cipher_suites.push(cipher_suite(key, name)?);
                }
            }
            "handshakeDetectionTimeoutMillis" => {
                self.handshake_timeout_ms = value
                    .parse()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .ok_or_else(|| bad(key, value, "positive number of milliseconds"))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn bad(key: &str, value: &str, what: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what,
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(bad(key, value, "boolean")),
    }
}

/// Both factories ZooKeeper ships are the same to Corral, which has one network layer.
fn server_cnxn_factory(key: &str, value: &str) -> Result<(), ConfigError> {
    match value {
        "org.apache.zookeeper.server.NettyServerCnxnFactory"
        | "org.apache.zookeeper.server.NIOServerCnxnFactory" => Ok(()),
        _ => Err(bad(
            key,
            value,
            "factory (NettyServerCnxnFactory or NIOServerCnxnFactory)",
        )),
    }
}

/// PEM and PKCS12 are read; JKS and BCFKS get the command that turns them into
/// PKCS12.
fn store_type(key: &str, value: &str) -> Result<Option<StoreType>, ConfigError> {
    match value.to_ascii_uppercase().as_str() {
        "" => Ok(None),
        "PEM" => Ok(Some(StoreType::Pem)),
        "PKCS12" => Ok(Some(StoreType::Pkcs12)),
        "JKS" | "BCFKS" => Err(ConfigError::Rule(format!(
            "{key}={value}: Corral reads PEM and PKCS12 stores; convert the store and set \
             {key}=PKCS12:\n  \
             keytool -importkeystore -srckeystore store.jks -destkeystore store.p12 -deststoretype PKCS12"
        ))),
        _ => Err(bad(key, value, "store type (PEM or PKCS12)")),
    }
}

/// A Java protocol name: `Some` version, `None` for "TLS" (every version).
fn version(key: &str, name: &str) -> Result<Option<TlsVersion>, ConfigError> {
    match name {
        "TLSv1.3" => Ok(Some(TlsVersion::V1_3)),
        "TLSv1.2" => Ok(Some(TlsVersion::V1_2)),
        "TLS" => Ok(None),
        _ => Err(ConfigError::Rule(format!(
            "{key}: {name:?} is not a protocol Corral serves (TLSv1.2 and TLSv1.3 only)"
        ))),
    }
}

/// IANA names (which Java uses too) of the suites rustls's ring provider has.
pub const CIPHER_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

fn cipher_suite(key: &str, name: &str) -> Result<String, ConfigError> {
    if CIPHER_SUITES.contains(&name) {
        return Ok(name.to_string());
    }
    Err(ConfigError::Rule(format!(
        "{key}: {name:?} is not a cipher suite Corral serves; these are: {}",
        CIPHER_SUITES.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Result<TlsSettings, String> {
        let mut tls = TlsSettings::default();
        for (k, v) in pairs {
            match tls.set(k, v) {
                Ok(true) => {}
                Ok(false) => return Err(format!("{k} is not a TLS key")),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(tls)
    }

    fn refused(key: &str, value: &str) -> String {
        set(&[(key, value)]).err().unwrap_or_default()
    }

    #[test]
    fn versions_follow_protocol_and_enabled_protocols() {
        let both = vec![TlsVersion::V1_3, TlsVersion::V1_2];
        assert_eq!(set(&[]).map(|t| t.versions()), Ok(both.clone()));
        let v12 = set(&[("ssl.protocol", "TLSv1.2")]).map(|t| t.versions());
        assert_eq!(v12, Ok(vec![TlsVersion::V1_2]));
        // enabledProtocols wins whichever order the keys come in.
        for pairs in [
            [
                ("ssl.enabledProtocols", "TLSv1.3"),
                ("ssl.protocol", "TLSv1.2"),
            ],
            [
                ("ssl.protocol", "TLSv1.2"),
                ("ssl.enabledProtocols", "TLSv1.3"),
            ],
        ] {
            assert_eq!(
                set(&pairs).map(|t| t.versions()),
                Ok(vec![TlsVersion::V1_3])
            );
        }
        let e = refused("ssl.enabledProtocols", "TLSv1.2,TLSv1.1");
        assert!(
            e.contains("ssl.enabledProtocols") && e.contains("TLSv1.1"),
            "{e}"
        );
        let e = refused("ssl.protocol", "SSLv3");
        assert!(e.contains("ssl.protocol") && e.contains("SSLv3"), "{e}");
    }

    #[test]
    fn cipher_suites_are_iana_names_rustls_has() {
        let ok = set(&[(
            "ssl.ciphersuites",
            "TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        )]);
        assert_eq!(ok.map(|t| t.cipher_suites.len()), Ok(2));
        let e = refused("ssl.ciphersuites", "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert!(
            e.contains("ssl.ciphersuites") && e.contains("TLS_RSA_WITH_AES_128_CBC_SHA"),
            "{e}"
        );
    }

    #[test]
    fn jks_is_refused_with_the_conversion_command_and_pkcs12_is_read() {
        for (key, value) in [
            ("ssl.keyStore.type", "JKS"),
            ("ssl.trustStore.type", "BCFKS"),
        ] {
            let e = refused(key, value);
            assert!(
                e.contains(key) && e.contains("keytool -importkeystore"),
                "{e}"
            );
        }
        let t = set(&[
            ("ssl.keyStore.type", "pem"),
            ("ssl.trustStore.type", "pkcs12"),
        ]);
        let types = t.map(|t| (t.key_store_type, t.trust_store_type));
        assert_eq!(types, Ok((Some(StoreType::Pem), Some(StoreType::Pkcs12))));
        let p12 = std::path::Path::new("/etc/zk/server.P12");
        assert_eq!(StoreType::of(None, p12), StoreType::Pkcs12);
        assert_eq!(StoreType::of(Some(StoreType::Pem), p12), StoreType::Pem);
        let pem = std::path::Path::new("/etc/zk/keystore.pem");
        assert_eq!(StoreType::of(None, pem), StoreType::Pem);
    }

    #[test]
    fn client_auth_factory_timeout_and_provider_are_checked() {
        let t = set(&[
            ("ssl.clientAuth", "WANT"),
            ("ssl.handshakeDetectionTimeoutMillis", "250"),
        ]);
        assert_eq!(
            t.map(|t| (t.client_auth, t.handshake_timeout_ms)),
            Ok((ClientAuth::Want, 250))
        );
        assert_eq!(set(&[]).map(|t| t.client_auth), Ok(ClientAuth::Need));
        assert!(refused("ssl.clientAuth", "maybe").contains("ssl.clientAuth"));
        assert!(refused("ssl.handshakeDetectionTimeoutMillis", "0")
            .contains("ssl.handshakeDetectionTimeoutMillis"));
        assert!(set(&[(
            "serverCnxnFactory",
            "org.apache.zookeeper.server.NettyServerCnxnFactory"
        )])
        .is_ok());
        assert!(refused("serverCnxnFactory", "com.example.Mine").contains("serverCnxnFactory"));
        assert!(refused("ssl.authProvider", "sasl").contains("ssl.authProvider"));
        assert!(refused("secureClientPort", "70000").contains("secureClientPort"));
    }
}
