//! Four-letter words on the client port. A connection whose first four bytes spell a
//! known word gets a plain-text answer and is closed, as in ZooKeeper.
//!
//! The whitelist default differs from ZooKeeper's (`srvr` only): the read-only
//! informational words are on, the words that reset state or dump every watch are
//! off. See docs/operations.md.
//!
//! `words` is the table: which words exist and are allowed, and which module answers
//! each. Those modules import only `version` among their siblings: `status` (srvr,
//! stat, cons), `monitor` (mntr), `conf` (conf, dirs), `envi`, `dump` (wchc, wchp,
//! dump) and `keeper` (ClickHouse Keeper's lgif, csnp, rqld, ydld). The AdminServer
//! and /metrics reuse what they gather through the re-exports below.

mod conf;
mod dump;
mod envi;
mod keeper;
mod monitor;
mod status;
mod version;
mod words;

pub(crate) use conf::dir_sizes;
pub(crate) use envi::{current_dir, environment, os_version, user};
pub(crate) use monitor::monitor_values;
pub(crate) use status::last_op_name;
pub use version::version_line;
pub(crate) use words::mode;
pub use words::{answer, word};
