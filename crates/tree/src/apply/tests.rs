//! The apply rules, by example: names, rollback, sessions, versions and ACLs, and the
//! zxid order.

use bytes::Bytes;
use corral_jute::records::{perms, Acl, Id};
use corral_jute::{ErrorCode, OpCode};

use crate::acl;
use crate::tree::{DataTree, Event, EventKind};
use crate::txn::{CreateOp, OpResult, Txn, TxnOp};

pub(super) fn txn(session_id: i64, op: TxnOp) -> Txn {
    Txn {
        session_id,
        time: 1000,
        identity: vec![],
        op,
    }
}

fn create(path: &str, flags: i32) -> TxnOp {
    create_with(path, b"v", flags)
}

/// A create of `path` holding `data`, open to the world.
pub(super) fn create_with(path: &str, data: &[u8], flags: i32) -> TxnOp {
    TxnOp::Create(CreateOp {
        opcode: OpCode::Create.as_i32(),
        path: path.into(),
        data: Some(Bytes::copy_from_slice(data)),
        acl: acl::open(),
        flags,
        ttl: -1,
    })
}

fn tree_with_session() -> DataTree {
    let mut t = DataTree::new(true);
    let open = TxnOp::CreateSession {
        timeout: 30000,
        passwd: Bytes::new(),
    };
    t.apply(1, &txn(7, open));
    t
}

#[test]
fn sequential_names_come_from_cversion() {
    let mut t = tree_with_session();
    t.apply(2, &txn(7, create("/q", 0)));
    let (r, _) = t.apply(3, &txn(7, create("/q/n-", 2)));
    assert!(matches!(r.result, OpResult::CreatedPlain { ref path } if path == "/q/n-0000000000"));
    let (r, _) = t.apply(4, &txn(7, create("/q/n-", 2)));
    assert!(matches!(r.result, OpResult::CreatedPlain { ref path } if path == "/q/n-0000000001"));
    assert_eq!(t.node("/q").map(|n| (n.cversion, n.pzxid)), Some((2, 4)));
}

#[test]
fn failed_multi_changes_nothing() {
    let mut t = tree_with_session();
    let before = t.nodes.clone();
    let ops = vec![
        create("/a", 0),
        create("/a/b", 0),
        TxnOp::Delete {
            path: "/zz".into(),
            version: -1,
        },
    ];
    let (r, events) = t.apply(2, &txn(7, TxnOp::Multi(ops)));
    assert_eq!(r.err(), ErrorCode::NoNode);
    assert_eq!(
        r.result,
        OpResult::Multi(vec![
            OpResult::Error(ErrorCode::Ok),
            OpResult::Error(ErrorCode::Ok),
            OpResult::Error(ErrorCode::NoNode)
        ])
    );
    assert!(events.is_empty());
    assert_eq!(t.nodes, before);
}

#[test]
fn close_session_removes_ephemerals_with_events() {
    let mut t = tree_with_session();
    t.apply(2, &txn(7, create("/e", 1)));
    let (r, _) = t.apply(3, &txn(7, create("/e/x", 0)));
    assert_eq!(r.err(), ErrorCode::NoChildrenForEphemerals);
    let (_, events) = t.apply(4, &txn(7, TxnOp::CloseSession));
    assert!(t.node("/e").is_none());
    assert_eq!(
        events[0],
        Event {
            path: "/e".into(),
            kind: EventKind::Deleted
        }
    );
    let (r, _) = t.apply(5, &txn(7, create("/f", 0)));
    assert_eq!(r.err(), ErrorCode::SessionExpired);
}

#[test]
fn versions_and_acls_are_checked() {
    let mut t = tree_with_session();
    t.apply(2, &txn(7, create("/v", 0)));
    let set = |v| TxnOp::SetData {
        path: "/v".into(),
        data: None,
        version: v,
    };
    assert_eq!(t.apply(3, &txn(7, set(5))).0.err(), ErrorCode::BadVersion);
    assert_eq!(t.apply(4, &txn(7, set(0))).0.err(), ErrorCode::Ok);
    let locked = vec![Acl {
        perms: perms::READ,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    let set_acl = TxnOp::SetAcl {
        path: "/v".into(),
        acl: locked,
        version: -1,
    };
    assert_eq!(t.apply(5, &txn(7, set_acl)).0.err(), ErrorCode::Ok);
    assert_eq!(t.apply(6, &txn(7, set(-1))).0.err(), ErrorCode::NoAuth);
    assert_eq!(
        t.node("/v").map(|n| (n.version, n.aversion, n.mzxid)),
        Some((1, 1, 4))
    );
}

/// Issue 14: a zxid at or below the last one applied used to be taken with `max` and
/// applied anyway; it is a broken log and must stop the server.
#[test]
#[should_panic(expected = "zxid 0x3 applied after zxid 0x3: zxids must strictly increase")]
fn an_equal_zxid_is_refused() {
    let mut t = tree_with_session();
    t.apply(3, &txn(7, create("/a", 0)));
    t.apply(3, &txn(7, create("/b", 0)));
}

#[test]
#[should_panic(expected = "zxid 0x4 applied after zxid 0x9: zxids must strictly increase")]
fn a_smaller_zxid_is_refused() {
    let mut t = tree_with_session();
    t.apply(9, &txn(7, create("/a", 0)));
    t.apply(4, &txn(7, TxnOp::Noop));
}

/// The refused transaction changes nothing, and the first zxid of a fresh tree (or of
/// one decoded from a snapshot of a fresh tree) may be 0, as openraft's first entry is.
#[test]
fn the_first_zxid_may_be_zero_and_a_refused_one_changes_nothing() {
    let mut t = DataTree::new(true);
    t.apply(0, &txn(0, TxnOp::Noop));
    t.apply(1, &txn(0, create("/a", 0)));
    let before = t.nodes.clone();
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.apply(1, &txn(0, create("/b", 0)));
    }));
    assert!(refused.is_err());
    assert_eq!(t.nodes, before);
    assert_eq!(t.last_zxid(), 1);

    let mut fresh = DataTree::decode_snapshot(&DataTree::new(true).encode_snapshot())
        .map_err(|e| e.to_string());
    if let Ok(f) = fresh.as_mut() {
        f.apply(0, &txn(0, TxnOp::Noop));
    }
    assert_eq!(fresh.map(|f| f.last_zxid()), Ok(0));
}
