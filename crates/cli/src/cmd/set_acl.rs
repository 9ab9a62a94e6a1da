//! `setAcl [-s] [-v version] [-R] path acl`: a new ACL for a node, or its whole subtree.

use zookeeper_client::Client;

use super::walk::subtree;
use crate::command::SetAcl;
use crate::format;

pub async fn run(c: &Client, args: SetAcl) -> Result<String, String> {
    let SetAcl {
        path,
        acl,
        stat,
        version,
        recursive,
    } = args;
    let acl = format::parse_acl(&acl)?;
    let targets = if recursive {
        subtree(c, &path)
            .await
            .map_err(|e| format::error(&e, &path))?
    } else {
        vec![path.clone()]
    };
    let mut last = None;
    for p in &targets {
        // The version is the named node's; the nodes under it take any.
        let v = if p == &path { version } else { None };
        last = Some(
            c.set_acl(p, &acl, v)
                .await
                .map_err(|e| format::error(&e, p))?,
        );
    }
    Ok(match (stat, last) {
        (true, Some(st)) => format::stat(&st),
        _ => String::new(),
    })
}
