//! The register checker at scale, and cross-checked against a brute-force search on
//! histories small enough to enumerate.

use std::collections::HashSet;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::tests::reg;
use super::*;

const BUDGET: usize = 1_000_000;

fn lost(p: u32, invoke: u64, call: RegisterCall) -> RegisterOp {
    reg(p, (invoke, None), call, Outcome::Unknown("timeout".into()))
}

/// A register run by `processes` workers, each op taking effect at a random point
/// of its span; some ops lose their answer (and half of those took effect).
pub(crate) fn simulated(n: usize, processes: u32, seed: u64) -> Vec<RegisterOp> {
    simulated_with(n, processes, seed, 0.03)
}

fn simulated_with(n: usize, processes: u32, seed: u64, unknown_rate: f64) -> Vec<RegisterOp> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut clock = vec![0u64; processes as usize];
    let mut planned: Vec<(u64, u64, u64, u32)> = (0..n)
        .map(|i| {
            let p = i as u32 % processes;
            let invoke = clock[p as usize] + rng.random_range(0..20);
            let complete = invoke + rng.random_range(1..60);
            clock[p as usize] = complete + 1;
            (rng.random_range(invoke..=complete), invoke, complete, p)
        })
        .collect();
    planned.sort_unstable();
    let (mut value, mut version, mut fresh) = (0u64, 0i32, 1u64);
    let mut ops = Vec::with_capacity(n);
    for (_, invoke, complete, p) in planned {
        let unknown = rng.random_bool(unknown_rate);
        let effect = !unknown || rng.random_bool(0.5);
        let roll = rng.random_range(0..10);
        let (call, ret) = if roll < 4 {
            (
                RegisterCall::SyncRead,
                RegisterReturn::Read { value, version },
            )
        } else if roll < 7 {
            fresh += 1;
            if effect {
                (value, version) = (fresh, version + 1);
            }
            let call = RegisterCall::Write { value: fresh };
            (call, RegisterReturn::Written { version })
        } else {
            fresh += 1;
            let expected = (version - rng.random_range(0..2)).max(0);
            let call = RegisterCall::Cas {
                expected,
                value: fresh,
            };
            if expected == version && effect {
                (value, version) = (fresh, version + 1);
                (call, RegisterReturn::Written { version })
            } else {
                (call, RegisterReturn::BadVersion)
            }
        };
        ops.push(if unknown {
            lost(p, invoke, call)
        } else {
            reg(p, (invoke, Some(complete)), call, Outcome::Ok(ret))
        });
    }
    ops
}

#[test]
fn thousands_of_ops_on_one_key_check_quickly() {
    let ops = simulated(4000, 5, 7);
    let unknown = ops.iter().filter(|o| o.outcome.is_unknown()).count();
    assert!(unknown > 50, "{unknown}");
    let started = Instant::now();
    let (found, explored) = check(&ops, BUDGET);
    assert_eq!(found, vec![]);
    assert!(explored < 40_000, "{explored} states for {} ops", ops.len());
    eprintln!("4000 ops: {explored} states in {:?}", started.elapsed());
}

#[test]
fn a_bad_read_among_thousands_of_ops_is_found_not_timed_out() {
    let mut ops = simulated(4000, 5, 11);
    let Some(bad) = ops
        .iter_mut()
        .skip(2000)
        .find(|o| o.call == RegisterCall::SyncRead && o.outcome.ok().is_some())
    else {
        panic!("no read to corrupt");
    };
    if let Outcome::Ok(RegisterReturn::Read { value, .. }) = &mut bad.outcome {
        *value = 999_999_999;
    }
    let started = Instant::now();
    let (found, explored) = check(&ops, BUDGET);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].summary.contains("not linearizable"),
        "{}",
        found[0].summary
    );
    assert!(
        found[0].window.contains("value=999999999"),
        "{}",
        found[0].window
    );
    eprintln!(
        "4000 ops, refuted: {explored} states in {:?}",
        started.elapsed()
    );
    eprintln!("{}\n{}", found[0].summary, found[0].window);
}

/// Every order the real-time bounds allow, with no memo and no reductions.
fn brute_force(ops: &[Operation<Input, RegisterReturn>]) -> bool {
    fn go(ops: &[Operation<Input, RegisterReturn>], placed: &mut [bool], s: Register) -> bool {
        let unplaced_known = (0..ops.len()).filter(|&i| !placed[i] && ops[i].returned.is_some());
        let Some(deadline) = unplaced_known.map(|i| returned_at(&ops[i])).min() else {
            return true;
        };
        for i in 0..ops.len() {
            if placed[i] || ops[i].invoke > deadline {
                continue;
            }
            let out = ops[i].returned.as_ref().map(|(_, o)| o);
            if let Some(next) = RegisterModel.step(&s, &ops[i].input, out) {
                placed[i] = true;
                let found = go(ops, placed, next);
                placed[i] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
    fn returned_at(op: &Operation<Input, RegisterReturn>) -> u64 {
        op.returned
            .as_ref()
            .map_or(u64::MAX, |(t, _)| (*t).max(op.invoke))
    }
    go(ops, &mut vec![false; ops.len()], RegisterModel.init())
}

#[test]
fn the_search_agrees_with_brute_force_on_small_histories() {
    let mut rng = StdRng::seed_from_u64(1);
    let (mut passed, mut refuted) = (0, 0);
    for seed in 0..3000 {
        let mut ops = simulated_with(rng.random_range(2..8), 3, seed, 0.3);
        // Perturb half of them, most into non-linearizable histories.
        if rng.random_bool(0.5) {
            let i = rng.random_range(0..ops.len());
            if let Outcome::Ok(ret) = &mut ops[i].outcome {
                match ret {
                    RegisterReturn::Read { value, version } if rng.random_bool(0.5) => {
                        *value = rng.random_range(0..6);
                        *version = rng.random_range(0..4);
                    }
                    RegisterReturn::Read { version, .. } | RegisterReturn::Written { version } => {
                        *version += rng.random_range(-1..=1);
                    }
                    RegisterReturn::BadVersion => *ret = RegisterReturn::Written { version: 1 },
                }
            }
        }
        let all_values: HashSet<u64> = (0..100).collect();
        let raw: Vec<_> = ops
            .iter()
            .filter_map(|o| to_operation(o, &all_values))
            .collect();
        let expected = brute_force(&raw);
        let (found, _) = check(&ops, BUDGET);
        assert_eq!(
            found.is_empty(),
            expected,
            "seed {seed}: {ops:#?} {found:#?}"
        );
        if expected {
            passed += 1;
        } else {
            refuted += 1;
        }
    }
    assert!(
        passed > 300 && refuted > 300,
        "{passed} passed, {refuted} refuted"
    );
}

#[test]
fn many_unknowns_from_every_process_still_check_quickly() {
    let ops = simulated_with(3000, 5, 5, 0.15);
    let started = Instant::now();
    let (found, explored) = check(&ops, BUDGET);
    assert_eq!(found, vec![]);
    eprintln!(
        "3000 ops, 15% unknown: {explored} states in {:?}",
        started.elapsed()
    );
}
