//! The format of one log record on disk: a format-version byte, then the entry in
//! postcard. postcard names an enum variant by its place, so reordering a variant of
//! `TxnOp` (or of anything a transaction holds) would silently change what the
//! bytes on disk mean; the tests below pin the exact bytes of a record of every kind,
//! and a new format is a new version here.

use crate::types::Entry;

/// The format of the records this build writes, and the only one it reads.
pub const RECORD_VERSION: u8 = 1;

/// Room for a typical create up front: growing from empty reallocated the buffer
/// several times per entry (callgrind, docs/benchmarks.md).
const ENCODE_CAPACITY: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("an empty log record")]
    Empty,
    #[error(
        "log record format version {0} is unknown (this build reads version {RECORD_VERSION})"
    )]
    UnknownVersion(u8),
    #[error("log record does not decode: {0}")]
    Decode(#[from] postcard::Error),
    #[error("log entry does not encode: {0}")]
    Encode(postcard::Error),
}

pub fn encode_entry(e: &Entry) -> Result<Vec<u8>, RecordError> {
    let mut record = Vec::with_capacity(ENCODE_CAPACITY);
    record.push(RECORD_VERSION);
    postcard::to_extend(e, record).map_err(RecordError::Encode)
}

pub fn decode_entry(record: &[u8]) -> Result<Entry, RecordError> {
    match record.split_first() {
        None => Err(RecordError::Empty),
        Some((&RECORD_VERSION, entry)) => Ok(postcard::from_bytes(entry)?),
        Some((&version, _)) => Err(RecordError::UnknownVersion(version)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use corral_jute::records::{Acl, Id};
    use corral_jute::ErrorCode;
    use corral_tree::txn::CreateOp;
    use corral_tree::{Txn, TxnOp};
    use openraft::entry::RaftEntry;
    use openraft::impls::BasicNode;
    use openraft::testing::log_id;
    use openraft::Membership;

    use super::*;
    use crate::types::TypeConfig as C;

    fn digest() -> Id {
        Id {
            scheme: "digest".into(),
            id: "u:p".into(),
        }
    }

    fn txn(op: TxnOp) -> Entry {
        let txn = Txn {
            session_id: 0x1234,
            time: 1_700_000_000_000,
            identity: vec![digest()],
            op,
        };
        Entry::new_normal(log_id::<C>(2, 3, 5), Arc::new(txn))
    }

    /// One record of every kind, and its bytes.
    fn every_kind() -> Vec<(&'static str, Entry, &'static str)> {
        let acl = vec![Acl {
            perms: 31,
            id: digest(),
        }];
        let create = CreateOp {
            opcode: 15,
            path: "/a".into(),
            data: Some(vec![1, 2].into()),
            acl: acl.clone(),
            flags: 1,
            ttl: -1,
        };
        let op = |op: TxnOp| txn(op);
        vec![
            (
                "createSession",
                op(TxnOp::CreateSession {
                    timeout: 30000,
                    passwd: vec![9; 2].into(),
                }),
                "0102030501e84880a0abfef962010664696765737403753a7000e0d403020909",
            ),
            ("closeSession", op(TxnOp::CloseSession), "0102030501e84880a0abfef962010664696765737403753a7001"),
            ("create", op(TxnOp::Create(create.clone())), "0102030501e84880a0abfef962010664696765737403753a70021e022f6101020102013e0664696765737403753a700201"),
            (
                "delete",
                op(TxnOp::Delete {
                    path: "/a".into(),
                    version: 3,
                }),
                "0102030501e84880a0abfef962010664696765737403753a7003022f6106",
            ),
            (
                "setData",
                op(TxnOp::SetData {
                    path: "/a".into(),
                    data: None,
                    version: -1,
                }),
                "0102030501e84880a0abfef962010664696765737403753a7004022f610001",
            ),
            (
                "setACL",
                op(TxnOp::SetAcl {
                    path: "/a".into(),
                    acl,
                    version: 0,
                }),
                "0102030501e84880a0abfef962010664696765737403753a7005022f61013e0664696765737403753a7000",
            ),
            (
                "check",
                op(TxnOp::Check {
                    path: "/a".into(),
                    version: 7,
                }),
                "0102030501e84880a0abfef962010664696765737403753a7006022f610e",
            ),
            (
                "multi",
                op(TxnOp::Multi(vec![
                    TxnOp::Create(create),
                    TxnOp::CloseSession,
                ])),
                "0102030501e84880a0abfef962010664696765737403753a700702021e022f6101020102013e0664696765737403753a70020101",
            ),
            ("reap", op(TxnOp::Reap { path: "/a".into() }), "0102030501e84880a0abfef962010664696765737403753a7008022f61"),
            ("error", op(TxnOp::Fail(ErrorCode::NoNode)), "0102030501e84880a0abfef962010664696765737403753a70090d"),
            ("noop", op(TxnOp::Noop), "0102030501e84880a0abfef962010664696765737403753a700a"),
            ("blank", Entry::new_blank(log_id::<C>(2, 3, 5)), "0102030500"),
            (
                "membership",
                Entry::new_membership(log_id::<C>(2, 3, 5), membership()),
                "01020305020102010203010768313a32383838020768323a32383838030768333a32383838",
            ),
        ]
    }

    fn membership() -> Membership<u64, BasicNode> {
        let voters = BTreeSet::from([1, 2]);
        let nodes = BTreeMap::from([
            (1, BasicNode::new("h1:2888")),
            (2, BasicNode::new("h2:2888")),
            (3, BasicNode::new("h3:2888")),
        ]);
        match Membership::new(vec![voters], nodes) {
            Ok(m) => m,
            Err(e) => panic!("a membership of voters 1, 2 and learner 3: {e}"),
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reordering a variant of `TxnOp`, of what it holds (an `ErrorCode`, say) or of
    /// openraft's payload changes these bytes: that is a new format, which needs a new
    /// `RECORD_VERSION` and a reader for the old one.
    #[test]
    fn every_kind_of_record_keeps_its_bytes() {
        for (name, entry, pinned) in every_kind() {
            let record = encode_entry(&entry).expect("encode");
            assert_eq!(hex(&record), pinned, "the {name} record's bytes changed");
            let back = decode_entry(&record).expect("decode");
            assert_eq!(hex(&encode_entry(&back).expect("encode")), pinned, "{name}");
        }
    }

    #[test]
    fn a_record_of_another_version_is_refused() {
        let blank = Entry::new_blank(log_id::<C>(2, 3, 5));
        let mut record = encode_entry(&blank).expect("encode");
        record[0] = RECORD_VERSION + 1;
        let refused = decode_entry(&record);
        assert!(
            matches!(refused, Err(RecordError::UnknownVersion(v)) if v == RECORD_VERSION + 1),
            "{refused:?}"
        );
        assert!(refused.is_err_and(|e| e.to_string().contains("format version 2 is unknown")));
        assert!(matches!(decode_entry(&[]), Err(RecordError::Empty)));
        assert!(matches!(
            decode_entry(&[RECORD_VERSION, 0xff]),
            Err(RecordError::Decode(_))
        ));
    }
}
