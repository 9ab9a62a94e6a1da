//! The key and trust material of TLS: PEM files read into a rustls `ServerConfig`
//! (and, for the quorum, a `ClientConfig` too, built by `super::peer`), and read again
//! for the next connection once either file changes (its modification time or
//! length), so new certificates take effect without a restart: always on the client
//! port, with `sslQuorumReloadCertFiles` on the quorum port. A connection keeps the
//! config it was made with; a reload that fails (a file half written, a key that does
//! not parse) is logged and the previous material stays in use until the files are
//! whole again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::peer::{Identity, Parts};
use super::pkcs12;
use crate::config::{ClientAuth, StoreType, TlsSettings, TlsVersion};

/// Why the TLS material cannot be used; each names the key whose file is at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key}={}: {reason}", path.display())]
    File {
        key: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{prefix}* settings: {reason}")]
    Settings {
        prefix: &'static str,
        reason: String,
    },
}

/// A file's identity for change detection.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: Option<&Path>) -> Stamp {
    let meta = std::fs::metadata(path?).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

struct Loaded {
    server: Arc<ServerConfig>,
    /// The quorum's dialing side; `None` on the client port.
    client: Option<Arc<ClientConfig>>,
    stamps: (Stamp, Stamp),
}

/// The current configs, and the settings to build the next ones from.
pub struct Material {
    settings: TlsSettings,
    /// Whether a `ClientConfig` is built too (the quorum port).
    dialing: bool,
    /// Whether changed files are read again.
    reload: bool,
    loaded: RwLock<Arc<Loaded>>,
}

impl Material {
    /// The client port's material, reloaded when its files change. An error here
    /// stops the server at start.
    pub fn load(settings: &TlsSettings) -> Result<Material, TlsError> {
        Material::new(settings, false, true)
    }

    /// The quorum port's material: both ends of a peer connection, reloaded only
    /// with `reload` (`sslQuorumReloadCertFiles`).
    pub fn load_quorum(settings: &TlsSettings, reload: bool) -> Result<Material, TlsError> {
        Material::new(settings, true, reload)
    }

    fn new(settings: &TlsSettings, dialing: bool, reload: bool) -> Result<Material, TlsError> {
        let loaded = build(settings, dialing)?;
        Ok(Material {
            settings: settings.clone(),
            dialing,
            reload,
            loaded: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The config for a new accepted connection, read again first if a file changed.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.fresh().server.clone()
    }

    /// The config for a new connection to a member (quorum material only).
    pub fn current_client(&self) -> Option<Arc<ClientConfig>> {
        self.fresh().client.clone()
    }

    fn fresh(&self) -> Arc<Loaded> {
        let held = self.held();
        if !self.reload || held.stamps == self.stamps() {
            return held;
        }
        match build(&self.settings, self.dialing) {
            Ok(fresh) => {
                tracing::info!(
                    "TLS key or trust file changed ({}keyStore.location, {}trustStore.location): \
                     new connections use the new material",
                    self.settings.prefix,
                    self.settings.prefix
                );
                let fresh = Arc::new(fresh);
                *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                fresh
            }
            Err(e) => {
                tracing::warn!(
                    "TLS files changed but cannot be used yet, keeping the previous ones: {e}"
                );
                held
            }
        }
    }

    /// The lock only guards one `Arc` swapped whole, which a panic cannot tear.
    fn held(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn stamps(&self) -> (Stamp, Stamp) {
        (
            stamp(self.settings.key_store.as_deref()),
            stamp(self.settings.trust_store.as_deref()),
        )
    }
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| file_error(key, path, e.to_string()))
}

fn file_error(key: &str, path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::File {
        key: key.to_string(),
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn settings_error(settings: &TlsSettings, reason: impl std::fmt::Display) -> TlsError {
    TlsError::Settings {
        prefix: settings.prefix,
        reason: reason.to_string(),
    }
}

/// The certificate chain and the private key from one PEM file, as ZooKeeper's PEM
/// key store holds them, or from a PKCS#12 store.
fn key_store(settings: &TlsSettings, path: &Path) -> Result<Identity, TlsError> {
    let key_name = settings.key("keyStore.location");
    let key_name = key_name.as_str();
    let pem = read(key_name, path)?;
    if StoreType::of(settings.key_store_type, path) == StoreType::Pkcs12 {
        let password = settings.key_store_password.as_deref().unwrap_or("");
        return pkcs12::key_and_chain(&pem, password).map_err(|e| file_error(key_name, path, e));
    }
    let text = String::from_utf8_lossy(&pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        let hint = if settings.key_store_password.is_some() {
            format!(
                "{} is set, but Corral does not decrypt keys",
                settings.key("keyStore.password")
            )
        } else {
            "Corral does not decrypt keys".to_string()
        };
        return Err(file_error(
            key_name,
            path,
            format!("the private key is encrypted; {hint}: write it out unencrypted with `openssl pkey -in key.pem -out plain.pem` and keep the file readable by this server only"),
        ));
    }
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(key_name, path, format!("bad PEM: {e}")))?;
    if chain.is_empty() {
        return Err(file_error(key_name, path, "no CERTIFICATE in the file"));
    }
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        file_error(
            key_name,
            path,
            format!("no usable PRIVATE KEY in the file: {e}"),
        )
    })?;
    Ok((chain, key))
}

fn trust_store(settings: &TlsSettings, path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let key_name = settings.key("trustStore.location");
    let key_name = key_name.as_str();
    let pem = read(key_name, path)?;
    let certs = if StoreType::of(settings.trust_store_type, path) == StoreType::Pkcs12 {
        let password = settings.trust_store_password.as_deref().unwrap_or("");
        pkcs12::certificates(&pem, password).map_err(|e| file_error(key_name, path, e))?
    } else {
        CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| file_error(key_name, path, format!("bad PEM: {e}")))?
    };
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| file_error(key_name, path, format!("unusable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(file_error(key_name, path, "no CERTIFICATE in the file"));
    }
    Ok(Arc::new(roots))
}

/// ring's provider with only the suites `ssl.ciphersuites` names, if it names any.
fn provider(settings: &TlsSettings) -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !settings.cipher_suites.is_empty() {
        provider.cipher_suites.retain(|s: &SupportedCipherSuite| {
            // rustls writes TLS 1.3 suites as TLS13_*; IANA (and Java) as TLS_*.
            let name = format!("{:?}", s.suite()).replace("TLS13_", "TLS_");
            settings.cipher_suites.contains(&name)
        });
    }
    Arc::new(provider)
}

fn build(settings: &TlsSettings, dialing: bool) -> Result<Loaded, TlsError> {
    let stamps = (
        stamp(settings.key_store.as_deref()),
        stamp(settings.trust_store.as_deref()),
    );
    let Some(key_path) = settings.key_store.as_deref() else {
        return Err(settings_error(
            settings,
            format!("{} is not set", settings.key("keyStore.location")),
        ));
    };
    let versions = settings
        .versions()
        .iter()
        .map(|v| match v {
            TlsVersion::V1_2 => &rustls::version::TLS12,
            TlsVersion::V1_3 => &rustls::version::TLS13,
        })
        .collect();
    let identity = key_store(settings, key_path)?;
    let wants_roots = settings.client_auth != ClientAuth::None || dialing;
    let roots = match settings.trust_store.as_deref() {
        Some(trust) if wants_roots => Some(trust_store(settings, trust)?),
        _ => None,
    };
    let parts = Parts {
        provider: provider(settings),
        versions,
        identity,
        roots,
    };
    let client = if dialing {
        let config = super::peer::client_config(settings, &parts)
            .map_err(|e| settings_error(settings, e))?;
        Some(Arc::new(config))
    } else {
        None
    };
    let server = server_config(settings, parts).map_err(|e| settings_error(settings, e))?;
    Ok(Loaded {
        server: Arc::new(server),
        client,
        stamps,
    })
}

fn server_config(settings: &TlsSettings, parts: Parts) -> Result<ServerConfig, String> {
    let Parts {
        provider,
        versions,
        identity: (chain, key),
        roots,
    } = parts;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = match (settings.client_auth, roots) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(roots)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = if auth == ClientAuth::Want {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| format!("{}: {e}", settings.key("trustStore.location")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_key_is_refused_naming_the_key_store() {
        let dir = std::env::temp_dir().join(format!("corral-tls-enc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("keystore.pem");
        let pem =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        std::fs::write(&path, pem).ok();
        let settings = TlsSettings {
            key_store: Some(path),
            key_store_password: Some("secret".into()),
            client_auth: ClientAuth::None,
            ..TlsSettings::default()
        };
        let e = Material::load(&settings)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("ssl.keyStore.location") && e.contains("encrypted"),
            "{e}"
        );
        assert!(e.contains("ssl.keyStore.password is set"), "{e}");
        std::fs::write(dir.join("keystore.pem"), "no pem here").ok();
        let e = Material::load(&settings)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("ssl.keyStore.location") && e.contains("no CERTIFICATE"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
