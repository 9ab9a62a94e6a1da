//! Data directories written by the real ZooKeeper 3.8 (tests/make_fixtures.py), read
//! back: plain, gzip and snappy snapshots, logs ended by a SIGKILL, and the damage
//! the reader must refuse or work around.

use std::path::{Path, PathBuf};

use corral_zkdata::txn::{CONTAINER_OWNER, TTL_MASK};
use corral_zkdata::{load, Dirs, Loaded, ZkDataError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load_dir(dir: &Path) -> Result<Loaded, ZkDataError> {
    let dirs = Dirs {
        data: dir.to_path_buf(),
        log: None,
    };
    load(&dirs, &mut |_| {})
}

/// A copy of a fixture to damage.
fn copy(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let from = fixture(name).join("version-2");
    let to = tmp.path().join("version-2");
    std::fs::create_dir_all(&to).expect("mkdir");
    for e in std::fs::read_dir(&from).expect("fixture") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
    tmp
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join("version-2"))
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    out.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let hex = name
            .as_deref()
            .and_then(|n| n.split('.').nth(1))
            .unwrap_or("0");
        u64::from_str_radix(hex, 16).unwrap_or(0)
    });
    out
}

/// What compat/zkimport.build_tree made, as ZooKeeper stores it.
fn check_tree(loaded: &Loaded) {
    let t = &loaded.tree;
    let node = |p: &str| t.nodes.get(p).unwrap_or_else(|| panic!("{p} missing"));
    let app = node("/app");
    assert_eq!(app.data.as_deref(), Some(&b"v2"[..]));
    assert_eq!((app.stat.version, app.stat.aversion), (3, 1));
    let schemes: Vec<&str> = app.acl.iter().map(|a| a.id.scheme.as_str()).collect();
    assert_eq!(schemes, vec!["world", "ip"]);
    assert_eq!(node("/app/small").children.len(), 60);
    assert_eq!(node("/app/small").stat.cversion, 60);
    assert!(node("/app").children.contains("seq-0000000001"));
    assert!(!t.nodes.contains_key("/app/gone") && !t.nodes.contains_key("/app/m3"));
    assert_eq!(node("/app/m1").data.as_deref(), Some(&b"11"[..]));
    assert_eq!(node("/app/box").stat.ephemeral_owner, CONTAINER_OWNER);
    assert_eq!(node("/app/ttl").stat.ephemeral_owner, TTL_MASK | 3_600_000);
    let owner = node("/app/eph").stat.ephemeral_owner;
    assert!(
        t.sessions.contains_key(&owner),
        "the ephemeral's session is kept"
    );
    assert_eq!(node("/acl-digest").acl[0].id.scheme, "digest");
    assert_eq!(
        node("/acl-auth").acl[0].id.id,
        "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
    );
    assert_eq!(node("/acl-ip").acl.len(), 2);
    // base64(sha1("alice:secret")), as DigestAuthenticationProvider makes it.
    // The quota's stats are recounted: /app and everything under it.
    let count = t.nodes.keys().filter(|p| p.starts_with("/app")).count();
    let stats = node("/zookeeper/quota/app/zookeeper_stats");
    let text = String::from_utf8_lossy(stats.data.as_deref().unwrap_or_default()).into_owned();
    assert!(text.starts_with(&format!("count={count},")), "{text}");
    assert!(loaded.txns > 0 && loaded.logs.len() >= 2);
    assert!(t.last_zxid > loaded.snapshot_zxid);
}

#[test]
fn plain_gzip_and_snappy_directories_replay_to_the_built_tree() {
    for name in ["zk38-plain", "zk38-gz", "zk38-snappy"] {
        let loaded = load_dir(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(loaded.skipped.is_empty(), "{name}: {:?}", loaded.skipped);
        check_tree(&loaded);
        // Every snapshot decodes by itself, and replay from an older one lands on
        // the same tree.
        assert!(loaded.digest.is_some(), "{name}: 3.8 writes the digest");
    }
}

#[test]
fn version_2_itself_names_the_directory_too() {
    let dir = fixture("zk38-plain").join("version-2");
    assert!(load_dir(&dir).is_ok());
    assert!(matches!(
        load_dir(&fixture("absent")),
        Err(ZkDataError::NoDataDir { .. })
    ));
}

#[test]
fn a_truncated_newest_snapshot_falls_back_to_the_older_one() {
    let tmp = copy("zk38-plain");
    let newest = files(tmp.path(), "snapshot").pop().expect("snapshot");
    let len = std::fs::metadata(&newest).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&newest)
        .expect("open");
    f.set_len(len / 2).expect("truncate");
    let loaded = load_dir(tmp.path()).expect("falls back");
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].0, newest);
    assert_eq!(loaded.snapshot_zxid, 0);
    check_tree(&loaded);
}

#[test]
fn a_flipped_byte_in_a_log_is_a_checksum_error_with_file_and_offset() {
    let tmp = copy("zk38-plain");
    let log = files(tmp.path(), "log").pop().expect("log");
    let mut bytes = std::fs::read(&log).expect("read");
    // The first record's body starts after the 16-byte header, checksum and length.
    bytes[16 + 8 + 4 + 30] ^= 0x55;
    std::fs::write(&log, &bytes).expect("write");
    match load_dir(tmp.path()) {
        Err(ZkDataError::Checksum { file, offset, .. }) => {
            assert_eq!((file, offset), (log, 16));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn a_missing_log_is_a_gap() {
    let tmp = copy("zk38-plain");
    let logs = files(tmp.path(), "log");
    std::fs::remove_file(&logs[1]).expect("remove");
    let err = load_dir(tmp.path()).map(|l| l.txns);
    assert!(
        matches!(err, Err(ZkDataError::Gap { ref file, .. }) if *file == logs[2]),
        "{err:?}"
    );
}

#[test]
fn an_unknown_txn_type_stops_with_its_zxid() {
    let tmp = copy("zk38-plain");
    let log = files(tmp.path(), "log").pop().expect("log");
    let mut bytes = std::fs::read(&log).expect("read");
    let body = 16 + 8 + 4;
    let len = i32::from_be_bytes(bytes[24..28].try_into().expect("4 bytes")) as usize;
    // TxnHeader: clientId, cxid, zxid, time, then the type.
    bytes[body + 28..body + 32].copy_from_slice(&99i32.to_be_bytes());
    let crc = adler2::adler32_slice(&bytes[body..body + len]);
    bytes[16..24].copy_from_slice(&u64::from(crc).to_be_bytes());
    std::fs::write(&log, &bytes).expect("write");
    let zxid = i64::from_be_bytes(bytes[body + 12..body + 20].try_into().expect("8 bytes"));
    match load_dir(tmp.path()) {
        Err(ZkDataError::UnknownTxn {
            file,
            offset,
            zxid: z,
            txn_type,
        }) => assert_eq!((file, offset, z, txn_type), (log, 16, zxid, 99)),
        other => panic!("expected an unknown type, got {other:?}"),
    }
}
