//! The version line of srvr, mntr and envi names the build: the commit it was built
//! from and when, in ZooKeeper's shape (`3.8.0-<commit>, built on 2024-12-29 17:54
//! UTC`), where it once said "built on 1970-01-01 00:00 UTC" for every build.

mod support;

use support::{four, ServerProcess};

/// The commit this source tree is at, as build.rs reads it; None outside a checkout.
fn head_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// True for `YYYY-MM-DD HH:MM UTC`.
fn is_utc_minute(date: &str) -> bool {
    let shape = "0000-00-00 00:00 UTC";
    date.len() == shape.len()
        && date.chars().zip(shape.chars()).all(
            |(d, s)| {
                if s == '0' {
                    d.is_ascii_digit()
                } else {
                    d == s
                }
            },
        )
}

#[test]
fn srvr_names_the_commit_and_the_build_date() {
    let server = ServerProcess::start("");
    let srvr = four(server.port, "srvr").unwrap_or_default();
    let line = srvr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Zookeeper version: "))
        .unwrap_or_default();
    assert!(!line.contains("1970"), "a placeholder build date: {srvr}");
    let commit = head_commit().unwrap_or_else(|| "unknown".into());
    assert!(
        line.starts_with("3.9.3-corral-") && line.contains(&format!("-{commit}, built on ")),
        "the version line does not name commit {commit}: {srvr}"
    );
    let date = line.split(", built on ").nth(1).unwrap_or_default();
    assert!(
        is_utc_minute(date),
        "not a YYYY-MM-DD HH:MM UTC date: {date:?}"
    );

    // mntr and envi print the same line.
    let mntr = four(server.port, "mntr").unwrap_or_default();
    assert!(mntr.contains(&format!("zk_version\t{line}\n")), "{mntr}");
    let envi = four(server.port, "envi").unwrap_or_default();
    assert!(
        envi.contains(&format!("zookeeper.version={line}\n")),
        "{envi}"
    );
}
