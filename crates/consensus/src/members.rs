//! Who the members of an ensemble are, and where this server connects to each.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Who the members of an ensemble are: id to peer address (host:quorumPort).
#[derive(Debug, Clone, Default)]
pub struct Members {
    pub voters: BTreeMap<u64, String>,
    pub observers: BTreeMap<u64, String>,
    /// Where this server connects to a member, when that is not the member's own
    /// address above (a proxy or a NAT between the servers). The membership still
    /// records, and the member still listens on, its own address.
    pub connect: BTreeMap<u64, String>,
}

impl Members {
    pub(crate) fn dialer(&self) -> Dialer {
        Dialer::new(self.connect.clone())
    }

    /// Every configured member's id, voter or observer.
    pub(crate) fn ids(&self) -> std::collections::BTreeSet<u64> {
        self.voters
            .keys()
            .chain(self.observers.keys())
            .copied()
            .collect()
    }
}

/// Where this server connects to each peer: the address the membership records,
/// unless the configuration names another way there.
#[derive(Debug, Clone, Default)]
pub struct Dialer(Arc<BTreeMap<u64, String>>);

impl Dialer {
    pub fn new(overrides: BTreeMap<u64, String>) -> Dialer {
        Dialer(Arc::new(overrides))
    }

    /// The address to connect to for peer `id`, whose membership entry says `recorded`.
    pub fn address<'a>(&'a self, id: u64, recorded: &'a str) -> &'a str {
        self.0.get(&id).map_or(recorded, String::as_str)
    }
}
