//! ZooKeeper's tree digest (3.6+, `DigestCalculator` version 2, `NodeHashMapImpl`):
//! each node's CRC32 over its path, its data and 60 bytes of its persisted Stat,
//! summed (wrapping, `AdHash`) over every node but those under "/zookeeper/". The
//! root counts once, under the path "" (ZooKeeper aliases "/" to it). A snapshot
//! carries the sum with the zxid it was taken at; ZooKeeper compares it when its
//! replay reaches that zxid.

use crate::model::ZkTree;
use crate::records::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`.
pub const DIGEST_VERSION: i32 = 2;

/// `ZooDefs.ZOOKEEPER_NODE_SUBTREE`: nodes under it are left out, because their
/// quota stats are updated outside the log on each server.
const EXCLUDED: &str = "/zookeeper/";

/// One node's digest, `DigestCalculator.calculateDigest`; 0 for the excluded nodes.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if path.starts_with(EXCLUDED) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut fields = [0u8; 60];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        fields[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(&stat.czxid.to_be_bytes());
    put(&stat.mzxid.to_be_bytes());
    put(&stat.pzxid.to_be_bytes());
    put(&stat.ctime.to_be_bytes());
    put(&stat.mtime.to_be_bytes());
    put(&stat.version.to_be_bytes());
    put(&stat.cversion.to_be_bytes());
    put(&stat.aversion.to_be_bytes());
    put(&stat.ephemeral_owner.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    // Java's String.getBytes() in the platform charset: UTF-8 on every JDK since 18,
    // and the only charset ZooKeeper's paths (from jute's UTF-8 strings) round-trip in.
    crc.update(path.as_bytes());
    if let Some(data) = data {
        crc.update(data);
    }
    crc.update(&fields);
    i64::from(crc.finalize())
}

/// The digest of a whole tree, as ZooKeeper holds it after loading the same nodes.
pub fn tree_digest(tree: &ZkTree) -> i64 {
    tree.nodes.iter().fold(0i64, |sum, (path, n)| {
        sum.wrapping_add(node_digest(path, n.data.as_deref(), &n.stat))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat() -> StatPersisted {
        StatPersisted {
            czxid: 2,
            mzxid: 3,
            ctime: 1_700_000_000_000,
            mtime: 1_700_000_000_001,
            version: 1,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            pzxid: 2,
        }
    }

    /// The same CRC32 over the same bytes, laid out by hand as Java's ByteBuffer
    /// puts them (big-endian, in the order calculateDigest writes).
    #[test]
    fn a_node_digest_is_the_crc_of_path_data_and_stat() {
        let s = stat();
        let mut bytes = b"/a".to_vec();
        bytes.extend_from_slice(b"xy");
        for v in [s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        for v in [s.version, s.cversion, s.aversion] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        bytes.extend_from_slice(&s.ephemeral_owner.to_be_bytes());
        let want = i64::from(crc32fast::hash(&bytes));
        assert_eq!(node_digest("/a", Some(b"xy"), &s), want);
        assert_ne!(node_digest("/a", None, &s), want);
    }

    #[test]
    fn the_root_is_the_empty_path_and_zookeeper_s_subtree_is_left_out() {
        let s = stat();
        assert_eq!(node_digest("/", None, &s), node_digest("", None, &s));
        assert_eq!(node_digest("/zookeeper/quota", None, &s), 0);
        assert_ne!(node_digest("/zookeeper", None, &s), 0);
    }
}
