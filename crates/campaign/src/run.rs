//! One campaign run: start the ensemble, create the znodes the workloads use, run the
//! workers and the nemesis side by side, heal, read what must have survived, check the
//! history, and write the report next to the servers' logs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use zookeeper_client::{Acls, CreateMode};

use crate::check::{self, Violation};
use crate::cluster::{Cluster, ClusterError, ClusterSpec};
use crate::history::History;
use crate::nemesis::{FaultEvent, FaultKind, Nemesis, Schedule};
use crate::workload::{self, Clock, Ctx};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("setting up the znodes: {0}")]
    Setup(String),
    #[error("writing the report in {0}: {1}")]
    Report(PathBuf, std::io::Error),
}

#[derive(Debug, Clone)]
pub struct RunSpec {
    pub seed: u64,
    pub nodes: usize,
    /// How long the workloads and the nemesis run.
    pub duration: Duration,
    pub schedule: Schedule,
    pub corral: PathBuf,
    /// The run's directory: servers' data and logs, history and report.
    pub dir: PathBuf,
    /// `corral.testFault` for every server, to show the checkers catch it.
    pub test_fault: Option<String>,
    pub register_keys: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub seed: u64,
    pub nodes: usize,
    pub seconds: f64,
    pub faults: BTreeMap<FaultKind, usize>,
    pub fault_events: Vec<FaultEvent>,
    pub operations: usize,
    pub unknown: usize,
    pub stats: check::Stats,
    pub violations: Vec<Violation>,
}

/// Runs one seed. Violations are results, not errors: `Err` means the run itself
/// could not be carried out.
pub async fn run(spec: &RunSpec) -> Result<RunReport, RunError> {
    let _ = std::fs::remove_dir_all(&spec.dir);
    let mut extra = String::new();
    if let Some(f) = &spec.test_fault {
        extra.push_str(&format!("corral.testFault={f}\n"));
    }
    let cluster_spec = ClusterSpec {
        nodes: spec.nodes,
        corral: spec.corral.clone(),
        dir: spec.dir.clone(),
        extra,
    };
    let mut cluster = Cluster::configure(&cluster_spec).await?;
    for i in 0..spec.nodes {
        cluster.start(i)?;
    }
    cluster.wait_ready(Duration::from_secs(60)).await?;
    setup(&cluster.connect_string(), spec.register_keys).await?;

    let clock = Clock::start();
    let history = Arc::new(Mutex::new(History::default()));
    let until = tokio::time::Instant::now() + spec.duration;
    let ctx = Ctx {
        clock,
        history: history.clone(),
        until,
    };
    let workers = spawn_workers(&ctx, &cluster, spec);
    let cluster = tokio::sync::Mutex::new(cluster);
    let mut nemesis = Nemesis::new(spec.seed, spec.schedule.clone());
    nemesis.run(&cluster, &clock, until).await?;
    for w in workers {
        let _ = w.await;
    }
    let cluster = cluster.into_inner();

    let mut violations = Vec::new();
    if let Err(e) = cluster.wait_ready(Duration::from_secs(60)).await {
        violations.push(finding("recovery", format!("after healing: {e}")));
    }
    let hosts = cluster.connect_string();
    let (queue, leftover) = final_reads(&hosts).await;
    match &queue {
        Ok(entries) => {
            history
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .queue_final = Some(entries.clone())
        }
        Err(e) => violations.push(finding("queue", format!("final read failed: {e}"))),
    }
    if !leftover.is_empty() {
        violations.push(finding(
            "ephemerals",
            format!("ephemerals outlived every session of the run: {leftover:?}"),
        ));
    }
    if let Some(v) = converge(&cluster).await {
        violations.push(v);
    }
    let history = Arc::try_unwrap(history)
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .unwrap_or_else(|shared| shared.lock().unwrap_or_else(|e| e.into_inner()).clone());
    let judged = {
        let h = history.clone();
        tokio::task::spawn_blocking(move || check::check_all(&h))
            .await
            .map_err(|e| RunError::Setup(format!("checker panicked: {e}")))?
    };
    violations.extend(judged.violations);
    let report = RunReport {
        seed: spec.seed,
        nodes: spec.nodes,
        seconds: spec.duration.as_secs_f64(),
        faults: nemesis.events.iter().fold(BTreeMap::new(), |mut m, e| {
            *m.entry(e.kind).or_insert(0) += 1;
            m
        }),
        fault_events: nemesis.events.clone(),
        operations: operations(&history),
        unknown: unknown(&history),
        stats: judged.stats,
        violations,
    };
    write_report(spec, &history, &report)?;
    drop(cluster);
    if report.violations.is_empty() {
        // Keep the logs and the report; the data of a clean run is not worth the disk.
        for i in 1..=spec.nodes {
            let _ = std::fs::remove_dir_all(spec.dir.join(format!("server-{i}")).join("data"));
        }
    }
    Ok(report)
}

fn finding(checker: &'static str, summary: String) -> Violation {
    Violation {
        checker,
        summary,
        window: String::new(),
    }
}

async fn setup(hosts: &str, keys: u32) -> Result<(), RunError> {
    let client = zookeeper_client::Client::connect(hosts)
        .await
        .map_err(|e| RunError::Setup(e.to_string()))?;
    let mode = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let mut paths = vec![
        ("/registers".to_string(), ""),
        ("/queue".to_string(), ""),
        ("/ephemerals".to_string(), ""),
        (workload::counter::PATH.to_string(), "x"),
    ];
    for k in 0..keys {
        paths.push((workload::registers::path(k), "0"));
    }
    for (path, data) in paths {
        client
            .create(&path, data.as_bytes(), &mode)
            .await
            .map_err(|e| RunError::Setup(format!("{path}: {e}")))?;
    }
    Ok(())
}

fn spawn_workers(ctx: &Ctx, cluster: &Cluster, spec: &RunSpec) -> Vec<tokio::task::JoinHandle<()>> {
    let all = cluster.connect_string();
    let mut handles = Vec::new();
    let mut process = 0u32;
    let mut next = || {
        process += 1;
        process
    };
    for _ in 0..(spec.nodes * 2) {
        let (p, hosts) = (next(), all.clone());
        handles.push(tokio::spawn(workload::registers::run(
            ctx.clone(),
            p,
            hosts,
            spec.register_keys,
            spec.seed,
        )));
    }
    for _ in 0..2 {
        let (p, hosts) = (next(), all.clone());
        handles.push(tokio::spawn(workload::queue::run(
            ctx.clone(),
            p,
            hosts,
            spec.seed,
        )));
        let (p, hosts) = (next(), all.clone());
        handles.push(tokio::spawn(workload::sessions::run(
            ctx.clone(),
            p,
            hosts,
            spec.seed,
        )));
    }
    let (p, hosts) = (next(), all.clone());
    handles.push(tokio::spawn(workload::counter::write(
        ctx.clone(),
        p,
        hosts,
        spec.seed,
    )));
    for server in 0..spec.nodes {
        let (p, host) = (next(), cluster.connect_one(server));
        handles.push(tokio::spawn(workload::counter::read(
            ctx.clone(),
            p,
            server,
            host,
            spec.seed,
        )));
    }
    handles
}

/// The queue's entries, and the ephemerals still there once every session of the run
/// has had time to end (closed by its worker, or expired).
async fn final_reads(
    hosts: &str,
) -> (Result<Vec<crate::history::QueueEntry>, String>, Vec<String>) {
    let Ok(client) = zookeeper_client::Client::connect(hosts).await else {
        return (Err("cannot connect".into()), Vec::new());
    };
    let queue = workload::queue::read_all(&client).await;
    // A session whose close was lost expires after its timeout, measured from the
    // last leader change: allow for both.
    let deadline = tokio::time::Instant::now() + workload::SESSION_TIMEOUT * 4;
    let mut leftover = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let _ = client.sync("/ephemerals").await;
        leftover = client
            .list_children("/ephemerals")
            .await
            .unwrap_or_default();
        if leftover.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (queue, leftover)
}

/// Every member ends with the same last zxid once writes stop.
async fn converge(cluster: &Cluster) -> Option<Violation> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut zxids = Vec::new();
        for i in 0..cluster.members.len() {
            zxids.push(cluster.zxid(i).await);
        }
        if zxids.iter().all(|z| z.is_some() && *z == zxids[0]) {
            return None;
        }
        if tokio::time::Instant::now() > deadline {
            return Some(finding(
                "convergence",
                format!("members' last zxids differ: {zxids:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn operations(h: &History) -> usize {
    h.registers.len()
        + h.enqueues.len()
        + h.sessions.len()
        + h.counter_writes.len()
        + h.sync_reads.len()
}

fn unknown(h: &History) -> usize {
    h.registers
        .iter()
        .filter(|o| o.outcome.is_unknown())
        .count()
        + h.enqueues.iter().filter(|o| o.outcome.is_unknown()).count()
        + h.counter_writes
            .iter()
            .filter(|o| o.outcome.is_unknown())
            .count()
}

fn write_report(spec: &RunSpec, history: &History, report: &RunReport) -> Result<(), RunError> {
    let fail = |e| RunError::Report(spec.dir.clone(), e);
    std::fs::write(spec.dir.join("history.json"), to_json(history)).map_err(fail)?;
    std::fs::write(spec.dir.join("report.json"), to_json(report)).map_err(fail)?;
    std::fs::write(spec.dir.join("report.txt"), render(report)).map_err(fail)?;
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The report a human reads: what ran, what was injected, and each violation with
/// the window of history that shows it.
pub fn render(r: &RunReport) -> String {
    let mut out = format!(
        "seed {} · {} servers · {:.0} s of faults · {} operations, {} unknown · {} violations\n",
        r.seed,
        r.nodes,
        r.seconds,
        r.operations,
        r.unknown,
        r.violations.len()
    );
    out.push_str("faults:");
    for (kind, n) in &r.faults {
        out.push_str(&format!(" {kind:?}={n}"));
    }
    out.push('\n');
    for e in &r.fault_events {
        out.push_str(&format!(
            "  {:>9.3}s-{:>8.3}s {:?} on {:?} {}\n",
            e.at as f64 / 1e6,
            e.healed_at as f64 / 1e6,
            e.kind,
            e.targets.iter().map(|t| t + 1).collect::<Vec<_>>(),
            e.note
        ));
    }
    out.push_str(&format!(
        "stats: {}\n",
        serde_json::to_string(&r.stats).unwrap_or_default()
    ));
    for v in &r.violations {
        out.push_str(&format!(
            "\nVIOLATION [{}] {}\n{}\n",
            v.checker, v.summary, v.window
        ));
    }
    out
}
