//! The ensemble under test: `corral server` processes on 127.0.0.1, each with its own
//! zoo.cfg and myid, configured as an operator would, except that every server
//! reaches every other through a proxy of ours (`corral.peerConnectAddress.N`) and
//! clients reach each server through one too. That is what lets the nemesis cut
//! links without touching the host's network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::proxy::Proxy;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("the ensemble did not settle within {0:?}: {1}")]
    NotReady(Duration, String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// How to build the ensemble.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub nodes: usize,
    pub corral: PathBuf,
    pub dir: PathBuf,
    /// Extra zoo.cfg lines for every server (e.g. `corral.testFault=stale-sync`).
    pub extra: String,
}

pub struct Member {
    pub id: u64,
    pub dir: PathBuf,
    pub client_port: u16,
    child: Option<Child>,
    paused: bool,
}

pub struct Cluster {
    pub members: Vec<Member>,
    /// `peer_links[i][j]`: the proxy server i dials to reach server j.
    pub peer_links: Vec<Vec<Option<Proxy>>>,
    /// The proxy in front of each server's client port.
    pub client_links: Vec<Proxy>,
    corral: PathBuf,
}

/// Servers' ports come from below the kernel's ephemeral range (32768 and up by
/// default), which port 0 and every outgoing connection draw from: a port found free
/// there can be taken by a proxy or by a client's socket before the server binds it,
/// or while a killed server waits to be restarted.
const SERVER_PORTS: std::ops::Range<u16> = 20000..32000;

static NEXT_PORT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

pub fn free_port() -> Result<u16, ClusterError> {
    let span = u32::from(SERVER_PORTS.end - SERVER_PORTS.start);
    // Campaigns in other processes start elsewhere in the range.
    let start = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let step = NEXT_PORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = SERVER_PORTS.start + ((start + step) % span) as u16;
        if std::net::TcpListener::bind(loopback(port)).is_ok() {
            return Ok(port);
        }
    }
    Err(ClusterError::Io {
        what: format!("finding a free port in {SERVER_PORTS:?}"),
        source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
    })
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Cluster {
    /// Writes every server's configuration and starts the proxies; no server runs yet.
    pub async fn configure(spec: &ClusterSpec) -> Result<Cluster, ClusterError> {
        let n = spec.nodes;
        let mut ports = Vec::new();
        for _ in 0..n {
            ports.push((free_port()?, free_port()?, free_port()?));
        }
        let mut peer_links = Vec::new();
        for i in 0..n {
            let mut row = Vec::new();
            for (j, (_, quorum, _)) in ports.iter().enumerate() {
                row.push(if i == j {
                    None
                } else {
                    Some(Proxy::start(loopback(*quorum)).await.map_err(io("proxy"))?)
                });
            }
            peer_links.push(row);
        }
        let mut client_links = Vec::new();
        for (client, _, _) in &ports {
            client_links.push(Proxy::start(loopback(*client)).await.map_err(io("proxy"))?);
        }
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(j, (c, q, e))| format!("server.{}=127.0.0.1:{q}:{e};127.0.0.1:{c}\n", j + 1))
            .collect();
        let mut members = Vec::new();
        for (i, (client, _, _)) in ports.iter().enumerate() {
            let id = i as u64 + 1;
            let dir = spec.dir.join(format!("server-{id}"));
            let data = dir.join("data");
            std::fs::create_dir_all(&data).map_err(io(format!("creating {}", data.display())))?;
            std::fs::write(data.join("myid"), format!("{id}\n")).map_err(io("writing myid"))?;
            let dials: String = peer_links[i]
                .iter()
                .enumerate()
                .filter_map(|(j, p)| p.as_ref().map(|p| (j, p.addr)))
                .map(|(j, addr)| format!("corral.peerConnectAddress.{}={addr}\n", j + 1))
                .collect();
            let cfg = format!(
                "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\n\
                 clientPort={client}\nclientPortAddress=127.0.0.1\n\
                 4lw.commands.whitelist=*\nadmin.enableServer=false\nmetricsProvider.httpPort=0\n\
                 snapCount=400\nautopurge.purgeInterval=1\ncorral.logSegmentBytes=65536\n\
                 {}\n{servers}{dials}",
                data.display(),
                spec.extra
            );
            std::fs::write(dir.join("zoo.cfg"), cfg).map_err(io("writing zoo.cfg"))?;
            members.push(Member {
                id,
                dir,
                client_port: *client,
                child: None,
                paused: false,
            });
        }
        Ok(Cluster {
            members,
            peer_links,
            client_links,
            corral: spec.corral.clone(),
        })
    }

    /// Starts server `i` (0-based) if it is not running; its log is appended to.
    pub fn start(&mut self, i: usize) -> Result<(), ClusterError> {
        let m = &mut self.members[i];
        if m.child.is_some() {
            return Ok(());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(m.dir.join("server.log"))
            .map_err(io("opening the server log"))?;
        let child = Command::new(&self.corral)
            .args(["server", "--config"])
            .arg(m.dir.join("zoo.cfg"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io(format!("starting {}", self.corral.display())))?;
        m.child = Some(child);
        m.paused = false;
        Ok(())
    }

    /// SIGKILL, as `kill -9` does, and waits for the process to be gone.
    pub fn kill(&mut self, i: usize) {
        let m = &mut self.members[i];
        if let Some(mut c) = m.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        m.paused = false;
    }

    /// SIGSTOP: the process is frozen, its sockets open, as in a long GC pause.
    pub fn pause(&mut self, i: usize) {
        self.signal(i, libc::SIGSTOP);
        self.members[i].paused = true;
    }

    pub fn resume(&mut self, i: usize) {
        self.signal(i, libc::SIGCONT);
        self.members[i].paused = false;
    }

    fn signal(&self, i: usize, signal: libc::c_int) {
        if let Some(c) = &self.members[i].child {
            // SAFETY: the pid is our own child's, which we have not reaped: it is still ours.
            unsafe {
                libc::kill(c.id() as libc::pid_t, signal);
            }
        }
    }

    pub fn is_running(&self, i: usize) -> bool {
        self.members[i].child.is_some()
    }

    pub fn is_paused(&self, i: usize) -> bool {
        self.members[i].paused
    }

    /// Every client proxy, as a connect string.
    pub fn connect_string(&self) -> String {
        self.client_links
            .iter()
            .map(|p| p.addr.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The connect string of server `i` alone.
    pub fn connect_one(&self, i: usize) -> String {
        self.client_links[i].addr.to_string()
    }

    /// A four-letter word sent straight to server `i`'s client port.
    pub async fn four(&self, i: usize, word: &str) -> Option<String> {
        let port = self.members[i].client_port;
        let ask = async {
            let mut s = tokio::net::TcpStream::connect(loopback(port)).await.ok()?;
            s.write_all(word.as_bytes()).await.ok()?;
            let mut out = String::new();
            s.read_to_string(&mut out).await.ok()?;
            Some(out)
        };
        tokio::time::timeout(Duration::from_secs(1), ask)
            .await
            .ok()
            .flatten()
    }

    /// The `Mode:` server `i` reports, if it answers.
    pub async fn mode(&self, i: usize) -> Option<String> {
        let srvr = self.four(i, "srvr").await?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Mode: "))
            .map(str::to_string)
    }

    /// The last zxid server `i` reports.
    pub async fn zxid(&self, i: usize) -> Option<String> {
        let srvr = self.four(i, "srvr").await?;
        srvr.lines()
            .find_map(|l| l.strip_prefix("Zxid: "))
            .map(str::to_string)
    }

    /// The index of the member that says it leads.
    pub async fn leader(&self) -> Option<usize> {
        for i in 0..self.members.len() {
            if self.is_running(i) && !self.is_paused(i) {
                if let Some("leader") = self.mode(i).await.as_deref() {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Waits until every member runs and serves: one leader, the rest following.
    pub async fn wait_ready(&self, within: Duration) -> Result<usize, ClusterError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut modes = Vec::new();
            for i in 0..self.members.len() {
                modes.push(self.mode(i).await);
            }
            if let Some(leader) = settled(&modes) {
                return Ok(leader);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(ClusterError::NotReady(within, format!("modes {modes:?}")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Writes a torn record after the last intact one in the newest log segment of a
    /// stopped server: a header promising more bytes than follow, as a crash in the
    /// middle of a write leaves. It goes where the next record would have (over the
    /// segment's zero fill), not at the end of the file. Returns the file and how many
    /// bytes were written.
    pub fn tear_log(
        &self,
        i: usize,
        garbage: &[u8],
    ) -> Result<Option<(PathBuf, usize)>, ClusterError> {
        let Some(newest) = newest_segment(&self.members[i].dir.join("data").join("log"))? else {
            return Ok(None);
        };
        let mut torn = Vec::with_capacity(8 + garbage.len());
        // A length far past the end and any checksum: what a half-written record is.
        torn.extend_from_slice(&(garbage.len() as u32 + 4096).to_be_bytes());
        torn.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        torn.extend_from_slice(garbage);
        let end = corral_storage::wal::records_end(&newest).map_err(|e| ClusterError::Io {
            what: format!("reading {}", newest.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&newest)
            .map_err(io(format!("opening {}", newest.display())))?;
        f.write_all_at(&torn, end).map_err(io("tearing the log"))?;
        Ok(Some((newest, torn.len())))
    }

    /// Server `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.members[i].dir.join("server.log")).unwrap_or_default()
    }

    /// Stops every server (SIGCONT first, so a paused one can die).
    pub fn stop_all(&mut self) {
        for i in 0..self.members.len() {
            if self.is_paused(i) {
                self.resume(i);
            }
            self.kill(i);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The leader's index when the `Mode:`s of an ensemble's voters show one leader and
/// every other member following; `None` for a member that did not answer.
pub fn settled(modes: &[Option<String>]) -> Option<usize> {
    let leaders: Vec<usize> = (0..modes.len())
        .filter(|i| modes[*i].as_deref() == Some("leader"))
        .collect();
    let followers = modes
        .iter()
        .filter(|m| m.as_deref() == Some("follower"))
        .count();
    (leaders.len() == 1 && followers + 1 == modes.len()).then(|| leaders[0])
}

fn newest_segment(dir: &Path) -> Result<Option<PathBuf>, ClusterError> {
    let entries = std::fs::read_dir(dir).map_err(io(format!("reading {}", dir.display())))?;
    let mut segments: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("log-") && n.ends_with(".wal"))
        })
        .collect();
    segments.sort();
    Ok(segments.pop())
}

/// The `corral` binary built beside `exe` (the same target directory), for running
/// from `cargo run` or from a test binary in `deps/`.
pub fn corral_next_to(exe: PathBuf) -> Result<PathBuf, String> {
    let mut dir = exe.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        let candidate = d.join("corral");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent().map(Path::to_path_buf);
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
    }
    Err(format!(
        "no corral binary near {}; build it (cargo build -p corral) or pass --corral",
        exe.display()
    ))
}
