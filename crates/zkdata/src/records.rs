//! The records of `zookeeper.jute` that only ZooKeeper's disk holds: the file
//! header, the persisted Stat, the transaction header and each transaction body
//! (module `org.apache.zookeeper.txn`), field for field.

use bytes::Bytes;
use corral_jute::record;
use corral_jute::records::Acl;

record! {
    /// The start of every snapshot and log file (`FileHeader`).
    pub struct FileHeader { pub magic: i32, pub version: i32, pub dbid: i64 }
}

record! {
    /// A node's Stat as a snapshot holds it: no dataLength or numChildren.
    pub struct StatPersisted {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub pzxid: i64,
    }
}

record! {
    pub struct TxnHeader {
        pub client_id: i64,
        pub cxid: i32,
        pub zxid: i64,
        pub time: i64,
        pub txn_type: i32,
    }
}

record! {
    pub struct CreateTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
        pub parent_cversion: i32,
    }
}

record! {
    /// A create as ZooKeeper before 3.3 logged it, without the parent's cversion.
    pub struct CreateTxnV0 {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
    }
}

record! {
    pub struct CreateTtlTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
        pub ttl: i64,
    }
}

record! {
    pub struct CreateContainerTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
    }
}

record! {
    pub struct DeleteTxn { pub path: String }
}

record! {
    pub struct SetDataTxn { pub path: String, pub data: Option<Bytes>, pub version: i32 }
}

record! {
    pub struct SetAclTxn { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
}

record! {
    pub struct CheckVersionTxn { pub path: String, pub version: i32 }
}

record! {
    pub struct ErrorTxn { pub err: i32 }
}

record! {
    pub struct CreateSessionTxn { pub time_out: i32 }
}

record! {
    pub struct CloseSessionTxn { pub paths_to_delete: Vec<String> }
}

record! {
    /// One operation of a multi: its type and its encoded body.
    pub struct SubTxn { pub txn_type: i32, pub data: Bytes }
}

record! {
    pub struct MultiTxn { pub txns: Vec<SubTxn> }
}

record! {
    /// The tree digest after a transaction (3.6+), after the body when present.
    pub struct TxnDigest { pub version: i32, pub tree_digest: i64 }
}
