//! Watches, held per connection and never replicated, as in ZooKeeper.
//!
//! Like ZooKeeper's `DataTree`, there are two tables: data watches (getData, exists)
//! and child watches (getChildren). A persistent watch sits in both; a recursive one
//! only in the data table, so it never sees NodeChildrenChanged. A connection gets at
//! most one event per change, and a one-shot watch is gone once it fires.
//!
//! Events go into the connection's outbox, the writer's bounded queue, without
//! waiting: the apply step calls in here under the tree's write lock. A connection
//! whose outbox is full is not reading; it gets no more events (a gap followed by
//! later events would break ZooKeeper's promise) and is told to stop, so the client
//! reconnects and re-arms its watches with setWatches.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use corral_jute::records::{event_type, keeper_state, ReplyHeader, WatcherEvent};
use corral_jute::xid;
use corral_tree::{path, Event, EventKind};
use tokio::sync::watch;

use crate::outbox::Outbox;
use crate::telemetry::Telemetry;
use crate::wire::{frame, ConnId, JuteDyn};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Modes {
    standard: bool,
    persistent: bool,
    recursive: bool,
}

impl Modes {
    fn any(self) -> bool {
        self.standard || self.persistent || self.recursive
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Data,
    Child,
}

/// ZooKeeper's `WatcherType` for checkWatches and removeWatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherType {
    Children,
    Data,
    Any,
    Persistent,
    PersistentRecursive,
}

impl WatcherType {
    pub fn from_i32(n: i32) -> Option<WatcherType> {
        Some(match n {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            _ => return None,
        })
    }
}

/// Where a connection's events go, and how to stop it when it does not take them.
struct Listener {
    frames: Outbox,
    stop: Arc<watch::Sender<bool>>,
}

pub struct WatchManager {
    data: HashMap<String, HashMap<ConnId, Modes>>,
    child: HashMap<String, HashMap<ConnId, Modes>>,
    /// How many (path, connection) entries of `data` have the recursive mode: while
    /// it is 0, a change need not look for recursive watches on its ancestors.
    recursive_count: usize,
    by_conn: HashMap<ConnId, HashSet<(Table, String)>>,
    outboxes: HashMap<ConnId, Listener>,
    /// Where the watches fired and the bytes of their events are counted.
    telemetry: Arc<Telemetry>,
}

/// One recursive watch fewer. The count going below zero means the tables are out
/// of step with it: a broken invariant, which stops the server rather than let a
/// wrapped count make every change walk its ancestors, or miss a recursive watch.
fn one_recursive_less(count: &mut usize) {
    *count = count
        .checked_sub(1)
        .unwrap_or_else(|| panic!("watch tables: a recursive watch removed twice"));
}

impl WatchManager {
    pub fn new(telemetry: Arc<Telemetry>) -> WatchManager {
        WatchManager {
            data: HashMap::new(),
            child: HashMap::new(),
            recursive_count: 0,
            by_conn: HashMap::new(),
            outboxes: HashMap::new(),
            telemetry,
        }
    }

    /// Lets a connection receive events; `stop` stops it when its outbox is full.
    pub fn attach(&mut self, conn: ConnId, frames: Outbox, stop: Arc<watch::Sender<bool>>) {
        self.outboxes.insert(conn, Listener { frames, stop });
    }

    /// Drops every watch of a closed connection.
    pub fn detach(&mut self, conn: ConnId) {
        self.outboxes.remove(&conn);
        for (table, path) in self.by_conn.remove(&conn).unwrap_or_default() {
            let map = self.table(table);
            let mut was_recursive = false;
            if let Some(entry) = map.get_mut(&path) {
                was_recursive = entry.remove(&conn).is_some_and(|m| m.recursive);
                if entry.is_empty() {
                    map.remove(&path);
                }
            }
            if was_recursive {
                one_recursive_less(&mut self.recursive_count);
            }
        }
    }

    fn table(&mut self, table: Table) -> &mut HashMap<String, HashMap<ConnId, Modes>> {
        match table {
            Table::Data => &mut self.data,
            Table::Child => &mut self.child,
        }
    }

    fn modes(&mut self, table: Table, path: &str, conn: ConnId) -> &mut Modes {
        self.by_conn
            .entry(conn)
            .or_default()
            .insert((table, path.to_string()));
        self.table(table)
            .entry(path.to_string())
            .or_default()
            .entry(conn)
            .or_default()
    }

    /// A one-shot watch from getData/exists (data) or getChildren (child).
    pub fn add_standard(&mut self, table: Table, path: &str, conn: ConnId) {
        self.modes(table, path, conn).standard = true;
    }

    /// addWatch: PERSISTENT (mode 0) or PERSISTENT_RECURSIVE (mode 1).
    pub fn add_persistent(&mut self, path: &str, conn: ConnId, recursive: bool) {
        if recursive {
            let m = self.modes(Table::Data, path, conn);
            if !m.recursive {
                m.recursive = true;
                self.recursive_count += 1;
            }
        } else {
            self.modes(Table::Data, path, conn).persistent = true;
            self.modes(Table::Child, path, conn).persistent = true;
        }
    }

    fn has(&self, table: Table, path: &str, conn: ConnId, pick: impl Fn(Modes) -> bool) -> bool {
        let map = match table {
            Table::Data => &self.data,
            Table::Child => &self.child,
        };
        map.get(path)
            .and_then(|m| m.get(&conn))
            .is_some_and(|m| pick(*m))
    }

    /// checkWatches: whether `conn` holds a watch of this type on `path`.
    pub fn contains(&self, path: &str, kind: WatcherType, conn: ConnId) -> bool {
        match kind {
            WatcherType::Children => self.has(Table::Child, path, conn, |m| m.standard),
            WatcherType::Data => self.has(Table::Data, path, conn, |m| m.standard),
            WatcherType::Any => {
                self.has(Table::Child, path, conn, |m| m.any())
                    || self.has(Table::Data, path, conn, |m| m.any())
            }
            WatcherType::Persistent => self.has(Table::Data, path, conn, |m| m.persistent),
            WatcherType::PersistentRecursive => self.has(Table::Data, path, conn, |m| m.recursive),
        }
    }

    /// removeWatches: drops the matching watches; false if there were none.
    pub fn remove(&mut self, path: &str, kind: WatcherType, conn: ConnId) -> bool {
        if !self.contains(path, kind, conn) {
            return false;
        }
        // As in ZooKeeper 3.9: Children and Data remove one-shot watches only, Any
        // removes every mode in both tables.
        let clear = |m: &mut Modes| match kind {
            WatcherType::Children | WatcherType::Data => m.standard = false,
            WatcherType::Any => *m = Modes::default(),
            WatcherType::Persistent => m.persistent = false,
            WatcherType::PersistentRecursive => m.recursive = false,
        };
        let tables: &[Table] = match kind {
            WatcherType::Children => &[Table::Child],
            WatcherType::Data | WatcherType::PersistentRecursive => &[Table::Data],
            WatcherType::Any | WatcherType::Persistent => &[Table::Data, Table::Child],
        };
        for &table in tables {
            self.edit(table, path, conn, clear);
        }
        true
    }

    fn edit(&mut self, table: Table, path: &str, conn: ConnId, f: impl Fn(&mut Modes)) {
        let Some(entry) = self.table(table).get_mut(path) else {
            return;
        };
        let Some(m) = entry.get_mut(&conn) else {
            return;
        };
        let was_recursive = m.recursive;
        f(m);
        let now = *m;
        if was_recursive && !now.recursive {
            one_recursive_less(&mut self.recursive_count);
        }
        if !now.any() {
            self.forget(table, path, conn);
        }
    }

    fn forget(&mut self, table: Table, path: &str, conn: ConnId) {
        let map = self.table(table);
        if let Some(entry) = map.get_mut(path) {
            entry.remove(&conn);
            if entry.is_empty() {
                map.remove(path);
            }
        }
        if let Some(set) = self.by_conn.get_mut(&conn) {
            set.remove(&(table, path.to_string()));
        }
    }

    /// Fires the watches for one applied transaction's events.
    pub fn trigger(&mut self, events: &[Event], zxid: i64) {
        for event in events {
            let (ty, fired) = match event.kind {
                EventKind::Created => (
                    event_type::NODE_CREATED,
                    self.fire(Table::Data, &event.path, &HashSet::new()),
                ),
                EventKind::DataChanged => (
                    event_type::NODE_DATA_CHANGED,
                    self.fire(Table::Data, &event.path, &HashSet::new()),
                ),
                EventKind::ChildrenChanged => (
                    event_type::NODE_CHILDREN_CHANGED,
                    self.fire(Table::Child, &event.path, &HashSet::new()),
                ),
                EventKind::Deleted => {
                    let mut fired = self.fire(Table::Data, &event.path, &HashSet::new());
                    let more = self.fire(Table::Child, &event.path, &fired);
                    fired.extend(more);
                    (event_type::NODE_DELETED, fired)
                }
            };
            // ZooKeeper's node_*_watch_count: watchers notified per change that had any.
            if !fired.is_empty() {
                let m = &self.telemetry.server_metrics;
                let summary = match event.kind {
                    EventKind::Created => &m.node_created_watch,
                    EventKind::DataChanged => &m.node_changed_watch,
                    EventKind::ChildrenChanged => &m.node_children_watch,
                    EventKind::Deleted => &m.node_deleted_watch,
                };
                summary.add(fired.len() as u64);
            }
            for conn in fired {
                self.send(conn, ty, &event.path, zxid);
            }
        }
    }

    /// The connections a change at `path` notifies from `table`; one-shot watches at
    /// `path` are consumed. Connections in `suppress` were already told.
    fn fire(&mut self, table: Table, path: &str, suppress: &HashSet<ConnId>) -> HashSet<ConnId> {
        let mut fired = HashSet::new();
        let mut spent = Vec::new();
        if let Some(entry) = self.table(table).get_mut(path) {
            for (conn, modes) in entry.iter_mut() {
                if !suppress.contains(conn) {
                    fired.insert(*conn);
                }
                if modes.standard {
                    modes.standard = false;
                    if !modes.any() {
                        spent.push(*conn);
                    }
                }
            }
        }
        for conn in spent {
            self.forget(table, path, conn);
        }
        if table == Table::Data && self.recursive_count > 0 {
            let mut at = path::parent(path);
            while let Some(p) = at {
                if let Some(entry) = self.data.get(p) {
                    fired.extend(
                        entry
                            .iter()
                            .filter(|(c, m)| m.recursive && !suppress.contains(c))
                            .map(|(c, _)| *c),
                    );
                }
                at = path::parent(p);
            }
        }
        fired
    }

    /// Queues a notification for a connection. A connection whose queue is full has
    /// stopped reading: rather than let the queue grow, or send it later events after
    /// a lost one, it gets no more events and is stopped. (A `Close` in its queue
    /// could not be delivered either: the queue is full.)
    pub fn send(&mut self, conn: ConnId, ty: i32, path: &str, zxid: i64) {
        let Some(out) = self.outboxes.get(&conn) else {
            return;
        };
        let frame = notification(ty, path, zxid);
        self.telemetry
            .server_metrics
            .watch_bytes
            .fetch_add(frame.len() as u64, std::sync::atomic::Ordering::Relaxed);
        // The outbox logs an overflow, with the client's address.
        if !out.frames.push(frame) {
            out.stop.send_replace(true);
            self.outboxes.remove(&conn);
        }
    }

    /// Counts for `wchs`: connections with watches, watched paths, total watches.
    pub fn summary(&self) -> (usize, usize, usize) {
        let paths: HashSet<&String> = self.data.keys().chain(self.child.keys()).collect();
        let total = self.data.values().map(|m| m.len()).sum::<usize>()
            + self.child.values().map(|m| m.len()).sum::<usize>();
        (
            self.by_conn.values().filter(|s| !s.is_empty()).count(),
            paths.len(),
            total,
        )
    }

    /// Paths watched by each connection, for `wchc`, and by path, for `wchp`.
    pub fn by_connection(&self) -> Vec<(ConnId, Vec<String>)> {
        let mut out: Vec<(ConnId, Vec<String>)> = self
            .by_conn
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(c, s)| {
                let mut paths: Vec<String> = s.iter().map(|(_, p)| p.clone()).collect();
                paths.sort();
                paths.dedup();
                (*c, paths)
            })
            .collect();
        out.sort();
        out
    }
}

fn notification(ty: i32, path: &str, zxid: i64) -> Bytes {
    let header = ReplyHeader {
        xid: xid::NOTIFICATION,
        zxid,
        err: 0,
    };
    let event = WatcherEvent {
        event_type: ty,
        state: keeper_state::SYNC_CONNECTED,
        path: path.to_string(),
    };
    frame(&header, Some(&event as &dyn JuteDyn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::OutboxReader;

    fn ev(path: &str, kind: EventKind) -> Event {
        Event {
            path: path.into(),
            kind,
        }
    }

    fn manager() -> WatchManager {
        WatchManager::new(Arc::new(Telemetry::new(false)))
    }

    fn stop() -> (Arc<watch::Sender<bool>>, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Arc::new(tx), rx)
    }

    fn outbox(limit: usize) -> (Outbox, OutboxReader) {
        crate::outbox::outbox(std::net::SocketAddr::from(([127, 0, 0, 1], 1)), limit)
    }

    fn collect(rx: &mut OutboxReader) -> usize {
        let mut n = 0;
        while rx.try_recv().is_some() {
            n += 1;
        }
        n
    }

    #[test]
    fn one_shot_fires_once_persistent_stays() {
        let mut w = manager();
        let (tx, mut rx) = outbox(1 << 20);
        w.attach(1, tx, stop().0);
        w.add_standard(Table::Data, "/a", 1);
        w.add_persistent("/b", 1, false);
        w.trigger(
            &[
                ev("/a", EventKind::DataChanged),
                ev("/b", EventKind::DataChanged),
            ],
            5,
        );
        assert_eq!(collect(&mut rx), 2);
        w.trigger(
            &[
                ev("/a", EventKind::DataChanged),
                ev("/b", EventKind::DataChanged),
            ],
            6,
        );
        assert_eq!(collect(&mut rx), 1);
        assert!(w.contains("/b", WatcherType::Persistent, 1));
        assert!(!w.contains("/a", WatcherType::Data, 1));
    }

    #[test]
    fn recursive_sees_descendants_but_not_child_lists() {
        let mut w = manager();
        let (tx, mut rx) = outbox(1 << 20);
        w.attach(1, tx, stop().0);
        w.add_persistent("/r", 1, true);
        w.trigger(
            &[
                ev("/r/x/y", EventKind::Created),
                ev("/r/x", EventKind::ChildrenChanged),
            ],
            5,
        );
        assert_eq!(collect(&mut rx), 1);
        assert!(w.remove("/r", WatcherType::PersistentRecursive, 1));
        w.trigger(&[ev("/r/x/y", EventKind::Created)], 6);
        assert_eq!(collect(&mut rx), 0);
        assert!(!w.remove("/r", WatcherType::PersistentRecursive, 1));
    }

    #[test]
    fn delete_tells_a_connection_once() {
        let mut w = manager();
        let (tx, mut rx) = outbox(1 << 20);
        w.attach(1, tx, stop().0);
        w.add_standard(Table::Data, "/d", 1);
        w.add_standard(Table::Child, "/d", 1);
        w.trigger(&[ev("/d", EventKind::Deleted)], 5);
        assert_eq!(collect(&mut rx), 1);
        assert_eq!(w.summary(), (0, 0, 0));
        w.detach(1);
    }

    #[test]
    fn a_full_outbox_stops_the_connection_and_gets_no_later_event() {
        let mut w = manager();
        // Room for one event: the next overflows it.
        let (tx, mut rx) = outbox(1);
        let (stop_tx, stop_rx) = stop();
        w.attach(1, tx, stop_tx);
        w.add_persistent("/p", 1, false);
        let change = [ev("/p", EventKind::DataChanged)];
        w.trigger(&change, 5);
        assert!(!*stop_rx.borrow(), "the first event fits");
        w.trigger(&change, 6);
        assert!(*stop_rx.borrow(), "the second finds the outbox full");
        assert_eq!(collect(&mut rx), 0, "the writer stops at once");
        // The connection that lost an event gets no later one.
        w.trigger(&change, 7);
        assert_eq!(collect(&mut rx), 0);
        assert!(!w.outboxes.contains_key(&1));
    }

    #[test]
    fn recursive_count_follows_the_tables() {
        let mut w = manager();
        w.add_persistent("/r", 1, true);
        w.add_persistent("/r", 1, true);
        w.add_persistent("/s", 2, true);
        assert_eq!(w.recursive_count, 2);
        assert!(w.remove("/r", WatcherType::Any, 1));
        assert_eq!(w.recursive_count, 1);
        w.detach(2);
        assert_eq!(w.recursive_count, 0);
    }
}
