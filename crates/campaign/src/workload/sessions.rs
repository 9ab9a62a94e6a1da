//! Sessions and ephemerals: a worker opens a session, creates an ephemeral, checks
//! on it from that session for a while, and closes the session; a second session of
//! the worker's, the observer, then checks that the ephemeral is gone. Faults in
//! between make some sessions move to another server and some expire.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zookeeper_client::{Acls, Client, CreateMode, Error, SessionState};

use super::{bounded, connect, session_lost, Ctx};
use crate::history::{EphemeralCheck, Outcome, SessionLife};

/// `sync` then `exists`, from `client`.
async fn check(
    ctx: &Ctx,
    client: &Client,
    path: &str,
    by_owner: bool,
) -> (EphemeralCheck, Option<Option<Error>>) {
    let invoke = ctx.clock.now();
    let look = async {
        client.sync(path).await?;
        client.check_stat(path).await
    };
    match bounded(look).await {
        Ok(stat) => (
            EphemeralCheck {
                by_owner,
                span: ctx.done(invoke),
                outcome: Outcome::Ok(stat.is_some()),
            },
            None,
        ),
        Err(e) => (
            EphemeralCheck {
                by_owner,
                span: ctx.done(invoke),
                outcome: Outcome::Fail(super::describe(&e)),
            },
            Some(e),
        ),
    }
}

/// Waits for the session to end after its last handle was dropped.
async fn ended(mut states: zookeeper_client::StateWatcher) -> SessionState {
    let mut state = states.state();
    while !state.is_terminated() {
        state = states.changed().await;
    }
    state
}

pub async fn run(ctx: Ctx, process: u32, hosts: String, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(process) << 32) ^ 0xe9);
    let Some(mut observer) = connect(&ctx, &hosts).await else {
        return;
    };
    let mode = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    let mut n = 0;
    while ctx.running() {
        let Some(owner) = connect(&ctx, &hosts).await else {
            break;
        };
        n += 1;
        let path = format!("/ephemerals/w{process}-{n}");
        let states = owner.state_watcher();
        let invoke = ctx.clock.now();
        let (create, created) = match bounded(owner.create(&path, b"", &mode)).await {
            Ok(_) => (ctx.done(invoke), Outcome::Ok(())),
            Err(e) => (ctx.open(invoke), super::unknown(&e)),
        };
        let mut life = SessionLife {
            process,
            session: owner.session_id().0,
            path: path.clone(),
            create,
            created,
            checks: Vec::new(),
            closed: None,
            expired_at: None,
        };
        if life.created.ok().is_some() {
            for _ in 0..rng.random_range(2..8) {
                if !ctx.running() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(rng.random_range(100..400))).await;
                let (c, err) = check(&ctx, &owner, &path, true).await;
                life.checks.push(c);
                if let Some(e) = err {
                    if matches!(e, Some(Error::SessionExpired)) {
                        life.expired_at = Some(ctx.clock.now());
                    }
                    if session_lost(&owner, &e) {
                        break;
                    }
                }
            }
        }
        if life.expired_at.is_none() {
            let invoke = ctx.clock.now();
            drop(owner);
            match tokio::time::timeout(Duration::from_secs(10), ended(states)).await {
                Ok(SessionState::Closed) => life.closed = Some(ctx.done(invoke)),
                Ok(SessionState::Expired) => life.expired_at = Some(ctx.clock.now()),
                _ => {}
            }
        }
        if life.closed.is_some() || life.expired_at.is_some() {
            for _ in 0..2 {
                let (c, err) = check(&ctx, &observer, &path, false).await;
                life.checks.push(c);
                if let Some(e) = err {
                    if session_lost(&observer, &e) {
                        match connect(&ctx, &hosts).await {
                            Some(c) => observer = c,
                            None => break,
                        }
                    }
                }
            }
        }
        ctx.record().sessions.push(life);
    }
}
