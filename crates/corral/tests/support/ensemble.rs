//! An ensemble of `corral server` processes on 127.0.0.1, configured the way an
//! operator configures ZooKeeper: one zoo.cfg per server with every server.N line,
//! and a myid file in each data directory.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use zookeeper_client::{Acls, Client, CreateMode};

use super::{four, free_port, ServerProcess};

pub struct Member {
    pub id: u64,
    pub observer: bool,
    /// The port of its server.N line that peers connect to.
    pub quorum_port: u16,
    pub server: ServerProcess,
    pub running: bool,
}

pub struct Ensemble {
    pub members: Vec<Member>,
}

/// The role `srvr` reports, or `None` when the server is down or not serving.
pub fn mode(port: u16) -> Option<String> {
    let text = four(port, "srvr")?;
    text.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(str::to_string)
}

impl Ensemble {
    /// Starts `voters` voters and `observers` observers with `extra` zoo.cfg lines.
    pub fn start(voters: usize, observers: usize, extra: &str) -> Ensemble {
        let mut ensemble = Ensemble::configure(voters, observers, extra);
        for i in 0..ensemble.members.len() {
            ensemble.restart(i);
        }
        ensemble
    }

    pub fn configure(voters: usize, observers: usize, extra: &str) -> Ensemble {
        Ensemble::configure_each(voters, observers, |_| extra.to_string())
    }

    /// Like `configure`, with zoo.cfg lines for each member by index.
    pub fn configure_each(
        voters: usize,
        observers: usize,
        extra: impl Fn(usize) -> String,
    ) -> Ensemble {
        let count = voters + observers;
        let ports: Vec<(u16, u16, u16)> = (0..count)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let mut lines = String::new();
        for (i, (client, quorum, election)) in ports.iter().enumerate() {
            let kind = if i >= voters { ":observer" } else { "" };
            lines.push_str(&format!(
                "server.{}=127.0.0.1:{quorum}:{election}{kind};127.0.0.1:{client}\n",
                i + 1
            ));
        }
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, (client, quorum, _))| {
                let observer = i >= voters;
                let extra = extra(i);
                let server = ServerProcess::configure_with(*client, |data| {
                    std::fs::write(data.join("myid"), format!("{}\n", i + 1)).expect("myid");
                    format!(
                        "dataDir={}\ntickTime=2000\ninitLimit=10\nsyncLimit=5\n{}{extra}\n{lines}",
                        data.display(),
                        if observer { "peerType=observer\n" } else { "" }
                    )
                });
                Member {
                    id: i as u64 + 1,
                    observer,
                    quorum_port: *quorum,
                    server,
                    running: false,
                }
            })
            .collect();
        Ensemble { members }
    }

    /// Every client address, as a client's connect string.
    pub fn connect_string(&self) -> String {
        self.hosts_except(&[])
    }

    /// The connect string of every member but those listed.
    pub fn hosts_except(&self, skip: &[usize]) -> String {
        (0..self.members.len())
            .filter(|i| !skip.contains(i))
            .map(|i| self.addr(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn addr(&self, i: usize) -> String {
        self.members[i].server.addr()
    }

    pub fn kill9(&mut self, i: usize) {
        self.members[i].server.kill9();
        self.members[i].running = false;
    }

    pub fn restart(&mut self, i: usize) {
        self.members[i].server.restart();
        self.members[i].running = true;
    }

    /// The mode of every running member, by index.
    pub fn modes(&self) -> BTreeMap<usize, Option<String>> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.running)
            .map(|(i, m)| (i, mode(m.server.port)))
            .collect()
    }

    /// Waits until the running members settle: one leader, every other running voter
    /// a follower and every running observer an observer. Returns the leader's index.
    pub fn wait_settled(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let modes = self.modes();
            let leaders: Vec<usize> = modes
                .iter()
                .filter(|(_, m)| m.as_deref() == Some("leader"))
                .map(|(i, _)| *i)
                .collect();
            let rest_ok = modes.iter().all(|(i, m)| {
                let want = if self.members[*i].observer {
                    "observer"
                } else {
                    "follower"
                };
                leaders.contains(i) || m.as_deref() == Some(want)
            });
            if leaders.len() == 1 && rest_ok {
                return leaders[0];
            }
            assert!(
                Instant::now() < deadline,
                "the ensemble did not settle: {modes:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The index of the running member whose `cons` lists `session`.
    pub fn serving_session(&self, session: i64) -> Option<usize> {
        let needle = format!("sid=0x{session:x},");
        self.members.iter().enumerate().find_map(|(i, m)| {
            let cons = four(m.server.port, "cons")?;
            (m.running && cons.contains(&needle)).then_some(i)
        })
    }

    pub fn log(&self, i: usize) -> String {
        self.members[i].server.log()
    }
}

/// A persistent node open to anyone.
pub fn persistent() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

/// A session on any of `hosts`, retried for up to 30 s while an ensemble elects.
pub async fn connect(hosts: &str) -> Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = Client::connector()
            .with_session_timeout(Duration::from_secs(6))
            .connect(hosts);
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(c)) => return c,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "cannot connect to {hosts}: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One ensemble test at a time in a binary: each runs three servers on two cores.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The runtime an ensemble test drives its clients on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
