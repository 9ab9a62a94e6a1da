//! Entry points for the fuzz targets (`fuzz/` and `crates/fuzz-targets`): each takes
//! untrusted bytes and runs on them the decoder the server runs on a client's frames
//! or on an operator's files. Not an API; hidden from the docs.

use std::path::PathBuf;

use corral_jute::records::{
    AddWatchRequest, AuthPacket, ConnectRequest, PathRequest, PathWatchRequest, RequestHeader,
    SaslToken, SetWatches, SetWatches2, WatchesRequest,
};
use corral_jute::{Jute, JuteError, OpCode};

use crate::config::{parse_jaas, Config};
use crate::request::{read, write};

/// A connection's first frame, as the handshake reads it. Says whether it decoded.
pub fn connect_request(body: &[u8]) -> bool {
    let decoded = ConnectRequest::decode(body);
    if let Ok(request) = &decoded {
        round_trip(request);
    }
    decoded.is_ok()
}

/// A request frame's body after the handshake: its header, then the record its
/// opcode names, decoded as `request::dispatch` and the handlers decode it. Says
/// whether it decoded.
pub fn client_request(body: &[u8]) -> bool {
    let Ok(header) = RequestHeader::from_bytes(body) else {
        return false;
    };
    let body = &body[RequestHeader::MIN_WIRE_SIZE..];
    let Some(op) = OpCode::from_i32(header.op) else {
        return false;
    };
    if op.is_write() {
        return write::decode(op, body).is_ok();
    }
    decode_other(op, body).is_ok()
}

fn decode_other(op: OpCode, body: &[u8]) -> Result<(), JuteError> {
    match op {
        OpCode::Exists | OpCode::GetData | OpCode::GetChildren | OpCode::GetChildren2 => {
            round_trip(&PathWatchRequest::from_bytes(body)?)
        }
        OpCode::GetAcl | OpCode::Sync | OpCode::GetEphemerals | OpCode::GetAllChildrenNumber => {
            round_trip(&PathRequest::from_bytes(body)?)
        }
        OpCode::AddWatch => round_trip(&AddWatchRequest::from_bytes(body)?),
        OpCode::CheckWatches | OpCode::RemoveWatches => {
            round_trip(&WatchesRequest::from_bytes(body)?)
        }
        OpCode::SetWatches => round_trip(&SetWatches::from_bytes(body)?),
        OpCode::SetWatches2 => round_trip(&SetWatches2::from_bytes(body)?),
        OpCode::Auth => round_trip(&AuthPacket::from_bytes(body)?),
        OpCode::Sasl => {
            let token = SaslToken::from_bytes(body)?;
            let _ = corral_sasl::token::parse(&token.token);
            round_trip(&token)
        }
        OpCode::MultiRead => {
            read::decode_multi_read(body)?;
        }
        _ => {}
    }
    Ok(())
}

/// A record that decodes encodes to bytes that decode to the same record.
fn round_trip<T: Jute + PartialEq + std::fmt::Debug>(record: &T) {
    let back = T::from_bytes(&record.to_bytes());
    assert_eq!(
        back.as_ref().ok(),
        Some(record),
        "a record changed in a round trip"
    );
}

/// A zoo.cfg, read as the server reads it at start (from a file, since that is the
/// only way it reads one). The file is this process's own, under the temp dir.
pub fn zoo_cfg(text: &[u8]) -> bool {
    let path = scratch_file("zoo.cfg");
    std::fs::write(&path, text).is_ok() && Config::load(&path).is_ok()
}

/// A JAAS login configuration file's text.
pub fn jaas(text: &[u8]) -> bool {
    std::str::from_utf8(text).is_ok_and(|text| parse_jaas(text).is_ok())
}

fn scratch_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("corral-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}
