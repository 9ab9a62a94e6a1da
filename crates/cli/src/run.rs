//! Carrying out one command against the server, with zkCli's output.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use zookeeper_client::{
    Acl, Acls, AddWatchMode, AuthId, Client, CreateMode, OneshotWatcher, WatchedEvent,
};

use crate::command::{self, Command, Create};
use crate::format;

/// What a command printed, and whether it succeeded (a one-shot run's exit status).
pub struct Outcome {
    pub text: String,
    pub ok: bool,
}

impl Outcome {
    fn ok(text: String) -> Outcome {
        Outcome { text, ok: true }
    }

    fn failed(text: String) -> Outcome {
        Outcome { text, ok: false }
    }
}

/// What a watch set from the shell watches, in the order zkCli reports their removal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum WatchKind {
    Persistent,
    Data,
    Child,
}

/// Prints watch events as zkCli's single default watcher does: an event that reaches
/// several of the shell's watches (a one-shot and a persistent one) prints once.
#[derive(Clone)]
struct Printer {
    on: Arc<std::sync::atomic::AtomicBool>,
    last: Arc<Mutex<Option<(String, String, i64)>>>,
}

impl Printer {
    fn print(&self, e: &WatchedEvent) {
        // Session events reach every watcher; zkCli reports them once, from the session.
        if e.event_type == zookeeper_client::EventType::Session
            || !self.on.load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let key = (format!("{:?}", e.event_type), e.path.clone(), e.zxid);
        let mut last = lock(&self.last);
        if last.as_ref() == Some(&key) {
            return;
        }
        *last = Some(key);
        print!("{}", event_text(e));
    }
}

/// A connection to a server and the shell's state around it.
pub struct Session {
    client: Mutex<Option<Client>>,
    server: Mutex<String>,
    timeout: Duration,
    read_only: bool,
    printer: Printer,
    watches: Mutex<Vec<(String, WatchKind, tokio::task::JoinHandle<()>)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn open(
    server: &str,
    timeout: Duration,
    read_only: bool,
) -> Result<Client, zookeeper_client::Error> {
    Client::connector()
        .with_session_timeout(timeout)
        .with_readonly(read_only)
        .connect(server)
        .await
}

/// zkCli's watch notification.
pub fn event_text(e: &WatchedEvent) -> String {
    format!(
        "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{:?} path:{}\n",
        e.event_type, e.path
    )
}

/// Prints the session's state changes as zkCli's default watcher does; the closing of
/// a session the shell closed itself is printed by `close`.
pub fn report_state(client: &Client) {
    let mut states = client.state_watcher();
    tokio::spawn(async move {
        loop {
            let state = states.changed().await;
            if state == zookeeper_client::SessionState::Closed {
                break;
            }
            let name = match state {
                zookeeper_client::SessionState::SyncConnected => "SyncConnected",
                zookeeper_client::SessionState::Disconnected => "Disconnected",
                zookeeper_client::SessionState::Expired => "Expired",
                zookeeper_client::SessionState::AuthFailed => "AuthFailed",
                zookeeper_client::SessionState::ConnectedReadOnly => "ConnectedReadOnly",
                _ => "Closed",
            };
            println!("\nWATCHER::\n\nWatchedEvent state:{name} type:None path:null");
            if state.is_terminated() {
                break;
            }
        }
    });
}

impl Session {
    pub async fn connect(
        server: &str,
        timeout: Duration,
        read_only: bool,
    ) -> Result<Session, String> {
        let client = open(server, timeout, read_only)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Session {
            client: Mutex::new(Some(client)),
            server: Mutex::new(server.to_string()),
            timeout,
            read_only,
            printer: Printer {
                on: Arc::new(std::sync::atomic::AtomicBool::new(true)),
                last: Arc::default(),
            },
            watches: Mutex::new(Vec::new()),
        })
    }

    /// Closes the session (its ephemerals go at once) and waits for the server's word.
    pub async fn close(&self) {
        // The watches go first: their receivers must not outlive the session.
        for (_, _, task) in lock(&self.watches).drain(..) {
            task.abort();
        }
        let Some(client) = lock(&self.client).take() else {
            return;
        };
        let mut states = client.state_watcher();
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !states.changed().await.is_terminated() {}
        })
        .await;
    }

    pub fn client(&self) -> Option<Client> {
        lock(&self.client).clone()
    }

    pub fn server(&self) -> String {
        lock(&self.server).clone()
    }

    /// Prints the event when a one-shot watch on `path` fires.
    fn follow(&self, path: &str, kind: WatchKind, watcher: OneshotWatcher) {
        let printer = self.printer.clone();
        let task = tokio::spawn(async move {
            printer.print(&watcher.changed().await);
        });
        lock(&self.watches).push((path.to_string(), kind, task));
    }

    /// Runs one command line's words. `json` makes read commands print JSON.
    pub async fn execute(&self, words: &[&str], json: bool) -> Outcome {
        let cmd = match command::parse(words) {
            Ok(c) => c,
            Err(text) => return Outcome::failed(text),
        };
        match cmd {
            Command::Connect { server } => {
                self.close().await;
                return match open(&server, self.timeout, self.read_only).await {
                    Ok(c) => {
                        report_state(&c);
                        *lock(&self.client) = Some(c);
                        *lock(&self.server) = server;
                        Outcome::ok(
                            "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"
                                .into(),
                        )
                    }
                    Err(e) => Outcome::failed(format!("Unable to connect to {server}: {e}\n")),
                };
            }
            Command::Close => {
                if lock(&self.client).is_none() {
                    return Outcome::ok(String::new());
                }
                self.close().await;
                return Outcome::ok(
                    "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n".into(),
                );
            }
            Command::Help => return Outcome::ok(command::help_text()),
            Command::PrintWatches { on } => {
                let flag = &self.printer.on;
                match on {
                    Some(v) => flag.store(v, std::sync::atomic::Ordering::Relaxed),
                    None => {
                        let now = flag.load(std::sync::atomic::Ordering::Relaxed);
                        return Outcome::ok(format!(
                            "printwatches is {}\n",
                            if now { "on" } else { "off" }
                        ));
                    }
                }
                return Outcome::ok(String::new());
            }
            _ => {}
        }
        let Some(client) = self.client() else {
            return Outcome::failed("Not connected\n".into());
        };
        match self.request(&client, cmd, json).await {
            Ok(text) => Outcome::ok(text),
            Err(text) => Outcome::failed(text),
        }
    }

    async fn request(&self, c: &Client, cmd: Command, json: bool) -> Result<String, String> {
        let mut out = String::new();
        match cmd {
            Command::Ls {
                path,
                stat,
                watch,
                recursive,
            } => {
                let fail = |e| format::error(&e, &path);
                if recursive {
                    let all = walk(c, &path).await.map_err(fail)?;
                    return Ok(if json {
                        format!("{}\n", json!({"path": path, "paths": all}))
                    } else {
                        all.iter().map(|p| format!("{p}\n")).collect()
                    });
                }
                let (mut children, st) = if watch {
                    let (children, watcher) =
                        c.list_and_watch_children(&path).await.map_err(fail)?;
                    self.follow(&path, WatchKind::Child, watcher);
                    let st = c.check_stat(&path).await.map_err(fail)?;
                    (children, st)
                } else {
                    let (children, st) = c.get_children(&path).await.map_err(fail)?;
                    (children, Some(st))
                };
                children.sort();
                if json {
                    let mut v = json!({"path": path, "children": children});
                    if let Some(st) = st.filter(|_| stat) {
                        v["stat"] = format::stat_json(&st);
                    }
                    return Ok(format!("{v}\n"));
                }
                let _ = writeln!(out, "[{}]", children.join(", "));
                if let Some(st) = st.filter(|_| stat) {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::Get { path, stat, watch } => {
                let fail = |e| format::error(&e, &path);
                let (data, st) = if watch {
                    let (d, s, watcher) = c.get_and_watch_data(&path).await.map_err(fail)?;
                    self.follow(&path, WatchKind::Data, watcher);
                    (d, s)
                } else {
                    c.get_data(&path).await.map_err(fail)?
                };
                let text = String::from_utf8_lossy(&data).to_string();
                if json {
                    let mut v = json!({"path": path, "data": text});
                    if stat {
                        v["stat"] = format::stat_json(&st);
                    }
                    return Ok(format!("{}\n", with_stat(v, &st)));
                }
                let _ = writeln!(out, "{}", if data.is_empty() { "null" } else { &text });
                if stat {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::Set {
                path,
                data,
                stat,
                version,
            } => {
                let st = c
                    .set_data(&path, data.as_bytes(), version)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
                if json {
                    return Ok(format!(
                        "{}\n",
                        json!({"path": path, "stat": format::stat_json(&st)})
                    ));
                }
                if stat {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::Stat { path, watch } => {
                let st = if watch {
                    let (st, watcher) = c
                        .check_and_watch_stat(&path)
                        .await
                        .map_err(|e| format::error(&e, &path))?;
                    self.follow(&path, WatchKind::Data, watcher);
                    st
                } else {
                    c.check_stat(&path)
                        .await
                        .map_err(|e| format::error(&e, &path))?
                };
                let Some(st) = st else {
                    return Err(format!("Node does not exist: {path}\n"));
                };
                if json {
                    return Ok(format!(
                        "{}\n",
                        json!({"path": path, "stat": format::stat_json(&st)})
                    ));
                }
                out.push_str(&format::stat(&st));
            }
            Command::Create(create) => {
                let made = self.create(c, &create).await?;
                if json {
                    return Ok(format!("{}\n", json!({"path": made})));
                }
                let _ = writeln!(out, "Created {made}");
            }
            Command::Delete { path, version } => {
                c.delete(&path, version)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
            }
            Command::DeleteAll { path } => {
                let mut all = walk(c, &path).await.map_err(|e| format::error(&e, &path))?;
                all.reverse();
                for p in all {
                    match c.delete(&p, None).await {
                        Ok(()) | Err(zookeeper_client::Error::NoNode) => {}
                        Err(e) => return Err(format::error(&e, &p)),
                    }
                }
            }
            Command::GetAcl { path, stat } => {
                let (acl, st) = c
                    .get_acl(&path)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
                if json {
                    let v = json!({"path": path, "acl": format::acl_json(&acl)});
                    return Ok(format!("{}\n", if stat { with_stat(v, &st) } else { v }));
                }
                out.push_str(&format::acl(&acl));
                if stat {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::SetAcl {
                path,
                acl,
                stat,
                version,
                recursive,
            } => {
                let acl = parse_acl(&acl)?;
                let targets = if recursive {
                    walk(c, &path).await.map_err(|e| format::error(&e, &path))?
                } else {
                    vec![path.clone()]
                };
                let mut last = None;
                for p in &targets {
                    let v = if p == &path { version } else { None };
                    last = Some(
                        c.set_acl(p, &acl, v)
                            .await
                            .map_err(|e| format::error(&e, p))?,
                    );
                }
                if let (true, Some(st)) = (stat, last) {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::AddAuth { scheme, auth } => {
                c.auth(&scheme, auth.as_bytes())
                    .await
                    .map_err(|e| format!("{e}\n"))?;
            }
            Command::Sync { path } => {
                c.sync(&path).await.map_err(|e| format::error(&e, &path))?;
                out.push_str("Sync is OK\n");
            }
            Command::Config { stat, watch } => {
                let (data, st) = if watch {
                    let (d, s, watcher) = c
                        .get_and_watch_config()
                        .await
                        .map_err(|e| format!("{e}\n"))?;
                    self.follow("/zookeeper/config", WatchKind::Data, watcher);
                    (d, s)
                } else {
                    c.get_config().await.map_err(|e| format!("{e}\n"))?
                };
                let text = String::from_utf8_lossy(&data).to_string();
                if json {
                    return Ok(format!("{}\n", with_stat(json!({"config": text}), &st)));
                }
                let _ = writeln!(out, "{text}");
                if stat {
                    out.push_str(&format::stat(&st));
                }
            }
            Command::Reconfig {
                add,
                remove,
                members,
                version,
            } => {
                let update = if members.is_empty() {
                    zookeeper_client::EnsembleUpdate::Incremental {
                        joinings: add.iter().map(String::as_str),
                        leavings: remove.iter().map(String::as_str),
                    }
                } else {
                    zookeeper_client::EnsembleUpdate::New {
                        ensemble: members.iter().map(String::as_str),
                    }
                };
                let (data, _) = c
                    .update_ensemble(update, version)
                    .await
                    .map_err(|e| match e {
                        zookeeper_client::Error::ReconfigDisabled => {
                            "KeeperErrorCode = Reconfig is disabled\n".to_string()
                        }
                        other => format!("KeeperErrorCode = {other}\n"),
                    })?;
                let _ = writeln!(
                    out,
                    "Committed new configuration:\n{}",
                    String::from_utf8_lossy(&data)
                );
            }
            Command::AddWatch { path, recursive } => {
                let mode = if recursive {
                    AddWatchMode::PersistentRecursive
                } else {
                    AddWatchMode::Persistent
                };
                let mut watcher = c
                    .watch(&path, mode)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
                let printer = self.printer.clone();
                let task = tokio::spawn(async move {
                    loop {
                        printer.print(&watcher.changed().await);
                    }
                });
                lock(&self.watches).push((path, WatchKind::Persistent, task));
            }
            Command::RemoveWatches { path } => {
                // Dropping a watcher stops its events; zkCli's watcher is then told of
                // each kind removed, which the shell prints the same way.
                let mut removed = Vec::new();
                lock(&self.watches).retain(|(p, kind, task)| {
                    if task.is_finished() {
                        return false;
                    }
                    if *p != path {
                        return true;
                    }
                    task.abort();
                    removed.push(*kind);
                    false
                });
                if removed.is_empty() {
                    return Err(format!("No watcher exists for path: {path}\n"));
                }
                removed.sort();
                removed.dedup();
                for kind in removed {
                    let name = match kind {
                        WatchKind::Persistent => "PersistentWatchRemoved",
                        WatchKind::Data => "DataWatchRemoved",
                        WatchKind::Child => "ChildWatchRemoved",
                    };
                    let _ = write!(
                        out,
                        "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{name} path:{path}\n"
                    );
                }
            }
            Command::GetEphemerals { path } => {
                let mut list = c
                    .list_ephemerals(&path)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
                list.sort();
                if json {
                    return Ok(format!("{}\n", json!({"path": path, "ephemerals": list})));
                }
                let _ = writeln!(out, "[{}]", list.join(", "));
            }
            Command::GetAllChildrenNumber { path } => {
                let n = c
                    .count_descendants_number(&path)
                    .await
                    .map_err(|e| format::error(&e, &path))?;
                if json {
                    return Ok(format!("{}\n", json!({"path": path, "count": n})));
                }
                let _ = writeln!(out, "{n}");
            }
            Command::WhoAmI => {
                let users = c.list_auth_users().await.map_err(|e| format!("{e}\n"))?;
                if json {
                    let list: Vec<Value> = users
                        .iter()
                        .map(|u| json!({"scheme": u.scheme(), "user": u.user()}))
                        .collect();
                    return Ok(format!("{}\n", Value::Array(list)));
                }
                out.push_str("Auth scheme: User\n");
                for u in users {
                    let _ = writeln!(out, "{}: {}", u.scheme(), u.user());
                }
            }
            Command::Connect { .. }
            | Command::Close
            | Command::History
            | Command::Redo { .. }
            | Command::PrintWatches { .. }
            | Command::Quit
            | Command::Help => {}
        }
        Ok(out)
    }

    async fn create(&self, c: &Client, create: &Create) -> Result<String, String> {
        let acl = match &create.acl {
            Some(text) => parse_acl(text)?,
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
}

fn with_stat(mut v: Value, st: &zookeeper_client::Stat) -> Value {
    v["stat"] = format::stat_json(st);
    v
}

/// `scheme:id:perms[,…]`, as zkCli takes an ACL (a digest id has a colon inside).
fn parse_acl(text: &str) -> Result<Vec<Acl>, String> {
    text.split(',')
        .map(|one| {
            let (scheme, rest) = one
                .split_once(':')
                .ok_or_else(|| format!("{one} does not have the form scheme:id:perm\n"))?;
            let (id, perms) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("{one} does not have the form scheme:id:perm\n"))?;
            let perms = format::parse_perms(perms)
                .ok_or_else(|| format!("{one}: permissions are letters of cdrwa\n"))?;
            Ok(Acl::new(perms, AuthId::new(scheme, id)))
        })
        .collect()
}

/// `path` and every node under it, parents before children (zkCli's ls -R order).
async fn walk(c: &Client, path: &str) -> Result<Vec<String>, zookeeper_client::Error> {
    let mut out = Vec::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        let mut children = c.list_children(&p).await?;
        children.sort();
        for child in children.iter().rev() {
            todo.push(if p == "/" {
                format!("/{child}")
            } else {
                format!("{p}/{child}")
            });
        }
        out.push(p);
    }
    Ok(out)
}
