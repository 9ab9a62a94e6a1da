//! A queue of sequential creates under `/queue`: each create carries a unique id, so
//! the final read can tell lost and duplicated entries apart.

use rand::rngs::StdRng;
use rand::SeedableRng;
use zookeeper_client::{Acls, CreateMode};

use super::{bounded, connect, pace, session_lost, unknown, Ctx};
use crate::history::{EnqueueOp, Outcome, QueueEntry};

pub async fn run(ctx: Ctx, process: u32, hosts: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(process) << 32) ^ 0x71);
    let mut n = 0u64;
    let mode = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    'sessions: while let Some(client) = connect(&ctx, &hosts).await {
        while ctx.running() {
            n += 1;
            let id = (u64::from(process) << 40) | n;
            let invoke = ctx.clock.now();
            let data = id.to_string();
            let (outcome, span, lost) =
                match bounded(client.create("/queue/q-", data.as_bytes(), &mode)).await {
                    Ok((_, seq)) => (
                        Outcome::Ok(format!("/queue/q-{seq}")),
                        ctx.done(invoke),
                        false,
                    ),
                    Err(e) => (unknown(&e), ctx.open(invoke), session_lost(&client, &e)),
                };
            ctx.record().enqueues.push(EnqueueOp {
                process,
                id,
                span,
                outcome,
            });
            if lost {
                continue 'sessions;
            }
            pace(&mut rng, 30).await;
        }
        break;
    }
}

/// Reads every entry of the queue, after the faults are healed.
pub async fn read_all(client: &zookeeper_client::Client) -> Result<Vec<QueueEntry>, String> {
    client.sync("/queue").await.map_err(|e| e.to_string())?;
    let names = client
        .list_children("/queue")
        .await
        .map_err(|e| e.to_string())?;
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let path = format!("/queue/{name}");
        let (data, stat) = client.get_data(&path).await.map_err(|e| e.to_string())?;
        let id = std::str::from_utf8(&data)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{path} holds {data:?}, not an id"))?;
        entries.push(QueueEntry {
            path,
            id,
            czxid: stat.czxid,
        });
    }
    Ok(entries)
}
