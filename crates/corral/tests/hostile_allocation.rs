//! Hostile allocation: what a client sends must not make the server allocate much more
//! than it sent. A jute vector's count is bounded only by the bytes left in the frame,
//! and an ACL in memory is several times its smallest wire form (12 bytes: perms and
//! two empty strings), so a decoder that reserves the announced count up front is an
//! amplifier. These tests flood a real server with such frames from several connections
//! at once and compare its resident set before and after, then check that a normal
//! session still works.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{within, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode};

/// The resident set of a process, in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
}

/// A raw session: the ConnectRequest written by hand, its response read and dropped.
fn raw_session(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    let mut connect = Vec::new();
    connect.extend_from_slice(&0i32.to_be_bytes()); // protocolVersion
    connect.extend_from_slice(&0i64.to_be_bytes()); // lastZxidSeen
    connect.extend_from_slice(&30_000i32.to_be_bytes()); // timeOut
    connect.extend_from_slice(&0i64.to_be_bytes()); // sessionId
    connect.extend_from_slice(&16i32.to_be_bytes()); // passwd
    connect.extend_from_slice(&[0u8; 16]);
    connect.push(0); // readOnly
    let mut frame = Vec::new();
    put_frame(&mut frame, &connect);
    s.write_all(&frame).expect("send connect");
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("connect response length");
    let mut response = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut response).expect("connect response");
    s
}

/// A create whose ACL vector announces `claimed` entries and carries `sent` of the
/// smallest ones (perms, empty scheme, empty id), close to jute.maxbuffer in all.
fn create_with_tiny_acls(xid: i32, claimed: i32, sent: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(16 + sent * 12);
    body.extend_from_slice(&xid.to_be_bytes());
    body.extend_from_slice(&1i32.to_be_bytes()); // OpCode::Create
    body.extend_from_slice(&2i32.to_be_bytes());
    body.extend_from_slice(b"/x");
    body.extend_from_slice(&(-1i32).to_be_bytes()); // data: null
    body.extend_from_slice(&claimed.to_be_bytes());
    for _ in 0..sent {
        body.extend_from_slice(&31i32.to_be_bytes());
        body.extend_from_slice(&0i32.to_be_bytes());
        body.extend_from_slice(&0i32.to_be_bytes());
    }
    body.extend_from_slice(&0i32.to_be_bytes()); // flags
    let mut frame = Vec::new();
    put_frame(&mut frame, &body);
    frame
}

/// Reads replies until the server closes the connection or `count` replies came.
fn drain(mut s: TcpStream, count: usize) -> usize {
    let mut got = 0;
    let mut len = [0u8; 4];
    while got < count && s.read_exact(&mut len).is_ok() {
        let mut body = vec![0u8; i32::from_be_bytes(len).max(0) as usize];
        if s.read_exact(&mut body).is_err() {
            break;
        }
        got += 1;
    }
    got
}

async fn still_serves(server: &ServerProcess, path: &str) {
    let zk = within("connect", Client::connect(&server.addr()))
        .await
        .expect("a normal session connects after the flood");
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    within("create", zk.create(path, b"ok", &open))
        .await
        .expect("create after the flood");
    let (data, _) = within("get", zk.get_data(path)).await.expect("get");
    assert_eq!(data, b"ok");
}

/// Many frames of tiny ACLs whose vectors announce far more entries than they carry, so
/// each fails to decode: nothing reaches the log, and whatever the server allocates for
/// them is the decoder's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_acl_frames_do_not_amplify_memory() {
    let server = ServerProcess::start("");
    let pid = server.pid();
    // Under the default jute.maxbuffer (1 MiB less one byte): 87,000 ACLs of 12 bytes.
    let sent = 87_000;
    let claimed = (sent * 12) as i32;
    let before = rss_kib(pid);
    let floods: Vec<_> = (0..8)
        .map(|c| {
            let port = server.port;
            std::thread::spawn(move || {
                let mut s = raw_session(port);
                let mut frames = Vec::new();
                for i in 0..4 {
                    frames.extend(create_with_tiny_acls(c * 10 + i, claimed, sent));
                }
                s.write_all(&frames).expect("send frames");
                drain(s, 4)
            })
        })
        .collect();
    let answered: usize = floods.into_iter().map(|t| t.join().expect("flood")).sum();
    let after = rss_kib(pid);
    eprintln!("RSS before {before} KiB, after {after} KiB; {answered} replies");
    assert!(
        after.saturating_sub(before) < 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB for 32 MiB of hostile frames"
    );
    still_serves(&server, "/after-acl-flood").await;
}
