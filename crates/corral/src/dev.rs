//! `corral dev`: a local ensemble on 127.0.0.1 in one command, for trying failover.
//!
//! Each member is this same binary running `server` with its own zoo.cfg and myid in a
//! temporary directory. The members' logs are streamed here, each line prefixed with
//! the member's myid. Ctrl-C (or SIGTERM) stops every member and removes the directory
//! unless `--keep` is given. Killing a member by hand is the point: the others elect a
//! new leader, and the banner says which pid is which.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct DevOptions {
    pub nodes: u16,
    pub observers: u16,
    pub base_port: u16,
    pub keep: bool,
}

struct Member {
    id: u16,
    observer: bool,
    client: u16,
    quorum: u16,
    election: u16,
    admin: u16,
    metrics: u16,
}

fn members(o: &DevOptions) -> Vec<Member> {
    (0..o.nodes + o.observers)
        .map(|i| Member {
            id: i + 1,
            observer: i >= o.nodes,
            client: o.base_port + i,
            quorum: o.base_port + 100 + i,
            election: o.base_port + 200 + i,
            admin: o.base_port + 300 + i,
            metrics: o.base_port + 400 + i,
        })
        .collect()
}

fn write_configs(root: &Path, all: &[Member]) -> std::io::Result<()> {
    let servers: String = all
        .iter()
        .map(|m| {
            format!(
                "server.{}=127.0.0.1:{}:{}{};127.0.0.1:{}\n",
                m.id,
                m.quorum,
                m.election,
                if m.observer { ":observer" } else { "" },
                m.client
            )
        })
        .collect();
    for m in all {
        let dir = root.join(format!("s{}", m.id));
        std::fs::create_dir_all(dir.join("data"))?;
        std::fs::write(dir.join("data").join("myid"), format!("{}\n", m.id))?;
        let cfg = format!(
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\n\
             4lw.commands.whitelist=*\nadmin.serverAddress=127.0.0.1\nadmin.serverPort={}\n\
             metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort={}\n{}{servers}",
            dir.join("data").display(),
            m.client,
            m.admin,
            m.metrics,
            if m.observer { "peerType=observer\n" } else { "" },
        );
        std::fs::write(dir.join("zoo.cfg"), cfg)?;
    }
    Ok(())
}

pub fn run(options: DevOptions) -> ExitCode {
    if !(1..=9).contains(&options.nodes) || options.observers > 9 {
        eprintln!("corral dev: --nodes must be 1 to 9 and --observers at most 9");
        return ExitCode::from(2);
    }
    if u32::from(options.base_port) + 420 > u32::from(u16::MAX) {
        eprintln!("corral dev: --base-port leaves no room for the members' ports");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral dev: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(dev(options))
}

async fn dev(options: DevOptions) -> ExitCode {
    let root: PathBuf = std::env::temp_dir().join(format!("corral-dev-{}", std::process::id()));
    let all = members(&options);
    if let Err(e) = write_configs(&root, &all) {
        eprintln!("corral dev: cannot write {}: {e}", root.display());
        let _ = std::fs::remove_dir_all(&root);
        return ExitCode::FAILURE;
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("corral dev: cannot find this program: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut children: Vec<(u16, Child)> = Vec::new();
    for m in &all {
        let spawned = Command::new(&exe)
            .arg("server")
            .arg("--config")
            .arg(root.join(format!("s{}", m.id)).join("zoo.cfg"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        match spawned {
            Ok(mut child) => {
                stream(m.id, child.stdout.take());
                stream(m.id, child.stderr.take());
                children.push((m.id, child));
            }
            Err(e) => {
                eprintln!("corral dev: cannot start member {}: {e}", m.id);
                stop(&mut children).await;
                let _ = std::fs::remove_dir_all(&root);
                return ExitCode::FAILURE;
            }
        }
    }
    banner(&root, &all, &children);
    wait_for_stop().await;
    println!("corral dev: stopping {} members", children.len());
    stop(&mut children).await;
    if options.keep {
        println!("corral dev: data kept in {}", root.display());
    } else if let Err(e) = std::fs::remove_dir_all(&root) {
        eprintln!("corral dev: cannot remove {}: {e}", root.display());
    } else {
        println!("corral dev: removed {}", root.display());
    }
    ExitCode::SUCCESS
}

fn banner(root: &Path, all: &[Member], children: &[(u16, Child)]) {
    let connect: Vec<String> = all
        .iter()
        .map(|m| format!("127.0.0.1:{}", m.client))
        .collect();
    println!("corral dev: {} members in {}", all.len(), root.display());
    println!("connect string: {}", connect.join(","));
    for m in all {
        let pid = children
            .iter()
            .find(|(id, _)| *id == m.id)
            .and_then(|(_, c)| c.id())
            .unwrap_or(0);
        println!(
            "  myid {} ({}): pid {pid}, client 127.0.0.1:{}, quorum {}, election {}, admin http://127.0.0.1:{}/commands, metrics http://127.0.0.1:{}/metrics",
            m.id,
            if m.observer { "observer" } else { "voter" },
            m.client,
            m.quorum,
            m.election,
            m.admin,
            m.metrics
        );
    }
    println!(
        "try: corral four srvr 127.0.0.1:{}   (Ctrl-C stops everything)",
        all[0].client
    );
}

/// Copies a member's output here, each line prefixed with its myid.
fn stream<R: tokio::io::AsyncRead + Unpin + Send + 'static>(id: u16, from: Option<R>) {
    let Some(from) = from else { return };
    tokio::spawn(async move {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            println!("[{id}] {line}");
        }
    });
}

async fn wait_for_stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corral dev: cannot watch SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// SIGTERM to every member still running, then SIGKILL to any that lingers.
pub(crate) async fn stop(children: &mut [(u16, Child)]) {
    for (_, child) in children.iter() {
        if let Some(pid) = child.id() {
            // SAFETY: kill(2) on a pid this process spawned and has not reaped.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
    }
    for (id, child) in children.iter_mut() {
        match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!("corral dev: member {id} did not stop; killing it");
                let _ = child.kill().await;
            }
        }
    }
}
