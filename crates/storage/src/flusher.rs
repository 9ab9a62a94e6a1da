//! Group commit: one thread fsyncs on behalf of every append waiting on it. While a
//! sync runs, new appends queue up, and the next sync covers all of them, so the
//! fsync rate adapts to the disk's latency instead of the request rate.
//!
//! A failed fsync poisons the log: the pages it covered may be gone, so nothing
//! after it may be acknowledged (PostgreSQL's fsyncgate lesson).

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

pub type Done = Box<dyn FnOnce(std::io::Result<()>) + Send>;

struct Request {
    file: Arc<File>,
    done: Done,
}

#[derive(Clone)]
pub struct Flusher {
    tx: Sender<Request>,
    poisoned: Arc<AtomicBool>,
}

/// Called with the time each fsync took, for metrics.
pub type SyncObserver = Arc<dyn Fn(std::time::Duration) + Send + Sync>;

impl Flusher {
    pub fn start(observer: Option<SyncObserver>) -> Flusher {
        let (tx, rx) = channel();
        let poisoned = Arc::new(AtomicBool::new(false));
        let flag = poisoned.clone();
        std::thread::Builder::new()
            .name("wal-fsync".into())
            .spawn(move || run(rx, flag, observer))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the fsync thread: {e}"));
        Flusher { tx, poisoned }
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Calls `done` once everything written to `file` so far is durable.
    pub fn sync(&self, file: Arc<File>, done: Done) {
        if self.is_poisoned() {
            done(Err(poisoned_error()));
            return;
        }
        if let Err(e) = self.tx.send(Request { file, done }) {
            (e.0.done)(Err(std::io::Error::other("the fsync thread has stopped")));
        }
    }
}

fn poisoned_error() -> std::io::Error {
    std::io::Error::other("an earlier fsync failed; the log refuses writes until restarted")
}

fn run(rx: Receiver<Request>, poisoned: Arc<AtomicBool>, observer: Option<SyncObserver>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let mut files: Vec<Arc<File>> = Vec::new();
        for r in &batch {
            if !files.iter().any(|f| Arc::ptr_eq(f, &r.file)) {
                files.push(r.file.clone());
            }
        }
        let started = std::time::Instant::now();
        let mut result = Ok(());
        if poisoned.load(Ordering::SeqCst) {
            result = Err(poisoned_error());
        } else {
            for f in &files {
                if let Err(e) = f.sync_data() {
                    tracing::error!(
                        "fsync of the transaction log failed: {e}; refusing all further writes"
                    );
                    poisoned.store(true, Ordering::SeqCst);
                    result = Err(e);
                    break;
                }
            }
        }
        if let Some(obs) = &observer {
            obs(started.elapsed());
        }
        for r in batch {
            let outcome = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
            };
            (r.done)(outcome);
        }
    }
}
