//! Which words there are, which are allowed, and the answer to each: the table that
//! hands a word to the module that answers it.

use tokio::io::{AsyncRead, AsyncReadExt, BufReader};

use super::conf::configuration;
use super::dump::{dump, watches};
use super::envi::environment;
use super::keeper;
use super::monitor::monitor;
use super::status::{connections, server_stats};
use crate::report::{self, ServerReport};
use crate::state::ServerState;

/// ZooKeeper's eighteen words, then four that ClickHouse Keeper's operators use:
/// log info, snapshot now, request leadership, yield leadership (all off by default).
pub const WORDS: &[&str] = &[
    "conf", "cons", "crst", "dump", "envi", "ruok", "srst", "srvr", "stat", "wchs", "wchc", "wchp",
    "dirs", "mntr", "isro", "hash", "gtmk", "stmk", "lgif", "csnp", "rqld", "ydld",
];

const DEFAULT_ON: &[&str] = &[
    "ruok", "srvr", "stat", "mntr", "conf", "envi", "isro", "dirs", "wchs", "cons",
];

pub fn word(head: &[u8; 4]) -> Option<&'static str> {
    WORDS.iter().copied().find(|w| w.as_bytes() == head)
}

fn allowed(state: &ServerState, word: &str) -> bool {
    match &state.config.four_letter_whitelist {
        None => DEFAULT_ON.contains(&word),
        Some(list) => list.iter().any(|w| w == "*" || w == word),
    }
}

/// The answer to `word`, asked by a connection from `asker`.
pub async fn answer<R: AsyncRead + Unpin>(
    state: &ServerState,
    word: &str,
    rd: &mut BufReader<R>,
    asker: std::net::SocketAddr,
) -> String {
    if !allowed(state, word) {
        return format!("{word} is not executed because it is not in the whitelist.\n");
    }
    let Some(mode) = report::mode(state) else {
        return match word {
            "ruok" => "imok".to_string(),
            "isro" => "null".to_string(),
            "conf" => configuration(state),
            "envi" => environment(),
            _ => NOT_SERVING.to_string(),
        };
    };
    match word {
        "ruok" => "imok".to_string(),
        "isro" if mode == "read-only" => "ro".to_string(),
        "isro" => "rw".to_string(),
        "srvr" => server_stats(&ServerReport::gather(state), None),
        "stat" => {
            let clients = connections(state, asker, false);
            server_stats(&ServerReport::gather(state), Some(clients))
        }
        "mntr" => monitor(state),
        "conf" => configuration(state),
        "envi" => environment(),
        "cons" => connections(state, asker, true),
        "dirs" => {
            let (data, log) = report::dir_sizes(state);
            format!("datadir_size: {data}\nlogdir_size: {log}\n")
        }
        "wchs" => {
            let (conns, paths, total) = state.hub.watches().summary();
            format!("{conns} connections watching {paths} paths\nTotal watches:{total}\n")
        }
        "wchc" | "wchp" => watches(state, word == "wchp"),
        "crst" => {
            for c in state.hub.conns().values() {
                c.counters.reset();
            }
            "Connection stats reset.\n".to_string()
        }
        "srst" => {
            state.telemetry.reset();
            "Server stats reset.\n".to_string()
        }
        "dump" => dump(state, asker),
        "lgif" => keeper::log_info(state),
        "csnp" => keeper::snapshot_now(state).await,
        "rqld" => keeper::request_leadership(state).await,
        "ydld" => keeper::yield_leadership(state).await,
        "hash" => String::new(),
        "gtmk" => "0".to_string(),
        "stmk" => {
            let mask = rd.read_i64().await.unwrap_or(0);
            format!("{mask}")
        }
        _ => String::new(),
    }
}

/// What a word other than ruok and isro answers while the server serves no one.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";
