//! The framing of multi (14) and multiRead (22): a run of `MultiHeader` + record pairs
//! closed by a header with `done` set.

use bytes::{Bytes, BytesMut};

use crate::codec::{Jute, JuteError, Reader};
use crate::opcode::OpCode;
use crate::record;
use crate::records::{CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest};
use crate::records::{PathWatchRequest, SetDataRequest};

record! {
    pub struct MultiHeader { pub op: i32, pub done: bool, pub err: i32 }
}

/// One operation of a multi request, as it is read: callers of `read_ops` turn each
/// into what they keep at once, so no run of these is ever held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    Create(OpCode, CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(PathWatchRequest),
    GetData(PathWatchRequest),
}

impl MultiOp {
    /// The opcode its header carries.
    pub fn opcode(&self) -> OpCode {
        match self {
            MultiOp::Create(code, _) => *code,
            MultiOp::CreateTtl(_) => OpCode::CreateTtl,
            MultiOp::Delete(_) => OpCode::Delete,
            MultiOp::SetData(_) => OpCode::SetData,
            MultiOp::Check(_) => OpCode::Check,
            MultiOp::GetChildren(_) => OpCode::GetChildren,
            MultiOp::GetData(_) => OpCode::GetData,
        }
    }

    fn write_record(&self, w: &mut BytesMut) {
        match self {
            MultiOp::Create(_, r) => r.write(w),
            MultiOp::CreateTtl(r) => r.write(w),
            MultiOp::Delete(r) => r.write(w),
            MultiOp::SetData(r) => r.write(w),
            MultiOp::Check(r) => r.write(w),
            MultiOp::GetChildren(r) | MultiOp::GetData(r) => r.write(w),
        }
    }
}

/// The record that follows an operation's header, by the header's opcode.
#[derive(Clone, Copy)]
enum Record {
    Create(OpCode),
    CreateTtl,
    Delete,
    SetData,
    Check,
    GetChildren,
    GetData,
}

impl Record {
    /// The record of an opcode that may appear in a multi.
    fn of(op: i32) -> Result<Record, JuteError> {
        Ok(match OpCode::from_i32(op) {
            Some(code @ (OpCode::Create | OpCode::Create2 | OpCode::CreateContainer)) => {
                Record::Create(code)
            }
            Some(OpCode::CreateTtl) => Record::CreateTtl,
            Some(OpCode::Delete) => Record::Delete,
            Some(OpCode::SetData) => Record::SetData,
            Some(OpCode::Check) => Record::Check,
            Some(OpCode::GetChildren) => Record::GetChildren,
            Some(OpCode::GetData) => Record::GetData,
            _ => {
                return Err(JuteError::Unknown {
                    what: "multi opcode",
                    value: op,
                })
            }
        })
    }

    fn read(self, r: &mut Reader<'_>) -> Result<MultiOp, JuteError> {
        Ok(match self {
            Record::Create(code) => MultiOp::Create(code, CreateRequest::read(r)?),
            Record::CreateTtl => MultiOp::CreateTtl(CreateTtlRequest::read(r)?),
            Record::Delete => MultiOp::Delete(DeleteRequest::read(r)?),
            Record::SetData => MultiOp::SetData(SetDataRequest::read(r)?),
            Record::Check => MultiOp::Check(CheckVersionRequest::read(r)?),
            Record::GetChildren => MultiOp::GetChildren(PathWatchRequest::read(r)?),
            Record::GetData => MultiOp::GetData(PathWatchRequest::read(r)?),
        })
    }

    /// Passes over the record without allocating, accepting what `read` accepts.
    fn skip(self, r: &mut Reader<'_>) -> Result<(), JuteError> {
        match self {
            Record::Create(_) => CreateRequest::skip(r),
            Record::CreateTtl => CreateTtlRequest::skip(r),
            Record::Delete => DeleteRequest::skip(r),
            Record::SetData => SetDataRequest::skip(r),
            Record::Check => CheckVersionRequest::skip(r),
            Record::GetChildren | Record::GetData => PathWatchRequest::skip(r),
        }
    }
}

/// Reads the operations of a multi request, each turned by `keep` into what the caller
/// holds as soon as it is read. An opcode that may not appear in a multi, or an error
/// from `keep`, is an error the caller answers with; so is a truncated record.
///
/// A multi carries no count, and an operation in memory is several times its smallest
/// encoding (a check of the empty path is 17 bytes). Growing a vector as operations
/// come would hold old and new blocks at once, up to three times the final length, so
/// the operations are counted first, passing over their records without allocating,
/// and the result is reserved once at its exact length: what a multi costs is then
/// its operations, `size_of::<T>()` each, and what they own.
pub fn read_ops<T>(
    r: &mut Reader<'_>,
    mut keep: impl FnMut(MultiOp) -> Result<T, JuteError>,
) -> Result<Vec<T>, JuteError> {
    let count = count_ops(r.clone())?;
    let mut ops = Vec::with_capacity(count);
    loop {
        let h = MultiHeader::read(r)?;
        if h.done {
            assert_eq!(
                ops.len(),
                count,
                "a multi's operations counted differently when skipped and when read"
            );
            return Ok(ops);
        }
        ops.push(keep(Record::of(h.op)?.read(r)?)?);
    }
}

/// How many operations a multi holds, checking their framing as `read_ops` does.
fn count_ops(mut r: Reader<'_>) -> Result<usize, JuteError> {
    let mut count = 0;
    loop {
        let h = MultiHeader::read(&mut r)?;
        if h.done {
            return Ok(count);
        }
        Record::of(h.op)?.skip(&mut r)?;
        count += 1;
    }
}

/// Writes a multi request: each operation's header and record, then the closing
/// header. What a client sends; `read_ops` reads it back.
pub fn write_ops(ops: &[MultiOp], w: &mut BytesMut) {
    for op in ops {
        write_header(op.opcode().as_i32(), -1, w);
        op.write_record(w);
    }
    write_closing_header(w);
}

/// Writes a multi response: each result is its opcode (or -1 for an error) with its
/// encoded record, then the closing header.
pub fn write_results(results: &[(i32, i32, Bytes)], w: &mut BytesMut) {
    for (op, err, body) in results {
        write_header(*op, *err, w);
        w.extend_from_slice(body);
    }
    write_closing_header(w);
}

fn write_header(op: i32, err: i32, w: &mut BytesMut) {
    MultiHeader {
        op,
        done: false,
        err,
    }
    .write(w);
}

fn write_closing_header(w: &mut BytesMut) {
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .write(w);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_round_trip() {
        let mut w = BytesMut::new();
        MultiHeader {
            op: 13,
            done: false,
            err: -1,
        }
        .write(&mut w);
        CheckVersionRequest {
            path: "/a".into(),
            version: 3,
        }
        .write(&mut w);
        MultiHeader {
            op: 2,
            done: false,
            err: -1,
        }
        .write(&mut w);
        DeleteRequest {
            path: "/b".into(),
            version: -1,
        }
        .write(&mut w);
        MultiHeader {
            op: -1,
            done: true,
            err: -1,
        }
        .write(&mut w);
        let ops = read_ops(&mut Reader::new(&w), Ok);
        assert!(matches!(
            ops.as_deref(),
            Ok([MultiOp::Check(_), MultiOp::Delete(_)])
        ));
    }

    /// Every kind of operation, with data and ACLs, is counted as it is read: the
    /// pass that skips records and the pass that reads them agree on every one.
    #[test]
    fn every_kind_of_operation_is_skipped_as_it_is_read() {
        use crate::records::{Acl, Id};
        let acl = vec![Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }];
        let create = CreateRequest {
            path: "/c".into(),
            data: Some(Bytes::from_static(b"data")),
            acl: acl.clone(),
            flags: 1,
        };
        let watch = PathWatchRequest {
            path: "/w".into(),
            watch: true,
        };
        let ops = vec![
            MultiOp::Create(OpCode::Create, create.clone()),
            MultiOp::Create(OpCode::Create2, create.clone()),
            MultiOp::Create(OpCode::CreateContainer, create),
            MultiOp::CreateTtl(CreateTtlRequest {
                path: "/t".into(),
                data: None,
                acl,
                flags: 5,
                ttl: 1000,
            }),
            MultiOp::Delete(DeleteRequest {
                path: "/d".into(),
                version: 2,
            }),
            MultiOp::SetData(SetDataRequest {
                path: "/s".into(),
                data: Some(Bytes::from_static(b"new")),
                version: -1,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/k".into(),
                version: 4,
            }),
            MultiOp::GetChildren(watch.clone()),
            MultiOp::GetData(watch),
        ];
        let mut w = BytesMut::new();
        write_ops(&ops, &mut w);
        assert_eq!(read_ops(&mut Reader::new(&w), Ok), Ok(ops));
    }

    #[test]
    fn an_error_from_keep_refuses_the_multi() {
        let mut w = BytesMut::new();
        write_ops(&[MultiOp::Delete(DeleteRequest::default())], &mut w);
        let refused = || JuteError::Unknown {
            what: "test",
            value: 1,
        };
        let kept = read_ops(&mut Reader::new(&w), |_| Err::<(), _>(refused()));
        assert_eq!(kept, Err(refused()));
    }

    #[test]
    fn foreign_opcode_in_multi_is_refused() {
        let mut w = BytesMut::new();
        MultiHeader {
            op: 9,
            done: false,
            err: -1,
        }
        .write(&mut w);
        assert!(read_ops(&mut Reader::new(&w), Ok).is_err());
    }
}
