//! Server configuration, read from an Apache ZooKeeper `zoo.cfg` as it is.
//!
//! `settings` is the value the server runs with; `keys` reads each key of the file into
//! it (`sasl` the SASL keys, with `jaas` for the JAAS file they name; `tls` the TLS
//! keys; `peer_security` the quorum port's TLS and SASL keys; `limits` the
//! connection and request limits); `validate` holds the
//! rules the whole must keep, so that a mistake stops the server at start with a
//! message naming the key; `error` says why a file was refused.
//! Imports run one way: keys uses validate, settings, sasl, peer_security, tls,
//! limits, values and error; limits uses values and error; values uses error; validate uses settings, tls and error; settings uses sasl, peer_security
//! and tls; peer_security uses sasl, jaas, tls and error; sasl uses jaas and error;
//! tls uses error.

mod error;
mod jaas;
mod keys;
mod limits;
mod peer_security;
mod sasl;
mod settings;
mod tls;
mod validate;
mod values;

pub use error::ConfigError;
pub(crate) use jaas::parse as parse_jaas;
pub(crate) use keys::read_properties;
pub use limits::{ConnectionThrottle, Limits};
pub use peer_security::{PeerSecurityConfig, QuorumSasl};
pub use sasl::SaslConfig;
pub use settings::{Config, LogFormat, Peer};
pub use tls::{AdminHttps, ClientAuth, StoreType, TlsSettings, TlsVersion, CIPHER_SUITES};
