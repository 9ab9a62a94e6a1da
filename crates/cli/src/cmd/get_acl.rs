//! `getAcl [-s] path`: a node's ACL, as zkCli prints each entry.

use serde_json::json;
use zookeeper_client::Client;

use crate::command::GetAcl;
use crate::format;

pub async fn run(c: &Client, args: GetAcl, json: bool) -> Result<String, String> {
    let GetAcl { path, stat } = args;
    let (acl, st) = c
        .get_acl(&path)
        .await
        .map_err(|e| format::error(&e, &path))?;
    if json {
        let v = json!({"path": path, "acl": format::acl_json(&acl)});
        return Ok(format!(
            "{}\n",
            if stat { format::with_stat(v, &st) } else { v }
        ));
    }
    let mut out = format::acl(&acl);
    if stat {
        out.push_str(&format::stat(&st));
    }
    Ok(out)
}
