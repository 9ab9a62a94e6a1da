//! One client connection: the four-letter-word sniff, the handshake, then three
//! stages. The reader reads frames and has `request::dispatch` classify each at once,
//! in the order they arrive (a write goes to the log right there); the responder
//! settles them strictly in request order, waiting for a write's result before
//! answering anything after it (so a session reads its own writes); the writer
//! batches frames onto the socket. Watch events join the writer's queue when the
//! change is applied, so they always precede the reply of the write that caused them.
//!
//! What a connection holds in the shared state is given back by guards when they are
//! dropped, so a panic in any stage releases it as surely as a clean close. `gate`
//! is where the connection meets the server's limits; the writer's queue is an
//! `outbox`, which cuts a client that does not read.

mod gate;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use corral_jute::records::Id;
use corral_jute::records::{ConnectRequest, RequestHeader};
use corral_jute::{Jute, OpCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

use crate::clock::now_millis;
use crate::fourletter;
use crate::handshake::{self, Admitted};
use crate::hub::{ConnCounters, ConnEntry};
use crate::limits::LargeRequest;
use crate::outbox::{self, Outbox, OutboxReader};
use crate::request::dispatch::{self, Settled};
use crate::request::{write, Conn, Pending};
use crate::state::ServerState;
use crate::telemetry::Answered;
use crate::wire::{ConnId, Outbound};
use std::time::Duration;

/// Requests one connection may have in flight before the reader stops reading.
const MAX_OUTSTANDING: usize = 1000;

#[derive(Debug)]
enum FrameError {
    Closed,
    BadLength(i32),
    /// A limit refused it, and logged why.
    Refused,
}

/// What a frame reserves before its bytes arrive. Nearly every request is smaller and
/// costs one allocation of its exact size; a larger frame grows with the bytes that
/// actually come, so a length prefix alone cannot make the server hold memory (issue
/// 14, defect 4). Twice the socket's read buffer: a connection that announces
/// `jute.maxbuffer` and sends nothing holds about as much as an idle one.
const FRAME_RESERVE: usize = 16 * 1024;

/// Reads a frame body of `len` bytes. Memory follows what was received: at most twice
/// the bytes read so far (or `FRAME_RESERVE`), never more than the frame.
async fn read_body<R: AsyncRead + Unpin>(
    rd: &mut BufReader<R>,
    len: i32,
    max: usize,
) -> Result<Bytes, FrameError> {
    if len < 0 || len as usize > max {
        return Err(FrameError::BadLength(len));
    }
    let len = len as usize;
    let mut buf = Vec::with_capacity(len.min(FRAME_RESERVE));
    while buf.len() < len {
        if buf.len() == buf.capacity() {
            buf.reserve_exact(buf.len().min(len - buf.len()));
        }
        let room = buf.capacity().min(len) - buf.len();
        let read = (&mut *rd)
            .take(room as u64)
            .read_buf(&mut buf)
            .await
            .map_err(|_| FrameError::Closed)?;
        if read == 0 {
            return Err(FrameError::Closed);
        }
    }
    Ok(Bytes::from(buf))
}

/// A request frame, and its place among the large requests in process when it is
/// one. The length is checked before the body is read, so a refused frame costs
/// nothing.
async fn read_frame<R: AsyncRead + Unpin>(
    rd: &mut BufReader<R>,
    state: &ServerState,
    peer: SocketAddr,
) -> Result<(Bytes, Option<LargeRequest>), FrameError> {
    let len = rd.read_i32().await.map_err(|_| FrameError::Closed)?;
    let large = match usize::try_from(len) {
        Ok(n) if n <= state.config.max_buffer => {
            gate::large_request(state, peer, n).map_err(|()| FrameError::Refused)?
        }
        _ => None,
    };
    Ok((read_body(rd, len, state.config.max_buffer).await?, large))
}

/// A plaintext connection: the socket's own halves, with nothing between them.
pub async fn serve(stream: TcpStream, peer: SocketAddr, state: Arc<ServerState>, id: ConnId) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    serve_halves(rd, wr, Vec::new(), peer, state, id).await;
}

/// A TLS connection once its handshake is done, with the identities its client
/// certificate gave (`x509:` and perhaps `super`). tokio's split shares the stream
/// between the reader and the writer; a plaintext connection never pays for that.
pub async fn serve_tls<S>(
    stream: S,
    certified: Vec<Id>,
    peer: SocketAddr,
    state: Arc<ServerState>,
    id: ConnId,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    serve_halves(rd, wr, certified, peer, state, id).await;
}

/// What a byte stream's reader and writer need to serve a session.
pub trait ReadHalf: AsyncRead + Unpin + Send + 'static {}
impl<T: AsyncRead + Unpin + Send + 'static> ReadHalf for T {}
pub trait WriteHalf: AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncWrite + Unpin + Send + 'static> WriteHalf for T {}

async fn serve_halves<R: ReadHalf, W: WriteHalf>(
    rd: R,
    mut wr: W,
    certified: Vec<Id>,
    peer: SocketAddr,
    state: Arc<ServerState>,
    id: ConnId,
) {
    let mut rd = BufReader::new(rd);
    let deadline = Duration::from_millis(state.config.limits.sessionless_timeout_ms);
    let first = timeout(deadline, first_frame(&state, &mut rd, &mut wr, peer)).await;
    let Ok(first) = first else {
        state
            .telemetry
            .server_metrics
            .sessionless_connections_expired
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "Closing connection from {peer}: no ConnectRequest within {} ms              (nio.sessionlessCnxnTimeout)",
            deadline.as_millis()
        );
        return;
    };
    let Some((connect, sent_read_only)) = first else {
        return;
    };
    state
        .telemetry
        .server_metrics
        .connection_requests
        .fetch_add(1, Ordering::Relaxed);
    if !gate::admit_session(&state, peer, connect.session_id != 0) {
        let _ = wr.shutdown().await;
        return;
    }
    let Some(admitted) = handshake::admit(&state, &connect, peer, &mut wr).await else {
        let _ = wr.shutdown().await;
        return;
    };
    let session = Session {
        admitted,
        sent_read_only,
        certified,
    };
    run_session(state, rd, wr, peer, id, session).await;
}

/// What the handshake settled for a session.
struct Session {
    admitted: Admitted,
    sent_read_only: bool,
    /// The client certificate's identities, which every request carries.
    certified: Vec<Id>,
}

/// The first four bytes are a four-letter word (answered here, then the connection
/// closes) or the length of a ConnectRequest. The request, and whether the client
/// sent the readOnly byte; `None` when there is no session to go on with.
async fn first_frame<R: ReadHalf, W: WriteHalf>(
    state: &ServerState,
    rd: &mut BufReader<R>,
    wr: &mut W,
    peer: SocketAddr,
) -> Option<(ConnectRequest, bool)> {
    let mut head = [0u8; 4];
    rd.read_exact(&mut head).await.ok()?;
    if let Some(word) = fourletter::word(&head) {
        let text = fourletter::answer(state, word, rd, peer).await;
        let _ = wr.write_all(text.as_bytes()).await;
        let _ = wr.shutdown().await;
        return None;
    }
    let body = match read_body(rd, i32::from_be_bytes(head), state.config.max_buffer).await {
        Ok(body) => {
            state.telemetry.bytes_received(body.len() as u64);
            body
        }
        Err(e) => {
            tracing::warn!("closing connection from {peer}: {e:?} in the handshake");
            return None;
        }
    };
    let Ok(connect) = ConnectRequest::decode(&body) else {
        tracing::warn!("closing connection from {peer}: malformed ConnectRequest");
        return None;
    };
    Some((connect, body.len() > 44))
}

/// A connection's entries in the shared state: its listing, its watches, its
/// session's binding to it, and its requests counted as outstanding. Dropping this
/// gives them back, on the normal way out and when a panic unwinds the task that
/// holds it.
struct Registered {
    state: Arc<ServerState>,
    conn: Arc<Conn>,
}

impl Registered {
    fn join(
        state: &Arc<ServerState>,
        conn: &Arc<Conn>,
        timeout: i32,
        stop: Arc<watch::Sender<bool>>,
        outbox: Outbox,
    ) -> Registered {
        let entry = ConnEntry {
            peer: conn.peer,
            session: conn.session_id,
            timeout,
            stop,
            counters: conn.counters.clone(),
            read_only: conn.read_only,
        };
        state.hub.join(conn.id, entry, outbox, Instant::now());
        Registered {
            state: state.clone(),
            conn: conn.clone(),
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        // Requests the connection never got to answer are no longer outstanding.
        let unanswered = self.conn.counters.take_unanswered();
        self.state.telemetry.requests_dropped(unanswered);
        self.state
            .hub
            .leave(self.conn.id, self.conn.session_id, Instant::now());
    }
}

/// The three stages of an admitted session's connection.
async fn run_session<R: ReadHalf, W: WriteHalf>(
    state: Arc<ServerState>,
    mut rd: BufReader<R>,
    wr: W,
    peer: SocketAddr,
    id: ConnId,
    session: Session,
) {
    let Session {
        admitted,
        sent_read_only,
        certified,
    } = session;
    let counters = Arc::new(ConnCounters::new(now_millis() as u64));
    let conn = Arc::new(Conn::new(
        id,
        peer,
        admitted.session_id,
        counters.clone(),
        admitted.read_only,
    ));
    for identity in certified {
        conn.add_identity(identity);
    }
    let (out_tx, out_rx) = outbox::outbox(peer, state.config.limits.client_outbox_bytes);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let _registered = Registered::join(
        &state,
        &conn,
        admitted.timeout,
        stop_tx.clone(),
        out_tx.clone(),
    );
    let hello = handshake::hello(&admitted, sent_read_only);
    out_tx.push(hello);

    let writer = tokio::spawn(write_loop(
        wr,
        out_rx,
        stop_tx.clone(),
        state.clone(),
        counters,
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
        StopReader(stop_tx),
        state.clone(),
        conn.clone(),
    ));
    read_loop(&mut rd, queue, reads_rx, stop_rx, &state, &conn).await;
    if responder.await.is_err() {
        // The responder panicked and sent no Close: the writer would wait for one.
        writer.abort();
    }
    let _ = writer.await;
}

/// The responder's queue, and how many reads in it are not yet answered.
struct Queue {
    /// Each request with its place among the large requests, held until answered.
    pending: mpsc::Sender<(Pending, Option<LargeRequest>)>,
    reads: Arc<watch::Sender<usize>>,
}

async fn read_loop<R: ReadHalf>(
    rd: &mut BufReader<R>,
    queue: Queue,
    mut reads: watch::Receiver<usize>,
    mut stop: watch::Receiver<bool>,
    state: &Arc<ServerState>,
    conn: &Arc<Conn>,
) {
    loop {
        if !gate::wait_to_read(state, conn, &mut stop).await {
            return;
        }
        let frame = tokio::select! {
            f = read_frame(rd, state, conn.peer) => f,
            _ = stop.changed() => return,
        };
        let (buf, large) = match frame {
            Ok(b) => b,
            Err(FrameError::BadLength(len)) => {
                tracing::warn!("closing connection from {}: frame length {len} is out of range (jute.maxbuffer {})", conn.peer, state.config.max_buffer);
                return;
            }
            Err(FrameError::Closed | FrameError::Refused) => return,
        };
        state.telemetry.packet_received(buf.len() as u64);
        conn.counters.received.fetch_add(1, Ordering::Relaxed);
        state.hub.sessions().touch(conn.session_id, Instant::now());
        let Ok(header) = RequestHeader::from_bytes(&buf) else {
            tracing::warn!(
                "closing connection from {}: truncated request header",
                conn.peer
            );
            return;
        };
        let body = buf.slice(8..);
        if OpCode::from_i32(header.op).is_some_and(write::is_client_write) {
            // A write must not overtake a read the client sent before it: wait until
            // every earlier read is answered before handing the write to the log.
            tokio::select! {
                r = reads.wait_for(|n| *n == 0) => if r.is_err() { return },
                _ = stop.changed() => return,
            }
        }
        if !gate::wait_to_process(state, conn, &mut stop).await {
            return;
        }
        // A request's latency runs from here: a write's wait for earlier reads, or
        // for the throttle, is not its own.
        let started = Instant::now();
        let Some(next) = dispatch::classify(state, conn, header, body, started).await else {
            return;
        };
        if !enqueue(&queue, state, conn, next, large).await {
            return;
        }
    }
}

/// Counts a classified request in and queues it for the responder. False when the
/// connection is to read no more: the request was its last, or the responder is gone.
async fn enqueue(
    queue: &Queue,
    state: &ServerState,
    conn: &Conn,
    next: Pending,
    large: Option<LargeRequest>,
) -> bool {
    let last = matches!(next, Pending::Last(_));
    if matches!(next, Pending::Read { .. }) {
        queue.reads.send_modify(|n| *n += 1);
    }
    if matches!(next, Pending::Read { .. } | Pending::Write { .. }) {
        let queued = conn.counters.queue_one();
        // The queue's capacity, one request in the responder's hands and this one:
        // more means the bound that keeps a client from filling memory is gone.
        assert!(
            queued <= MAX_OUTSTANDING as u64 + 2,
            "connection {} has {queued} requests outstanding, over its bound of {MAX_OUTSTANDING}",
            conn.id
        );
        state.telemetry.request_queued();
    }
    queue.pending.send((next, large)).await.is_ok() && !last
}

async fn respond_loop(
    mut pending: mpsc::Receiver<(Pending, Option<LargeRequest>)>,
    reads: Arc<watch::Sender<usize>>,
    out: Outbox,
    _stop_reader: StopReader,
    state: Arc<ServerState>,
    conn: Arc<Conn>,
) {
    while let Some((next, _large)) = pending.recv().await {
        let read = matches!(next, Pending::Read { .. });
        let Some(settled) = dispatch::settle(&state, &conn, next).await else {
            break;
        };
        if read {
            reads.send_modify(|n| {
                *n = n.checked_sub(1).unwrap_or_else(|| {
                    panic!("connection {}: more reads answered than queued", conn.id)
                })
            });
        }
        account(&state, &conn, &settled);
        if !out.push(settled.reply) || settled.last {
            break;
        }
    }
    out.close().await;
}

/// A reply going out, and for a read or write the request it answers: the
/// connection's counters, and the server's telemetry in one call.
fn account(state: &ServerState, conn: &Conn, settled: &Settled) {
    let answered = settled.done.as_ref().map(|done| {
        let took = done.started.elapsed();
        conn.counters.answered(
            done.op.as_i32(),
            done.xid,
            done.zxid,
            took.as_millis() as u64,
        );
        Answered {
            op: done.op,
            write: done.write,
            took,
            was_outstanding: conn.counters.answer_one(),
        }
    });
    state
        .telemetry
        .replied(settled.reply.len() as u64, answered);
}

/// Tells the reader to stop when the responder or the writer ends, however it ends
/// (a panic too): a connection that can answer nothing more should read nothing more.
struct StopReader(Arc<watch::Sender<bool>>);

impl Drop for StopReader {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

async fn write_loop<W: WriteHalf>(
    wr: W,
    mut out: OutboxReader,
    stop: Arc<watch::Sender<bool>>,
    state: Arc<ServerState>,
    counters: Arc<ConnCounters>,
) {
    let _stop_reader = StopReader(stop);
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
                    if !matches!(out.unless_overflowed(wr.write_all(&b)).await, Some(Ok(()))) {
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
            next = out.try_recv();
        }
        if !matches!(out.unless_overflowed(wr.flush()).await, Some(Ok(()))) {
            open = false;
        }
        state.telemetry.packets_sent(sent);
        counters.sent.fetch_add(sent, Ordering::Relaxed);
    }
    if out.overflowed() {
        // Cut, not closed: a client that reads nothing would hold a shutdown too.
        state
            .telemetry
            .server_metrics
            .connections_dropped
            .fetch_add(1, Ordering::Relaxed);
        return;
    }
    let _ = wr.shutdown().await;
}
