//! `config [-c] [-w] [-s]`: the ensemble's configuration, from /zookeeper/config.

use std::fmt::Write as _;

use serde_json::json;
use zookeeper_client::Client;

use crate::command::Config;
use crate::format;
use crate::watches::{WatchKind, Watches};

pub async fn run(
    c: &Client,
    watches: &Watches,
    args: Config,
    json: bool,
) -> Result<String, String> {
    let (data, st) = if args.watch {
        let (d, s, watcher) = c
            .get_and_watch_config()
            .await
            .map_err(|e| format!("{e}\n"))?;
        watches.follow("/zookeeper/config", WatchKind::Data, watcher);
        (d, s)
    } else {
        c.get_config().await.map_err(|e| format!("{e}\n"))?
    };
    let text = String::from_utf8_lossy(&data).to_string();
    if json {
        return Ok(format!(
            "{}\n",
            format::with_stat(json!({"config": text}), &st)
        ));
    }
    let mut out = String::new();
    let _ = writeln!(out, "{text}");
    if args.stat {
        out.push_str(&format::stat(&st));
    }
    Ok(out)
}
