//! The answering side of the peer port: openraft's RPCs in order, and a follower's
//! pipelined writes and syncs, whose answers may overtake one another. Every
//! connection passes the ensemble's `PeerSecurity` hook first: one it refuses is
//! closed, with a warning naming the address, before a frame of it is read.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{BufReader, ReadHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use openraft::raft::AppendEntriesRequest;
use openraft::EntryPayload;

use super::secure::{PeerSecurity, Refusal, Secured};
use super::wire::{read_frame, write_queued, PeerRequest, PeerResponse};
use super::wire::{HELLO_MAX, MAX_FRAME, SNAPSHOT_CHUNK, WIRE_VERSION};
use crate::append::{append_local, read_index_local};
use crate::contact::LeaderContact;
use crate::measure::{since_millis, Measure, Replicated};
use crate::observer::ApplyObserver;
use crate::state_machine::Raft;
use crate::types::{Snapshot, TypeConfig};

/// The largest snapshot a follower accepts from a leader; far above any tree that fits
/// in memory, but it keeps a bad length from allocating without bound.
const MAX_SNAPSHOT: u64 = 64 << 30;
/// Answers queued for one peer connection before the reader waits for the writer.
const OUTBOX: usize = 1024;

/// What answering a peer needs.
#[derive(Clone)]
pub(crate) struct PeerService {
    pub raft: Raft,
    pub contact: Arc<LeaderContact>,
    pub observer: Arc<dyn ApplyObserver>,
    /// The leader's transactions received and not yet known committed, for mntr.
    pub replicated: Arc<Replicated>,
    /// The configured members' ids: a connection whose `Hello` names another is
    /// closed.
    pub members: Arc<BTreeSet<u64>>,
    /// What a connection must pass before its first frame is read.
    pub security: Arc<dyn PeerSecurity>,
}

type Reader = BufReader<ReadHalf<Secured>>;

/// Answers peers until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    service: PeerService,
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
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_one(stream, service).await {
                tracing::debug!("peer connection from {peer} ended: {e}");
            }
        });
    }
}

async fn serve_one(stream: TcpStream, service: PeerService) -> std::io::Result<()> {
    let peer = stream.peer_addr()?;
    let stream = match service.security.accept(stream, peer).await {
        Ok(secured) => secured,
        Err(Refusal::Quiet) => return Ok(()),
        Err(Refusal::Refused(why)) => {
            tracing::warn!("refused a peer connection from {peer}: {why}");
            return Ok(());
        }
    };
    let (rd, wr) = tokio::io::split(stream);
    let mut rd = BufReader::new(rd);
    let from = match identify(&mut rd, &service).await {
        Ok(from) => from,
        Err(e) => {
            tracing::info!("refused a peer connection from {peer}: {e}");
            return Ok(());
        }
    };
    let (out, outbox) = mpsc::channel(OUTBOX);
    let writer = tokio::spawn(write_queued(wr, outbox));
    let mut leader = None;
    let result = read_requests(&mut rd, &service, out, &mut leader).await;
    if let Some(leader) = leader {
        // The election driver checks whether the leader's process is gone.
        service.contact.connection_lost(leader);
    }
    let _ = writer.await;
    result.map_err(|e| std::io::Error::new(e.kind(), format!("sid {from}: {e}")))
}

/// Reads the connection's first frame, which must be a `Hello` of this wire version
/// from a configured member, and is at most `HELLO_MAX` bytes: before that, nothing a
/// stranger sends is held. Returns the member's id.
async fn identify(rd: &mut Reader, service: &PeerService) -> std::io::Result<u64> {
    let refuse = |why: String| Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why));
    match read_frame(rd, HELLO_MAX).await? {
        PeerRequest::Hello { version, .. } if version != WIRE_VERSION => refuse(format!(
            "a peer speaks wire version {version}; this server speaks {WIRE_VERSION}"
        )),
        PeerRequest::Hello { from, .. } if service.members.contains(&from) => Ok(from),
        PeerRequest::Hello { from, .. } => refuse(format!("sid {from} is not a member")),
        _ => refuse("the first frame is not a Hello".into()),
    }
}

async fn read_requests(
    rd: &mut Reader,
    service: &PeerService,
    out: mpsc::Sender<PeerResponse>,
    leader: &mut Option<u64>,
) -> std::io::Result<()> {
    let closed = || std::io::Error::other("answer writer stopped");
    loop {
        let request: PeerRequest = read_frame(rd, MAX_FRAME).await?;
        let answer = match request {
            PeerRequest::Append(rpc) => {
                let from = rpc.vote.leader_id().node_id;
                *leader = Some(from);
                Some(append(rpc, service).await)
            }
            PeerRequest::Vote(rpc) => Some(match service.raft.vote(rpc).await {
                Ok(r) => PeerResponse::Vote(r),
                Err(e) => PeerResponse::Refused(e.to_string()),
            }),
            PeerRequest::SnapshotBegin { vote, meta, total } => {
                service.contact.heard(vote.leader_id().node_id);
                let data = receive_snapshot(rd, total).await?;
                tracing::info!(
                    "Getting a snapshot from the leader: index {}, {total} bytes",
                    meta.last_log_id.map(|l| l.index).unwrap_or(0)
                );
                let snapshot = Snapshot {
                    meta,
                    snapshot: data,
                };
                Some(
                    match service.raft.install_full_snapshot(vote, snapshot).await {
                        Ok(r) => PeerResponse::Snapshot(r),
                        Err(e) => PeerResponse::Refused(e.to_string()),
                    },
                )
            }
            PeerRequest::SnapshotChunk(_) => {
                return Err(std::io::Error::other("snapshot chunk outside a snapshot"));
            }
            PeerRequest::Hello { .. } => {
                return Err(std::io::Error::other("a second Hello"));
            }
            PeerRequest::RaftTransferLeader(rpc) => {
                tracing::info!(
                    "sid {} hands leadership to this server",
                    rpc.from_leader().leader_id().node_id
                );
                Some(match service.raft.handle_transfer_leader(rpc).await {
                    Ok(r) => PeerResponse::TransferLeader(r),
                    Err(e) => PeerResponse::Refused(e.to_string()),
                })
            }
            other => {
                follower_request(other, service, &out).await;
                None
            }
        };
        if let Some(answer) = answer {
            out.send(answer).await.map_err(|_| closed())?;
        }
    }
}

/// An AppendEntries from the leader, which is alive.
async fn append(rpc: AppendEntriesRequest<TypeConfig>, service: &PeerService) -> PeerResponse {
    if let Some(why) = out_of_line(&rpc) {
        // The log store stops the server on such entries; a peer may not.
        return PeerResponse::Refused(why);
    }
    service.contact.heard(rpc.vote.leader_id().node_id);
    let received = proposals_received(&rpc, service);
    let commit = rpc.leader_commit.map_or(0, |l| l.index);
    match service.raft.append_entries(rpc).await {
        Ok(r) => {
            if r.is_success() {
                acked(received, commit, service);
            }
            PeerResponse::Append(r)
        }
        Err(e) => PeerResponse::Refused(e.to_string()),
    }
}

/// What a follower's link to this leader carries; answers, if any, go to `out` when
/// they are ready, in any order.
async fn follower_request(
    request: PeerRequest,
    service: &PeerService,
    out: &mpsc::Sender<PeerResponse>,
) {
    let raft = &service.raft;
    match request {
        PeerRequest::Forward { id, txn } => {
            // Appended before the next frame is read: a session's writes enter the
            // log in the order its server forwarded them.
            let appended = append_local(raft, &service.observer, txn, false).await;
            let out = out.clone();
            tokio::spawn(async move {
                let result = match appended {
                    Ok(applied) => applied.await,
                    Err(e) => Err(e),
                };
                let _ = out.send(PeerResponse::Forwarded { id, result }).await;
            });
        }
        PeerRequest::ReadIndex { id } => {
            let raft = raft.clone();
            let out = out.clone();
            tokio::spawn(async move {
                let result = read_index_local(&raft).await;
                let _ = out.send(PeerResponse::ReadIndex { id, result }).await;
            });
        }
        PeerRequest::Alive(sessions) => service.observer.sessions_alive(&sessions),
        PeerRequest::TransferLeader { to } => {
            tracing::info!("sid {to} asks for leadership; transferring");
            if let Err(e) = raft.trigger().transfer_leader(to).await {
                tracing::warn!("cannot transfer leadership to sid {to}: {e}");
            }
        }
        // The rest are openraft's and the connection's own, answered by the caller.
        _ => {}
    }
}

/// Why the entries of `rpc` do not follow one another from its `prev_log_id`, if so.
fn out_of_line(rpc: &AppendEntriesRequest<TypeConfig>) -> Option<String> {
    let first = rpc.prev_log_id.map_or(0, |p| p.index + 1);
    rpc.entries
        .iter()
        .zip(first..)
        .find(|(e, want)| e.log_id.index != *want)
        .map(|(e, want)| {
            format!(
                "entries out of line: entry {} where {want} was due",
                e.log_id.index
            )
        })
}

/// The leader's transactions in an AppendEntries, as they arrive (ZooKeeper's
/// PROPOSAL packets): measured and remembered until their commit arrives. Returns the
/// range of log indexes they span.
#[allow(clippy::reversed_empty_ranges)]
fn proposals_received(
    rpc: &AppendEntriesRequest<TypeConfig>,
    service: &PeerService,
) -> std::ops::RangeInclusive<u64> {
    for entry in &rpc.entries {
        if let EntryPayload::Normal(txn) = &entry.payload {
            service.observer.measured(Measure::ProposalReceived {
                since_stamped: since_millis(txn.time),
            });
            service.replicated.received(entry.log_id.index, txn.time);
        }
    }
    match (rpc.entries.first(), rpc.entries.last()) {
        (Some(first), Some(last)) => first.log_id.index..=last.log_id.index,
        // Nothing received: an empty range.
        _ => 1..=0,
    }
}

/// openraft answers an AppendEntries once its entries are flushed to this server's
/// log: the answer is the ack (ZooKeeper's SendAckRequestProcessor). The request's
/// commit index is the leader's COMMIT for every transaction it passes.
fn acked(received: std::ops::RangeInclusive<u64>, commit: u64, service: &PeerService) {
    let (observer, replicated) = (&service.observer, &service.replicated);
    for time in received.filter_map(|i| replicated.time(i)) {
        observer.measured(Measure::ProposalAcked {
            since_stamped: since_millis(time),
        });
    }
    replicated.commit(commit, |time| {
        observer.measured(Measure::CommitReceived {
            since_stamped: since_millis(time),
        })
    });
}

/// Reads the chunk frames of one snapshot into one buffer.
async fn receive_snapshot(rd: &mut Reader, total: u64) -> std::io::Result<bytes::Bytes> {
    if total > MAX_SNAPSHOT {
        return Err(std::io::Error::other(format!(
            "snapshot of {total} bytes is over the limit"
        )));
    }
    // Grow with what arrives rather than trust the announced size: the buffer at most
    // doubles at a time, and never past the announced total.
    let mut data = BytesMut::new();
    while (data.len() as u64) < total {
        match read_frame(rd, MAX_FRAME).await? {
            PeerRequest::SnapshotChunk(chunk)
                if !chunk.is_empty()
                    && chunk.len() <= SNAPSHOT_CHUNK
                    && data.len() as u64 + chunk.len() as u64 <= total =>
            {
                if data.capacity() - data.len() < chunk.len() {
                    let left = (total - data.len() as u64) as usize;
                    data.reserve(left.min(data.len().max(SNAPSHOT_CHUNK)));
                }
                data.extend_from_slice(&chunk);
                assert!(data.len() as u64 <= total);
            }
            _ => return Err(std::io::Error::other("malformed snapshot stream")),
        }
    }
    Ok(data.freeze())
}

#[cfg(test)]
mod tests {
    use openraft::testing::{blank_ent, log_id};

    use super::*;
    use crate::types::TypeConfig as C;

    #[test]
    fn entries_out_of_line_are_named() {
        let rpc = |prev: Option<u64>, indexes: &[u64]| AppendEntriesRequest::<C> {
            vote: crate::types::Vote::new_committed(1, 1),
            prev_log_id: prev.map(|p| log_id::<C>(1, 1, p)),
            entries: indexes.iter().map(|i| blank_ent::<C>(1, 1, *i)).collect(),
            leader_commit: None,
        };
        assert_eq!(out_of_line(&rpc(None, &[0, 1, 2])), None);
        assert_eq!(out_of_line(&rpc(Some(4), &[5, 6])), None);
        assert_eq!(out_of_line(&rpc(Some(4), &[])), None);
        assert!(out_of_line(&rpc(Some(4), &[6])).is_some_and(|w| w.contains("entry 6 where 5")));
        assert!(out_of_line(&rpc(None, &[0, 2])).is_some_and(|w| w.contains("entry 2 where 1")));
    }
}
