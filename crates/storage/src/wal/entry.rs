//! The log's two kinds of record, inside the framing of `record`: an entry
//! (`[1][index u64 BE][payload]`) and the commit point (`[2][payload]`).

use crate::record;

const ENTRY: u8 = 1;
const COMMITTED: u8 = 2;

/// Bytes an entry adds to its payload: the frame header, its kind and its index.
pub(super) const ENTRY_OVERHEAD: usize = record::HEADER + 1 + 8;

/// One record of the log, decoded.
pub(super) enum LogRecord<'a> {
    Entry { index: u64, payload: &'a [u8] },
    Committed(&'a [u8]),
}

/// Appends one framed entry record to `out`.
pub(super) fn encode_entry(index: u64, payload: &[u8], out: &mut Vec<u8>) {
    record::encode_parts(&[&[ENTRY], &index.to_be_bytes(), payload], out);
}

/// Appends one framed commit-point record to `out`.
pub(super) fn encode_committed(payload: &[u8], out: &mut Vec<u8>) {
    record::encode_parts(&[&[COMMITTED], payload], out);
}

/// What a record's payload is, or `None` for a kind this version does not write.
pub(super) fn decode(payload: &[u8]) -> Option<LogRecord<'_>> {
    match payload.split_first() {
        Some((&ENTRY, rest)) if rest.len() >= 8 => {
            let mut index = [0u8; 8];
            index.copy_from_slice(&rest[..8]);
            Some(LogRecord::Entry {
                index: u64::from_be_bytes(index),
                payload: &rest[8..],
            })
        }
        Some((&COMMITTED, rest)) => Some(LogRecord::Committed(rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Scan;

    /// The bytes on disk: a kind byte, the index for an entry, the payload, framed as
    /// one record. Encoding the parts must give what framing them joined gives.
    #[test]
    fn records_are_framed_kind_index_payload() {
        let mut parts = Vec::new();
        encode_entry(0x0102, b"abc", &mut parts);
        encode_committed(b"c", &mut parts);
        let mut joined = Vec::new();
        record::encode(
            &[&[1][..], &0x0102u64.to_be_bytes(), b"abc"].concat(),
            &mut joined,
        );
        record::encode(&[2, b'c'], &mut joined);
        assert_eq!(parts, joined);
        assert_eq!(parts.len(), ENTRY_OVERHEAD + 3 + record::HEADER + 2);
        let Scan::Record { payload, next } = record::scan(&parts, 0) else {
            panic!("an entry record")
        };
        assert!(matches!(
            decode(payload),
            Some(LogRecord::Entry {
                index: 0x0102,
                payload: b"abc"
            })
        ));
        let Scan::Record { payload, .. } = record::scan(&parts, next) else {
            panic!("a commit record")
        };
        assert!(matches!(decode(payload), Some(LogRecord::Committed(b"c"))));
        assert!(decode(&[3, 0]).is_none());
    }
}
