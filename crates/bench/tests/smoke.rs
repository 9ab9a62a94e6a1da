//! Every workload once, for about a second, against a real standalone `corral`
//! server: a smoke test that the load generator still works end to end. It asserts
//! that work was done and nothing failed, never how fast (docs/benchmarks.md has the
//! measurements).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `corral` server binary that `cargo test --workspace` builds beside this test.
fn corral() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .map(|d| d.join("corral"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no corral binary near {}: cargo build -p corral",
                exe.display()
            )
        })
}

struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ruok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut out = String::new();
    s.write_all(b"ruok").is_ok() && s.read_to_string(&mut out).is_ok() && out == "imok"
}

fn start() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let dir = std::env::temp_dir().join(format!("corral-bench-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).expect("temp dir");
    let cfg = format!(
        "clientPort={port}\nclientPortAddress=127.0.0.1\ndataDir={}\ntickTime=2000\n\
         admin.enableServer=false\nmetricsProvider.httpPort=0\nmaxClientCnxns=0\n",
        dir.join("data").display()
    );
    std::fs::write(dir.join("zoo.cfg"), cfg).expect("zoo.cfg");
    let child = Command::new(corral())
        .args(["server", "--config"])
        .arg(dir.join("zoo.cfg"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start corral");
    let server = Server { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ruok(port) {
        assert!(Instant::now() < deadline, "corral did not answer ruok");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn bench(server: &Server, workload: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_corral-bench"))
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .args(["--pid", &server.child.id().to_string()])
        .args([
            "--seconds",
            "1",
            "--sessions",
            "2",
            "--depth",
            "4",
            "--json",
        ])
        .args(workload)
        .output()
        .expect("run corral-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{workload:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{workload:?}: {e}: {line:?}"))
}

#[test]
fn every_workload_runs_against_a_real_server() {
    let server = start();
    let workloads: [&[&str]; 7] = [
        &["create"],
        &["set", "--keys", "50"],
        &["get", "--keys", "50"],
        &["mixed", "--keys", "50", "--read-pct", "90"],
        &["watch", "--watchers", "10", "--events", "5"],
        &["connect"],
        &["ephemeral", "--per-session", "3"],
    ];
    for w in workloads {
        let r = bench(&server, w);
        assert!(
            r["ops"].as_u64().is_some_and(|n| n > 0),
            "{w:?} did nothing: {r}"
        );
        assert_eq!(r["errors"].as_u64(), Some(0), "{w:?} saw errors: {r}");
        assert!(r["p99_us"].as_u64().is_some(), "{w:?} has no latency: {r}");
        assert!(
            r["server_rss_kib"].as_u64().is_some_and(|k| k > 0),
            "{w:?}: no RSS read: {r}"
        );
        assert!(
            r["server_cpu_us_per_op"].is_number(),
            "{w:?}: no CPU per op: {r}"
        );
    }
    let last = bench(&server, &["ephemeral", "--per-session", "2"]);
    assert_eq!(last["ephemerals_left"].as_u64(), Some(0), "{last}");
}
