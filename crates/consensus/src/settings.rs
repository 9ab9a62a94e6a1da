//! What a node is started with besides its members: its timing and where its data
//! lives, both derived from zoo.cfg by the server.

/// Timing of the Raft node, derived from zoo.cfg's tickTime and limits.
#[derive(Debug, Clone)]
pub struct Timing {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    /// Log entries between snapshots (ZooKeeper's snapCount).
    pub snap_count: u64,
    /// Silence after which a follower counts its leader gone, or a leader its quorum.
    pub lost_after_ms: u64,
}

/// Where a node keeps its data.
#[derive(Debug, Clone)]
pub struct Paths {
    pub snapshots: std::path::PathBuf,
    pub log: std::path::PathBuf,
    pub snap_retain: usize,
    pub autopurge: bool,
    pub extended_types: bool,
    /// The extra ACL schemes this ensemble's providers make valid (x509, sasl).
    pub auth_schemes: corral_tree::acl::AuthSchemes,
    pub log_segment_bytes: u64,
}
