//! For the hostile-input tests: frames written by hand, a session opened without a
//! client library, the server's memory read from /proc, and a check that a normal
//! client is still served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use zookeeper_client::{Acls, Client, CreateMode};

use super::{within, ServerProcess};

/// A line of /proc/PID/status such as `VmRSS`, in KiB.
pub fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} line in /proc/{pid}/status"))
}

/// The resident set of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

pub fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
}

/// A raw session: the ConnectRequest written by hand, its response read and dropped.
pub fn raw_session(port: u16) -> TcpStream {
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

/// A normal zookeeper-client session connects, creates `path` and reads it back.
pub async fn still_serves(server: &ServerProcess, path: &str) {
    let zk = within("connect", Client::connect(&server.addr()))
        .await
        .expect("a normal session connects");
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    within("create", zk.create(path, b"ok", &open))
        .await
        .expect("a normal create");
    let (data, _) = within("get", zk.get_data(path)).await.expect("get");
    assert_eq!(data, b"ok");
}
