//! The SASL keys: where the JAAS file is, which of its sections holds the users, who is
//! super, and whether a session must authenticate. `resolve` reads the JAAS file once
//! at start, so a missing file or section stops the server with the key named.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::ConfigError;
use super::jaas;

pub const LOGIN_CONFIG_KEY: &str = "java.security.auth.login.config";
const SECTION_KEY: &str = "sasl.serverconfig";
const DIGEST_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";

#[derive(Debug, Clone, Default)]
pub struct SaslConfig {
    pub login_config: Option<PathBuf>,
    /// The JAAS section with the server's users; ZooKeeper's default is "Server".
    pub section: Option<String>,
    /// DIGEST-MD5 users and their passwords, from the section. Empty: SASL is off.
    pub users: BTreeMap<String, String>,
    /// Names (`zookeeper.superUser`, `zookeeper.superUser.N`) also given `super`.
    pub super_users: Vec<String>,
    /// `sessionRequireClientSASLAuth`, or `enforce.auth.enabled` with sasl among
    /// `enforce.auth.schemes`: requests before SASL succeeds end the session.
    pub require_client_sasl: bool,
    pub enforce_auth: bool,
    pub enforce_schemes: Vec<String>,
}

impl SaslConfig {
    /// Takes the key if it is a SASL one; false if it is not.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            LOGIN_CONFIG_KEY => self.login_config = Some(PathBuf::from(value)),
            SECTION_KEY => self.section = Some(value.to_string()),
            // ZooKeeper compares the name with every zookeeper.superUser[.N] value.
            k if k == "superUser" || k.starts_with("superUser.") => {
                self.super_users.push(value.trim().to_string())
            }
            "sessionRequireClientSASLAuth" => self.require_client_sasl = boolean(key, value)?,
            "enforce.auth.enabled" => self.enforce_auth = boolean(key, value)?,
            "enforce.auth.schemes" => self.enforce_schemes = list(value),
            // The SASL provider is built in; naming it (or another) changes nothing.
            k if k.starts_with("authProvider.") => {}
            "allowSaslFailedClients" | "sasl.client" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether a session must finish SASL before its other requests are served.
    pub fn sasl_required(&self) -> bool {
        self.require_client_sasl
            || (self.enforce_auth && self.enforce_schemes.iter().any(|s| s == "sasl"))
    }

    /// Reads the users from the JAAS file, if one is named. With `quorum_only_ok` (quorum
    /// SASL is on), a file without the clients' section leaves client SASL off, as
    /// ZooKeeper does, unless `zookeeper.sasl.serverconfig` named the section.
    pub fn resolve(&mut self, quorum_only_ok: bool) -> Result<(), ConfigError> {
        let Some(path) = &self.login_config else {
            if self.sasl_required() {
                return Err(ConfigError::Rule(format!(
                    "sessionRequireClientSASLAuth / enforce.auth.schemes=sasl need {LOGIN_CONFIG_KEY}"
                )));
            }
            return Ok(());
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
        let section = self.section.as_deref().unwrap_or("Server");
        let Some(modules) = parsed.get(section) else {
            if quorum_only_ok && self.section.is_none() && !self.sasl_required() {
                return Ok(());
            }
            return Err(ConfigError::Rule(format!(
                "{LOGIN_CONFIG_KEY}: {} has no section {section:?} (zookeeper.{SECTION_KEY})",
                path.display()
            )));
        };
        for module in modules.iter().filter(|m| m.class == DIGEST_MODULE) {
            for (option, password) in &module.options {
                if let Some(user) = option.strip_prefix("user_") {
                    self.users.insert(user.to_string(), password.clone());
                }
            }
        }
        if self.users.is_empty() {
            return Err(ConfigError::Rule(format!(
                "{LOGIN_CONFIG_KEY}: section {section:?} of {} has no {DIGEST_MODULE} with user_NAME options",
                path.display()
            )));
        }
        Ok(())
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
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

    fn with_file(name: &str, text: &str) -> SaslConfig {
        let path = std::env::temp_dir().join(format!("corral-jaas-{}-{name}", std::process::id()));
        std::fs::write(&path, text).ok();
        SaslConfig {
            login_config: Some(path),
            ..SaslConfig::default()
        }
    }

    #[test]
    fn users_come_from_the_named_section() {
        let text = "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"b\"; };\n\
                    Other { org.apache.zookeeper.server.auth.DigestLoginModule required user_eve=\"e\"; };";
        let mut c = with_file("a", text);
        assert!(c.resolve(false).is_ok());
        assert_eq!(c.users.get("bob").map(String::as_str), Some("b"));
        let mut c = with_file("b", text);
        assert!(c.set("sasl.serverconfig", "Other").is_ok());
        assert!(c.resolve(false).is_ok());
        assert_eq!(c.users.keys().collect::<Vec<_>>(), ["eve"]);
    }

    #[test]
    fn a_missing_file_or_section_names_the_key() {
        let mut c = with_file("c", "Client { M required a=\"b\"; };");
        let e = c.resolve(false).map_err(|e| e.to_string());
        assert!(
            e.as_ref()
                .is_err_and(|e| e.contains(LOGIN_CONFIG_KEY) && e.contains("Server")),
            "{e:?}"
        );
        let mut c = SaslConfig {
            login_config: Some("/nonexistent/jaas.conf".into()),
            ..SaslConfig::default()
        };
        assert!(c
            .resolve(false)
            .is_err_and(|e| e.to_string().contains(LOGIN_CONFIG_KEY)));
        let mut c = with_file("d", "Server { broken");
        assert!(c
            .resolve(false)
            .is_err_and(|e| e.to_string().contains(LOGIN_CONFIG_KEY)));
    }
}
