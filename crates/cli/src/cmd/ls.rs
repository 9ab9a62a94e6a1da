//! `ls [-s] [-w] [-R] path`: a node's children (sorted), its Stat, or its whole subtree.

use std::fmt::Write as _;

use serde_json::json;
use zookeeper_client::Client;

use super::walk::subtree;
use crate::command::Ls;
use crate::format;
use crate::watches::{WatchKind, Watches};

pub async fn run(c: &Client, watches: &Watches, args: Ls, json: bool) -> Result<String, String> {
    let Ls {
        path,
        stat,
        watch,
        recursive,
    } = args;
    let fail = |e| format::error(&e, &path);
    if recursive {
        let all = subtree(c, &path).await.map_err(fail)?;
        return Ok(if json {
            format!("{}\n", json!({"path": path, "paths": all}))
        } else {
            all.iter().map(|p| format!("{p}\n")).collect()
        });
    }
    let (mut children, st) = if watch {
        let (children, watcher) = c.list_and_watch_children(&path).await.map_err(fail)?;
        watches.follow(&path, WatchKind::Child, watcher);
        let st = c.check_stat(&path).await.map_err(fail)?;
        (children, st)
    } else {
        let (children, st) = c.get_children(&path).await.map_err(fail)?;
        (children, Some(st))
    };
    children.sort();
    if json {
        let mut v = json!({"path": path, "children": children});
        if let Some(st) = st.filter(|_| stat) {
            v["stat"] = format::stat_json(&st);
        }
        return Ok(format!("{v}\n"));
    }
    let mut out = String::new();
    let _ = writeln!(out, "[{}]", children.join(", "));
    if let Some(st) = st.filter(|_| stat) {
        out.push_str(&format::stat(&st));
    }
    Ok(out)
}
