//! The operations surface against real server processes: Prometheus /metrics (checked
//! by promtool, and moving with traffic), the AdminServer's JSON commands, the
//! readiness probe, JSON logs and log files, and the election lines operators grep
//! for in a 3-node run, and mntr's proposal, ack and commit metrics in one.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::ensemble::Ensemble;
use support::{four, free_port, within, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode};

/// A plain HTTP/1.0 GET: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http_get(port, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {body}"))
}

/// The value of one sample line, e.g. `corral_requests_total{op="create"}`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn promtool(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/install-test-deps installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn with_http(extra: &str) -> (ServerProcess, u16, u16) {
    let (admin, metrics) = (free_port(), free_port());
    let server = ServerProcess::start(&format!(
        "admin.enableServer=true\nadmin.serverPort={admin}\nmetricsProvider.httpPort={metrics}\n{extra}"
    ));
    (server, admin, metrics)
}

/// Creates `prefix0` .. `prefix{n-1}`.
async fn create_nodes(client: &Client, prefix: &str, n: usize) {
    for k in 0..n {
        let path = format!("{prefix}{k}");
        let made = client.create(
            &path,
            b"x",
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        );
        within("create", made).await.expect("create");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_and_move_with_traffic() {
    let (server, _, metrics) = with_http("");
    let before = http_get(metrics, "/metrics").1;
    let client = within("connect", Client::connect(&server.addr()))
        .await
        .expect("connect");
    create_nodes(&client, "/m", 5).await;
    within("get", client.get_data("/m0")).await.expect("get");
    let after = http_get(metrics, "/metrics").1;
    promtool(&after);
    // The Rust client sends create2.
    let created = r#"corral_requests_total{op="create2"}"#;
    assert!(
        sample(&after, created) >= sample(&before, created) + 5.0,
        "create counter did not move:\n{after}"
    );
    let latency = r#"corral_request_duration_seconds_count{op="create2"}"#;
    assert!(
        sample(&after, latency) >= 5.0,
        "no create latencies:\n{after}"
    );
    let inf = r#"corral_request_duration_seconds_bucket{op="getData",le="+Inf"}"#;
    assert!(sample(&after, inf) >= 1.0, "no getData histogram:\n{after}");
    assert!(sample(&after, "corral_znodes") >= 9.0, "{after}");
    assert!(
        sample(&after, "fsynctime_count") >= 5.0,
        "no fsync times:\n{after}"
    );
    assert_eq!(
        sample(&after, r#"corral_server_role{role="standalone"}"#),
        1.0
    );
}

#[test]
fn admin_server_answers_json_commands_and_readiness() {
    let (_server, admin, _) = with_http("");
    let (status, list) = http_get(admin, "/commands");
    assert_eq!(status, 200);
    for name in [
        "monitor",
        "server_stats",
        "ruok",
        "voting_view",
        "last_snapshot",
    ] {
        assert!(list.contains(&format!("/commands/{name}")), "{list}");
    }
    let monitor = json(admin, "/commands/mntr");
    assert_eq!(monitor["command"], "monitor");
    assert!(monitor["error"].is_null());
    assert!(
        monitor["znode_count"].as_u64().is_some_and(|n| n >= 4),
        "{monitor}"
    );
    assert_eq!(monitor["server_state"], "standalone");
    let srvr = json(admin, "/commands/server_stats");
    assert!(srvr["server_stats"]["packets_received"].is_u64(), "{srvr}");
    assert_eq!(json(admin, "/commands/is_read_only")["read_only"], false);
    let unknown = json(admin, "/commands/nosuch");
    assert_eq!(unknown["error"], "Unknown command: nosuch");
    assert_eq!(http_get(admin, "/ready").0, 200);
}

/// The AdminServer's stat_reset used to reset only srvr's counts and leave mntr's
/// ServerMetrics as they were, while ZooKeeper's (like its srst word) resets both.
/// Pings move neither of the two values checked: only writes do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_stat_reset_resets_mntr_as_srst_does() {
    let (server, admin, _) = with_http("");
    let client = within("connect", Client::connect(&server.addr()))
        .await
        .expect("connect");
    create_nodes(&client, "/reset", 2).await;
    let writes = |monitor: &serde_json::Value| {
        (
            monitor["cnt_updatelatency"].as_u64(),
            monitor["cnt_reset1_write_per_namespace"].as_u64(),
        )
    };
    let before = writes(&json(admin, "/commands/monitor"));
    assert!(before.0 >= Some(2) && before.1 == Some(1), "{before:?}");
    let reset = json(admin, "/commands/stat_reset");
    assert!(reset["error"].is_null(), "{reset}");
    let after = writes(&json(admin, "/commands/monitor"));
    assert_eq!(after, (Some(0), Some(0)), "mntr after stat_reset");
}

#[test]
fn words_outside_the_whitelist_are_refused_as_zookeeper_does() {
    let server = ServerProcess::start("4lw.commands.whitelist=srvr, ruok");
    assert_eq!(four(server.port, "ruok").as_deref(), Some("imok"));
    for word in ["mntr", "lgif", "csnp", "rqld", "ydld", "wchc"] {
        assert_eq!(
            four(server.port, word).unwrap_or_default(),
            format!("{word} is not executed because it is not in the whitelist.\n")
        );
    }
}

#[test]
fn json_logs_and_a_log_directory() {
    let logs = std::env::temp_dir().join(format!("corral-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logs);
    let server = ServerProcess::start(&format!(
        "corral.logFormat=json\ncorral.logDir={}",
        logs.display()
    ));
    let stderr = server.log();
    let first = stderr.lines().next().expect("a log line");
    let line: serde_json::Value = serde_json::from_str(first).expect("JSON log line");
    for key in ["time", "myid", "level", "component", "message"] {
        assert!(line.get(key).is_some(), "{key} missing from {first}");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let files: Vec<_> = std::fs::read_dir(&logs)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        let text: String = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect();
        if text.contains("\"binding to port") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no log file in {}: {files:?}",
            logs.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&logs);
}

#[test]
fn a_three_node_run_logs_what_operators_grep_for() {
    let admin: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut ensemble = Ensemble::configure_each(3, 0, |i| {
        format!("admin.enableServer=true\nadmin.serverPort={}", admin[i])
    });
    for i in 0..3 {
        ensemble.restart(i);
    }
    let leader = ensemble.wait_settled();
    let election = regex_like_election_line(&ensemble.log(leader), "LEADING");
    assert!(election, "leader's log:\n{}", ensemble.log(leader));
    for i in (0..3).filter(|i| *i != leader) {
        assert!(
            regex_like_election_line(&ensemble.log(i), "FOLLOWING"),
            "follower's log:\n{}",
            ensemble.log(i)
        );
        assert!(ensemble.log(i).contains("- INFO  [roles] - LOOKING"));
        assert_eq!(http_get(admin[i], "/ready").0, 200);
    }
    // ClickHouse Keeper's words: log info, snapshot now, leadership on request.
    let port = |i: usize| ensemble.members[i].server.port;
    let lgif = four(port(leader), "lgif").unwrap_or_default();
    for key in [
        "first_log_idx",
        "last_log_idx",
        "last_committed_log_idx",
        "last_snapshot_idx",
    ] {
        assert!(lgif.contains(&format!("{key}\t")), "lgif: {lgif}");
    }
    let csnp = four(port(leader), "csnp").unwrap_or_default();
    assert!(csnp.starts_with("Snapshot creation scheduled"), "{csnp}");
    // An operator repeats rqld/ydld until leadership moves: the request is dropped
    // while the asker has no link to the leader yet, or a transfer is under way.
    let asker = (leader + 1) % 3;
    let deadline = Instant::now() + Duration::from_secs(30);
    while ensemble.wait_settled() != asker {
        let rqld = four(port(asker), "rqld").unwrap_or_default();
        assert!(rqld.ends_with("leadership request to leader."), "{rqld}");
        assert!(
            Instant::now() < deadline,
            "rqld did not move leadership: {rqld}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut ydld = String::new();
    while ensemble.wait_settled() == asker {
        ydld = four(port(asker), "ydld").unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "ydld did not move leadership: {ydld}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(ydld, "Sent yield leadership request to leader.");
    let leader = ensemble.wait_settled();

    let view = json(admin[leader], "/commands/voting_view");
    assert_eq!(view["current_config"].as_object().map(|m| m.len()), Some(3));
    assert_eq!(json(admin[leader], "/commands/leader")["is_leader"], true);

    // Two followers gone: the leader says GOODBYE, stops serving, and is not ready.
    for i in (0..3).filter(|i| *i != leader) {
        ensemble.kill9(i);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ensemble.log(leader).contains("******* GOODBYE sid: ")
        || http_get(admin[leader], "/ready").0 != 503
    {
        assert!(
            Instant::now() < deadline,
            "no GOODBYE or still ready:\n{}",
            ensemble.log(leader)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True if `log` has ZooKeeper's `<STATE> - LEADER ELECTION TOOK - <n> MS` line.
fn regex_like_election_line(log: &str, state: &str) -> bool {
    let prefix = format!("{state} - LEADER ELECTION TOOK - ");
    log.lines().any(|l| {
        l.split_once(&prefix).is_some_and(|(_, rest)| {
            let mut words = rest.split_whitespace();
            words.next().is_some_and(|n| n.parse::<u64>().is_ok()) && words.next() == Some("MS")
        })
    })
}

/// mntr's value for `key` (0 if absent or not a number).
fn mntr_value(port: u16, key: &str) -> f64 {
    let text = four(port, "mntr").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t'))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mntr_measures_proposals_acks_and_commits() {
    let ensemble = Ensemble::start(3, 0, "");
    let leader = ensemble.wait_settled();
    let follower = (leader + 1) % 3;
    let port = |i: usize| ensemble.members[i].server.port;
    // Writes from the leader's own clients and from a follower's, which forwards.
    for (i, at) in [leader, follower].into_iter().enumerate() {
        let client = within("connect", Client::connect(&ensemble.addr(at)))
            .await
            .expect("connect");
        create_nodes(&client, &format!("/mntr{i}-"), 5).await;
    }
    // The followers learn the last commits with the leader's next AppendEntries,
    // and apply them after.
    let deadline = Instant::now() + Duration::from_secs(10);
    let other = (leader + 2) % 3;
    for i in [follower, other] {
        while mntr_value(port(i), "zk_learner_commit_received_count") < 10.0
            || mntr_value(port(i), "zk_cnt_propagation_latency") < 12.0
        {
            assert!(
                Instant::now() < deadline,
                "commits did not reach server {i}:\n{}",
                four(port(i), "mntr").unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let at_least = |i: usize, key: &str, n: f64| {
        let v = mntr_value(port(i), key);
        assert!(v >= n, "server {i}: {key} is {v}, expected at least {n}");
    };
    // The leader proposes and commits every write (and the sessions' creation).
    at_least(leader, "zk_proposal_count", 12.0);
    at_least(leader, "zk_commit_count", 12.0);
    at_least(leader, "zk_cnt_quorum_ack_latency", 12.0);
    at_least(leader, "zk_cnt_proposal_process_time", 12.0);
    at_least(leader, "zk_cnt_local_write_committed_time_ms", 5.0);
    at_least(leader, "zk_cnt_server_write_committed_time_ms", 5.0);
    at_least(leader, "zk_cnt_propagation_latency", 12.0);
    at_least(leader, "zk_cnt_unavailable_time", 1.0);
    at_least(leader, "zk_cnt_leader_unavailable_time", 1.0);
    assert_eq!(
        mntr_value(port(leader), "zk_learner_proposal_received_count"),
        0.0
    );
    for i in [follower, other] {
        at_least(i, "zk_learner_proposal_received_count", 12.0);
        at_least(i, "zk_learner_commit_received_count", 10.0);
        at_least(i, "zk_cnt_proposal_latency", 12.0);
        at_least(i, "zk_cnt_proposal_ack_creation_latency", 12.0);
        at_least(i, "zk_cnt_commit_propagation_latency", 10.0);
        at_least(i, "zk_cnt_unavailable_time", 1.0);
        assert_eq!(mntr_value(port(i), "zk_proposal_count"), 0.0);
    }
    at_least(follower, "zk_cnt_local_write_committed_time_ms", 5.0);
    // srst zeroes them, as ZooKeeper's resetAll does.
    assert!(four(port(leader), "srst").is_some());
    assert_eq!(mntr_value(port(leader), "zk_proposal_count"), 0.0);
    assert_eq!(mntr_value(port(leader), "zk_cnt_quorum_ack_latency"), 0.0);
}
