//! The interactive shell: zkCli's prompt and commands, line editing, history kept in
//! ~/.corral_cli_history, tab completion of commands and of znode paths (asked of the
//! server), and session and watch events printed as they arrive.

use std::process::ExitCode;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Context, Editor};

use crate::command::{self, USAGE};
use crate::run::Session;
use crate::Options;

struct Helper {
    session: std::sync::Arc<Session>,
    runtime: tokio::runtime::Handle,
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[start..];
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        if start == 0 {
            let names = USAGE
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| n.starts_with(word))
                .map(|n| pair(n.to_string()))
                .collect();
            return Ok((0, names));
        }
        if !word.starts_with('/') {
            return Ok((start, Vec::new()));
        }
        // Ask the server for the children of the path typed so far.
        let (parent, prefix) = match word.rfind('/') {
            Some(0) => ("/", &word[1..]),
            Some(i) => (&word[..i], &word[i + 1..]),
            None => return Ok((start, Vec::new())),
        };
        let Some(client) = self.session.client() else {
            return Ok((start, Vec::new()));
        };
        let children = tokio::task::block_in_place(|| {
            self.runtime.block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(2),
                    client.list_children(parent),
                )
                .await
            })
        });
        let mut children = match children {
            Ok(Ok(c)) => c,
            _ => Vec::new(),
        };
        children.sort();
        let base = if parent == "/" {
            String::new()
        } else {
            parent.to_string()
        };
        let found = children
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .map(|c| pair(format!("{base}/{c}")))
            .collect();
        Ok((start, found))
    }
}

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Helper {}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}

fn history_file() -> Option<std::path::PathBuf> {
    std::env::var_os("CORRAL_CLI_HISTORY")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".corral_cli_history"))
        })
}

pub fn run(runtime: &tokio::runtime::Runtime, options: Options) -> ExitCode {
    println!("Connecting to {}", options.server);
    let session = runtime.block_on(Session::connect(
        &options.server,
        options.timeout,
        options.read_only,
    ));
    let session = match session {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            eprintln!("Unable to connect to {}: {e}", options.server);
            return ExitCode::FAILURE;
        }
    };
    println!("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null");
    if let Some(client) = session.client() {
        let _guard = runtime.enter();
        crate::run::report_state(&client);
    }
    let helper = Helper {
        session: session.clone(),
        runtime: runtime.handle().clone(),
    };
    let mut editor: Editor<Helper, FileHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("corral cli: no terminal: {e}");
            return ExitCode::FAILURE;
        }
    };
    editor.set_helper(Some(helper));
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut lines: Vec<String> = Vec::new();
    loop {
        let state = match session.client().map(|c| c.state()) {
            Some(zookeeper_client::SessionState::SyncConnected) => "CONNECTED",
            Some(zookeeper_client::SessionState::ConnectedReadOnly) => "CONNECTEDREADONLY",
            Some(zookeeper_client::SessionState::Disconnected) => "CONNECTING",
            Some(zookeeper_client::SessionState::AuthFailed) => "AUTH_FAILED",
            _ => "CLOSED",
        };
        let prompt = format!("[zk: {}({}) {}] ", session.server(), state, lines.len());
        let line = match editor.readline(&prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("corral cli: {e}");
                break;
            }
        };
        let mut line = line.trim().to_string();
        if line.is_empty() {
            continue;
        }
        let words = crate::words::split(&line);
        match words.first().map(String::as_str) {
            Some("history") => {
                let first = lines.len().saturating_sub(10);
                for (i, l) in lines.iter().enumerate().skip(first) {
                    println!("{i} - {l}");
                }
                lines.push(line.clone());
                let _ = editor.add_history_entry(&line);
                continue;
            }
            Some("redo") => match words
                .get(1)
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| lines.get(n))
            {
                Some(again) => line = again.clone(),
                None => {
                    print!("{}", command::usage("redo"));
                    continue;
                }
            },
            Some("quit") | Some("exit") => break,
            _ => {}
        }
        let _ = editor.add_history_entry(&line);
        lines.push(line.clone());
        let words = crate::words::split(&line);
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let outcome = runtime.block_on(session.execute(&refs, false));
        print!("{}", outcome.text);
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    runtime.block_on(session.close());
    ExitCode::SUCCESS
}
