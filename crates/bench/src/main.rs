//! `corral-bench`: load for any ZooKeeper-protocol server, so Corral and Apache
//! ZooKeeper are measured by the same client in the same run.
//!
//! This crate owns load generation and measurement only; it speaks the wire protocol
//! through `corral-jute` and shares no code with the server.

mod client;
mod report;
mod workloads;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "corral-bench",
    version,
    about = "Load generator for ZooKeeper-protocol servers"
)]
pub struct Cli {
    /// host:port of the server.
    #[arg(long, default_value = "127.0.0.1:2181")]
    pub server: String,
    /// The server's pid, to report its CPU per operation and its RSS.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Sessions (connections).
    #[arg(long, default_value_t = 4)]
    pub sessions: usize,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 16)]
    pub depth: usize,
    /// Bytes per value.
    #[arg(long, default_value_t = 100)]
    pub value_size: usize,
    /// Operations in all (the run stops at this count or at --seconds).
    #[arg(long)]
    pub ops: Option<u64>,
    /// Run time in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Parent node for the benchmark's nodes.
    #[arg(long, default_value = "/bench")]
    pub prefix: String,
    /// One JSON line per run instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Print the wall-clock time of every request slower than this (to find stalls).
    #[arg(long)]
    pub slow_ms: Option<u64>,
    #[command(subcommand)]
    pub workload: Workload,
}

#[derive(Subcommand, Clone)]
pub enum Workload {
    /// Creates of new nodes: write throughput (also loads large trees).
    Create,
    /// setData on existing nodes: write throughput.
    Set {
        #[arg(long, default_value_t = 1000)]
        keys: usize,
    },
    /// getData on existing nodes: read throughput.
    Get {
        #[arg(long, default_value_t = 1000)]
        keys: usize,
    },
    /// getData and setData mixed.
    Mixed {
        #[arg(long, default_value_t = 1000)]
        keys: usize,
        #[arg(long, default_value_t = 90)]
        read_pct: u32,
    },
    /// Fan-out: N sessions watch one node and one writer sets it.
    Watch {
        #[arg(long, default_value_t = 100)]
        watchers: usize,
        #[arg(long, default_value_t = 50)]
        events: usize,
    },
    /// Session establishment and close.
    Connect,
    /// Sessions create ephemerals and close; checks none is left.
    Ephemeral {
        #[arg(long, default_value_t = 10)]
        per_session: usize,
    },
    /// Waits until the server answers a getData of PATH; prints how long that took.
    Probe {
        path: String,
        #[arg(long, default_value_t = 600.0)]
        timeout: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(workloads::run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
