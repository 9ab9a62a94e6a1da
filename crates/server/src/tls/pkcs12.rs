//! PKCS#12 stores (`ssl.keyStore.type=PKCS12`, or a `.p12`/`.pfx` file), as keytool
//! and `openssl pkcs12 -export` write them, read into the DER values rustls takes.
//! The store's password opens it; a wrong one is an error naming the key.

use p12_keystore::{KeyStore, Pkcs12Archive, Pkcs12ImportPolicy};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The first private key in the store and its certificate chain, leaf first.
pub(super) fn key_and_chain(
    der: &[u8],
    password: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let store = KeyStore::from_pkcs12(der, password, Pkcs12ImportPolicy::Strict)
        .map_err(|e| format!("cannot open the PKCS#12 store (is the password right?): {e}"))?;
    let Some((alias, chain)) = store.private_key_chain() else {
        return Err("the PKCS#12 store has no private key with its certificate".into());
    };
    if chain.certs().is_empty() {
        return Err(format!(
            "the PKCS#12 store's key {alias:?} has no certificate"
        ));
    }
    let certs = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// Every certificate in a trust store. Java marks trusted entries with its own
/// attribute, which `openssl pkcs12 -export -nokeys` does not write; a trust store
/// holds nothing else, so all its certificates are taken.
pub(super) fn certificates(
    der: &[u8],
    password: &str,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let archive = Pkcs12Archive::from_pkcs12(der, password)
        .map_err(|e| format!("cannot open the PKCS#12 store (is the password right?): {e}"))?;
    Ok(archive
        .certs
        .iter()
        .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_a_wrong_password_are_errors_not_panics() {
        for bytes in [&b""[..], b"\x30\x82\xff\xff", b"not a store at all"] {
            assert!(key_and_chain(bytes, "pw").is_err());
            assert!(certificates(bytes, "pw").is_err());
        }
    }
}
