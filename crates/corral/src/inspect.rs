//! `corral snapshot inspect` and `corral log dump`: what is on disk, without a server.

use std::path::Path;
use std::process::ExitCode;

use corral_consensus::inspect;

fn print_json<T: serde::Serialize>(value: &T) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corral: cannot encode JSON: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn snapshot(file: &Path, dump: bool, json: bool) -> ExitCode {
    let report = match inspect::snapshot_report(file, dump) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corral snapshot inspect: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        return print_json(&report);
    }
    println!("Snapshot:   {}", report.file);
    println!(
        "Last zxid:  0x{:x} (term {})",
        report.last_zxid, report.last_term
    );
    println!("Node count: {}", report.node_count);
    println!("Data size:  {} bytes", report.data_size);
    println!(
        "Sessions:   {} ({} ephemeral nodes)",
        report.sessions, report.ephemerals
    );
    println!("Voters:     {:?}", report.members);
    for n in report.nodes.iter().flatten() {
        println!(
            "{}  len={} v={} cv={} av={} czxid=0x{:x} mzxid=0x{:x} owner=0x{:x} children={}",
            n.path,
            n.data_length,
            n.version,
            n.cversion,
            n.aversion,
            n.czxid,
            n.mzxid,
            n.ephemeral_owner,
            n.num_children
        );
    }
    ExitCode::SUCCESS
}

pub fn log(dir: &Path, json: bool) -> ExitCode {
    let report = match inspect::log_report(dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corral log dump: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        return print_json(&report);
    }
    for r in &report.records {
        let when = chrono::DateTime::from_timestamp_millis(r.time)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{when} zxid 0x{:x} term {} session {} {} {}",
            r.zxid, r.term, r.session, r.op, r.detail
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    println!("{} transactions", report.records.len());
    ExitCode::SUCCESS
}
