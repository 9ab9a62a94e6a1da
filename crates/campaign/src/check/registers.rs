//! Linearizability of each register: `sync`+`getData`, `setData(-1)` and
//! `setData(expected)` against a sequential register holding a value and a version.
//!
//! Linearizability is local (Herlihy & Wing): a history is linearizable iff each
//! object's sub-history is, so each key is searched on its own, which keeps the
//! search small. Local reads (`getData` alone) are left out: ZooKeeper only promises
//! them sequential consistency, and `monotonic` checks what it does promise.
//!
//! A value that no sync read ever returned is unobservable, so writes of such values
//! become "some value" (`None`): equal inputs, which lets the search treat unknown
//! writes of them as interchangeable, and equal states, which it can memoize.

use std::collections::{BTreeMap, HashSet};

use super::linearizable::{self, Model, Operation, Stuck, Verdict};
use super::{outcome_text, window, Line, Violation};
use crate::history::{Outcome, RegisterCall, RegisterOp, RegisterReturn};

const CHECKER: &str = "linearizable";

/// How many unknown ops a window shows besides the stuck ones.
const SHOW_UNKNOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Register {
    /// `None`: a value no read observed.
    pub value: Option<u64>,
    pub version: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    Read,
    Write { value: Option<u64> },
    Cas { expected: i32, value: Option<u64> },
}

pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Register;
    type Input = Input;
    type Output = RegisterReturn;

    fn init(&self) -> Register {
        Register {
            value: Some(0),
            version: 0,
        }
    }

    fn step(&self, s: &Register, input: &Input, out: Option<&RegisterReturn>) -> Option<Register> {
        let bump = |value| {
            s.version
                .checked_add(1)
                .map(|version| Register { value, version })
        };
        let produced = |value, version: i32| bump(value).filter(|n| n.version == version);
        match (*input, out.copied()) {
            (Input::Read, Some(RegisterReturn::Read { value, version })) => {
                (s.value == Some(value) && s.version == version).then_some(*s)
            }
            (Input::Read, None) => Some(*s),
            (Input::Write { value }, Some(RegisterReturn::Written { version })) => {
                produced(value, version)
            }
            (Input::Write { value }, None) => bump(value),
            (Input::Cas { expected, value }, Some(RegisterReturn::Written { version })) => {
                if s.version == expected {
                    produced(value, version)
                } else {
                    None
                }
            }
            (Input::Cas { expected, .. }, Some(RegisterReturn::BadVersion)) => {
                (s.version != expected).then_some(*s)
            }
            // Unknown: it took effect iff it was placed where the version matched.
            (Input::Cas { expected, value }, None) if s.version == expected => bump(value),
            (Input::Cas { .. }, None) => Some(*s),
            // A return of the wrong kind for the call fits no state.
            _ => None,
        }
    }

    /// Versions never decrease, so an op pinned to an older version is hopeless.
    fn may_still_accept(&self, s: &Register, _input: &Input, out: &RegisterReturn) -> bool {
        match *out {
            RegisterReturn::Read { version, .. } => s.version <= version,
            RegisterReturn::Written { version } => s.version < version,
            RegisterReturn::BadVersion => true,
        }
    }
}

/// Checks every key; returns the violations and the states explored in all.
pub fn check(ops: &[RegisterOp], budget: usize) -> (Vec<Violation>, usize) {
    let mut by_key: BTreeMap<u32, Vec<&RegisterOp>> = BTreeMap::new();
    for op in ops {
        by_key.entry(op.key).or_default().push(op);
    }
    let (mut violations, mut explored) = (Vec::new(), 0);
    for (key, ops) in by_key {
        let observed: HashSet<u64> = ops
            .iter()
            .filter(|o| o.call == RegisterCall::SyncRead)
            .filter_map(|o| match o.outcome {
                Outcome::Ok(RegisterReturn::Read { value, .. }) => Some(value),
                _ => None,
            })
            .collect();
        let (kept, model_ops): (Vec<&RegisterOp>, Vec<_>) = ops
            .iter()
            .filter_map(|o| to_operation(o, &observed).map(|m| (*o, m)))
            .unzip();
        let verdict = linearizable::check(&RegisterModel, &model_ops, budget);
        let known = model_ops.iter().filter(|o| o.returned.is_some()).count();
        match verdict {
            Verdict::Linearizable { explored: n } => explored += n,
            Verdict::NotLinearizable { explored: n, stuck } => {
                explored += n;
                let summary = format!(
                    "key {key}: sync reads and writes are not linearizable: at most {} of \
                     {known} acknowledged ops fit in one order, which leaves the register at \
                     {}, and none of the pending ops can come next",
                    stuck.linearized,
                    state_text(&stuck.state)
                );
                violations.push(violation(summary, &kept, &stuck));
            }
            Verdict::Inconclusive { explored: n, stuck } => {
                explored += n;
                let summary = format!(
                    "key {key}: linearizability inconclusive: the search gave up after {n} \
                     states (its budget) with {} of {known} acknowledged ops placed; this key \
                     is unchecked, not passed",
                    stuck.linearized
                );
                violations.push(violation(summary, &kept, &stuck));
            }
        }
    }
    (violations, explored)
}

/// The op as the search sees it, or `None` if it cannot matter: a local read, an op
/// that certainly had no effect, or a read whose answer was lost.
fn to_operation(
    op: &RegisterOp,
    observed: &HashSet<u64>,
) -> Option<Operation<Input, RegisterReturn>> {
    let seen = |v: u64| observed.contains(&v).then_some(v);
    let input = match op.call {
        RegisterCall::LocalRead => return None,
        RegisterCall::SyncRead => Input::Read,
        RegisterCall::Write { value } => Input::Write { value: seen(value) },
        RegisterCall::Cas { expected, value } => Input::Cas {
            expected,
            value: seen(value),
        },
    };
    let returned = match &op.outcome {
        Outcome::Fail(_) => return None,
        Outcome::Unknown(_) if input == Input::Read => return None,
        Outcome::Unknown(_) => None,
        // An answer without a completion time may have come at any time later.
        Outcome::Ok(r) => Some((op.span.complete.unwrap_or(u64::MAX), *r)),
    };
    Some(Operation {
        invoke: op.span.invoke,
        returned,
        input,
    })
}

fn violation(summary: String, ops: &[&RegisterOp], stuck: &Stuck<Register>) -> Violation {
    let mut lines: Vec<Line> = stuck.last.iter().map(|&i| line(ops[i], "placed")).collect();
    lines.extend(stuck.pending.iter().map(|&i| line(ops[i], "pending")));
    let unknown = &stuck.pending_unknown;
    lines.extend(
        unknown
            .iter()
            .take(SHOW_UNKNOWN)
            .map(|&i| line(ops[i], "unplaced")),
    );
    let mut text = window(lines);
    if unknown.len() > SHOW_UNKNOWN {
        text.push_str(&format!(
            "          ... and {} more unknown ops that could have taken effect there\n",
            unknown.len() - SHOW_UNKNOWN
        ));
    }
    Violation {
        checker: CHECKER,
        summary,
        window: text,
    }
}

fn state_text(s: &Register) -> String {
    match s.value {
        Some(v) => format!("value {v} version {}", s.version),
        None => format!("version {} (a value no read returned)", s.version),
    }
}

/// One register op as a window line; `monotonic` shares it.
pub(crate) fn line(op: &RegisterOp, note: &'static str) -> Line {
    let k = op.key;
    let call = match op.call {
        RegisterCall::SyncRead => format!("sync-read k{k}"),
        RegisterCall::LocalRead => format!("local-read k{k}"),
        RegisterCall::Write { value } => format!("write k{k} value={value}"),
        RegisterCall::Cas { expected, value } => {
            format!("cas k{k} expected={expected} value={value}")
        }
    };
    let outcome = outcome_text(&op.outcome, |r| match r {
        RegisterReturn::Read { value, version } => format!("value={value} version={version}"),
        RegisterReturn::Written { version } => format!("version={version}"),
        RegisterReturn::BadVersion => "bad-version".into(),
    });
    Line {
        span: op.span,
        who: format!("p{} s{:#x}", op.process, op.session),
        call,
        outcome,
        note,
    }
}

#[cfg(test)]
#[path = "registers_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "registers_scale_tests.rs"]
pub(crate) mod scale_tests;
