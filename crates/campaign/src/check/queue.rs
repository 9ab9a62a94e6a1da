//! Sequential creates under `/queue`: none lost, none duplicated, none invented, and
//! their sequence numbers in commit order and in real-time order.
//!
//! Judged against the final read of `/queue`, taken after every fault healed: what
//! a client was told was created must be there, once, where it was told; what is
//! there must have been attempted by someone who did not get a certain failure.
//! The sequence number is the parent's counter at commit, so it must grow with the
//! creating transaction's zxid, and an enqueue acknowledged before another was sent
//! must have the lower number.

use std::collections::HashMap;

use super::{outcome_text, window, Line, Violation};
use crate::history::{EnqueueOp, Outcome, QueueEntry};

const CHECKER: &str = "queue";

/// How many missing enqueues one violation lists.
const SHOW_LOST: usize = 10;

#[derive(Debug, Clone)]
pub struct QueueCheck {
    pub violations: Vec<Violation>,
    /// Acknowledged enqueues missing from the final read.
    pub lost_acknowledged: usize,
}

pub fn check(enqueues: &[EnqueueOp], last: Option<&[QueueEntry]>) -> QueueCheck {
    let mut out = QueueCheck {
        violations: Vec::new(),
        lost_acknowledged: 0,
    };
    real_time_order(enqueues, &mut out.violations);
    match last {
        None => out.violations.push(Violation {
            checker: CHECKER,
            summary: "the final read of /queue failed: nothing enqueued was checked".into(),
            window: String::new(),
        }),
        Some(entries) => {
            against_final(enqueues, entries, &mut out);
            commit_order(entries, &mut out.violations);
        }
    }
    out
}

fn against_final(enqueues: &[EnqueueOp], entries: &[QueueEntry], out: &mut QueueCheck) {
    let mut present: HashMap<u64, Vec<&QueueEntry>> = HashMap::new();
    for e in entries {
        present.entry(e.id).or_default().push(e);
    }
    let mut attempts: HashMap<u64, Vec<&EnqueueOp>> = HashMap::new();
    for op in enqueues {
        attempts.entry(op.id).or_default().push(op);
    }
    let mut lost = Vec::new();
    for op in enqueues {
        let Outcome::Ok(path) = &op.outcome else {
            continue;
        };
        let found = present.get(&op.id).map_or(&[][..], Vec::as_slice);
        if found.is_empty() {
            lost.push(op);
        } else if !found.iter().any(|e| &e.path == path) {
            out.violations.push(Violation {
                checker: CHECKER,
                summary: format!(
                    "enqueue {} was acknowledged at {path} but is elsewhere",
                    op.id
                ),
                window: with_entries(&[op], found),
            });
        }
    }
    out.lost_acknowledged = lost.len();
    if !lost.is_empty() {
        let shown: Vec<&EnqueueOp> = lost.iter().take(SHOW_LOST).copied().collect();
        out.violations.push(Violation {
            checker: CHECKER,
            summary: format!(
                "{} acknowledged enqueues are missing from the final queue (first {} shown)",
                lost.len(),
                shown.len()
            ),
            window: with_entries(&shown, &[]),
        });
    }
    let mut ids: Vec<&u64> = present.keys().collect();
    ids.sort_unstable();
    for id in ids {
        let found = present.get(id).map_or(&[][..], Vec::as_slice);
        let tried = attempts.get(id).map_or(&[][..], Vec::as_slice);
        let summary = if found.len() > 1 {
            format!("enqueue {id} is in the queue {} times", found.len())
        } else if tried.is_empty() {
            format!("{id} is in the queue but nobody enqueued it")
        } else if tried
            .iter()
            .all(|op| matches!(op.outcome, Outcome::Fail(_)))
        {
            format!("enqueue {id} failed with certainty, yet it is in the queue")
        } else {
            continue;
        };
        out.violations.push(Violation {
            checker: CHECKER,
            summary,
            window: with_entries(tried, found),
        });
    }
}

/// Ordered by czxid, both the zxids and the sequence numbers strictly increase.
fn commit_order(entries: &[QueueEntry], violations: &mut Vec<Violation>) {
    let mut by_zxid: Vec<(&QueueEntry, u64)> = Vec::with_capacity(entries.len());
    for e in entries {
        match sequence(&e.path) {
            Some(seq) => by_zxid.push((e, seq)),
            None => violations.push(Violation {
                checker: CHECKER,
                summary: format!("{} has no 10-digit sequence suffix", e.path),
                window: with_entries(&[], &[e]),
            }),
        }
    }
    by_zxid.sort_by_key(|(e, seq)| (e.czxid, *seq));
    for pair in by_zxid.windows(2) {
        let ((a, sa), (b, sb)) = (pair[0], pair[1]);
        if a.czxid == b.czxid || sa >= sb {
            violations.push(Violation {
                checker: CHECKER,
                summary: format!(
                    "sequence numbers do not follow commit order: {} (czxid {:#x}) and {} \
                     (czxid {:#x})",
                    a.path, a.czxid, b.path, b.czxid
                ),
                window: with_entries(&[], &[a, b]),
            });
        }
    }
}

/// An enqueue acknowledged before another was sent got the lower sequence number.
fn real_time_order(enqueues: &[EnqueueOp], violations: &mut Vec<Violation>) {
    let acked: Vec<(&EnqueueOp, u64, u64)> = enqueues
        .iter()
        .filter_map(|op| {
            let seq = sequence(op.outcome.ok()?)?;
            Some((op, op.span.complete?, seq))
        })
        .collect();
    let mut by_complete = acked.clone();
    by_complete.sort_by_key(|&(_, done, _)| done);
    let mut by_invoke = acked;
    by_invoke.sort_by_key(|(op, _, _)| op.span.invoke);
    // The highest sequence number among enqueues done before the current invoke.
    let mut highest: Option<(&EnqueueOp, u64)> = None;
    let mut done = by_complete.iter().peekable();
    for &(b, _, seq_b) in &by_invoke {
        while let Some(&(a, _, seq_a)) = done.next_if(|&&(_, t, _)| t < b.span.invoke) {
            if highest.is_none_or(|(_, s)| seq_a > s) {
                highest = Some((a, seq_a));
            }
        }
        if let Some((a, seq_a)) = highest {
            if seq_a >= seq_b {
                violations.push(Violation {
                    checker: CHECKER,
                    summary: format!(
                        "enqueue {} was acknowledged before enqueue {} was sent, yet got a \
                         sequence number not below it",
                        a.id, b.id
                    ),
                    window: with_entries(&[a, b], &[]),
                });
            }
        }
    }
}

/// The 10-digit counter ZooKeeper appends to a sequential node's name.
fn sequence(path: &str) -> Option<u64> {
    let name = path.rsplit('/').next()?;
    let digits = name
        .len()
        .checked_sub(10)
        .map(|start| &name.as_bytes()[start..])?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn with_entries(ops: &[&EnqueueOp], entries: &[&QueueEntry]) -> String {
    let lines = ops
        .iter()
        .map(|op| Line {
            span: op.span,
            who: format!("p{}", op.process),
            call: format!("enqueue id={}", op.id),
            outcome: outcome_text(&op.outcome, String::clone),
            note: "",
        })
        .collect();
    let mut text = window(lines);
    for e in entries {
        text.push_str(&format!(
            "    final {} id={} czxid={:#x}\n",
            e.path, e.id, e.czxid
        ));
    }
    text
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
