//! SASL DIGEST-MD5 (RFC 2831) with ZooKeeper's parameters, both sides, as pure state
//! machines: bytes in, the next token (or an outcome) out; nothing here does I/O.
//! The server crate drives [`DigestServer`] for its clients (the `zookeeper`
//! service) and, between the members of an ensemble, both [`DigestServer`] and
//! [`DigestClient`] (the `zookeeper-quorum` service).
//!
//! Modules, top to bottom: `server` and `client` use `digest` (the response digest
//! both compute, and the [`Service`] they speak for) and `token` (the directive list
//! both parse); `digest` and `token` use nothing of the crate.

mod client;
mod digest;
mod server;
pub mod token;

pub use client::{ClientStep, DigestClient};
pub use digest::Service;
pub use server::{DigestServer, Step};

/// 16 bytes from the OS, in hex: a nonce (or cnonce) nobody can predict. `None`
/// without OS randomness.
pub fn fresh_nonce() -> Option<String> {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).ok()?;
    Some(digest::hex(&buf))
}
