//! zkCli's text for a Stat, an ACL and an error, and the JSON of `--json`.

use serde_json::{json, Value};
use zookeeper_client::{Acl, AuthId, Error, Permission, Stat};

/// `Wed Nov 25 14:02:52 UTC 2026`, as Java's Date prints in zkCli.
fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string())
        .unwrap_or_default()
}

pub fn stat(s: &Stat) -> String {
    format!(
        "cZxid = 0x{:x}\nctime = {}\nmZxid = 0x{:x}\nmtime = {}\npZxid = 0x{:x}\ncversion = {}\ndataVersion = {}\naclVersion = {}\nephemeralOwner = 0x{:x}\ndataLength = {}\nnumChildren = {}\n",
        s.czxid,
        date(s.ctime),
        s.mzxid,
        date(s.mtime),
        s.pzxid,
        s.cversion,
        s.version,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children
    )
}

pub fn stat_json(s: &Stat) -> Value {
    json!({
        "czxid": s.czxid, "mzxid": s.mzxid, "pzxid": s.pzxid,
        "ctime": s.ctime, "mtime": s.mtime,
        "version": s.version, "cversion": s.cversion, "aversion": s.aversion,
        "ephemeralOwner": s.ephemeral_owner, "dataLength": s.data_length,
        "numChildren": s.num_children,
    })
}

/// `v` with the node's Stat under `"stat"`.
pub fn with_stat(mut v: Value, st: &Stat) -> Value {
    v["stat"] = stat_json(st);
    v
}

/// zkCli's permission letters: `cdrwa`.
pub fn perms(p: Permission) -> String {
    [
        (Permission::CREATE, 'c'),
        (Permission::DELETE, 'd'),
        (Permission::READ, 'r'),
        (Permission::WRITE, 'w'),
        (Permission::ADMIN, 'a'),
    ]
    .iter()
    .filter(|(bit, _)| p.has(*bit))
    .map(|(_, c)| *c)
    .collect()
}

pub fn parse_perms(letters: &str) -> Option<Permission> {
    let mut p = Permission::NONE;
    for c in letters.chars() {
        p = p | match c {
            'c' => Permission::CREATE,
            'd' => Permission::DELETE,
            'r' => Permission::READ,
            'w' => Permission::WRITE,
            'a' => Permission::ADMIN,
            _ => return None,
        };
    }
    Some(p)
}

/// `scheme:id:perms[,…]`, as zkCli takes an ACL (a digest id has a colon inside).
pub fn parse_acl(text: &str) -> Result<Vec<Acl>, String> {
    text.split(',')
        .map(|one| {
            let (scheme, rest) = one
                .split_once(':')
                .ok_or_else(|| format!("{one} does not have the form scheme:id:perm\n"))?;
            let (id, perms) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("{one} does not have the form scheme:id:perm\n"))?;
            let perms = parse_perms(perms)
                .ok_or_else(|| format!("{one}: permissions are letters of cdrwa\n"))?;
            Ok(Acl::new(perms, AuthId::new(scheme, id)))
        })
        .collect()
}

pub fn acl(list: &[Acl]) -> String {
    list.iter()
        .map(|a| format!("'{},'{}\n: {}\n", a.scheme(), a.id(), perms(a.permission())))
        .collect()
}

pub fn acl_json(list: &[Acl]) -> Value {
    list.iter()
        .map(|a| json!({"scheme": a.scheme(), "id": a.id(), "perms": perms(a.permission())}))
        .collect()
}

/// zkCli's one-line message for a failed request on `path`.
pub fn error(e: &Error, path: &str) -> String {
    match e {
        Error::NoNode => format!("Node does not exist: {path}\n"),
        Error::NodeExists => format!("Node already exists: {path}\n"),
        Error::BadVersion => format!("version No is not valid : {path}\n"),
        Error::NotEmpty => format!("Node not empty: {path}\n"),
        Error::NoAuth => format!("Insufficient permission : {path}\n"),
        Error::InvalidAcl => format!("Acl is not valid : {path}\n"),
        Error::NoChildrenForEphemerals => format!("Ephemerals cannot have children: {path}\n"),
        Error::BadArguments(why) => format!("{why}: {path}\n"),
        other => format!("{other} for {path}\n"),
    }
}
