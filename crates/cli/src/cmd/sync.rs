//! `sync path`: waits until the server the session is on has caught up with the leader.

use zookeeper_client::Client;

use crate::format;

pub async fn run(c: &Client, path: &str) -> Result<String, String> {
    c.sync(path).await.map_err(|e| format::error(&e, path))?;
    Ok("Sync is OK\n".into())
}
