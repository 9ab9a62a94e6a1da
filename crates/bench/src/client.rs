//! A minimal pipelined ZooKeeper client for load generation: one TCP connection, any
//! number of requests in flight, replies matched in order (a server answers a
//! session's requests in the order they were sent).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use corral_jute::records::{
    ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent,
};
use corral_jute::{xid, Jute, OpCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Mutex as AsyncMutex};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed reply: {0}")]
    Decode(#[from] corral_jute::JuteError),
    #[error("session refused (expired)")]
    Refused,
    #[error("connection closed")]
    Closed,
}

pub struct Reply {
    pub err: i32,
    pub body: Bytes,
}

type Waiters = Arc<Mutex<VecDeque<oneshot::Sender<Reply>>>>;

pub struct Client {
    writer: AsyncMutex<OwnedWriteHalf>,
    waiters: Waiters,
    next_xid: std::sync::atomic::AtomicI32,
}

fn frame(header: &RequestHeader, body: &[u8]) -> Bytes {
    let mut w = BytesMut::with_capacity(12 + body.len());
    w.put_i32((8 + body.len()) as i32);
    header.write(&mut w);
    w.extend_from_slice(body);
    w.freeze()
}

impl Client {
    /// Connects and opens a session; watch events go to `events` if given, each with
    /// the moment it was read off the socket (a fan-out measure must not include the
    /// time the consumer took to get to it).
    pub async fn connect(
        addr: &str,
        timeout_ms: i32,
        events: Option<mpsc::UnboundedSender<(std::time::Instant, WatcherEvent)>>,
    ) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::with_capacity(1 << 16, rd);
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout: timeout_ms,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: false,
        }
        .to_bytes();
        let mut hello = BytesMut::new();
        hello.put_i32(req.len() as i32);
        hello.extend_from_slice(&req);
        wr.write_all(&hello).await?;
        let len = rd.read_i32().await?;
        let mut buf = vec![0u8; len.max(0) as usize];
        rd.read_exact(&mut buf).await?;
        let resp = ConnectResponse::from_bytes(&buf)?;
        if resp.session_id == 0 {
            return Err(ClientError::Refused);
        }
        let waiters: Waiters = Arc::default();
        let w = waiters.clone();
        tokio::spawn(async move {
            while let Ok(len) = rd.read_i32().await {
                let mut buf = vec![0u8; len.max(0) as usize];
                if rd.read_exact(&mut buf).await.is_err() {
                    break;
                }
                let Ok(header) = ReplyHeader::from_bytes(&buf) else {
                    break;
                };
                let body = Bytes::from(buf).slice(16..);
                if header.xid == xid::NOTIFICATION {
                    if let (Some(tx), Ok(ev)) = (&events, WatcherEvent::from_bytes(&body)) {
                        let _ = tx.send((std::time::Instant::now(), ev));
                    }
                    continue;
                }
                let waiter = w.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                if let Some(tx) = waiter {
                    let _ = tx.send(Reply {
                        err: header.err,
                        body,
                    });
                }
            }
            w.lock().unwrap_or_else(|p| p.into_inner()).clear();
        });
        Ok(Client {
            writer: AsyncMutex::new(wr),
            waiters,
            next_xid: std::sync::atomic::AtomicI32::new(1),
        })
    }

    /// Sends a request; the returned receiver yields its reply.
    pub async fn send(
        &self,
        op: OpCode,
        body: &[u8],
    ) -> Result<oneshot::Receiver<Reply>, ClientError> {
        let xid = if op == OpCode::Ping {
            xid::PING
        } else {
            self.next_xid
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        };
        let (tx, rx) = oneshot::channel();
        let bytes = frame(
            &RequestHeader {
                xid,
                op: op.as_i32(),
            },
            body,
        );
        // The waiter must be queued in the same order the request hits the wire.
        let mut w = self.writer.lock().await;
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(tx);
        w.write_all(&bytes).await?;
        Ok(rx)
    }

    pub async fn call(&self, op: OpCode, body: &[u8]) -> Result<Reply, ClientError> {
        self.send(op, body)
            .await?
            .await
            .map_err(|_| ClientError::Closed)
    }

    pub async fn close(&self) -> Result<(), ClientError> {
        self.call(OpCode::CloseSession, &[]).await.map(|_| ())
    }
}
