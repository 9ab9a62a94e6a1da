//! Memory of the tree alone: applies N creates of V-byte values to a bare DataTree and
//! prints the resident memory per node, so a server's RSS can be split into the tree
//! and the rest (log cache, buffers, runtime).
//!
//!     cargo run --release -p corral-tree --example memory [N] [V]

use bytes::Bytes;
use corral_tree::txn::CreateOp;
use corral_tree::{acl, DataTree, Txn, TxnOp};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let v: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let mut tree = DataTree::new(false);
    let txn = |op| Txn {
        session_id: 0,
        time: 1,
        identity: vec![],
        op,
    };
    tree.apply(
        1,
        &txn(TxnOp::Create(CreateOp {
            opcode: 1,
            path: "/big".into(),
            data: None,
            acl: acl::open(),
            flags: 0,
            ttl: -1,
        })),
    );
    let before = rss_kib();
    let value = vec![b'x'; v];
    for i in 0..n {
        let op = CreateOp {
            opcode: 1,
            path: format!("/big/n5e1f2a-{i:010}"),
            data: Some(Bytes::copy_from_slice(&value)),
            acl: acl::open(),
            flags: 0,
            ttl: -1,
        };
        tree.apply(2 + i as i64, &txn(TxnOp::Create(op)));
    }
    let after = rss_kib();
    println!(
        "{n} nodes of {v} B: tree RSS {} MiB, {} bytes per node",
        (after - before) / 1024,
        (after - before) * 1024 / n as u64
    );
    let snap = tree.encode_snapshot();
    let rebuilt = DataTree::decode_snapshot(&snap)
        .map(|t| t.node_count())
        .unwrap_or(0);
    println!(
        "snapshot {} MiB compressed; decodes to {rebuilt} nodes",
        snap.len() / (1 << 20)
    );
}
