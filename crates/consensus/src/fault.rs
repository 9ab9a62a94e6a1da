//! Deliberate bugs, switched on only to show that the fault campaign's checkers catch
//! a broken guarantee (`corral.testFault` in zoo.cfg; never in production).

/// A deliberate bug, switched on only to show that the fault campaign's checkers
/// catch a broken guarantee (`corral.testFault` in zoo.cfg; never in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `sync` answers at once instead of waiting for what the leader committed, so
    /// a lagging or cut-off server serves stale reads after a sync.
    StaleSync,
}
