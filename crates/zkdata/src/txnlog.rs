//! One transaction log file (`FileTxnLog`): the file header, then records of a
//! checksum, a length-prefixed txnEntry and the byte 0x42. The Adler32 covers the
//! txnEntry bytes only. The file is preallocated with zeros, so a zero length (or
//! the end of the file) ends it; a record cut short, or without its 0x42, is a
//! last write that did not finish, and ends it too, as `FileTxnIterator` reads it.

use std::path::{Path, PathBuf};

use corral_jute::{Jute, Reader};

use crate::error::ZkDataError;
use crate::records::FileHeader;
use crate::txn::{decode_entry, TxnDecodeError, TxnEntry};

/// "ZKLG".
pub const LOG_MAGIC: i32 = 0x5A4B_4C47;
const END_OF_RECORD: u8 = 0x42;

/// How a log's records ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEnd {
    /// A zero length or the end of the file: the preallocated tail.
    Clean,
    /// A record cut short or without its 0x42, at this byte.
    Partial { offset: u64 },
}

/// The records of one log file, read one at a time.
pub struct LogReader<'a> {
    file: PathBuf,
    bytes: &'a [u8],
    pos: usize,
    /// The zxid of the last record read, for errors about the one after it.
    last_zxid: i64,
    end: Option<LogEnd>,
}

impl<'a> LogReader<'a> {
    /// Checks the header. An empty file is a log whose header was never written
    /// (ZooKeeper deletes it at start); it has no records.
    pub fn open(file: &Path, bytes: &'a [u8]) -> Result<LogReader<'a>, ZkDataError> {
        let mut r = Reader::new(bytes);
        let mut reader = LogReader {
            file: file.to_path_buf(),
            bytes,
            pos: 0,
            last_zxid: 0,
            end: None,
        };
        if bytes.is_empty() {
            reader.end = Some(LogEnd::Clean);
            return Ok(reader);
        }
        let not_a_log = |reason: String| ZkDataError::NotALog {
            file: file.to_path_buf(),
            reason,
        };
        let header = FileHeader::read(&mut r).map_err(|e| not_a_log(e.to_string()))?;
        if header.magic != LOG_MAGIC {
            return Err(not_a_log(format!(
                "bad magic 0x{:08x}, not ZKLG",
                header.magic
            )));
        }
        if header.version != 2 {
            return Err(not_a_log(format!("version {}, not 2", header.version)));
        }
        reader.pos = r.position();
        Ok(reader)
    }

    /// How the records ended, once `next` has returned `None`.
    pub fn end(&self) -> Option<&LogEnd> {
        self.end.as_ref()
    }

    /// The next record and the byte it starts at; `None` at the end.
    pub fn next_record(&mut self) -> Option<Result<(u64, TxnEntry), ZkDataError>> {
        if self.end.is_some() {
            return None;
        }
        let offset = self.pos;
        match self.frame(offset) {
            Ok(Some((body, next))) => {
                self.pos = next;
                let entry = self.decode(offset as u64, body);
                if let Ok((_, e)) = &entry {
                    self.last_zxid = e.header.zxid;
                }
                Some(entry)
            }
            Ok(None) => None,
            Err(e) => {
                self.end = Some(LogEnd::Clean);
                Some(Err(e))
            }
        }
    }

    /// The checksummed body of the record at `offset` and where the next begins;
    /// `None` (with `end` set) where the log ends.
    fn frame(&mut self, offset: usize) -> Result<Option<(&'a [u8], usize)>, ZkDataError> {
        let mut r = Reader::new(&self.bytes[offset..]);
        let (Ok(crc), Ok(len)) = (i64::read(&mut r), i32::read(&mut r)) else {
            self.end = Some(LogEnd::Clean);
            return Ok(None);
        };
        if len == 0 || len == -1 {
            self.end = Some(LogEnd::Clean);
            return Ok(None);
        }
        // A length no record can have: what follows is not a record.
        let Ok(len) = usize::try_from(len) else {
            return Err(ZkDataError::BadTxn {
                file: self.file.clone(),
                offset: offset as u64,
                zxid: self.last_zxid,
                reason: format!("negative record length {len}"),
            });
        };
        let (Ok(body), Ok(marker)) = (r.take(len), r.take(1)) else {
            self.end = Some(LogEnd::Partial {
                offset: offset as u64,
            });
            return Ok(None);
        };
        if marker[0] != END_OF_RECORD {
            self.end = Some(LogEnd::Partial {
                offset: offset as u64,
            });
            return Ok(None);
        }
        if crc as u64 != u64::from(adler2::adler32_slice(body)) {
            return Err(ZkDataError::Checksum {
                file: self.file.clone(),
                offset: offset as u64,
                after_zxid: self.last_zxid,
            });
        }
        Ok(Some((body, offset + r.position())))
    }

    fn decode(&self, offset: u64, body: &[u8]) -> Result<(u64, TxnEntry), ZkDataError> {
        decode_entry(body)
            .map(|e| (offset, e))
            .map_err(|e| match e {
                TxnDecodeError::UnknownType { zxid, txn_type } => ZkDataError::UnknownTxn {
                    file: self.file.clone(),
                    offset,
                    zxid,
                    txn_type,
                },
                TxnDecodeError::Malformed { zxid, error } => ZkDataError::BadTxn {
                    file: self.file.clone(),
                    offset,
                    zxid,
                    reason: error.to_string(),
                },
            })
    }
}
