//! Quota stats, kept as ZooKeeper keeps them (`DataTree.updateQuotaStat`): a node made,
//! removed or given new data under a path with a quota (a `zookeeper_limits` node at
//! `/zookeeper/quota<path>/`) moves the `count=…,bytes=…` of that quota's
//! `zookeeper_stats` node; the quota whose path is the longest prefix counts it. The
//! stats node's data changes and nothing else of its Stat, and no watch fires, as in
//! ZooKeeper. Creating a `zookeeper_stats` node fills it with the subtree's counts
//! (`updateQuotaForPath`). Quotas on `/` and `/zookeeper` count nothing, as there.
//! Each change keeps its undo, so a multi that fails takes it back.

use bytes::Bytes;

use super::context::{Ctx, Undo};
use crate::path;
use crate::tree::DataTree;

pub(crate) const QUOTA_ROOT: &str = "/zookeeper/quota";
const LIMITS: &str = "zookeeper_limits";
const STATS: &str = "zookeeper_stats";

impl DataTree {
    /// A node of `bytes` bytes was created at `path`.
    pub(super) fn quota_after_create(&mut self, cx: &mut Ctx<'_>, path: &str, bytes: usize) {
        if !self.has_quotas() {
            return;
        }
        let quota_of = path
            .strip_suffix(STATS)
            .and_then(|p| p.strip_suffix('/'))
            .and_then(|p| p.strip_prefix(QUOTA_ROOT))
            .filter(|real| real.starts_with('/'));
        if let Some(real) = quota_of {
            let counted = self.subtree_counts(real);
            self.edit_stats(cx, path, |_| counted);
        }
        self.count_in_quota(cx, path, bytes as i64, 1);
    }

    /// A node of `bytes` bytes was removed from `path`.
    pub(super) fn quota_after_delete(&mut self, cx: &mut Ctx<'_>, path: &str, bytes: usize) {
        if self.has_quotas() {
            self.count_in_quota(cx, path, -(bytes as i64), -1);
        }
    }

    /// The data at `path` went from `before` to `after` bytes.
    pub(super) fn quota_after_set(
        &mut self,
        cx: &mut Ctx<'_>,
        path: &str,
        before: usize,
        after: usize,
    ) {
        if self.has_quotas() {
            self.count_in_quota(cx, path, after as i64 - before as i64, 0);
        }
    }

    /// Every quota's stats counted afresh from its subtree, as ZooKeeper does when it
    /// loads a database (`setupQuota`); after a restore.
    pub(super) fn recount_quotas(&mut self, cx: &mut Ctx<'_>) {
        let limits: Vec<String> = self
            .nodes
            .range(format!("{QUOTA_ROOT}/")..)
            .take_while(|(p, _)| p.starts_with(QUOTA_ROOT))
            .filter(|(p, _)| p.ends_with(&format!("/{LIMITS}")))
            .map(|(p, _)| p.clone())
            .collect();
        for limit in limits {
            let quota = &limit[..limit.len() - LIMITS.len() - 1];
            let real = &quota[QUOTA_ROOT.len()..];
            let counted = self.subtree_counts(real);
            self.edit_stats(cx, &format!("{quota}/{STATS}"), |_| counted);
        }
    }

    fn has_quotas(&self) -> bool {
        self.nodes
            .get(QUOTA_ROOT)
            .is_some_and(|n| !n.children.is_empty())
    }

    fn count_in_quota(&mut self, cx: &mut Ctx<'_>, path: &str, bytes: i64, count: i64) {
        if let Some(prefix) = self.quota_prefix(path) {
            let stats = format!("{QUOTA_ROOT}{prefix}/{STATS}");
            self.edit_stats(cx, &stats, |(c, b)| (c + count, b + bytes));
        }
    }

    /// The longest path with a quota that `path` is in (itself included).
    fn quota_prefix(&self, path: &str) -> Option<String> {
        let mut at = path;
        while at != "/" {
            if at != "/zookeeper"
                && self
                    .nodes
                    .contains_key(&format!("{QUOTA_ROOT}{at}/{LIMITS}"))
            {
                return Some(at.to_string());
            }
            at = path::parent(at)?;
        }
        None
    }

    /// ZooKeeper's `getCounts`: the node at `real` and every node under it, and their
    /// bytes; nothing when it does not exist.
    fn subtree_counts(&self, real: &str) -> (i64, i64) {
        if !self.nodes.contains_key(real) {
            return (0, 0);
        }
        let below = format!("{real}/");
        let mut counted = (0i64, 0i64);
        for (p, n) in self.nodes.range(real.to_string()..) {
            if p != real && !p.starts_with(&below) {
                if p.as_str() > below.as_str() {
                    break;
                }
                continue;
            }
            counted.0 += 1;
            counted.1 += n.data_len() as i64;
        }
        counted
    }

    /// Rewrites the stats node at `stats` with `change` applied to its (count, bytes),
    /// keeping its undo. A stats node that is missing, or whose data does not read
    /// as stats, is left as it is (ZooKeeper logs the first and fails on the second).
    fn edit_stats(
        &mut self,
        cx: &mut Ctx<'_>,
        stats: &str,
        change: impl FnOnce((i64, i64)) -> (i64, i64),
    ) {
        let Some(node) = self.nodes.get_mut(stats) else {
            return;
        };
        let Some(mut track) = StatsTrack::parse(node.data.as_deref().unwrap_or_default()) else {
            return;
        };
        (track.count, track.bytes) = change((track.count, track.bytes));
        let data = Bytes::from(track.to_string());
        cx.undo.push(Undo::DataSet {
            path: stats.to_string(),
            data: node.data.clone(),
            stat: (node.mzxid, node.mtime, node.version),
        });
        let old = node.data_len();
        let new = data.len();
        node.data = Some(data);
        self.data_size = (self.data_size + new as u64).saturating_sub(old as u64);
    }
}

/// ZooKeeper's `StatsTrack`: `key=value` pairs split at `,` or `;`, a missing value
/// read as -1; written back as count and bytes first, then the others sorted.
struct StatsTrack {
    count: i64,
    bytes: i64,
    /// Later pairs win, as in its HashMap; sorted, as it writes them.
    others: std::collections::BTreeMap<String, i64>,
}

impl StatsTrack {
    fn parse(data: &[u8]) -> Option<StatsTrack> {
        let text = std::str::from_utf8(data).ok()?;
        let mut track = StatsTrack {
            count: -1,
            bytes: -1,
            others: Default::default(),
        };
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let key = kv.next()?;
            let value = match kv.next() {
                None | Some("") => -1,
                Some(v) => v.parse().ok()?,
            };
            match key {
                "count" => track.count = value,
                "bytes" => track.bytes = value,
                _ => {
                    track.others.insert(key.to_string(), value);
                }
            }
        }
        Some(track)
    }
}

impl std::fmt::Display for StatsTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "count={},bytes={}", self.count, self.bytes)?;
        if !self.others.is_empty() {
            // ZooKeeper's extra '=' makes old readers ignore the fields after it.
            write!(f, "=")?;
            for (k, v) in &self.others {
                write!(f, ";{k}={v}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::tests::{create_with, txn};
    use crate::tree::DataTree;
    use crate::txn::TxnOp;

    fn stats(t: &DataTree, quota: &str) -> String {
        let node = t.node(&format!("/zookeeper/quota{quota}/zookeeper_stats"));
        let data = node.and_then(|n| n.data.clone()).unwrap_or_default();
        String::from_utf8_lossy(&data).into_owned()
    }

    /// A tree with /app holding two nodes, and a quota on /app as zkCli's setquota
    /// writes it: the limits, then stats of zeros that the create fills in.
    fn with_quota() -> (DataTree, i64) {
        let mut t = DataTree::new(false);
        let mut z = 1;
        let mut apply = |t: &mut DataTree, op: TxnOp| {
            t.apply(z, &txn(0, op));
            z += 1;
        };
        apply(&mut t, create_with("/app", b"12345", 0));
        apply(&mut t, create_with("/app/a", b"xy", 0));
        apply(&mut t, create_with("/zookeeper/quota/app", b"", 0));
        apply(
            &mut t,
            create_with(
                "/zookeeper/quota/app/zookeeper_limits",
                b"count=10,bytes=-1",
                0,
            ),
        );
        apply(
            &mut t,
            create_with(
                "/zookeeper/quota/app/zookeeper_stats",
                b"count=0,bytes=0",
                0,
            ),
        );
        (t, z)
    }

    #[test]
    fn creates_sets_and_deletes_under_a_quota_move_its_stats() {
        let (mut t, z) = with_quota();
        assert_eq!(stats(&t, "/app"), "count=2,bytes=7");
        let version = t
            .node("/zookeeper/quota/app/zookeeper_stats")
            .map(|n| (n.version, n.mzxid));
        t.apply(z, &txn(0, create_with("/app/b", b"abc", 0)));
        assert_eq!(stats(&t, "/app"), "count=3,bytes=10");
        let set = TxnOp::SetData {
            path: "/app/b".into(),
            data: Some(Bytes::from_static(b"a")),
            version: -1,
        };
        t.apply(z + 1, &txn(0, set));
        assert_eq!(stats(&t, "/app"), "count=3,bytes=8");
        let delete = TxnOp::Delete {
            path: "/app/a".into(),
            version: -1,
        };
        t.apply(z + 2, &txn(0, delete));
        assert_eq!(stats(&t, "/app"), "count=2,bytes=6");
        // Outside the quota, and the stats node's own Stat: untouched.
        t.apply(z + 3, &txn(0, create_with("/apps", b"zzzz", 0)));
        assert_eq!(stats(&t, "/app"), "count=2,bytes=6");
        let after = t
            .node("/zookeeper/quota/app/zookeeper_stats")
            .map(|n| (n.version, n.mzxid));
        assert_eq!(after, version);
    }

    #[test]
    fn the_longest_quota_counts_and_a_failed_multi_takes_its_count_back() {
        let (mut t, z) = with_quota();
        t.apply(z, &txn(0, create_with("/app/a/deep", b"", 0)));
        t.apply(
            z + 1,
            &txn(0, create_with("/zookeeper/quota/app/a", b"", 0)),
        );
        t.apply(
            z + 2,
            &txn(
                0,
                create_with("/zookeeper/quota/app/a/zookeeper_limits", b"count=1", 0),
            ),
        );
        t.apply(
            z + 3,
            &txn(
                0,
                create_with("/zookeeper/quota/app/a/zookeeper_stats", b"", 0),
            ),
        );
        assert_eq!(stats(&t, "/app/a"), "count=2,bytes=2");
        t.apply(z + 4, &txn(0, create_with("/app/a/deep/er", b"12", 0)));
        assert_eq!(
            (stats(&t, "/app"), stats(&t, "/app/a")),
            ("count=3,bytes=7".into(), "count=3,bytes=4".into())
        );
        let failing = TxnOp::Multi(vec![
            create_with("/app/c", b"ccc", 0),
            TxnOp::Delete {
                path: "/app/absent".into(),
                version: -1,
            },
        ]);
        t.apply(z + 5, &txn(0, failing));
        assert_eq!(stats(&t, "/app"), "count=3,bytes=7");
    }

    #[test]
    fn stats_keep_zookeeper_s_other_fields_and_their_order() {
        let track =
            super::StatsTrack::parse(b"bytes=5,count=2=;zed=1;countHardLimit=4").expect("stats");
        assert_eq!(track.to_string(), "count=2,bytes=5=;countHardLimit=4;zed=1");
        assert!(super::StatsTrack::parse(b"count=x").is_none());
    }
}
