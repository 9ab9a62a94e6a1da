//! Durability against a real server process: kill -9 at random moments, torn and
//! corrupt files, sessions across a restart, and autopurge.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::{within, Proxy, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode};

fn persistent() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// A small deterministic generator, so a failing run can be repeated by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What the writer knows: the last acknowledged (data, version) of each node, and the
/// one operation that may have been in flight when the server died.
#[derive(Default)]
struct Ledger {
    acked: BTreeMap<String, (Vec<u8>, i32)>,
    in_flight: Option<(String, Vec<u8>, i32)>,
}

async fn write_until_error(
    client: &Client,
    ledger: &mut Ledger,
    rng: &mut Rng,
    next_id: &mut u64,
    budget: Duration,
) {
    let deadline = Instant::now() + budget;
    while Instant::now() < deadline {
        let update = !ledger.acked.is_empty() && rng.below(2) == 0;
        if update {
            let n = rng.below(ledger.acked.len() as u64) as usize;
            let Some((path, (_, version))) = ledger
                .acked
                .iter()
                .nth(n)
                .map(|(p, v)| (p.clone(), v.clone()))
            else {
                continue;
            };
            let data = format!("{path}@{}", version + 1).into_bytes();
            ledger.in_flight = Some((path.clone(), data.clone(), version + 1));
            match client.set_data(&path, &data, Some(version)).await {
                Ok(stat) => {
                    assert_eq!(stat.version, version + 1);
                    ledger.acked.insert(path, (data, stat.version));
                    ledger.in_flight = None;
                }
                Err(_) => return,
            }
        } else {
            *next_id += 1;
            let path = format!("/crash/n{next_id}");
            let data = format!("{path}@0").into_bytes();
            ledger.in_flight = Some((path.clone(), data.clone(), 0));
            match client.create(&path, &data, &persistent()).await {
                Ok(_) => {
                    ledger.acked.insert(path, (data, 0));
                    ledger.in_flight = None;
                }
                Err(_) => return,
            }
        }
    }
}

async fn verify(client: &Client, ledger: &mut Ledger) -> usize {
    let mut lost = 0;
    for (path, (data, version)) in ledger.acked.iter_mut() {
        let found = client.get_data(path).await;
        let pending = ledger.in_flight.as_ref().filter(|(p, _, _)| p == path);
        match found {
            Ok((d, stat)) if d == *data && stat.version == *version => {}
            Ok((d, stat)) if pending.is_some_and(|(_, pd, pv)| *pd == d && *pv == stat.version) => {
                // The unacknowledged write made it; that is allowed.
                *data = d;
                *version = stat.version;
            }
            other => {
                eprintln!(
                    "LOST {path}: acked {:?} v{version}, found {:?}",
                    String::from_utf8_lossy(data),
                    other.map(|(d, s)| (String::from_utf8_lossy(&d).to_string(), s.version))
                );
                lost += 1;
            }
        }
    }
    // A create that was in flight and made it is now a node to keep checking.
    if let Some((path, data, _)) = ledger.in_flight.take() {
        if let std::collections::btree_map::Entry::Vacant(slot) = ledger.acked.entry(path) {
            if let Ok((d, s)) = client.get_data(slot.key()).await {
                if d == data {
                    slot.insert((d, s.version));
                }
            }
        }
    }
    lost
}

/// kill -9 at random moments while a writer runs; every acknowledged write must be
/// there afterwards. CORRAL_CRASH_CYCLES sets the number of cycles (CI: 20).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_across_kill_9() {
    let cycles: u32 = std::env::var("CORRAL_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CORRAL_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_c0ff_ee11);
    eprintln!("crash test: {cycles} cycles, seed {seed}");
    let mut server = ServerProcess::start("snapCount=200\ncorral.logSegmentBytes=65536");
    let mut rng = Rng(seed | 1);
    let mut ledger = Ledger::default();
    let mut next_id = 0u64;
    {
        let client = Client::connect(&server.addr()).await.expect("connect");
        client
            .create("/crash", b"", &persistent())
            .await
            .expect("root");
    }
    let mut lost_total = 0;
    for cycle in 0..cycles {
        let client = within("connect", Client::connect(&server.addr()))
            .await
            .expect("connect");
        let lost = verify(&client, &mut ledger).await;
        assert_eq!(
            lost, 0,
            "cycle {cycle}: {lost} acknowledged writes lost (seed {seed})"
        );
        lost_total += lost;
        let budget = Duration::from_millis(20 + rng.below(300));
        let killer = {
            let pause = Duration::from_millis(rng.below(budget.as_millis() as u64));
            tokio::spawn(async move { tokio::time::sleep(pause).await })
        };
        let writer = write_until_error(&client, &mut ledger, &mut rng, &mut next_id, budget);
        tokio::pin!(writer);
        let finished = tokio::select! {
            _ = &mut writer => true,
            _ = killer => false,
        };
        server.kill9();
        if !finished {
            // Let the writer see the failure; what it had in flight stays unacknowledged.
            let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
        }

        server.restart();
    }
    let client = Client::connect(&server.addr()).await.expect("connect");
    let lost = verify(&client, &mut ledger).await;
    eprintln!(
        "crash test: {cycles} cycles, {} acknowledged nodes checked, {} lost",
        ledger.acked.len(),
        lost_total + lost
    );
    assert_eq!(
        lost, 0,
        "acknowledged writes lost after the last restart (seed {seed})"
    );
    assert!(
        ledger.acked.len() > cycles as usize,
        "the writer made too little progress to prove anything"
    );
}

async fn fill(server: &ServerProcess, prefix: &str, count: usize) {
    let client = Client::connect(&server.addr()).await.expect("connect");
    let _ = client.create(prefix, b"", &persistent()).await;
    for i in 0..count {
        let path = format!("{prefix}/n{i:05}");
        client
            .create(&path, path.as_bytes(), &persistent())
            .await
            .expect("create");
    }
}

async fn count_children(server: &ServerProcess, path: &str) -> usize {
    let client = Client::connect(&server.addr()).await.expect("connect");
    client
        .list_children(path)
        .await
        .map(|c| c.len())
        .unwrap_or(0)
}

fn files(dir: &std::path::Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn torn_tail_is_cut_with_a_warning() {
    let mut server = ServerProcess::start("snapCount=100000");
    fill(&server, "/t", 50).await;
    server.kill9();
    let segment = files(&server.data().join("log"), ".wal")
        .pop()
        .expect("a log segment");
    // The last record's final bytes never reached the disk: the segment's zero fill
    // shows where they belong.
    let end = corral_storage::wal::records_end(&segment).expect("scan the segment");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .and_then(|f| std::os::unix::fs::FileExt::write_all_at(&f, &[0; 5], end - 5))
        .expect("tear the last record");
    server.restart();
    let log = server.log();
    assert!(
        log.contains("torn record at offset"),
        "no warning about the torn record:\n{log}"
    );
    assert!(
        log.contains(&segment.display().to_string()),
        "the warning does not name the file:\n{log}"
    );
    let n = count_children(&server, "/t").await;
    assert!(
        (49..=50).contains(&n),
        "{n} children survived a cut of the last record"
    );
}

#[tokio::test]
async fn flipped_byte_in_a_sealed_segment_refuses_to_start() {
    let mut server = ServerProcess::start("snapCount=100000\ncorral.logSegmentBytes=4096");
    fill(&server, "/f", 200).await;
    server.kill9();
    let segments = files(&server.data().join("log"), ".wal");
    assert!(
        segments.len() >= 3,
        "expected several segments, got {segments:?}"
    );
    let sealed = &segments[1];
    let mut bytes = std::fs::read(sealed).expect("read segment");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x5a;
    std::fs::write(sealed, &bytes).expect("write segment");
    server.spawn();
    let status = server
        .wait_exit()
        .expect("the server kept running on a corrupt log");
    assert!(!status.success());
    let log = server.log();
    assert!(
        log.contains(&sealed.display().to_string()),
        "the error does not name the file:\n{log}"
    );
    assert!(
        log.contains("at offset"),
        "the error does not give the offset:\n{log}"
    );
}

#[tokio::test]
async fn corrupt_newest_snapshot_falls_back_to_the_previous_one_and_the_log() {
    let mut server = ServerProcess::start("snapCount=40\nautopurge.purgeInterval=1");
    fill(&server, "/s", 150).await;
    server.kill9();
    let snaps = files(&server.data().join("snapshots"), ".snap");
    assert!(
        snaps.len() >= 2,
        "expected at least two snapshots, got {snaps:?}"
    );
    let newest = snaps.last().expect("newest");
    let mut bytes = std::fs::read(newest).expect("read snapshot");
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(newest, &bytes).expect("write snapshot");
    server.restart();
    let log = server.log();
    assert!(
        log.contains("Corrupt snapshot") && log.contains(&newest.display().to_string()),
        "{log}"
    );
    assert!(
        log.contains("older snapshot"),
        "recovery did not say it used an older snapshot:\n{log}"
    );
    assert_eq!(count_children(&server, "/s").await, 150);
}

#[tokio::test]
async fn session_and_ephemeral_survive_a_restart_within_the_timeout() {
    let mut server = ServerProcess::start("maxSessionTimeout=30000");
    let proxy = Proxy::start(server.port).await;
    let keeper = Client::connector()
        .with_session_timeout(Duration::from_secs(20))
        .connect(&server.addr())
        .await
        .expect("connect");
    let leaver = Client::connector()
        .with_session_timeout(Duration::from_millis(1500))
        .connect(&proxy.addr())
        .await
        .expect("connect via proxy");
    let id = keeper.session_id();
    keeper
        .create(
            "/kept",
            b"",
            &CreateMode::Ephemeral.with_acls(Acls::anyone_all()),
        )
        .await
        .expect("ephemeral");
    leaver
        .create(
            "/gone",
            b"",
            &CreateMode::Ephemeral.with_acls(Acls::anyone_all()),
        )
        .await
        .expect("ephemeral");
    // The leaver will not come back after the restart.
    proxy.refuse(true);
    proxy.cut();

    server.kill9();
    server.restart();

    let stat = within("exists after restart", async {
        loop {
            match keeper.check_stat("/kept").await {
                Ok(stat) => break stat,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert_eq!(keeper.session_id(), id, "the client got a new session");
    assert_eq!(
        stat.map(|s| s.ephemeral_owner),
        Some(id.0),
        "the ephemeral did not survive the restart"
    );
    within("the absent session to expire", async {
        while keeper.check_stat("/gone").await.ok().flatten().is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(matches!(keeper.check_stat("/kept").await, Ok(Some(_))));
}

#[tokio::test]
async fn autopurge_keeps_three_snapshots_and_recovery_still_works() {
    let mut server = ServerProcess::start(
        "snapCount=25\nautopurge.purgeInterval=1\nautopurge.snapRetainCount=3\ncorral.logSegmentBytes=2048",
    );
    fill(&server, "/p", 300).await;
    let snaps_dir = server.data().join("snapshots");
    let log_dir = server.data().join("log");
    // A snapshot may be between being written and the purges that follow it (old
    // snapshots first, then the log behind them): wait for both to settle.
    let settled = Instant::now() + Duration::from_secs(20);
    let (snaps, oldest, firsts) = loop {
        let snaps = files(&snaps_dir, ".snap");
        let oldest = snaps.first().and_then(|p| {
            p.file_name()?
                .to_str()?
                .trim_start_matches("snapshot-")
                .trim_end_matches(".snap")
                .parse::<u64>()
                .ok()
        });
        let firsts: Vec<u64> = files(&log_dir, ".wal")
            .iter()
            .filter_map(|p| {
                p.file_name()?
                    .to_str()?
                    .trim_start_matches("log-")
                    .trim_end_matches(".wal")
                    .parse()
                    .ok()
            })
            .collect();
        // Only the log behind the oldest kept snapshot remains.
        let purged = oldest.is_some_and(|o| firsts.len() >= 2 && firsts[1] > o);
        if (snaps.len() == 3 && purged) || Instant::now() > settled {
            break (snaps, oldest, firsts);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(snaps.len(), 3, "autopurge kept {snaps:?}");
    let oldest = oldest.expect("snapshot index");
    assert!(
        firsts.len() >= 2 && firsts[1] > oldest,
        "segments {firsts:?} kept beyond snapshot {oldest}"
    );
    server.kill9();
    server.restart();
    assert_eq!(count_children(&server, "/p").await, 300);
}

fn corral_json(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(args)
        .output()
        .expect("run corral");
    assert!(
        out.status.success(),
        "corral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[tokio::test]
async fn inspection_tools_read_what_the_server_wrote() {
    let mut server = ServerProcess::start("snapCount=30");
    fill(&server, "/i", 40).await;
    server.kill9();
    let snap = files(&server.data().join("snapshots"), ".snap")
        .pop()
        .expect("a snapshot");
    let report = corral_json(&[
        "snapshot",
        "inspect",
        "--dump",
        "--json",
        &snap.display().to_string(),
    ]);
    let nodes = report["nodes"].as_array().map(|a| a.len()).unwrap_or(0);
    assert_eq!(report["node_count"].as_u64(), Some(nodes as u64));
    assert!(nodes > 20, "{report}");
    let snap_zxid = report["last_zxid"].as_u64().unwrap_or(0);

    let log_dir = server.data().join("log");
    let dump = corral_json(&["log", "dump", "--json", &log_dir.display().to_string()]);
    let records = dump["records"].as_array().cloned().unwrap_or_default();
    let creates = records
        .iter()
        .filter(|r| {
            r["op"] == "create" && r["detail"].as_str().is_some_and(|d| d.starts_with("/i/n"))
        })
        .count();
    assert_eq!(creates, 40, "the log dump does not show every create");
    let zxids: Vec<u64> = records.iter().filter_map(|r| r["zxid"].as_u64()).collect();
    assert!(
        zxids.windows(2).all(|w| w[0] < w[1]),
        "transactions out of order"
    );
    assert!(
        snap_zxid > 0 && zxids.contains(&snap_zxid),
        "snapshot zxid {snap_zxid} is not in the log"
    );
}

/// A full disk: writes are refused with a loud error, nothing acknowledged is lost,
/// and a connected session can still read. Needs root to mount a small tmpfs.
#[tokio::test]
async fn full_disk_refuses_writes_and_keeps_serving_reads() {
    let mut server = ServerProcess::configure("snapCount=100000");
    let data = server.data();
    std::fs::create_dir_all(&data).expect("data dir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&data)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(data.clone());
    server.restart();

    let reader = Client::connect(&server.addr()).await.expect("reader");
    let writer = Client::connect(&server.addr()).await.expect("writer");
    writer
        .create("/full", b"", &persistent())
        .await
        .expect("parent");
    let value = vec![7u8; 20_000];
    let mut acked = Vec::new();
    let mut refused = false;
    for i in 0..1000 {
        let path = format!("/full/n{i}");
        match tokio::time::timeout(
            Duration::from_secs(10),
            writer.create(&path, &value, &persistent()),
        )
        .await
        {
            Ok(Ok(_)) => acked.push(path),
            _ => {
                refused = true;
                break;
            }
        }
    }
    assert!(
        refused,
        "4 MiB took {} writes of 20 kB without complaint",
        acked.len()
    );
    assert!(!acked.is_empty());
    let log = server.log();
    assert!(
        log.contains("ERROR") && (log.contains("transaction log") || log.contains("fsync")),
        "no loud error about the log:\n{log}"
    );
    // The server is still up and the connected session still reads every acked write.
    assert_eq!(support::four(server.port, "ruok").as_deref(), Some("imok"));
    for path in &acked {
        let (data, _) = within("read after disk full", reader.get_data(path))
            .await
            .expect("read");
        assert_eq!(data.len(), value.len(), "{path}");
    }
}

fn number_after(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key:?} in:\n{text}"))
}

#[tokio::test]
async fn four_letter_words_report_what_is_on_disk_and_on_the_wire() {
    let server = ServerProcess::start("snapCount=20");
    let dirs = |w| support::four(server.port, w).unwrap_or_default();
    let log_before = number_after(&dirs("dirs"), "logdir_size:");
    fill(&server, "/w", 60).await;
    let after = dirs("dirs");
    assert!(number_after(&after, "logdir_size:") > log_before, "{after}");
    assert!(
        number_after(&after, "datadir_size:") > 0,
        "no snapshot bytes counted:\n{after}"
    );
    let conf = dirs("conf");
    assert!(number_after(&conf, "dataLogSize=") > 0, "{conf}");

    let client = Client::connect(&server.addr()).await.expect("connect");
    for i in 0..5 {
        client
            .check_stat(&format!("/w/n{i:05}"))
            .await
            .expect("exists");
    }
    let sid = format!("sid=0x{:x}", client.session_id().0);
    let cons = dirs("cons");
    let line = cons
        .lines()
        .find(|l| l.contains(&sid))
        .unwrap_or_else(|| panic!("{sid} not in:\n{cons}"));
    let recved: u64 = line
        .split("recved=")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(recved >= 5, "cons counts {recved} packets received: {line}");
    assert_eq!(
        number_after(&dirs("srvr"), "Outstanding:"),
        0,
        "requests left outstanding at rest"
    );
}
