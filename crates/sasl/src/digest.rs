//! What both sides of DIGEST-MD5 compute: the response digest of RFC 2831 section
//! 2.1.2.1 with qop=auth and md5-sess, and the service an exchange speaks for.

use md5::{Digest, Md5};

/// The protocol and server name of an exchange: the realm is the server name, and the
/// digest-uri is `protocol/server name`, as Java's SASL gives ZooKeeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    pub protocol: &'static str,
    pub server_name: &'static str,
}

impl Service {
    /// A client session's SASL on the client port (ZooKeeperSaslServer).
    pub const CLIENT: Service = Service {
        protocol: "zookeeper",
        server_name: "zk-sasl-md5",
    };
    /// A member's SASL on the quorum port (QuorumAuth).
    pub const QUORUM: Service = Service {
        protocol: "zookeeper-quorum",
        server_name: "zk-quorum-sasl-md5",
    };

    pub fn realm(&self) -> &'static str {
        self.server_name
    }

    pub fn digest_uri(&self) -> String {
        format!("{}/{}", self.protocol, self.server_name)
    }
}

/// What the response digest is computed from.
pub(crate) struct Keys<'a> {
    pub user: &'a str,
    pub realm: &'a str,
    pub password: &'a str,
    pub nonce: &'a str,
    pub cnonce: &'a str,
    pub authzid: Option<&'a str>,
    pub nc: &'a str,
    pub digest_uri: &'a str,
}

impl Keys<'_> {
    /// RFC 2831 2.1.2.1 with qop=auth: `a2_prefix` is "AUTHENTICATE:" for the
    /// client's response and ":" for the server's rspauth.
    pub fn response(&self, a2_prefix: &str) -> String {
        let mut secret = Md5::new();
        secret.update(credential_bytes(self.user));
        secret.update(b":");
        secret.update(credential_bytes(self.realm));
        secret.update(b":");
        secret.update(credential_bytes(self.password));
        let mut a1 = Md5::new();
        a1.update(secret.finalize());
        a1.update(format!(":{}:{}", self.nonce, self.cnonce));
        if let Some(authzid) = self.authzid {
            a1.update(format!(":{authzid}"));
        }
        let a2 = hex(&Md5::digest(format!("{a2_prefix}{}", self.digest_uri)));
        let kd = format!(
            "{}:{}:{}:{}:auth:{a2}",
            hex(&a1.finalize()),
            self.nonce,
            self.nc,
            self.cnonce
        );
        hex(&Md5::digest(kd))
    }
}

/// With charset=utf-8, a name or password whose characters all fit ISO 8859-1 is
/// hashed in ISO 8859-1 (RFC 2831 2.1.2.1), as the Java client does.
fn credential_bytes(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) < 256) {
        s.chars().map(|c| c as u32 as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time that does not depend on where the inputs differ.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2831_example_digest() {
        // RFC 2831 section 4's example, for imap with qop=auth; the same formula.
        let key = Keys {
            user: "chris",
            realm: "elwood.innosoft.com",
            password: "secret",
            nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk",
            authzid: None,
            nc: "00000001",
            digest_uri: "imap/elwood.innosoft.com",
        };
        assert_eq!(
            key.response("AUTHENTICATE:"),
            "d388dad90d4bbd760a152321f2143af7"
        );
        assert_eq!(key.response(":"), "ea40f60335c427b5527b84dbabcdfffd");
    }
}
