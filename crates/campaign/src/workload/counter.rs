//! Sync-then-read: one writer bumps `/counter`, and one reader per server, connected
//! to that server alone, runs `sync` then `getData`. Each read must see every write
//! acknowledged before its sync was sent, whichever server it asked.

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::{bounded, connect, pace, session_lost, unknown, Ctx};
use crate::history::{CounterWrite, Outcome, SyncThenRead};

pub const PATH: &str = "/counter";

pub async fn write(ctx: Ctx, process: u32, hosts: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xc0);
    'sessions: while let Some(client) = connect(&ctx, &hosts).await {
        while ctx.running() {
            let invoke = ctx.clock.now();
            let (outcome, span, lost) = match bounded(client.set_data(PATH, b"x", None)).await {
                Ok(stat) => (Outcome::Ok(stat.version), ctx.done(invoke), false),
                Err(e) => (unknown(&e), ctx.open(invoke), session_lost(&client, &e)),
            };
            ctx.record().counter_writes.push(CounterWrite {
                process,
                span,
                outcome,
            });
            if lost {
                continue 'sessions;
            }
            pace(&mut rng, 10).await;
        }
        break;
    }
}

pub async fn read(ctx: Ctx, process: u32, server: usize, host: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(process) << 32) ^ 0xc1);
    'sessions: while let Some(client) = connect(&ctx, &host).await {
        while ctx.running() {
            let invoke = ctx.clock.now();
            let read = async {
                client.sync(PATH).await?;
                client.get_data(PATH).await
            };
            let (outcome, lost) = match bounded(read).await {
                Ok((_, stat)) => (Outcome::Ok(stat.version), false),
                Err(e) => (
                    Outcome::Fail(super::describe(&e)),
                    session_lost(&client, &e),
                ),
            };
            ctx.record().sync_reads.push(SyncThenRead {
                process,
                server,
                span: ctx.done(invoke),
                outcome,
            });
            if lost {
                continue 'sessions;
            }
            pace(&mut rng, 10).await;
        }
        break;
    }
}
