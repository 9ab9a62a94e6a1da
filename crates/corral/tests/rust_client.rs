//! The Rust `zookeeper-client` crate drives a scripted session against a real server:
//! create, get, set, ls, delete; ephemeral and sequential nodes; a watch that fires;
//! multi; digest auth with an ACL.

mod support;

use support::{within, ServerProcess};
use zookeeper_client::{Acls, Client, CreateMode, Error, EventType, MultiWriteResult};

fn open() -> zookeeper_client::CreateOptions<'static> {
    CreateMode::Persistent.with_acls(Acls::anyone_all())
}

#[tokio::test]
async fn scripted_session() {
    let server = ServerProcess::start("");
    let zk = Client::connect(&server.addr()).await.expect("connect");

    // create, get, set, ls, delete
    zk.create("/app", b"v1", &open()).await.expect("create");
    let (data, stat) = zk.get_data("/app").await.expect("get");
    assert_eq!((data.as_slice(), stat.version), (&b"v1"[..], 0));
    let stat = zk.set_data("/app", b"v2", Some(0)).await.expect("set");
    assert_eq!(stat.version, 1);
    assert!(matches!(
        zk.set_data("/app", b"v3", Some(0)).await,
        Err(Error::BadVersion)
    ));
    zk.create("/app/a", b"", &open())
        .await
        .expect("create child");
    assert_eq!(
        zk.list_children("/app").await.expect("ls"),
        vec!["a".to_string()]
    );
    assert!(matches!(
        zk.delete("/app", None).await,
        Err(Error::NotEmpty)
    ));
    zk.delete("/app/a", None).await.expect("delete");
    assert!(matches!(zk.get_data("/app/a").await, Err(Error::NoNode)));

    // ephemeral and sequential
    let (_, seq1) = zk
        .create(
            "/app/job-",
            b"",
            &CreateMode::EphemeralSequential.with_acls(Acls::anyone_all()),
        )
        .await
        .expect("ephemeral sequential");
    let (_, seq2) = zk
        .create(
            "/app/job-",
            b"",
            &CreateMode::PersistentSequential.with_acls(Acls::anyone_all()),
        )
        .await
        .expect("persistent sequential");
    assert_eq!(
        (seq1.into_i64(), seq2.into_i64()),
        (1, 2),
        "sequence numbers follow cversion"
    );
    let mut children = zk.list_children("/app").await.expect("ls");
    children.sort();
    assert_eq!(children, vec!["job-0000000001", "job-0000000002"]);
    let owner = zk
        .check_stat("/app/job-0000000001")
        .await
        .expect("stat")
        .map(|s| s.ephemeral_owner);
    assert_eq!(owner, Some(zk.session_id().0));

    // a watch that fires, seen by another session
    let other = Client::connect(&server.addr())
        .await
        .expect("second client");
    let (_, _, watch) = other.get_and_watch_data("/app").await.expect("watch");
    zk.set_data("/app", b"v3", None).await.expect("set");
    let event = within("NodeDataChanged", watch.changed()).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeDataChanged, "/app")
    );

    // multi: all or nothing
    let mut multi = zk.new_multi_writer();
    multi.add_create("/m", b"", &open()).expect("op");
    multi.add_create("/m/x", b"", &open()).expect("op");
    multi.add_delete("/missing", None).expect("op");
    let failed = multi.commit().await;
    assert!(matches!(
        failed,
        Err(zookeeper_client::MultiWriteError::OperationFailed { index: 2, .. })
    ));
    assert!(
        zk.check_stat("/m").await.expect("stat").is_none(),
        "a failed multi left /m behind"
    );
    let mut multi = zk.new_multi_writer();
    multi.add_create("/m", b"", &open()).expect("op");
    multi.add_set_data("/app", b"v4", Some(2)).expect("op");
    multi.add_check_version("/app", 3).expect("op");
    let results = multi.commit().await.expect("multi");
    assert!(matches!(results[1], MultiWriteResult::SetData { ref stat } if stat.version == 3));

    // digest auth with an ACL
    zk.auth("digest", b"alice:secret").await.expect("auth");
    let alice_only = CreateMode::Persistent.with_acls(Acls::creator_all());
    zk.create("/private", b"s", &alice_only)
        .await
        .expect("create with auth acl");
    let (acl, _) = zk.get_acl("/private").await.expect("getACL");
    assert_eq!(acl.len(), 1);
    assert_eq!(acl[0].scheme(), "digest");
    assert!(acl[0].id().starts_with("alice:"));
    assert!(matches!(
        other.get_data("/private").await,
        Err(Error::NoAuth)
    ));
    assert_eq!(zk.get_data("/private").await.expect("get").0, b"s");
    let users = zk.list_auth_users().await.expect("whoami");
    assert!(users
        .iter()
        .any(|u| u.scheme() == "digest" && u.user() == "alice"));
}
