//! Requests, from decoded frame to reply bytes. `dispatch` sorts each request into a
//! [`Pending`] as it is read (a write is decoded, made a transaction and submitted
//! to the log by `write` right there, so a session's writes keep its order) and
//! later settles it into its reply, in request order. One module per kind of
//! request: `write` (everything that goes through the log), `read` (answered from
//! this server's tree), `watches` (addWatch, checkWatches, removeWatches,
//! setWatches), `auth` (addauth, whoAmI), `sasl` (the SASL exchange).
//!
//! This file holds what they all share and imports none of them.

pub mod auth;
pub mod dispatch;
pub mod read;
pub mod sasl;
pub mod watches;
pub mod write;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use corral_consensus::ConsensusError;
use corral_jute::records::{Id, RequestHeader};
use corral_jute::{ErrorCode, Jute, OpCode};
use corral_tree::TxnResult;

use crate::hub::ConnCounters;
use crate::wire::{ConnId, JuteDyn};
use corral_sasl::DigestServer;

/// The connection as request handlers see it.
pub struct Conn {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub session_id: i64,
    identity: Mutex<Vec<Id>>,
    pub counters: Arc<ConnCounters>,
    /// A read-only session, given while the server has no quorum: writes are refused.
    pub read_only: bool,
    /// The DIGEST-MD5 exchange under way, from the first SASL token on.
    sasl: Mutex<Option<DigestServer>>,
    /// Set once SASL succeeded: where SASL is required, only then are requests served.
    sasl_done: AtomicBool,
}

impl Conn {
    /// A connection starts with the identity ZooKeeper gives every client: its IP.
    pub fn new(
        id: ConnId,
        peer: SocketAddr,
        session_id: i64,
        counters: Arc<ConnCounters>,
        read_only: bool,
    ) -> Conn {
        Conn {
            id,
            peer,
            session_id,
            identity: Mutex::new(vec![Id {
                scheme: "ip".into(),
                id: peer.ip().to_string(),
            }]),
            counters,
            read_only,
            sasl: Mutex::new(None),
            sasl_done: AtomicBool::new(false),
        }
    }

    pub fn sasl_exchange(&self) -> MutexGuard<'_, Option<DigestServer>> {
        // A poisoned exchange is still a whole value: a step either replaced it or not.
        self.sasl.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_sasl_done(&self) {
        self.sasl_done.store(true, Ordering::Relaxed);
    }

    pub fn sasl_done(&self) -> bool {
        self.sasl_done.load(Ordering::Relaxed)
    }

    pub fn identity(&self) -> Vec<Id> {
        self.identities().clone()
    }

    pub fn add_identity(&self, id: Id) {
        let mut ids = self.identities();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// The list is only cloned or pushed to, and a push either happens or does not,
    /// so a lock poisoned by a panic elsewhere still guards a whole list.
    fn identities(&self) -> MutexGuard<'_, Vec<Id>> {
        self.identity.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The result of a write, once the log has applied it.
pub type WriteResult = Pin<Box<dyn Future<Output = Result<TxnResult, ConsensusError>> + Send>>;
/// A sync's wait for this server to catch up with the leader.
pub type Barrier = Pin<Box<dyn Future<Output = Result<(), ConsensusError>> + Send>>;

/// A request waiting for its turn to be answered.
pub enum Pending {
    Write {
        xid: i32,
        opcode: OpCode,
        result: WriteResult,
        started: Instant,
    },
    Read {
        header: RequestHeader,
        body: Bytes,
        started: Instant,
        barrier: Option<Barrier>,
    },
    Reply(Bytes),
    /// Send this, then close the connection.
    Last(Bytes),
}

/// A read's outcome: a record to send, nothing, or an error code.
pub type Answer = Result<Option<Box<dyn JuteDyn>>, ErrorCode>;

pub fn boxed<T: Jute + 'static>(record: T) -> Answer {
    Ok(Some(Box::new(record)))
}
