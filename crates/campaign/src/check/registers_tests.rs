//! The register checker's rules, one hand-built history each.

use super::*;
use crate::history::Span;

const BUDGET: usize = 1_000_000;

pub(crate) fn reg(
    process: u32,
    (invoke, complete): (u64, Option<u64>),
    call: RegisterCall,
    outcome: Outcome<RegisterReturn>,
) -> RegisterOp {
    RegisterOp {
        process,
        session: i64::from(process) + 100,
        key: 1,
        span: Span { invoke, complete },
        call,
        outcome,
    }
}

fn read(p: u32, t: (u64, u64), value: u64, version: i32) -> RegisterOp {
    read_as(RegisterCall::SyncRead, p, t, value, version)
}

/// A completed read of either kind that saw `value` at `version`.
pub(crate) fn read_as(
    call: RegisterCall,
    p: u32,
    t: (u64, u64),
    value: u64,
    version: i32,
) -> RegisterOp {
    let ret = RegisterReturn::Read { value, version };
    reg(p, (t.0, Some(t.1)), call, Outcome::Ok(ret))
}

pub(crate) fn write(p: u32, t: (u64, u64), value: u64, version: i32) -> RegisterOp {
    let ret = RegisterReturn::Written { version };
    reg(
        p,
        (t.0, Some(t.1)),
        RegisterCall::Write { value },
        Outcome::Ok(ret),
    )
}

fn cas(p: u32, t: (u64, u64), expected: i32, value: u64, ret: RegisterReturn) -> RegisterOp {
    let call = RegisterCall::Cas { expected, value };
    reg(p, (t.0, Some(t.1)), call, Outcome::Ok(ret))
}

fn lost(p: u32, invoke: u64, call: RegisterCall) -> RegisterOp {
    reg(p, (invoke, None), call, Outcome::Unknown("timeout".into()))
}

fn violations(ops: &[RegisterOp]) -> Vec<Violation> {
    check(ops, BUDGET).0
}

#[test]
fn a_linearizable_history_with_writes_cas_and_reads_passes() {
    let ops = [
        write(1, (0, 10), 11, 1),
        read(2, (5, 8), 0, 0), // concurrent with the write: the old value is fine
        cas(2, (12, 14), 1, 12, RegisterReturn::Written { version: 2 }),
        cas(3, (13, 20), 1, 13, RegisterReturn::BadVersion),
        read(1, (21, 22), 12, 2),
    ];
    assert_eq!(violations(&ops), vec![]);
}

#[test]
fn a_stale_sync_read_after_an_acknowledged_write_is_caught() {
    let ops = [
        write(1, (0, 10), 11, 1),
        write(1, (11, 20), 12, 2),
        read(2, (25, 30), 11, 1),
    ];
    let found = violations(&ops);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].summary.contains("version 2"),
        "{}",
        found[0].summary
    );
    let pending: Vec<&str> = found[0]
        .window
        .lines()
        .filter(|l| l.contains("pending"))
        .collect();
    assert_eq!(pending.len(), 1, "{}", found[0].window);
    assert!(pending[0].contains("sync-read k1") && pending[0].contains("value=11"));
}

#[test]
fn a_lost_write_is_caught() {
    // Both acknowledged as producing version 1: one of them was lost.
    let ops = [write(1, (0, 10), 11, 1), write(2, (20, 30), 12, 1)];
    assert_eq!(violations(&ops).len(), 1);
}

#[test]
fn a_cas_success_with_a_wrong_version_is_caught() {
    let ops = [
        write(1, (0, 10), 11, 1),
        cas(1, (20, 30), 1, 12, RegisterReturn::Written { version: 3 }),
    ];
    assert_eq!(violations(&ops).len(), 1);
    let expected_mismatch = [
        write(1, (0, 10), 11, 1),
        cas(1, (20, 30), 0, 12, RegisterReturn::Written { version: 2 }),
    ];
    assert_eq!(violations(&expected_mismatch).len(), 1);
}

#[test]
fn a_bad_version_when_the_version_matched_is_caught() {
    let ops = [
        write(1, (0, 10), 11, 1),
        cas(1, (20, 30), 1, 12, RegisterReturn::BadVersion),
    ];
    assert_eq!(violations(&ops).len(), 1);
}

#[test]
fn an_unknown_write_placed_to_explain_a_later_read_passes() {
    let ops = [
        write(1, (0, 10), 11, 1),
        lost(2, 12, RegisterCall::Write { value: 12 }),
        read(1, (20, 30), 11, 1),
        read(1, (40, 50), 12, 2),
        write(1, (60, 70), 13, 3),
    ];
    assert_eq!(violations(&ops), vec![]);
}

#[test]
fn an_unknown_write_never_observed_passes() {
    let ops = [
        lost(2, 0, RegisterCall::Write { value: 12 }),
        write(1, (5, 10), 11, 1),
        read(1, (20, 30), 11, 1),
    ];
    assert_eq!(violations(&ops), vec![]);
}

#[test]
fn an_unknown_cas_takes_effect_only_where_its_version_matched() {
    let took_effect = [
        write(1, (0, 10), 11, 1),
        lost(
            2,
            12,
            RegisterCall::Cas {
                expected: 1,
                value: 12,
            },
        ),
        read(1, (20, 30), 12, 2),
    ];
    assert_eq!(violations(&took_effect), vec![]);
    let cannot_have = [
        write(1, (0, 10), 11, 1),
        lost(
            2,
            12,
            RegisterCall::Cas {
                expected: 0,
                value: 12,
            },
        ),
        read(1, (20, 30), 12, 2),
    ];
    assert_eq!(violations(&cannot_have).len(), 1);
}

#[test]
fn a_failed_write_has_no_effect() {
    let ops = [
        reg(
            1,
            (0, Some(10)),
            RegisterCall::Write { value: 12 },
            Outcome::Fail("no quorum".into()),
        ),
        read(2, (20, 30), 12, 1),
    ];
    assert_eq!(violations(&ops).len(), 1);
}

#[test]
fn local_reads_are_not_judged_for_linearizability() {
    let stale = RegisterReturn::Read {
        value: 0,
        version: 0,
    };
    let ops = [
        write(1, (0, 10), 11, 1),
        reg(
            2,
            (20, Some(30)),
            RegisterCall::LocalRead,
            Outcome::Ok(stale),
        ),
    ];
    assert_eq!(violations(&ops), vec![]);
}

#[test]
fn keys_are_separate_registers() {
    let mut other = write(1, (0, 10), 21, 1);
    other.key = 2;
    let ops = [write(1, (0, 10), 11, 1), other, read(2, (20, 30), 11, 1)];
    assert_eq!(violations(&ops), vec![]);
}

#[test]
fn an_exhausted_budget_is_reported_not_passed() {
    // Twenty unknown writes of values reads observed, and a read no order explains:
    // refuting it means trying every subset of the writes.
    let mut ops: Vec<_> = (1..=20)
        .map(|v| lost(v, 0, RegisterCall::Write { value: v.into() }))
        .collect();
    ops.push(read(0, (1000, 1001), 1, 21));
    ops.extend((2..=20).map(|v| read(0, (2000 + v, 2000 + v), v, 20)));
    let (found, explored) = check(&ops, 1_000);
    assert_eq!(explored, 1_000);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].summary.contains("inconclusive"),
        "{}",
        found[0].summary
    );
}
