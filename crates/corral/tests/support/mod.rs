//! Test fixtures: a real `corral` server process on a loopback port, and a TCP proxy
//! in front of it that a test can cut, to drop a client's connection the way a
//! network does.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

pub mod ensemble;
pub mod hostile;
pub mod pki;

/// A free loopback port below the kernel's ephemeral range, so that no client socket
/// takes it while a killed server waits to be restarted on it.
pub fn free_port() -> u16 {
    corral_campaign::cluster::free_port().expect("no free loopback port")
}

pub fn four(port: u16, word: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A `corral server` child process with its own data directory.
pub struct ServerProcess {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    runs: u32,
}

impl ServerProcess {
    /// Starts a server whose zoo.cfg has the usual keys plus `extra` lines.
    pub fn start(extra: &str) -> ServerProcess {
        let mut server = ServerProcess::configure(extra);
        server.restart();
        server
    }

    /// Writes the zoo.cfg and data directory without starting the process.
    pub fn configure(extra: &str) -> ServerProcess {
        ServerProcess::configure_with(free_port(), |data| {
            format!("dataDir={}\ntickTime=200\n{extra}\n", data.display())
        })
    }

    /// Like `configure`, with the zoo.cfg lines after the client port's made by
    /// `lines` from the data directory's path.
    pub fn configure_with(
        port: u16,
        lines: impl FnOnce(&std::path::Path) -> String,
    ) -> ServerProcess {
        let dir = std::env::temp_dir().join(format!("corral-test-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("temp dir");
        let text = format!(
            "clientPort={port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\nmetricsProvider.httpPort=0\n{}",
            lines(&dir.join("data"))
        );
        std::fs::write(dir.join("zoo.cfg"), text).expect("write zoo.cfg");
        ServerProcess {
            child: None,
            port,
            dir,
            runs: 0,
        }
    }

    /// Starts the process again on the same port and data, and waits for `ruok`.
    pub fn restart(&mut self) {
        self.spawn();
        let deadline = Instant::now() + Duration::from_secs(60);
        while four(self.port, "ruok").as_deref() != Some("imok") {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "server exited with {exited:?}: {}",
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "server did not answer ruok: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the process and returns at once (for servers expected to refuse).
    pub fn spawn(&mut self) {
        self.runs += 1;
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_corral"))
            .args(["server", "--config"])
            .arg(self.dir.join("zoo.cfg"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn corral");
        self.child = Some(child);
    }

    /// Waits for the process to exit on its own; its exit status.
    pub fn wait_exit(&mut self) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self.child.as_mut()?.try_wait().ok().flatten();
            if status.is_some() || Instant::now() > deadline {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as `kill -9` does.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The running process's id, to read its /proc entries.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("server is running")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join(format!("server-{}.log", self.runs))
    }

    /// The log of the current (or last) run.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Forwards 127.0.0.1:port to a server. `cut` drops every open connection;
/// `refuse` makes new ones close at once, so a client cannot get back in.
pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<u64>,
    refuse: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let (cut, cut_rx) = watch::channel(0u64);
        let refuse = Arc::new(AtomicBool::new(false));
        let refusing = refuse.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if refusing.load(Ordering::SeqCst) {
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                // Only cuts after this connection opened concern it.
                cut_rx.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Proxy {
            port,
            cut,
            refuse,
            task,
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.cut.send_modify(|g| *g += 1);
    }

    pub fn refuse(&self, on: bool) {
        self.refuse.store(on, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits for a future with a generous bound, so a hang fails the test instead of CI.
pub async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(30), f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
