//! Record framing: `[length u32 BE][crc32c u32 BE][payload]`. The CRC covers the
//! length and the payload, so a torn or shifted header is caught as well.

pub const HEADER: usize = 8;

fn checksum(len: u32, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&len.to_be_bytes()), payload)
}

/// Appends one framed record to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    encode_parts(&[payload], out);
}

/// Appends one framed record whose payload is `parts` one after another, without
/// first joining them.
///
/// # Panics
/// If the payload is 4 GiB or more: the length would wrap and the record would read
/// back as damage. Entries are bounded far below that by the frames they come from,
/// so this is a bug above, never something a client can ask for.
pub fn encode_parts(parts: &[&[u8]], out: &mut Vec<u8>) {
    let total = parts.iter().map(|p| p.len()).sum::<usize>();
    let Ok(len) = u32::try_from(total) else {
        panic!("a log record of {total} bytes does not fit its u32 length");
    };
    let crc = parts
        .iter()
        .fold(crc32c::crc32c(&len.to_be_bytes()), |crc, p| {
            crc32c::crc32c_append(crc, p)
        });
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc.to_be_bytes());
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// What scanning a buffer of records found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan<'a> {
    Record {
        payload: &'a [u8],
        next: usize,
    },
    /// Clean end of the data: nothing, or only zeros, follows.
    End,
    /// A record that does not check out at `offset`; `reaches_end` says whether it
    /// runs to the end of the data, which is what a write cut short looks like.
    Bad {
        offset: usize,
        reaches_end: bool,
        reason: &'static str,
    },
}

/// Reads the record at `offset`.
pub fn scan(buf: &[u8], offset: usize) -> Scan<'_> {
    let rest = &buf[offset.min(buf.len())..];
    if all_zero(rest) {
        // The log fills ahead of its records with zeros (wal/active.rs).
        return Scan::End;
    }
    if rest.len() < HEADER {
        return Scan::Bad {
            offset,
            reaches_end: true,
            reason: "truncated record header",
        };
    }
    let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let crc = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len == 0 {
        return Scan::Bad {
            offset,
            reaches_end: false,
            reason: "zero-length record",
        };
    }
    let end = HEADER + len as usize;
    if end > rest.len() {
        return Scan::Bad {
            offset,
            reaches_end: true,
            reason: "record runs past the end of the file",
        };
    }
    let payload = &rest[HEADER..end];
    if checksum(len, payload) != crc {
        // Only zeros after it: the last write, cut short before all of it landed.
        return Scan::Bad {
            offset,
            reaches_end: all_zero(&rest[end..]),
            reason: "CRC mismatch",
        };
    }
    Scan::Record {
        payload,
        next: offset + end,
    }
}

fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let mut buf = Vec::new();
        encode(b"first", &mut buf);
        encode(b"second", &mut buf);
        let Scan::Record { payload, next } = scan(&buf, 0) else {
            panic!("first record")
        };
        assert_eq!(payload, b"first");
        let Scan::Record { payload, next: end } = scan(&buf, next) else {
            panic!("second record")
        };
        assert_eq!(payload, b"second");
        assert_eq!(scan(&buf, end), Scan::End);

        let torn = &buf[..buf.len() - 2];
        assert!(matches!(
            scan(torn, next),
            Scan::Bad {
                reaches_end: true,
                ..
            }
        ));
        let mut flipped = buf.clone();
        flipped[HEADER + 1] ^= 0x40;
        assert!(matches!(
            scan(&flipped, 0),
            Scan::Bad {
                reaches_end: false,
                reason: "CRC mismatch",
                ..
            }
        ));
        // Zero fill after the records is the end; a record cut short before
        // its zero fill is a torn tail; zeros with data after them are damage.
        let mut filled = buf.clone();
        filled.extend_from_slice(&[0u8; 32]);
        assert_eq!(scan(&filled, end), Scan::End);
        assert_eq!(scan(&[0u8; 32], 0), Scan::End);
        let mut cut = buf[..buf.len() - 2].to_vec();
        cut.extend_from_slice(&[0u8; 40]);
        assert!(matches!(
            scan(&cut, next),
            Scan::Bad {
                reaches_end: true,
                reason: "CRC mismatch",
                ..
            }
        ));
        let mut hole = vec![0u8; 16];
        hole.extend_from_slice(&buf);
        assert!(matches!(
            scan(&hole, 0),
            Scan::Bad {
                reaches_end: false,
                ..
            }
        ));
    }
}
