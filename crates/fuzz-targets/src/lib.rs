//! The fuzz targets: one function per decoder that untrusted or damaged bytes reach,
//! each taking those bytes and checking that nothing panics and that what decodes
//! survives a round trip where the format has one.
//!
//! The bodies live here, a stable crate of the workspace, rather than in `fuzz/`
//! (cargo-fuzz's crate, nightly only), so that `tests/replay.rs` replays the
//! committed corpus `fuzz/corpus/<target>/` on stable in every CI run, and
//! `fuzz/fuzz_targets/<target>.rs` is one line that hands libFuzzer's input here.
//! [`TARGETS`] names them all; both sides are checked against it.
//!
//! Each says whether its decoder accepted the input, so the replay also checks
//! that every seed (`seed-*`, written by `fuzz/seed.py`) is still accepted and every
//! `reject-*` still refused: a seed that stops decoding would leave the fuzzer
//! starting from nothing.
//!
//! What each reaches:
//! - the client port: `client_request`, `connect_request` (corral-server's decoders
//!   for a frame's body), `sasl_digest` (the DIGEST-MD5 server, corral-sasl);
//! - the quorum port: `peer_requests`, `peer_responses` (corral-consensus's frames);
//! - the disk: `wal_segment` (a log segment, corral-storage), `log_record` (one Raft
//!   log entry), `snapshot_file` and `tree_snapshot` (Corral's snapshot file and the
//!   tree inside it), `zk_snapshot`, `zk_txnlog` and `zk_txn` (ZooKeeper's files,
//!   which `corral import` reads);
//! - the operator's files: `zoo_cfg` and `jaas`.

use std::path::Path;

/// A target: the bytes in, whether its decoder accepted them out.
pub type Target = fn(&[u8]) -> bool;

/// Every target, by the name of its corpus directory and fuzz binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("client_request", client_request),
    ("connect_request", connect_request),
    ("sasl_digest", sasl_digest),
    ("peer_requests", peer_requests),
    ("peer_responses", peer_responses),
    ("wal_segment", wal_segment),
    ("log_record", log_record),
    ("snapshot_file", snapshot_file),
    ("tree_snapshot", tree_snapshot),
    ("zk_snapshot", zk_snapshot),
    ("zk_txnlog", zk_txnlog),
    ("zk_txn", zk_txn),
    ("zoo_cfg", zoo_cfg),
    ("jaas", jaas),
];

pub fn client_request(data: &[u8]) -> bool {
    corral_server::fuzz::client_request(data)
}

pub fn connect_request(data: &[u8]) -> bool {
    corral_server::fuzz::connect_request(data)
}

/// Two tokens of a client's exchange, split at the first NUL: DIGEST-MD5 puts none
/// in a token. The password is known, so a correct response can be found.
/// Accepted means authenticated.
pub fn sasl_digest(data: &[u8]) -> bool {
    use corral_sasl::{DigestServer, Service, Step};
    let _ = corral_sasl::token::parse(data);
    let (first, second) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let mut server = DigestServer::new(Service::CLIENT, "fuzznonce".to_string());
    let password = |user: &str| (user == "super").then(|| "secret".to_string());
    let _ = server.step(first, password);
    matches!(server.step(second, password), Step::Success { .. })
}

pub fn peer_requests(data: &[u8]) -> bool {
    corral_consensus::fuzz::peer_requests(data)
}

pub fn peer_responses(data: &[u8]) -> bool {
    corral_consensus::fuzz::peer_responses(data)
}

/// The bytes as a segment file, then as the payloads of a segment whose framing is
/// sound (split at each 0xA5), so the records' contents are reached past the CRCs.
/// Accepted means the bytes as they are read as a sound segment.
pub fn wal_segment(data: &[u8]) -> bool {
    use corral_storage::wal::{scan_segment, Recovered};
    let mut out = Recovered::default();
    scan_segment(data, "fuzz", 1, &mut out);
    let sound = out.warnings.is_empty();
    let mut framed = b"CRLWAL01".to_vec();
    for payload in data.split(|b| *b == 0xA5).filter(|p| !p.is_empty()) {
        corral_storage::record::encode(payload, &mut framed);
    }
    let mut out = Recovered::default();
    scan_segment(&framed, "fuzz", 1, &mut out);
    assert!(
        out.warnings.iter().all(|w| w.contains("unknown record")),
        "sound framing read as damaged: {:?}",
        out.warnings
    );
    for payload in out.entries.values() {
        corral_consensus::fuzz::log_record(payload);
    }
    sound
}

pub fn log_record(data: &[u8]) -> bool {
    corral_consensus::fuzz::log_record(data)
}

/// A snapshot file as start-up reads it; a body that passes the checks is decoded.
pub fn snapshot_file(data: &[u8]) -> bool {
    corral_storage::snapshot::parse(Path::new("fuzz.snap"), data)
        .is_ok_and(|file| corral_tree::DataTree::decode_snapshot(&file.tree).is_ok())
}

/// A snapshot's tree without its lz4; one that decodes encodes and decodes again to
/// as many nodes.
pub fn tree_snapshot(data: &[u8]) -> bool {
    let Ok(mut tree) = corral_tree::DataTree::decode_uncompressed(data) else {
        return false;
    };
    let again = tree.encode_snapshot();
    let back = corral_tree::DataTree::decode_snapshot(&again).expect("a snapshot we wrote");
    assert_eq!(back.node_count(), tree.node_count());
    true
}

pub fn zk_snapshot(data: &[u8]) -> bool {
    corral_zkdata::snapshot::decode(data, &mut |_, _| {}).is_ok()
}

/// Accepted means every record read, to a clean end.
pub fn zk_txnlog(data: &[u8]) -> bool {
    let Ok(mut log) = corral_zkdata::txnlog::LogReader::open(Path::new("log.1"), data) else {
        return false;
    };
    loop {
        match log.next_record() {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(_)) => {}
        }
    }
}

pub fn zk_txn(data: &[u8]) -> bool {
    corral_zkdata::txn::decode_entry(data).is_ok()
}

pub fn zoo_cfg(data: &[u8]) -> bool {
    corral_server::fuzz::zoo_cfg(data)
}

pub fn jaas(data: &[u8]) -> bool {
    corral_server::fuzz::jaas(data)
}
