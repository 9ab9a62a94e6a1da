//! The fault campaign in CI: a short run that meets every kind of fault and every
//! checker and must find nothing, and a run against servers with a deliberate bug
//! (`corral.testFault=stale-sync`) that must be caught. The long campaign is
//! `corral-campaign sweep` (docs/reliability.md).

use std::path::PathBuf;
use std::time::Duration;

use corral_campaign::nemesis::{FaultKind, Schedule};
use corral_campaign::run::{render, run, RunSpec};

fn spec(
    name: &str,
    seed: u64,
    seconds: u64,
    kinds: &[FaultKind],
    test_fault: Option<&str>,
) -> RunSpec {
    RunSpec {
        seed,
        nodes: 3,
        duration: Duration::from_secs(seconds),
        schedule: Schedule {
            kinds: kinds.to_vec(),
            hold: (Duration::from_millis(1000), Duration::from_millis(2500)),
            calm: (Duration::from_millis(300), Duration::from_millis(1000)),
        },
        corral: PathBuf::from(env!("CARGO_BIN_EXE_corral")),
        dir: std::env::temp_dir().join(format!("corral-campaign-{name}-{}", std::process::id())),
        test_fault: test_fault.map(str::to_string),
        register_keys: 4,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_campaign_meets_every_fault_and_finds_no_violation() {
    let spec = spec("clean", 11, 45, &FaultKind::ALL, None);
    let report = run(&spec).await.expect("the campaign ran");
    let text = render(&report);
    println!("{text}");
    assert!(report.violations.is_empty(), "violations:\n{text}");
    for kind in FaultKind::ALL {
        assert!(
            report.faults.contains_key(&kind),
            "{kind:?} never injected:\n{text}"
        );
    }
    let s = &report.stats;
    assert!(s.register_ops > 200, "too few register operations:\n{text}");
    assert!(s.enqueues_acked > 20, "too few enqueues:\n{text}");
    assert!(s.sessions > 3, "too few sessions:\n{text}");
    assert!(s.sync_reads > 50, "too few sync-then-reads:\n{text}");
    let _ = std::fs::remove_dir_all(&spec.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_sync_is_caught() {
    let kinds = [
        FaultKind::SplitMinority,
        FaultKind::IsolateLeader,
        FaultKind::OneWay,
    ];
    let spec = spec("stale", 5, 25, &kinds, Some("stale-sync"));
    let report = run(&spec).await.expect("the campaign ran");
    let text = render(&report);
    println!("{text}");
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.checker == "sync_reads" || v.checker == "linearizable"),
        "the stale-sync bug went unnoticed:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&spec.dir);
}
