//! A session's view of each register never goes back in time.
//!
//! A local read may lag the leader (it is served by the client's own server), so it
//! is not linearizable; but ZooKeeper does promise that a session's reads never see
//! an older state than the session saw before, even across a reconnect to another
//! server, and that a session reads its own writes. Within one session and key, in
//! invoke order (ZooKeeper serves a session's requests in the order they were sent):
//! - a read's version is at least that of every read invoked strictly earlier;
//! - a read invoked after the session's own write or CAS completed with version `v`
//!   sees at least `v`.
//!
//! Ops invoked at the same microsecond are not ordered against each other: the
//! clock cannot tell which was sent first.

use std::collections::BTreeMap;

use super::registers::line;
use super::{window, Violation};
use crate::history::{RegisterOp, RegisterReturn};

const CHECKER: &str = "monotonic";

pub fn check(ops: &[RegisterOp]) -> Vec<Violation> {
    let mut groups: BTreeMap<(i64, u32), Vec<&RegisterOp>> = BTreeMap::new();
    for op in ops {
        groups.entry((op.session, op.key)).or_default().push(op);
    }
    groups
        .into_iter()
        .filter_map(|((session, key), ops)| check_one(session, key, &ops))
        .collect()
}

/// The first regression in one session's view of one key, with how many followed.
fn check_one(session: i64, key: u32, ops: &[&RegisterOp]) -> Option<Violation> {
    let mut reads: Vec<(&RegisterOp, i32)> = ops
        .iter()
        .filter_map(|o| match o.outcome.ok() {
            Some(RegisterReturn::Read { version, .. }) => Some((*o, *version)),
            _ => None,
        })
        .collect();
    reads.sort_by_key(|(o, _)| o.span.invoke);
    let mut writes: Vec<(u64, i32, &RegisterOp)> = ops
        .iter()
        .filter_map(|o| match (o.outcome.ok(), o.span.complete) {
            (Some(RegisterReturn::Written { version }), Some(done)) => Some((done, *version, *o)),
            _ => None,
        })
        .collect();
    writes.sort_by_key(|w| w.0);

    // The highest version the session is known to have seen, and the op that saw it.
    let mut seen_by_reads: Option<(i32, &RegisterOp)> = None;
    let mut seen_by_writes: Option<(i32, &RegisterOp)> = None;
    let mut next_write = 0;
    let mut first: Option<(&RegisterOp, &RegisterOp)> = None;
    let mut regressions = 0usize;
    for same_instant in reads.chunk_by(|a, b| a.0.span.invoke == b.0.span.invoke) {
        let t = same_instant[0].0.span.invoke;
        while let Some(&(done, version, op)) = writes.get(next_write) {
            if done >= t {
                break;
            }
            raise(&mut seen_by_writes, version, op);
            next_write += 1;
        }
        let floor = [seen_by_reads, seen_by_writes]
            .into_iter()
            .flatten()
            .max_by_key(|(v, _)| *v);
        for &(read, version) in same_instant {
            if let Some((least, by)) = floor {
                if version < least {
                    regressions += 1;
                    first.get_or_insert((by, read));
                }
            }
        }
        for &(read, version) in same_instant {
            raise(&mut seen_by_reads, version, read);
        }
    }
    let (earlier, read) = first?;
    let more = match regressions - 1 {
        0 => String::new(),
        n => format!(" ({n} more regressions followed in this session)"),
    };
    Some(Violation {
        checker: CHECKER,
        summary: format!(
            "session {session:#x} key {key}: a read saw an older version than the session \
             had already seen{more}"
        ),
        window: window(vec![line(earlier, "saw"), line(read, "regressed")]),
    })
}

fn raise<'a>(seen: &mut Option<(i32, &'a RegisterOp)>, version: i32, op: &'a RegisterOp) {
    if seen.is_none_or(|(v, _)| version > v) {
        *seen = Some((version, op));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::registers::scale_tests::simulated;
    use crate::check::registers::tests::{read_as, write};
    use crate::history::RegisterCall;

    fn local(p: u32, t: (u64, u64), value: u64, version: i32) -> RegisterOp {
        read_as(RegisterCall::LocalRead, p, t, value, version)
    }

    #[test]
    fn lagging_reads_in_different_sessions_pass() {
        // Session 1 saw version 2; session 2 is behind, which local reads allow.
        let ops = [
            local(1, (0, 1), 12, 2),
            local(2, (5, 6), 11, 1),
            local(2, (7, 8), 12, 2),
        ];
        assert_eq!(check(&ops), vec![]);
    }

    #[test]
    fn a_read_going_back_in_one_session_is_caught() {
        let ops = [
            local(1, (0, 1), 12, 2),
            local(1, (5, 6), 11, 1),
            local(1, (7, 8), 11, 1),
        ];
        let found = check(&ops);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].summary.contains("1 more"), "{}", found[0].summary);
        assert!(found[0].window.contains("regressed"));
    }

    #[test]
    fn a_session_that_misses_its_own_write_is_caught() {
        let ops = [write(1, (0, 10), 12, 2), local(1, (11, 12), 11, 1)];
        assert_eq!(check(&ops).len(), 1);
    }

    #[test]
    fn a_read_concurrent_with_its_sessions_write_may_miss_it() {
        let ops = [write(1, (0, 10), 12, 2), local(1, (5, 12), 11, 1)];
        assert_eq!(check(&ops), vec![]);
    }

    #[test]
    fn reads_sent_at_the_same_instant_are_not_ordered() {
        let ops = [local(1, (5, 6), 12, 2), local(1, (5, 7), 11, 1)];
        assert_eq!(check(&ops), vec![]);
    }

    #[test]
    fn a_simulated_linearizable_history_is_monotonic() {
        assert_eq!(check(&simulated(2000, 5, 3)), vec![]);
    }
}
