//! Registers: reads, writes and compare-and-sets on a few znodes, for the
//! linearizability checker. Every written value is unique in the run (the worker's
//! number in the high bits), so a read names the write it saw.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{bounded, connect, pace, session_lost, unknown, Ctx};
use crate::history::{Outcome, RegisterCall, RegisterOp, RegisterReturn};

pub fn path(key: u32) -> String {
    format!("/registers/{key}")
}

fn parse(data: &[u8]) -> u64 {
    // Anything else than a number we wrote is a value no write produced, which the
    // checker will flag.
    std::str::from_utf8(data)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX)
}

pub async fn run(ctx: Ctx, process: u32, hosts: String, keys: u32, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(process) << 32));
    let mut written = 0u64;
    // The last version this worker saw of each key: what its CAS expects.
    let mut seen = vec![0i32; keys as usize];
    'sessions: while let Some(client) = connect(&ctx, &hosts).await {
        let session = client.session_id().0;
        while ctx.running() {
            let key = rng.random_range(0..keys);
            let p = path(key);
            let call = match rng.random_range(0..100) {
                0..30 => RegisterCall::SyncRead,
                30..45 => RegisterCall::LocalRead,
                45..70 => {
                    written += 1;
                    RegisterCall::Write {
                        value: (u64::from(process) << 40) | written,
                    }
                }
                _ => {
                    written += 1;
                    RegisterCall::Cas {
                        expected: seen[key as usize],
                        value: (u64::from(process) << 40) | written,
                    }
                }
            };
            let invoke = ctx.clock.now();
            let (outcome, lost) = match call {
                RegisterCall::SyncRead | RegisterCall::LocalRead => {
                    let read = async {
                        if call == RegisterCall::SyncRead {
                            client.sync(&p).await?;
                        }
                        client.get_data(&p).await
                    };
                    match bounded(read).await {
                        Ok((data, stat)) => {
                            seen[key as usize] = stat.version;
                            let ret = RegisterReturn::Read {
                                value: parse(&data),
                                version: stat.version,
                            };
                            (Outcome::Ok(ret), false)
                        }
                        Err(e) => (
                            Outcome::Fail(super::describe(&e)),
                            session_lost(&client, &e),
                        ),
                    }
                }
                RegisterCall::Write { value } | RegisterCall::Cas { value, .. } => {
                    let expected = match call {
                        RegisterCall::Cas { expected, .. } => Some(expected),
                        _ => None,
                    };
                    let data = value.to_string();
                    match bounded(client.set_data(&p, data.as_bytes(), expected)).await {
                        Ok(stat) => {
                            seen[key as usize] = stat.version;
                            let ret = RegisterReturn::Written {
                                version: stat.version,
                            };
                            (Outcome::Ok(ret), false)
                        }
                        Err(Some(zookeeper_client::Error::BadVersion)) => {
                            (Outcome::Ok(RegisterReturn::BadVersion), false)
                        }
                        Err(e) => (unknown(&e), session_lost(&client, &e)),
                    }
                }
            };
            let span = if outcome.is_unknown() {
                ctx.open(invoke)
            } else {
                ctx.done(invoke)
            };
            ctx.record().registers.push(RegisterOp {
                process,
                session,
                key,
                span,
                call,
                outcome,
            });
            if lost {
                continue 'sessions;
            }
            pace(&mut rng, 20).await;
        }
        break;
    }
}
