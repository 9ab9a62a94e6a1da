//! ZooKeeper 3.9's `snapshot` admin command (`GET /commands/snapshot`, alias `snap`):
//! the tree as it is now, in ZooKeeper's snapshot format (`corral-zkdata::write`,
//! the digest and the last-processed-zxid trailer included), with the headers
//! `last_zxid` and `snapshot_size`; the body only when `streaming` is true (the
//! default). What `restore` on ZooKeeper and `corral import` read back.
//!
//! As in ZooKeeper's `Commands.runCommand`: the caller names itself in the
//! `Authorization` header (`digest user:password`, or `ip` for its address) and must have every bit of ALL on
//! "/" (401 "Auth info is missing for the command" without the header, 401 "Not
//! authenticated" for a scheme this server cannot check, 403 "Not authorized");
//! `admin.snapshot.enabled=false` answers 503; one snapshot per
//! `admin.rateLimiterIntervalInMS`, read as microseconds as ZooKeeper's SnapshotCommand
//! reads it (`TimeUnit.MICROSECONDS`), else 429.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use corral_jute::records::{perms, Id};
use corral_tree::acl;
use serde_json::json;

use crate::state::ServerState;

/// ZooKeeper's `RateLimiter` with a rate of one: the first call in each interval
/// is allowed, counting from the last reset.
pub struct RateLimiter {
    interval: Duration,
    last_reset: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn new(interval: Duration) -> RateLimiter {
        RateLimiter {
            interval,
            last_reset: Mutex::new(None),
        }
    }

    pub(super) fn allow(&self) -> bool {
        let now = Instant::now();
        let mut last = match self.last_reset.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match *last {
            Some(at) if now.duration_since(at) <= self.interval => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// The JSON ZooKeeper's CommandResponse gives with a status, and no data.
pub(super) fn refusal(command: &str, status: StatusCode, error: Option<&str>) -> Response {
    let body = json!({ "command": command, "error": error });
    (status, axum::Json(body)).into_response()
}

/// Who the `Authorization` header says the caller is (`handleAuthentication`):
/// None when the scheme cannot be checked here, or the value is malformed.
fn authenticate(state: &ServerState, value: &str, peer: IpAddr) -> Option<Vec<Id>> {
    let parts: Vec<&str> = value.split(' ').collect();
    match parts.as_slice() {
        // IPAuthenticationProvider: the caller's address, whatever follows the scheme.
        ["ip"] | ["ip", _] => Some(vec![Id {
            scheme: "ip".into(),
            id: peer.to_string(),
        }]),
        ["digest", user_password] => {
            let digest = acl::digest(user_password);
            let mut ids = Vec::with_capacity(2);
            if state.config.super_digest.as_deref() == Some(digest.as_str()) {
                ids.push(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            ids.push(Id {
                scheme: "digest".into(),
                id: digest,
            });
            Some(ids)
        }
        _ => None,
    }
}

/// `handleAuthorization`: every bit of ALL on "/", each checked on its own.
fn authorized(state: &ServerState, ids: &[Id]) -> bool {
    let tree = state.tree().read();
    let Some(root) = tree.node("/") else {
        return false;
    };
    (0..5)
        .map(|bit| 1 << bit)
        .all(|perm| perm & perms::ALL == 0 || acl::allows(&root.acl, ids, perm))
}

/// Refuses the call unless `Authorization` names a caller with ALL on "/".
pub fn check_auth(
    state: &ServerState,
    command: &str,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Option<Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        tracing::warn!("Auth info is missing for command {command}");
        return Some(refusal(
            command,
            StatusCode::UNAUTHORIZED,
            Some("Auth info is missing for the command"),
        ));
    };
    let ids = value
        .to_str()
        .ok()
        .and_then(|v| authenticate(state, v, peer))
        .filter(|ids| !ids.is_empty());
    let Some(ids) = ids else {
        tracing::warn!("Authentication failed for admin command {command}");
        return Some(refusal(
            command,
            StatusCode::UNAUTHORIZED,
            Some("Not authenticated"),
        ));
    };
    if !authorized(state, &ids) {
        tracing::warn!("Admin command {command} refused: the caller lacks ALL on /");
        return Some(refusal(
            command,
            StatusCode::FORBIDDEN,
            Some("Not authorized"),
        ));
    }
    None
}

/// The checks `snapshot` and `restore` make before anything else, in ZooKeeper's
/// order: the caller's ALL on "/", the command's switch, its rate limiter.
pub struct Gate<'a> {
    pub command: &'static str,
    /// Where the call comes from: the `ip` scheme's identity.
    pub peer: IpAddr,
    pub enabled: bool,
    pub enabled_key: &'static str,
    pub limiter: &'a RateLimiter,
}

impl Gate<'_> {
    /// The refusal, if the call may not go on.
    pub fn refuses(&self, state: &ServerState, headers: &HeaderMap) -> Option<Response> {
        if let Some(refused) = check_auth(state, self.command, headers, self.peer) {
            return Some(refused);
        }
        if !self.enabled {
            tracing::warn!(
                "{} command is disabled ({}=false)",
                self.command,
                self.enabled_key
            );
            return Some(refusal(self.command, StatusCode::SERVICE_UNAVAILABLE, None));
        }
        if !self.limiter.allow() {
            tracing::warn!(
                "{} request was rate limited (admin.rateLimiterIntervalInMS={})",
                self.command,
                state.config.admin_rate_limiter_interval
            );
            return Some(refusal(self.command, StatusCode::TOO_MANY_REQUESTS, None));
        }
        None
    }
}

/// The command itself, once the server is known to be serving.
pub fn snapshot(
    state: &ServerState,
    limiter: &RateLimiter,
    streaming: Option<&str>,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Response {
    const NAME: &str = "snapshot";
    let gate = Gate {
        command: NAME,
        peer,
        enabled: state.config.admin_snapshot_enabled,
        enabled_key: "admin.snapshot.enabled",
        limiter,
    };
    if let Some(refused) = gate.refuses(state, headers) {
        return refused;
    }
    // Boolean.parseBoolean: only "true", in any case, is true.
    let streaming = streaming.is_none_or(|s| s.eq_ignore_ascii_case("true"));
    let (zk, last_zxid) = {
        let tree = state.tree().read();
        let last_zxid = tree.last_zxid();
        (
            crate::zkformat::to_zookeeper(&tree, last_zxid, &mut |_| {}).0,
            last_zxid,
        )
    };
    let mut body = Vec::new();
    if let Err(e) = corral_zkdata::write::write_snapshot(&zk, &mut body, &mut |_| {}) {
        tracing::warn!(
            "Exception occurred when taking the snapshot via the snapshot admin command: {e}"
        );
        return refusal(NAME, StatusCode::INTERNAL_SERVER_ERROR, None);
    }
    tracing::info!(
        "Snapshot command: {} nodes at zxid 0x{last_zxid:x}, {} bytes",
        zk.nodes.len(),
        body.len()
    );
    let mut out_headers = HeaderMap::new();
    let zxid = format!("0x{last_zxid:x}");
    if let Ok(v) = HeaderValue::from_str(&zxid) {
        out_headers.insert("last_zxid", v);
    }
    out_headers.insert("snapshot_size", HeaderValue::from(body.len() as u64));
    if !streaming {
        let json = json!({ "command": NAME, "error": null });
        return (StatusCode::OK, out_headers, axum::Json(json)).into_response();
    }
    out_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    (StatusCode::OK, out_headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_one_per_interval() {
        let l = RateLimiter::new(Duration::from_secs(3600));
        assert!(l.allow());
        assert!(!l.allow());
        let l = RateLimiter::new(Duration::ZERO);
        assert!(l.allow());
        std::thread::sleep(Duration::from_millis(2));
        assert!(l.allow());
    }
}
