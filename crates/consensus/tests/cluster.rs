//! Three voters in one process over the TCP peer network on 127.0.0.1: one leader
//! is elected, a write reaches every tree, and when the leader stops the other two
//! elect a new one and keep taking writes. A write handed to a follower goes to the
//! leader and is applied on that follower by the time its result comes back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corral_consensus::{ApplyObserver, Consensus, Members, Paths, Plain, Timing};
use corral_tree::txn::CreateOp;
use corral_tree::{DataTree, Event, Txn, TxnOp, TxnResult};

struct Quiet;

impl ApplyObserver for Quiet {
    fn applied(&self, _: &DataTree, _: &Txn, _: &TxnResult, _: &[Event]) {}
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn create(path: &str) -> Txn {
    Txn {
        session_id: 0,
        time: 1,
        identity: Vec::new(),
        op: TxnOp::Create(CreateOp {
            opcode: 1,
            path: path.into(),
            data: None,
            acl: corral_tree::acl::open(),
            flags: 0,
            ttl: -1,
        }),
    }
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes through whichever node leads, retrying while leadership moves (NotLeader),
/// as a client would; fails after a deadline.
async fn write(nodes: &[Option<Consensus>], path: &str) -> (usize, TxnResult) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let at = until("a leader", || leader(nodes)).await;
        match nodes[at]
            .as_ref()
            .expect("leader")
            .propose(create(path))
            .await
        {
            Ok(r) => return (at, r),
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying {path}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no write of {path} succeeded: {e}"),
        }
    }
}

/// Raft's election safety: never two leaders in one term.
fn assert_one_leader_per_term(nodes: &[Option<Consensus>]) {
    let mut terms = std::collections::BTreeSet::new();
    for m in nodes
        .iter()
        .flatten()
        .map(|c| c.metrics())
        .filter(|m| m.is_leader)
    {
        assert!(terms.insert(m.term), "two leaders in term {}", m.term);
    }
}

fn leader(nodes: &[Option<Consensus>]) -> Option<usize> {
    nodes
        .iter()
        .position(|n| n.as_ref().is_some_and(|c| c.metrics().is_leader))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_voters_elect_replicate_and_fail_over() {
    let root = std::env::temp_dir().join(format!("corral-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let voters: BTreeMap<u64, String> = (1..=3)
        .map(|id| (id, format!("127.0.0.1:{}", free_port())))
        .collect();
    let members = Members {
        voters,
        ..Members::default()
    };
    let timing = Timing {
        heartbeat_ms: 100,
        election_min_ms: 400,
        election_max_ms: 800,
        snap_count: 100_000,
        lost_after_ms: 1600,
    };
    let starts = (1..=3u64).map(|id| {
        let paths = Paths {
            snapshots: root.join(id.to_string()).join("snapshots"),
            log: root.join(id.to_string()).join("log"),
            snap_retain: 3,
            autopurge: true,
            extended_types: false,
            auth_schemes: Default::default(),
            log_segment_bytes: 64 << 20,
        };
        let (members, timing) = (members.clone(), timing.clone());
        async move {
            Consensus::start_cluster(
                id,
                members,
                &paths,
                Arc::new(Quiet),
                timing,
                Arc::new(Plain),
            )
            .await
        }
    });
    let mut nodes: Vec<Option<Consensus>> = futures::future::join_all(starts)
        .await
        .into_iter()
        .map(|r| Some(r.expect("node starts")))
        .collect();

    until("a leader", || leader(&nodes)).await;
    assert_one_leader_per_term(&nodes);
    let (first, result) = write(&nodes, "/x").await;
    let zxid = result.zxid as u64;
    for n in nodes.iter().flatten() {
        until("the write on every node", || {
            (n.applied_index() >= zxid).then_some(())
        })
        .await;
        assert!(
            n.tree().read().node("/x").is_some(),
            "node {} lacks /x",
            n.id()
        );
    }

    // A follower takes a write: forwarded to the leader, applied here on return.
    let follower = (0..3).find(|i| *i != first).expect("a follower");
    let f = nodes[follower].as_ref().expect("follower");
    let forwarded = f.propose(create("/via-follower")).await;
    let forwarded = forwarded.expect("a follower's write goes through the leader");
    assert!(f.applied_index() >= forwarded.zxid as u64);
    assert!(f.tree().read().node("/via-follower").is_some());
    f.sync().await.expect("sync on a follower");
    assert!(f.applied_index() >= forwarded.zxid as u64);

    // The leader stops; the other two still form a majority.
    let old = nodes[first].take().expect("leader");
    old.shutdown().await;
    let (second, result) = write(&nodes, "/y").await;
    assert_ne!(second, first);
    assert_one_leader_per_term(&nodes);
    for n in nodes.iter().flatten() {
        until("the second write", || {
            (n.applied_index() >= result.zxid as u64).then_some(())
        })
        .await;
        assert!(n.tree().read().node("/y").is_some() && n.tree().read().node("/x").is_some());
    }
    for n in nodes.into_iter().flatten() {
        n.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&root);
}
