//! `get [-s] [-w] path`: a node's data ("null" when empty), and its Stat.

use std::fmt::Write as _;

use serde_json::json;
use zookeeper_client::Client;

use crate::command::Get;
use crate::format;
use crate::watches::{WatchKind, Watches};

pub async fn run(c: &Client, watches: &Watches, args: Get, json: bool) -> Result<String, String> {
    let Get { path, stat, watch } = args;
    let fail = |e| format::error(&e, &path);
    let (data, st) = if watch {
        let (d, s, watcher) = c.get_and_watch_data(&path).await.map_err(fail)?;
        watches.follow(&path, WatchKind::Data, watcher);
        (d, s)
    } else {
        c.get_data(&path).await.map_err(fail)?
    };
    let text = String::from_utf8_lossy(&data).to_string();
    if json {
        let mut v = json!({"path": path, "data": text});
        if stat {
            v["stat"] = format::stat_json(&st);
        }
        return Ok(format!("{}\n", format::with_stat(v, &st)));
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}", if data.is_empty() { "null" } else { &text });
    if stat {
        out.push_str(&format::stat(&st));
    }
    Ok(out)
}
