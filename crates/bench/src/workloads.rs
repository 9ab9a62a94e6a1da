//! The workloads. Each runs `sessions` connections with `depth` requests in flight on
//! each, until `--ops` operations or `--seconds` have passed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corral_jute::records::{
    perms, Acl, CreateRequest, GetChildrenResponse, Id, PathWatchRequest, SetDataRequest,
};
use corral_jute::{ErrorCode, Jute, OpCode};
use tokio::sync::mpsc;

use crate::client::{Client, ClientError};
use crate::report::{proc_stat, Report, Samples};
use crate::{Cli, Workload};

const NODE_EXISTS: i32 = -110;

fn open_acl() -> Vec<Acl> {
    vec![Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn create_body(path: &str, value: &Bytes, flags: i32) -> Bytes {
    CreateRequest {
        path: path.to_string(),
        data: Some(value.clone()),
        acl: open_acl(),
        flags,
    }
    .to_bytes()
}

async fn ensure(client: &Client, path: &str, value: &Bytes) -> Result<(), ClientError> {
    let r = client
        .call(OpCode::Create, &create_body(path, value, 0))
        .await?;
    if r.err != 0 && r.err != NODE_EXISTS {
        eprintln!("create {path}: error {}", r.err);
    }
    Ok(())
}

/// Creates `keys` nodes under the prefix, pipelined, for the read and update loads.
async fn seed(cli: &Cli, keys: usize, value: &Bytes) -> Result<(), ClientError> {
    let c = Client::connect(&cli.server, 30_000, None).await?;
    ensure(&c, &cli.prefix, &Bytes::new()).await?;
    let mut pending = Vec::with_capacity(keys);
    for k in 0..keys {
        pending.push(
            c.send(
                OpCode::Create,
                &create_body(&format!("{}/k{k}", cli.prefix), value, 0),
            )
            .await?,
        );
        if pending.len() >= 256 {
            for p in pending.drain(..) {
                let _ = p.await;
            }
        }
    }
    for p in pending {
        let _ = p.await;
    }
    c.close().await
}

/// The shared stop rule: an operation budget, a deadline, or both.
struct Budget {
    issued: AtomicU64,
    limit: u64,
    deadline: Instant,
}

impl Budget {
    fn take(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        (n < self.limit).then_some(n)
    }
}

/// Runs `depth` loops per session, each sending one request at a time built by `op`
/// from the operation's sequence number.
async fn drive<F>(cli: &Cli, clients: Vec<Arc<Client>>, op: F) -> (u64, Duration, Samples)
where
    F: Fn(u64) -> (OpCode, Bytes) + Send + Sync + 'static,
{
    let budget = Arc::new(Budget {
        issued: AtomicU64::new(0),
        limit: cli.ops.unwrap_or(u64::MAX),
        deadline: Instant::now() + Duration::from_secs_f64(cli.seconds),
    });
    let op = Arc::new(op);
    let slow_us = cli.slow_ms.map(|ms| ms * 1000);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in &clients {
        for _ in 0..cli.depth {
            let (c, budget, op, done) = (c.clone(), budget.clone(), op.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = Samples::default();
                while let Some(n) = budget.take() {
                    let (code, body) = op(n);
                    let t0 = Instant::now();
                    match c.call(code, &body).await {
                        Ok(r) => {
                            let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                            s.latencies_us.push(us);
                            if slow_us.is_some_and(|limit| u64::from(us) > limit) {
                                let now = std::time::SystemTime::now()
                                    .duration_since(std::time::UNIX_EPOCH)
                                    .map(|d| d.as_millis())
                                    .unwrap_or(0);
                                eprintln!("slow: {us} us, completed at {now} ms");
                            }
                            if r.err != 0 {
                                s.errors += 1;
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            s.errors += 1;
                            break;
                        }
                    }
                }
                s
            }));
        }
    }
    let mut samples = Samples::default();
    for t in tasks {
        if let Ok(s) = t.await {
            samples.merge(s);
        }
    }
    (done.load(Ordering::Relaxed), started.elapsed(), samples)
}

async fn connect_all(cli: &Cli) -> Result<Vec<Arc<Client>>, ClientError> {
    let mut out = Vec::with_capacity(cli.sessions);
    for _ in 0..cli.sessions.max(1) {
        out.push(Arc::new(Client::connect(&cli.server, 30_000, None).await?));
    }
    Ok(out)
}

/// What one workload measured: its name, the operations done, how long they took,
/// their latencies, and any figures of its own.
struct Measured {
    name: &'static str,
    ops: u64,
    elapsed: Duration,
    samples: Samples,
    extra: Vec<(String, serde_json::Value)>,
}

impl Measured {
    fn of(name: &'static str, (ops, elapsed, samples): (u64, Duration, Samples)) -> Self {
        Measured {
            name,
            ops,
            elapsed,
            samples,
            extra: Vec::new(),
        }
    }
}

pub async fn run(cli: &Cli) -> Result<(), ClientError> {
    let value = Bytes::from(vec![b'x'; cli.value_size]);
    let before = proc_stat(cli.pid);
    let m = match cli.workload.clone() {
        Workload::Create => create(cli, value).await?,
        Workload::Set { keys } => set(cli, keys, value).await?,
        Workload::Get { keys } => get(cli, keys, value).await?,
        Workload::Mixed { keys, read_pct } => mixed(cli, keys, read_pct, value).await?,
        Workload::Watch { watchers, events } => watched(cli, watchers, events, &value).await?,
        Workload::Connect => Measured::of("connect", churn(cli, 0, &value).await),
        Workload::Ephemeral { per_session } => ephemeral(cli, per_session, &value).await?,
        Workload::Probe { path, timeout } => return probe(cli, &path, timeout).await,
    };
    let after = proc_stat(cli.pid);
    Report {
        workload: m.name.to_string(),
        ops: m.ops,
        elapsed: m.elapsed,
        samples: m.samples,
        before,
        after,
        extra: m.extra,
    }
    .print(cli.json);
    Ok(())
}

async fn create(cli: &Cli, value: Bytes) -> Result<Measured, ClientError> {
    let c = Client::connect(&cli.server, 30_000, None).await?;
    ensure(&c, &cli.prefix, &Bytes::new()).await?;
    // Names carry a run tag so repeated runs do not collide.
    let tag = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
            & 0xffffff
    );
    let prefix = cli.prefix.clone();
    let clients = connect_all(cli).await?;
    let run = drive(cli, clients, move |i| {
        (
            OpCode::Create,
            create_body(&format!("{prefix}/n{tag}-{i:010}"), &value, 0),
        )
    });
    Ok(Measured::of("create", run.await))
}

async fn set(cli: &Cli, keys: usize, value: Bytes) -> Result<Measured, ClientError> {
    seed(cli, keys, &value).await?;
    let prefix = cli.prefix.clone();
    let clients = connect_all(cli).await?;
    let run = drive(cli, clients, move |i| {
        let body = SetDataRequest {
            path: format!("{prefix}/k{}", i % keys as u64),
            data: Some(value.clone()),
            version: -1,
        };
        (OpCode::SetData, body.to_bytes())
    });
    Ok(Measured::of("set", run.await))
}

async fn get(cli: &Cli, keys: usize, value: Bytes) -> Result<Measured, ClientError> {
    seed(cli, keys, &value).await?;
    let prefix = cli.prefix.clone();
    let clients = connect_all(cli).await?;
    let run = drive(cli, clients, move |i| {
        let body = PathWatchRequest {
            path: format!("{prefix}/k{}", i % keys as u64),
            watch: false,
        };
        (OpCode::GetData, body.to_bytes())
    });
    Ok(Measured::of("get", run.await))
}

async fn mixed(
    cli: &Cli,
    keys: usize,
    read_pct: u32,
    value: Bytes,
) -> Result<Measured, ClientError> {
    seed(cli, keys, &value).await?;
    let prefix = cli.prefix.clone();
    let clients = connect_all(cli).await?;
    let run = drive(cli, clients, move |i| {
        let path = format!("{prefix}/k{}", i % keys as u64);
        // A fixed spread of reads and writes: i's hash decides, so each run
        // sends the same mix.
        if (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 100 < read_pct as u64 {
            (
                OpCode::GetData,
                PathWatchRequest { path, watch: false }.to_bytes(),
            )
        } else {
            let body = SetDataRequest {
                path,
                data: Some(value.clone()),
                version: -1,
            };
            (OpCode::SetData, body.to_bytes())
        }
    });
    Ok(Measured::of("mixed", run.await))
}

async fn watched(
    cli: &Cli,
    watchers: usize,
    events: usize,
    value: &Bytes,
) -> Result<Measured, ClientError> {
    let (s, last) = watch(cli, watchers, events, value).await?;
    let n = s.latencies_us.len() as u64;
    let mut m = Measured::of("watch", (n, Duration::from_secs_f64(cli.seconds), s));
    m.extra
        .push(("watchers".to_string(), serde_json::json!(watchers)));
    m.extra.push((
        "last_notified_p50_us".to_string(),
        serde_json::json!(crate::report::percentile(&last, 50.0)),
    ));
    m.extra.push((
        "last_notified_max_us".to_string(),
        serde_json::json!(last.last().copied().unwrap_or(0)),
    ));
    Ok(m)
}

async fn ephemeral(cli: &Cli, per_session: usize, value: &Bytes) -> Result<Measured, ClientError> {
    let c = Client::connect(&cli.server, 30_000, None).await?;
    let parent = format!("{}/e", cli.prefix);
    ensure(&c, &cli.prefix, &Bytes::new()).await?;
    ensure(&c, &parent, &Bytes::new()).await?;
    let mut m = Measured::of("ephemeral", churn(cli, per_session, value).await);
    // Every session closed: none of its ephemerals may be left.
    let request = PathWatchRequest {
        path: parent,
        watch: false,
    };
    let r = c.call(OpCode::GetChildren, &request.to_bytes()).await?;
    let left = GetChildrenResponse::from_bytes(&r.body)
        .map(|g| g.children.len())
        .unwrap_or(usize::MAX);
    m.extra
        .push(("ephemerals_left".to_string(), serde_json::json!(left)));
    c.close().await?;
    if left != 0 {
        eprintln!("corral-bench: {left} ephemerals outlived their sessions");
    }
    Ok(m)
}

/// connect+close (per_session = 0), or connect, create ephemerals, close.
async fn churn(cli: &Cli, per_session: usize, value: &Bytes) -> (u64, Duration, Samples) {
    let budget = Arc::new(Budget {
        issued: AtomicU64::new(0),
        limit: cli.ops.unwrap_or(u64::MAX),
        deadline: Instant::now() + Duration::from_secs_f64(cli.seconds),
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cli.sessions.max(1) * cli.depth.max(1) {
        let (budget, server, value) = (budget.clone(), cli.server.clone(), value.clone());
        let parent = format!("{}/e", cli.prefix);
        tasks.push(tokio::spawn(async move {
            let mut s = Samples::default();
            let mut n = 0u64;
            while let Some(i) = budget.take() {
                let t0 = Instant::now();
                let result: Result<(), ClientError> = async {
                    let c = Client::connect(&server, 10_000, None).await?;
                    for k in 0..per_session {
                        let r = c
                            .call(
                                OpCode::Create,
                                &create_body(&format!("{parent}/s{i}-{k}"), &value, 1),
                            )
                            .await?;
                        if r.err != 0 {
                            return Err(ClientError::Closed);
                        }
                    }
                    c.close().await
                }
                .await;
                match result {
                    Ok(()) => {
                        s.latencies_us
                            .push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        n += 1;
                    }
                    Err(_) => s.errors += 1,
                }
            }
            (n, s)
        }));
    }
    let mut total = 0;
    let mut samples = Samples::default();
    for t in tasks {
        if let Ok((n, s)) = t.await {
            total += n;
            samples.merge(s);
        }
    }
    (total, started.elapsed(), samples)
}

/// Per event: the time from the write until each watcher heard of it; and the time
/// until the last one did.
async fn watch(
    cli: &Cli,
    watchers: usize,
    events: usize,
    value: &Bytes,
) -> Result<(Samples, Vec<u32>), ClientError> {
    let writer = Client::connect(&cli.server, 30_000, None).await?;
    ensure(&writer, &cli.prefix, &Bytes::new()).await?;
    let path = format!("{}/watched", cli.prefix);
    ensure(&writer, &path, value).await?;
    let mut clients = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let (tx, rx) = mpsc::unbounded_channel();
        clients.push((Client::connect(&cli.server, 30_000, Some(tx)).await?, rx));
    }
    let mut samples = Samples::default();
    let mut last = Vec::with_capacity(events);
    let arm = PathWatchRequest {
        path: path.clone(),
        watch: true,
    }
    .to_bytes();
    for _ in 0..events {
        let mut armed = Vec::with_capacity(watchers);
        for (c, _) in &clients {
            armed.push(c.send(OpCode::GetData, &arm).await?);
        }
        for a in armed {
            let _ = a.await;
        }
        let t0 = Instant::now();
        let set = SetDataRequest {
            path: path.clone(),
            data: Some(value.clone()),
            version: -1,
        };
        let reply = writer.call(OpCode::SetData, &set.to_bytes()).await?;
        if reply.err != ErrorCode::Ok.as_i32() {
            samples.errors += 1;
        }
        let mut slowest = 0;
        for (_, rx) in clients.iter_mut() {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((heard, _))) => {
                    let us = heard.saturating_duration_since(t0).as_micros();
                    let us = us.min(u32::MAX as u128) as u32;
                    samples.latencies_us.push(us);
                    slowest = slowest.max(us);
                }
                _ => samples.errors += 1,
            }
        }
        last.push(slowest);
    }
    for (c, _) in &clients {
        let _ = c.close().await;
    }
    writer.close().await?;
    last.sort_unstable();
    Ok((samples, last))
}

async fn probe(cli: &Cli, path: &str, timeout: f64) -> Result<(), ClientError> {
    let started = Instant::now();
    let body = PathWatchRequest {
        path: path.to_string(),
        watch: false,
    }
    .to_bytes();
    loop {
        // A server that is still starting may accept the connection and not answer:
        // every attempt has a deadline.
        let attempt = async {
            let c = Client::connect(&cli.server, 30_000, None).await.ok()?;
            let r = c.call(OpCode::GetData, &body).await.ok()?;
            Some((c, r))
        };
        if let Ok(Some((c, r))) = tokio::time::timeout(Duration::from_millis(500), attempt).await {
            {
                if r.err == 0 {
                    let ms = started.elapsed().as_millis();
                    if cli.json {
                        println!(
                            "{}",
                            serde_json::json!({"workload": "probe", "first_read_ms": ms})
                        );
                    } else {
                        println!("first successful read after {ms} ms");
                    }
                    let _ = c.close().await;
                    return Ok(());
                }
            }
        }
        if started.elapsed().as_secs_f64() > timeout {
            return Err(ClientError::Closed);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
