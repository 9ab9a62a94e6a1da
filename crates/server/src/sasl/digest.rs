//! The DIGEST-MD5 server (RFC 2831) with ZooKeeper's parameters: protocol "zookeeper",
//! realm "zk-sasl-md5", qop "auth" only (no integrity or privacy layer), algorithm
//! md5-sess. Two rounds: an empty client token gets the challenge; the client's digest
//! response gets `rspauth`, which proves the server knew the password too.
//!
//! [`DigestServer`] is a state machine: bytes in, an [`Step`] out. It never sees a
//! socket; the request layer sends what it returns.

use md5::{Digest, Md5};

use super::token;

pub const REALM: &str = "zk-sasl-md5";
pub const DIGEST_URI: &str = "zookeeper/zk-sasl-md5";

/// What to do after one client token.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this token and wait for the client's next.
    Continue(Vec<u8>),
    /// Authenticated as `user`: send this last token.
    Success { user: String, token: Vec<u8> },
    /// Refused, for the reason given (for the log, never for the client).
    Failure(String),
}

enum State {
    Start,
    Challenged { nonce: String },
    Finished,
}

pub struct DigestServer {
    state: State,
    nonce: String,
}

impl DigestServer {
    /// `nonce` must be fresh and unpredictable for each exchange.
    pub fn new(nonce: String) -> DigestServer {
        DigestServer {
            state: State::Start,
            nonce,
        }
    }

    /// Takes one client token. `password_of` looks a user's password up.
    pub fn step(&mut self, token: &[u8], password_of: impl Fn(&str) -> Option<String>) -> Step {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start if token.is_empty() => {
                let nonce = self.nonce.clone();
                let challenge = format!(
                    "realm=\"{REALM}\",nonce=\"{nonce}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess"
                );
                self.state = State::Challenged { nonce };
                Step::Continue(challenge.into_bytes())
            }
            State::Start => Step::Failure("the first DIGEST-MD5 token must be empty".into()),
            State::Challenged { nonce } => check_response(token, &nonce, password_of),
            State::Finished => Step::Failure("the DIGEST-MD5 exchange is already over".into()),
        }
    }
}

fn check_response(token: &[u8], nonce: &str, password_of: impl Fn(&str) -> Option<String>) -> Step {
    let d = match token::parse(token) {
        Ok(d) => d,
        Err(e) => return Step::Failure(format!("unreadable DIGEST-MD5 response: {e}")),
    };
    let field = |name: &str| d.get(name).ok_or_else(|| format!("{name} is missing"));
    let checked = (|| {
        let user = field("username")?;
        let realm = d.get("realm").unwrap_or("");
        if !realm.is_empty() && realm != REALM {
            return Err(format!("realm {realm:?} is not {REALM:?}"));
        }
        if field("nonce")? != nonce {
            return Err("the nonce is not the one sent".into());
        }
        let cnonce = field("cnonce")?;
        let nc = field("nc")?;
        if nc != "00000001" {
            return Err(format!("nonce count {nc:?} is not 00000001"));
        }
        let qop = d.get("qop").unwrap_or("auth");
        if qop != "auth" {
            return Err(format!("qop {qop:?} was not offered"));
        }
        let uri = field("digest-uri")?;
        if uri != DIGEST_URI {
            return Err(format!("digest-uri {uri:?} is not {DIGEST_URI:?}"));
        }
        // The Java client names itself as the authorization id too; another name
        // would be a request to act as someone else, which DIGEST-MD5 users may not.
        let authzid = d.get("authzid");
        if authzid.is_some_and(|a| a != user) {
            return Err(format!("authzid {authzid:?} is not the user {user:?}"));
        }
        let response = field("response")?;
        let Some(password) = password_of(user) else {
            return Err(format!("no such user {user:?}"));
        };
        let key = Keys {
            user,
            realm,
            password: &password,
            nonce,
            cnonce,
            authzid,
            nc,
        };
        if !same(
            key.response("AUTHENTICATE:").as_bytes(),
            response.as_bytes(),
        ) {
            return Err(format!("wrong password for {user:?}"));
        }
        Ok((user.to_string(), key.response(":")))
    })();
    match checked {
        Ok((user, rspauth)) => Step::Success {
            user,
            token: format!("rspauth={rspauth}").into_bytes(),
        },
        Err(reason) => Step::Failure(reason),
    }
}

/// What the response digest is computed from.
struct Keys<'a> {
    user: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    authzid: Option<&'a str>,
    nc: &'a str,
}

impl Keys<'_> {
    /// RFC 2831 2.1.2.1 with qop=auth: `a2_prefix` is "AUTHENTICATE:" for the
    /// client's response and ":" for the server's rspauth.
    fn response(&self, a2_prefix: &str) -> String {
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
        let a2 = hex(&Md5::digest(format!("{a2_prefix}{DIGEST_URI}")));
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time that does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(name: &str) -> Option<String> {
        (name == "bob").then(|| "bobsecret".to_string())
    }

    /// A client's answer, computed the way RFC 2831's client does it.
    fn client_response(nonce: &str, password: &str) -> Vec<u8> {
        let key = Keys {
            user: "bob",
            realm: REALM,
            password,
            nonce,
            cnonce: "c1",
            authzid: None,
            nc: "00000001",
        };
        format!(
            "charset=utf-8,username=\"bob\",realm=\"{REALM}\",nonce=\"{nonce}\",nc=00000001,\
             cnonce=\"c1\",digest-uri=\"{DIGEST_URI}\",maxbuf=65536,response={},qop=auth",
            key.response("AUTHENTICATE:")
        )
        .into_bytes()
    }

    #[test]
    fn rfc_2831_example_digest() {
        // RFC 2831 section 4's example, for imap with qop=auth; the same formula.
        let mut secret = Md5::new();
        secret.update(b"chris:elwood.innosoft.com:secret");
        let mut a1 = Md5::new();
        a1.update(secret.finalize());
        a1.update(b":OA6MG9tEQGm2hh:OA6MHXh6VqTrRk");
        let a2 = hex(&Md5::digest(b"AUTHENTICATE:imap/elwood.innosoft.com"));
        let kd = format!(
            "{}:OA6MG9tEQGm2hh:00000001:OA6MHXh6VqTrRk:auth:{a2}",
            hex(&a1.finalize())
        );
        assert_eq!(hex(&Md5::digest(kd)), "d388dad90d4bbd760a152321f2143af7");
    }

    #[test]
    fn right_password_succeeds_with_rspauth() {
        let mut server = DigestServer::new("n0nce".into());
        let Step::Continue(challenge) = server.step(b"", users) else {
            panic!("no challenge");
        };
        let text = String::from_utf8_lossy(&challenge).to_string();
        assert!(text.contains("nonce=\"n0nce\"") && text.contains("algorithm=md5-sess"));
        match server.step(&client_response("n0nce", "bobsecret"), users) {
            Step::Success { user, token } => {
                assert_eq!(user, "bob");
                assert!(token.starts_with(b"rspauth="));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(server.step(b"", users), Step::Failure(_)));
    }

    #[test]
    fn wrong_password_unknown_user_and_bad_tokens_fail() {
        let cases: Vec<Vec<u8>> = vec![
            client_response("n0nce", "wrong"),
            client_response("other", "bobsecret"),
            client_response("n0nce", "bobsecret").replace_all(b"nc=00000001", b"nc=00000002"),
            client_response("n0nce", "bobsecret").replace_all(b"\"bob\"", b"\"eve\""),
            client_response("n0nce", "bobsecret").replace_all(b"zookeeper/", b"http/"),
            b"username=\"bob\"".to_vec(),
            b"\"".to_vec(),
            b"".to_vec(),
        ];
        for token in cases {
            let mut server = DigestServer::new("n0nce".into());
            let _ = server.step(b"", users);
            let step = server.step(&token, users);
            assert!(matches!(step, Step::Failure(_)), "{step:?}");
        }
        let mut server = DigestServer::new("n0nce".into());
        assert!(matches!(server.step(b"x", users), Step::Failure(_)));
    }

    trait ReplaceAll {
        fn replace_all(self, from: &[u8], to: &[u8]) -> Vec<u8>;
    }

    impl ReplaceAll for Vec<u8> {
        fn replace_all(self, from: &[u8], to: &[u8]) -> Vec<u8> {
            String::from_utf8_lossy(&self)
                .replace(
                    &*String::from_utf8_lossy(from),
                    &String::from_utf8_lossy(to),
                )
                .into_bytes()
        }
    }
}
