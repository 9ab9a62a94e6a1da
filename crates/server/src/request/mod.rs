//! One module per kind of request: `write` (everything that goes through the log),
//! `read` (answered from this server's tree), `watches` (addWatch, checkWatches,
//! removeWatches, setWatches), `auth` (addauth, whoAmI, sasl).

pub mod auth;
pub mod read;
pub mod watches;
pub mod write;
