//! wchc, wchp and dump: every watch by connection or by path, and every session with
//! its expiry, ephemerals and connection.

use std::fmt::Write as _;
use std::time::Instant;

use corral_consensus::Role;

use crate::state::ServerState;

pub(super) fn watches(state: &ServerState, by_path: bool) -> String {
    let by_conn = state.hub.watches().by_connection();
    let sessions: std::collections::HashMap<u64, i64> = state
        .hub
        .conns()
        .iter()
        .map(|(id, c)| (*id, c.session))
        .collect();
    let mut out = String::new();
    if by_path {
        let mut paths: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        for (conn, ps) in by_conn {
            for p in ps {
                paths
                    .entry(p)
                    .or_default()
                    .push(sessions.get(&conn).copied().unwrap_or(0));
            }
        }
        for (p, ss) in paths {
            let _ = writeln!(out, "{p}");
            for s in ss {
                let _ = writeln!(out, "\t0x{s:x}");
            }
        }
    } else {
        for (conn, ps) in by_conn {
            let _ = writeln!(out, "0x{:x}", sessions.get(&conn).copied().unwrap_or(0));
            for p in ps {
                let _ = writeln!(out, "\t{p}");
            }
        }
    }
    // ZooKeeper ends both lists with a blank line.
    out.push('\n');
    out
}

/// ZooKeeper's date format in `dump`: `Wed Nov 25 14:02:52 UTC 2026`.
fn java_date(at: Instant) -> String {
    let now = Instant::now();
    let wall = chrono::Utc::now();
    let wall = if at >= now {
        wall + chrono::Duration::from_std(at - now).unwrap_or_default()
    } else {
        wall - chrono::Duration::from_std(now - at).unwrap_or_default()
    };
    wall.format("%a %b %d %H:%M:%S UTC %Y").to_string()
}

/// Sessions by expiry (the leader's or a standalone's tracker; a follower lists the
/// global sessions with their timeouts), ephemerals by session, and connections.
pub(super) fn dump(state: &ServerState, asker: std::net::SocketAddr) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    let deadlines = state.hub.sessions().deadlines();
    let role = state.consensus.status().borrow().role;
    if matches!(role, Role::Leader | Role::Standalone) {
        let _ = writeln!(
            out,
            "Session Sets ({})/({}):",
            deadlines.len(),
            deadlines.len()
        );
        for (id, deadline, _) in &deadlines {
            let _ = writeln!(out, "1 expire at {}:\n\t0x{id:x}", java_date(*deadline));
        }
    } else {
        let _ = writeln!(out, "Global Sessions({}):", deadlines.len());
        for (id, _, timeout) in &deadlines {
            let _ = writeln!(out, "0x{id:x}\t{}ms", timeout.as_millis());
        }
    }
    out.push_str("ephemeral nodes dump:\n");
    {
        let tree = state.tree().read();
        let with: Vec<_> = tree
            .sessions()
            .filter(|(_, s)| !s.ephemerals.is_empty())
            .collect();
        let _ = writeln!(out, "Sessions with Ephemerals ({}):", with.len());
        for (id, s) in with {
            let _ = writeln!(out, "0x{id:x}:");
            for p in &s.ephemerals {
                let _ = writeln!(out, "\t{p}");
            }
        }
    }
    let conns: Vec<(std::net::SocketAddr, i64, i32)> = state
        .hub
        .conns()
        .values()
        .map(|c| (c.peer, c.session, c.timeout))
        .collect();
    out.push_str("Connections dump:\n");
    let _ = writeln!(
        out,
        "Connections Sets ({})/({}):",
        conns.len() + 1,
        conns.len() + 1
    );
    let soon = java_date(Instant::now() + std::time::Duration::from_secs(10));
    let _ = writeln!(out, "1 expire at {soon}:\n\tip: /{asker} sessionId: 0x0");
    for (peer, session, timeout) in conns {
        let at = Instant::now() + std::time::Duration::from_millis(timeout.max(0) as u64);
        let _ = writeln!(
            out,
            "1 expire at {}:\n\tip: /{peer} sessionId: 0x{session:x}",
            java_date(at)
        );
    }
    out
}
