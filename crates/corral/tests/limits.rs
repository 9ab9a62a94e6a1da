//! The connection and request limits, each against a real server: the limit acts,
//! mntr counts it, the log says so, and a session opened before it carries on.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::hostile::{put_frame, raw_session, rss_kib};
use support::{four, within, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode};

/// mntr's value for `key` (without the `zk_` prefix).
fn mntr(server: &ServerProcess, key: &str) -> f64 {
    let text = four(server.port, "mntr").expect("mntr answers");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("zk_{key}\t")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no zk_{key} in mntr:\n{text}"))
}

/// Waits up to 20 s for `needle` in the server's log.
fn wait_log(server: &ServerProcess, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.log().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server closed `s` without answering: a read sees the end (or a
/// reset) before any byte.
fn closed_unanswered(mut s: TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

/// A ConnectRequest frame for a new session.
fn connect_frame() -> Vec<u8> {
    let mut connect = Vec::new();
    connect.extend_from_slice(&0i32.to_be_bytes());
    connect.extend_from_slice(&0i64.to_be_bytes());
    connect.extend_from_slice(&30_000i32.to_be_bytes());
    connect.extend_from_slice(&0i64.to_be_bytes());
    connect.extend_from_slice(&16i32.to_be_bytes());
    connect.extend_from_slice(&[0u8; 16]);
    let mut frame = Vec::new();
    put_frame(&mut frame, &connect);
    frame
}

fn ustring(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
    out.extend_from_slice(s);
}

/// A create of `path` with `data`, open to anyone, of `flags` (2: sequential).
fn create_frame(xid: i32, path: &str, data: &[u8], flags: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&1i32.to_be_bytes());
    ustring(&mut body, path.as_bytes());
    ustring(&mut body, data);
    body.extend_from_slice(&1i32.to_be_bytes());
    body.extend_from_slice(&31i32.to_be_bytes());
    ustring(&mut body, b"world");
    ustring(&mut body, b"anyone");
    body.extend_from_slice(&flags.to_be_bytes());
    let mut frame = Vec::new();
    put_frame(&mut frame, &body);
    frame
}

fn get_data_frame(xid: i32, path: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&4i32.to_be_bytes());
    ustring(&mut body, path.as_bytes());
    body.push(0);
    let mut frame = Vec::new();
    put_frame(&mut frame, &body);
    frame
}

/// Reads `count` replies; the xids in the order they came.
fn reply_xids(s: &mut TcpStream, count: usize) -> Vec<i32> {
    let mut xids = Vec::new();
    let mut len = [0u8; 4];
    for _ in 0..count {
        s.read_exact(&mut len).expect("a reply");
        let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
        s.read_exact(&mut body).expect("a reply's body");
        xids.push(i32::from_be_bytes([body[0], body[1], body[2], body[3]]));
        assert_eq!(
            &body[12..16],
            &0i32.to_be_bytes(),
            "reply {xids:?} is an error"
        );
    }
    xids
}

fn open() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// The session opened before the limit acted still writes and reads.
async fn carries_on(zk: &Client, path: &str) {
    within("create", zk.create(path, b"on", &open()))
        .await
        .expect("the other session still creates");
    let (data, _) = within("get", zk.get_data(path)).await.expect("and reads");
    assert_eq!(data, b"on");
}

async fn session(server: &ServerProcess) -> Client {
    within("connect", Client::connect(&server.addr()))
        .await
        .expect("a session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_client_cnxns_refuses_an_address_over_its_count() {
    let server = ServerProcess::start("maxClientCnxns=3");
    let zk = session(&server).await;
    let held = [raw_session(server.port), raw_session(server.port)];
    let refused = TcpStream::connect(("127.0.0.1", server.port)).expect("tcp accept");
    assert!(closed_unanswered(refused), "a fourth connection is closed");
    wait_log(&server, "Too many connections from 127.0.0.1 - max is 3");
    carries_on(&zk, "/per-address").await;
    // A place freed is taken again (mntr's own connection, here).
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(20);
    while four(server.port, "ruok").as_deref() != Some("imok") {
        assert!(
            Instant::now() < deadline,
            "the freed places are not given back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(mntr(&server, "connection_rejected") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_cnxns_refuses_over_the_total() {
    let server = ServerProcess::start("maxClientCnxns=0\nmaxCnxns=3");
    let zk = session(&server).await;
    let _held = [raw_session(server.port), raw_session(server.port)];
    let refused = TcpStream::connect(("127.0.0.1", server.port)).expect("tcp accept");
    assert!(closed_unanswered(refused));
    wait_log(
        &server,
        "Too many connections: 3 open, the limit is maxCnxns=3",
    );
    carries_on(&zk, "/total").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_a_connect_request_is_closed_at_the_deadline() {
    let server = ServerProcess::start("zookeeper.nio.sessionlessCnxnTimeout=500");
    let zk = session(&server).await;
    let silent = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // Half a ConnectRequest: the length and a few bytes, then nothing.
    (&silent).write_all(&[0, 0, 0, 45, 0, 0]).expect("send");
    let started = Instant::now();
    assert!(closed_unanswered(silent), "the silent connection is closed");
    assert!(started.elapsed() < Duration::from_secs(15));
    wait_log(&server, "no ConnectRequest within 500 ms");
    carries_on(&zk, "/deadline").await;
    assert_eq!(mntr(&server, "sessionless_connections_expired"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_throttle_refuses_when_out_of_tokens() {
    // Two tokens and no refill for ten minutes: the third session is refused.
    let server = ServerProcess::start(
        "zookeeper.connection_throttle_tokens=2\nzookeeper.connection_throttle_fill_time=600000",
    );
    let zk = session(&server).await;
    let _second = raw_session(server.port);
    let mut third = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    third.write_all(&connect_frame()).expect("send connect");
    assert!(closed_unanswered(third), "no ConnectResponse for the third");
    wait_log(&server, "the connection throttle is out of tokens");
    carries_on(&zk, "/throttled").await;
    assert!(mntr(&server, "connection_rejected") >= 1.0);
}

/// Sends `count` sequential creates at once on a raw session and checks every one is
/// answered, in order.
fn pipelined_creates(server: &ServerProcess, count: i32) {
    let mut s = raw_session(server.port);
    let mut frames = Vec::new();
    for xid in 1..=count {
        frames.extend(create_frame(xid, "/q-", b"x", 2));
    }
    s.write_all(&frames).expect("send");
    let xids = reply_xids(&mut s, count as usize);
    assert_eq!(xids, (1..=count).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_throttle_holds_requests_and_answers_them_all() {
    let server = ServerProcess::start(
        "zookeeper.request_throttle_max_requests=2\nzookeeper.request_throttle_stall_time=5",
    );
    let zk = session(&server).await;
    tokio::task::block_in_place(|| pipelined_creates(&server, 200));
    wait_log(&server, "Throttling requests:");
    assert!(mntr(&server, "request_throttle_wait_count") >= 1.0);
    carries_on(&zk, "/request-throttle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_outstanding_limit_stops_reading_and_answers_them_all() {
    let server = ServerProcess::start("globalOutstandingLimit=2");
    let zk = session(&server).await;
    tokio::task::block_in_place(|| pipelined_creates(&server, 200));
    wait_log(&server, "over globalOutstandingLimit=2");
    carries_on(&zk, "/outstanding").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_request_over_the_bytes_in_process_is_refused() {
    let server = ServerProcess::start(
        "zookeeper.largeRequestThreshold=1000\nzookeeper.largeRequestMaxBytes=3000",
    );
    let zk = session(&server).await;
    // Large (over 1000) but under 3000: served.
    within("large create", zk.create("/large", &[7u8; 2000], &open()))
        .await
        .expect("a large request within largeRequestMaxBytes");
    let mut s = raw_session(server.port);
    s.write_all(&create_frame(1, "/too-large", &[7u8; 4000], 0))
        .expect("send");
    assert!(closed_unanswered(s), "the connection is closed");
    wait_log(&server, "Rejecting large request of");
    carries_on(&zk, "/after-large").await;
    assert_eq!(mntr(&server, "large_requests_rejected"), 1.0);
    assert!(zk.check_stat("/too-large").await.expect("stat").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_no_replies_is_cut_and_memory_stays_flat() {
    let server = ServerProcess::start("corral.clientOutboxBytes=1048576");
    let zk = session(&server).await;
    within("big node", zk.create("/big", &vec![1u8; 500_000], &open()))
        .await
        .expect("create");
    let before = rss_kib(server.pid());
    // 400 reads of 500 KB each, and not one reply read: 200 MB if it were all held.
    let mut s = raw_session(server.port);
    let frames: Vec<u8> = (1..=400).flat_map(|x| get_data_frame(x, "/big")).collect();
    s.write_all(&frames).expect("send");
    wait_log(&server, "it is not reading what it is sent");
    let grew_mib = rss_kib(server.pid()).saturating_sub(before) / 1024;
    assert!(grew_mib < 64, "the server grew by {grew_mib} MiB");
    carries_on(&zk, "/after-slow-reader").await;
    assert_eq!(mntr(&server, "connection_drop_count"), 1.0);
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_no_watch_events_is_cut() {
    let server = ServerProcess::start("corral.clientOutboxBytes=65536");
    let zk = session(&server).await;
    within("parent", zk.create("/w", b"", &open()))
        .await
        .expect("create");
    // A raw session with a recursive watch on /w (addWatch, mode 1), which then
    // reads nothing: its events pile up.
    let mut watcher = raw_session(server.port);
    let mut body = Vec::new();
    body.extend_from_slice(&1i32.to_be_bytes());
    body.extend_from_slice(&106i32.to_be_bytes());
    ustring(&mut body, b"/w");
    body.extend_from_slice(&1i32.to_be_bytes());
    let mut frame = Vec::new();
    put_frame(&mut frame, &body);
    watcher.write_all(&frame).expect("addWatch");
    assert_eq!(reply_xids(&mut watcher, 1), vec![1]);
    let long_name = "n".repeat(200);
    for batch in 0..30 {
        let mut multi = zk.new_multi_writer();
        for i in 0..500 {
            let path = format!("/w/{long_name}-{batch}-{i}");
            multi
                .add_create(&path, b"", &open())
                .expect("add to the multi");
        }
        within("multi", multi.commit()).await.expect("multi");
        if server.log().contains("it is not reading what it is sent") {
            break;
        }
    }
    wait_log(&server, "it is not reading what it is sent");
    carries_on(&zk, "/after-watcher").await;
    assert_eq!(mntr(&server, "connection_drop_count"), 1.0);
    drop(watcher);
}
