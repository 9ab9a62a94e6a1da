//! `corral export CORRAL_DATA_DIR --to ZK_DATA_DIR`: the way back. A stopped
//! Corral server's tree, recovered as its start would recover it, written as an
//! Apache ZooKeeper data directory (`version-2/` with one snapshot, its digest and
//! the epoch files; `corral-zkdata::write`) that ZooKeeper 3.8 and 3.9 start from.
//! Every Stat field, ACL and session is kept, and the snapshot is named after
//! Corral's last zxid, so ZooKeeper's zxids go on after it.
//!
//! Written beside the target under a temporary name and renamed at the end, as
//! `import` does: a failed export leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use corral_server::zkformat::{to_zookeeper, Kinds};
use corral_tree::acl::AuthSchemes;
use corral_tree::DataTree;
use corral_zkdata::error::hex;
use corral_zkdata::password::session_password;
use corral_zkdata::write::Written;
use corral_zkdata::ZkTree;
use indicatif::ProgressBar;

use crate::import::{check_target, style, sync_dir, Failure};

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The Corral dataDir (the folder holding snapshots/ and log/); its server
    /// must be stopped.
    corral_data_dir: PathBuf,
    /// The ZooKeeper dataDir to create; it must not exist or be empty.
    #[arg(long)]
    to: PathBuf,
    /// Corral's dataLogDir, when its log is kept apart (the folder holding log/).
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// The server's zoo.cfg: the log after the last snapshot is replayed with its ACL
    /// providers (x509 with TLS, sasl with SASL users), as the server applied it, and
    /// its dataLogDir is used when --log-dir is not given.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> ExitCode {
    match export(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral export: {e}");
            eprintln!("corral export: nothing was written");
            ExitCode::FAILURE
        }
    }
}

/// The ACL providers the server ran with, and its dataLogDir, from its zoo.cfg.
fn server_settings(args: &ExportArgs) -> Result<(AuthSchemes, Option<PathBuf>), Failure> {
    let Some(path) = &args.config else {
        return Ok((AuthSchemes::default(), None));
    };
    let config = corral_server::Config::load(path)
        .map_err(|e| format!("{}: invalid configuration: {e}", path.display()))?;
    let schemes = AuthSchemes {
        x509: config.tls.enabled(),
        sasl: !config.sasl.users.is_empty(),
    };
    Ok((schemes, Some(config.log_dir().to_path_buf())))
}

fn export(args: &ExportArgs) -> Result<(), Failure> {
    let data = &args.corral_data_dir;
    let (schemes, config_log_dir) = server_settings(args)?;
    let snapshots = data.join("snapshots");
    let log_dir = args.log_dir.clone().or(config_log_dir);
    let log = log_dir.as_deref().unwrap_or(data).join("log");
    if !snapshots.is_dir() && !log.is_dir() {
        return Err(format!(
            "{}: not a Corral data directory (no snapshots/ or log/ in it)",
            data.display()
        ));
    }
    check_target(&args.to)?;
    // The server holds this lock while it runs; a tree read under a running server
    // would be out of date the moment it is written.
    let _lock = lock(data)?;
    let bar = ProgressBar::new_spinner();
    bar.set_message("recovering the Corral tree (snapshot and log)");
    bar.enable_steady_tick(Duration::from_millis(200));
    let stopped = corral_consensus::export::recover_stopped(&snapshots, &log, schemes)
        .map_err(|e| format!("{}: {e}", data.display()))?;
    bar.finish_and_clear();
    let last_zxid = stopped.tree.last_zxid().max(stopped.applied_index as i64);
    let bar = ProgressBar::new(stopped.tree.node_count() as u64);
    bar.set_style(style(
        "{msg:24} {wide_bar} {pos}/{len} nodes {per_sec} ETA {eta}",
    ));
    bar.set_message("converting");
    let (zk, counts) = to_zookeeper(&stopped.tree, last_zxid, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    let foreign = foreign_passwords(&stopped.tree);
    let (snapshot, written) = write(&args.to, &zk)?;
    let summary = Summary {
        nodes: zk.nodes.len(),
        sessions: zk.sessions.len(),
        bytes: zk.data_bytes(),
        last_zxid,
        counts,
        written,
    };
    summary.print(&snapshot);
    if foreign > 0 {
        eprintln!(
            "corral export: {foreign} sessions were made with a password ZooKeeper would not derive from their id (by a Corral that gave random passwords); ZooKeeper will refuse their reconnect, so those clients start new sessions"
        );
    }
    Ok(())
}

/// Takes `<dataDir>/corral.lock`, which a running server holds.
fn lock(data: &Path) -> Result<Option<std::fs::File>, Failure> {
    let path = data.join("corral.lock");
    let file = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    file.try_lock().map_err(|_| {
        format!(
            "{}: a server is running on this directory; stop it first",
            data.display()
        )
    })?;
    Ok(Some(file))
}

/// Sessions whose password is not the one ZooKeeper checks a reconnect against.
fn foreign_passwords(tree: &DataTree) -> usize {
    tree.sessions()
        .filter(|(id, s)| s.passwd.as_ref() != session_password(*id).as_slice())
        .count()
}

/// Writes the data directory under a temporary name beside `to`, then renames it.
fn write(to: &Path, zk: &ZkTree) -> Result<(PathBuf, Written), Failure> {
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = to.file_name().map(|n| n.to_string_lossy().into_owned());
    let aside = parent.join(format!(
        ".{}.exporting-{}",
        name.as_deref().unwrap_or("zookeeper"),
        std::process::id()
    ));
    let result = write_aside(&aside, to, zk);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&aside);
    }
    result
}

fn write_aside(aside: &Path, to: &Path, zk: &ZkTree) -> Result<(PathBuf, Written), Failure> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(aside).map_err(|e| io(aside, e))?;
    let bar = ProgressBar::new(zk.nodes.len() as u64);
    bar.set_style(style(
        "{msg:24} {wide_bar} {pos}/{len} nodes {per_sec} ETA {eta}",
    ));
    bar.set_message("writing the snapshot");
    let (snap, written) =
        corral_zkdata::write::write_data_dir(aside, zk, &mut |n| bar.set_position(n))
            .map_err(|e| io(aside, e))?;
    bar.finish_and_clear();
    // check_target made sure an existing target is empty; rename cannot replace
    // a directory that is not.
    if to.exists() {
        std::fs::remove_dir(to).map_err(|e| io(to, e))?;
    }
    std::fs::rename(aside, to).map_err(|e| io(to, e))?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent);
    }
    let relative = snap.strip_prefix(aside).map(|p| to.join(p));
    Ok((relative.unwrap_or(snap), written))
}

struct Summary {
    nodes: usize,
    sessions: usize,
    bytes: u64,
    last_zxid: i64,
    counts: Kinds,
    written: Written,
}

impl Summary {
    fn print(&self, snapshot: &Path) {
        let c = &self.counts;
        println!(
            "exported {} nodes ({} ephemeral, {} containers, {} TTL), {} sessions, {} distinct ACLs, {} bytes of data",
            self.nodes, c.ephemeral, c.containers, c.ttl, self.sessions, self.written.acl_lists, self.bytes
        );
        println!(
            "to snapshot {} ({} bytes); last zxid {}; digest {:x} (version 2)",
            snapshot.display(),
            self.written.bytes,
            hex(self.last_zxid),
            self.written.digest
        );
    }
}
