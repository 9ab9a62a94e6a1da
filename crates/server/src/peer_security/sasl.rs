//! Quorum SASL (placeholder while TLS lands).

use std::net::SocketAddr;

use corral_consensus::{Refusal, Secured};

use crate::config::QuorumSasl;

pub struct QuorumAuth;

impl QuorumAuth {
    pub fn new(config: &QuorumSasl) -> Option<QuorumAuth> {
        config.enabled.then_some(QuorumAuth)
    }

    pub async fn accept(&self, stream: Secured, _peer: SocketAddr) -> Result<Secured, Refusal> {
        Ok(stream)
    }

    pub async fn connect(&self, stream: Secured, _addr: &str) -> std::io::Result<Secured> {
        Ok(stream)
    }
}
