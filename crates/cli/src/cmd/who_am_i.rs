//! `whoami`: the identities the session has, by scheme.

use std::fmt::Write as _;

use serde_json::{json, Value};
use zookeeper_client::Client;

pub async fn run(c: &Client, json: bool) -> Result<String, String> {
    let users = c.list_auth_users().await.map_err(|e| format!("{e}\n"))?;
    if json {
        let list: Vec<Value> = users
            .iter()
            .map(|u| json!({"scheme": u.scheme(), "user": u.user()}))
            .collect();
        return Ok(format!("{}\n", Value::Array(list)));
    }
    let mut out = String::from("Auth scheme: User\n");
    for u in users {
        let _ = writeln!(out, "{}: {}", u.scheme(), u.user());
    }
    Ok(out)
}
