//! SASL DIGEST-MD5 (RFC 2831), the server side, as ZooKeeper's clients use it: `token`
//! parses the client's directive list; `digest` is the mechanism, a state machine that
//! turns each client token into the server's answer or an outcome. The request layer
//! drives it; nothing here does I/O.

pub mod digest;
pub mod token;
