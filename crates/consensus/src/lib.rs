//! Consensus: the one place Corral touches openraft.
//!
//! Everything above talks to [`Consensus`], which takes a transaction on any server and
//! returns its result once it is applied on that server. A standalone server is a
//! one-voter cluster on this same path.
//!
//! # Modules, top to bottom
//!
//! Each module uses only modules listed below it; none uses one above it, and none
//! uses `lib.rs`, which holds nothing but these `mod` lines and the re-exports.
//!
//! - `start`: start-up. Recovers the tree and the log, builds the Raft node over them,
//!   and spawns the peer service, the role watcher and the election driver. Uses
//!   `handle`, `recovery`, `state_machine`, `log_store`, `peer::serve`,
//!   `peer::raft_client`, `peer::secure`, `network`, `forward`, `roles`, `election`,
//!   `contact`, `clock`, `members`, `settings`, `shared_tree`, `observer`, `measure`,
//!   `fault`, `error`, `types`.
//! - `write`: the write path on any server (`submit`, `propose`, `sync`): appends on
//!   the leader or forwards to it, then waits for this server's apply. Uses `handle`,
//!   `append`, `peer::wire`, `measure`, `error`.
//! - `handle`: [`Consensus`], the running node, and what operators ask of it
//!   (leadership, status, metrics, snapshots, shutdown). Uses `forward`,
//!   `peer::wire`, `roles`, `state_machine`, `shared_tree`, `members`, `observer`,
//!   `fault`, `error`.
//! - `forward`: a follower's pipelined link to the leader for its clients' writes and
//!   syncs. Uses `peer::wire`, `peer::secure`, `error`.
//! - `peer` (`peer/mod.rs` holds only its doc, `mod` lines and a re-export): the TCP
//!   network of an ensemble on the quorum port.
//!   - `peer::serve`: answers peers (openraft's RPCs and forwarded writes). Uses
//!     `peer::wire`, `peer::secure`, `append`, `state_machine`, `contact`, `measure`, `observer`,
//!     `types`.
//!   - `peer::raft_client`: openraft's side, one client per peer. Uses `peer::wire`,
//!     `peer::secure`, `members`, `types`.
//!   - `peer::secure`: the [`PeerSecurity`] hook every peer connection passes before
//!     its first frame, and [`Plain`], the hook without quorum security. Uses
//!     nothing of the crate.
//!   - `peer::wire`: the frames and messages on the wire, and their limits. Uses
//!     `error`, `types`.
//! - `election`: the election driver of an ensemble's voters (when to stand). Uses
//!   `state_machine`, `contact`, `clock`, `members`.
//! - `roles`: the node's place in the ensemble (leader, follower, observer, looking)
//!   and whether it serves. Uses `state_machine`, `contact`, `clock`, `types`.
//! - `append`: the leader's side of a write and of a sync. Uses `state_machine`,
//!   `observer`, `measure`, `error`.
//! - `recovery`: start-up's reading of the newest valid snapshot and the log after it.
//!   Uses `state_machine`, `log_store`, `error`, `types`.
//! - `state_machine`: applies committed entries to the shared tree, writes and
//!   installs snapshots; names the `Raft` node type. Uses `log_store`, `shared_tree`,
//!   `observer`, `measure`, `fault`, `types`.
//! - `import`: the snapshot `corral import` writes, outside the log. Uses
//!   `error`, `types`.
//! - `export`: a stopped server's tree for `corral export`, recovered as a start
//!   does. Uses `recovery`, `error`.
//! - `fuzz`: the entry points of the fuzz targets, hidden from the docs. Uses
//!   `peer::wire` and `record`.
//! - `inspect`: read-only views of the files on disk for the CLI. Uses `record`,
//!   `types`.
//! - `log_store`: the Raft log on disk. Uses `record`, `fatal`, `types`.
//! - `record`: the format of one log record (a version byte, then postcard). Uses
//!   `types`.
//! - `network`: a standalone node's network, which has no peers. Uses `types`.
//! - `shared_tree`: [`SharedTree`], the tree behind its lock; a writer that panics
//!   stops the process. Uses `fatal`.
//! - `contact`: what this server knows of its leader's liveness. Uses `clock`.
//! - `observer`: [`ApplyObserver`], what the server hears of the consensus path. Uses
//!   `measure`.
//! - Leaves, using nothing of the crate: `clock` (the time the election rules are
//!   given), `fatal` (stopping the process on a broken invariant), `members` (who the
//!   members are, how to reach them), `settings` (timing and paths), `fault` (the
//!   test faults, only with the `test-faults` feature), `error`, `measure` (what the
//!   path reports for mntr) and `types` (openraft's type configuration).
//!
//! # A client's write
//!
//! `write` (`Consensus::submit`) on the server the client is connected to; on the
//! leader `append` hands it to openraft, on a follower `forward` sends it over
//! `peer::wire` to the leader's `peer::serve`, which calls the same `append` there.
//! openraft writes it through `log_store` (`record` encodes it), replicates it with
//! `peer::raft_client` to the followers' `peer::serve`, and once committed every
//! server's `state_machine` applies it to the `shared_tree` and tells the `observer`;
//! `write` returns the result once this server has applied it.

mod append;
mod clock;
mod contact;
mod election;
mod error;
pub mod export;
mod fatal;
#[cfg(feature = "test-faults")]
mod fault;
mod forward;
#[doc(hidden)]
pub mod fuzz;
mod handle;
pub mod import;
pub mod inspect;
pub mod log_store;
mod measure;
mod members;
pub mod network;
mod observer;
pub mod peer;
pub mod record;
mod recovery;
pub mod roles;
mod settings;
mod shared_tree;
mod start;
pub mod state_machine;
pub mod types;
mod write;

pub use error::ConsensusError;
#[cfg(feature = "test-faults")]
pub use fault::Fault;
pub use handle::{Consensus, RaftStatus};
pub use measure::Measure;
pub use members::{Dialer, Members};
pub use observer::ApplyObserver;
pub use peer::{PeerSecurity, PeerStream, Plain, Refusal, Secured};
pub use roles::{Role, Status};
pub use settings::{Paths, Timing};
pub use shared_tree::SharedTree;

#[doc(hidden)]
pub use types::TypeConfig as RaftTypeConfig;
