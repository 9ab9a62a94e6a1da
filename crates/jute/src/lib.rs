//! ZooKeeper's wire protocol, jute, as Corral speaks it.
//!
//! This crate owns the bytes: the primitive encodings (`codec`), every client record of
//! ZooKeeper 3.9's `zookeeper.jute` (`records`), the opcode and error-code numbers
//! (`opcode`, `error`), and the multi-operation framing (`multi`). It knows nothing of
//! trees, sessions or sockets; everything above it imports these types.
//!
//! Modules, each importing only those listed after it: `multi` (uses `records`,
//! `opcode`, `codec`), `records` (uses `codec`), and the leaves `codec`, `opcode`
//! and `error`. `counting_allocator` (feature `test-util`) stands apart: a tool for
//! the tests that bound what decoding allocates.

pub mod codec;
#[cfg(feature = "test-util")]
pub mod counting_allocator;
pub mod error;
pub mod multi;
pub mod opcode;
pub mod records;

pub use codec::{Jute, JuteError, Reader};
pub use error::ErrorCode;
pub use opcode::OpCode;

/// ZooKeeper's default `jute.maxbuffer`: the largest frame a server accepts.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// Reserved xids, as ZooKeeper's `ClientCnxn` uses them.
pub mod xid {
    /// A watch notification, server to client.
    pub const NOTIFICATION: i32 = -1;
    /// A ping.
    pub const PING: i32 = -2;
    /// An auth packet.
    pub const AUTH: i32 = -4;
    /// setWatches on reconnect.
    pub const SET_WATCHES: i32 = -8;
}
