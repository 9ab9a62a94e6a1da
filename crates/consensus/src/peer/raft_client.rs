//! openraft's side of the peer port: one client per peer, one request and one response
//! at a time. A client drops its connection on any error and the next RPC reconnects;
//! openraft's own backoff paces the retries. A new connection is secured by the
//! ensemble's `PeerSecurity` hook, then starts with this server's `Hello`. A
//! snapshot goes out as a run of chunks, and a batch of entries too large for one
//! frame goes out a prefix at a time.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::impls::BasicNode;
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse};
use openraft::raft::{TransferLeaderRequest, TransferLeaderResponse};
use openraft::raft::{VoteRequest, VoteResponse};
use tokio::io::{AsyncWriteExt, BufWriter};

use super::secure::{dial, PeerSecurity, Secured};
use super::wire::{encode_append, hello, read_frame, write_frame, PeerRequest, PeerResponse};
use super::wire::{APPEND_BATCH, CONNECT_TIMEOUT, MAX_FRAME, SNAPSHOT_CHUNK};
use crate::members::Dialer;
use crate::types::{LogId, Snapshot, TypeConfig, Vote};

const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

/// Makes a client per peer from the address in its membership entry, or the one the
/// dialer has for it.
#[derive(Clone)]
pub struct TcpPeers {
    /// This server's id, which its `Hello` names.
    id: u64,
    dialer: Dialer,
    security: Arc<dyn PeerSecurity>,
}

impl TcpPeers {
    pub fn new(id: u64, dialer: Dialer, security: Arc<dyn PeerSecurity>) -> TcpPeers {
        TcpPeers {
            id,
            dialer,
            security,
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for TcpPeers {
    type Network = TcpPeer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Self::Network {
        TcpPeer {
            from: self.id,
            target,
            addr: self.dialer.address(target, &node.addr).to_string(),
            security: self.security.clone(),
            conn: None,
        }
    }
}

pub struct TcpPeer {
    from: u64,
    target: u64,
    addr: String,
    security: Arc<dyn PeerSecurity>,
    conn: Option<Secured>,
}

/// What one call sends: messages to encode one by one as they are written, or a
/// frame encoded already.
enum Outgoing<'a> {
    Requests(&'a [PeerRequest]),
    Encoded(&'a [u8]),
}

fn unreachable<E: From<Unreachable<TypeConfig>>>(why: impl std::fmt::Display) -> E {
    E::from(Unreachable::new(&std::io::Error::other(why.to_string())))
}

impl TcpPeer {
    async fn call(
        &mut self,
        request: &PeerRequest,
        ttl: Duration,
    ) -> std::io::Result<PeerResponse> {
        self.exchange(Outgoing::Requests(std::slice::from_ref(request)), ttl)
            .await
    }

    /// Sends the frames of one request and reads its one response.
    async fn exchange(
        &mut self,
        outgoing: Outgoing<'_>,
        ttl: Duration,
    ) -> std::io::Result<PeerResponse> {
        let attempt = async {
            let fresh = self.conn.is_none();
            if fresh {
                let stream = dial(&*self.security, &self.addr, CONNECT_TIMEOUT).await?;
                self.conn = Some(stream);
            }
            let Some(stream) = self.conn.as_mut() else {
                return Err(std::io::Error::other("no connection"));
            };
            let mut wr = BufWriter::new(&mut *stream);
            if fresh {
                write_frame(&mut wr, &hello(self.from)).await?;
            }
            match outgoing {
                Outgoing::Requests(frames) => {
                    for frame in frames {
                        write_frame(&mut wr, frame).await?;
                    }
                }
                Outgoing::Encoded(frame) => wr.write_all(frame).await?,
            }
            wr.flush().await?;
            read_frame(stream, MAX_FRAME).await
        };
        let result = match tokio::time::timeout(ttl, attempt).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "peer did not answer in time",
            )),
        };
        if result.is_err() {
            // The stream may hold half a frame: start over on the next call.
            self.conn = None;
        }
        result
    }
}

/// The frame for `rpc`, or for a prefix of its entries when all of them would make a
/// frame over `APPEND_BATCH`, and then the prefix's last log id. Halving costs an
/// encode per halving, only for batches that large.
fn fit_append(
    rpc: &mut AppendEntriesRequest<TypeConfig>,
) -> std::io::Result<(Vec<u8>, Option<LogId>)> {
    let mut cut = None;
    loop {
        let frame = encode_append(rpc)?;
        if frame.len() <= APPEND_BATCH || rpc.entries.len() <= 1 {
            if frame.len() > MAX_FRAME as usize {
                return Err(std::io::Error::other(format!(
                    "entry {:?} alone makes a peer frame of {} bytes, over the limit of {MAX_FRAME}",
                    rpc.entries.first().map(|e| e.log_id.index),
                    frame.len()
                )));
            }
            return Ok((frame, cut));
        }
        rpc.entries.truncate(rpc.entries.len() / 2);
        cut = rpc.entries.last().map(|e| e.log_id);
    }
}

impl RaftNetworkV2<TypeConfig> for TcpPeer {
    type SnapshotData = bytes::Bytes;

    async fn append_entries(
        &mut self,
        mut rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        let (frame, cut) = match fit_append(&mut rpc) {
            Ok(fitted) => fitted,
            Err(e) => {
                tracing::error!("cannot replicate to sid {}: {e}", self.target);
                return Err(unreachable(e));
            }
        };
        drop(rpc);
        match self
            .exchange(Outgoing::Encoded(&frame), option.hard_ttl())
            .await
        {
            // Only a prefix went: openraft sends the rest next.
            Ok(PeerResponse::Append(AppendEntriesResponse::Success)) if cut.is_some() => {
                Ok(AppendEntriesResponse::PartialSuccess(cut))
            }
            Ok(PeerResponse::Append(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(&PeerRequest::Vote(rpc), option.hard_ttl()).await {
            Ok(PeerResponse::Vote(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }

    /// The leader's word that this peer should stand now (`rqld`, `ydld`): without it
    /// the chosen voter waits out the leader's lease like everyone else, and any of
    /// them may win the election that follows.
    async fn transfer_leader(
        &mut self,
        rpc: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        let request = PeerRequest::RaftTransferLeader(rpc);
        match self.call(&request, option.hard_ttl()).await {
            Ok(PeerResponse::TransferLeader(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let data = snapshot.snapshot;
        tracing::info!(
            "Sending snapshot to sid {}: index {}, {} bytes in chunks of {} KiB",
            self.target,
            snapshot.meta.last_log_id.map(|l| l.index).unwrap_or(0),
            data.len(),
            SNAPSHOT_CHUNK >> 10
        );
        let mut frames = vec![PeerRequest::SnapshotBegin {
            vote,
            meta: snapshot.meta,
            total: data.len() as u64,
        }];
        let mut offset = 0;
        while offset < data.len() {
            let end = (offset + SNAPSHOT_CHUNK).min(data.len());
            frames.push(PeerRequest::SnapshotChunk(data.slice(offset..end)));
            offset = end;
        }
        match self
            .exchange(Outgoing::Requests(&frames), SNAPSHOT_TIMEOUT)
            .await
        {
            Ok(PeerResponse::Snapshot(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use corral_tree::{Txn, TxnOp};
    use openraft::entry::RaftEntry;
    use openraft::testing::log_id;

    use super::*;
    use crate::types::Entry;

    fn set_data(index: u64, bytes: usize) -> Entry {
        let txn = Txn {
            session_id: 1,
            time: 0,
            identity: Vec::new(),
            op: TxnOp::SetData {
                path: "/big".into(),
                data: Some(vec![1; bytes].into()),
                version: -1,
            },
        };
        Entry::new_normal(log_id::<TypeConfig>(1, 1, index), Arc::new(txn))
    }

    fn request(entries: Vec<Entry>) -> AppendEntriesRequest<TypeConfig> {
        AppendEntriesRequest {
            vote: Vote::new_committed(1, 1),
            prev_log_id: Some(log_id::<TypeConfig>(1, 1, 9)),
            entries,
            leader_commit: None,
        }
    }

    #[test]
    fn a_batch_over_the_frame_budget_goes_a_prefix_at_a_time() {
        let mut small = request((10..20).map(|i| set_data(i, 1000)).collect());
        let (frame, cut) = fit_append(&mut small).expect("fits");
        assert_eq!((small.entries.len(), cut), (10, None));
        assert!(frame.len() < APPEND_BATCH);
        // Twenty entries of 1 MiB: cut to a prefix under the budget.
        let mut large = request((10..30).map(|i| set_data(i, 1 << 20)).collect());
        let (frame, cut) = fit_append(&mut large).expect("fits");
        assert!(frame.len() <= APPEND_BATCH, "{} bytes", frame.len());
        assert_eq!(large.entries.len(), 5);
        assert_eq!(cut, Some(log_id::<TypeConfig>(1, 1, 14)));
        // One entry alone over the frame limit cannot go at all.
        let mut huge = request(vec![set_data(10, MAX_FRAME as usize)]);
        assert!(fit_append(&mut huge).is_err());
    }
}
