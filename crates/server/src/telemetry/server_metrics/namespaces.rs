//! The summary sets keyed by namespace (`read_per_namespace`,
//! `write_per_namespace`): like ZooKeeper's, a set grows by one entry per top-level
//! name ever used, and prints in the order of the Java map that holds them (`chm`).

use std::collections::HashMap;
use std::sync::RwLock;

use super::chm;
use super::summary::Summary;

/// ZooKeeper's `PathUtils.getTopNamespace`: the first component; none for "/".
pub(super) fn top_namespace(path: &str) -> Option<&str> {
    path.strip_prefix('/')?
        .split('/')
        .next()
        .filter(|ns| !ns.is_empty())
}

/// Java's `String.length()`, which ZooKeeper adds to the byte counts.
pub(super) fn java_len(s: &str) -> u64 {
    s.chars().map(|c| c.len_utf16() as u64).sum()
}

/// One summary per namespace.
#[derive(Default)]
pub struct Namespaces {
    inner: RwLock<NamespaceSet>,
}

#[derive(Default)]
struct NamespaceSet {
    index: HashMap<String, usize>,
    /// In first-seen order, which the Java map's iteration order depends on.
    keys: Vec<String>,
    summaries: Vec<Summary>,
}

impl Namespaces {
    /// A value for `namespace`: a read lock, and a write lock the first time only.
    pub(super) fn add(&self, namespace: &str, v: u64) {
        {
            let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if let Some(&i) = set.index.get(namespace) {
                set.summaries[i].add(v);
                return;
            }
        }
        let mut set = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let i = match set.index.get(namespace) {
            Some(&i) => i,
            None => {
                let i = set.keys.len();
                set.index.insert(namespace.to_string(), i);
                set.keys.push(namespace.to_string());
                set.summaries.push(Summary::default());
                i
            }
        };
        set.summaries[i].add(v);
    }

    /// Zeroes every summary and keeps the keys, as ZooKeeper's `resetAll` does.
    pub(super) fn reset(&self) {
        let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
        for s in &set.summaries {
            s.reset();
        }
    }

    /// (namespace, its five values) in ZooKeeper's order.
    pub(super) fn values(&self) -> Vec<(String, [String; 5])> {
        let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<&str> = set.keys.iter().map(String::as_str).collect();
        chm::order(&keys)
            .into_iter()
            .filter_map(|k| {
                let i = *set.index.get(k)?;
                Some((k.to_string(), set.summaries[i].values()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_first_components() {
        assert_eq!(top_namespace("/"), None);
        assert_eq!(top_namespace("/ops"), Some("ops"));
        assert_eq!(top_namespace("/ops/a/b"), Some("ops"));
        assert_eq!(java_len("/é"), 2);
    }
}
