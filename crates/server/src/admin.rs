//! HTTP for operators: ZooKeeper's AdminServer (`/commands` and `/commands/<name>`,
//! JSON) on `admin.serverPort` (8080), a readiness probe at `/ready`, and Prometheus
//! `/metrics` on `metricsProvider.httpPort` (7000). A port that cannot be bound is
//! logged and skipped, as ZooKeeper does with its AdminServer: the client port matters
//! more. `commands` answers the AdminServer's commands and `prometheus` the /metrics
//! page, each formatting what `crate::report` gathers; `snapshot` streams the tree in
//! ZooKeeper's snapshot format (3.9's `snapshot` command, authenticated), and
//! `restore` takes one back (3.9's `restore`, through the log); `https` is the AdminServer's
//! listener under `admin.forceHttps` or `admin.portUnification`; `exhibitor` answers
//! the reading half of Exhibitor's REST API, and `console` serves the web console.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::state::ServerState;

mod commands;
mod console;
mod exhibitor;
mod https;
mod prometheus;
mod restore;
mod snapshot;
mod zk_names;

type Shared = Arc<ServerState>;

/// Starts the HTTP listeners the configuration asks for; the AdminServer speaks
/// HTTPS with `admin_tls` when it is given.
pub async fn start(
    state: Shared,
    admin_tls: Option<Arc<crate::tls::Material>>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if let Some(addr) = state.config.admin {
        let c = &state.config;
        let snapshot_every = c.admin_snapshot_interval_ms.map_or(
            Duration::from_micros(c.admin_rate_limiter_interval),
            Duration::from_millis,
        );
        let restore_every = Duration::from_millis(
            c.admin_restore_interval_ms
                .unwrap_or(c.admin_rate_limiter_interval),
        );
        let limiter = Arc::new(snapshot::RateLimiter::new(snapshot_every));
        let restore_limiter = Arc::new(RestoreLimiter(snapshot::RateLimiter::new(restore_every)));
        let app = Router::new()
            .route("/commands/snapshot", get(snapshot_command))
            .route("/commands/snap", get(snapshot_command))
            .layer(axum::Extension(limiter))
            .route("/commands/restore", post(restore_command))
            .route("/commands/rest", post(restore_command))
            .layer(axum::Extension(restore_limiter))
            .route("/commands", get(list))
            .route("/commands/", get(list))
            .route("/commands/{name}", get(command))
            .route("/ready", get(ready))
            .merge(exhibitor::routes())
            .merge(console::routes())
            .with_state(state.clone());
        let tls = admin_tls.map(|m| AdminTls {
            material: m,
            unified: !state.config.admin_https.force_https,
            handshake_timeout: Duration::from_millis(state.config.tls.handshake_timeout_ms),
        });
        if let Some(t) = serve("AdminServer", addr, app, tls, stop.clone()).await {
            tasks.push(t);
        }
    }
    if let Some(addr) = state.config.metrics {
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/ready", get(ready))
            .with_state(state.clone());
        if let Some(t) = serve("Prometheus metrics", addr, app, None, stop).await {
            tasks.push(t);
        }
    }
    tasks
}

/// Where an HTTP request came from, on either listener: the `ip` scheme of the
/// snapshot and restore commands authenticates by it.
#[derive(Clone, Copy, Debug)]
struct Peer(std::net::SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, https::HttpsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, https::HttpsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// HTTPS on the AdminServer.
struct AdminTls {
    material: Arc<crate::tls::Material>,
    /// `admin.portUnification`: plain HTTP is served too.
    unified: bool,
    handshake_timeout: Duration,
}

async fn serve(
    what: &str,
    addr: std::net::SocketAddr,
    app: Router,
    tls: Option<AdminTls>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot start the {what} on {addr}: {e}; continuing without it");
            return None;
        }
    };
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let Some(tls) = tls else {
        tracing::info!("{what} listening on http://{addr}");
        return Some(tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<Peer>();
            let served = axum::serve(listener, app).with_graceful_shutdown(shutdown);
            if let Err(e) = served.await {
                tracing::warn!("HTTP server stopped: {e}");
            }
        }));
    };
    let plain = if tls.unified { " and http" } else { "" };
    let listener =
        match https::HttpsListener::new(listener, tls.material, tls.unified, tls.handshake_timeout)
        {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot start the {what} on {addr}: {e}; continuing without it");
                return None;
            }
        };
    tracing::info!("{what} listening on https{plain}://{addr}");
    Some(tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<Peer>();
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown);
        if let Err(e) = served.await {
            tracing::warn!("HTTPS server stopped: {e}");
        }
    }))
}

/// ZooKeeper's list: a link per command, sorted.
async fn list() -> Html<String> {
    let mut names: Vec<&str> = commands::COMMANDS.iter().map(|c| c.names[0]).collect();
    names.push("snapshot");
    names.push("restore");
    names.sort_unstable();
    Html(
        names
            .iter()
            .map(|n| format!("<a href=\"/commands/{n}\">{n}</a>\n<br/>\n"))
            .collect(),
    )
}

async fn command(
    State(state): State<Shared>,
    Path(name): Path<String>,
    Query(args): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    let mut out = Map::new();
    let Some(cmd) = commands::find(&name) else {
        out.insert("command".into(), name.clone().into());
        out.insert("error".into(), format!("Unknown command: {name}").into());
        return Json(Value::Object(out));
    };
    out.insert("command".into(), cmd.names[0].into());
    out.insert("error".into(), Value::Null);
    if cmd.needs_server && !crate::quorum::serving(&state) && !crate::quorum::read_only(&state) {
        out.insert(
            "error".into(),
            "This ZooKeeper instance is not currently serving requests".into(),
        );
        return Json(Value::Object(out));
    }
    (cmd.run)(&state, &args, &mut out);
    Json(Value::Object(out))
}

/// `snapshot`: binary, with its own status codes, so apart from the JSON commands.
async fn snapshot_command(
    State(state): State<Shared>,
    axum::Extension(limiter): axum::Extension<Arc<snapshot::RateLimiter>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Query(args): Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !crate::quorum::serving(&state) && !crate::quorum::read_only(&state) {
        let body = serde_json::json!({
            "command": "snapshot",
            "error": "This ZooKeeper instance is not currently serving requests",
        });
        return Json(body).into_response();
    }
    let state = state.clone();
    let streaming = args.get("streaming").cloned();
    // Encoding the tree is CPU work as long as the tree is big: off the runtime.
    let answer = tokio::task::spawn_blocking(move || {
        snapshot::snapshot(&state, &limiter, streaming.as_deref(), &headers, peer.ip())
    })
    .await;
    answer.unwrap_or_else(|e| {
        tracing::warn!("the snapshot command failed: {e}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// The restore command's own limiter, in milliseconds where the snapshot's is in
/// microseconds.
struct RestoreLimiter(snapshot::RateLimiter);

/// `restore`: a POST whose body is a snapshot; refused unless this server serves
/// with a quorum (a read-only server cannot reach the log).
async fn restore_command(
    State(state): State<Shared>,
    axum::Extension(limiter): axum::Extension<Arc<RestoreLimiter>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    if !crate::quorum::serving(&state) {
        let body = serde_json::json!({
            "command": "restore",
            "error": "This ZooKeeper instance is not currently serving requests",
        });
        return Json(body).into_response();
    }
    restore::restore(&state, &limiter.0, &headers, peer.ip(), body).await
}

/// 200 while this server serves clients (a quorum, or read-only mode), 503 otherwise.
async fn ready(State(state): State<Shared>) -> Response {
    if crate::quorum::serving(&state) || crate::quorum::read_only(&state) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not serving\n").into_response()
    }
}

async fn metrics(State(state): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        prometheus::render(&state),
    )
        .into_response()
}
