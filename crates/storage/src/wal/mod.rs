//! The write-ahead log: numbered entries in segment files `log-<first index>.wal`,
//! each starting with a magic header, then framed records.
//!
//! Appends go to the newest segment and return once written; `sync` reports when
//! they are durable (see `flusher`). Truncation cuts the file where the first
//! dropped entry starts. Purging removes whole segments.
//!
//! The newest segment is zero-filled 8 MiB ahead of the records. An fdatasync
//! of an append that grows the file must also commit the new size through the file
//! system's journal; one that overwrites blocks already written needs no metadata,
//! and took half the time here (docs/benchmarks.md). Zeros after the last record
//! read as the end of the log.
//!
//! Files, each importing only those listed after it:
//! - `log`: `Wal`, the log as a whole: open, append, truncate, purge.
//! - `inspect`: reading the segments without changing anything, for tools.
//! - `recovery`: reading them back at open, repairing a torn tail.
//! - `active`: the newest segment open for writing, and its zero fill.
//! - `segment`: segment files: names, the header, listing and deleting them.
//! - `entry`: what a record of the log holds: an entry with its index, or the
//!   commit point.

mod active;
mod entry;
mod inspect;
mod log;
mod recovery;
mod segment;

pub use inspect::{records_end, scan, scan_segment};
pub use log::Wal;
pub use recovery::Recovered;
pub use segment::{remove_files, SEGMENT_BYTES};
