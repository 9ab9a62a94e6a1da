//! The version line of srvr, stat, mntr, envi and the AdminServer: the ZooKeeper
//! version Corral answers as, then Corral's own version, the commit it was built from
//! and when, in the shape of ZooKeeper's `3.8.0-<commit>, built on 2024-12-29 17:54 UTC`
//! (build.rs records the commit and the date).

/// The ZooKeeper version Corral answers as, for clients that parse it.
pub const ZK_VERSION: &str = "3.9.3";

/// `3.9.3-corral-0.1.0-<commit>, built on 2026-01-31 12:34 UTC`.
pub fn version_line() -> String {
    format!(
        "{ZK_VERSION}-corral-{}-{}, built on {}",
        env!("CARGO_PKG_VERSION"),
        env!("CORRAL_BUILD_COMMIT"),
        env!("CORRAL_BUILD_DATE"),
    )
}
