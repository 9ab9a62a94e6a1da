//! `stat [-w] path`: a node's Stat.

use serde_json::json;
use zookeeper_client::Client;

use crate::command::Stat;
use crate::format;
use crate::watches::{WatchKind, Watches};

pub async fn run(c: &Client, watches: &Watches, args: Stat, json: bool) -> Result<String, String> {
    let Stat { path, watch } = args;
    let st = if watch {
        let (st, watcher) = c
            .check_and_watch_stat(&path)
            .await
            .map_err(|e| format::error(&e, &path))?;
        watches.follow(&path, WatchKind::Data, watcher);
        st
    } else {
        c.check_stat(&path)
            .await
            .map_err(|e| format::error(&e, &path))?
    };
    let Some(st) = st else {
        return Err(format!("Node does not exist: {path}\n"));
    };
    if json {
        return Ok(format!(
            "{}\n",
            json!({"path": path, "stat": format::stat_json(&st)})
        ));
    }
    Ok(format::stat(&st))
}
