//! Four-letter words on the client port. A connection whose first four bytes spell a
//! known word gets a plain-text answer and is closed, as in ZooKeeper.
//!
//! The whitelist default differs from ZooKeeper's (`srvr` only): the read-only
//! informational words are on, the words that reset state or dump every watch are
//! off. See docs/operations.md.
//!
//! `words` is the table: which words exist and are allowed, and which module answers
//! each. Those modules import none of their siblings: `status` (srvr, stat, cons),
//! `monitor` (mntr), `conf`, `envi`, `dump` (wchc, wchp, dump) and
//! `keeper` (ClickHouse Keeper's lgif, csnp, rqld, ydld). What srvr, stat and mntr
//! print is gathered by `crate::report`; these modules only format it. The
//! AdminServer reuses mntr's rows and the environment through the re-exports below.
//! `ask` is the other side: a word sent to a server, for what watches other members.

mod ask;
mod conf;
mod dump;
mod envi;
mod keeper;
mod monitor;
mod status;
mod words;

pub use ask::ask;
pub(crate) use envi::{current_dir, environment, os_version, user};
pub(crate) use monitor::monitor_values;
pub(crate) use status::last_op_name;
pub use words::{answer, word};
