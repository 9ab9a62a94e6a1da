use super::*;
use crate::history::Span;

fn path(seq: u64) -> String {
    format!("/queue/q-{seq:010}")
}

fn enq(id: u64, invoke: u64, complete: Option<u64>, outcome: Outcome<String>) -> EnqueueOp {
    EnqueueOp {
        process: (id % 3) as u32,
        id,
        span: Span { invoke, complete },
        outcome,
    }
}

fn acked(id: u64, t: (u64, u64), seq: u64) -> EnqueueOp {
    enq(id, t.0, Some(t.1), Outcome::Ok(path(seq)))
}

fn entry(id: u64, seq: u64) -> QueueEntry {
    QueueEntry {
        path: path(seq),
        id,
        czxid: 0x1_0000_0000 + seq as i64,
    }
}

fn judge(ops: &[EnqueueOp], last: &[QueueEntry]) -> QueueCheck {
    check(ops, Some(last))
}

#[test]
fn a_clean_queue_passes() {
    let ops = [
        acked(1, (0, 10), 0),
        acked(2, (5, 20), 2), // concurrent with 3: either order is fine
        acked(3, (6, 15), 1),
        enq(4, 30, None, Outcome::Unknown("timeout".into())),
        enq(5, 40, None, Outcome::Unknown("timeout".into())),
        enq(6, 50, Some(51), Outcome::Fail("no quorum".into())),
    ];
    let last = [entry(1, 0), entry(3, 1), entry(2, 2), entry(4, 3)];
    let out = judge(&ops, &last);
    assert_eq!(out.violations, vec![]);
    assert_eq!(out.lost_acknowledged, 0);
}

#[test]
fn a_lost_acknowledged_enqueue_is_counted_and_caught() {
    let ops = [acked(1, (0, 10), 0), acked(2, (20, 30), 1)];
    let out = judge(&ops, &[entry(1, 0)]);
    assert_eq!(out.lost_acknowledged, 1);
    assert_eq!(out.violations.len(), 1);
    assert!(out.violations[0].window.contains("id=2"));
}

#[test]
fn a_duplicate_enqueue_is_caught() {
    let ops = [acked(1, (0, 10), 0)];
    let out = judge(&ops, &[entry(1, 0), entry(1, 1)]);
    assert_eq!(out.violations.len(), 1, "{:#?}", out.violations);
    assert!(out.violations[0].summary.contains("2 times"));
}

#[test]
fn a_failed_or_invented_enqueue_in_the_queue_is_caught() {
    let ops = [enq(1, 0, Some(1), Outcome::Fail("refused".into()))];
    let out = judge(&ops, &[entry(1, 0), entry(9, 1)]);
    let summaries: Vec<&str> = out.violations.iter().map(|v| v.summary.as_str()).collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(summaries[0].contains("failed with certainty"));
    assert!(summaries[1].contains("nobody enqueued"));
}

#[test]
fn an_enqueue_found_at_another_path_is_caught() {
    let ops = [acked(1, (0, 10), 0)];
    assert_eq!(judge(&ops, &[entry(1, 5)]).violations.len(), 1);
}

#[test]
fn sequence_numbers_against_commit_order_are_caught() {
    let mut late = entry(2, 1);
    late.czxid = 0x50;
    let ops = [
        enq(1, 0, None, Outcome::Unknown("timeout".into())),
        enq(2, 0, None, Outcome::Unknown("timeout".into())),
    ];
    let out = judge(&ops, &[entry(1, 0), late]);
    assert_eq!(out.violations.len(), 1, "{:#?}", out.violations);
    assert!(out.violations[0].summary.contains("commit order"));
}

#[test]
fn real_time_order_is_enforced() {
    // 1 was acknowledged before 2 was sent, yet 2 got the lower number.
    let ops = [acked(1, (0, 10), 1), acked(2, (20, 30), 0)];
    let mut last = [entry(1, 1), entry(2, 0)];
    last[0].czxid = 0x20;
    last[1].czxid = 0x10;
    let out = judge(&ops, &last);
    assert_eq!(out.violations.len(), 1, "{:#?}", out.violations);
    assert!(out.violations[0]
        .summary
        .contains("before enqueue 2 was sent"));
}

#[test]
fn a_failed_final_read_is_a_violation() {
    let out = check(&[acked(1, (0, 10), 0)], None);
    assert_eq!(out.violations.len(), 1);
    assert!(out.violations[0].summary.contains("final read"));
}

#[test]
fn sequence_suffixes_are_parsed_strictly() {
    assert_eq!(sequence("/queue/q-0000000042"), Some(42));
    assert_eq!(sequence("/queue/q-42"), None);
    assert_eq!(sequence("/queue/q-00000000x2"), None);
    assert_eq!(sequence("/queue/é0000000001"), Some(1));
}
