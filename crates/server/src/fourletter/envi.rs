//! envi: the process's environment, with Java's keys where ZooKeeper has them.

use std::fmt::Write as _;

use crate::report::version_line;

/// envi: ZooKeeper's keys in ZooKeeper's order. Corral has no JVM, so the java.*
/// keys say `<NA>`; os.memory.* are the machine's available and total memory and
/// this process's resident size.
pub(crate) fn environment() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let cwd = current_dir();
    let os_version = os_version();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |text: &str, key: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let user = user();
    let lines = [
        ("zookeeper.version", version_line()),
        ("host.name", host),
        ("java.version", "<NA>".into()),
        ("java.vendor", "<NA>".into()),
        ("java.home", "<NA>".into()),
        ("java.class.path", "<NA>".into()),
        ("java.library.path", "<NA>".into()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", "<NA>".into()),
        ("os.name", std::env::consts::OS.into()),
        ("os.arch", std::env::consts::ARCH.into()),
        ("os.version", os_version),
        ("user.name", user.0),
        ("user.home", user.1),
        ("user.dir", cwd),
        (
            "os.memory.free",
            format!("{}MB", kib(&meminfo, "MemAvailable:") / 1024),
        ),
        (
            "os.memory.max",
            format!("{}MB", kib(&meminfo, "MemTotal:") / 1024),
        ),
        (
            "os.memory.total",
            format!("{}MB", kib(&status, "VmRSS:") / 1024),
        ),
    ];
    let mut out = String::from("Environment:\n");
    for (k, v) in lines {
        let _ = writeln!(out, "{k}={v}");
    }
    out
}

pub(crate) fn current_dir() -> String {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The kernel release, as Java's os.version reports it.
pub(crate) fn os_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// This process's user name and home directory: $USER and $HOME, or /etc/passwd.
pub(crate) fn user() -> (String, String) {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry: Vec<&str> = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 5 && f[2] == uid)
        .unwrap_or_default();
    let name = std::env::var("USER")
        .ok()
        .or_else(|| entry.first().map(|s| s.to_string()))
        .unwrap_or(uid);
    let home = std::env::var("HOME")
        .ok()
        .or_else(|| entry.get(5).map(|s| s.to_string()))
        .unwrap_or_default();
    (name, home)
}
