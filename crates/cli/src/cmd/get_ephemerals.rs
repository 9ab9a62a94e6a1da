//! `getEphemerals [path]`: the session's ephemeral nodes under a path (sorted).

use serde_json::json;
use zookeeper_client::Client;

use crate::format;

pub async fn run(c: &Client, path: &str, json: bool) -> Result<String, String> {
    let mut list = c
        .list_ephemerals(path)
        .await
        .map_err(|e| format::error(&e, path))?;
    list.sort();
    if json {
        return Ok(format!("{}\n", json!({"path": path, "ephemerals": list})));
    }
    Ok(format!("[{}]\n", list.join(", ")))
}
