//! `set [-s] [-v version] path data`: new data for a node, if its version matches.

use serde_json::json;
use zookeeper_client::Client;

use crate::command::Set;
use crate::format;

pub async fn run(c: &Client, args: Set, json: bool) -> Result<String, String> {
    let Set {
        path,
        data,
        stat,
        version,
    } = args;
    let st = c
        .set_data(&path, data.as_bytes(), version)
        .await
        .map_err(|e| format::error(&e, &path))?;
    if json {
        return Ok(format!(
            "{}\n",
            json!({"path": path, "stat": format::stat_json(&st)})
        ));
    }
    Ok(if stat {
        format::stat(&st)
    } else {
        String::new()
    })
}
