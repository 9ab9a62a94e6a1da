//! Quorum SASL (`quorum.auth.enableSasl`, `learnerRequireSasl`, `serverRequireSasl`,
//! the JAAS file's QuorumServer and QuorumLearner sections) between three real
//! `corral server` processes: with the right password the ensemble forms and
//! replicates; a member whose QuorumLearner password is wrong takes part in no peer
//! connection (each refusal logged) while the other two keep a quorum, and joins once
//! its password is right.

mod support;

use std::time::{Duration, Instant};

use support::ensemble::{connect, mode, persistent, runtime, serial, Ensemble};
use support::within;

fn jaas(learner_password: &str) -> String {
    format!(
        "QuorumServer {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  \
         user_learner=\"s3cret\";\n}};\nQuorumLearner {{\n  \
         org.apache.zookeeper.server.auth.DigestLoginModule required\n  \
         username=\"learner\"\n  password=\"{learner_password}\";\n}};\n"
    )
}

/// Waits for `needle` in member `i`'s log.
fn logged(ensemble: &Ensemble, i: usize, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ensemble.log(i).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "member {i} never logged {needle:?}: {}",
            ensemble.log(i)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_sasl_quorum_replicates_and_a_wrong_learner_password_cannot_join() {
    let _turn = serial();
    let dir = std::env::temp_dir().join(format!("corral-qsasl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("jaas dir");
    let files: Vec<_> = (0..3).map(|i| dir.join(format!("jaas-{i}.conf"))).collect();
    for (i, file) in files.iter().enumerate() {
        let password = if i == 2 { "wrong" } else { "s3cret" };
        std::fs::write(file, jaas(password)).expect("jaas file");
    }
    let mut ensemble = Ensemble::configure_each(3, 0, |i| {
        format!(
            "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n\
             quorum.auth.serverRequireSasl=true\njava.security.auth.login.config={}\n",
            files[i].display()
        )
    });
    for i in 0..3 {
        ensemble.restart(i);
    }
    // Members 0 and 1 form a quorum; member 2 is refused both ways.
    let deadline = Instant::now() + Duration::from_secs(60);
    let leader = loop {
        let modes: Vec<_> = (0..2)
            .map(|i| mode(ensemble.members[i].server.port))
            .collect();
        let leader = modes.iter().position(|m| m.as_deref() == Some("leader"));
        if let Some(l) = leader.filter(|l| modes[1 - l].as_deref() == Some("follower")) {
            break l;
        }
        assert!(Instant::now() < deadline, "no quorum of two: {modes:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The leader dials its follower, which checks it.
    logged(&ensemble, 1 - leader, "authenticated with SASL as learner");
    // Member 2 dialing the leader: the leader refuses it.
    logged(
        &ensemble,
        leader,
        "SASL authentication failed: wrong password for \"learner\"",
    );
    // The leader dialing member 2: member 2's proof back is refused.
    logged(
        &ensemble,
        leader,
        "its proof: wrong password for \"learner\"",
    );
    logged(&ensemble, 2, "quorum SASL with 127.0.0.1:");
    runtime().block_on(async {
        let hosts = ensemble.hosts_except(&[2]);
        let client = connect(&hosts).await;
        within("create", client.create("/sasl", b"q", &persistent()))
            .await
            .expect("create");
        for i in 0..2 {
            let reader = connect(&ensemble.addr(i)).await;
            within("sync", reader.sync("/")).await.expect("sync");
            let (data, _) = within("get", reader.get_data("/sasl")).await.expect("get");
            assert_eq!(data, b"q", "member {i}");
        }
    });
    assert_eq!(
        mode(ensemble.members[2].server.port),
        None,
        "member 2 serves"
    );

    // With the right password member 2 joins and catches up.
    std::fs::write(&files[2], jaas("s3cret")).expect("jaas file");
    ensemble.kill9(2);
    ensemble.restart(2);
    ensemble.wait_settled();
    runtime().block_on(async {
        let reader = connect(&ensemble.addr(2)).await;
        within("sync", reader.sync("/")).await.expect("sync");
        let (data, _) = within("get", reader.get_data("/sasl")).await.expect("get");
        assert_eq!(data, b"q");
    });
    drop(ensemble);
    let _ = std::fs::remove_dir_all(&dir);
}
