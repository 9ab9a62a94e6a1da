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
//! containers and expired TTL nodes. In an ensemble, `quorum` drops clients when this
//! server loses its leader or quorum, and lets read-only clients in while that lasts
//! (`readonlymode.enabled`).
//!
//! Observability has one owner: `telemetry::Telemetry`, created at start-up and held
//! by the server state (`state.telemetry`) and the hub, is what every part records
//! into; each reply moves its counts in one call. `report` gathers what operators are
//! shown from the state and the telemetry, and the surfaces only format it:
//! `fourletter` answers operators' words on the client port, `admin` the AdminServer
//! and /metrics over HTTP.
//!
//! Layering, top to bottom: a module imports only modules below it.
//! - `fuzz` (the fuzz targets' entry points, hidden from the docs) imports
//!   `request::{read, write}` and `config`.
//! - `start` (`Server`: start-up and shutdown) imports `listener`, `expiry`,
//!   `quorum`, `reaper`, `admin`, `ensemble`, `peer_security`, `state`, `hub`,
//!   `session`, `telemetry`.
//! - `peer_security` (TLS and SASL between the members, the consensus crate's
//!   `PeerSecurity` hook) imports `tls` and `config`, and `corral-sasl`.
//! - `listener` imports `limits`, `tls` and `state`; `tls` imports `connection`, `config`,
//!   `state` and `wire` (it serves plaintext connections of a unified port too).
//! - `connection` (with `connection::gate`, where it meets the limits) imports
//!   `fourletter`, `handshake`, `request`, `hub`, `limits`, `outbox`, `state`,
//!   `telemetry`, `wire`, `clock`.
//! - `admin` imports `fourletter`, `report`, `quorum`, `state`; `fourletter` imports
//!   `report`, `ensemble`, `state`; `report` imports `quorum`, `state`, `telemetry`.
//! - `handshake` imports `quorum`, `session`, `state`, `clock`.
//! - `request::dispatch` imports `request::{auth, read, write}`; `read` imports
//!   `auth` and `request::watches`; each of them imports `request` (its shared
//!   types `Conn`, `Pending`, `Answer`), `state`, `wire`, and `watches` or `clock`
//!   where needed; `request` itself imports only `hub` and `wire`.
//! - `expiry`, `quorum` and `reaper` import `state` (and `clock`).
//! - `state` (`ServerState`) imports `config`, `hub`, `limits`, `session`,
//!   `telemetry`.
//! - `hub` imports `watches`, `outbox`, `session`, `telemetry`, `wire`, `clock`.
//! - `watches` imports `outbox`, `telemetry` and `wire`; `outbox` (a connection's
//!   byte-bounded queue to its socket) imports `wire`; `limits` imports `config`; `session` imports `wire`; `ensemble`
//!   imports `config`.
//! - `wire` (ConnId, frames, JuteDyn, RawBody, error replies), `clock`, `config`,
//!   `telemetry` and `zkformat` (the tree in ZooKeeper's snapshot model, for `admin`
//!   and `corral export`) import nothing of the crate.

mod admin;
mod clock;
pub mod config;
mod connection;
mod ensemble;
mod expiry;
mod fourletter;
#[doc(hidden)]
pub mod fuzz;
mod handshake;
mod hub;
mod limits;
mod listener;
mod outbox;
mod peer_security;
mod quorum;
mod reaper;
mod report;
mod request;
mod session;
mod start;
mod state;
mod telemetry;
mod tls;
mod watches;
mod wire;
pub mod zkformat;

pub use config::{Config, ConfigError};
pub use fourletter::ask as ask_four_letter_word;
pub use start::{Server, ServerError};
