//! What a client can make the decoder allocate: never more than a small multiple of
//! the bytes it sent, whatever count a vector claims (issue 14, defect 4).
//!
//! A counting allocator measures every byte the decoding thread asks for, so a
//! reservation made from a claimed count shows up even when decoding then fails.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{BufMut, BytesMut};
use corral_jute::records::{Acl, CreateRequest, Id, SetAclRequest, SetWatches};
use corral_jute::Jute;

struct Counting;

thread_local! {
    /// Bytes this thread holds now, and the most it held since the last reset. A
    /// const Cell needs no allocation to set up, so the allocator may touch it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(by: isize) {
    let live = LIVE.with(|l| {
        l.set(l.get() + by);
        l.get()
    });
    PEAK.with(|p| p.set(p.get().max(live)));
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches
// only thread-local Cells, which neither allocate nor re-enter the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grew(-(layout.size() as isize));
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a move: for a moment both the old block and the new one exist.
        grew(new_size as isize);
        grew(-(layout.size() as isize));
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The most memory this thread held at once, beyond what it held before, while `f`
/// ran, including what `f` returned.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(before));
    let out = f();
    let peak = PEAK.with(|p| p.get());
    ((peak - before).max(0) as usize, out)
}

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

/// A multi has no count to check: its operations are read until the closing header,
/// into a growing Vec. A `MultiOp` is about 104 bytes in memory against 14 to 17 on
/// the wire, and the Vec's doubling holds old and new blocks for a moment, so the
/// bound here is twice the others': a guard that it stays there.
#[test]
fn many_tiny_multi_ops_cost_a_small_multiple_of_their_bytes() {
    use corral_jute::multi::{read_ops, MultiHeader};
    let mut frame = BytesMut::new();
    let ops = 20_000;
    for _ in 0..ops {
        MultiHeader {
            op: 13,
            done: false,
            err: -1,
        }
        .write(&mut frame);
        "".to_string().write(&mut frame);
        frame.put_i32(-1);
    }
    MultiHeader {
        op: -1,
        done: true,
        err: -1,
    }
    .write(&mut frame);
    let (bytes, decoded) = allocated_by(|| read_ops(&mut corral_jute::Reader::new(&frame)));
    assert_eq!(decoded.map(|o| o.len()), Ok(ops));
    assert!(
        bytes <= 2 * AMPLIFICATION * frame.len(),
        "decoding a {}-byte multi allocated {bytes} bytes",
        frame.len()
    );
}
