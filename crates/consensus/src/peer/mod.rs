//! The peer network between the servers of an ensemble, on the quorum port of each
//! `server.N` line: one length-prefixed postcard frame per message (`wire`), the
//! first on every connection a `Hello` that names the sender.
//!
//! Two kinds of connection share the port. openraft's own RPCs (`raft_client`) go
//! one request, one response at a time, with a snapshot streamed as a run of chunk
//! frames. A follower's link to the leader (`crate::forward`) is pipelined: it carries
//! the writes and syncs of its clients and its sessions' liveness, and every answer
//! names the request it answers. `serve` answers both. Before the `Hello`, every
//! connection passes the ensemble's `PeerSecurity` hook (`secure`) on both ends:
//! TLS and SASL live in the server above, which implements it.
//!
//! Inside: `raft_client` and `serve` use `wire` and `secure`; `wire` and `secure`
//! use none of them.

pub mod raft_client;
pub mod secure;
pub(crate) mod serve;
pub(crate) mod wire;

pub use raft_client::TcpPeers;
pub use secure::{PeerSecurity, PeerStream, Plain, Refusal, Secured};
