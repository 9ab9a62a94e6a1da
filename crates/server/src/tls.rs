//! Client TLS on the secure client port and, with `client.portUnification`, on the
//! client port: `material` reads the PEM (or, through `pkcs12`, PKCS#12) key and
//! trust files into a rustls server config and reads them again when they change; `accept` tells a TLS ClientHello
//! from plaintext, runs the handshake under `ssl.handshakeDetectionTimeoutMillis` and
//! gives the connection to `connection`; `identity` turns a client certificate's
//! subject into the `x509:` id ZooKeeper's X509AuthenticationProvider gives; `peer`
//! holds what the quorum port adds (the dialing side's config, the name checks),
//! which `crate::peer_security` uses.
//!
//! Imports: `accept` uses `material`, `identity`, `connection` and `state`;
//! `material` uses `peer`, `pkcs12` and `config`; `pkcs12` uses nothing of the crate; `peer` uses `config`; `identity` uses nothing
//! of the crate.

mod accept;
mod identity;
mod material;
mod peer;
mod pkcs12;

pub use accept::{serve, Port};
pub use identity::subject_dn;
pub use material::{Material, TlsError};
pub use peer::{dialed_name, names_address};
