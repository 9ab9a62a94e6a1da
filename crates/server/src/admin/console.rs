//! The web console under `/console` on the AdminServer: one page, built into the
//! binary (`console/index.html`, no CDN, nothing fetched at run time), that polls
//! `/console/api/ensemble` and draws a card per member with Exhibitor's states. The
//! ensemble is found from this server's configuration and each member asked `srvr`
//! and `mntr` on its client port, so opening any member shows all of them.

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::exhibitor::{ask, members};
use super::Shared;

const PAGE: &str = include_str!("console/index.html");

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/api/ensemble", get(ensemble))
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
