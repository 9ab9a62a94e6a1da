//! Time as the election driver and the role watcher read it: from a clock they are
//! given, so that their rules can be tried at any time a test names.

use std::time::Instant;

pub(crate) trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The monotonic clock of the machine.
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until a test moves it. Its lock's poisoning is ignored:
/// it holds one `Instant`, always whole.
#[cfg(test)]
pub(crate) struct FakeClock(std::sync::Mutex<Instant>);

#[cfg(test)]
impl FakeClock {
    pub(crate) fn at(base: Instant) -> FakeClock {
        FakeClock(std::sync::Mutex::new(base))
    }

    pub(crate) fn set(&self, to: Instant) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
