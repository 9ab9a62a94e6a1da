//! `sync` then `getData` on `/counter` sees every write acknowledged before the sync
//! was sent, and nothing that cannot have been written yet.
//!
//! `/counter` starts at version 0 and every `setData(-1)` that takes effect adds one,
//! so versions count writes. For each sync read `r` that answered:
//! - no stale read: every write acknowledged before `r` was sent produced a version
//!   `r` must have seen, so `r`'s version is at least the highest of them;
//! - no phantom: `r`'s version is at most the number of writes (acknowledged or of
//!   unknown outcome) sent before `r` answered.
//!
//! The writes are judged among themselves too, as cheaply: two acknowledged writes
//! cannot produce the same version, and one acknowledged before another was sent
//! produced the lower version.

use super::{outcome_text, window, Line, Violation};
use crate::history::{CounterWrite, Outcome, SyncThenRead};

const CHECKER: &str = "sync-reads";

/// How many of the writes a phantom read could have seen its window shows.
const SHOW_WRITES: usize = 3;

pub fn check(writes: &[CounterWrite], reads: &[SyncThenRead]) -> Vec<Violation> {
    let mut found = Vec::new();
    // Acknowledged writes by completion, with the running maximum version.
    let mut acked: Vec<(u64, i32, &CounterWrite)> = writes
        .iter()
        .filter_map(|w| Some((w.span.complete?, *w.outcome.ok()?, w)))
        .collect();
    acked.sort_by_key(|&(done, _, _)| done);
    let mut highest: Vec<(i32, &CounterWrite)> = Vec::with_capacity(acked.len());
    for &(_, version, w) in &acked {
        match highest.last() {
            Some(&(top, by)) if top >= version => highest.push((top, by)),
            _ => highest.push((version, w)),
        }
    }
    // Writes that may have taken effect, by invoke.
    let mut attempted: Vec<&CounterWrite> = writes
        .iter()
        .filter(|w| !matches!(w.outcome, Outcome::Fail(_)))
        .collect();
    attempted.sort_by_key(|w| w.span.invoke);

    for r in reads {
        let Outcome::Ok(seen) = r.outcome else {
            continue;
        };
        let before = acked.partition_point(|&(done, _, _)| done < r.span.invoke);
        if let Some(&(must, w)) = before.checked_sub(1).and_then(|i| highest.get(i)) {
            if seen < must {
                found.push(Violation {
                    checker: CHECKER,
                    summary: format!(
                        "a sync read on server {} saw version {seen}, older than version {must} \
                         acknowledged before the sync was sent",
                        r.server
                    ),
                    window: window(vec![write_line(w, "acked"), read_line(r, "stale")]),
                });
            }
        }
        let answered = r.span.complete.unwrap_or(u64::MAX);
        let possible = attempted.partition_point(|w| w.span.invoke < answered);
        if seen < 0 || usize::try_from(seen).is_ok_and(|v| v > possible) {
            let mut lines: Vec<Line> = attempted[possible.saturating_sub(SHOW_WRITES)..possible]
                .iter()
                .map(|w| write_line(w, "sent"))
                .collect();
            lines.push(read_line(r, "phantom"));
            found.push(Violation {
                checker: CHECKER,
                summary: format!(
                    "a sync read on server {} saw version {seen}, but only {possible} writes \
                     had been sent when it answered",
                    r.server
                ),
                window: window(lines),
            });
        }
    }
    writes_among_themselves(&acked, &mut found);
    found
}

/// `acked` is sorted by completion.
fn writes_among_themselves(acked: &[(u64, i32, &CounterWrite)], found: &mut Vec<Violation>) {
    let mut by_version: Vec<&(u64, i32, &CounterWrite)> = acked.iter().collect();
    by_version.sort_by_key(|&&(_, version, w)| (version, w.span.invoke));
    for pair in by_version.windows(2) {
        let (&(_, va, a), &(_, vb, b)) = (pair[0], pair[1]);
        if va == vb {
            found.push(Violation {
                checker: CHECKER,
                summary: format!("two acknowledged writes both produced version {va}"),
                window: window(vec![write_line(a, ""), write_line(b, "")]),
            });
        }
    }
    let mut by_invoke: Vec<&(u64, i32, &CounterWrite)> = acked.iter().collect();
    by_invoke.sort_by_key(|&&(_, _, w)| w.span.invoke);
    let mut done = acked.iter().peekable();
    let mut highest: Option<(i32, &CounterWrite)> = None;
    for &&(_, vb, b) in &by_invoke {
        while let Some(&(_, va, a)) = done.next_if(|&&(t, _, _)| t < b.span.invoke) {
            if highest.is_none_or(|(top, _)| va > top) {
                highest = Some((va, a));
            }
        }
        if let Some((va, a)) = highest.filter(|&(va, _)| va >= vb) {
            found.push(Violation {
                checker: CHECKER,
                summary: format!(
                    "a write acknowledged with version {va} finished before a write that \
                     produced version {vb} was sent"
                ),
                window: window(vec![write_line(a, "first"), write_line(b, "then")]),
            });
        }
    }
}

fn write_line(w: &CounterWrite, note: &'static str) -> Line {
    Line {
        span: w.span,
        who: format!("p{}", w.process),
        call: "write /counter".into(),
        outcome: outcome_text(&w.outcome, |v| format!("version={v}")),
        note,
    }
}

fn read_line(r: &SyncThenRead, note: &'static str) -> Line {
    Line {
        span: r.span,
        who: format!("p{} server {}", r.process, r.server),
        call: "sync+read /counter".into(),
        outcome: outcome_text(&r.outcome, |v| format!("version={v}")),
        note,
    }
}

#[cfg(test)]
#[path = "sync_reads_tests.rs"]
mod tests;
