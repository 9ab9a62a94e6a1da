//! `corral import ZK_DATA_DIR [--to CORRAL_DATA_DIR]`: an Apache ZooKeeper data
//! directory read and replayed (`corral-zkdata`), turned into a Corral tree with
//! every Stat field, ACL and session kept, and written as a Corral data directory
//! whose snapshot sits at ZooKeeper's last zxid, so zxids go on after it.
//!
//! The directory is written beside the target under a temporary name and renamed
//! into place at the end: a failed import leaves nothing behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use corral_server::zkformat::{from_zookeeper, Kinds};
use corral_tree::DataTree;
use corral_zkdata::error::hex;
use corral_zkdata::{Dirs, Loaded, Phase};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// ZooKeeper's dataDir (the folder holding version-2/), or version-2/ itself.
    zk_data_dir: PathBuf,
    /// The Corral dataDir to create; it must not exist or be empty.
    #[arg(long, default_value = "data")]
    to: PathBuf,
    /// ZooKeeper's dataLogDir, when its logs are kept apart.
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Read and check everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The id (myid) of the Corral server that will start on the result.
    #[arg(long, default_value_t = 1)]
    myid: u64,
    /// The zoo.cfg of the Corral server that will start on the result: its dataDir
    /// is the target (holding nothing but its myid file), and its server.N
    /// participants the ensemble's membership. Instead of --to and --myid.
    #[arg(long, conflicts_with_all = ["to", "myid"])]
    config: Option<PathBuf>,
    /// Keep TTL nodes creatable (extendedTypesEnabled); on by itself when the
    /// imported tree has TTL nodes.
    #[arg(long)]
    extended_types: bool,
}

/// What went wrong, as one line for the operator.
pub(crate) type Failure = String;

pub fn run(args: ImportArgs) -> ExitCode {
    match import(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral import: {e}");
            eprintln!("corral import: nothing was written");
            ExitCode::FAILURE
        }
    }
}

/// Where the import goes: the data directory, the server's id, the membership, and
/// the myid file the directory already holds.
struct Target {
    to: PathBuf,
    myid: u64,
    /// Id to host:quorumPort, as the server dials them; no address for a standalone.
    voters: BTreeMap<u64, String>,
    myid_file: Option<Vec<u8>>,
}

impl Target {
    fn of(args: &ImportArgs) -> Result<Target, Failure> {
        let Some(path) = &args.config else {
            return Ok(Target {
                to: args.to.clone(),
                myid: args.myid,
                voters: BTreeMap::from([(args.myid, String::new())]),
                myid_file: None,
            });
        };
        let config = corral_server::Config::load(path).map_err(|e| e.to_string())?;
        if config.me().is_some_and(|p| p.observer) || config.peer_type_observer {
            return Err(format!(
                "{}: server.{} is an observer; import into a participant, and an observer catches up from the leader",
                path.display(),
                config.my_id
            ));
        }
        let mut voters: BTreeMap<u64, String> = config
            .servers
            .iter()
            .filter(|p| !p.observer)
            .map(|p| (p.id, p.quorum_address()))
            .collect();
        if voters.is_empty() {
            voters.insert(config.my_id, String::new());
        }
        let myid = std::fs::read(config.data_dir.join("myid")).ok();
        Ok(Target {
            to: config.data_dir,
            myid: config.my_id,
            voters,
            myid_file: myid,
        })
    }
}

fn import(args: &ImportArgs) -> Result<(), Failure> {
    let target = Target::of(args)?;
    if !args.dry_run {
        check_import_target(&target.to)?;
    }
    let bar = ProgressBar::new(0);
    let dirs = Dirs {
        data: args.zk_data_dir.clone(),
        log: args.log_dir.clone(),
    };
    let loaded = corral_zkdata::load(&dirs, &mut |p| show(&bar, p)).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    for (file, why) in &loaded.skipped {
        eprintln!(
            "corral import: snapshot {} is corrupt ({why}); using the older {} and the logs after it",
            file.display(),
            loaded.snapshot.display()
        );
    }
    for note in &loaded.notes {
        eprintln!("corral import: {note}");
    }
    let summary = Summary::of(&loaded);
    let tree = to_corral(loaded, args.extended_types)?;
    let encoded = encode(tree.0)?;
    if args.dry_run {
        summary.print(&tree.1, "checked (dry run, nothing written)");
        return Ok(());
    }
    write(&target, summary.last_zxid, &encoded)?;
    let members: Vec<String> = target.voters.keys().map(u64::to_string).collect();
    summary.print(
        &tree.1,
        &format!(
            "written to {} for server {} of the membership {{{}}}",
            target.to.display(),
            target.myid,
            members.join(", ")
        ),
    );
    Ok(())
}

/// The target must not exist, or hold nothing but a myid file (which ZooKeeper's
/// operators write before a server first starts).
fn check_import_target(to: &Path) -> Result<(), Failure> {
    let only_myid = std::fs::read_dir(to).is_ok_and(|entries| {
        let names: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        names.len() == 1 && names[0] == "myid"
    });
    if only_myid {
        return Ok(());
    }
    check_target(to)
}

/// The target must not exist, or be an empty directory.
pub(crate) fn check_target(to: &Path) -> Result<(), Failure> {
    match std::fs::read_dir(to) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(format!(
                "{} is not empty; only a new data directory is written",
                to.display()
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", to.display())),
    }
}

fn show(bar: &ProgressBar, phase: Phase) {
    let (message, done, total) = match phase {
        Phase::Snapshot {
            nodes,
            bytes,
            total,
        } => (format!("snapshot: {nodes} nodes"), bytes, total),
        Phase::Logs { bytes, total } => ("transaction logs".to_string(), bytes, total),
    };
    if bar.length() != Some(total) {
        bar.set_length(total);
        bar.set_style(style("{msg:24} {wide_bar} {bytes}/{total_bytes} ETA {eta}"));
    }
    bar.set_message(message);
    bar.set_position(done);
}

pub(crate) fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Counts for the closing summary.
struct Summary {
    nodes: usize,
    sessions: usize,
    acls: usize,
    bytes: u64,
    last_zxid: i64,
    snapshot: PathBuf,
    logs: usize,
    txns: u64,
    digest: Option<corral_zkdata::DigestCheck>,
}

impl Summary {
    fn of(l: &Loaded) -> Summary {
        Summary {
            nodes: l.tree.nodes.len(),
            sessions: l.tree.sessions.len(),
            acls: l.tree.acl_count(),
            bytes: l.tree.data_bytes(),
            last_zxid: l.tree.last_zxid,
            snapshot: l.snapshot.clone(),
            logs: l.logs.len(),
            txns: l.txns,
            digest: l.digest_check,
        }
    }

    fn print(&self, counts: &Kinds, outcome: &str) {
        println!(
            "imported {} nodes ({} ephemeral, {} containers, {} TTL), {} sessions, {} distinct ACLs, {} bytes of data",
            self.nodes, counts.ephemeral, counts.containers, counts.ttl, self.sessions, self.acls, self.bytes
        );
        println!(
            "from snapshot {} plus {} transactions in {} log files; last zxid {}; {outcome}",
            self.snapshot.display(),
            self.txns,
            self.logs,
            hex(self.last_zxid)
        );
        match self.digest {
            Some(d) if d.matches() => println!(
                "the snapshot's digest at zxid {} matches the replayed tree ({:x})",
                hex(d.zxid),
                d.computed
            ),
            Some(d) => println!(
                "the snapshot's digest at zxid {} does NOT match the replayed tree ({:x}, stored {:x})",
                hex(d.zxid),
                d.computed,
                d.stored
            ),
            None => println!("the snapshot's digest was not checked (none, or its zxid was never reached)"),
        }
    }
}

/// The Corral tree: each node field for field, each session with the password
/// ZooKeeper gave it.
fn to_corral(loaded: Loaded, extended: bool) -> Result<(DataTree, Kinds), Failure> {
    let bar = ProgressBar::new(loaded.tree.nodes.len() as u64);
    bar.set_style(style(
        "{msg:24} {wide_bar} {pos}/{len} nodes {per_sec} ETA {eta}",
    ));
    bar.set_message("converting");
    let converted = from_zookeeper(loaded.tree, extended, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    converted.map_err(|e| format!("the imported tree is inconsistent: {e}"))
}

fn encode(mut tree: DataTree) -> Result<Bytes, Failure> {
    let bar = ProgressBar::new_spinner();
    bar.set_message("writing the Corral snapshot");
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut w = tree.begin_snapshot();
    while !w.is_done() {
        tree.snapshot_step(&mut w, 65536);
    }
    let out = tree
        .finish_snapshot(w)
        .map_err(|e| format!("encoding the tree: {e}"));
    bar.finish_and_clear();
    out
}

/// Writes the data directory under a temporary name beside `to`, then renames it.
fn write(target: &Target, last_zxid: i64, tree: &[u8]) -> Result<(), Failure> {
    let to = &target.to;
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = to.file_name().map(|n| n.to_string_lossy().into_owned());
    let aside = parent.join(format!(
        ".{}.importing-{}",
        name.as_deref().unwrap_or("data"),
        std::process::id()
    ));
    let result = write_aside(&aside, target, last_zxid, tree);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&aside);
    }
    result
}

fn write_aside(aside: &Path, target: &Target, last_zxid: i64, tree: &[u8]) -> Result<(), Failure> {
    let to = &target.to;
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(aside).map_err(|e| io(aside, e))?;
    let snapshots = aside.join("snapshots");
    let zxid =
        u64::try_from(last_zxid).map_err(|_| format!("last zxid {last_zxid} is negative"))?;
    corral_consensus::import::write_imported_snapshot(
        &snapshots,
        zxid,
        tree,
        target.voters.clone(),
    )
    .map_err(|e| e.to_string())?;
    if let Some(myid) = &target.myid_file {
        let file = aside.join("myid");
        std::fs::write(&file, myid).map_err(|e| io(&file, e))?;
    }
    // An empty target directory is replaced; rename cannot replace a directory
    // elsewhere, and check_import_target has made sure it holds nothing but the
    // myid file, which the new directory has too.
    if to.exists() {
        let myid = to.join("myid");
        if myid.exists() {
            std::fs::remove_file(&myid).map_err(|e| io(&myid, e))?;
        }
        std::fs::remove_dir(to).map_err(|e| io(to, e))?;
    }
    std::fs::rename(aside, to).map_err(|e| io(to, e))?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent);
    }
    Ok(())
}

/// fsyncs the directory the rename happened in, so the new name survives a crash.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
