//! One transaction-log entry decoded: the header, the body by type (every type
//! ZooKeeper 3.4 to 3.9 writes, as `SerializeUtils.deserializeTxn` reads them), and
//! the optional digest after it.

use bytes::Bytes;
use corral_jute::records::Acl;
use corral_jute::{Jute, JuteError, Reader};

use crate::records::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTtlTxn,
    CreateTxn, CreateTxnV0, DeleteTxn, ErrorTxn, MultiTxn, SetAclTxn, SetDataTxn, TxnDigest,
    TxnHeader,
};

/// ZooKeeper's opcodes as they appear in `TxnHeader.type`.
pub mod op {
    pub const NOTIFICATION: i32 = 0;
    pub const CREATE: i32 = 1;
    pub const DELETE: i32 = 2;
    pub const SET_DATA: i32 = 5;
    pub const SET_ACL: i32 = 7;
    pub const CHECK: i32 = 13;
    pub const MULTI: i32 = 14;
    pub const CREATE2: i32 = 15;
    pub const RECONFIG: i32 = 16;
    pub const CREATE_CONTAINER: i32 = 19;
    pub const DELETE_CONTAINER: i32 = 20;
    pub const CREATE_TTL: i32 = 21;
    pub const CREATE_SESSION: i32 = -10;
    pub const CLOSE_SESSION: i32 = -11;
    pub const ERROR: i32 = -1;
}

/// The `ephemeralOwner` of a container (`EphemeralType.CONTAINER_EPHEMERAL_OWNER`).
pub const CONTAINER_OWNER: i64 = i64::MIN;
/// The high byte of a TTL node's `ephemeralOwner`; the TTL is in the low bits.
pub const TTL_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;

/// Who owns a created node, which decides its `ephemeralOwner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Persistent,
    /// The creating session (the header's client id).
    Ephemeral,
    Container,
    Ttl(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// create, create2, createContainer or createTTL: replay treats plain create apart.
    pub op: i32,
    pub path: String,
    pub data: Option<Bytes>,
    pub acl: Vec<Acl>,
    pub owner: Owner,
    /// -1 in logs before 3.3 (and means "one more than now").
    pub parent_cversion: i32,
}

/// A transaction body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZkTxn {
    CreateSession {
        timeout: i32,
    },
    /// `None` in logs written before CloseSessionTxn existed.
    CloseSession {
        paths: Option<Vec<String>>,
    },
    Create(Create),
    Delete {
        path: String,
    },
    /// setData and reconfig (which writes /zookeeper/config).
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
    },
    Error {
        err: i32,
    },
    /// The operations of a multi; empty when one of them failed, since then none
    /// is applied.
    Multi(Vec<ZkTxn>),
}

/// A decoded log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub txn: ZkTxn,
    pub digest: Option<TxnDigest>,
}

/// Why an entry does not decode.
#[derive(Debug, PartialEq, Eq)]
pub enum TxnDecodeError {
    /// The header reads, the type is one ZooKeeper does not write.
    UnknownType {
        zxid: i64,
        txn_type: i32,
    },
    Malformed {
        zxid: i64,
        error: JuteError,
    },
}

/// Decodes one txnEntry (the bytes the log's checksum covers).
pub fn decode_entry(bytes: &[u8]) -> Result<TxnEntry, TxnDecodeError> {
    let mut r = Reader::new(bytes);
    let header =
        TxnHeader::read(&mut r).map_err(|error| TxnDecodeError::Malformed { zxid: 0, error })?;
    let zxid = header.zxid;
    let txn = decode_body(header.txn_type, &mut r, zxid)?;
    // An entry without room for a digest simply has none (older logs).
    let digest = TxnDigest::read(&mut r).ok();
    Ok(TxnEntry {
        header,
        txn,
        digest,
    })
}

fn malformed(zxid: i64) -> impl Fn(JuteError) -> TxnDecodeError {
    move |error| TxnDecodeError::Malformed { zxid, error }
}

fn decode_body(txn_type: i32, r: &mut Reader<'_>, zxid: i64) -> Result<ZkTxn, TxnDecodeError> {
    let m = malformed(zxid);
    Ok(match txn_type {
        op::CREATE_SESSION => ZkTxn::CreateSession {
            timeout: CreateSessionTxn::read(r).map_err(m)?.time_out,
        },
        op::CLOSE_SESSION => ZkTxn::CloseSession {
            // Before 3.6 the body was empty.
            paths: CloseSessionTxn::read(r).ok().map(|t| t.paths_to_delete),
        },
        op::CREATE | op::CREATE2 => ZkTxn::Create(decode_create(txn_type, r).map_err(m)?),
        op::CREATE_TTL => {
            let t = CreateTtlTxn::read(r).map_err(m)?;
            ZkTxn::Create(Create {
                op: txn_type,
                path: t.path,
                data: t.data,
                acl: t.acl,
                owner: Owner::Ttl(t.ttl),
                parent_cversion: t.parent_cversion,
            })
        }
        op::CREATE_CONTAINER => {
            let t = CreateContainerTxn::read(r).map_err(m)?;
            ZkTxn::Create(Create {
                op: txn_type,
                path: t.path,
                data: t.data,
                acl: t.acl,
                owner: Owner::Container,
                parent_cversion: t.parent_cversion,
            })
        }
        op::DELETE | op::DELETE_CONTAINER => ZkTxn::Delete {
            path: DeleteTxn::read(r).map_err(m)?.path,
        },
        op::SET_DATA | op::RECONFIG => {
            let t = SetDataTxn::read(r).map_err(m)?;
            ZkTxn::SetData {
                path: t.path,
                data: t.data,
                version: t.version,
            }
        }
        op::SET_ACL => {
            let t = SetAclTxn::read(r).map_err(m)?;
            ZkTxn::SetAcl {
                path: t.path,
                acl: t.acl,
                version: t.version,
            }
        }
        op::ERROR => ZkTxn::Error {
            err: ErrorTxn::read(r).map_err(m)?.err,
        },
        op::MULTI => decode_multi(r, zxid)?,
        _ => return Err(TxnDecodeError::UnknownType { zxid, txn_type }),
    })
}

/// create and create2 share CreateTxn; a plain create that ends early is the V0
/// form, whose parent cversion replay works out itself.
fn decode_create(txn_type: i32, r: &mut Reader<'_>) -> Result<Create, JuteError> {
    let start = r.clone();
    let (path, data, acl, ephemeral, parent_cversion) = match CreateTxn::read(r) {
        Ok(t) => (t.path, t.data, t.acl, t.ephemeral, t.parent_cversion),
        Err(JuteError::Truncated { .. }) if txn_type == op::CREATE => {
            *r = start;
            let t = CreateTxnV0::read(r)?;
            (t.path, t.data, t.acl, t.ephemeral, -1)
        }
        Err(e) => return Err(e),
    };
    Ok(Create {
        op: txn_type,
        path,
        data,
        acl,
        owner: if ephemeral {
            Owner::Ephemeral
        } else {
            Owner::Persistent
        },
        parent_cversion,
    })
}

/// The operations of a multi, each decoded by its type as `DataTree.processTxn`
/// does. When one is an error, none applies, so their bodies are not needed.
fn decode_multi(r: &mut Reader<'_>, zxid: i64) -> Result<ZkTxn, TxnDecodeError> {
    let multi = MultiTxn::read(r).map_err(malformed(zxid))?;
    if multi.txns.iter().any(|t| t.txn_type == op::ERROR) {
        return Ok(ZkTxn::Multi(Vec::new()));
    }
    let mut ops = Vec::with_capacity(multi.txns.len());
    for sub in &multi.txns {
        let allowed = matches!(
            sub.txn_type,
            op::CREATE
                | op::CREATE2
                | op::CREATE_TTL
                | op::CREATE_CONTAINER
                | op::DELETE
                | op::DELETE_CONTAINER
                | op::SET_DATA
                | op::CHECK
        );
        if !allowed {
            return Err(TxnDecodeError::UnknownType {
                zxid,
                txn_type: sub.txn_type,
            });
        }
        let mut sr = Reader::new(&sub.data);
        let txn = if sub.txn_type == op::CHECK {
            ZkTxn::Check {
                path: CheckVersionTxn::read(&mut sr)
                    .map_err(malformed(zxid))?
                    .path,
            }
        } else {
            decode_body(sub.txn_type, &mut sr, zxid)?
        };
        ops.push(txn);
    }
    Ok(ZkTxn::Multi(ops))
}
