//! Regressions for defects in the consensus crate, against real `corral server`
//! processes and a real ZooKeeper client.
//!
//! - A panic inside apply once left a half-applied tree that reads kept serving: the
//!   tree's lock poisoning was ignored. The server must stop instead.
//! - The peer port once took a 4-byte length from anyone who connected and allocated
//!   that much (up to 1 GiB) for the frame. Nothing an unidentified peer sends may make
//!   the server hold much more than it actually sent.
//!
//! The tests take turns (`SERIAL`): two shared cores, and an RSS measurement that
//! another test's ensemble must not disturb.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use support::ensemble::{connect, persistent, runtime, serial, Ensemble};
use support::{within, ServerProcess};

/// The pid of the `corral server` process started with the zoo.cfg in `dir`.
fn server_pid(dir: &Path) -> u32 {
    let config = dir.join("zoo.cfg");
    let needle = config.as_os_str().as_encoded_bytes();
    let entries = std::fs::read_dir("/proc").expect("read /proc");
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle) {
            return pid;
        }
    }
    panic!("no process runs with {}", config.display());
}

/// Resident memory of `pid` in KiB, from /proc/<pid>/status.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// The quorum (peer) port of server `id`, from its own zoo.cfg's server.N line.
fn quorum_port(dir: &Path, id: u64) -> u16 {
    let text = std::fs::read_to_string(dir.join("zoo.cfg")).expect("zoo.cfg");
    let prefix = format!("server.{id}=");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(':').nth(1))
        .and_then(|p| p.parse().ok())
        .expect("server.N line with a quorum port")
}

/// A raw TCP connection to the peer port that announces a frame of 1 GiB and then
/// sends `body` bytes of it, stopping early if the server closes the connection.
/// Returns the socket, still open.
fn announce_huge_frame(port: u16, body: usize) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to peer port");
    s.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut sent = 0;
    if s.write_all(&(1u32 << 30).to_be_bytes()).is_ok() {
        let chunk = vec![0x5a; 64 << 10];
        while sent < body {
            if s.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
    }
    s
}

/// A raw TCP connection that says it is server `from` (a `Hello` frame, spelled out
/// as crates/consensus pins it: length 3, variant 8, wire version 1, the id), then
/// announces a frame of `announced` bytes and sends `body` of them.
fn identified_large_frame(port: u16, from: u8, announced: u32, body: usize) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to peer port");
    s.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut start = vec![0, 0, 0, 3, 8, 1, from];
    start.extend_from_slice(&announced.to_be_bytes());
    s.write_all(&start).expect("hello and length");
    s.write_all(&vec![0x5a; body]).expect("part of the body");
    s
}

/// Whether the server closed `s` (reads end or fail) within a few seconds.
fn closed_by_server(s: &mut std::net::TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn an_unidentified_peer_cannot_make_the_server_hold_a_frame_it_only_announced() {
    let _turn = serial();
    let ensemble = Ensemble::start(3, 0, "");
    let leader = ensemble.wait_settled();
    let member = &ensemble.members[leader];
    let pid = server_pid(&member.server.dir);
    let port = quorum_port(&member.server.dir, member.id);
    let before = rss_kib(pid);
    // Four strangers, each announcing 1 GiB and sending 8 MiB of it.
    let mut strangers: Vec<_> = (0..4).map(|_| announce_huge_frame(port, 8 << 20)).collect();
    let closed = strangers.iter_mut().all(closed_by_server);
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(
        grown < 16 << 10,
        "the server's RSS grew by {grown} KiB for frames that were only announced"
    );
    assert!(
        closed,
        "the server kept reading a 1 GiB frame from a stranger"
    );
    drop(strangers);
    // A peer that names a member gets a larger limit, but its frame's buffer grows
    // only with what arrives: 60 MiB announced, 1 MiB sent, the connection held.
    let before = rss_kib(pid);
    let other = ensemble.members[(leader + 1) % 3].id as u8;
    let member_like = identified_large_frame(port, other, 60 << 20, 1 << 20);
    std::thread::sleep(Duration::from_millis(500));
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(
        grown < 16 << 10,
        "the server's RSS grew by {grown} KiB for 1 MiB of a 60 MiB frame"
    );
    drop(member_like);
    runtime().block_on(async {
        let client = connect(&ensemble.addr(leader)).await;
        within(
            "create",
            client.create("/after-strangers", b"v", &persistent()),
        )
        .await
        .expect("create after the strangers");
        let (data, _) = within("get", client.get_data("/after-strangers"))
            .await
            .expect("get after the strangers");
        assert_eq!(data, b"v");
    });
}

#[test]
fn a_panic_while_applying_stops_the_server_instead_of_serving_a_half_applied_tree() {
    let _turn = serial();
    let mut server = ServerProcess::start("corral.testFault=panic-applying:/half");
    let rt = runtime();
    let client = rt.block_on(async {
        let client = connect(&server.addr()).await;
        within("create", client.create("/whole", b"v", &persistent()))
            .await
            .expect("create before the fault");
        // The create of /half panics inside apply, after the tree took it.
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            client.create("/half", b"v", &persistent()),
        )
        .await;
        client
    });
    let Some(status) = server.wait_exit() else {
        let half = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), client.get_data("/half")).await
        });
        panic!("the server kept running after a panic in apply; a read of /half gave {half:?}");
    };
    assert!(!status.success(), "the server exited with {status:?}");
    let log = server.log();
    assert!(
        log.contains("state machine"),
        "the server stopped without saying why:\n{log}"
    );
}
