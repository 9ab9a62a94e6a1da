//! Apache ZooKeeper's on-disk formats, read and written: its snapshots (`FileSnap`, plain, gzip
//! or snappy, with the 3.6+ digest and the 3.9 last-processed-zxid trailer) and its
//! transaction logs (`FileTxnLog`, every transaction type 3.4 to 3.9 write), and
//! the replay that turns a data directory into the database ZooKeeper would serve
//! from it, in a neutral model (`model`) that knows nothing of Corral; and the
//! other way, a snapshot ZooKeeper loads, with the digest it checks (`write`).
//!
//! Nothing a file holds makes the reader reserve memory for it: every length is
//! checked against the bytes that remain (corral-jute's `Reader`).
//!
//! Modules, each importing only those listed after it:
//! - `write`: a snapshot and the data directory around it; uses `digest`,
//!   `model`, `records`, `snapshot` (its magic).
//! - `digest`: ZooKeeper's tree digest; uses `model`, `records`.
//! - `datadir`: finds the files, picks the snapshot, replays the logs after it;
//!   uses `snapshot`, `txnlog`, `compress`, `replay`, `digest`, `model`, `error`.
//! - `replay`: one transaction applied as ZooKeeper replays it; uses `model`,
//!   `txn`, `records`.
//! - `snapshot`: decodes a snapshot's bytes; uses `model`, `records`.
//! - `txnlog`: one log file's records; uses `txn`, `records`, `error`.
//! - `txn`: one log entry's header and body; uses `records`.
//! - `model`: the neutral tree; uses `records`, `txn` (its owner markers).
//! - `compress`, `records`, `password`, `error`: leaves (`password` is
//!   ZooKeeper's session password, `java.util.Random` included).

pub mod compress;
pub mod datadir;
pub mod digest;
pub mod error;
pub mod model;
pub mod password;
pub mod records;
pub mod replay;
pub mod snapshot;
pub mod txn;
pub mod txnlog;
pub mod write;

pub use datadir::{load, DigestCheck, Dirs, Loaded, Phase};
pub use error::ZkDataError;
pub use model::{ZkNode, ZkTree};
