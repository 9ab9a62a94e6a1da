//! The `corral` command: runs a server and talks to one.
//!
//! This crate owns the command line and process set-up only (arguments, logging,
//! signals); the server itself is `corral-server`.

mod backup;
mod dev;
mod export;
mod four;
mod import;
mod inspect;

mod logging;
mod notify;
mod supervise;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the write path allocates per request, and glibc's
/// consolidation and locking were a fifth of the server's CPU (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "corral",
    version,
    about = "A ZooKeeper-compatible coordination service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a server. Without --config: standalone on 127.0.0.1:2181, data under ./data.
    Server {
        /// An Apache ZooKeeper zoo.cfg, used as it is.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Look inside a snapshot file (the counterpart of zkSnapShotToolkit).
    Snapshot {
        #[command(subcommand)]
        what: SnapshotCommand,
    },
    /// Read the transaction log (the counterpart of zkTxnLogToolkit).
    Log {
        #[command(subcommand)]
        what: LogCommand,
    },
    /// A zkCli-compatible shell; with a command after the options, runs it once.
    #[command(name = "cli", allow_hyphen_values = true)]
    Cli {
        /// host:port[,host:port…][/chroot]
        #[arg(long = "server", default_value = "127.0.0.1:2181")]
        server: String,
        /// Session timeout in milliseconds.
        #[arg(long, default_value_t = 30000)]
        timeout: u64,
        /// Allow a read-only session with a server that has lost its quorum.
        #[arg(short = 'r')]
        read_only: bool,
        /// Print read commands' results as JSON.
        #[arg(long)]
        json: bool,
        /// One command and its arguments (zkCli's syntax); none for the shell.
        #[arg(trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Start a local ensemble on 127.0.0.1 in a temporary directory; Ctrl-C stops it.
    Dev {
        /// Voting members (3 or 5 for a real quorum).
        #[arg(long, default_value_t = 3)]
        nodes: u16,
        /// Non-voting observers.
        #[arg(long, default_value_t = 0)]
        observers: u16,
        /// Client ports are base+i; quorum base+100+i, election base+200+i,
        /// AdminServer base+300+i, metrics base+400+i.
        #[arg(long, default_value_t = 2181)]
        base_port: u16,
        /// Keep the data directory after Ctrl-C.
        #[arg(long)]
        keep: bool,
    },
    /// Import an Apache ZooKeeper data directory (3.4 to 3.9) into a new Corral one.
    Import(import::ImportArgs),
    /// Export a stopped server's data directory as an Apache ZooKeeper one (the way back).
    Export(export::ExportArgs),
    /// Save a running server's tree as a ZooKeeper snapshot (the AdminServer's snapshot).
    Backup(backup::BackupArgs),
    /// Put a snapshot back on a running server or ensemble (the AdminServer's restore).
    Restore(backup::RestoreArgs),
    /// Run a server and restart it when it dies or stops serving, as Exhibitor did.
    Supervise(supervise::SuperviseArgs),
    /// Send a four-letter word (ruok, srvr, mntr…) and print the answer.
    Four {
        word: String,
        #[arg(default_value = "127.0.0.1:2181")]
        server: String,
    },
}

#[derive(Subcommand)]
enum SnapshotCommand {
    /// Node count, data size and last zxid; --dump lists every node.
    Inspect {
        file: PathBuf,
        #[arg(long)]
        dump: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Every transaction in a log directory (dataLogDir/log), in order.
    Dump {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// zkCli spells its long options with one dash (`-server`, `-timeout`); accept both.
fn zkcli_style_args() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("cli") {
        for a in args.iter_mut().skip(2) {
            match a.as_str() {
                "-server" => *a = "--server".into(),
                "-timeout" => *a = "--timeout".into(),
                _ => {}
            }
        }
    }
    args
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(zkcli_style_args());
    match cli.command {
        Command::Server { config } => run_server(config),
        Command::Backup(args) => backup::backup(args),
        Command::Supervise(args) => supervise::run(args),
        Command::Restore(args) => backup::restore(args),
        Command::Four { word, server } => four::run(&word, &server),
        Command::Cli {
            server,
            timeout,
            read_only,
            json,
            command,
        } => corral_cli::main(corral_cli::Options {
            server,
            timeout: std::time::Duration::from_millis(timeout),
            read_only,
            json,
            command,
        }),
        Command::Dev {
            nodes,
            observers,
            base_port,
            keep,
        } => dev::run(dev::DevOptions {
            nodes,
            observers,
            base_port,
            keep,
        }),
        Command::Snapshot {
            what: SnapshotCommand::Inspect { file, dump, json },
        } => inspect::snapshot(&file, dump, json),
        Command::Log {
            what: LogCommand::Dump { dir, json },
        } => inspect::log(&dir, json),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
    }
}

fn run_server(path: Option<PathBuf>) -> ExitCode {
    let config = match &path {
        Some(p) => corral_server::Config::load(p),
        None => corral_server::Config::embedded(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("corral: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = match logging::init(config.my_id, config.log_format, config.log_dir.as_deref())
    {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("corral: {e}");
            return ExitCode::from(2);
        }
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match corral_server::Server::start(config).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("Unable to start server: {e}");
                return ExitCode::FAILURE;
            }
        };
        notify::notify(&format!(
            "READY=1\nSTATUS=listening on {}\nMAINPID={}",
            server.local_addr(),
            std::process::id()
        ));
        let watchdog =
            notify::watchdog_interval().map(|every| tokio::spawn(notify::keep_watchdog(every)));
        wait_for_signal().await;
        notify::notify("STOPPING=1");
        if let Some(w) = watchdog {
            w.abort();
        }
        tracing::info!("shutting down");
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
