//! `create [-s] [-e] [-c] [-t ttl] path [data] [acl]`: a node of the mode the flags name.

use std::time::Duration;

use serde_json::json;
use zookeeper_client::{Acls, Client, CreateMode};

use crate::command::Create;
use crate::format;

pub async fn run(c: &Client, create: Create, json: bool) -> Result<String, String> {
    let made = make(c, &create).await?;
    if json {
        return Ok(format!("{}\n", json!({"path": made})));
    }
    Ok(format!("Created {made}\n"))
}

/// Creates the node; the path it got (with its sequence number, if sequential).
async fn make(c: &Client, create: &Create) -> Result<String, String> {
    let acl = match &create.acl {
        Some(text) => format::parse_acl(text)?,
        None => Acls::anyone_all().to_vec(),
    };
    let mode = match (create.container, create.ephemeral, create.sequential) {
        (true, _, _) => CreateMode::Container,
        (false, true, true) => CreateMode::EphemeralSequential,
        (false, true, false) => CreateMode::Ephemeral,
        (false, false, true) => CreateMode::PersistentSequential,
        (false, false, false) => CreateMode::Persistent,
    };
    let mut options = mode.with_acls(Acls::new(&acl));
    if let Some(ttl) = create.ttl {
        options = options.with_ttl(Duration::from_millis(ttl));
    }
    let data = create.data.as_deref().unwrap_or("").as_bytes();
    let (_, sequence) = c
        .create(&create.path, data, &options)
        .await
        .map_err(|e| format::error(&e, &create.path))?;
    Ok(if create.sequential {
        format!("{}{sequence}", create.path)
    } else {
        create.path.clone()
    })
}
