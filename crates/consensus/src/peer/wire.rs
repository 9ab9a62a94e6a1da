//! The peer wire: one length-prefixed postcard frame per message, and the messages
//! both kinds of peer connection carry.

use bytes::Bytes;
use corral_tree::{Txn, TxnResult};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse};
use openraft::raft::{VoteRequest, VoteResponse};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::ConsensusError;
use crate::types::{SnapshotMeta, TypeConfig, Vote};

/// How long connecting to a peer may take.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// The largest frame a peer accepts: a batch of appended entries at most.
const MAX_FRAME: u32 = 1 << 30;
/// Snapshots travel in chunks of this size, so neither side holds a second copy in
/// one buffer and a slow link still shows progress.
pub(crate) const SNAPSHOT_CHUNK: usize = 1 << 20;

#[derive(Serialize, Deserialize)]
pub(crate) enum PeerRequest {
    Append(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<TypeConfig>),
    /// A snapshot of `total` bytes follows in `SnapshotChunk` frames.
    SnapshotBegin {
        vote: Vote,
        meta: SnapshotMeta,
        total: u64,
    },
    SnapshotChunk(Bytes),
    /// A client's write, received by a follower, for the leader to append.
    Forward {
        id: u64,
        txn: Txn,
    },
    /// A sync: the leader confirms it still leads and names the index to catch up to.
    ReadIndex {
        id: u64,
    },
    /// Sessions whose clients this server heard from since its last report.
    Alive(Vec<i64>),
    /// An operator asked this server (`to`) to lead (`rqld`).
    TransferLeader {
        to: u64,
    },
}

#[derive(Serialize, Deserialize)]
pub(crate) enum PeerResponse {
    Append(AppendEntriesResponse<TypeConfig>),
    Vote(VoteResponse<TypeConfig>),
    Snapshot(SnapshotResponse<TypeConfig>),
    /// The receiving node could not take the request (shutting down, or failed).
    Refused(String),
    Forwarded {
        id: u64,
        result: Result<TxnResult, ConsensusError>,
    },
    ReadIndex {
        id: u64,
        result: Result<u64, ConsensusError>,
    },
}

pub(crate) fn encode<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let body = postcard::to_stdvec(value)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

pub(crate) async fn write_frame<T: Serialize, W: AsyncWrite + Unpin>(
    stream: &mut W,
    value: &T,
) -> std::io::Result<()> {
    stream.write_all(&encode(value)?).await
}

/// Writes every message `queue` yields, flushing once per batch of what is queued.
pub(crate) async fn write_queued<T: Serialize, W: AsyncWrite + Unpin>(
    wr: W,
    mut queue: tokio::sync::mpsc::Receiver<T>,
) -> std::io::Result<()> {
    let mut wr = tokio::io::BufWriter::new(wr);
    while let Some(first) = queue.recv().await {
        write_frame(&mut wr, &first).await?;
        while let Ok(next) = queue.try_recv() {
            write_frame(&mut wr, &next).await?;
        }
        wr.flush().await?;
    }
    Ok(())
}

pub(crate) async fn read_frame<T: for<'de> Deserialize<'de>, R: AsyncReadExt + Unpin>(
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
