//! Server configuration, read from an Apache ZooKeeper `zoo.cfg` as it is.
//!
//! `settings` is the value the server runs with; `keys` reads each key of the file into
//! it (`sasl` the SASL keys, with `jaas` for the JAAS file they name); `validate` holds the rules the whole must keep, so that a mistake stops the
//! server at start with a message naming the key; `error` says why a file was refused.
//! Imports run one way: keys uses validate, settings, tls and error; settings and tls use error; validate uses settings
//! and error.

mod error;
mod jaas;
mod keys;
mod sasl;
mod settings;
mod tls;
mod validate;

pub use error::ConfigError;
pub use sasl::SaslConfig;
pub use settings::{Config, LogFormat, Peer};
pub use tls::{AdminHttps, ClientAuth, TlsSettings, TlsVersion, CIPHER_SUITES};
