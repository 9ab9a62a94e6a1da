//! `corral supervise`: what Exhibitor did beside every ZooKeeper server, for one
//! Corral server. It starts `corral server --config …`, checks it every `--check-ms`
//! as Exhibitor's Checker does (`ruok`, then `srvr`: a `Mode:` line is serving, "not
//! currently serving" is not), and restarts it when it exits, or when it stays down or
//! not serving longer than Exhibitor's pause (2 × tickTime × max(initLimit,
//! syncLimit)). It writes Exhibitor's activity lines to stdout (`date TAB INFO TAB
//! text`, the date as Java's `Date.toString()`); the server's own log goes to stderr
//! as it would without the supervisor. SIGTERM or Ctrl-C stops the server, then the
//! supervisor. Under systemd, prefer `Type=notify` with `WatchdogSec=` on the server
//! itself (`notify`); this is for the sites that ran Exhibitor.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

#[derive(clap::Args)]
pub struct SuperviseArgs {
    /// The server's zoo.cfg, as `corral server --config` takes it.
    #[arg(long, short)]
    config: PathBuf,
    /// How often the server is checked (Exhibitor's checkMs).
    #[arg(long, default_value_t = 30000)]
    check_ms: u64,
    /// How long a server may stay down or not serving before it is restarted; by
    /// default Exhibitor's 2 × tickTime × max(initLimit, syncLimit).
    #[arg(long)]
    restart_after_ms: Option<u64>,
}

/// Exhibitor's `InstanceStateTypes`, as far as a check can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Down,
    NotServing,
    Serving,
}

impl State {
    fn description(self) -> &'static str {
        match self {
            State::Down => "down",
            State::NotServing => "not serving",
            State::Serving => "serving",
        }
    }
}

fn activity(text: &str) {
    let now = chrono::Utc::now().format("%a %b %d %H:%M:%S UTC %Y");
    println!("{now}\tINFO\t{text}");
}

pub fn run(args: SuperviseArgs) -> ExitCode {
    let config = match corral_server::Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("corral supervise: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let host = match config.client_port_address {
        a if a.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        a => a,
    };
    let address = std::net::SocketAddr::new(host, config.client_port);
    let pause =
        u64::from(config.tick_time) * u64::from(config.init_limit.max(config.sync_limit)) * 2;
    let restart_after = Duration::from_millis(args.restart_after_ms.unwrap_or(pause));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral supervise: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(supervise(&args, address, restart_after))
}

async fn supervise(
    args: &SuperviseArgs,
    address: std::net::SocketAddr,
    restart_after: Duration,
) -> ExitCode {
    activity("Corral supervisor started");
    let check = Duration::from_millis(args.check_ms.max(10));
    let Some(mut child) = start(&args.config) else {
        return ExitCode::FAILURE;
    };
    let mut state = None;
    let mut unwell_since: Option<Instant> = None;
    // Made once, so a signal that arrives while a check runs is still seen.
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        activity("Could not watch SIGTERM and SIGINT");
        crate::dev::stop(&mut [(0, child)]).await;
        return ExitCode::FAILURE;
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(check) => {}
            exited = child.wait() => {
                let how = exited.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                activity(&format!("State: down (the server exited: {how})"));
                state = Some(State::Down);
                activity("Attempting to start/restart ZooKeeper");
                let Some(next) = start(&args.config) else { return ExitCode::FAILURE };
                child = next;
                unwell_since = None;
                continue;
            }
            _ = either(&mut term, &mut interrupt) => {
                activity("Attempting to stop instance");
                crate::dev::stop(&mut [(0, child)]).await;
                activity("Corral supervisor stopped");
                return ExitCode::SUCCESS;
            }
        }
        let now = probe(address).await;
        if state != Some(now) {
            activity(&format!("State: {}", now.description()));
            state = Some(now);
        }
        if now == State::Serving {
            unwell_since = None;
            continue;
        }
        let since = *unwell_since.get_or_insert_with(Instant::now);
        let waited = since.elapsed();
        if waited < restart_after {
            activity(&format!(
                "ZooKeeper down/not-serving waiting {} of {} ms before restarting",
                waited.as_millis(),
                restart_after.as_millis()
            ));
            continue;
        }
        activity(&format!(
            "Restarting down/not-serving ZooKeeper after {} ms pause",
            waited.as_millis()
        ));
        activity("Attempting to stop instance");
        crate::dev::stop(&mut [(0, child)]).await;
        activity("Attempting to start/restart ZooKeeper");
        let Some(next) = start(&args.config) else {
            return ExitCode::FAILURE;
        };
        child = next;
        unwell_since = None;
    }
}

async fn either(a: &mut tokio::signal::unix::Signal, b: &mut tokio::signal::unix::Signal) {
    tokio::select! {
        _ = a.recv() => {}
        _ = b.recv() => {}
    }
}

/// Starts the server; `None` (with a line saying why) if it cannot be run at all.
fn start(config: &std::path::Path) -> Option<Child> {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            activity(&format!("Could not find the corral binary: {e}"));
            return None;
        }
    };
    let spawned = Command::new(&exe)
        .arg("server")
        .arg("--config")
        .arg(config)
        .kill_on_drop(true)
        .spawn();
    match spawned {
        Ok(child) => {
            let pid = child.id().unwrap_or(0);
            activity(&format!(
                "Process started via: {} server --config {} (pid {pid})",
                exe.display(),
                config.display()
            ));
            Some(child)
        }
        Err(e) => {
            activity(&format!("Could not start the server: {e}"));
            None
        }
    }
}

/// Exhibitor's Checker: `ruok`, then `srvr`.
async fn probe(address: std::net::SocketAddr) -> State {
    if ask(address, "ruok").await.as_deref() != Some("imok") {
        return State::Down;
    }
    match ask(address, "srvr").await {
        Some(text) if text.lines().any(|l| l.starts_with("Mode")) => State::Serving,
        Some(_) => State::NotServing,
        None => State::Down,
    }
}

async fn ask(address: std::net::SocketAddr, word: &str) -> Option<String> {
    let address = address.to_string();
    corral_server::ask_four_letter_word(&address, word, Duration::from_secs(3)).await
}
