//! srvr, stat and cons: the server's counters and its client connections.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::report::ServerReport;
use crate::state::ServerState;

/// srvr, and with `clients` (the connection list) stat.
pub(super) fn server_stats(r: &ServerReport, clients: Option<String>) -> String {
    let mut out = format!("Zookeeper version: {}\n", r.version);
    if r.mode == "read-only" {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if let Some(clients) = clients {
        out.push_str("Clients:\n");
        out.push_str(&clients);
    }
    let (min, avg, max) = r.stats.latency_ms;
    let _ = write!(
        out,
        "Latency min/avg/max: {}/{avg:.4}/{}\nReceived: {}\nSent: {}\nConnections: {}\nOutstanding: {}\nZxid: 0x{:x}\nMode: {}\nNode count: {}\n",
        min.round() as u64,
        max.round() as u64,
        r.stats.packets_received,
        r.stats.packets_sent,
        r.connections,
        r.stats.outstanding,
        r.last_zxid,
        r.mode,
        r.nodes,
    );
    if r.mode == "leader" {
        let p = r.proposal_sizes;
        let _ = writeln!(
            out,
            "Proposal sizes last/min/max: {}/{}/{}",
            p.last, p.min, p.max
        );
    }
    out
}

/// One line per client connection, as ZooKeeper's `cons` (`full`) or `stat` lists
/// them, then the asking connection itself (no session yet), then a blank line.
pub(super) fn connections(state: &ServerState, asker: std::net::SocketAddr, full: bool) -> String {
    let mut out = String::new();
    for c in state.hub.conns().values() {
        let n = &c.counters;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let _ = write!(
            out,
            " /{}[1](queued={},recved={},sent={}",
            c.peer,
            load(&n.queued),
            load(&n.received),
            load(&n.sent)
        );
        if full {
            let count = load(&n.latency_count);
            let min = if count == 0 { 0 } else { load(&n.min_latency) };
            let avg = load(&n.latency_sum).checked_div(count).unwrap_or(0);
            let _ = write!(
                out,
                ",sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat={min},avglat={avg},maxlat={}",
                c.session,
                last_op_name(n.last_op.load(Ordering::Relaxed)),
                load(&n.established_ms),
                c.timeout,
                n.last_cxid.load(Ordering::Relaxed),
                n.last_zxid.load(Ordering::Relaxed),
                load(&n.last_response_ms),
                load(&n.last_latency),
                load(&n.max_latency),
            );
        }
        out.push_str(")\n");
    }
    let _ = writeln!(out, " /{asker}[0](queued=0,recved=1,sent=0)");
    out.push('\n');
    out
}

/// ZooKeeper's short name for the last operation of a connection (`lop=`).
pub(crate) fn last_op_name(op: i32) -> &'static str {
    use corral_jute::OpCode::*;
    let Some(op) = corral_jute::OpCode::from_i32(op) else {
        return "NA";
    };
    match op {
        Ping => "PING",
        CreateSession => "SESS",
        Multi => "MULT",
        MultiRead => "MLTR",
        Create | Create2 | CreateTtl | CreateContainer => "CREA",
        Delete | DeleteContainer => "DELE",
        SetData => "SETD",
        Reconfig => "RECO",
        SetAcl => "SETA",
        CloseSession => "CLOS",
        Sync => "SYNC",
        Check => "CHEC",
        Exists => "EXIS",
        GetData => "GETD",
        CheckWatches => "CHKW",
        RemoveWatches => "REMW",
        GetAcl => "GETA",
        GetChildren | GetChildren2 => "GETC",
        GetAllChildrenNumber => "GETACN",
        GetEphemerals => "GETE",
        SetWatches | SetWatches2 => "SETW",
        AddWatch => "ADDW",
        WhoAmI => "HOMI",
        _ => "NA",
    }
}
