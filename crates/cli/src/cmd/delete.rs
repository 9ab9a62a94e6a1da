//! `delete [-v version] path`: one node without children.

use zookeeper_client::Client;

use crate::command::Delete;
use crate::format;

pub async fn run(c: &Client, args: Delete) -> Result<String, String> {
    c.delete(&args.path, args.version)
        .await
        .map_err(|e| format::error(&e, &args.path))?;
    Ok(String::new())
}
