//! `deleteall path` (zkCli's older `rmr`): a node and everything under it, deepest first.

use zookeeper_client::Client;

use super::walk::subtree;
use crate::format;

pub async fn run(c: &Client, path: &str) -> Result<String, String> {
    let mut all = subtree(c, path)
        .await
        .map_err(|e| format::error(&e, path))?;
    all.reverse();
    for p in all {
        match c.delete(&p, None).await {
            // Gone already: another client (or an expiring session) took it.
            Ok(()) | Err(zookeeper_client::Error::NoNode) => {}
            Err(e) => return Err(format::error(&e, &p)),
        }
    }
    Ok(String::new())
}
