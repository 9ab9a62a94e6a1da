//! Checkers: each reads a `History` and returns the violations it finds.
//!
//! This module owns the judgement of a run, and nothing else: it is pure, takes a
//! recorded history and knows nothing of processes, sockets or faults, so that a
//! history saved as JSON can be re-judged, and so that every rule can be tested on
//! hand-built histories. Each checker owns one of ZooKeeper's guarantees:
//!
//! - `registers`: `sync`+`getData` and writes on each register are linearizable
//!   (judged by the generic search in `linearizable`), and a session's view never
//!   regresses (`monotonic`, which also covers the non-linearizable local reads).
//! - `queue`: sequential creates are neither lost, duplicated nor reordered.
//! - `ephemerals`: an ephemeral lives exactly as long as its session.
//! - `sync_reads`: `sync` then read sees every write acknowledged before the sync.
//!
//! Every rule flags only what is certain from the real-time bounds the clients
//! recorded: an operation whose outcome is unknown may have taken effect or not, and
//! two operations whose spans overlap may have taken effect in either order. A check
//! that cannot finish (the linearizability search's budget) is reported as a
//! violation too: an unchecked history must not pass silently.

pub mod ephemerals;
pub mod linearizable;
pub mod monotonic;
pub mod queue;
pub mod registers;
pub mod sync_reads;
mod timeline;

use std::fmt::Write as _;

use serde::Serialize;

use crate::history::{History, Outcome, Span};

/// One broken rule, with what a human needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which checker found it, e.g. `"linearizable"` or `"queue"`.
    pub checker: &'static str,
    pub summary: String,
    /// The operations needed to see the problem, one a line, in invoke order.
    pub window: String,
}

/// Counts for the report table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub register_ops: usize,
    pub register_keys: usize,
    pub local_reads: usize,
    /// Operations of every kind whose outcome the client never learnt.
    pub unknown: usize,
    /// Operations of every kind that certainly had no effect.
    pub failed: usize,
    /// States the linearizability search visited, over all keys.
    pub explored_states: usize,
    pub enqueues: usize,
    pub enqueues_acked: usize,
    /// How many children the final read of `/queue` found; `None` if it failed.
    pub queue_final: Option<usize>,
    pub lost_acknowledged: usize,
    pub sessions: usize,
    pub ephemeral_checks: usize,
    pub counter_writes: usize,
    pub sync_reads: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub violations: Vec<Violation>,
    pub stats: Stats,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// States the linearizability search may visit per key before it gives up.
pub const STATE_BUDGET: usize = 5_000_000;

/// More violations of one checker than this are summarised: past the first few, a
/// broken guarantee is usually one cause repeated, and the report must stay readable.
const MAX_PER_CHECKER: usize = 20;

/// Runs every checker with the default search budget.
pub fn check_all(history: &History) -> CheckReport {
    check_all_with_budget(history, STATE_BUDGET)
}

/// Runs every checker; `budget` bounds the linearizability search per key.
pub fn check_all_with_budget(history: &History, budget: usize) -> CheckReport {
    let mut stats = Stats::default();
    let mut violations = Vec::new();

    let (found, explored) = registers::check(&history.registers, budget);
    stats.explored_states = explored;
    push_capped(&mut violations, found);
    push_capped(&mut violations, monotonic::check(&history.registers));

    let queue = queue::check(&history.enqueues, history.queue_final.as_deref());
    stats.lost_acknowledged = queue.lost_acknowledged;
    push_capped(&mut violations, queue.violations);
    push_capped(&mut violations, ephemerals::check(&history.sessions));
    push_capped(
        &mut violations,
        sync_reads::check(&history.counter_writes, &history.sync_reads),
    );

    count(history, &mut stats);
    CheckReport { violations, stats }
}

fn push_capped(all: &mut Vec<Violation>, mut found: Vec<Violation>) {
    if found.len() > MAX_PER_CHECKER {
        let hidden = found.len() - MAX_PER_CHECKER;
        found.truncate(MAX_PER_CHECKER);
        let checker = found.first().map_or("unknown", |v| v.checker);
        found.push(Violation {
            checker,
            summary: format!("{hidden} more violations of this checker not shown"),
            window: String::new(),
        });
    }
    all.extend(found);
}

fn count(h: &History, s: &mut Stats) {
    fn tally<T>(s: &mut Stats, o: &Outcome<T>) {
        match o {
            Outcome::Ok(_) => {}
            Outcome::Fail(_) => s.failed += 1,
            Outcome::Unknown(_) => s.unknown += 1,
        }
    }
    s.register_ops = h.registers.len();
    let mut keys: Vec<u32> = h.registers.iter().map(|o| o.key).collect();
    keys.sort_unstable();
    keys.dedup();
    s.register_keys = keys.len();
    s.local_reads = h
        .registers
        .iter()
        .filter(|o| o.call == crate::history::RegisterCall::LocalRead)
        .count();
    h.registers.iter().for_each(|o| tally(s, &o.outcome));
    s.enqueues = h.enqueues.len();
    s.enqueues_acked = h
        .enqueues
        .iter()
        .filter(|e| e.outcome.ok().is_some())
        .count();
    h.enqueues.iter().for_each(|o| tally(s, &o.outcome));
    s.queue_final = h.queue_final.as_ref().map(Vec::len);
    s.sessions = h.sessions.len();
    for life in &h.sessions {
        tally(s, &life.created);
        s.ephemeral_checks += life.checks.len();
        life.checks.iter().for_each(|c| tally(s, &c.outcome));
    }
    s.counter_writes = h.counter_writes.len();
    h.counter_writes.iter().for_each(|o| tally(s, &o.outcome));
    s.sync_reads = h.sync_reads.len();
    h.sync_reads.iter().for_each(|o| tally(s, &o.outcome));
}

/// One operation as shown in a violation's window.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub span: Span,
    /// Who ran it: `p3`, `p3 s0x1f`, `server 2`...
    pub who: String,
    pub call: String,
    pub outcome: String,
    /// A short mark for the reader, e.g. which side of the problem the op is on.
    pub note: &'static str,
}

/// Formats lines in invoke order, one operation a line, times in microseconds.
pub(crate) fn window(mut lines: Vec<Line>) -> String {
    lines.sort_by_key(|l| (l.span.invoke, l.span.complete));
    let mut out = String::new();
    for l in &lines {
        let end = l
            .span
            .complete
            .map_or_else(|| "?".to_string(), |c| c.to_string());
        let _ = writeln!(
            out,
            "{:>9} [{:>12} .. {:>12}] {:<12} {} -> {}",
            l.note, l.span.invoke, end, l.who, l.call, l.outcome
        );
    }
    out
}

/// `ok <value>`, `fail: <why>` or `unknown: <why>`.
pub(crate) fn outcome_text<T>(o: &Outcome<T>, show: impl Fn(&T) -> String) -> String {
    match o {
        Outcome::Ok(v) => format!("ok {}", show(v)),
        Outcome::Fail(why) => format!("fail: {why}"),
        Outcome::Unknown(why) => format!("unknown: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_history_passes_and_counts_nothing() {
        let report = check_all(&History {
            queue_final: Some(Vec::new()),
            ..History::default()
        });
        assert!(report.passed(), "{:#?}", report.violations);
        assert_eq!(report.stats.queue_final, Some(0));
    }

    #[test]
    fn stats_count_every_kind_of_op() {
        use crate::history::{CounterWrite, EnqueueOp, QueueEntry, SyncThenRead};
        let span = |invoke, complete| Span { invoke, complete };
        let mut history = History {
            registers: crate::check::registers::scale_tests::simulated(200, 3, 9),
            ..History::default()
        };
        history.enqueues = vec![
            EnqueueOp {
                process: 1,
                id: 1,
                span: span(0, Some(5)),
                outcome: Outcome::Ok("/queue/q-0000000000".into()),
            },
            EnqueueOp {
                process: 2,
                id: 2,
                span: span(1, None),
                outcome: Outcome::Unknown("timeout".into()),
            },
        ];
        history.queue_final = Some(vec![QueueEntry {
            path: "/queue/q-0000000000".into(),
            id: 1,
            czxid: 7,
        }]);
        history.counter_writes = vec![CounterWrite {
            process: 1,
            span: span(0, Some(5)),
            outcome: Outcome::Ok(1),
        }];
        history.sync_reads = vec![SyncThenRead {
            process: 2,
            server: 0,
            span: span(6, Some(7)),
            outcome: Outcome::Ok(1),
        }];
        let report = check_all(&history);
        assert!(report.passed(), "{:#?}", report.violations);
        let unknown_registers = history
            .registers
            .iter()
            .filter(|o| o.outcome.is_unknown())
            .count();
        let s = &report.stats;
        assert_eq!((s.register_ops, s.register_keys), (200, 1));
        assert_eq!(s.unknown, unknown_registers + 1);
        assert_eq!(
            (s.enqueues, s.enqueues_acked, s.queue_final),
            (2, 1, Some(1))
        );
        assert_eq!(
            (s.counter_writes, s.sync_reads, s.lost_acknowledged),
            (1, 1, 0)
        );
        assert!(s.explored_states >= 1);
        assert!(serde_json::to_string(&report).is_ok());
    }

    #[test]
    fn a_missing_final_queue_read_is_a_violation() {
        let report = check_all(&History::default());
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].checker, "queue");
    }

    #[test]
    fn many_violations_are_summarised() {
        let found = (0..30)
            .map(|i| Violation {
                checker: "x",
                summary: i.to_string(),
                window: String::new(),
            })
            .collect();
        let mut all = Vec::new();
        push_capped(&mut all, found);
        assert_eq!(all.len(), MAX_PER_CHECKER + 1);
        assert!(all[MAX_PER_CHECKER].summary.starts_with("10 more"));
    }

    #[test]
    fn the_window_is_in_invoke_order_and_marks_unknown_completions() {
        let line = |invoke, complete, call: &str| Line {
            span: Span { invoke, complete },
            who: "p1".into(),
            call: call.into(),
            outcome: "ok".into(),
            note: "",
        };
        let text = window(vec![line(20, None, "second"), line(10, Some(15), "first")]);
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].contains("first") && rows[0].contains("15"));
        assert!(rows[1].contains("second") && rows[1].contains('?'));
    }
}
