//! The wall clock as ZooKeeper's records carry it: milliseconds since the epoch.
//! Monotonic time (`Instant`) is not read here: the rules that depend on it take the
//! current instant from their caller.

/// Milliseconds since the epoch; 0 if the system clock is before it.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
