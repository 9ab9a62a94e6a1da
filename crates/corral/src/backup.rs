//! `corral backup` and `corral restore`: a running server's tree saved as a
//! ZooKeeper snapshot, and put back, through the AdminServer's `snapshot` and
//! `restore` commands (ZooKeeper 3.9's), with a progress bar for the bytes. What
//! curl does by hand (docs/migration.md), with the caller's digest credentials.
//! Plain HTTP: an AdminServer under `admin.forceHttps` is reached with curl.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::ProgressBar;

use crate::import::{style, Failure};

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The AdminServer (admin.serverAddress:admin.serverPort).
    #[arg(long, default_value = "127.0.0.1:8080")]
    admin: String,
    /// user:password of a digest identity with ALL on / (or the super user's).
    #[arg(long)]
    auth: String,
    /// The file to write; by default snapshot.<last zxid>, as ZooKeeper names it.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A snapshot file: `corral backup`'s, or ZooKeeper's (uncompressed).
    file: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    admin: String,
    /// user:password of a digest identity with ALL on / (or the super user's).
    #[arg(long)]
    auth: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The reason an AdminServer gave for a refusal: its JSON's `error`, else the status.
fn refusal(status: u16, body: &str) -> Failure {
    let reason = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    match (status, reason) {
        (429, _) => "429: rate limited (admin.rateLimiterIntervalInMS); try again later".into(),
        (503, _) => "503: the command is disabled on this server".into(),
        (s, Some(r)) => format!("{s}: {r}"),
        (s, None) => format!("the AdminServer answered {s}"),
    }
}

pub fn backup(args: BackupArgs) -> ExitCode {
    finish("backup", run_backup(&args))
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    finish("restore", run_restore(&args))
}

fn finish(what: &str, outcome: Result<String, Failure>) -> ExitCode {
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corral {what}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_backup(args: &BackupArgs) -> Result<String, Failure> {
    let url = format!("http://{}/commands/snapshot?streaming=true", args.admin);
    let mut response = agent()
        .get(&url)
        .header("Authorization", format!("digest {}", args.auth))
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (zxid, size) = (header("last_zxid"), header("snapshot_size"));
    if status != 200 {
        let body = response.body_mut().read_to_string().unwrap_or_default();
        return Err(refusal(status, &body));
    }
    let zxid = zxid.ok_or("the answer has no last_zxid header")?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("snapshot.{}", zxid.trim_start_matches("0x"))));
    let total = size.and_then(|s| s.parse().ok()).unwrap_or(0);
    let bar = ProgressBar::new(total);
    bar.set_style(style(
        "{msg:12} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
    ));
    bar.set_message("receiving");
    // Written beside the target and renamed, so a cut transfer leaves no file that
    // looks whole.
    let partial = out.with_extension("partial");
    let written = (|| -> std::io::Result<u64> {
        let mut file = std::fs::File::create(&partial)?;
        let mut reader = bar.wrap_read(response.body_mut().as_reader());
        let n = std::io::copy(&mut reader, &mut file)?;
        file.flush()?;
        file.sync_all()?;
        Ok(n)
    })();
    bar.finish_and_clear();
    let written = written.map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        format!("{}: {e}", partial.display())
    })?;
    if total != 0 && written != total {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("received {written} of {total} bytes"));
    }
    std::fs::rename(&partial, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(format!(
        "saved {written} bytes, the tree at zxid {zxid}, to {}",
        out.display()
    ))
}

fn run_restore(args: &RestoreArgs) -> Result<String, Failure> {
    let file =
        std::fs::File::open(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(total);
    bar.set_style(style(
        "{msg:12} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
    ));
    bar.set_message("sending");
    let mut reader = bar.wrap_read(file);
    let url = format!("http://{}/commands/restore", args.admin);
    let sent = agent()
        .post(&url)
        .header("Authorization", format!("digest {}", args.auth))
        .header("Content-Type", "application/octet-stream")
        .send(ureq::SendBody::from_reader(&mut reader as &mut dyn Read));
    bar.finish_and_clear();
    let mut response = sent.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        return Err(refusal(status, &body));
    }
    let zxid = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("last_zxid").and_then(|z| z.as_i64()))
        .ok_or_else(|| format!("an answer without last_zxid: {body}"))?;
    Ok(format!(
        "restored {} from {} bytes; every member serves it from zxid 0x{zxid:x}",
        args.file.display(),
        total
    ))
}
