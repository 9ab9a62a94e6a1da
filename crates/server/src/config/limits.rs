//! The keys of the server's admission and back-pressure limits, with ZooKeeper's
//! names and defaults (`maxClientCnxns` stays with the keys ZooKeeper reads from
//! zoo.cfg itself). ZooKeeper takes most of these only as `zookeeper.`-prefixed
//! system properties; `keys` strips the prefix, so either spelling reaches here.

use super::error::ConfigError;
use super::values::{parse, parse_bool};

/// ZooKeeper's connection token bucket (`BlueThrottle`): off while `tokens` is 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionThrottle {
    /// `connection_throttle_tokens`: the bucket's size; 0 turns the throttle off.
    pub tokens: u32,
    /// `connection_throttle_fill_time`: milliseconds per refill.
    pub fill_time_ms: u64,
    /// `connection_throttle_fill_count`: tokens added per refill.
    pub fill_count: u32,
    /// `connection_throttle_freeze_time`: milliseconds between changes of the drop
    /// probability; -1 turns random early dropping off.
    pub freeze_time_ms: i64,
    pub drop_increase: f64,
    pub drop_decrease: f64,
    /// `connection_throttle_decrease_ratio`: below this share of the bucket in use,
    /// the drop probability falls.
    pub decrease_ratio: f64,
    /// `connection_throttle_weight_enabled`: a new session costs `global_weight`
    /// tokens and a reconnecting one `renew_weight`, instead of 1 each.
    pub weight_enabled: bool,
    pub global_weight: u32,
    pub local_weight: u32,
    pub renew_weight: u32,
}

impl Default for ConnectionThrottle {
    fn default() -> Self {
        ConnectionThrottle {
            tokens: 0,
            fill_time_ms: 1,
            fill_count: 1,
            freeze_time_ms: -1,
            drop_increase: 0.02,
            drop_decrease: 0.002,
            decrease_ratio: 0.0,
            weight_enabled: false,
            global_weight: 3,
            local_weight: 1,
            renew_weight: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// `maxCnxns`: client connections in all; 0 is no limit.
    pub max_cnxns: u32,
    /// `nio.sessionlessCnxnTimeout`: milliseconds a connection has to send its
    /// ConnectRequest.
    pub sessionless_timeout_ms: u64,
    pub connection_throttle: ConnectionThrottle,
    /// `request_throttle_max_requests`: requests in process before new ones wait; 0
    /// is no limit.
    pub request_throttle_max_requests: u32,
    /// `request_throttle_stall_time`: milliseconds a throttled request waits before
    /// it looks again.
    pub request_throttle_stall_time_ms: u64,
    /// `request_throttle_drop_stale`: a throttled request whose connection closed
    /// while it waited is dropped.
    pub request_throttle_drop_stale: bool,
    /// `globalOutstandingLimit`: over this many requests in process, a connection
    /// with requests of its own outstanding stops reading until the count falls.
    pub global_outstanding_limit: u32,
    /// `largeRequestMaxBytes`: the bytes of large requests in process at once.
    pub large_request_max_bytes: u64,
    /// `largeRequestThreshold`: a request of more bytes is large; -1 is off.
    pub large_request_threshold: i64,
    /// `corral.clientOutboxBytes`: replies and watch events waiting for a client to
    /// read them; past this the client is disconnected (ZooKeeper lets the queue
    /// grow without bound).
    pub client_outbox_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cnxns: 0,
            sessionless_timeout_ms: 10_000,
            connection_throttle: ConnectionThrottle::default(),
            request_throttle_max_requests: 0,
            request_throttle_stall_time_ms: 100,
            request_throttle_drop_stale: true,
            global_outstanding_limit: 1000,
            large_request_max_bytes: 100 * 1024 * 1024,
            large_request_threshold: -1,
            client_outbox_bytes: 32 << 20,
        }
    }
}

impl Limits {
    /// Takes `key` if it is one of the limits' keys; false if it is not.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        if let Some(k) = key.strip_prefix("connection_throttle_") {
            return self.set_connection_throttle(key, k, value);
        }
        match key {
            "maxCnxns" => self.max_cnxns = parse(key, value, "count")?,
            "nio.sessionlessCnxnTimeout" => {
                self.sessionless_timeout_ms = parse(key, value, "number of milliseconds")?
            }
            "request_throttle_max_requests" => {
                self.request_throttle_max_requests = parse(key, value, "count")?
            }
            "request_throttle_stall_time" => {
                self.request_throttle_stall_time_ms = parse(key, value, "number of milliseconds")?
            }
            "request_throttle_drop_stale" => {
                self.request_throttle_drop_stale = parse_bool(key, value)?
            }
            "globalOutstandingLimit" => self.global_outstanding_limit = parse(key, value, "count")?,
            "largeRequestMaxBytes" => self.large_request_max_bytes = parse(key, value, "size")?,
            "largeRequestThreshold" => self.large_request_threshold = parse(key, value, "size")?,
            "corral.clientOutboxBytes" => self.client_outbox_bytes = parse(key, value, "size")?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn set_connection_throttle(
        &mut self,
        key: &str,
        name: &str,
        value: &str,
    ) -> Result<bool, ConfigError> {
        let t = &mut self.connection_throttle;
        let ratio = |v: &str| -> Result<f64, ConfigError> {
            let r: f64 = parse(key, v, "number from 0 to 1")?;
            if (0.0..=1.0).contains(&r) {
                Ok(r)
            } else {
                Err(super::values::invalid(key, v, "number from 0 to 1"))
            }
        };
        match name {
            "tokens" => t.tokens = parse(key, value, "count")?,
            "fill_time" => t.fill_time_ms = parse(key, value, "number of milliseconds")?,
            "fill_count" => t.fill_count = parse(key, value, "count")?,
            "freeze_time" => t.freeze_time_ms = parse(key, value, "number of milliseconds")?,
            "drop_increase" => t.drop_increase = ratio(value)?,
            "drop_decrease" => t.drop_decrease = ratio(value)?,
            "decrease_ratio" => t.decrease_ratio = ratio(value)?,
            "weight_enabled" => t.weight_enabled = parse_bool(key, value)?,
            "global_session_weight" => t.global_weight = parse(key, value, "count")?,
            "local_session_weight" => t.local_weight = parse(key, value, "count")?,
            "renew_session_weight" => t.renew_weight = parse(key, value, "count")?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The rules between the keys, checked once the whole file is read.
    pub fn check(&self) -> Result<(), ConfigError> {
        let t = &self.connection_throttle;
        if t.tokens > 0 && t.fill_time_ms == 0 {
            return Err(ConfigError::Rule(
                "connection_throttle_fill_time must be at least 1 ms while connection_throttle_tokens is set".into(),
            ));
        }
        if t.freeze_time_ms < -1 {
            return Err(ConfigError::Rule(format!(
                "connection_throttle_freeze_time: {} is neither -1 (off) nor a number of milliseconds",
                t.freeze_time_ms
            )));
        }
        if self.large_request_threshold < -1 {
            return Err(ConfigError::Rule(format!(
                "largeRequestThreshold: {} is neither -1 (off) nor a size",
                self.large_request_threshold
            )));
        }
        if self.client_outbox_bytes == 0 {
            return Err(ConfigError::Rule(
                "corral.clientOutboxBytes must be more than 0".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_set_their_limit_and_bad_values_name_the_key() {
        let mut l = Limits::default();
        assert!(l.set("maxCnxns", "5").unwrap());
        assert!(l.set("connection_throttle_tokens", "10").unwrap());
        assert!(l.set("connection_throttle_drop_increase", "0.5").unwrap());
        assert!(!l.set("connection_throttle_nonsense", "1").unwrap());
        assert!(!l.set("tickTime", "1").unwrap());
        assert_eq!(l.max_cnxns, 5);
        assert_eq!(l.connection_throttle.tokens, 10);
        let e = l.set("connection_throttle_drop_increase", "2").unwrap_err();
        assert!(
            e.to_string().contains("connection_throttle_drop_increase"),
            "{e}"
        );
        let e = l.set("largeRequestThreshold", "big").unwrap_err();
        assert!(e.to_string().contains("largeRequestThreshold"), "{e}");
        l.set("largeRequestThreshold", "-5").unwrap();
        assert!(l
            .check()
            .unwrap_err()
            .to_string()
            .contains("largeRequestThreshold"));
    }
}
