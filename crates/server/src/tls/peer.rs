//! The quorum's TLS, as ZooKeeper's QuorumX509Util and ZKTrustManager do it: a member
//! that connects presents its certificate and checks the other's against
//! `ssl.quorum.trustStore`, and against the host it dialed unless
//! `ssl.quorum.hostnameVerification=false`; a member that accepts checks the
//! connecting member's certificate against its IP address
//! (`ssl.quorum.clientHostnameVerification`, on by default for the quorum).
//!
//! ZooKeeper also tries the host name when the address does not match, by reverse
//! DNS if `ssl.quorum.allowReverseDnsLookup`; Corral checks the address it dialed (a
//! name or an IP, as the server.N line writes it) and, when accepting, the IP only.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_name, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};
use rustls::{RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::config::TlsSettings;

/// A certificate chain and its private key.
pub(super) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// What both ends of a connection are built from (`super::material` reads them).
pub(super) struct Parts {
    pub provider: Arc<CryptoProvider>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    pub identity: Identity,
    pub roots: Option<Arc<RootCertStore>>,
}

/// The dialing side's config: this member's certificate, the trust store's verifier.
pub(super) fn client_config(settings: &TlsSettings, parts: &Parts) -> Result<ClientConfig, String> {
    let trust = settings.key("trustStore.location");
    let Some(roots) = parts.roots.clone() else {
        return Err(format!("{trust} is not set"));
    };
    let webpki = WebPkiServerVerifier::builder_with_provider(roots, parts.provider.clone())
        .build()
        .map_err(|e| format!("{trust}: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.hostname_verification {
        webpki
    } else {
        Arc::new(AnyName(webpki))
    };
    let (chain, key) = (parts.identity.0.clone(), parts.identity.1.clone_key());
    ClientConfig::builder_with_provider(parts.provider.clone())
        .with_protocol_versions(&parts.versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(chain, key)
        .map_err(|e| e.to_string())
}

/// The name a dialed member's certificate must carry: the host of `addr`
/// (`host:port`, or `[v6]:port`).
pub fn dialed_name(addr: &str) -> Result<ServerName<'static>, String> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| format!("{host:?} is no host name: {e}"))
}

/// Whether a connecting member's certificate names its IP address.
pub fn names_address(leaf: &CertificateDer<'_>, ip: IpAddr) -> Result<(), String> {
    let parsed = ParsedCertificate::try_from(leaf).map_err(|e| e.to_string())?;
    verify_server_name(&parsed, &ServerName::IpAddress(ip.into())).map_err(|_| {
        format!("its certificate does not name its address {ip} (ssl.quorum.clientHostnameVerification)")
    })
}

/// A verifier that checks the chain and the signatures, but not the name
/// (`ssl.quorum.hostnameVerification=false`). webpki checks the chain before the
/// name, so a name error means the chain was good.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verified =
            self.0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verified {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
