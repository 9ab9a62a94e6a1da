//! `corral-campaign`: runs the fault campaign against a Corral ensemble of real
//! processes on 127.0.0.1 and prints what the checkers found.
//!
//!     corral-campaign run --seed 7 --seconds 60
//!     corral-campaign sweep --seeds 1-100 --seconds 60 --parallel 2

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use corral_campaign::nemesis::{FaultKind, Schedule};
use corral_campaign::run::{render, run, RunReport, RunSpec};

#[derive(Parser)]
#[command(about = "Fault campaign with linearizability checking for Corral")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One seed; exits 1 if a violation was found.
    Run {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Many seeds (`1-100` or `3,7,9`); prints a table; exits 1 if any seed failed.
    Sweep {
        #[arg(long)]
        seeds: String,
        /// Seeds run at the same time (each is its own ensemble).
        #[arg(long, default_value_t = 1)]
        parallel: usize,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args, Clone)]
struct Common {
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Seconds of workload and faults.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Fault kinds, comma-separated (names as in the report), or `all`.
    #[arg(long, default_value = "all")]
    faults: String,
    /// `corral.testFault` for every server (e.g. `stale-sync`), to see the checkers fail.
    #[arg(long)]
    test_fault: Option<String>,
    /// Where each run's logs, history and report go.
    #[arg(long, default_value = "campaign-out")]
    out: PathBuf,
    /// The corral binary; by default the one next to this program.
    #[arg(long)]
    corral: Option<PathBuf>,
}

fn kinds(spec: &str) -> Result<Vec<FaultKind>, String> {
    if spec == "all" {
        return Ok(FaultKind::ALL.to_vec());
    }
    spec.split(',')
        .map(|name| {
            FaultKind::ALL
                .into_iter()
                .find(|k| format!("{k:?}").eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| format!("unknown fault kind {name:?}"))
        })
        .collect()
}

fn seeds(spec: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("seeds must look like 1-100 or 3,7,9, not {spec:?}");
    if let Some((a, b)) = spec.split_once('-') {
        let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
        return Ok((a..=b).collect());
    }
    spec.split(',')
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect()
}

fn spec(common: &Common, seed: u64) -> Result<RunSpec, String> {
    // The nemesis needs a majority and a minority to tell apart.
    if common.nodes < 3 {
        return Err(format!("--nodes must be 3 or more, not {}", common.nodes));
    }
    let corral = match &common.corral {
        Some(p) => p.clone(),
        None => corral_campaign::cluster::corral_next_to(
            std::env::current_exe().map_err(|e| e.to_string())?,
        )?,
    };
    Ok(RunSpec {
        seed,
        nodes: common.nodes,
        duration: Duration::from_secs(common.seconds),
        schedule: Schedule {
            kinds: kinds(&common.faults)?,
            hold: (Duration::from_secs(1), Duration::from_secs(5)),
            calm: (Duration::from_millis(500), Duration::from_secs(3)),
        },
        corral,
        dir: common.out.join(format!("seed-{seed}")),
        test_fault: common.test_fault.clone(),
        register_keys: 4,
    })
}

fn row(r: &RunReport) -> String {
    let faults: usize = r.faults.values().sum();
    format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        r.seed,
        faults,
        r.faults
            .iter()
            .map(|(k, n)| format!("{k:?} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.operations,
        r.unknown,
        r.stats.lost_acknowledged,
        r.violations.len()
    )
}

async fn sweep(seeds: Vec<u64>, parallel: usize, common: &Common) -> Result<bool, String> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(seeds.into_iter()));
    let mut tasks = Vec::new();
    for _ in 0..parallel.max(1) {
        let queue = queue.clone();
        let common = common.clone();
        tasks.push(tokio::spawn(async move {
            let mut reports = Vec::new();
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some(seed) = next else { break };
                let spec = spec(&common, seed)?;
                match run(&spec).await {
                    Ok(r) => {
                        eprintln!("{}", row(&r));
                        reports.push(Ok(r));
                    }
                    // A seed that could not run is a failed seed, not the end of the sweep.
                    Err(e) => {
                        eprintln!("| {seed} | could not run: {e} |");
                        reports.push(Err((seed, e.to_string())));
                    }
                }
            }
            Ok::<_, String>(reports)
        }));
    }
    let mut all = Vec::new();
    let mut broken = Vec::new();
    for t in tasks {
        for r in t.await.map_err(|e| e.to_string())?? {
            match r {
                Ok(r) => all.push(r),
                Err(e) => broken.push(e),
            }
        }
    }
    all.sort_by_key(|r| r.seed);
    broken.sort();
    let mut table = String::from(
        "| seed | faults | by kind | operations | unknown | lost acked | violations |\n|---|---|---|---|---|---|---|\n",
    );
    for r in &all {
        table.push_str(&row(r));
        table.push('\n');
    }
    let faults: usize = all.iter().map(|r| r.faults.values().sum::<usize>()).sum();
    let ops: usize = all.iter().map(|r| r.operations).sum();
    let unknown: usize = all.iter().map(|r| r.unknown).sum();
    let lost: usize = all.iter().map(|r| r.stats.lost_acknowledged).sum();
    let bad: Vec<u64> = all
        .iter()
        .filter(|r| !r.violations.is_empty())
        .map(|r| r.seed)
        .collect();
    table.push_str(&format!(
        "| **{} seeds** | {faults} | | {ops} | {unknown} | {lost} | {} (seeds {bad:?}) |\n",
        all.len(),
        bad.len()
    ));
    for (seed, e) in &broken {
        table.push_str(&format!("\nseed {seed} could not run: {e}\n"));
    }
    println!("{table}");
    let _ = std::fs::create_dir_all(&common.out);
    let _ = std::fs::write(common.out.join("summary.md"), &table);
    Ok(bad.is_empty() && broken.is_empty())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral-campaign: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Run { seed, common } => {
                let spec = spec(&common, seed)?;
                let report = run(&spec).await.map_err(|e| e.to_string())?;
                println!("{}", render(&report));
                println!("report: {}", spec.dir.join("report.txt").display());
                Ok(report.violations.is_empty())
            }
            Command::Sweep {
                seeds: s,
                parallel,
                common,
            } => sweep(seeds(&s)?, parallel, &common).await,
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("corral-campaign: {e}");
            ExitCode::from(2)
        }
    }
}
