//! Ensembles of real `corral server` processes on 127.0.0.1, driven by the Rust
//! `zookeeper-client` crate: election and replication, kill -9 of the leader and of
//! followers without losing an acknowledged write, the loss and return of the quorum,
//! five voters losing two, an observer, a session that moves to another server, a
//! follower brought back by snapshot, and read-only mode.
//!
//! The tests share two cores, so they take turns (`SERIAL`) and check behaviour, not
//! time.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::ensemble::{connect, mode, persistent, runtime, serial, Ensemble};
use support::{four, within};
use zookeeper_client::{Acls, Client, CreateMode, Error, EventType, SessionState};

fn ephemeral() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Ephemeral.with_acls(Acls::anyone_all())
}

/// Creates `path`, retrying through connection losses and elections as a client
/// would. A retry that finds the node already there means an earlier attempt won.
async fn create_retrying(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut retried = false;
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(5),
            client.create(path, b"v", &persistent()),
        )
        .await;
        match attempt {
            Ok(Ok(_)) => return,
            Ok(Err(Error::NodeExists)) if retried => return,
            other => {
                assert!(Instant::now() < deadline, "no create of {path}: {other:?}");
                retried = true;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Every node under `/` as this server has it, after catching up with the leader.
async fn dump(addr: &str) -> BTreeMap<String, (Vec<u8>, String)> {
    let client = connect(addr).await;
    within("sync", client.sync("/")).await.expect("sync");
    let mut out = BTreeMap::new();
    let mut todo = vec!["/".to_string()];
    while let Some(path) = todo.pop() {
        let (data, stat) = within("get", client.get_data(&path)).await.expect("get");
        let children = within("ls", client.list_children(&path)).await.expect("ls");
        for c in children {
            let child = if path == "/" {
                format!("/{c}")
            } else {
                format!("{path}/{c}")
            };
            todo.push(child);
        }
        out.insert(path, (data, format!("{stat:?}")));
    }
    out
}

/// Waits until every running member's tree equals the others'.
async fn assert_same_trees(ensemble: &Ensemble) -> usize {
    let addrs: Vec<String> = (0..ensemble.members.len())
        .filter(|i| ensemble.members[*i].running)
        .map(|i| ensemble.addr(i))
        .collect();
    let first = dump(&addrs[0]).await;
    for addr in &addrs[1..] {
        let other = dump(addr).await;
        let differ: Vec<_> = first
            .keys()
            .chain(other.keys())
            .filter(|k| first.get(*k) != other.get(*k))
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "{addr} differs from {}: first differences at {differ:?}",
            addrs[0]
        );
    }
    first.len()
}

#[test]
fn three_voters_lose_and_regain_members_without_losing_writes() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(3, 0, "");
    let leader = ensemble.wait_settled();
    runtime().block_on(async {
        // Replication: a write through one server is read on every server.
        let client = connect(&ensemble.connect_string()).await;
        create_retrying(&client, "/acked").await;
        assert_eq!(assert_same_trees(&ensemble).await, 5);

        // kill -9 of the leader while a writer runs: every write it saw succeed stays.
        let writer_hosts = ensemble.hosts_except(&[leader]);
        let writer = connect(&writer_hosts).await;
        let mut acked = Vec::new();
        for n in 0..20 {
            create_retrying(&writer, &format!("/acked/before-{n}")).await;
            acked.push(format!("/acked/before-{n}"));
        }
        ensemble.kill9(leader);
        for n in 0..40 {
            create_retrying(&writer, &format!("/acked/after-{n}")).await;
            acked.push(format!("/acked/after-{n}"));
        }
        let second = ensemble.wait_settled();
        assert_ne!(second, leader, "the killed leader cannot lead");
        let log = ensemble.log(second);
        assert!(
            log.contains("LEADING - LEADER ELECTION TOOK - "),
            "no LEADING line in the new leader's log"
        );
        for i in (0..3).filter(|i| *i != leader) {
            let reader = connect(&ensemble.addr(i)).await;
            within("sync", reader.sync("/")).await.expect("sync");
            let children = within("ls", reader.list_children("/acked"))
                .await
                .expect("ls");
            for path in &acked {
                let name = path.trim_start_matches("/acked/");
                assert!(
                    children.iter().any(|c| c == name),
                    "{path} was acknowledged but server {i} lacks it"
                );
            }
        }

        // The old leader returns and catches up.
        ensemble.restart(leader);
        ensemble.wait_settled();
        assert_same_trees(&ensemble).await;

        // One follower down: writes go on.
        let follower = (0..3).find(|i| *i != second).expect("a follower");
        ensemble.kill9(follower);
        let survivor_hosts = ensemble.hosts_except(&[follower]);
        let client = connect(&survivor_hosts).await;
        create_retrying(&client, "/one-down").await;

        // Two of three down: no writes, and the survivor serves no one.
        let other = (0..3)
            .find(|i| *i != follower && *i != second)
            .expect("the third");
        ensemble.kill9(second);
        let lone = ensemble.addr(other);
        let port = ensemble.members[other].server.port;
        let deadline = Instant::now() + Duration::from_secs(30);
        while mode(port).is_some() {
            assert!(Instant::now() < deadline, "the lone server still serves");
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = four(port, "srvr").unwrap_or_default();
        assert!(
            text.contains("not currently serving requests"),
            "srvr on the lone server: {text}"
        );
        let write = tokio::time::timeout(
            Duration::from_secs(8),
            client.create("/no-quorum", b"", &persistent()),
        )
        .await;
        assert!(
            !matches!(write, Ok(Ok(_))),
            "a write succeeded without a quorum"
        );
        let fresh = tokio::time::timeout(
            Duration::from_secs(5),
            Client::connector()
                .with_session_timeout(Duration::from_secs(6))
                .connect(&lone),
        )
        .await;
        assert!(
            !matches!(fresh, Ok(Ok(_))),
            "the lone server took a new session without a quorum"
        );

        // Both come back: the ensemble heals and every tree agrees.
        ensemble.restart(second);
        ensemble.restart(follower);
        ensemble.wait_settled();
        let client = connect(&ensemble.connect_string()).await;
        create_retrying(&client, "/healed").await;
        let nodes = assert_same_trees(&ensemble).await;
        assert!(nodes >= 5 + 60 + 2, "only {nodes} nodes after healing");
    });
}

#[test]
fn five_voters_survive_two_failures() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(5, 0, "");
    let leader = ensemble.wait_settled();
    runtime().block_on(async {
        let victim = (leader + 1) % 5;
        ensemble.kill9(leader);
        ensemble.kill9(victim);
        let hosts = ensemble.hosts_except(&[leader, victim]);
        let client = connect(&hosts).await;
        for n in 0..10 {
            create_retrying(&client, &format!("/five-{n}")).await;
        }
        let new_leader = ensemble.wait_settled();
        assert!(new_leader != leader && new_leader != victim);
        assert_same_trees(&ensemble).await;
    });
}

#[test]
fn observer_serves_reads_forwards_writes_and_does_not_vote() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(3, 1, "");
    let leader = ensemble.wait_settled();
    assert_eq!(
        mode(ensemble.members[3].server.port).as_deref(),
        Some("observer")
    );
    runtime().block_on(async {
        let observer = connect(&ensemble.addr(3)).await;
        create_retrying(&observer, "/via-observer").await;
        let (data, _) = within("get", observer.get_data("/via-observer"))
            .await
            .expect("the observer reads its own write");
        assert_eq!(data, b"v");
        let mntr = four(ensemble.members[leader].server.port, "mntr").unwrap_or_default();
        assert!(
            mntr.contains("zk_synced_followers\t2") && mntr.contains("zk_synced_observers\t1"),
            "leader's mntr: {mntr}"
        );
        let config = within("get config", observer.get_data("/zookeeper/config"))
            .await
            .expect("config");
        let config = String::from_utf8_lossy(&config.0).to_string();
        assert!(
            config.contains(":observer;") && config.contains(":participant;"),
            "{config}"
        );

        // Two voters down: the observer and one voter are no quorum.
        let voters: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
        ensemble.kill9(leader);
        ensemble.kill9(voters[0]);
        let write = tokio::time::timeout(
            Duration::from_secs(8),
            observer.create("/observer-no-quorum", b"", &persistent()),
        )
        .await;
        assert!(
            !matches!(write, Ok(Ok(_))),
            "an observer counted toward the quorum"
        );
        ensemble.restart(leader);
        ensemble.wait_settled();
        let client = connect(&ensemble.addr(3)).await;
        create_retrying(&client, "/observer-after").await;
    });
}

#[test]
fn session_fails_over_keeping_ephemeral_and_watch() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(3, 0, "");
    ensemble.wait_settled();
    runtime().block_on(async {
        let client = connect(&ensemble.connect_string()).await;
        let id = client.session_id();
        create_retrying(&client, "/watched").await;
        within("create", client.create("/owned", b"", &ephemeral()))
            .await
            .expect("ephemeral");
        let (_, _, watcher) = within("watch", client.get_and_watch_data("/watched"))
            .await
            .expect("watch");
        let serving = ensemble
            .serving_session(id.0)
            .expect("some server lists the session");
        let mut states = client.state_watcher();
        ensemble.kill9(serving);
        within("disconnect", async {
            while states.changed().await != SessionState::Disconnected {}
        })
        .await;
        within("reconnect", async {
            while client.state() != SessionState::SyncConnected {
                states.changed().await;
            }
        })
        .await;
        assert_eq!(client.session_id(), id, "the client got a new session");
        let now_on = ensemble.serving_session(id.0).expect("serving again");
        assert_ne!(now_on, serving);

        // Another client changes the node; the watch set before the failover fires.
        let other = connect(&ensemble.addr(now_on)).await;
        within("set", other.set_data("/watched", b"changed", None))
            .await
            .expect("set");
        let event = within("the watch", watcher.changed()).await;
        assert_eq!(event.event_type, EventType::NodeDataChanged);

        // Past the session timeout, nothing has expired.
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(client.state(), SessionState::SyncConnected);
        within("sync", other.sync("/")).await.expect("sync");
        let owned = within("exists", other.check_stat("/owned"))
            .await
            .expect("exists")
            .expect("the ephemeral outlived the failover");
        assert_eq!(owned.ephemeral_owner, id.0);
    });
}

#[test]
fn follower_behind_a_purged_log_catches_up_by_snapshot() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(
        3,
        0,
        "snapCount=50\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=1",
    );
    let leader = ensemble.wait_settled();
    let lagging = (leader + 1) % 3;
    ensemble.kill9(lagging);
    runtime().block_on(async {
        let hosts = ensemble.hosts_except(&[lagging]);
        let client = connect(&hosts).await;
        create_retrying(&client, "/bulk").await;
        for n in 0..400 {
            create_retrying(&client, &format!("/bulk/n{n}")).await;
        }
        ensemble.restart(lagging);
        ensemble.wait_settled();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ensemble
            .log(lagging)
            .contains("Getting a snapshot from the leader")
        {
            assert!(
                Instant::now() < deadline,
                "the follower was not sent a snapshot: {}",
                ensemble.log(lagging)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let nodes = assert_same_trees(&ensemble).await;
        assert!(nodes >= 405, "{nodes} nodes");
    });
}

#[test]
fn read_only_mode_serves_reads_without_a_quorum() {
    let _turn = serial();
    let mut ensemble = Ensemble::start(3, 0, "readonlymode.enabled=true");
    let leader = ensemble.wait_settled();
    let survivor = (leader + 1) % 3;
    runtime().block_on(async {
        let client = connect(&ensemble.connect_string()).await;
        create_retrying(&client, "/kept").await;
        let _ = dump(&ensemble.addr(survivor)).await;
        for i in (0..3).filter(|i| *i != survivor) {
            ensemble.kill9(i);
        }
        let port = ensemble.members[survivor].server.port;
        let deadline = Instant::now() + Duration::from_secs(30);
        while mode(port).as_deref() != Some("read-only") {
            assert!(Instant::now() < deadline, "no read-only mode");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(four(port, "isro").as_deref(), Some("ro"));
        let srvr = four(port, "srvr").unwrap_or_default();
        assert!(
            srvr.contains("\nREAD-ONLY mode; serving only read-only clients\n"),
            "{srvr}"
        );
        let ro = within(
            "read-only connect",
            Client::connector()
                .with_readonly(true)
                .with_session_timeout(Duration::from_secs(6))
                .connect(&ensemble.addr(survivor)),
        )
        .await
        .expect("a read-only client gets in");
        assert!(ro.session().is_readonly());
        let (data, _) = within("read", ro.get_data("/kept"))
            .await
            .expect("reads work in read-only mode");
        assert_eq!(data, b"v");
        let write = within("write", ro.create("/refused", b"", &persistent())).await;
        assert!(
            matches!(write, Err(Error::NotReadOnly)),
            "a write in read-only mode gave {write:?}"
        );
        drop(ro);

        // The peers return: full service again.
        for i in (0..3).filter(|i| *i != survivor) {
            ensemble.restart(i);
        }
        ensemble.wait_settled();
        assert_eq!(four(port, "isro").as_deref(), Some("rw"));
        let client = connect(&ensemble.addr(survivor)).await;
        create_retrying(&client, "/writable-again").await;
    });
}
