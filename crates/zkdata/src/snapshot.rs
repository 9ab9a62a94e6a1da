//! ZooKeeper's snapshot (`FileSnap`): the file header, the sessions, the ACL cache,
//! the nodes in pre-order ending with the path "/", and the seals: an Adler32 of
//! every byte before it plus "/", after the tree, after the 3.6+ digest, and after
//! the 3.9 last-processed zxid. EOF where the digest or the zxid would begin is an
//! older format, as ZooKeeper reads it.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::{Acl, Id};
use corral_jute::{Jute, JuteError, Reader};

use crate::model::{split, ZkNode, ZkTree};
use crate::records::{FileHeader, StatPersisted};

/// "ZKSN".
pub const SNAP_MAGIC: i32 = 0x5A4B_534E;
/// The ACL id that means world:anyone with every permission, never stored.
const OPEN_ACL_ID: i64 = -1;

/// A decoded snapshot.
#[derive(Debug)]
pub struct Snapshot {
    pub tree: ZkTree,
    /// The 3.6+ digest record: the zxid it belongs to, its version and value.
    pub digest: Option<(i64, i32, i64)>,
    /// The 3.9 trailer.
    pub last_processed_zxid: Option<i64>,
}

/// Why a snapshot does not decode, and at which byte.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapError {
    pub offset: u64,
    pub reason: String,
}

fn at(r: &Reader<'_>, reason: impl Into<String>) -> SnapError {
    SnapError {
        offset: r.position() as u64,
        reason: reason.into(),
    }
}

fn jute<'r>(r: &'r Reader<'_>) -> impl Fn(JuteError) -> SnapError + 'r {
    move |e| at(r, format!("truncated or malformed: {e}"))
}

/// How often decoding reports the nodes read so far.
const PROGRESS_EVERY: u64 = 8192;

/// Decodes a snapshot's (uncompressed) bytes; `progress` hears the nodes read and
/// the bytes consumed, now and then.
pub fn decode(bytes: &[u8], progress: &mut dyn FnMut(u64, u64)) -> Result<Snapshot, SnapError> {
    let mut r = Reader::new(bytes);
    let header = FileHeader::read(&mut r).map_err(|e| at(&r, e.to_string()))?;
    if header.magic != SNAP_MAGIC {
        return Err(at(
            &r,
            format!("bad magic 0x{:08x}, not ZKSN", header.magic),
        ));
    }
    let mut tree = ZkTree::default();
    let sessions = i32::read(&mut r).map_err(|e| at(&r, e.to_string()))?;
    for _ in 0..sessions.max(0) {
        let id = i64::read(&mut r).map_err(|e| at(&r, e.to_string()))?;
        let timeout = i32::read(&mut r).map_err(|e| at(&r, e.to_string()))?;
        tree.sessions.insert(id, timeout);
    }
    let acls = read_acl_cache(&mut r, &mut tree)?;
    read_nodes(&mut r, &mut tree, &acls, progress)?;
    check_seal(&mut r, bytes)?;
    let mut snap = Snapshot {
        tree,
        digest: None,
        last_processed_zxid: None,
    };
    if r.remaining() == 0 {
        return Ok(snap);
    }
    snap.digest = Some(read_digest(&mut r)?);
    check_seal(&mut r, bytes)?;
    if r.remaining() == 0 {
        return Ok(snap);
    }
    snap.last_processed_zxid = Some(i64::read(&mut r).map_err(|e| at(&r, e.to_string()))?);
    check_seal(&mut r, bytes)?;
    Ok(snap)
}

/// `ReferenceCountedACLCache`: a count, then each id with its ACL list.
fn read_acl_cache(
    r: &mut Reader<'_>,
    tree: &mut ZkTree,
) -> Result<HashMap<i64, Arc<[Acl]>>, SnapError> {
    let count = i32::read(r).map_err(|e| at(r, e.to_string()))?;
    let mut out = HashMap::new();
    for _ in 0..count.max(0) {
        let id = i64::read(r).map_err(|e| at(r, e.to_string()))?;
        let list = Vec::<Acl>::read(r).map_err(|e| at(r, format!("ACL cache: {e}")))?;
        out.insert(id, tree.intern(list));
    }
    Ok(out)
}

/// The nodes, each after its parent, up to the path "/".
fn read_nodes(
    r: &mut Reader<'_>,
    tree: &mut ZkTree,
    acls: &HashMap<i64, Arc<[Acl]>>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), SnapError> {
    let open = tree.intern(vec![Acl {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]);
    let mut count = 0u64;
    loop {
        let path = String::read(r).map_err(jute(r))?;
        if path == "/" {
            progress(count, r.position() as u64);
            return Ok(());
        }
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            progress(count, r.position() as u64);
        }
        let data = Option::<Bytes>::read(r).map_err(jute(r))?;
        let acl_id = i64::read(r).map_err(jute(r))?;
        let stat = StatPersisted::read(r).map_err(jute(r))?;
        let acl = match acl_id {
            OPEN_ACL_ID => open.clone(),
            id => acls.get(&id).cloned().ok_or_else(|| {
                at(
                    r,
                    format!("node {path:?} names ACL {id}, which the ACL cache lacks"),
                )
            })?,
        };
        let node = ZkNode {
            data,
            acl,
            stat,
            children: Default::default(),
        };
        // The root is written with the empty path.
        if path.is_empty() {
            tree.nodes.insert("/".into(), node);
            continue;
        }
        let Some((parent, name)) = split(&path) else {
            return Err(at(r, format!("node path {path:?} does not start with /")));
        };
        match tree.nodes.get_mut(parent) {
            Some(p) => {
                p.children.insert(name.to_string());
            }
            None => return Err(at(r, format!("node {path:?} comes before its parent"))),
        }
        tree.insert(path, node);
    }
}

/// `ZxidDigest`; before digest version 2 the value was a hex string.
fn read_digest(r: &mut Reader<'_>) -> Result<(i64, i32, i64), SnapError> {
    let zxid = i64::read(r).map_err(jute(r))?;
    let version = i32::read(r).map_err(jute(r))?;
    let digest = if version < 2 {
        let text = String::read(r).map_err(jute(r))?;
        u64::from_str_radix(&text, 16).map_err(|_| at(r, format!("digest {text:?} is not hex")))?
            as i64
    } else {
        i64::read(r).map_err(jute(r))?
    };
    Ok((zxid, version, digest))
}

/// A seal: the Adler32 of every byte before it, then the string "/".
fn check_seal(r: &mut Reader<'_>, bytes: &[u8]) -> Result<(), SnapError> {
    let expected = adler2::adler32_slice(&bytes[..r.position()]);
    let at_seal = r.position() as u64;
    let stored = i64::read(r).map_err(jute(r))?;
    let slash = String::read(r).map_err(jute(r))?;
    if stored as u64 != u64::from(expected) {
        return Err(SnapError {
            offset: at_seal,
            reason: format!("checksum mismatch: stored 0x{stored:x}, computed 0x{expected:x}"),
        });
    }
    if slash != "/" {
        return Err(at(r, "seal not followed by \"/\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&SNAP_MAGIC.to_be_bytes());
        b.extend_from_slice(&2i32.to_be_bytes());
        b.extend_from_slice(&(-1i64).to_be_bytes());
        b
    }

    /// Counts and lengths from the file are checked against the bytes left, so a
    /// few bytes claiming billions of sessions, ACLs or data end in an error at
    /// once, not in a reservation.
    #[test]
    fn claimed_counts_and_lengths_cannot_reserve_memory() {
        let mut sessions = header();
        sessions.extend_from_slice(&i32::MAX.to_be_bytes());
        let mut acls = header();
        acls.extend_from_slice(&0i32.to_be_bytes());
        acls.extend_from_slice(&1i32.to_be_bytes());
        acls.extend_from_slice(&7i64.to_be_bytes());
        acls.extend_from_slice(&1_000_000_000i32.to_be_bytes());
        let mut data = header();
        data.extend_from_slice(&0i32.to_be_bytes());
        data.extend_from_slice(&0i32.to_be_bytes());
        data.extend_from_slice(&0i32.to_be_bytes()); // the root's path ""
        data.extend_from_slice(&i32::MAX.to_be_bytes());
        for bytes in [sessions, acls, data] {
            let err = decode(&bytes, &mut |_, _| {}).map(|s| s.tree.nodes.len());
            assert!(err.is_err(), "{err:?}");
        }
    }

    #[test]
    fn a_wrong_magic_is_refused_at_byte_16() {
        let mut b = header();
        b[0] = b'X';
        let err = decode(&b, &mut |_, _| {}).map(|s| s.tree.nodes.len());
        assert!(matches!(err, Err(SnapError { offset: 16, .. })), "{err:?}");
    }
}
