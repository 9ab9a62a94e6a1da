//! The keys that secure the quorum port, between the servers of an ensemble:
//! `sslQuorum`, `sslQuorumReloadCertFiles`, `portUnification` and the `ssl.quorum.*`
//! family (read by `super::tls`), and quorum SASL (`quorum.auth.*`, with the
//! QuorumServer and QuorumLearner sections of the JAAS file). `resolve` reads the
//! JAAS sections at start and `check` holds ZooKeeper's rules between the keys, so a
//! mistake stops the server naming the key.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::ConfigError;
use super::jaas;
use super::sasl::LOGIN_CONFIG_KEY;
use super::tls::{ClientAuth, TlsSettings};

const DIGEST_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";
pub const ENABLE_SASL: &str = "quorum.auth.enableSasl";
pub const LEARNER_REQUIRE: &str = "quorum.auth.learnerRequireSasl";
pub const SERVER_REQUIRE: &str = "quorum.auth.serverRequireSasl";
const LEARNER_CONTEXT: &str = "quorum.auth.learner.saslLoginContext";
const SERVER_CONTEXT: &str = "quorum.auth.server.saslLoginContext";

/// Quorum SASL (DIGEST-MD5): a member that connects (ZooKeeper's learner)
/// authenticates to the member it connects to (the quorum server).
#[derive(Debug, Clone)]
pub struct QuorumSasl {
    /// `quorum.auth.enableSasl`.
    pub enabled: bool,
    /// `quorum.auth.learnerRequireSasl`: this server authenticates on every peer
    /// connection it opens, and gives up on one whose exchange fails.
    pub learner_require: bool,
    /// `quorum.auth.serverRequireSasl`: a peer connection that does not authenticate
    /// is closed. Without it, such a peer is let through (ZooKeeper's rolling upgrade).
    pub server_require: bool,
    pub learner_context: String,
    pub server_context: String,
    /// The QuorumLearner section's `username` and `password`.
    pub learner: Option<(String, String)>,
    /// The QuorumServer section's `user_NAME="password"` entries.
    pub users: BTreeMap<String, String>,
}

impl Default for QuorumSasl {
    fn default() -> Self {
        QuorumSasl {
            enabled: false,
            learner_require: false,
            server_require: false,
            learner_context: "QuorumLearner".into(),
            server_context: "QuorumServer".into(),
            learner: None,
            users: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PeerSecurityConfig {
    /// `sslQuorum`: members speak TLS to each other, each presenting a certificate
    /// the other's `ssl.quorum.trustStore` signs.
    pub ssl_quorum: bool,
    /// `sslQuorumReloadCertFiles`: new peer connections use new key and trust files
    /// without a restart.
    pub reload_cert_files: bool,
    /// `portUnification`: the quorum port takes TLS and plaintext alike (the step
    /// between a plaintext and a TLS ensemble in a rolling upgrade).
    pub port_unification: bool,
    /// The `ssl.quorum.*` keys.
    pub tls: TlsSettings,
    pub sasl: QuorumSasl,
}

impl Default for PeerSecurityConfig {
    fn default() -> Self {
        PeerSecurityConfig {
            ssl_quorum: false,
            reload_cert_files: false,
            port_unification: false,
            tls: TlsSettings::quorum(),
            sasl: QuorumSasl::default(),
        }
    }
}

impl PeerSecurityConfig {
    /// Whether the quorum port needs TLS key and trust material.
    pub fn tls_needed(&self) -> bool {
        self.ssl_quorum || self.port_unification
    }

    /// Takes the key if it is one of these; false if it is not.
    pub(super) fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let sasl = &mut self.sasl;
        match key {
            "sslQuorum" => self.ssl_quorum = boolean(key, value)?,
            "sslQuorumReloadCertFiles" => self.reload_cert_files = boolean(key, value)?,
            "portUnification" => self.port_unification = boolean(key, value)?,
            ENABLE_SASL => sasl.enabled = boolean(key, value)?,
            LEARNER_REQUIRE => sasl.learner_require = boolean(key, value)?,
            SERVER_REQUIRE => sasl.server_require = boolean(key, value)?,
            LEARNER_CONTEXT => sasl.learner_context = value.trim().to_string(),
            SERVER_CONTEXT => sasl.server_context = value.trim().to_string(),
            // Kerberos only; DIGEST-MD5 has no principal.
            "quorum.auth.kerberos.servicePrincipal" => {}
            "ssl.quorum.crl" | "ssl.quorum.ocsp" if boolean(key, value)? => {
                return Err(ConfigError::Rule(format!(
                    "{key}=true: Corral does not check certificate revocation; \
                     remove the key, and revoke a member's certificate by replacing \
                     ssl.quorum.trustStore.location with a CA that no longer signs it"
                )))
            }
            "ssl.quorum.crl" | "ssl.quorum.ocsp" => {}
            "ssl.quorum.allowReverseDnsLookup" if boolean(key, value)? => {
                return Err(ConfigError::Rule(format!(
                    "{key}=true: Corral does no reverse DNS lookup; a member's \
                     certificate must name its IP address (subjectAltName IP:...)"
                )))
            }
            "ssl.quorum.allowReverseDnsLookup" => {}
            "ssl.quorum.context.supplier.class" => {
                return Err(ConfigError::Rule(format!(
                    "{key}: a Java SSLContext supplier cannot run in Corral; give \
                     ssl.quorum.keyStore.location and ssl.quorum.trustStore.location as PEM files"
                )))
            }
            _ => return self.tls.set_store_key(key, value),
        }
        Ok(true)
    }

    /// Reads the QuorumServer and QuorumLearner sections of the JAAS file when quorum
    /// SASL is enabled.
    pub(super) fn resolve(&mut self, login_config: Option<&Path>) -> Result<(), ConfigError> {
        self.check_sasl_rules()?;
        if !self.sasl.enabled {
            return Ok(());
        }
        let Some(path) = login_config else {
            return Err(ConfigError::Rule(format!(
                "{ENABLE_SASL}=true needs {LOGIN_CONFIG_KEY}, a JAAS file with the \
                 QuorumServer and QuorumLearner sections"
            )));
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::Rule(format!(
                "{LOGIN_CONFIG_KEY}: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let parsed = jaas::parse(&text).map_err(|e| {
            ConfigError::Rule(format!("{LOGIN_CONFIG_KEY}: {}: {e}", path.display()))
        })?;
        let section = |name: &str, key: &str| {
            let options = parsed
                .get(name)
                .and_then(|modules| modules.iter().find(|m| m.class == DIGEST_MODULE))
                .map(|m| &m.options);
            options.ok_or_else(|| {
                ConfigError::Rule(format!(
                    "{LOGIN_CONFIG_KEY}: {} has no section {name:?} with {DIGEST_MODULE} \
                     ({key}, needed by {ENABLE_SASL}=true)",
                    path.display()
                ))
            })
        };
        let server = section(&self.sasl.server_context, SERVER_CONTEXT)?;
        self.sasl.users = server
            .iter()
            .filter_map(|(option, password)| {
                let user = option.strip_prefix("user_")?;
                Some((user.to_string(), password.clone()))
            })
            .collect();
        if self.sasl.users.is_empty() {
            return Err(ConfigError::Rule(format!(
                "{LOGIN_CONFIG_KEY}: section {:?} of {} has no user_NAME options ({SERVER_CONTEXT})",
                self.sasl.server_context,
                path.display()
            )));
        }
        let learner = section(&self.sasl.learner_context, LEARNER_CONTEXT)?;
        match (learner.get("username"), learner.get("password")) {
            (Some(user), Some(password)) => {
                self.sasl.learner = Some((user.clone(), password.clone()))
            }
            _ => {
                return Err(ConfigError::Rule(format!(
                    "{LOGIN_CONFIG_KEY}: section {:?} of {} needs username and password ({LEARNER_CONTEXT})",
                    self.sasl.learner_context,
                    path.display()
                )))
            }
        }
        Ok(())
    }

    /// ZooKeeper's rules between the quorum.auth keys (QuorumPeerConfig), checked
    /// before the JAAS file is read.
    fn check_sasl_rules(&self) -> Result<(), ConfigError> {
        let sasl = &self.sasl;
        let rule = |m: String| Err(ConfigError::Rule(m));
        if !sasl.enabled && sasl.server_require {
            return rule(format!(
                "{ENABLE_SASL} is disabled, so cannot enable {SERVER_REQUIRE}"
            ));
        }
        if !sasl.enabled && sasl.learner_require {
            return rule(format!(
                "{ENABLE_SASL} is disabled, so cannot enable {LEARNER_REQUIRE}"
            ));
        }
        if !sasl.learner_require && sasl.server_require {
            return rule(format!(
                "{LEARNER_REQUIRE} is disabled, so cannot enable {SERVER_REQUIRE}"
            ));
        }
        Ok(())
    }

    /// What Corral needs of the quorum's TLS keys.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let rule = |m: String| Err(ConfigError::Rule(m));
        if !self.tls_needed() {
            return Ok(());
        }
        let why = if self.ssl_quorum {
            "sslQuorum=true"
        } else {
            "portUnification=true"
        };
        let tls = &self.tls;
        if tls.key_store.is_none() {
            return rule(format!(
                "{why} needs {} (a PEM file with this server's certificate chain and key)",
                tls.key("keyStore.location")
            ));
        }
        if tls.trust_store.is_none() {
            return rule(format!(
                "{why} needs {} (the PEM CA certificates that sign the members' certificates)",
                tls.key("trustStore.location")
            ));
        }
        if tls.client_auth != ClientAuth::Need {
            return rule(format!(
                "{}: members must present certificates to each other; Corral takes only need",
                tls.key("clientAuth")
            ));
        }
        Ok(())
    }
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<(PeerSecurityConfig, TlsSettings), String> {
        let (mut quorum, mut client) = (PeerSecurityConfig::default(), TlsSettings::default());
        for (k, v) in pairs {
            let taken = quorum.set(k, v).map_err(|e| e.to_string())?
                || client.set(k, v).map_err(|e| e.to_string())?;
            assert!(taken, "{k} was taken by neither");
        }
        quorum.resolve(None).map_err(|e| e.to_string())?;
        quorum.check().map_err(|e| e.to_string())?;
        Ok((quorum, client))
    }

    #[test]
    fn quorum_and_client_keys_land_in_their_own_settings() {
        let (quorum, client) = read(&[
            ("sslQuorum", "true"),
            ("ssl.quorum.keyStore.location", "/q/key.pem"),
            ("ssl.quorum.trustStore.location", "/q/ca.pem"),
            ("ssl.quorum.hostnameVerification", "false"),
            ("ssl.keyStore.location", "/c/key.pem"),
        ])
        .expect("valid");
        assert!(quorum.ssl_quorum && !quorum.tls.hostname_verification);
        assert_eq!(
            quorum.tls.key_store.as_deref(),
            Some(Path::new("/q/key.pem"))
        );
        assert_eq!(client.key_store.as_deref(), Some(Path::new("/c/key.pem")));
        assert!(client.hostname_verification && client.trust_store.is_none());
        // QuorumX509Util verifies the connecting member's address by default.
        assert!(quorum.tls.client_hostname_verification);
    }

    #[test]
    fn zookeepers_sasl_rules_hold() {
        let e = read(&[(SERVER_REQUIRE, "true")]).err().unwrap_or_default();
        assert!(e.contains(ENABLE_SASL) && e.contains(SERVER_REQUIRE), "{e}");
        let e = read(&[(ENABLE_SASL, "true"), (SERVER_REQUIRE, "true")])
            .err()
            .unwrap_or_default();
        assert!(e.contains(LEARNER_REQUIRE), "{e}");
        let e = read(&[(ENABLE_SASL, "true")]).err().unwrap_or_default();
        assert!(e.contains(LOGIN_CONFIG_KEY), "{e}");
        assert!(read(&[
            (ENABLE_SASL, "false"),
            ("quorum.auth.kerberos.servicePrincipal", "x")
        ])
        .is_ok());
        let e = read(&[("ssl.quorum.ocsp", "true")])
            .err()
            .unwrap_or_default();
        assert!(e.contains("ssl.quorum.ocsp"), "{e}");
    }
}
