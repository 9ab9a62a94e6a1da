//! The peer network between the servers of an ensemble: openraft's RPCs over TCP,
//! one length-prefixed postcard frame per request and per response, on the port the
//! `server.N` line gives.
//!
//! A client keeps one connection per peer and drops it on any error; the next RPC
//! reconnects, and openraft's own backoff paces the retries. Snapshots travel whole in
//! one frame for now (chunked streaming for very large trees is the ensemble issue's).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use openraft::errors::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::impls::BasicNode;
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse};
use openraft::raft::{VoteRequest, VoteResponse};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::types::{Raft, Snapshot, SnapshotMeta, TypeConfig, Vote};

/// The largest frame a peer accepts: a whole snapshot of a big tree.
const MAX_FRAME: u32 = 1 << 30;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Serialize, Deserialize)]
enum PeerRequest {
    Append(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<TypeConfig>),
    Snapshot {
        vote: Vote,
        meta: SnapshotMeta,
        data: Bytes,
    },
}

#[derive(Serialize, Deserialize)]
enum PeerResponse {
    Append(AppendEntriesResponse<TypeConfig>),
    Vote(VoteResponse<TypeConfig>),
    Snapshot(SnapshotResponse<TypeConfig>),
    /// The receiving node could not take the request (shutting down, or failed).
    Refused(String),
}

async fn write_frame<T: Serialize>(stream: &mut TcpStream, value: &T) -> std::io::Result<()> {
    let body = postcard::to_stdvec(value)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    stream.write_all(&frame).await
}

async fn read_frame<T: for<'de> Deserialize<'de>, R: AsyncReadExt + Unpin>(
    stream: &mut R,
) -> std::io::Result<T> {
    let len = stream.read_u32().await?;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("peer frame of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    stream.read_exact(&mut body).await?;
    postcard::from_bytes(&body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Answers peers' RPCs with the local Raft node until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    raft: Raft,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let raft = raft.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_one(stream, raft).await {
                tracing::debug!("peer connection from {peer} ended: {e}");
            }
        });
    }
}

async fn serve_one(mut stream: TcpStream, raft: Raft) -> std::io::Result<()> {
    loop {
        let request: PeerRequest = {
            let mut reader = BufReader::new(&mut stream);
            read_frame(&mut reader).await?
        };
        let response = match request {
            PeerRequest::Append(rpc) => match raft.append_entries(rpc).await {
                Ok(r) => PeerResponse::Append(r),
                Err(e) => PeerResponse::Refused(e.to_string()),
            },
            PeerRequest::Vote(rpc) => match raft.vote(rpc).await {
                Ok(r) => PeerResponse::Vote(r),
                Err(e) => PeerResponse::Refused(e.to_string()),
            },
            PeerRequest::Snapshot { vote, meta, data } => {
                let snapshot = Snapshot {
                    meta,
                    snapshot: data,
                };
                match raft.install_full_snapshot(vote, snapshot).await {
                    Ok(r) => PeerResponse::Snapshot(r),
                    Err(e) => PeerResponse::Refused(e.to_string()),
                }
            }
        };
        write_frame(&mut stream, &response).await?;
    }
}

/// Makes a client per peer from the address in its membership entry.
#[derive(Debug, Clone, Default)]
pub struct TcpPeers;

impl RaftNetworkFactory<TypeConfig> for TcpPeers {
    type Network = TcpPeer;

    async fn new_client(&mut self, _target: u64, node: &BasicNode) -> Self::Network {
        TcpPeer {
            addr: node.addr.clone(),
            conn: None,
        }
    }
}

pub struct TcpPeer {
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
            write_frame(stream, request).await?;
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
    type SnapshotData = Bytes;

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
        let request = PeerRequest::Snapshot {
            vote,
            meta: snapshot.meta,
            data: snapshot.snapshot,
        };
        match self.call(&request, SNAPSHOT_TIMEOUT).await {
            Ok(PeerResponse::Snapshot(r)) => Ok(r),
            Ok(PeerResponse::Refused(why)) => Err(unreachable(why)),
            Ok(_) => Err(unreachable("mismatched peer response")),
            Err(e) => Err(unreachable(format!("{}: {e}", self.addr))),
        }
    }
}
