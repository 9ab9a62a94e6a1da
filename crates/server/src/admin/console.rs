//! The web console under `/console` on the AdminServer: one page, built into the
//! binary (`console/index.html`, no CDN, nothing fetched at run time), that polls
//! `/console/api/ensemble` and draws a card per member with Exhibitor's states. The
//! ensemble is found from this server's configuration and each member asked `srvr`
//! and `mntr` on its client port, so opening any member shows all of them. The
//! Explorer reads this server's tree a page of children at a time
//! (`/console/api/children`) and a node's data, Stat and ACL (`/console/api/node`),
//! as an unauthenticated client would.

use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use corral_jute::records::perms;
use corral_tree::acl;
use serde_json::{json, Value};

use super::exhibitor::{ask, members};
use super::Shared;

const PAGE: &str = include_str!("console/index.html");

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/api/ensemble", get(ensemble))
        .route("/console/api/children", get(children))
        .route("/console/api/node", get(node))
}

/// The most children one page of the Explorer holds.
const PAGE_MAX: usize = 1000;

#[derive(serde::Deserialize)]
struct Page {
    path: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

/// A node's children, sorted, a page at a time: a node with 100,000 children costs a
/// page, not the whole list. Read as an unauthenticated client reads (world ACLs).
async fn children(State(state): State<Shared>, Query(q): Query<Page>) -> Json<Value> {
    let path = q.path.unwrap_or_else(|| "/".into());
    let tree = state.tree().read();
    let Some(n) = tree.node(&path) else {
        return Json(json!({ "path": path, "error": "NoNode" }));
    };
    if !acl::allows(&n.acl, &[], perms::READ) {
        return Json(json!({ "path": path, "error": "NoAuth" }));
    }
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(100).clamp(1, PAGE_MAX);
    // BTreeSet iterates in order: the page is a skip and a take.
    let page: Vec<&String> = n.children.iter().skip(offset).take(limit).collect();
    Json(json!({ "path": path, "total": n.children.len(), "offset": offset, "children": page }))
}

/// A node's data (base64), Stat and ACL, for the Explorer's views.
async fn node(State(state): State<Shared>, Query(q): Query<Page>) -> Json<Value> {
    use base64::Engine;
    let path = q.path.unwrap_or_else(|| "/".into());
    let tree = state.tree().read();
    let Some(n) = tree.node(&path) else {
        return Json(json!({ "path": path, "error": "NoNode" }));
    };
    let acl: Vec<Value> = n
        .acl
        .iter()
        .map(|a| json!({ "perms": a.perms, "scheme": a.id.scheme, "id": a.id.id }))
        .collect();
    if !acl::allows(&n.acl, &[], perms::READ) {
        return Json(json!({ "path": path, "error": "NoAuth", "acl": acl }));
    }
    let s = n.stat();
    let data = n.data.as_deref().unwrap_or_default();
    Json(json!({
        "path": path,
        "data": base64::engine::general_purpose::STANDARD.encode(data),
        "gzip": data.starts_with(&[0x1f, 0x8b]),
        "acl": acl,
        "stat": {
            "czxid": s.czxid, "mzxid": s.mzxid, "ctime": s.ctime, "mtime": s.mtime,
            "version": s.version, "cversion": s.cversion, "aversion": s.aversion,
            "ephemeralOwner": s.ephemeral_owner, "dataLength": s.data_length,
            "numChildren": s.num_children, "pzxid": s.pzxid,
        },
    }))
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// Every member as the Ensemble page shows it, and whether there is a quorum.
async fn ensemble(State(state): State<Shared>) -> Json<Value> {
    let mut cards = Vec::new();
    for (_, address) in members(&state) {
        cards.push(member(&address).await);
    }
    let quorum = cards.iter().any(|c| {
        c["state"] == "SERVING" && matches!(c["role"].as_str(), Some("leader" | "standalone"))
    });
    Json(json!({ "quorum": quorum, "members": cards }))
}

/// One member's card: Exhibitor's state (DOWN when it does not answer, NOT_SERVING
/// when it answers without a mode) and what mntr and srvr say.
async fn member(address: &str) -> Value {
    let Some(srvr) = ask(address, "srvr").await else {
        return json!({ "address": address, "state": "DOWN" });
    };
    let line = |prefix: &str| {
        srvr.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_string())
    };
    let Some(role) = line("Mode: ") else {
        return json!({ "address": address, "state": "NOT_SERVING" });
    };
    let mntr = ask(address, "mntr").await.unwrap_or_default();
    let value = |key: &str| {
        mntr.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('\t')))
            .map(|v| v.trim().to_string())
    };
    json!({
        "address": address,
        "state": "SERVING",
        "role": role,
        "zxid": line("Zxid: "),
        "version": line("Zookeeper version: "),
        "connections": value("zk_num_alive_connections"),
        "znodes": value("zk_znode_count"),
        "watches": value("zk_watch_count"),
        "latency_ms": value("zk_avg_latency"),
        "outstanding": value("zk_outstanding_requests"),
        "uptime_ms": value("zk_uptime"),
    })
}
