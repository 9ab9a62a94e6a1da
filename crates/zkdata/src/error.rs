//! What can go wrong reading a ZooKeeper data directory. Every error about a file
//! names it; those inside a file give the byte offset, and in a log the zxid.

use std::path::PathBuf;

/// Formats a zxid the way ZooKeeper's logs and file names do.
pub fn hex(zxid: i64) -> String {
    format!("0x{zxid:x}")
}

#[derive(Debug, thiserror::Error)]
pub enum ZkDataError {
    #[error("{}: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no version-2 directory with ZooKeeper snapshots or logs here", dir.display())]
    NoDataDir { dir: PathBuf },
    #[error("{}: no snapshot, and ZooKeeper does not start from logs alone", dir.display())]
    NoSnapshot { dir: PathBuf },
    #[error("no valid snapshot: {}", tried.join("; "))]
    NoValidSnapshot { tried: Vec<String> },
    #[error("{}: corrupt snapshot at byte {offset}: {reason}", file.display())]
    CorruptSnapshot {
        file: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{}: not a ZooKeeper transaction log: {reason}", file.display())]
    NotALog { file: PathBuf, reason: String },
    #[error(
        "{}: bad checksum at byte {offset} (the record after zxid {})",
        file.display(),
        hex(*after_zxid)
    )]
    Checksum {
        file: PathBuf,
        offset: u64,
        after_zxid: i64,
    },
    #[error("{}: unknown transaction type {txn_type} at byte {offset}, zxid {}", file.display(), hex(*zxid))]
    UnknownTxn {
        file: PathBuf,
        offset: u64,
        zxid: i64,
        txn_type: i32,
    },
    #[error("{}: transaction at byte {offset}, zxid {}, does not decode: {reason}", file.display(), hex(*zxid))]
    BadTxn {
        file: PathBuf,
        offset: u64,
        zxid: i64,
        reason: String,
    },
    #[error(
        "{}: gap in the transaction logs at byte {offset}: after zxid {} comes {} (a log file is missing?)",
        file.display(),
        hex(*after),
        hex(*found)
    )]
    Gap {
        file: PathBuf,
        offset: u64,
        after: i64,
        found: i64,
    },
    #[error(
        "{}: gap in the transaction logs: the snapshot ends at zxid {}, this first log after it starts at {} (a log file is missing?)",
        file.display(),
        hex(*snapshot),
        hex(*first)
    )]
    LogsMissing {
        file: PathBuf,
        snapshot: i64,
        first: i64,
    },
}

impl ZkDataError {
    pub(crate) fn io(file: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ZkDataError::Io {
            file: file.into(),
            source,
        }
    }
}
