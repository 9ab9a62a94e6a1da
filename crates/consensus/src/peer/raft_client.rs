//! openraft's side of the peer port: one client per peer, one request and one response
//! at a time. A client drops its connection on any error and the next RPC reconnects;
//! openraft's own backoff paces the retries. A snapshot goes out as a run of chunks.

use std::future::Future;
use std::time::Duration;

use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::impls::BasicNode;
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse};
use openraft::raft::{VoteRequest, VoteResponse};
use tokio::io::BufWriter;
use tokio::net::TcpStream;

use super::wire::{read_frame, write_frame, PeerRequest, PeerResponse};
use super::wire::{CONNECT_TIMEOUT, SNAPSHOT_CHUNK};
use crate::members::Dialer;
use crate::types::{Snapshot, TypeConfig, Vote};

const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

/// Makes a client per peer from the address in its membership entry, or the one the
/// dialer has for it.
#[derive(Debug, Clone, Default)]
pub struct TcpPeers {
    dialer: Dialer,
}

impl TcpPeers {
    pub fn new(dialer: Dialer) -> TcpPeers {
        TcpPeers { dialer }
    }
}

impl RaftNetworkFactory<TypeConfig> for TcpPeers {
    type Network = TcpPeer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Self::Network {
        TcpPeer {
            target,
            addr: self.dialer.address(target, &node.addr).to_string(),
            conn: None,
        }
    }
}

pub struct TcpPeer {
    target: u64,
    addr: String,
    conn: Option<TcpStream>,
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
        self.call_frames(std::slice::from_ref(request), ttl).await
    }

    /// Sends the frames of one request and reads its one response.
    async fn call_frames(
        &mut self,
        frames: &[PeerRequest],
        ttl: Duration,
    ) -> std::io::Result<PeerResponse> {
        let attempt = async {
            if self.conn.is_none() {
                let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.addr))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
                    })??;
                let _ = stream.set_nodelay(true);
                self.conn = Some(stream);
            }
            let Some(stream) = self.conn.as_mut() else {
                return Err(std::io::Error::other("no connection"));
            };
            let mut wr = BufWriter::new(&mut *stream);
            for frame in frames {
                write_frame(&mut wr, frame).await?;
            }
            tokio::io::AsyncWriteExt::flush(&mut wr).await?;
            read_frame(stream).await
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

impl RaftNetworkV2<TypeConfig> for TcpPeer {
    type SnapshotData = bytes::Bytes;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self
            .call(&PeerRequest::Append(rpc), option.hard_ttl())
            .await
        {
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
        match self.call_frames(&frames, SNAPSHOT_TIMEOUT).await {
            Ok(PeerResponse::Snapshot(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }
}
