//! The watches the shell has set, and how their events are printed: as zkCli's single
//! default watcher prints them, once per event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinHandle;
use zookeeper_client::{OneshotWatcher, PersistentWatcher, WatchedEvent};

/// What a watch set from the shell watches, in the order zkCli reports their removal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WatchKind {
    Persistent,
    Data,
    Child,
}

/// zkCli's watch notification.
pub fn event_text(e: &WatchedEvent) -> String {
    format!(
        "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{:?} path:{}\n",
        e.event_type, e.path
    )
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay whole across a panic (a push or a retain of the list),
    // so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Prints watch events as zkCli's single default watcher does: an event that reaches
/// several of the shell's watches (a one-shot and a persistent one) prints once.
#[derive(Clone)]
struct Printer {
    on: Arc<AtomicBool>,
    last: Arc<Mutex<Option<(String, String, i64)>>>,
}

impl Printer {
    fn print(&self, e: &WatchedEvent) {
        // Session events reach every watcher; zkCli reports them once, from the session.
        if e.event_type == zookeeper_client::EventType::Session || !self.on.load(Ordering::Relaxed)
        {
            return;
        }
        let key = (format!("{:?}", e.event_type), e.path.clone(), e.zxid);
        let mut last = lock(&self.last);
        if last.as_ref() == Some(&key) {
            return;
        }
        *last = Some(key);
        print!("{}", event_text(e));
    }
}

/// The shell's watches: each a task that prints its events, by path and kind.
pub struct Watches {
    printer: Printer,
    tasks: Mutex<Vec<(String, WatchKind, JoinHandle<()>)>>,
}

impl Watches {
    pub fn new() -> Watches {
        Watches {
            printer: Printer {
                on: Arc::new(AtomicBool::new(true)),
                last: Arc::default(),
            },
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// `printwatches`: whether events are printed.
    pub fn printing(&self) -> bool {
        self.printer.on.load(Ordering::Relaxed)
    }

    pub fn set_printing(&self, on: bool) {
        self.printer.on.store(on, Ordering::Relaxed);
    }

    /// Prints the event when a one-shot watch on `path` fires.
    pub fn follow(&self, path: &str, kind: WatchKind, watcher: OneshotWatcher) {
        let printer = self.printer.clone();
        let task = tokio::spawn(async move {
            printer.print(&watcher.changed().await);
        });
        lock(&self.tasks).push((path.to_string(), kind, task));
    }

    /// Prints every event of a persistent watch on `path`.
    pub fn keep(&self, path: String, mut watcher: PersistentWatcher) {
        let printer = self.printer.clone();
        let task = tokio::spawn(async move {
            loop {
                printer.print(&watcher.changed().await);
            }
        });
        lock(&self.tasks).push((path, WatchKind::Persistent, task));
    }

    /// Stops the live watches on `path`; the kinds stopped, each once, in zkCli's order.
    pub fn remove(&self, path: &str) -> Vec<WatchKind> {
        let mut removed = Vec::new();
        lock(&self.tasks).retain(|(p, kind, task)| {
            if task.is_finished() {
                return false;
            }
            if p != path {
                return true;
            }
            task.abort();
            removed.push(*kind);
            false
        });
        removed.sort();
        removed.dedup();
        removed
    }

    /// Stops every watch: their receivers must not outlive the session.
    pub fn clear(&self) {
        for (_, _, task) in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}
