//! Server configuration, read from an Apache ZooKeeper `zoo.cfg` as it is.
//!
//! `settings` is the value the server runs with; `keys` reads each key of the file into
//! it (`sasl` the SASL keys, with `jaas` for the JAAS file they name; `tls` the TLS
//! keys; `peer_security` the quorum port's TLS and SASL keys); `validate` holds the
//! rules the whole must keep, so that a mistake stops the server at start with a
//! message naming the key; `error` says why a file was refused.
//! Imports run one way: keys uses validate, settings, sasl, peer_security, tls and
//! error; validate uses settings, tls and error; settings uses sasl, peer_security
//! and tls; peer_security uses sasl, jaas, tls and error; sasl uses jaas and error;
//! tls uses error.

mod error;
mod jaas;
mod keys;
mod peer_security;
mod sasl;
mod settings;
mod tls;
mod validate;

pub use error::ConfigError;
pub use peer_security::{PeerSecurityConfig, QuorumSasl};
pub use sasl::SaslConfig;
pub use settings::{Config, LogFormat, Peer};
pub use tls::{AdminHttps, ClientAuth, StoreType, TlsSettings, TlsVersion, CIPHER_SUITES};
