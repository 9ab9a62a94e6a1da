//! The reading half of Netflix Exhibitor's REST API, under `/exhibitor/v1/` on the
//! AdminServer, with Exhibitor's field names and types (its `ClusterResource` and
//! `ExplorerResource`): what Curator's `ExhibitorEnsembleProvider` polls
//! (`cluster/list`), what dashboards built for Exhibitor read (`cluster/status`,
//! `cluster/state`, `cluster/4ltr/{word}`), and the tree browser's two reads
//! (`explorer/node`, `explorer/node-data`), which see what an unauthenticated client
//! sees, as Exhibitor's own connection does.
//!
//! Exhibitor has one client port for the whole ensemble; Corral lists each member's
//! client host with this server's client port, as Exhibitor's server spec would.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use corral_jute::records::perms;
use corral_tree::acl;
use serde_json::{json, Value};

use super::Shared;

/// Exhibitor's `InstanceStateTypes`: the code and its description.
const SERVING: (i32, &str) = (3, "serving");
const NOT_SERVING: (i32, &str) = (2, "not serving");
const DOWN: (i32, &str) = (1, "down");
/// The words Exhibitor's `FourLetterWord.Word` knows; others answer "* unknown *".
const WORDS: &[&str] = &[
    "stat", "ruok", "reqs", "dump", "conf", "cons", "srvr", "wchs", "wchc", "wchp", "mntr",
];
/// How long a member has to answer `srvr` for `cluster/status`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/exhibitor/v1/cluster/list", get(list))
        .route("/exhibitor/v1/cluster/state", get(cluster_state))
        .route("/exhibitor/v1/cluster/status", get(status))
        .route("/exhibitor/v1/cluster/4ltr/{word}", get(four_letter_word))
        .route("/exhibitor/v1/explorer/node", get(node))
        .route("/exhibitor/v1/explorer/node-data", get(node_data))
}

/// Each member's client host and the address its client port answers on.
pub(super) fn members(state: &Shared) -> Vec<(String, String)> {
    let c = &state.config;
    let here = c.client_port_address.to_string();
    let host_of = |address: Option<&str>, fallback: &str| match address {
        Some(a) if a != "0.0.0.0" && !a.is_empty() => a.to_string(),
        _ if fallback == "0.0.0.0" => "127.0.0.1".to_string(),
        _ => fallback.to_string(),
    };
    if c.servers.is_empty() {
        let host = host_of(None, &here);
        return vec![(host.clone(), format!("{host}:{}", c.client_port))];
    }
    c.servers
        .iter()
        .map(|p| {
            let (address, port) = match &p.client {
                Some((address, port)) => (address.as_deref(), *port),
                None => (None, c.client_port),
            };
            let host = host_of(address, &p.host);
            (host.clone(), format!("{host}:{port}"))
        })
        .collect()
}

/// `cluster/list`: JSON, or the form Curator's ExhibitorEnsembleProvider asks for
/// with `Accept: application/x-www-form-urlencoded`.
async fn list(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let hosts: Vec<String> = members(&state).into_iter().map(|(h, _)| h).collect();
    let port = state.config.client_port;
    let wants_form = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-www-form-urlencoded"));
    if !wants_form {
        return Json(json!({ "servers": hosts, "port": port })).into_response();
    }
    let mut form = format!("count={}", hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let encoded: String = form_urlencoded::byte_serialize(h.as_bytes()).collect();
        form.push_str(&format!("&server{i}={encoded}"));
    }
    form.push_str(&format!("&port={port}"));
    (
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
        form,
    )
        .into_response()
}

/// `cluster/state`: this server's state, and Exhibitor's control-panel switches
/// (Corral restarts nothing and takes no backups by itself; cleanup is autopurge).
async fn cluster_state(State(state): State<Shared>) -> Json<Value> {
    let mode = crate::report::mode(&state);
    let (code, description) = if mode.is_some() { SERVING } else { NOT_SERVING };
    Json(json!({
        "switches": {
            "restarts": false,
            "cleanup": state.config.autopurge_purge_interval_hours > 0,
            "backups": false,
        },
        "state": code,
        "description": description,
        "isLeader": mode == Some("leader"),
    }))
}

/// `cluster/status`: every member, asked `srvr` on its client port.
async fn status(State(state): State<Shared>) -> Json<Value> {
    let mut out = Vec::new();
    for (host, address) in members(&state) {
        let answer = ask(&address, "srvr").await;
        let mode = answer.as_deref().and_then(|a| {
            a.lines()
                .find_map(|l| l.strip_prefix("Mode: "))
                .map(str::to_string)
        });
        let (code, description) = match (&answer, &mode) {
            (None, _) => DOWN,
            (Some(_), None) => NOT_SERVING,
            (Some(_), Some(_)) => SERVING,
        };
        out.push(json!({
            "hostname": host,
            "code": code,
            "description": description,
            "isLeader": mode.as_deref() == Some("leader"),
        }));
    }
    Json(Value::Array(out))
}

/// `cluster/4ltr/{word}`: this server's answer, as a JSON string.
async fn four_letter_word(State(state): State<Shared>, Path(word): Path<String>) -> Json<Value> {
    let word = word.to_ascii_lowercase();
    if !WORDS.contains(&word.as_str()) {
        return Json(json!("* unknown *"));
    }
    let here = members(&state)
        .into_iter()
        .nth(self_index(&state))
        .map(|(_, a)| a);
    let answer = match here {
        Some(address) => ask(&address, &word).await,
        None => None,
    };
    Json(json!(answer.unwrap_or_default()))
}

fn self_index(state: &Shared) -> usize {
    state
        .config
        .servers
        .iter()
        .position(|p| p.id == state.config.my_id)
        .unwrap_or(0)
}

/// A four-letter word sent to a member, with the time it has to answer.
pub(super) async fn ask(address: &str, word: &str) -> Option<String> {
    crate::fourletter::ask(address, word, PROBE_TIMEOUT).await
}

#[derive(serde::Deserialize)]
struct Key {
    key: Option<String>,
}

/// `explorer/node?key=`: the children, sorted, as the tree widget takes them.
async fn node(State(state): State<Shared>, Query(q): Query<Key>) -> Json<Value> {
    let key = q.key.unwrap_or_else(|| "/".to_string());
    let tree = state.tree().read();
    let readable = tree
        .node(&key)
        .filter(|n| acl::allows(&n.acl, &[], perms::READ));
    let Some(n) = readable else {
        return Json(
            json!([{ "title": "* Exception *", "key": "*", "isLazy": false, "expand": false }]),
        );
    };
    let mut names: Vec<&String> = n.children.iter().collect();
    names.sort();
    let children: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let path = if key == "/" {
                format!("/{name}")
            } else {
                format!("{key}/{name}")
            };
            json!({ "title": name, "key": path, "isLazy": true, "expand": false })
        })
        .collect();
    Json(Value::Array(children))
}

/// `explorer/node-data?key=`: the bytes in hex as Exhibitor writes them (no padding,
/// a space after each), the text, and the Stat as Java's field-by-field string.
async fn node_data(State(state): State<Shared>, Query(q): Query<Key>) -> Json<Value> {
    let key = q.key.unwrap_or_else(|| "/".to_string());
    let tree = state.tree().read();
    let Some(n) = tree.node(&key) else {
        return Json(json!({ "bytes": "", "str": "", "stat": "* not found * " }));
    };
    if !acl::allows(&n.acl, &[], perms::READ) {
        let why = format!("KeeperErrorCode = NoAuth for {key}");
        return Json(json!({ "bytes": "", "str": "Exception", "stat": why }));
    }
    let data = n.data.as_deref().unwrap_or_default();
    let bytes: String = data.iter().map(|b| format!("{b:x} ")).collect();
    let s = n.stat();
    let stat = format!(
        "czxid: {}, mzxid: {}, ctime: {}, mtime: {}, version: {}, cversion: {}, aversion: {}, \
         ephemeralOwner: {}, dataLength: {}, numChildren: {}, pzxid: {}",
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version,
        s.cversion,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children,
        s.pzxid
    );
    Json(json!({ "bytes": bytes, "str": String::from_utf8_lossy(data), "stat": stat }))
}
