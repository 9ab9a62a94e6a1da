//! Hostile allocation: what a client sends must not make the server allocate much more
//! than it sent. A jute vector's count is bounded only by the bytes left in the frame,
//! and an ACL in memory is several times its smallest wire form (12 bytes: perms and
//! two empty strings), so a decoder that reserves the announced count up front is an
//! amplifier. These tests flood a real server with such frames from several connections
//! at once and compare its resident set before and after, then check that a normal
//! session still works. (The allocation-exact regression tests of the decoder are
//! corral-jute's, which count bytes with an allocator instead of reading RSS.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::hostile::{put_frame, raw_session, rss_kib, still_serves};
use support::ServerProcess;

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

/// Sends `frames` creates of `sent` tiny ACLs announcing `claimed` entries from each of
/// `conns` connections at once, each connection waiting for one reply before it sends
/// its next frame; the server's RSS growth in KiB, once all are answered. One frame in
/// flight per connection keeps what the server legitimately holds (the frames' own
/// bytes, at most `conns` MiB) well under the bound, so growth past it is the decoder's.
fn flood(server: &ServerProcess, conns: i32, frames: i32, claimed: i32, sent: usize) -> u64 {
    let before = rss_kib(server.pid());
    let floods: Vec<_> = (0..conns)
        .map(|c| {
            let port = server.port;
            std::thread::spawn(move || {
                let mut s = raw_session(port);
                let mut answered = 0;
                for i in 0..frames {
                    let frame = create_with_tiny_acls(c * 100 + i, claimed, sent);
                    if s.write_all(&frame).is_err() {
                        break;
                    }
                    match s.try_clone() {
                        Ok(reader) => answered += drain(reader, 1),
                        Err(_) => break,
                    }
                }
                answered
            })
        })
        .collect();
    let answered: usize = floods.into_iter().map(|t| t.join().expect("flood")).sum();
    assert_eq!(
        answered,
        (conns * frames) as usize,
        "every frame is answered"
    );
    let after = rss_kib(server.pid());
    eprintln!("RSS before {before} KiB, after {after} KiB");
    after.saturating_sub(before)
}

/// Under the default jute.maxbuffer (1 MiB less one byte): 87,000 ACLs of 12 bytes.
const TINY_ACLS: usize = 87_000;

/// 32 frames of tiny ACLs (4 connections, 8 frames each) whose vectors announce as many entries as the frame has
/// bytes left, far more than they carry: each fails to decode, so nothing reaches the
/// log, and whatever the server allocates for them is the decoder's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overclaimed_acl_vectors_do_not_amplify_memory() {
    let server = ServerProcess::start("");
    let grown = flood(&server, 4, 8, (TINY_ACLS * 12) as i32, TINY_ACLS);
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB for 32 MiB of frames that do not decode"
    );
    still_serves(&server, "/after-overclaimed").await;
}

/// One frame of 87,000 real tiny ACLs, which decodes and is logged (and refused at
/// apply: an empty scheme is not a valid ACL). It costs what the ACLs take in memory,
/// a few times their wire size, and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_of_many_tiny_acls_costs_a_small_multiple_of_its_size() {
    let server = ServerProcess::start("");
    let grown = flood(&server, 1, 1, TINY_ACLS as i32, TINY_ACLS);
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB for one frame of 1 MiB"
    );
    still_serves(&server, "/after-tiny-acls").await;
}
