//! A frame's length prefix must not make the server allocate the frame before its
//! bytes arrive (issue 14, defect 4). Connections that announce a frame of
//! jute.maxbuffer (1 MiB) and send a few bytes of it cost the server what they sent,
//! not what they announced, before the handshake and after it.
//!
//! The connections come in two waves, the first given up before the second. A fresh
//! allocator arena hands out zeroed pages without touching them, so a single wave
//! barely shows in the resident set even if the server reserves every frame in full;
//! the second wave reuses the first one's freed memory, which has to be zeroed (or
//! written) again, as it would on a server whose clients come and go.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use support::hostile::{raw_session, rss_kib, still_serves};
use support::ServerProcess;

/// ZooKeeper's default jute.maxbuffer: the longest frame the server accepts.
const MAX_FRAME: i32 = 0xfffff;
/// Connections per wave.
const CONNECTIONS: usize = 200;
/// Bytes of the announced frame each connection sends.
const SENT: usize = 16;

/// Opens `CONNECTIONS` connections, each of which (after a handshake when `session`)
/// announces a frame of `MAX_FRAME` bytes, sends `SENT` of them and waits.
fn announce_frames(port: u16, session: bool) -> Vec<TcpStream> {
    (0..CONNECTIONS)
        .map(|_| {
            let mut s = if session {
                raw_session(port)
            } else {
                TcpStream::connect(("127.0.0.1", port)).expect("connect")
            };
            s.set_read_timeout(Some(Duration::from_secs(20))).ok();
            let mut out = MAX_FRAME.to_be_bytes().to_vec();
            out.resize(4 + SENT, 7);
            s.write_all(&out).expect("send a frame's start");
            s
        })
        .collect()
}

/// Each connection stops sending; the server, finding its frame cut short, drops what
/// it holds and closes the connection. Returns once every one of them is closed.
fn give_up(connections: Vec<TcpStream>) {
    for s in &connections {
        s.shutdown(Shutdown::Write).expect("shutdown");
    }
    for mut s in connections {
        let mut rest = Vec::new();
        assert!(
            s.read_to_end(&mut rest).is_ok(),
            "the server closes a connection whose frame was cut short"
        );
    }
}

/// Starts a server and checks that its resident set grows by less than 16 MiB while
/// a second wave of connections holds `what` frames announced in full and sent in
/// part, and that a normal session is served meanwhile.
async fn frames_cost_what_was_sent(session: bool, what: &str) {
    let server = ServerProcess::start("maxClientCnxns=0");
    still_serves(&server, "/before").await;
    let before = rss_kib(server.pid());
    give_up(announce_frames(server.port, session));
    let held = announce_frames(server.port, session);
    still_serves(&server, "/while-frames-hang").await;
    let grown = rss_kib(server.pid()).saturating_sub(before);
    drop(held);
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB for {CONNECTIONS} {what} frames that each sent {SENT} bytes"
    );
}

/// An unauthenticated connection's very first frame, the ConnectRequest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_first_frame_costs_what_was_sent() {
    frames_cost_what_was_sent(false, "first").await;
}

/// A request frame on a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_request_frame_costs_what_was_sent() {
    frames_cost_what_was_sent(true, "request").await;
}

/// Frames longer than what the server reserves up front grow as their bytes come and
/// arrive whole, up to the largest jute.maxbuffer allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_larger_than_the_reserve_arrive_whole() {
    use support::within;
    use zookeeper_client::{Acls, Client, CreateMode};
    let server = ServerProcess::start("");
    let zk = within("connect", Client::connect(&server.addr()))
        .await
        .expect("connect");
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    for (i, len) in [16 * 1024 + 1, 100_003, 1_000_000].into_iter().enumerate() {
        let data: Vec<u8> = (0..len).map(|b| (b % 251) as u8).collect();
        let path = format!("/large-{i}");
        within("create", zk.create(&path, &data, &open))
            .await
            .expect("create a large node");
        let (read, _) = within("get", zk.get_data(&path)).await.expect("get");
        assert!(read == data, "{len} bytes of data came back changed");
    }
}
