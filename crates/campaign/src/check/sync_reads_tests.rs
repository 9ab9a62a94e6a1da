use super::*;
use crate::history::Span;

fn write(t: (u64, u64), version: i32) -> CounterWrite {
    CounterWrite {
        process: 1,
        span: Span {
            invoke: t.0,
            complete: Some(t.1),
        },
        outcome: Outcome::Ok(version),
    }
}

fn lost_write(invoke: u64) -> CounterWrite {
    CounterWrite {
        process: 1,
        span: Span {
            invoke,
            complete: None,
        },
        outcome: Outcome::Unknown("timeout".into()),
    }
}

fn read(t: (u64, u64), version: i32) -> SyncThenRead {
    SyncThenRead {
        process: 2,
        server: 1,
        span: Span {
            invoke: t.0,
            complete: Some(t.1),
        },
        outcome: Outcome::Ok(version),
    }
}

#[test]
fn reads_that_see_every_acknowledged_write_pass() {
    let writes = [write((0, 10), 1), lost_write(15), write((20, 30), 3)];
    let reads = [
        read((11, 12), 1),
        read((16, 25), 2), // the unknown write took effect; the acked one is concurrent
        read((31, 40), 3),
        read((5, 8), 0), // concurrent with the first write
    ];
    assert_eq!(check(&writes, &reads), vec![]);
}

#[test]
fn a_stale_sync_read_is_caught_with_the_write_it_missed() {
    let writes = [write((0, 10), 1), write((11, 20), 2)];
    let found = check(&writes, &[read((21, 30), 1)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].summary.contains("older than version 2"));
    assert!(found[0].window.contains("version=2") && found[0].window.contains("stale"));
}

#[test]
fn a_phantom_version_is_caught() {
    let writes = [write((0, 10), 1), lost_write(50)];
    let found = check(&writes, &[read((20, 30), 2)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].summary.contains("only 1 writes"));
}

#[test]
fn failed_writes_and_reads_without_answers_are_ignored() {
    let failed = CounterWrite {
        process: 1,
        span: Span {
            invoke: 0,
            complete: Some(1),
        },
        outcome: Outcome::Fail("refused".into()),
    };
    let mut unanswered = read((0, 5), 7);
    unanswered.outcome = Outcome::Unknown("timeout".into());
    assert_eq!(check(std::slice::from_ref(&failed), &[unanswered]), vec![]);
    assert_eq!(check(&[failed], &[read((5, 6), 1)]).len(), 1);
}

#[test]
fn writes_out_of_order_or_sharing_a_version_are_caught() {
    let shared = check(&[write((0, 10), 1), write((5, 15), 1)], &[]);
    assert_eq!(shared.len(), 1, "{shared:#?}");
    let reordered = check(&[write((0, 10), 2), write((20, 30), 1)], &[]);
    assert_eq!(reordered.len(), 1, "{reordered:#?}");
    assert!(reordered[0].summary.contains("finished before"));
}
