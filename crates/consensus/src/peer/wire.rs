//! The peer wire: one length-prefixed postcard frame per message, and the messages
//! both kinds of peer connection carry.
//!
//! Anyone can connect to the quorum port, so a frame's announced length is not
//! trusted: a connection's first frame must be a small `Hello` naming a member, and
//! every body is read in steps that at most double what already arrived. Whatever a
//! peer sends, the server holds at most about twice that.

use bytes::Bytes;
use corral_tree::{Txn, TxnResult};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse};
use openraft::raft::{TransferLeaderRequest, TransferLeaderResponse};
use openraft::raft::{VoteRequest, VoteResponse};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::ConsensusError;
use crate::types::{SnapshotMeta, TypeConfig, Vote};

/// How long connecting to a peer may take.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// The version of these messages, which a connection's `Hello` carries.
pub(crate) const WIRE_VERSION: u8 = 1;
/// The largest first frame of a connection, before the peer has said who it is: a
/// `Hello` is a dozen bytes.
pub(crate) const HELLO_MAX: u32 = 64;
/// The largest frame after the `Hello`. The largest legitimate ones are batches of
/// appended entries, which the sender keeps under `APPEND_BATCH`; one transaction is
/// bounded by jute.maxbuffer (1 MiB by default), so this leaves room for a
/// jute.maxbuffer of tens of MiB.
pub(crate) const MAX_FRAME: u32 = 64 << 20;
/// The size a batch of appended entries is cut down to, a prefix at a time.
pub(crate) const APPEND_BATCH: usize = 8 << 20;
/// Snapshots travel in chunks of this size, so neither side holds a second copy in
/// one buffer and a slow link still shows progress.
pub(crate) const SNAPSHOT_CHUNK: usize = 1 << 20;
/// A body is read in steps, each at most as large as what arrived before it (and at
/// least this): a peer that announces much and sends little gets little allocated.
const FIRST_STEP: usize = 64 << 10;

#[derive(Debug, Serialize, Deserialize)]
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
    /// The first frame of every connection: the wire version and the sender's id.
    Hello {
        version: u8,
        from: u64,
    },
    /// openraft's own: the leader tells the voter it hands leadership to that it may
    /// stand for election now, rather than after the leader's lease runs out.
    RaftTransferLeader(TransferLeaderRequest<TypeConfig>),
}

#[derive(Debug, Serialize, Deserialize)]
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
    TransferLeader(TransferLeaderResponse<TypeConfig>),
}

/// This server's `Hello`, the first frame it sends on a connection it opened.
pub(crate) fn hello(from: u64) -> PeerRequest {
    PeerRequest::Hello {
        version: WIRE_VERSION,
        from,
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let body = postcard::to_stdvec(value)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let len = u32::try_from(body.len()).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a peer frame of {} bytes", body.len()),
        )
    })?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// The frame of `PeerRequest::Append(rpc)`, from a borrowed request: the sender may
/// have to cut the batch and encode it again.
pub(crate) fn encode_append(rpc: &AppendEntriesRequest<TypeConfig>) -> std::io::Result<Vec<u8>> {
    /// `PeerRequest` as far as its first variant, borrowed: the same bytes.
    #[derive(Serialize)]
    enum AppendFrame<'a> {
        Append(&'a AppendEntriesRequest<TypeConfig>),
    }
    encode(&AppendFrame::Append(rpc))
}

pub(crate) async fn write_frame<T: Serialize, W: AsyncWrite + Unpin>(
    stream: &mut W,
    value: &T,
) -> std::io::Result<()> {
    stream.write_all(&encode(value)?).await
}

/// Writes every message `queue` yields, flushing once per batch of what is queued (at
/// most the queue's capacity, so that a queue kept full still gets flushed).
pub(crate) async fn write_queued<T: Serialize, W: AsyncWrite + Unpin>(
    wr: W,
    mut queue: tokio::sync::mpsc::Receiver<T>,
) -> std::io::Result<()> {
    let mut wr = tokio::io::BufWriter::new(wr);
    let batch_max = queue.max_capacity();
    while let Some(first) = queue.recv().await {
        write_frame(&mut wr, &first).await?;
        let mut batch = 1;
        while batch < batch_max {
            let Ok(next) = queue.try_recv() else { break };
            write_frame(&mut wr, &next).await?;
            batch += 1;
        }
        assert!(batch <= batch_max, "a flush batch of {batch} frames");
        wr.flush().await?;
    }
    Ok(())
}

/// Reads one frame of at most `limit` bytes.
pub(crate) async fn read_frame<T: for<'de> Deserialize<'de>, R: AsyncReadExt + Unpin>(
    stream: &mut R,
    limit: u32,
) -> std::io::Result<T> {
    let len = stream.read_u32().await?;
    if len > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a peer frame of {len} bytes is over the limit of {limit}"),
        ));
    }
    let mut body = Vec::new();
    read_body(stream, len as usize, &mut body).await?;
    postcard::from_bytes(&body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Reads `len` bytes into `body` in steps: each at most as large as what arrived
/// before it (`FIRST_STEP` at first), so `body` never holds more than twice what
/// arrived plus `FIRST_STEP`. A frame below `FIRST_STEP` is one step, as before.
async fn read_body<R: AsyncReadExt + Unpin>(
    stream: &mut R,
    len: usize,
    body: &mut Vec<u8>,
) -> std::io::Result<()> {
    body.clear();
    let mut filled = 0;
    while filled < len {
        let step = (len - filled).min(filled.max(FIRST_STEP));
        body.reserve_exact(step);
        body.resize(filled + step, 0);
        stream.read_exact(&mut body[filled..]).await?;
        filled += step;
        assert!(body.len() == filled && filled <= len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_large_announced_frame_grows_only_with_what_arrives() {
        let arrived = 100_000;
        let mut stream: &[u8] = &vec![7; arrived];
        let mut body = Vec::new();
        let read = read_body(&mut stream, 1 << 30, &mut body).await;
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::UnexpectedEof)
        );
        assert!(
            body.capacity() <= 2 * arrived + FIRST_STEP,
            "{} bytes allocated for {arrived} that arrived",
            body.capacity()
        );
    }

    #[tokio::test]
    async fn frames_round_trip_and_the_limit_holds() {
        let frame = encode(&hello(3)).expect("encode");
        let mut stream: &[u8] = &frame;
        let back: PeerRequest = read_frame(&mut stream, HELLO_MAX).await.expect("read");
        assert!(matches!(
            back,
            PeerRequest::Hello {
                version: WIRE_VERSION,
                from: 3
            }
        ));
        let big = encode(&PeerRequest::Alive(vec![1; 100])).expect("encode");
        let mut stream: &[u8] = &big;
        let refused = read_frame::<PeerRequest, _>(&mut stream, HELLO_MAX).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("over the limit")));
        // A body longer than one step arrives whole.
        let long =
            encode(&PeerRequest::SnapshotChunk(Bytes::from(vec![9; 300_000]))).expect("encode");
        let mut stream: &[u8] = &long;
        let back: PeerRequest = read_frame(&mut stream, MAX_FRAME).await.expect("read");
        assert!(matches!(back, PeerRequest::SnapshotChunk(b) if b == vec![9; 300_000]));
    }

    /// One frame of every message, for `frames_keep_their_bytes`.
    fn every_frame() -> Vec<(&'static str, std::io::Result<Vec<u8>>, &'static str)> {
        use corral_tree::{OpResult, TxnOp};
        use openraft::entry::RaftEntry;
        use openraft::testing::log_id;
        use openraft::StoredMembership;

        use crate::types::{Entry, TypeConfig as C};

        let vote = Vote::new_committed(2, 3);
        let at = Some(log_id::<C>(2, 3, 4));
        let membership = openraft::Membership::new_with_defaults(vec![[1, 2].into()], []);
        let txn = Txn {
            session_id: 9,
            time: 0,
            identity: Vec::new(),
            op: TxnOp::Delete {
                path: "/a".into(),
                version: -1,
            },
        };
        let appended = AppendEntriesRequest {
            vote,
            prev_log_id: at,
            entries: vec![Entry::new_blank(log_id::<C>(2, 3, 5))],
            leader_commit: at,
        };
        let meta = SnapshotMeta {
            last_log_id: at,
            last_membership: StoredMembership::new(at, membership),
        };
        let created = TxnResult {
            zxid: 5,
            result: OpResult::CreatedPlain { path: "/a".into() },
        };
        let r = |m: PeerRequest| encode(&m);
        let a = |m: PeerResponse| encode(&m);
        vec![
            ("append", r(PeerRequest::Append(appended)), "000000110002030101020304010203050001020304"),
            ("vote", r(PeerRequest::Vote(VoteRequest::new(vote, at))), "00000009010203010102030400"),
            (
                "snapshotBegin",
                r(PeerRequest::SnapshotBegin {
                    vote,
                    meta,
                    total: 3,
                }),
                "00000029020203010102030401020304010201020201096c6f63616c686f737402096c6f63616c686f73740003",
            ),
            (
                "snapshotChunk",
                r(PeerRequest::SnapshotChunk(Bytes::from_static(&[1, 2, 3]))),
                "000000050303010203",
            ),
            ("forward", r(PeerRequest::Forward { id: 7, txn }), "0000000a040712000003022f6101"),
            ("readIndex", r(PeerRequest::ReadIndex { id: 7 }), "000000020507"),
            ("alive", r(PeerRequest::Alive(vec![1, -1])), "0000000406020201"),
            (
                "transferLeader",
                r(PeerRequest::TransferLeader { to: 2 }),
                "000000020702",
            ),
            ("hello", r(hello(2)), "00000003080102"),
            (
                "raftTransferLeader",
                r(PeerRequest::RaftTransferLeader(TransferLeaderRequest::new(vote, 2, at))),
                "00000009090203010201020304",
            ),
            (
                "appended",
                a(PeerResponse::Append(AppendEntriesResponse::Success)),
                "000000020000",
            ),
            (
                "voted",
                a(PeerResponse::Vote(VoteResponse::new(vote, at, true))),
                "00000009010203010101020304",
            ),
            (
                "installed",
                a(PeerResponse::Snapshot(SnapshotResponse::new(vote))),
                "0000000402020301",
            ),
            ("refused", a(PeerResponse::Refused("no".into())), "0000000403026e6f"),
            (
                "forwarded",
                a(PeerResponse::Forwarded {
                    id: 7,
                    result: Ok(created),
                }),
                "000000080407000a01022f61",
            ),
            (
                "notLeader",
                a(PeerResponse::Forwarded {
                    id: 7,
                    result: Err(ConsensusError::NotLeader { leader: Some(2) }),
                }),
                "00000006040701020102",
            ),
            (
                "readIndexAnswer",
                a(PeerResponse::ReadIndex {
                    id: 7,
                    result: Ok(5),
                }),
                "0000000405070005",
            ),
            (
                "transferred",
                a(PeerResponse::TransferLeader(Ok(()))),
                "000000020600",
            ),
        ]
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The peer wire is postcard too: reordering a variant of these messages (or of
    /// a transaction, or of openraft's) changes what a frame means to a server of
    /// another build. That is a new `WIRE_VERSION`, which the `Hello` refuses.
    #[test]
    fn frames_keep_their_bytes() {
        for (name, frame, pinned) in every_frame() {
            assert_eq!(
                hex(&frame.expect("encode")),
                pinned,
                "the {name} frame changed"
            );
        }
    }
}
