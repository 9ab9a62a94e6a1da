//! What every task of a running server shares: its configuration, the consensus
//! node (and through it the tree), the limits, the hub and the telemetry.

use std::sync::Arc;
use std::time::Instant;

use corral_consensus::{Consensus, SharedTree};

use crate::config::Config;
use crate::hub::Hub;
use crate::limits::ServerLimits;
use crate::session::SessionIds;
use crate::telemetry::Telemetry;

/// Everything a connection needs, shared by all of them.
pub(crate) struct ServerState {
    pub config: Config,
    /// The connection and request limits, and what they count.
    pub limits: Arc<ServerLimits>,
    pub consensus: Consensus,
    pub hub: Arc<Hub>,
    /// What this server counts and measures; the hub records into the same value.
    pub telemetry: Arc<Telemetry>,
    pub session_ids: SessionIds,
    /// In an ensemble: the clients of this server are dropped while it cannot serve.
    pub ensemble: bool,
    pub started: Instant,
    /// `<dataDir>/corral.lock`, held for the life of the server: it is there for its
    /// lock, never read.
    #[allow(dead_code)]
    pub data_dir_lock: std::fs::File,
}

impl ServerState {
    pub fn tree(&self) -> &SharedTree {
        self.consensus.tree()
    }
}
