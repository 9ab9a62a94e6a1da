//! The wire-level vocabulary every other module speaks: a connection's id, what a
//! connection's writer sends, length-prefixed reply frames and the records they
//! carry. It imports nothing of this crate, so anything may import it.

use bytes::{BufMut, Bytes, BytesMut};
use corral_jute::records::ReplyHeader;
use corral_jute::{ErrorCode, Jute, JuteError, Reader};

/// Names one client connection on this server for as long as the process lives.
pub type ConnId = u64;

/// What a connection's writer stage sends.
pub enum Outbound {
    Frame(Bytes),
    Close,
}

/// Object-safe view of `Jute::write`, so frames can carry any record.
pub trait JuteDyn {
    fn write_to(&self, w: &mut BytesMut);
}

impl<T: Jute> JuteDyn for T {
    fn write_to(&self, w: &mut BytesMut) {
        self.write(w)
    }
}

/// An already-encoded body.
pub struct RawBody(pub Bytes);

impl Jute for RawBody {
    fn read(_r: &mut Reader<'_>) -> Result<Self, JuteError> {
        Err(JuteError::Unknown {
            what: "raw body",
            value: 0,
        })
    }
    fn write(&self, w: &mut BytesMut) {
        w.extend_from_slice(&self.0);
    }
}

/// A length-prefixed reply frame.
pub fn frame(header: &ReplyHeader, body: Option<&dyn JuteDyn>) -> Bytes {
    let mut w = BytesMut::with_capacity(64);
    w.put_i32(0);
    header.write(&mut w);
    if let Some(b) = body {
        b.write_to(&mut w);
    }
    let len = (w.len() - 4) as i32;
    w[..4].copy_from_slice(&len.to_be_bytes());
    w.freeze()
}

/// A reply that is only a header: `err` for request `xid`, stamped with `zxid`.
pub fn error_reply(xid: i32, zxid: i64, err: ErrorCode) -> Bytes {
    let header = ReplyHeader {
        xid,
        zxid,
        err: err.as_i32(),
    };
    frame(&header, None)
}
