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

/// One operation of a multi request.
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

/// Reads the operations of a multi request. An opcode that may not appear in a multi is
/// an error the caller answers with; a truncated record closes the connection.
pub fn read_ops(r: &mut Reader<'_>) -> Result<Vec<MultiOp>, JuteError> {
    let mut ops = Vec::new();
    loop {
        let h = MultiHeader::read(r)?;
        if h.done {
            return Ok(ops);
        }
        let op = match OpCode::from_i32(h.op) {
            Some(code @ (OpCode::Create | OpCode::Create2 | OpCode::CreateContainer)) => {
                MultiOp::Create(code, CreateRequest::read(r)?)
            }
            Some(OpCode::CreateTtl) => MultiOp::CreateTtl(CreateTtlRequest::read(r)?),
            Some(OpCode::Delete) => MultiOp::Delete(DeleteRequest::read(r)?),
            Some(OpCode::SetData) => MultiOp::SetData(SetDataRequest::read(r)?),
            Some(OpCode::Check) => MultiOp::Check(CheckVersionRequest::read(r)?),
            Some(OpCode::GetChildren) => MultiOp::GetChildren(PathWatchRequest::read(r)?),
            Some(OpCode::GetData) => MultiOp::GetData(PathWatchRequest::read(r)?),
            _ => {
                return Err(JuteError::Unknown {
                    what: "multi opcode",
                    value: h.op,
                })
            }
        };
        ops.push(op);
    }
}

/// Writes a multi response: each result is its opcode (or -1 for an error) with its
/// encoded record, then the closing header.
pub fn write_results(results: &[(i32, i32, Bytes)], w: &mut BytesMut) {
    for (op, err, body) in results {
        MultiHeader {
            op: *op,
            done: false,
            err: *err,
        }
        .write(w);
        w.extend_from_slice(body);
    }
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
        let ops = read_ops(&mut Reader::new(&w));
        assert!(matches!(
            ops.as_deref(),
            Ok([MultiOp::Check(_), MultiOp::Delete(_)])
        ));
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
        assert!(read_ops(&mut Reader::new(&w)).is_err());
    }
}
