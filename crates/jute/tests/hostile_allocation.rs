//! What a client can make the decoder allocate: never more than a small multiple of
//! the bytes it sent, whatever count a vector claims (issue 14, defect 4).
//!
//! A counting allocator measures every byte the decoding thread asks for, so a
//! reservation made from a claimed count shows up even when decoding then fails.

use bytes::{BufMut, BytesMut};
use corral_jute::counting_allocator::{allocated_by, CountingAllocator};
use corral_jute::records::{Acl, CreateRequest, Id, SetAclRequest, SetWatches};
use corral_jute::Jute;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// The most a decode may allocate per byte received.
const AMPLIFICATION: usize = 8;

/// An empty ACL on the wire: perms, then two empty strings: 12 bytes.
fn put_empty_acl(w: &mut BytesMut) {
    w.put_i32(31);
    w.put_i32(0);
    w.put_i32(0);
}

/// A setACL body whose ACL count is as large as the bytes left allow under a check
/// of one byte per element, followed by `acls` real (empty) ACLs.
fn set_acl_claiming_every_byte(acls: usize) -> BytesMut {
    let mut w = BytesMut::new();
    "/a".to_string().write(&mut w);
    let claimed = acls * 12 + 4;
    w.put_i32(claimed as i32);
    for _ in 0..acls {
        put_empty_acl(&mut w);
    }
    w.put_i32(-1);
    w
}

#[test]
fn a_claimed_acl_count_cannot_amplify_memory() {
    let frame = set_acl_claiming_every_byte(10_000);
    let (bytes, decoded) = allocated_by(|| SetAclRequest::from_bytes(&frame));
    assert!(decoded.is_err(), "the claimed count is more than was sent");
    assert!(
        bytes <= AMPLIFICATION * frame.len(),
        "decoding a {}-byte setACL allocated {bytes} bytes",
        frame.len()
    );
}

#[test]
fn many_tiny_acls_cost_a_small_multiple_of_their_bytes() {
    let mut frame = BytesMut::new();
    "/a".to_string().write(&mut frame);
    None::<bytes::Bytes>.write(&mut frame);
    let acls = 20_000;
    frame.put_i32(acls as i32);
    for _ in 0..acls {
        put_empty_acl(&mut frame);
    }
    frame.put_i32(0);
    let (bytes, decoded) = allocated_by(|| CreateRequest::from_bytes(&frame));
    assert_eq!(decoded.map(|c| c.acl.len()), Ok(acls));
    assert!(
        bytes <= AMPLIFICATION * frame.len(),
        "decoding a {}-byte create allocated {bytes} bytes",
        frame.len()
    );
}

#[test]
fn a_claimed_string_count_cannot_amplify_memory() {
    let mut frame = BytesMut::new();
    frame.put_i64(0);
    let strings: i32 = 10_000;
    // Each empty string is 4 bytes; claim one per byte left.
    frame.put_i32(strings * 4 + 12);
    for _ in 0..strings {
        "".to_string().write(&mut frame);
    }
    for _ in 0..3 {
        frame.put_i32(-1);
    }
    let (bytes, decoded) = allocated_by(|| SetWatches::from_bytes(&frame));
    assert!(decoded.is_err(), "the claimed count is more than was sent");
    assert!(
        bytes <= AMPLIFICATION * frame.len(),
        "decoding a {}-byte setWatches allocated {bytes} bytes",
        frame.len()
    );
}

#[test]
fn honest_vectors_still_decode() {
    let acl = vec![
        Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        };
        3
    ];
    let req = SetAclRequest {
        path: "/a".into(),
        acl,
        version: 7,
    };
    assert_eq!(SetAclRequest::from_bytes(&req.to_bytes()), Ok(req));
}

/// A frame of `ops` checks of the empty path: 17 bytes each, the smallest operation a
/// multi can hold, closed by its 9-byte final header.
fn multi_of_tiny_checks(ops: usize) -> BytesMut {
    use corral_jute::multi::{write_ops, MultiOp};
    use corral_jute::records::CheckVersionRequest;
    let check = MultiOp::Check(CheckVersionRequest {
        path: String::new(),
        version: -1,
    });
    let mut frame = BytesMut::new();
    write_ops(&vec![check; ops], &mut frame);
    frame
}

/// A multi has no count to check: its operations are counted first, then read into
/// a vector reserved once. A `MultiOp` is 104 bytes in memory against 17 on the wire,
/// so keeping every one costs about 6 times the frame; growing the vector as they
/// came cost 15 (the old and new blocks of a doubling held at once).
#[test]
fn many_tiny_multi_ops_cost_a_small_multiple_of_their_bytes() {
    use corral_jute::multi::read_ops;
    let ops = 20_000;
    let frame = multi_of_tiny_checks(ops);
    let (bytes, decoded) = allocated_by(|| read_ops(&mut corral_jute::Reader::new(&frame), Ok));
    assert_eq!(decoded.map(|o| o.len()), Ok(ops));
    assert!(
        bytes <= AMPLIFICATION * frame.len(),
        "decoding a {}-byte multi allocated {bytes} bytes",
        frame.len()
    );
    assert_eq!(
        bytes,
        ops * std::mem::size_of::<corral_jute::multi::MultiOp>(),
        "the operations are reserved once, at their exact number"
    );
}

/// A multi cut short in its last operation allocates nothing: the count finds the
/// truncation before anything is reserved or read.
#[test]
fn a_truncated_multi_allocates_nothing() {
    use corral_jute::multi::read_ops;
    let frame = multi_of_tiny_checks(20_000);
    let cut = &frame[..frame.len() - 10];
    let (bytes, decoded) = allocated_by(|| read_ops(&mut corral_jute::Reader::new(cut), Ok));
    assert!(decoded.is_err(), "a truncated multi does not decode");
    assert_eq!(bytes, 0, "a truncated multi allocated {bytes} bytes");
}
