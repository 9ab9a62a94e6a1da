//! The client-protocol records of `zookeeper.jute`, field for field.

use bytes::Bytes;

use crate::record;

record! {
    /// The header of every request after the handshake.
    pub struct RequestHeader { pub xid: i32, pub op: i32 }
}

record! {
    pub struct ReplyHeader { pub xid: i32, pub zxid: i64, pub err: i32 }
}

record! {
    /// The handshake; `read_only` is absent in old clients (see `ConnectRequest::decode`).
    pub struct ConnectRequest {
        pub protocol_version: i32,
        pub last_zxid_seen: i64,
        pub timeout: i32,
        pub session_id: i64,
        pub passwd: Bytes,
        pub read_only: bool,
    }
}

impl ConnectRequest {
    /// Accepts both the 3.9 form and the older one without the trailing readOnly byte.
    pub fn decode(buf: &[u8]) -> Result<Self, crate::codec::JuteError> {
        use crate::codec::{Jute, Reader};
        let mut r = Reader::new(buf);
        let mut req = ConnectRequest {
            protocol_version: i32::read(&mut r)?,
            last_zxid_seen: i64::read(&mut r)?,
            timeout: i32::read(&mut r)?,
            session_id: i64::read(&mut r)?,
            passwd: Bytes::read(&mut r)?,
            read_only: false,
        };
        if r.remaining() > 0 {
            req.read_only = bool::read(&mut r)?;
        }
        Ok(req)
    }
}

record! {
    pub struct ConnectResponse {
        pub protocol_version: i32,
        pub timeout: i32,
        pub session_id: i64,
        pub passwd: Bytes,
        pub read_only: bool,
    }
}

record! {
    pub struct Id { pub scheme: String, pub id: String }
}

record! {
    pub struct Acl { pub perms: i32, pub id: Id }
}

record! {
    pub struct Stat {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub data_length: i32,
        pub num_children: i32,
        pub pzxid: i64,
    }
}

record! {
    /// create (1), create2 (15) and createContainer (19).
    pub struct CreateRequest { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub flags: i32 }
}

record! {
    pub struct CreateTtlRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub flags: i32,
        pub ttl: i64,
    }
}

record! {
    pub struct CreateResponse { pub path: String }
}

record! {
    pub struct Create2Response { pub path: String, pub stat: Stat }
}

record! {
    /// delete (2) and deleteContainer (20).
    pub struct DeleteRequest { pub path: String, pub version: i32 }
}

record! {
    /// exists (3), getData (4), getChildren (8) and getChildren2 (12).
    pub struct PathWatchRequest { pub path: String, pub watch: bool }
}

record! {
    pub struct StatResponse { pub stat: Stat }
}

record! {
    pub struct GetDataResponse { pub data: Option<Bytes>, pub stat: Stat }
}

record! {
    pub struct SetDataRequest { pub path: String, pub data: Option<Bytes>, pub version: i32 }
}

record! {
    /// getACL (6), sync (9), getAllChildrenNumber (104), getEphemerals (103) and the
    /// sync response: every record that is a single path.
    pub struct PathRequest { pub path: String }
}

record! {
    pub struct GetAclResponse { pub acl: Vec<Acl>, pub stat: Stat }
}

record! {
    pub struct SetAclRequest { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
}

record! {
    pub struct GetChildrenResponse { pub children: Vec<String> }
}

record! {
    pub struct GetChildren2Response { pub children: Vec<String>, pub stat: Stat }
}

record! {
    pub struct CheckVersionRequest { pub path: String, pub version: i32 }
}

record! {
    pub struct ReconfigRequest {
        pub joining_servers: String,
        pub leaving_servers: String,
        pub new_members: String,
        pub cur_config_id: i64,
    }
}

record! {
    /// checkWatches (17) and removeWatches (18).
    pub struct WatchesRequest { pub path: String, pub watcher_type: i32 }
}

record! {
    pub struct AuthPacket { pub auth_type: i32, pub scheme: String, pub auth: Bytes }
}

record! {
    pub struct SetWatches {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
}

record! {
    pub struct SetWatches2 {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>,
        pub persistent_recursive_watches: Vec<String>,
    }
}

record! {
    pub struct SaslToken { pub token: Bytes }
}

record! {
    pub struct GetEphemeralsResponse { pub ephemerals: Vec<String> }
}

record! {
    pub struct GetAllChildrenNumberResponse { pub total_number: i32 }
}

record! {
    pub struct AddWatchRequest { pub path: String, pub mode: i32 }
}

record! {
    pub struct ClientInfo { pub auth_scheme: String, pub user: String }
}

record! {
    pub struct WhoAmIResponse { pub client_info: Vec<ClientInfo> }
}

record! {
    pub struct WatcherEvent { pub event_type: i32, pub state: i32, pub path: String }
}

record! {
    pub struct ErrorResponse { pub err: i32 }
}

/// Watch event types (`Watcher.Event.EventType`).
pub mod event_type {
    pub const NONE: i32 = -1;
    pub const NODE_CREATED: i32 = 1;
    pub const NODE_DELETED: i32 = 2;
    pub const NODE_DATA_CHANGED: i32 = 3;
    pub const NODE_CHILDREN_CHANGED: i32 = 4;
}

/// Keeper states (`Watcher.Event.KeeperState`).
pub mod keeper_state {
    pub const SYNC_CONNECTED: i32 = 3;
    pub const CONNECTED_READ_ONLY: i32 = 5;
    pub const EXPIRED: i32 = -112;
}

/// ACL permission bits (`ZooDefs.Perms`).
pub mod perms {
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = 31;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Jute;

    #[test]
    fn connect_request_accepts_both_lengths() {
        let full = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 5,
            timeout: 30000,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: true,
        }
        .to_bytes();
        assert_eq!(full.len(), 45);
        assert!(ConnectRequest::decode(&full)
            .map(|r| r.read_only)
            .unwrap_or(false));
        let old = ConnectRequest::decode(&full[..44]);
        assert_eq!(old.map(|r| (r.timeout, r.read_only)), Ok((30000, false)));
    }

    #[test]
    fn stat_is_68_bytes() {
        assert_eq!(Stat::default().to_bytes().len(), 68);
    }

    /// A record's default value is each field at its shortest (empty strings and
    /// vectors, null data), so its encoding is the least the record can take. A
    /// `MIN_WIRE_SIZE` above that would refuse valid vectors.
    fn min_wire_size_is_exact<T: Jute + Default>() -> usize {
        assert_eq!(
            T::MIN_WIRE_SIZE,
            T::default().to_bytes().len(),
            "{}",
            std::any::type_name::<T>()
        );
        T::MIN_WIRE_SIZE
    }

    #[test]
    fn min_wire_sizes_are_the_shortest_encodings() {
        assert_eq!(min_wire_size_is_exact::<Stat>(), 68);
        assert_eq!(min_wire_size_is_exact::<Acl>(), 12);
        min_wire_size_is_exact::<ClientInfo>();
        min_wire_size_is_exact::<CreateRequest>();
        min_wire_size_is_exact::<CreateTtlRequest>();
        min_wire_size_is_exact::<SetAclRequest>();
        min_wire_size_is_exact::<SetWatches2>();
        min_wire_size_is_exact::<GetAclResponse>();
        min_wire_size_is_exact::<ConnectResponse>();
        min_wire_size_is_exact::<crate::multi::MultiHeader>();
    }

    /// What a vector of each element type the protocol has may reserve per byte
    /// received: its size in memory over its least size on the wire.
    #[test]
    fn vector_elements_amplify_less_than_eight_times() {
        fn ratio<T: Jute>() -> usize {
            std::mem::size_of::<T>().div_ceil(T::MIN_WIRE_SIZE)
        }
        for (name, r) in [
            ("Acl", ratio::<Acl>()),
            ("String", ratio::<String>()),
            ("ClientInfo", ratio::<ClientInfo>()),
            ("Vec<Acl>", ratio::<Vec<Acl>>()),
        ] {
            assert!(r < 8, "{name} reserves {r} bytes per byte received");
        }
    }
}
