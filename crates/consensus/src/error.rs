//! What the consensus path can fail with, as every caller above sees it. It crosses
//! the peer wire too (a forwarded write's answer), hence serde.

#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ConsensusError {
    #[error("storage: {0}")]
    Storage(String),
    #[error("raft failed to start: {0}")]
    Start(String),
    #[error("this server is not the leader (leader: {leader:?})")]
    NotLeader { leader: Option<u64> },
    #[error("consensus unavailable: {0}")]
    Unavailable(String),
}
