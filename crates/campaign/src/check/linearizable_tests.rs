//! The generic search on a plain read/write register without versions, the hardest
//! case for it: nothing but values constrains the order.

use super::*;

struct Reg;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum In {
    Read,
    Write(u64),
}

impl Model for Reg {
    type State = u64;
    type Input = In;
    /// What a read returned; ignored for writes.
    type Output = u64;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, state: &u64, input: &In, output: Option<&u64>) -> Option<u64> {
        match (input, output) {
            (In::Read, Some(v)) => (v == state).then_some(*state),
            (In::Read, None) => Some(*state),
            (In::Write(v), _) => Some(*v),
        }
    }
}

fn op(invoke: u64, complete: u64, input: In, out: u64) -> Operation<In, u64> {
    Operation {
        invoke,
        returned: Some((complete, out)),
        input,
    }
}

fn unknown(invoke: u64, input: In) -> Operation<In, u64> {
    Operation {
        invoke,
        returned: None,
        input,
    }
}

fn judge(ops: &[Operation<In, u64>]) -> Verdict<u64> {
    check(&Reg, ops, 100_000)
}

#[test]
fn sequential_history_passes() {
    let ops = [
        op(0, 1, In::Write(1), 0),
        op(2, 3, In::Read, 1),
        op(4, 5, In::Write(2), 0),
        op(6, 7, In::Read, 2),
    ];
    assert!(matches!(judge(&ops), Verdict::Linearizable { .. }));
}

#[test]
fn concurrent_ops_may_take_effect_in_either_order() {
    // The read overlaps the write, so it may see the old or the new value.
    for seen in [0, 1] {
        let ops = [op(0, 10, In::Write(1), 0), op(1, 9, In::Read, seen)];
        assert!(
            matches!(judge(&ops), Verdict::Linearizable { .. }),
            "{seen}"
        );
    }
}

#[test]
fn stale_read_after_an_acknowledged_write_is_caught() {
    let ops = [
        op(0, 1, In::Write(1), 0),
        op(2, 3, In::Write(2), 0),
        op(4, 5, In::Read, 1),
    ];
    let Verdict::NotLinearizable { stuck, .. } = judge(&ops) else {
        panic!("stale read passed");
    };
    assert_eq!(stuck.linearized, 2);
    assert_eq!(stuck.last, vec![0, 1]);
    assert_eq!(stuck.pending, vec![2]);
    assert_eq!(stuck.state, 2);
}

#[test]
fn an_unknown_write_is_placed_to_explain_a_later_read() {
    let ops = [
        op(0, 1, In::Write(1), 0),
        unknown(2, In::Write(7)),
        op(10, 11, In::Read, 1),
        op(20, 21, In::Read, 7),
    ];
    assert!(matches!(judge(&ops), Verdict::Linearizable { .. }));
}

#[test]
fn an_unknown_write_never_observed_passes() {
    let ops = [
        unknown(0, In::Write(7)),
        op(1, 2, In::Write(1), 0),
        op(3, 4, In::Read, 1),
    ];
    assert!(matches!(judge(&ops), Verdict::Linearizable { .. }));
}

#[test]
fn an_unknown_write_cannot_take_effect_before_it_was_invoked() {
    let ops = [op(0, 1, In::Read, 7), unknown(2, In::Write(7))];
    assert!(matches!(judge(&ops), Verdict::NotLinearizable { .. }));
}

#[test]
fn an_unknown_write_takes_effect_at_most_once() {
    let ops = [
        unknown(0, In::Write(7)),
        op(1, 2, In::Read, 7),
        op(3, 4, In::Write(1), 0),
        op(5, 6, In::Read, 7),
    ];
    assert!(matches!(judge(&ops), Verdict::NotLinearizable { .. }));
}

#[test]
fn interchangeable_unknown_writes_do_not_multiply_the_search() {
    // Sixty unknown writes of the same (unobservable) value, then a contradiction:
    // without the equal-input reduction the search would try their subsets.
    let mut ops: Vec<_> = (0..60).map(|i| unknown(i, In::Write(99))).collect();
    ops.push(op(100, 101, In::Write(1), 0));
    ops.push(op(102, 103, In::Read, 5));
    let Verdict::NotLinearizable { explored, .. } = judge(&ops) else {
        panic!("impossible read passed");
    };
    assert!(explored < 100, "{explored}");
}

#[test]
fn a_wide_concurrent_history_resolves_within_the_budget() {
    // Twelve writes all concurrent with each other and with two reads that pin the
    // order of two of them: thousands of orders, few distinct nodes.
    let mut ops: Vec<_> = (1..=12).map(|v| op(0, 100, In::Write(v), 0)).collect();
    ops.push(op(1, 99, In::Read, 3));
    ops.push(op(2, 99, In::Read, 11));
    ops.push(op(200, 201, In::Read, 11));
    assert!(matches!(judge(&ops), Verdict::Linearizable { .. }));
}

#[test]
fn running_out_of_budget_is_inconclusive_not_a_pass() {
    // Sixteen concurrent writes and a read nobody wrote: refuting it means trying
    // every subset of the writes, far more than the budget.
    let mut ops: Vec<_> = (1..=16).map(|v| op(0, 100, In::Write(v), 0)).collect();
    ops.push(op(0, 100, In::Read, 99));
    assert!(matches!(
        check(&Reg, &ops, 10_000),
        Verdict::Inconclusive {
            explored: 10_000,
            ..
        }
    ));
}

#[test]
fn a_return_before_its_invoke_is_read_as_touching() {
    // A clock glitch must not make the op impossible to place.
    let ops = [op(10, 5, In::Write(1), 0), op(20, 21, In::Read, 1)];
    assert!(matches!(judge(&ops), Verdict::Linearizable { .. }));
}
