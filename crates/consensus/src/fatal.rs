//! Stopping the process when an internal invariant is broken. A half-applied tree or a
//! log with a hole must never be served: the server stops loudly, and the operator
//! restarts it from what is on disk.

/// Logs why, also straight to stderr (the log writer may be a thread that an abort
/// never lets finish), and aborts the process.
#[cold]
pub(crate) fn stop(why: std::fmt::Arguments<'_>) -> ! {
    tracing::error!("FATAL: {why}; stopping the server");
    eprintln!("FATAL: {why}; stopping the server");
    std::process::abort()
}
