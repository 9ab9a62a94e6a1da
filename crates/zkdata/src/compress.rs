//! A snapshot file's bytes as ZooKeeper's `SnapStream` reads them: plain, gzip
//! (`.gz`) or snappy-java's stream (`.snappy`), chosen by the name's last suffix.
//!
//! Decompressed bytes are real content, grown as they arrive; no length the file
//! claims is reserved ahead. A snappy block's claimed size is checked against the
//! most a block of its size can expand to.

use std::io::Read;

/// snappy-java's stream header: its magic, then version 1 and compatible version 1.
const SNAPPY_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const SNAPPY_HEADER: usize = 16;
/// The largest expansion of raw snappy: a three-byte copy tag yields 64 bytes.
const SNAPPY_MAX_RATIO: usize = 22;

/// How a snapshot file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
}

impl Compression {
    /// As `SnapStream.getStreamMode`: the last dot-separated part of the name.
    pub fn of_name(name: &str) -> Compression {
        match name.rsplit('.').next() {
            Some("gz") => Compression::Gzip,
            Some("snappy") => Compression::Snappy,
            _ => Compression::None,
        }
    }
}

/// The stream's bytes, uncompressed; an error says what is wrong.
pub fn decompress(raw: Vec<u8>, how: Compression) -> Result<Vec<u8>, String> {
    match how {
        Compression::None => Ok(raw),
        Compression::Gzip => {
            let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
            flate2::read::MultiGzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| format!("gzip: {e}"))?;
            Ok(out)
        }
        Compression::Snappy => unsnappy(&raw),
    }
}

/// snappy-java's `SnappyOutputStream` format: the header, then blocks of a
/// big-endian length and that many bytes of raw snappy.
fn unsnappy(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.len() < SNAPPY_HEADER || raw[..8] != SNAPPY_MAGIC {
        return Err("snappy: not a snappy-java stream (bad magic)".into());
    }
    let mut out = Vec::new();
    let mut pos = SNAPPY_HEADER;
    let mut decoder = snap::raw::Decoder::new();
    while pos < raw.len() {
        let Some(len) = raw.get(pos..pos + 4) else {
            return Err(format!("snappy: block length cut short at byte {pos}"));
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        pos += 4;
        let Some(block) = raw.get(pos..pos.saturating_add(len)) else {
            return Err(format!("snappy: block at byte {pos} runs past the end"));
        };
        let size = snap::raw::decompress_len(block).map_err(|e| format!("snappy: {e}"))?;
        if size > block.len().saturating_mul(SNAPPY_MAX_RATIO) + 64 {
            return Err(format!(
                "snappy: block at byte {pos} claims {size} bytes, more than it can hold"
            ));
        }
        let start = out.len();
        out.resize(start + size, 0);
        decoder
            .decompress(block, &mut out[start..])
            .map_err(|e| format!("snappy: block at byte {pos}: {e}"))?;
        pos += len;
    }
    Ok(out)
}
