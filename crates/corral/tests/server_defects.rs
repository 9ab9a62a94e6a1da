//! Regression tests for defects in the server crate, each against a real server and
//! real clients: a session-timeout range that panicked every connection task and
//! leaked its per-address connection slot, a multiRead that ran twice, and two
//! servers in one process that shared mntr's counters.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use corral_jute::records::{ConnectRequest, ConnectResponse};
use corral_jute::Jute;
use support::{four, within, ServerProcess};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zookeeper_client::{Acls, Client, CreateMode, MultiReadResult};

/// A handshake over a raw socket: the server's ConnectResponse, or `None` if it
/// closed the connection without one (a refused or crashed connection task).
async fn handshake(addr: SocketAddr, timeout_ms: i32) -> Option<ConnectResponse> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout: timeout_ms,
        session_id: 0,
        passwd: vec![0u8; 16].into(),
        read_only: false,
    };
    let body = req.to_bytes();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    s.write_all(&frame).await.ok()?;
    let len = s.read_i32().await.ok()?;
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    s.read_exact(&mut buf).await.ok()?;
    ConnectResponse::from_bytes(&buf).ok()
}

/// A handshake that tries again while the server refuses: a closed connection gives
/// its per-address slot back a moment after the client sees the close, so the next
/// attempt may race it. A slot that is never given back fails every try.
async fn handshake_until_admitted(addr: SocketAddr, timeout_ms: i32) -> Option<ConnectResponse> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(r) = handshake(addr, timeout_ms).await {
            return Some(r);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// minSessionTimeout above maxSessionTimeout (which the config file now refuses, but
/// a Config built in code can still say) used to panic in the negotiation. Every
/// connection task died without answering and kept its maxClientCnxns slot, so after
/// that many attempts the address was refused for good. Now the negotiation follows
/// ZooKeeper's order (raise to the minimum, then cap at the maximum) and every one of
/// more than maxClientCnxns clients, one after another, gets a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inverted_session_timeout_range_admits_every_client() {
    let dir = std::env::temp_dir().join(format!("corral-defects-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let max_client_cnxns = 3;
    let config = corral_server::Config {
        client_port: 0,
        data_dir: dir.join("data"),
        tick_time: 200,
        min_session_timeout: 30_000,
        max_session_timeout: 4_000,
        max_client_cnxns,
        admin: None,
        metrics: None,
        log_dir: None,
        ..corral_server::Config::default()
    };
    let server = within("server start", corral_server::Server::start(config))
        .await
        .expect("start the server");
    let addr = server.local_addr();
    for attempt in 0..2 * max_client_cnxns + 1 {
        let admitted = handshake_until_admitted(addr, 10_000).await;
        let Some(response) = admitted else {
            panic!("attempt {attempt} from 127.0.0.1 got no session");
        };
        assert_ne!(response.session_id, 0, "attempt {attempt} was refused");
        // ZooKeeper raises a request to the minimum, then caps it at the maximum.
        assert_eq!(response.timeout, 4_000, "attempt {attempt}");
    }
    // And a real client, after all those, still gets in and works.
    let client = within(
        "a zookeeper-client session",
        Client::connector()
            .with_session_timeout(Duration::from_secs(10))
            .connect(&addr.to_string()),
    )
    .await
    .expect("a real client connects");
    assert_eq!(client.session_timeout(), Duration::from_millis(4_000));
    client
        .create(
            "/after",
            b"x",
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await
        .expect("create");
    drop(client);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A summary line of `mntr`, 0 when the summary has not been recorded yet.
fn mntr_value(port: u16, key: &str) -> u64 {
    let text = four(port, "mntr").expect("mntr answers");
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t'))
        .map_or(0, |v| v.trim().parse().expect("a number"))
}

/// (count, bytes) of the reads in namespace `/mr` so far.
fn mr_reads(port: u16) -> (u64, u64) {
    (
        mntr_value(port, "zk_cnt_mr_read_per_namespace"),
        mntr_value(port, "zk_sum_mr_read_per_namespace"),
    )
}

/// multiRead used to be run once to check it and again to answer it, so every read
/// in it was counted twice in read_per_namespace (and done twice under the tree
/// lock). One multiRead of three reads must count as the same three reads sent one
/// by one. ZooKeeper's updateReadStat counts path length + bytes read + 68 for the
/// Stat: getData /mr/a 5 + 5 + 68, getData /mr/b 5 + 7 + 68, getChildren /mr 3 + 2
/// (the names "a" and "b") + 68, so 3 reads of 231 bytes.
#[tokio::test]
async fn multi_read_counts_each_read_once() {
    let server = ServerProcess::start("");
    let zk = Client::connect(&server.addr()).await.expect("connect");
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.create("/mr", b"", &open).await.expect("create /mr");
    zk.create("/mr/a", b"12345", &open)
        .await
        .expect("create /mr/a");
    zk.create("/mr/b", b"1234567", &open)
        .await
        .expect("create /mr/b");

    let before = mr_reads(server.port);
    let mut reader = zk.new_multi_reader();
    reader.add_get_data("/mr/a").expect("add getData");
    reader.add_get_data("/mr/b").expect("add getData");
    reader.add_get_children("/mr").expect("add getChildren");
    let results = reader.commit().await.expect("multiRead");
    assert!(
        matches!(
            results.as_slice(),
            [
                MultiReadResult::Data { .. },
                MultiReadResult::Data { .. },
                MultiReadResult::Children { .. }
            ]
        ),
        "{results:?}"
    );
    let after_multi = mr_reads(server.port);
    let multi = (after_multi.0 - before.0, after_multi.1 - before.1);
    assert_eq!(multi, (3, 231), "one multiRead of three reads");

    zk.get_data("/mr/a").await.expect("getData");
    zk.get_data("/mr/b").await.expect("getData");
    zk.list_children("/mr").await.expect("getChildren");
    let after_single = mr_reads(server.port);
    let single = (
        after_single.0 - after_multi.0,
        after_single.1 - after_multi.1,
    );
    assert_eq!(multi, single, "a multiRead counts as its reads one by one");
}

/// An in-process standalone server on an ephemeral port, its data under `dir`.
async fn in_process(dir: &std::path::Path) -> corral_server::Server {
    let config = corral_server::Config {
        client_port: 0,
        data_dir: dir.to_path_buf(),
        admin: None,
        metrics: None,
        log_dir: None,
        ..corral_server::Config::default()
    };
    within("server start", corral_server::Server::start(config))
        .await
        .expect("start the server")
}

/// mntr's (bytes received, connection requests) of the server at `addr`, asked off
/// the runtime that serves it.
async fn client_traffic(addr: SocketAddr) -> (u64, u64) {
    tokio::task::spawn_blocking(move || {
        (
            mntr_value(addr.port(), "zk_bytes_received_count"),
            mntr_value(addr.port(), "zk_connection_request_count"),
        )
    })
    .await
    .expect("mntr asked")
}

/// mntr's ServerMetrics were one process-wide value, so two servers in one process
/// (as in-process tests start them) counted each other's clients: a session on one
/// moved the other's bytes_received_count and connection_request_count. Each server
/// now owns its telemetry, and a server no client has talked to counts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_in_one_process_count_apart() {
    let dir = std::env::temp_dir().join(format!("corral-apart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let a = in_process(&dir.join("a")).await;
    let b = in_process(&dir.join("b")).await;
    let session = handshake_until_admitted(a.local_addr(), 10_000).await;
    assert!(session.is_some_and(|r| r.session_id != 0), "a session on a");
    let (bytes, requests) = client_traffic(a.local_addr()).await;
    assert!(
        bytes > 0 && requests > 0,
        "a counted its client: {bytes}, {requests}"
    );
    assert_eq!(
        client_traffic(b.local_addr()).await,
        (0, 0),
        "b counted a's client"
    );
    a.shutdown().await;
    b.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
