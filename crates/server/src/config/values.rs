//! How a zoo.cfg value parses as what its key takes: each failure names the key.

use super::error::ConfigError;

pub(super) fn invalid(key: &str, value: &str, what: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what,
    }
}

pub(super) fn parse<T: std::str::FromStr>(
    key: &str,
    value: &str,
    what: &'static str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        what,
    })
}

pub(super) fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: key.into(),
            value: value.into(),
            what: "boolean",
        }),
    }
}
