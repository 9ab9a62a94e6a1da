//! Record framing: `[length u32 BE][crc32c u32 BE][payload]`. The CRC covers the
//! length and the payload, so a torn or shifted header is caught as well.

pub const HEADER: usize = 8;

fn checksum(len: u32, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&len.to_be_bytes()), payload)
}

/// Appends one framed record to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&checksum(len, payload).to_be_bytes());
    out.extend_from_slice(payload);
}

/// What scanning a buffer of records found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan<'a> {
    Record {
        payload: &'a [u8],
        next: usize,
    },
    /// Clean end of the data.
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
    if rest.is_empty() {
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
        // Zeros where a record should be: space the file system allocated but the
        // crash never filled.
        let zeros = rest.iter().all(|b| *b == 0);
        return Scan::Bad {
            offset,
            reaches_end: zeros,
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
        return Scan::Bad {
            offset,
            reaches_end: end == rest.len(),
            reason: "CRC mismatch",
        };
    }
    Scan::Record {
        payload,
        next: offset + end,
    }
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
        let zeros = vec![0u8; 32];
        assert!(matches!(
            scan(&zeros, 0),
            Scan::Bad {
                reaches_end: true,
                ..
            }
        ));
    }
}
