//! Why a configuration was refused. Every message names the key (or file) at fault, so
//! an operator can fix the zoo.cfg from the one line the server prints before it exits.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: java_properties::PropertiesError,
    },
    /// One key's value does not parse as what the key takes.
    #[error("{key}: {value:?} is not a valid {what}")]
    Invalid {
        key: String,
        value: String,
        what: &'static str,
    },
    /// Values that parse but break a rule: a range, or a relation between keys. The
    /// text names every key involved.
    #[error("{0}")]
    Rule(String),
}
