//! The ZooKeeper-compatible server: sockets, sessions, requests and watches.
//!
//! A `create` travels: `listener` accepts the socket; `connection` reads frames,
//! does the handshake (`handshake`) and keeps each session's replies in the order it
//! sent the requests; `request::dispatch` hands the request to `request::write`,
//! which turns it into a transaction and submits it to the log (`corral-consensus`);
//! once applied to the tree (`corral-tree`) the `hub` is told, fires watches through
//! `watches`, and `request::write` makes the reply. Reads are answered by
//! `request::read` from this server's tree. `session` keeps each session's deadline
//! and `expiry` closes the ones past it through the log; `reaper` removes empty
//! containers and expired TTL nodes; `fourletter` answers operators' words on the
//! client port, `admin` and `metrics` over HTTP. In an ensemble, `quorum` drops
//! clients when this server loses its leader or quorum, and lets read-only clients in
//! while that lasts (`readonlymode.enabled`).
//!
//! Layering, top to bottom: a module imports only modules below it, and `mntr`,
//! the observability leaf, from anywhere.
//! - `start` (`Server`: start-up and shutdown) imports `listener`, `expiry`,
//!   `quorum`, `reaper`, `admin`, `ensemble`, `state`, `hub`, `session`, `stats`.
//! - `listener` imports `connection` and `state`.
//! - `connection` imports `fourletter`, `handshake`, `request`, `metrics`, `hub`,
//!   `state`, `wire`, `clock`.
//! - `admin` imports `metrics`, `fourletter`, `quorum`, `state`; `metrics` imports
//!   `fourletter`; `fourletter` imports `quorum`, `ensemble`, `state`.
//! - `handshake` imports `quorum`, `session`, `state`, `clock`.
//! - `request::dispatch` imports `request::{auth, read, write}`; `read` imports
//!   `auth` and `request::watches`; each of them imports `request` (its shared
//!   types `Conn`, `Pending`, `Answer`), `state`, `wire`, and `watches` or `clock`
//!   where needed; `request` itself imports only `hub` and `wire`.
//! - `expiry`, `quorum` and `reaper` import `state` (and `clock`).
//! - `state` (`ServerState`) imports `config`, `hub`, `session`, `stats`.
//! - `hub` imports `watches`, `session`, `wire`, `clock`.
//! - `watches` and `session` import `wire`; `ensemble` imports `config`.
//! - `wire` (ConnId, frames, JuteDyn, RawBody, error replies), `clock`, `config`,
//!   `stats` and `mntr` import nothing of the crate.

mod admin;
mod clock;
pub mod config;
mod connection;
mod ensemble;
mod expiry;
mod fourletter;
mod handshake;
mod hub;
mod listener;
mod metrics;
mod mntr;
mod quorum;
mod reaper;
mod request;
mod session;
mod start;
mod state;
mod stats;
mod watches;
mod wire;

pub use config::{Config, ConfigError};
pub use start::{Server, ServerError};
