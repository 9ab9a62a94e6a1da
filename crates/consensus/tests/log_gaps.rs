//! Regressions found by the fault campaign (`corral-campaign`) in the disk log store.

use corral_consensus::log_store::DiskLogStore;
use corral_consensus::RaftTypeConfig;
use openraft::storage::{RaftLogReader, RaftLogStorage, RaftLogStorageExt};
use openraft::testing::{blank_ent, log_id};

type C = RaftTypeConfig;

fn open(dir: &std::path::Path) -> DiskLogStore {
    match DiskLogStore::open(dir, 0, 0, None) {
        Ok(opened) => opened.store,
        Err(e) => panic!("cannot open the log: {e}"),
    }
}

/// Campaign seed 11 (crates/corral/tests/campaign.rs): a follower that had fallen
/// behind got a snapshot from the leader past the end of its own log, appended new
/// entries after it, and was killed. On restart openraft read the entries between the
/// stale purge point on disk and the snapshot, which this log never had, and the
/// server refused to start ("Read LogIndex(6212): log entry not found").
#[tokio::test]
async fn campaign_seed_11_a_purge_past_the_end_of_the_log_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("corral-log-gap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut log = open(&dir);
        let before: Vec<_> = (1..=10).map(|i| blank_ent::<C>(1, 1, i)).collect();
        log.blocking_append(before).await.expect("append 1..=10");
        // What openraft does after installing a snapshot that ends at 20.
        log.purge(log_id::<C>(2, 2, 20)).await.expect("purge to 20");
        let after: Vec<_> = (21..=25).map(|i| blank_ent::<C>(2, 2, i)).collect();
        log.blocking_append(after).await.expect("append 21..=25");
        // Dropped without any further call: kill -9.
    }
    let mut log = open(&dir);
    let state = log.get_log_state().await.expect("log state");
    assert_eq!(state.last_purged_log_id, Some(log_id::<C>(2, 2, 20)));
    assert_eq!(state.last_log_id, Some(log_id::<C>(2, 2, 25)));
    // What openraft reads at start: everything after the purge point.
    let entries = log
        .try_get_log_entries(21..=25)
        .await
        .expect("every entry after the purge point is readable");
    assert_eq!(entries.len(), 5);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Set, to a directory, in the child process the next test runs itself in.
const CHILD: &str = "CORRAL_LOG_GAPS_CHILD";

/// openraft never appends an entry that does not follow the last one; if it did, the
/// log would get a hole or a repeat. The store stops the process instead of writing.
#[tokio::test]
async fn an_entry_appended_out_of_line_stops_the_process() {
    if let Some(dir) = std::env::var_os(CHILD) {
        let mut log = open(std::path::Path::new(&dir));
        let first: Vec<_> = (0..=3).map(|i| blank_ent::<C>(1, 1, i)).collect();
        log.blocking_append(first).await.expect("append 0..=3");
        let skipping = vec![blank_ent::<C>(1, 1, 5)];
        let _ = log.blocking_append(skipping).await;
        println!("APPENDED OUT OF LINE");
        return;
    }
    let dir = std::env::temp_dir().join(format!("corral-log-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([
            "an_entry_appended_out_of_line_stops_the_process",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, &dir)
        .output()
        .expect("run the test binary again");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("APPENDED OUT OF LINE"),
        "entry 5 was appended after 3:\n{stdout}"
    );
    assert!(!out.status.success(), "the process ended well: {stderr}");
    assert!(
        stderr.contains("log entries must be contiguous"),
        "the process did not say why it stopped:\n{stderr}"
    );
}
