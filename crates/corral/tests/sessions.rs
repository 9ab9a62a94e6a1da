//! Sessions against a real server: resuming after the connection is cut, refusing a
//! wrong password, and expiry that removes ephemerals and tells other sessions.

mod support;

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use corral_jute::records::{ConnectRequest, ConnectResponse};
use corral_jute::Jute;
use support::{within, Proxy, ServerProcess};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zookeeper_client::{Acls, Client, CreateMode, EventType, SessionState};

fn ephemeral() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Ephemeral.with_acls(Acls::anyone_all())
}

fn persistent() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

async fn wait_state(client: &Client, want: SessionState) {
    let mut watcher = client.state_watcher();
    within(&format!("session state {want}"), async {
        while client.state() != want {
            watcher.changed().await;
        }
    })
    .await;
}

#[tokio::test]
async fn session_survives_a_cut_connection() {
    let server = ServerProcess::start("");
    let proxy = Proxy::start(server.port).await;
    let client = Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(&proxy.addr())
        .await
        .expect("connect");
    let id = client.session_id();
    client
        .create("/mine", b"x", &ephemeral())
        .await
        .expect("create ephemeral");

    proxy.cut();
    wait_state(&client, SessionState::Disconnected).await;
    wait_state(&client, SessionState::SyncConnected).await;

    assert_eq!(
        client.session_id(),
        id,
        "the client resumed a different session"
    );
    let stat = within("exists", client.check_stat("/mine"))
        .await
        .expect("exists");
    assert_eq!(
        stat.map(|s| s.ephemeral_owner),
        Some(id.0),
        "the ephemeral did not survive"
    );
    let other = Client::connect(&server.addr())
        .await
        .expect("second client");
    assert!(other.check_stat("/mine").await.expect("exists").is_some());
}

async fn raw_handshake(port: u16, session_id: i64, passwd: Vec<u8>) -> (ConnectResponse, bool) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout: 10_000,
        session_id,
        passwd: passwd.into(),
        read_only: false,
    };
    let body = req.to_bytes();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    s.write_all(&frame).await.expect("send handshake");
    let len = s.read_i32().await.expect("response length");
    let mut buf = vec![0u8; len as usize];
    s.read_exact(&mut buf).await.expect("response");
    let resp = ConnectResponse::from_bytes(&buf).expect("decode response");
    let closed = matches!(
        tokio::time::timeout(Duration::from_secs(10), s.read_u8()).await,
        Ok(Err(_))
    );
    (resp, closed)
}

#[tokio::test]
async fn wrong_password_gets_an_expired_session() {
    let server = ServerProcess::start("");
    let client = Client::connect(&server.addr()).await.expect("connect");
    let id = client.session_id().0;

    let (resp, closed) = raw_handshake(server.port, id, vec![7u8; 16]).await;
    assert_eq!(
        (resp.timeout, resp.session_id),
        (0, 0),
        "a wrong password was accepted"
    );
    assert!(
        closed,
        "the server kept the connection open after refusing it"
    );

    // The real session is untouched by the failed attempt.
    client
        .create("/still-here", b"", &persistent())
        .await
        .expect("session still works");

    // A closed session cannot be resumed even with the right password.
    let session = client.session().clone();
    drop(client);
    // Dropping the client closes the session in the background; wait until the
    // server has applied the close (its connection leaves `cons` only then).
    let sid = format!("sid=0x{id:x}");
    within("session close", async {
        while support::four(server.port, "cons").is_some_and(|c| c.contains(&sid)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let resumed = within(
        "resume",
        Client::connector()
            .with_session(session)
            .connect(&server.addr()),
    )
    .await;
    assert!(
        matches!(resumed, Err(zookeeper_client::Error::SessionExpired)),
        "resuming a closed session gave {:?}",
        resumed.map(|c| c.session_id())
    );
}

#[tokio::test]
async fn expiry_removes_ephemerals_and_notifies_others() {
    let server = ServerProcess::start("");
    let proxy = Proxy::start(server.port).await;
    let doomed = Client::connector()
        .with_session_timeout(Duration::from_millis(1000))
        .connect(&proxy.addr())
        .await
        .expect("connect doomed");
    let watcher = Client::connect(&server.addr())
        .await
        .expect("connect watcher");
    watcher
        .create("/p", b"", &persistent())
        .await
        .expect("create parent");
    doomed
        .create("/p/eph", b"", &ephemeral())
        .await
        .expect("create ephemeral");

    let (_, _, data_watch) = watcher
        .get_and_watch_data("/p/eph")
        .await
        .expect("watch data");
    let (children, child_watch) = watcher
        .list_and_watch_children("/p")
        .await
        .expect("watch children");
    assert_eq!(children, vec!["eph".to_string()]);

    // The doomed client can no longer reach the server, so it stops pinging.
    proxy.refuse(true);
    proxy.cut();

    let deleted = within("NodeDeleted", data_watch.changed()).await;
    assert_eq!(
        (deleted.event_type, deleted.path.as_str()),
        (EventType::NodeDeleted, "/p/eph")
    );
    let changed = within("NodeChildrenChanged", child_watch.changed()).await;
    assert_eq!(
        (changed.event_type, changed.path.as_str()),
        (EventType::NodeChildrenChanged, "/p")
    );
    assert!(watcher
        .check_stat("/p/eph")
        .await
        .expect("exists")
        .is_none());

    // When it gets back, it learns its session is gone.
    proxy.refuse(false);
    wait_state(&doomed, SessionState::Expired).await;
}
