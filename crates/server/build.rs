//! Records which build this is, for the version line that srvr, stat, mntr, envi and
//! the AdminServer print ("…-<commit>, built on 2026-01-31 12:34 UTC", the shape of
//! ZooKeeper's): the git commit, and the time of the build.
//!
//! The commit is CORRAL_BUILD_COMMIT when set (a packager building from a tarball
//! knows it), else `git rev-parse HEAD`, else "unknown". The time is
//! SOURCE_DATE_EPOCH when set (reproducible builds), else now. The script runs again
//! only when HEAD or the branch it names moves, or those variables change, so an
//! ordinary edit-and-build does not recompile the crate for a new timestamp.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=CORRAL_BUILD_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for path in git_state_files(&dir) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let commit = std::env::var("CORRAL_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&dir, &["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CORRAL_BUILD_COMMIT={}", commit.trim());
    println!("cargo:rustc-env=CORRAL_BUILD_DATE={}", build_date());
}

/// One git command's trimmed output, or None without git or outside a checkout.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// The files whose change means a new commit: HEAD, the branch's ref and packed-refs.
/// Only those that exist, since cargo reruns a script on every build for a missing one.
fn git_state_files(dir: &Path) -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| git(dir, &["rev-parse", "--git-path", name]))
        .map(|path| dir.join(path))
        .filter(|path| path.exists())
        .collect()
}

/// `YYYY-MM-DD HH:MM UTC` of SOURCE_DATE_EPOCH, or of now.
fn build_date() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01, by counting 400-year eras
/// of 146 097 days from 0000-03-01 (a year that starts in March puts the leap day last).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
