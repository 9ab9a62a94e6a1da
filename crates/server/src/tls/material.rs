//! The key and trust material of client TLS: PEM files read into a rustls
//! `ServerConfig`, and read again for the next connection once either file changes
//! (its modification time or length), so new certificates take effect without a
//! restart. A connection keeps the config it was accepted with; a reload that fails
//! (a file half written, a key that does not parse) is logged and the previous
//! material stays in use until the files are whole again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientAuth, TlsSettings, TlsVersion};

/// Why the TLS material cannot be used; each names the key whose file is at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key}={}: {reason}", path.display())]
    File {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("ssl.* settings: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("ssl.trustStore.location: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// A file's identity for change detection.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: Option<&Path>) -> Stamp {
    let meta = std::fs::metadata(path?).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

struct Loaded {
    config: Arc<ServerConfig>,
    stamps: (Stamp, Stamp),
}

/// The current server config, and the settings to build the next one from.
pub struct Material {
    settings: TlsSettings,
    loaded: RwLock<Arc<Loaded>>,
}

impl Material {
    /// Reads the files once; an error here stops the server at start.
    pub fn load(settings: &TlsSettings) -> Result<Material, TlsError> {
        let loaded = build(settings)?;
        Ok(Material {
            settings: settings.clone(),
            loaded: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The config for a new connection, read again first if a file has changed.
    pub fn current(&self) -> Arc<ServerConfig> {
        let now = self.stamps();
        let held = self.held();
        if held.stamps == now {
            return held.config.clone();
        }
        match build(&self.settings) {
            Ok(fresh) => {
                tracing::info!(
                    "TLS key or trust file changed: new connections use the new material"
                );
                let config = fresh.config.clone();
                *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
                config
            }
            Err(e) => {
                tracing::warn!(
                    "TLS files changed but cannot be used yet, keeping the previous ones: {e}"
                );
                held.config.clone()
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

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::File {
        key,
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn file_error(key: &'static str, path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::File {
        key,
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The certificate chain and the private key from one PEM file, as ZooKeeper's PEM
/// key store holds them.
fn key_store(
    path: &Path,
    password: Option<&str>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    const KEY: &str = "ssl.keyStore.location";
    let pem = read(KEY, path)?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        let hint = if password.is_some() {
            "ssl.keyStore.password is set, but Corral does not decrypt keys"
        } else {
            "Corral does not decrypt keys"
        };
        return Err(file_error(
            KEY,
            path,
            format!("the private key is encrypted; {hint}: write it out unencrypted with `openssl pkey -in key.pem -out plain.pem` and keep the file readable by this server only"),
        ));
    }
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(KEY, path, format!("bad PEM: {e}")))?;
    if chain.is_empty() {
        return Err(file_error(KEY, path, "no CERTIFICATE in the file"));
    }
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| file_error(KEY, path, format!("no usable PRIVATE KEY in the file: {e}")))?;
    Ok((chain, key))
}

fn trust_store(path: &Path) -> Result<RootCertStore, TlsError> {
    const KEY: &str = "ssl.trustStore.location";
    let pem = read(KEY, path)?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| file_error(KEY, path, format!("bad PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| file_error(KEY, path, format!("unusable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(file_error(KEY, path, "no CERTIFICATE in the file"));
    }
    Ok(roots)
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

fn build(settings: &TlsSettings) -> Result<Loaded, TlsError> {
    let stamps = (
        stamp(settings.key_store.as_deref()),
        stamp(settings.trust_store.as_deref()),
    );
    let Some(key_path) = settings.key_store.as_deref() else {
        // validate::check_tls refuses a TLS listener without a key store.
        panic!("TLS material built without ssl.keyStore.location");
    };
    let (chain, key) = key_store(key_path, settings.key_store_password.as_deref())?;
    let provider = provider(settings);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = settings
        .versions()
        .iter()
        .map(|v| match v {
            TlsVersion::V1_2 => &rustls::version::TLS12,
            TlsVersion::V1_3 => &rustls::version::TLS13,
        })
        .collect();
    let builder =
        ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
    let builder = match (settings.client_auth, settings.trust_store.as_deref()) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(trust)) => {
            let roots = Arc::new(trust_store(trust)?);
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = if auth == ClientAuth::Want {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(verifier.build()?)
        }
    };
    let config = builder.with_single_cert(chain, key)?;
    Ok(Loaded {
        config: Arc::new(config),
        stamps,
    })
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
