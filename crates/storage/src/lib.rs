//! Everything Corral keeps on disk, and how it comes back after a crash.
//!
//! This crate owns the formats and nothing above them: the write-ahead log of
//! segment files with length- and CRC-framed records (`record`, `wal`), the group
//! commit that makes one fsync cover every append waiting on it (`flusher`), small
//! atomically replaced state files (`state_file`), and checksummed snapshot files
//! (`snapshot`); the tree arrives already compressed. Records are opaque bytes here;
//! the consensus layer decides what they mean.
//!
//! Modules, each importing only those listed after it:
//! - `wal` (its own doc lists its files): uses `flusher`, `record`, `dir`, `error`.
//! - `state_file`: uses `record`, `dir`, `error`.
//! - `snapshot`: uses `dir`, `error`.
//! - `flusher`, `record`: leaves.
//! - `dir` (directory fsync): uses `error`.
//! - `error`: `StorageError`, a leaf.

mod dir;
mod error;
pub mod flusher;
pub mod record;
pub mod snapshot;
pub mod state_file;
pub mod wal;

pub use dir::sync_dir;
pub use error::StorageError;
