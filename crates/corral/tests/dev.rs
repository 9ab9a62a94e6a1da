//! `corral dev --nodes 3`: it comes up with one leader and two followers, a new leader
//! follows the old one's kill -9, and SIGINT leaves no member process and no directory.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::ensemble::mode;

/// A base port whose derived ports (base+i, +100, +200, +300, +400) are all free.
fn free_base() -> u16 {
    for _ in 0..200 {
        let base = support::free_port();
        if base > 60000 {
            continue;
        }
        let all_free = (0..3u16).all(|i| {
            [0u16, 100, 200, 300, 400]
                .iter()
                .all(|off| std::net::TcpListener::bind(("127.0.0.1", base + off + i)).is_ok())
        });
        if all_free {
            return base;
        }
    }
    panic!("no free block of ports");
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the pid exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn dev_ensemble_comes_up_fails_over_and_cleans_up() {
    let base = free_base();
    let mut dev = Command::new(env!("CARGO_BIN_EXE_corral"))
        .args(["dev", "--nodes", "3", "--base-port", &base.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("corral dev starts");
    let stdout = dev.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut dir = String::new();
    let mut pids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids.len() < 3 {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the banner");
        if let Some(rest) = line.strip_prefix("corral dev: 3 members in ") {
            dir = rest.to_string();
        }
        if let Some(pid) = line
            .split("pid ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|p| p.parse::<i32>().ok())
        {
            pids.push(pid);
        }
    }
    assert!(std::path::Path::new(&dir).is_dir(), "no directory {dir}");
    let ports: Vec<u16> = (0..3).map(|i| base + i).collect();
    let settled = |ports: &[u16]| -> Option<usize> {
        let modes: Vec<Option<String>> = ports.iter().map(|p| mode(*p)).collect();
        corral_campaign::cluster::settled(&modes)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let leader = loop {
        if let Some(l) = settled(&ports) {
            break l;
        }
        assert!(Instant::now() < deadline, "no leader and two followers");
        std::thread::sleep(Duration::from_millis(100));
    };

    // kill -9 of the leader's process: the other two elect a new one.
    // SAFETY: the pid is a member `corral dev` started, named in its banner.
    unsafe {
        libc::kill(pids[leader], libc::SIGKILL);
    }
    let rest: Vec<u16> = (0..3).filter(|i| *i != leader).map(|i| ports[i]).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while settled(&rest).is_none() {
        assert!(Instant::now() < deadline, "no new leader after kill -9");
        std::thread::sleep(Duration::from_millis(100));
    }

    // SIGINT, as Ctrl-C: everything stops and the directory goes.
    // SAFETY: the pid is the `corral dev` process this test started.
    unsafe {
        libc::kill(dev.id() as i32, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = dev.try_wait() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "corral dev did not exit on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "corral dev exited with {status}");
    for pid in pids {
        assert!(!alive(pid), "member pid {pid} is still running");
    }
    assert!(!std::path::Path::new(&dir).exists(), "{dir} is still there");
}
