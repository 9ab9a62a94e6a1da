//! Jute's primitive encodings: big-endian ints and longs, one-byte booleans, and
//! length-prefixed buffers, strings and vectors where a length of -1 means null.

use bytes::{BufMut, Bytes, BytesMut};

/// A malformed record: the peer sent bytes that do not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JuteError {
    #[error("record truncated: needed {needed} more bytes at offset {offset}")]
    Truncated { offset: usize, needed: usize },
    #[error("negative length {0}")]
    NegativeLength(i32),
    #[error("unknown {what} {value}")]
    Unknown { what: &'static str, value: i32 },
}

/// A cursor over one received frame. A clone reads on from the same place and leaves
/// this one where it is.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], JuteError> {
        if n > self.remaining() {
            return Err(JuteError::Truncated {
                offset: self.pos,
                needed: n - self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], JuteError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A length prefix; `None` is jute's null (-1).
    fn length(&mut self) -> Result<Option<usize>, JuteError> {
        match i32::read(self)? {
            -1 => Ok(None),
            n if n < 0 => Err(JuteError::NegativeLength(n)),
            n => Ok(Some(n as usize)),
        }
    }

    /// Passes over a length-prefixed buffer or string.
    fn skip_buffer(&mut self) -> Result<(), JuteError> {
        if let Some(n) = self.length()? {
            self.take(n)?;
        }
        Ok(())
    }
}

/// A length as jute writes it. Everything we encode is bounded far below 2 GiB (frames
/// by `jute.maxbuffer`, znode data likewise), so a longer one is a bug here: written as
/// a wrapped i32 it would corrupt the stream for every reader after it.
fn wire_length(len: usize) -> i32 {
    match i32::try_from(len) {
        Ok(n) => n,
        Err(_) => panic!("jute length {len} does not fit an i32: a record grew past any bound"),
    }
}

/// A value with a jute encoding.
pub trait Jute: Sized {
    /// The fewest bytes any value of this type takes on the wire. A vector's count is
    /// checked against it, so a claimed count cannot reserve memory for elements the
    /// sender never sent. Zero is always safe; more than the truth refuses valid input.
    const MIN_WIRE_SIZE: usize = 0;

    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError>;
    fn write(&self, w: &mut BytesMut);

    /// Passes over a value: what `read` accepts, without keeping it. Types that own
    /// heap memory pass over it without allocating, so a caller can count records
    /// before it reserves room for them.
    fn skip(r: &mut Reader<'_>) -> Result<(), JuteError> {
        Self::read(r).map(drop)
    }

    /// Decodes a whole record from the start of `buf`.
    fn from_bytes(buf: &[u8]) -> Result<Self, JuteError> {
        Self::read(&mut Reader::new(buf))
    }

    fn to_bytes(&self) -> Bytes {
        let mut w = BytesMut::new();
        self.write(&mut w);
        w.freeze()
    }
}

impl Jute for i32 {
    const MIN_WIRE_SIZE: usize = 4;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        Ok(i32::from_be_bytes(r.array()?))
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(*self);
    }
}

impl Jute for i64 {
    const MIN_WIRE_SIZE: usize = 8;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        Ok(i64::from_be_bytes(r.array()?))
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i64(*self);
    }
}

impl Jute for bool {
    const MIN_WIRE_SIZE: usize = 1;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        Ok(r.array::<1>()?[0] != 0)
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_u8(u8::from(*self));
    }
}

/// A ustring. Null reads as empty; invalid UTF-8 is replaced as Java's decoder does,
/// so path validation later refuses it instead of the codec.
impl Jute for String {
    const MIN_WIRE_SIZE: usize = 4;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        match r.length()? {
            None => Ok(String::new()),
            Some(n) => Ok(String::from_utf8_lossy(r.take(n)?).into_owned()),
        }
    }
    fn skip(r: &mut Reader<'_>) -> Result<(), JuteError> {
        r.skip_buffer()
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(wire_length(self.len()));
        w.put_slice(self.as_bytes());
    }
}

/// A buffer where null and empty are the same thing (passwords, tokens).
impl Jute for Bytes {
    const MIN_WIRE_SIZE: usize = 4;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        match r.length()? {
            None => Ok(Bytes::new()),
            Some(n) => Ok(Bytes::copy_from_slice(r.take(n)?)),
        }
    }
    fn skip(r: &mut Reader<'_>) -> Result<(), JuteError> {
        r.skip_buffer()
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(wire_length(self.len()));
        w.put_slice(self);
    }
}

/// A buffer whose nullness ZooKeeper preserves (znode data).
impl Jute for Option<Bytes> {
    const MIN_WIRE_SIZE: usize = 4;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        match r.length()? {
            None => Ok(None),
            Some(n) => Ok(Some(Bytes::copy_from_slice(r.take(n)?))),
        }
    }
    fn skip(r: &mut Reader<'_>) -> Result<(), JuteError> {
        r.skip_buffer()
    }
    fn write(&self, w: &mut BytesMut) {
        match self {
            None => w.put_i32(-1),
            Some(b) => b.write(w),
        }
    }
}

/// A vector; null reads as empty. The count is checked against the bytes left at the
/// element's smallest wire size before anything is reserved: an element in memory (an
/// ACL is two Strings and an int, 56 bytes) can be far larger than its 12 bytes on the
/// wire, and a count checked only against the bytes left would let a sender make us
/// reserve fifty times what it sent. Checked this way, the reservation is at most
/// `size_of::<T>() / T::MIN_WIRE_SIZE` times the bytes received (under 8 for every
/// record of the protocol; `records` tests it).
impl<T: Jute> Jute for Vec<T> {
    const MIN_WIRE_SIZE: usize = 4;
    fn read(r: &mut Reader<'_>) -> Result<Self, JuteError> {
        let n = vector_count::<T>(r)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::read(r)?);
        }
        Ok(out)
    }
    fn skip(r: &mut Reader<'_>) -> Result<(), JuteError> {
        for _ in 0..vector_count::<T>(r)? {
            T::skip(r)?;
        }
        Ok(())
    }
    fn write(&self, w: &mut BytesMut) {
        w.put_i32(wire_length(self.len()));
        for item in self {
            item.write(w);
        }
    }
}

/// A vector's count (null counts as empty), refused when the bytes left cannot hold
/// that many elements of `T`'s smallest encoding.
fn vector_count<T: Jute>(r: &mut Reader<'_>) -> Result<usize, JuteError> {
    let Some(n) = r.length()? else {
        return Ok(0);
    };
    let min = T::MIN_WIRE_SIZE.max(1);
    let fits = r.remaining() / min;
    if n > fits {
        return Err(JuteError::Truncated {
            offset: r.position(),
            needed: (n - fits) * min,
        });
    }
    Ok(n)
}

/// Declares a jute record: a struct whose fields are read and written in order.
#[macro_export]
macro_rules! record {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]

        pub struct $name { $($(#[$fm])* pub $field: $ty),* }

        impl $crate::codec::Jute for $name {
            const MIN_WIRE_SIZE: usize = 0 $(+ <$ty as $crate::codec::Jute>::MIN_WIRE_SIZE)*;
            #[allow(unused_variables)]
            fn read(r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::JuteError> {
                Ok(Self { $($field: $crate::codec::Jute::read(r)?),* })
            }
            #[allow(unused_variables)]
            fn write(&self, w: &mut bytes::BytesMut) {
                $($crate::codec::Jute::write(&self.$field, w);)*
            }
            #[allow(unused_variables)]
            fn skip(r: &mut $crate::codec::Reader<'_>) -> Result<(), $crate::codec::JuteError> {
                $(<$ty as $crate::codec::Jute>::skip(r)?;)*
                Ok(())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip() {
        let mut w = BytesMut::new();
        (-7i32).write(&mut w);
        (1i64 << 40).write(&mut w);
        true.write(&mut w);
        "/a/b".to_string().write(&mut w);
        None::<Bytes>.write(&mut w);
        vec!["x".to_string(), "yz".to_string()].write(&mut w);
        let mut r = Reader::new(&w);
        assert_eq!(i32::read(&mut r), Ok(-7));
        assert_eq!(i64::read(&mut r), Ok(1 << 40));
        assert_eq!(bool::read(&mut r), Ok(true));
        assert_eq!(String::read(&mut r).as_deref(), Ok("/a/b"));
        assert_eq!(Option::<Bytes>::read(&mut r), Ok(None));
        assert_eq!(Vec::<String>::read(&mut r).map(|v| v.len()), Ok(2));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn skip_passes_over_what_read_reads() {
        let mut w = BytesMut::new();
        "/a/b".to_string().write(&mut w);
        None::<Bytes>.write(&mut w);
        Some(Bytes::from_static(b"xyz")).write(&mut w);
        vec!["x".to_string(), "yz".to_string()].write(&mut w);
        (-7i32).write(&mut w);
        let mut r = Reader::new(&w);
        assert_eq!(String::skip(&mut r), Ok(()));
        assert_eq!(Bytes::skip(&mut r), Ok(()));
        assert_eq!(Option::<Bytes>::skip(&mut r), Ok(()));
        assert_eq!(Vec::<String>::skip(&mut r), Ok(()));
        assert_eq!(i32::read(&mut r), Ok(-7));
        assert_eq!(r.remaining(), 0);
        // What read refuses, skip refuses.
        let huge = [0x7f, 0xff, 0xff, 0xff, 1, 2];
        assert!(String::skip(&mut Reader::new(&huge)).is_err());
        assert!(Vec::<String>::skip(&mut Reader::new(&huge)).is_err());
        let negative = (-5i32).to_be_bytes();
        assert_eq!(
            Bytes::skip(&mut Reader::new(&negative)),
            Err(JuteError::NegativeLength(-5))
        );
    }

    #[test]
    fn hostile_lengths_are_refused() {
        let huge = [0x7f, 0xff, 0xff, 0xff, 1, 2];
        assert!(matches!(
            String::read(&mut Reader::new(&huge)),
            Err(JuteError::Truncated { .. })
        ));
        assert!(matches!(
            Vec::<String>::read(&mut Reader::new(&huge)),
            Err(JuteError::Truncated { .. })
        ));
        let negative = (-5i32).to_be_bytes();
        assert_eq!(
            Bytes::read(&mut Reader::new(&negative)),
            Err(JuteError::NegativeLength(-5))
        );
        assert!(i64::read(&mut Reader::new(&[1, 2, 3])).is_err());
    }
}
