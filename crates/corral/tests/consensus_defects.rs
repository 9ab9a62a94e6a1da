//! Regressions for defects in the consensus crate, against real `corral server`
//! processes and a real ZooKeeper client.
//!
//! - A panic inside apply once left a half-applied tree that reads kept serving: the
//!   tree's lock poisoning was ignored. The server must stop instead.
//!
//! The tests take turns (`SERIAL`): two shared cores.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::{within, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn persistent() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

async fn connect(hosts: &str) -> Client {
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

#[test]
fn a_panic_while_applying_stops_the_server_instead_of_serving_a_half_applied_tree() {
    let _turn = serial();
    let mut server = ServerProcess::start("corral.testFault=panic-applying:/half");
    let rt = runtime();
    let client = rt.block_on(async {
        let client = connect(&server.addr()).await;
        within("create", client.create("/whole", b"v", &persistent()))
            .await
            .expect("create before the fault");
        // The create of /half panics inside apply, after the tree took it.
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            client.create("/half", b"v", &persistent()),
        )
        .await;
        client
    });
    let Some(status) = server.wait_exit() else {
        let half = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), client.get_data("/half")).await
        });
        panic!("the server kept running after a panic in apply; a read of /half gave {half:?}");
    };
    assert!(!status.success(), "the server exited with {status:?}");
    let log = server.log();
    assert!(
        log.contains("state machine"),
        "the server stopped without saying why:\n{log}"
    );
}
