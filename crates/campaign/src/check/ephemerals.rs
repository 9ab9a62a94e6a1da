//! An ephemeral lives exactly as long as its session.
//!
//! Two rules, each flagging only what the real-time bounds make certain:
//! 1. Vanished early: a check in the owner's own session, sent after the create was
//!    acknowledged and before the client asked to close the session, answered before
//!    the client learnt of an expiry, found no node. The server answered in that
//!    session, so it held the session live, and the node must have been there.
//! 2. Outlived its session: a check from anyone, sent after the close was
//!    acknowledged, found the node.
//!
//! An expiry the client reports is not an end of the session that the server made:
//! the `zookeeper-client` crate calls a session expired on its own when it cannot
//! reconnect within the session timeout, while the ensemble may rightly still hold
//! it (a new leader gives every session a fresh timeout). So expiry only bounds rule
//! 1; an ephemeral that outlives an expired session is caught by the run's final
//! read, after every session has had time to end (`run::final_reads`).
//!
//! Checks from other sessions while the owner lives prove nothing: the session may
//! have expired on the server before its client heard of it. Checks concurrent with
//! the create or the close may see either side.

use super::{outcome_text, window, Line, Violation};
use crate::history::{EphemeralCheck, Outcome, SessionLife, Span};

const CHECKER: &str = "ephemerals";

pub fn check(sessions: &[SessionLife]) -> Vec<Violation> {
    let mut found = Vec::new();
    for life in sessions {
        let vanished: Vec<&EphemeralCheck> = life
            .checks
            .iter()
            .filter(|c| vanished_early(life, c))
            .collect();
        if let Some(first) = vanished.first() {
            found.push(report(
                life,
                first,
                vanished.len(),
                "vanished while its session lived",
            ));
        }
        let survived: Vec<&EphemeralCheck> = life
            .checks
            .iter()
            .filter(|c| outlived_session(life, c))
            .collect();
        if let Some(first) = survived.first() {
            found.push(report(life, first, survived.len(), "outlived its session"));
        }
    }
    found
}

fn vanished_early(life: &SessionLife, c: &EphemeralCheck) -> bool {
    let Some(created) = life.create.complete.filter(|_| life.created.ok().is_some()) else {
        return false;
    };
    c.by_owner
        && c.outcome == Outcome::Ok(false)
        && c.span.invoke > created
        && life.closed.is_none_or(|close| c.span.invoke < close.invoke)
        && life
            .expired_at
            .is_none_or(|told| c.span.complete.is_some_and(|done| done < told))
}

fn outlived_session(life: &SessionLife, c: &EphemeralCheck) -> bool {
    // The session is certainly over once the server acknowledged its close.
    let ended = life.closed.and_then(|s| s.complete);
    c.outcome == Outcome::Ok(true) && ended.is_some_and(|end| c.span.invoke > end)
}

fn report(life: &SessionLife, first: &EphemeralCheck, count: usize, what: &str) -> Violation {
    let more = match count - 1 {
        0 => String::new(),
        n => format!(" ({n} later checks agree)"),
    };
    let owner = format!("p{} s{:#x}", life.process, life.session);
    let mut lines = vec![Line {
        span: life.create,
        who: owner.clone(),
        call: format!("create ephemeral {}", life.path),
        outcome: outcome_text(&life.created, |_| String::new()),
        note: "",
    }];
    lines.push(Line {
        span: first.span,
        who: if first.by_owner {
            owner.clone()
        } else {
            "other session".into()
        },
        call: format!("sync+exists {}", life.path),
        outcome: outcome_text(&first.outcome, bool::to_string),
        note: "check",
    });
    if let Some(close) = life.closed {
        lines.push(Line {
            span: close,
            who: owner.clone(),
            call: "close session".into(),
            outcome: "ok".into(),
            note: "",
        });
    }
    if let Some(told) = life.expired_at {
        lines.push(Line {
            span: Span {
                invoke: told,
                complete: Some(told),
            },
            who: owner,
            call: "told: session expired".into(),
            outcome: "-".into(),
            note: "",
        });
    }
    Violation {
        checker: CHECKER,
        summary: format!(
            "ephemeral {} of session {:#x} {what}{more}",
            life.path, life.session
        ),
        window: window(lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn life(
        checks: Vec<EphemeralCheck>,
        closed: Option<(u64, u64)>,
        expired_at: Option<u64>,
    ) -> SessionLife {
        SessionLife {
            process: 1,
            session: 0x42,
            path: "/eph/p1".into(),
            create: Span {
                invoke: 0,
                complete: Some(10),
            },
            created: Outcome::Ok(()),
            checks,
            closed: closed.map(|(invoke, complete)| Span {
                invoke,
                complete: Some(complete),
            }),
            expired_at,
        }
    }

    fn probe(by_owner: bool, t: (u64, u64), exists: bool) -> EphemeralCheck {
        EphemeralCheck {
            by_owner,
            span: Span {
                invoke: t.0,
                complete: Some(t.1),
            },
            outcome: Outcome::Ok(exists),
        }
    }

    #[test]
    fn a_well_behaved_life_passes() {
        let checks = vec![
            probe(true, (5, 8), false), // concurrent with the create
            probe(true, (20, 25), true),
            probe(false, (30, 35), false), // another session may race an expiry
            probe(false, (95, 110), true), // concurrent with the close
            probe(false, (120, 125), false),
        ];
        assert_eq!(check(&[life(checks, Some((100, 115)), None)]), vec![]);
    }

    #[test]
    fn an_ephemeral_vanishing_while_its_owner_lives_is_caught() {
        let checks = vec![probe(true, (20, 25), false), probe(true, (30, 35), false)];
        let found = check(&[life(checks, Some((100, 115)), None)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].summary.contains("vanished") && found[0].summary.contains("1 later"));
    }

    #[test]
    fn an_owner_check_answered_after_expiry_was_known_proves_nothing() {
        let checks = vec![probe(true, (20, 60), false)];
        assert_eq!(check(&[life(checks, None, Some(50))]), vec![]);
        let before = vec![probe(true, (20, 40), false)];
        assert_eq!(check(&[life(before, None, Some(50))]).len(), 1);
    }

    #[test]
    fn an_ephemeral_surviving_its_close_is_caught() {
        let checks = vec![probe(false, (120, 125), true)];
        let found = check(&[life(checks, Some((100, 115)), None)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].summary.contains("outlived"));
        assert!(found[0].window.contains("close session"));
    }

    #[test]
    fn an_expiry_told_by_the_client_alone_proves_nothing() {
        // Seed 6 of the first long campaign: the client gave up reconnecting and
        // called the session expired; the new leader still held it, rightly.
        let checks = vec![probe(false, (60, 65), true)];
        assert_eq!(check(&[life(checks, None, Some(50))]), vec![]);
    }

    #[test]
    fn a_failed_create_starts_no_owner_checks() {
        let mut failed = life(vec![probe(true, (20, 25), false)], None, None);
        failed.created = Outcome::Fail("refused".into());
        assert_eq!(check(&[failed]), vec![]);
    }
}
