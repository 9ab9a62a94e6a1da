//! `getAllChildrenNumber path`: how many nodes are under a path, at any depth.

use serde_json::json;
use zookeeper_client::Client;

use crate::format;

pub async fn run(c: &Client, path: &str, json: bool) -> Result<String, String> {
    let n = c
        .count_descendants_number(path)
        .await
        .map_err(|e| format::error(&e, path))?;
    if json {
        return Ok(format!("{}\n", json!({"path": path, "count": n})));
    }
    Ok(format!("{n}\n"))
}
