//! systemd's notify protocol (sd_notify(3)), written out rather than linked: a
//! datagram of `KEY=value` lines to the Unix socket `NOTIFY_SOCKET` names (a path,
//! or `@name` in the abstract namespace). The server says `READY=1` once it listens,
//! and, when the service manager set `WATCHDOG_USEC` (for this pid, if
//! `WATCHDOG_PID` says which), `WATCHDOG=1` every half of that from its runtime, so
//! a server that stops running its tasks (SIGSTOP, a wedged runtime) misses it and is
//! restarted. Without `NOTIFY_SOCKET` each call does nothing.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (newline-separated assignments) to the service manager, if any.
pub fn notify(state: &str) {
    let Ok(target) = std::env::var("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    let sent = if let Some(name) = target.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
    } else {
        socket.send_to(state.as_bytes(), &target)
    };
    if let Err(e) = sent {
        tracing::warn!("cannot notify the service manager at {target}: {e}");
    }
}

/// How often to send `WATCHDOG=1`: half the manager's timeout, when it watches this
/// process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Pings the watchdog for as long as the runtime runs this task.
pub async fn keep_watchdog(every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        notify("WATCHDOG=1");
    }
}
