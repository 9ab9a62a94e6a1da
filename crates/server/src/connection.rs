//! One client connection: the four-letter-word sniff, the handshake, then three
//! stages. The reader decodes requests and hands writes to the log at once, in the
//! order they arrive; the responder answers strictly in request order, waiting for a
//! write's result before answering anything after it (so a session reads its own
//! writes); the writer batches frames onto the socket. Watch events join the writer's
//! queue when the change is applied, so they always precede the reply of the write
//! that caused them.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use corral_consensus::ConsensusError;
use corral_jute::records::{ConnectRequest, ConnectResponse, Id, ReplyHeader, RequestHeader};
use corral_jute::{ErrorCode, Jute, OpCode};
use corral_tree::{Txn, TxnResult};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::hub::{ConnCounters, ConnEntry};
use crate::session::now_millis;
use crate::watches::JuteDyn;
use crate::{fourletter, handshake, request, ServerState};

pub type ConnId = u64;

/// What the writer stage sends.
pub enum Outbound {
    Frame(Bytes),
    Close,
}

/// Requests one connection may have in flight before the reader stops reading.
const MAX_OUTSTANDING: usize = 1000;
/// Frames queued to the socket (replies and watch events) before the client is
/// considered stuck.
const OUTBOX: usize = 10_000;

/// A length-prefixed reply frame.
pub fn frame(header: &ReplyHeader, body: Option<&dyn JuteDyn>) -> Bytes {
    let mut w = BytesMut::with_capacity(64);
    w.put_i32(0);
    header.write(&mut w);
    if let Some(b) = body {
        b.write_to(&mut w);
    }
    let len = (w.len() - 4) as i32;
    w[..4].copy_from_slice(&len.to_be_bytes());
    w.freeze()
}

/// The connection as request handlers see it.
pub struct Conn {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub session_id: i64,
    identity: Mutex<Vec<Id>>,
    counters: Arc<ConnCounters>,
    /// A read-only session, given while the server has no quorum: writes are refused.
    pub read_only: bool,
}

impl Conn {
    pub fn identity(&self) -> Vec<Id> {
        self.identity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn add_identity(&self, id: Id) {
        let mut ids = self.identity.lock().unwrap_or_else(|p| p.into_inner());
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
}

type WriteResult = Pin<Box<dyn Future<Output = Result<TxnResult, ConsensusError>> + Send>>;
/// A sync's wait for this server to catch up with the leader.
type Barrier = Pin<Box<dyn Future<Output = Result<(), ConsensusError>> + Send>>;

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

#[derive(Debug)]
enum FrameError {
    Closed,
    BadLength(i32),
}

async fn read_body(
    rd: &mut BufReader<OwnedReadHalf>,
    len: i32,
    max: usize,
) -> Result<Bytes, FrameError> {
    if len < 0 || len as usize > max {
        return Err(FrameError::BadLength(len));
    }
    let mut buf = vec![0u8; len as usize];
    rd.read_exact(&mut buf)
        .await
        .map_err(|_| FrameError::Closed)?;
    // ZooKeeper's bytes_received_count: the length prefix and the packet.
    crate::mntr::get()
        .bytes_received
        .fetch_add(4 + len as u64, Ordering::Relaxed);
    Ok(Bytes::from(buf))
}

async fn read_frame(rd: &mut BufReader<OwnedReadHalf>, max: usize) -> Result<Bytes, FrameError> {
    let len = rd.read_i32().await.map_err(|_| FrameError::Closed)?;
    read_body(rd, len, max).await
}

pub async fn serve(stream: TcpStream, peer: SocketAddr, state: Arc<ServerState>, id: ConnId) {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut head = [0u8; 4];
    if rd.read_exact(&mut head).await.is_err() {
        return;
    }
    if let Some(word) = fourletter::word(&head) {
        let text = fourletter::answer(&state, word, &mut rd, peer).await;
        let _ = wr.write_all(text.as_bytes()).await;
        let _ = wr.shutdown().await;
        return;
    }
    let connect = match read_body(&mut rd, i32::from_be_bytes(head), state.config.max_buffer).await
    {
        Ok(body) => ConnectRequest::decode(&body).map(|r| (r, body.len() > 44)),
        Err(e) => {
            tracing::warn!("closing connection from {peer}: {e:?} in the handshake");
            return;
        }
    };
    let Ok((connect, sent_read_only)) = connect else {
        tracing::warn!("closing connection from {peer}: malformed ConnectRequest");
        return;
    };
    crate::mntr::get()
        .connection_requests
        .fetch_add(1, Ordering::Relaxed);
    let Some(admitted) = handshake::admit(&state, &connect, peer, &mut wr).await else {
        let _ = wr.shutdown().await;
        return;
    };
    let handshake::Admitted {
        session_id,
        passwd,
        timeout,
        read_only,
    } = admitted;
    let counters = Arc::new(ConnCounters::new(now_millis() as u64));
    let conn = Arc::new(Conn {
        id,
        peer,
        session_id,
        identity: Mutex::new(vec![Id {
            scheme: "ip".into(),
            id: peer.ip().to_string(),
        }]),
        counters: counters.clone(),
        read_only,
    });
    let (out_tx, out_rx) = mpsc::channel(OUTBOX);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    state.hub.conns().insert(
        id,
        ConnEntry {
            peer,
            session: session_id,
            timeout,
            stop: stop_tx.clone(),
            counters: counters.clone(),
            read_only,
        },
    );
    state.hub.watches().attach(id, out_tx.clone());
    let replaced = state.hub.sessions().attach(session_id, id, timeout);
    if let Some(old) = replaced {
        state.hub.kick(old);
    }
    let response = ConnectResponse {
        protocol_version: 0,
        timeout,
        session_id,
        passwd,
        read_only,
    };
    let mut hello = BytesMut::new();
    hello.put_i32(0);
    response.write(&mut hello);
    if !sent_read_only {
        // Old clients send no readOnly byte and expect none back.
        hello.truncate(hello.len() - 1);
    }
    let len = (hello.len() - 4) as i32;
    hello[..4].copy_from_slice(&len.to_be_bytes());
    let _ = out_tx.send(Outbound::Frame(hello.freeze())).await;

    let writer = tokio::spawn(write_loop(
        wr,
        out_rx,
        stop_tx,
        state.clone(),
        counters.clone(),
    ));
    let (pending_tx, pending_rx) = mpsc::channel(MAX_OUTSTANDING);
    let (reads_tx, reads_rx) = watch::channel(0usize);
    let queue = Queue {
        pending: pending_tx,
        reads: Arc::new(reads_tx),
    };
    let responder = tokio::spawn(respond_loop(
        pending_rx,
        queue.reads.clone(),
        out_tx,
        state.clone(),
        conn.clone(),
    ));
    read_loop(&mut rd, queue, reads_rx, stop_rx, &state, &conn).await;
    let _ = responder.await;
    let _ = writer.await;
    // Requests the connection never got to answer are no longer outstanding.
    let unanswered = counters.queued.swap(0, Ordering::Relaxed);
    state
        .stats
        .outstanding
        .fetch_sub(unanswered, Ordering::Relaxed);
    state.hub.conns().remove(&id);
    state.hub.watches().detach(id);
    state.hub.sessions().detach(session_id, id);
}

/// The responder's queue, and how many reads in it are not yet answered.
struct Queue {
    pending: mpsc::Sender<Pending>,
    reads: Arc<watch::Sender<usize>>,
}

async fn read_loop(
    rd: &mut BufReader<OwnedReadHalf>,
    queue: Queue,
    mut reads: watch::Receiver<usize>,
    mut stop: watch::Receiver<bool>,
    state: &Arc<ServerState>,
    conn: &Arc<Conn>,
) {
    loop {
        let frame = tokio::select! {
            f = read_frame(rd, state.config.max_buffer) => f,
            _ = stop.changed() => return,
        };
        let buf = match frame {
            Ok(b) => b,
            Err(FrameError::BadLength(len)) => {
                tracing::warn!("closing connection from {}: frame length {len} is out of range (jute.maxbuffer {})", conn.peer, state.config.max_buffer);
                return;
            }
            Err(FrameError::Closed) => return,
        };
        state.stats.packets_received.fetch_add(1, Ordering::Relaxed);
        conn.counters.received.fetch_add(1, Ordering::Relaxed);
        state.hub.sessions().touch(conn.session_id);
        let Ok(header) = RequestHeader::from_bytes(&buf) else {
            tracing::warn!(
                "closing connection from {}: truncated request header",
                conn.peer
            );
            return;
        };
        let body = buf.slice(8..);
        if OpCode::from_i32(header.op).is_some_and(request::write::is_client_write) {
            // A write must not overtake a read the client sent before it: wait until
            // every earlier read is answered before handing the write to the log.
            tokio::select! {
                r = reads.wait_for(|n| *n == 0) => if r.is_err() { return },
                _ = stop.changed() => return,
            }
        }
        let Some(next) = classify(state, conn, header, body).await else {
            return;
        };
        let last = matches!(next, Pending::Last(_));
        if matches!(next, Pending::Read { .. }) {
            queue.reads.send_modify(|n| *n += 1);
        }
        if matches!(next, Pending::Read { .. } | Pending::Write { .. }) {
            conn.counters.queued.fetch_add(1, Ordering::Relaxed);
            state.stats.outstanding.fetch_add(1, Ordering::Relaxed);
        }
        if queue.pending.send(next).await.is_err() || last {
            return;
        }
    }
}

/// Decides how a request is answered. Writes are submitted to the log here, before
/// the next request is read, which keeps a session's writes in its order.
async fn classify(
    state: &Arc<ServerState>,
    conn: &Arc<Conn>,
    header: RequestHeader,
    body: Bytes,
) -> Option<Pending> {
    let started = Instant::now();
    let opcode = OpCode::from_i32(header.op);
    match opcode {
        Some(OpCode::Auth) => Some(request::auth::handle(state, conn, header.xid, &body)),
        Some(OpCode::CloseSession) if conn.read_only => {
            // A read-only session lives on this server alone: nothing to replicate.
            Some(Pending::Last(error_reply(header.xid, state, ErrorCode::Ok)))
        }
        Some(op)
            if conn.read_only && (request::write::is_client_write(op) || op == OpCode::Sync) =>
        {
            Some(Pending::Reply(error_reply(
                header.xid,
                state,
                ErrorCode::NotReadOnly,
            )))
        }
        Some(op) if request::write::is_client_write(op) => {
            let txn_op = match request::write::decode(op, &body) {
                Ok(op) => op,
                Err(e) => {
                    tracing::debug!("malformed {} from {}: {e}", op.label(), conn.peer);
                    return Some(Pending::Reply(error_reply(
                        header.xid,
                        state,
                        ErrorCode::MarshallingError,
                    )));
                }
            };
            let txn = Txn {
                session_id: conn.session_id,
                time: now_millis(),
                identity: conn.identity(),
                op: txn_op,
            };
            match state.consensus.submit(txn).await {
                Ok(result) => Some(Pending::Write {
                    xid: header.xid,
                    opcode: op,
                    result: Box::pin(result),
                    started,
                }),
                Err(e) => {
                    tracing::warn!("cannot submit {}: {e}", op.label());
                    None
                }
            }
        }
        // A second createSession on an established connection does not decode as one.
        Some(OpCode::CreateSession) => Some(Pending::Reply(error_reply(
            header.xid,
            state,
            ErrorCode::MarshallingError,
        ))),
        Some(op) if request::read::is_client_read(op) => Some(Pending::Read {
            header,
            body,
            started,
            barrier: (op == OpCode::Sync).then(|| Box::pin(state.consensus.sync()) as Barrier),
        }),
        _ => {
            tracing::warn!(
                "Received packet at server of unknown type {} from {}",
                header.op,
                conn.peer
            );
            let reply = ReplyHeader {
                xid: header.xid,
                zxid: -1,
                err: ErrorCode::Unimplemented.as_i32(),
            };
            Some(Pending::Last(frame(&reply, None)))
        }
    }
}

pub fn error_reply(xid: i32, state: &ServerState, err: ErrorCode) -> Bytes {
    let header = ReplyHeader {
        xid,
        zxid: state.tree().read().last_zxid(),
        err: err.as_i32(),
    };
    frame(&header, None)
}

async fn respond_loop(
    mut pending: mpsc::Receiver<Pending>,
    reads: Arc<watch::Sender<usize>>,
    out: mpsc::Sender<Outbound>,
    state: Arc<ServerState>,
    conn: Arc<Conn>,
) {
    while let Some(next) = pending.recv().await {
        let (bytes, last, started) = match next {
            Pending::Write {
                xid,
                opcode,
                result,
                started,
            } => match result.await {
                Ok(r) => {
                    let close = opcode == OpCode::CloseSession;
                    let done = (opcode, true, started, xid, Some(r.zxid));
                    (request::write::reply(xid, &r), close, Some(done))
                }
                Err(e) => {
                    tracing::warn!(
                        "{} failed: {e}; closing connection {}",
                        opcode.label(),
                        conn.peer
                    );
                    break;
                }
            },
            Pending::Read {
                header,
                body,
                started,
                barrier,
            } => {
                if let Some(Err(e)) = match barrier {
                    Some(b) => Some(b.await),
                    None => None,
                } {
                    tracing::warn!("sync failed: {e}; closing connection {}", conn.peer);
                    break;
                }
                let op = OpCode::from_i32(header.op).unwrap_or(OpCode::Ping);
                let xid = header.xid;
                let (bytes, last) = request::read::answer(&state, &conn, header, &body);
                reads.send_modify(|n| *n = n.saturating_sub(1));
                (bytes, last, Some((op, false, started, xid, None)))
            }
            Pending::Reply(b) => (b, false, None),
            Pending::Last(b) => (b, true, None),
        };
        if let Some((op, write, started, xid, zxid)) = started {
            conn.counters.queued.fetch_sub(1, Ordering::Relaxed);
            state.stats.outstanding.fetch_sub(1, Ordering::Relaxed);
            let took = started.elapsed();
            conn.counters
                .answered(op.as_i32(), xid, zxid, took.as_millis() as u64);
            state.stats.request_done(took.as_micros() as u64);
            crate::metrics::request_done(op, write, took);
        }
        crate::mntr::get()
            .response_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if out.send(Outbound::Frame(bytes)).await.is_err() {
            break;
        }
        if last {
            break;
        }
    }
    let _ = out.send(Outbound::Close).await;
}

async fn write_loop(
    wr: OwnedWriteHalf,
    mut out: mpsc::Receiver<Outbound>,
    stop: Arc<watch::Sender<bool>>,
    state: Arc<ServerState>,
    counters: Arc<ConnCounters>,
) {
    let mut wr = BufWriter::new(wr);
    let mut open = true;
    while open {
        let Some(first) = out.recv().await else {
            break;
        };
        let mut sent = 0u64;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Outbound::Frame(b) => {
                    if wr.write_all(&b).await.is_err() {
                        open = false;
                        break;
                    }
                    sent += 1;
                }
                Outbound::Close => {
                    open = false;
                    break;
                }
            }
            next = out.try_recv().ok();
        }
        if wr.flush().await.is_err() {
            open = false;
        }
        state.stats.packets_sent.fetch_add(sent, Ordering::Relaxed);
        counters.sent.fetch_add(sent, Ordering::Relaxed);
    }
    let _ = wr.shutdown().await;
    stop.send_replace(true);
}
