//! Entry points for the fuzz targets (`fuzz/` and `crates/fuzz-targets`): each takes
//! untrusted bytes and runs on them the decoder this crate runs on a peer's frames
//! or on the log's records. Not an API; hidden from the docs.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::peer::wire::{encode, read_frame, PeerRequest, PeerResponse, HELLO_MAX, MAX_FRAME};
use crate::record;

/// The frames a peer sends on a connection to this server's quorum port, read as
/// `peer::serve` reads them: a first frame within `HELLO_MAX`, then frames within
/// `MAX_FRAME`, until one fails to decode. Says whether every frame decoded.
pub fn peer_requests(data: &[u8]) -> bool {
    read_all::<PeerRequest>(data, HELLO_MAX)
}

/// The frames a peer answers with, read as `peer::raft_client` and `forward` read them.
/// Says whether every frame decoded.
pub fn peer_responses(data: &[u8]) -> bool {
    read_all::<PeerResponse>(data, MAX_FRAME)
}

/// Reads frames (the first within `first_limit`) until the bytes end or one does not
/// decode; each frame that decodes must encode again.
fn read_all<T: for<'de> serde::Deserialize<'de> + serde::Serialize>(
    data: &[u8],
    first_limit: u32,
) -> bool {
    let mut rest = data;
    let mut limit = first_limit;
    loop {
        match read_one::<T>(&mut rest, limit) {
            None => return true,
            Some(Err(_)) => return false,
            Some(Ok(frame)) => {
                assert!(encode(&frame).is_ok(), "a decoded peer frame must encode");
                limit = MAX_FRAME;
            }
        }
    }
}

/// One record of the Raft log, as recovery decodes it; one that decodes re-encodes
/// to a record that decodes to the same entry. Says whether it decoded.
pub fn log_record(data: &[u8]) -> bool {
    let Ok(entry) = record::decode_entry(data) else {
        return false;
    };
    let again = record::encode_entry(&entry).expect("a decoded entry encodes");
    let back = record::decode_entry(&again).expect("an encoded entry decodes");
    assert_eq!(format!("{entry:?}"), format!("{back:?}"));
    true
}

/// `read_frame` over a slice: a slice never waits, so one poll finishes it. `None` once
/// the slice is used up.
fn read_one<T: for<'de> serde::Deserialize<'de>>(
    rest: &mut &[u8],
    limit: u32,
) -> Option<std::io::Result<T>> {
    if rest.is_empty() {
        return None;
    }
    let mut future = pin!(read_frame::<T, _>(rest, limit));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => Some(result),
        Poll::Pending => panic!("reading a frame from a slice waited"),
    }
}
