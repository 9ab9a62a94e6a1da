//! The transactions that go through the replicated log, and their results.
//!
//! A transaction carries everything its outcome depends on (the session, the time and
//! the caller's identities), so applying it is a pure function of the tree.

use bytes::Bytes;
use corral_jute::records::{Acl, Id, Stat};
use corral_jute::ErrorCode;
use serde::{Deserialize, Serialize};

/// One log entry's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Txn {
    pub session_id: i64,
    /// Wall-clock milliseconds, stamped by the proposing server.
    pub time: i64,
    /// The caller's authenticated ids, for ACL checks and the `auth` scheme.
    pub identity: Vec<Id>,
    pub op: TxnOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOp {
    CreateSession {
        timeout: i32,
        passwd: Bytes,
    },
    CloseSession,
    Create(CreateOp),
    Delete {
        path: String,
        version: i32,
    },
    SetData {
        path: String,
        data: Option<Bytes>,
        version: i32,
    },
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    Check {
        path: String,
        version: i32,
    },
    Multi(Vec<TxnOp>),
    /// Removes an empty container or an expired TTL node (deleteContainer, 20).
    Reap {
        path: String,
    },
    /// A request refused before it could change anything. It is logged all the same,
    /// as ZooKeeper logs an ErrorTxn, so it takes a zxid like any write.
    Fail(ErrorCode),
    /// A blank or membership entry of the log: takes a zxid, changes nothing.
    Noop,
    /// The AdminServer's `restore`: the nodes and sessions of `snapshot` (a tree as
    /// `DataTree::encode_snapshot` writes it) replace the tree's (`apply::restore`).
    /// Last, so that the variants before it keep their number in the log's records.
    Restore {
        snapshot: Bytes,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOp {
    /// The request's opcode (create, create2, createContainer or createTTL): the
    /// rules differ a little between them.
    pub opcode: i32,
    pub path: String,
    pub data: Option<Bytes>,
    pub acl: Vec<Acl>,
    pub flags: i32,
    /// -1 unless the request was createTTL.
    pub ttl: i64,
}

/// ZooKeeper's create modes, by flag value (`CreateMode.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    PersistentWithTtl,
    PersistentSequentialWithTtl,
}

impl CreateMode {
    pub fn from_flag(flag: i32) -> Option<CreateMode> {
        Some(match flag {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }

    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }
}

/// `ephemeralOwner` of a container node (`EphemeralType.CONTAINER`).
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// The high byte that marks a TTL node's `ephemeralOwner`; the TTL is in the low bits.
pub const TTL_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;
/// The largest TTL ZooKeeper accepts, in milliseconds.
pub const MAX_TTL: i64 = 0x00FF_FFFF_FFFF;

/// The result of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpResult {
    /// create2, createContainer and createTTL answer with the Stat.
    Created {
        path: String,
        stat: Stat,
    },
    /// A plain create (opcode 1) answers with the path only.
    CreatedPlain {
        path: String,
    },
    Deleted,
    DataSet {
        stat: Stat,
    },
    AclSet {
        stat: Stat,
    },
    Checked,
    SessionCreated,
    SessionClosed,
    Multi(Vec<OpResult>),
    Error(ErrorCode),
    Done,
}

/// What applying a transaction gave: the zxid it was given and each outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResult {
    pub zxid: i64,
    pub result: OpResult,
}

impl TxnResult {
    /// The error code a reply header carries: the first failure, as in a multi.
    pub fn err(&self) -> ErrorCode {
        match &self.result {
            OpResult::Error(e) => *e,
            OpResult::Multi(rs) => rs
                .iter()
                .find_map(|r| match r {
                    OpResult::Error(e) if *e != ErrorCode::Ok => Some(*e),
                    _ => None,
                })
                .unwrap_or(ErrorCode::Ok),
            _ => ErrorCode::Ok,
        }
    }
}

impl std::fmt::Display for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.op {
            TxnOp::CreateSession { .. } => "createSession",
            TxnOp::CloseSession => "closeSession",
            TxnOp::Create(_) => "create",
            TxnOp::Delete { .. } => "delete",
            TxnOp::SetData { .. } => "setData",
            TxnOp::SetAcl { .. } => "setACL",
            TxnOp::Check { .. } => "check",
            TxnOp::Multi(_) => "multi",
            TxnOp::Reap { .. } => "deleteContainer",
            TxnOp::Fail(_) => "error",
            TxnOp::Noop => "noop",
            TxnOp::Restore { .. } => "restore",
        };
        write!(f, "{what} session=0x{:x}", self.session_id)
    }
}

impl TxnOp {
    /// A one-line account of the operation, for log dumps: its name and details.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            TxnOp::CreateSession { timeout, .. } => ("createSession", format!("timeout={timeout}")),
            TxnOp::CloseSession => ("closeSession", String::new()),
            TxnOp::Create(c) => (
                "create",
                format!(
                    "{} flags={} ttl={} data={}B",
                    c.path,
                    c.flags,
                    c.ttl,
                    c.data.as_ref().map_or(0, |d| d.len())
                ),
            ),
            TxnOp::Delete { path, version } => ("delete", format!("{path} version={version}")),
            TxnOp::SetData {
                path,
                data,
                version,
            } => (
                "setData",
                format!(
                    "{path} version={version} data={}B",
                    data.as_ref().map_or(0, |d| d.len())
                ),
            ),
            TxnOp::SetAcl { path, acl, version } => (
                "setACL",
                format!("{path} version={version} acl={}", acl.len()),
            ),
            TxnOp::Check { path, version } => ("check", format!("{path} version={version}")),
            TxnOp::Multi(ops) => (
                "multi",
                ops.iter()
                    .map(|o| {
                        let (name, d) = o.describe();
                        format!("{name} {d}")
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            TxnOp::Reap { path } => ("deleteContainer", path.clone()),
            TxnOp::Fail(e) => ("error", e.to_string()),
            TxnOp::Noop => ("noop", String::new()),
            TxnOp::Restore { snapshot } => ("restore", format!("snapshot={}B", snapshot.len())),
        }
    }
}
