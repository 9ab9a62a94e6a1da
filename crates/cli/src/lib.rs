//! `corral cli`: a shell for any ZooKeeper-protocol server that speaks zkCli's commands
//! and prints what zkCli prints, plus one-shot commands with `--json` for scripts.
//!
//! `words` splits a command line, `command` turns it into a command with zkCli's flags,
//! `run` carries the session's own commands out and hands the others to their function
//! in `cmd/` (one per command), which asks the server through the `zookeeper-client`
//! crate and formats the answer (`format`); `watches` keeps the watches a command set
//! and prints their events. `shell` is the interactive loop: line editing, history kept
//! across runs, completion of znode paths asked of the server.
//!
//! Imports run one way: shell uses run and command; run uses cmd, command and
//! watches; cmd uses command, format and watches.

mod cmd;
mod command;
mod format;
mod run;
mod shell;
mod watches;
mod words;

use std::process::ExitCode;
use std::time::Duration;

pub use run::Session;

/// What `corral cli` was asked to do.
pub struct Options {
    /// host:port[,host:port…][/chroot]
    pub server: String,
    pub timeout: Duration,
    pub read_only: bool,
    pub json: bool,
    /// A one-shot command; empty for the interactive shell.
    pub command: Vec<String>,
}

pub fn main(options: Options) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral cli: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if options.command.is_empty() {
        return shell::run(&runtime, options);
    }
    runtime.block_on(async move {
        let session =
            match Session::connect(&options.server, options.timeout, options.read_only).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("Unable to connect to {}: {e}", options.server);
                    return ExitCode::FAILURE;
                }
            };
        let line: Vec<&str> = options.command.iter().map(String::as_str).collect();
        let outcome = session.execute(&line, options.json).await;
        session.close().await;
        print!("{}", outcome.text);
        if outcome.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
