//! A snapshot taken while writes go on is the tree as it was when it began.
//!
//! One thread walks the snapshot under the read lock, a chunk at a time, as the state
//! machine's snapshot builder does; another applies transactions under the write lock
//! between the chunks. The two take turns through channels, so the interleaving is
//! the same on every run: the changes land ahead of the walk, at it and behind it.
//! Every way the tree changes a node is among them (each operation, a multi that
//! rolls back, a session's ephemerals going, the config node), so a mutation that
//! slipped past the journal would show up as a difference.

use std::sync::mpsc::channel;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use corral_jute::records::{perms, Acl, Id};
use corral_jute::{ErrorCode, OpCode};
use corral_tree::txn::{CreateOp, CONTAINER_OWNER};
use corral_tree::{acl, DataTree, Node, Session, Txn, TxnOp};

fn txn(session_id: i64, op: TxnOp) -> Txn {
    Txn {
        session_id,
        time: 77,
        identity: vec![],
        op,
    }
}

fn create(opcode: OpCode, path: &str, flags: i32, ttl: i64) -> TxnOp {
    TxnOp::Create(CreateOp {
        opcode: opcode.as_i32(),
        path: path.into(),
        data: Some(Bytes::from(format!("data of {path}"))),
        acl: acl::open(),
        flags,
        ttl,
    })
}

fn plain(path: &str) -> TxnOp {
    create(OpCode::Create, path, 0, -1)
}

fn set(path: &str) -> TxnOp {
    TxnOp::SetData {
        path: path.into(),
        data: Some(Bytes::from_static(b"changed")),
        version: -1,
    }
}

fn delete(path: &str) -> TxnOp {
    TxnOp::Delete {
        path: path.into(),
        version: -1,
    }
}

fn open_session() -> TxnOp {
    TxnOp::CreateSession {
        timeout: 4000,
        passwd: Bytes::from_static(b"pw"),
    }
}

/// A tree with plain nodes /n00../n39, a session's ephemerals, a container, a TTL
/// node and a parent for sequential children. Returns it and its last zxid.
fn before() -> (DataTree, i64) {
    let mut t = DataTree::new(true);
    let mut setup = vec![txn(7, open_session())];
    for p in ["/p", "/seq"] {
        setup.push(txn(7, plain(p)));
    }
    for i in 0..40 {
        setup.push(txn(7, plain(&format!("/n{i:02}"))));
    }
    for p in ["/e1", "/e2", "/p/e3"] {
        setup.push(txn(7, create(OpCode::Create, p, 1, -1)));
    }
    setup.push(txn(7, create(OpCode::CreateContainer, "/c1", 4, -1)));
    setup.push(txn(7, create(OpCode::CreateTtl, "/t1", 5, 1000)));
    let mut zxid = 0;
    for t2 in &setup {
        zxid += 1;
        let (r, _) = t.apply(zxid, t2);
        assert_eq!(r.err(), ErrorCode::Ok, "setup {t2}");
    }
    assert_eq!(
        t.node("/c1").map(|n| n.ephemeral_owner),
        Some(CONTAINER_OWNER)
    );
    (t, zxid)
}

/// Every kind of change, each on a node the walk has or has not reached yet.
fn changes() -> Vec<Txn> {
    let locked = vec![Acl {
        perms: perms::READ,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    vec![
        txn(7, set("/n35")),
        txn(7, set("/n02")),
        txn(
            7,
            TxnOp::SetAcl {
                path: "/n30".into(),
                acl: locked,
                version: -1,
            },
        ),
        txn(7, plain("/n31/child")),
        txn(7, create(OpCode::Create, "/seq/s-", 2, -1)),
        txn(7, delete("/n33")),
        txn(7, TxnOp::Reap { path: "/c1".into() }),
        txn(7, TxnOp::Reap { path: "/t1".into() }),
        txn(7, TxnOp::CloseSession),
        txn(8, open_session()),
        txn(8, create(OpCode::Create, "/n37/e9", 1, -1)),
        // Rolled back: the create and the set must not show, nor their undo.
        txn(
            8,
            TxnOp::Multi(vec![plain("/m1"), set("/n38"), delete("/missing")]),
        ),
        txn(
            8,
            TxnOp::Multi(vec![plain("/m2"), delete("/n34"), set("/n36")]),
        ),
        txn(8, plain("/a0")),
        txn(8, delete("/n39")),
        txn(8, plain("/n39")),
        txn(8, set("/n39")),
        txn(
            8,
            TxnOp::Check {
                path: "/n32".into(),
                version: 0,
            },
        ),
        txn(8, TxnOp::Fail(ErrorCode::BadArguments)),
        txn(0, TxnOp::Noop),
    ]
}

/// Each change does what it is there for: all succeed but the multi meant to roll
/// back and the logged failure.
#[test]
fn the_changes_do_change_the_tree() {
    let (mut t, mut zxid) = before();
    let errs: Vec<ErrorCode> = changes()
        .iter()
        .map(|c| {
            zxid += 1;
            t.apply(zxid, c).0.err()
        })
        .collect();
    let mut expected = vec![ErrorCode::Ok; errs.len()];
    expected[11] = ErrorCode::NoNode;
    expected[18] = ErrorCode::BadArguments;
    assert_eq!(errs, expected);
}

/// What a reader sees of a tree: every node and every session.
type View = (Vec<(String, Node)>, Vec<(i64, Session)>);

fn view(t: &DataTree) -> View {
    let mut paths = t.paths();
    paths.sort();
    let nodes = paths
        .into_iter()
        .filter_map(|p| t.node(&p).cloned().map(|n| (p, n)))
        .collect();
    let sessions = t.sessions().map(|(id, s)| (id, s.clone())).collect();
    (nodes, sessions)
}

#[test]
fn a_snapshot_is_the_tree_when_it_began_whatever_changes_meanwhile() {
    let (tree, mut zxid) = before();
    let tree = Arc::new(RwLock::new(tree));
    let (expected, mut writer) = {
        let mut t = tree.write().unwrap_or_else(|p| p.into_inner());
        let w = t.begin_snapshot();
        (view(&t), w)
    };
    let (to_writer, writer_turn) = channel::<()>();
    let (to_walker, walker_turn) = channel::<()>();
    let changes = changes();
    let count = changes.len();
    let applier = {
        let tree = tree.clone();
        std::thread::spawn(move || {
            for change in changes {
                if writer_turn.recv().is_err() {
                    return;
                }
                zxid += 1;
                tree.write()
                    .unwrap_or_else(|p| p.into_inner())
                    .set_config(Bytes::from(format!("server.1=config at {zxid}")));
                tree.write()
                    .unwrap_or_else(|p| p.into_inner())
                    .apply(zxid, &change);
                if to_walker.send(()).is_err() {
                    return;
                }
            }
        })
    };
    let mut turns = 0;
    while !writer.is_done() {
        tree.read()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot_step(&mut writer, 2);
        if turns < count {
            turns += 1;
            to_writer.send(()).expect("the applier is waiting");
            walker_turn.recv().expect("the applier applied");
        }
    }
    assert!(
        turns == count,
        "the walk ended before every change was made"
    );
    applier.join().expect("the applier finished");
    let bytes = tree
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .finish_snapshot(writer)
        .expect("the snapshot is written");
    let back = DataTree::decode_snapshot(&bytes).expect("the snapshot decodes");
    let after = view(&tree.read().unwrap_or_else(|p| p.into_inner()));
    assert_ne!(after, expected, "the changes changed the live tree");
    let got = view(&back);
    for ((p, n), (q, m)) in got.0.iter().zip(expected.0.iter()) {
        assert_eq!((p, n), (q, m), "node differs from the tree at the start");
    }
    assert_eq!(got, expected);
}
