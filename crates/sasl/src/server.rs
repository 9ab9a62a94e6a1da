//! The DIGEST-MD5 server (RFC 2831) with ZooKeeper's parameters: the realm and
//! digest-uri of its [`Service`] (for clients, realm "zk-sasl-md5" and digest-uri
//! "zookeeper/zk-sasl-md5"), qop "auth" only (no integrity or privacy layer),
//! algorithm md5-sess. Two rounds: an empty client token gets the challenge; the
//! client's digest response gets `rspauth`, which proves the server knew the password
//! too.
//!
//! [`DigestServer`] is a state machine: bytes in, a [`Step`] out. It never sees a
//! socket; its caller sends what it returns.

use crate::digest::{same, Keys, Service};
use crate::token;

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
    service: Service,
    state: State,
    nonce: String,
}

impl DigestServer {
    /// `nonce` must be fresh and unpredictable for each exchange.
    pub fn new(service: Service, nonce: String) -> DigestServer {
        DigestServer {
            service,
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
                    "realm=\"{}\",nonce=\"{nonce}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess",
                    self.service.realm()
                );
                self.state = State::Challenged { nonce };
                Step::Continue(challenge.into_bytes())
            }
            State::Start => Step::Failure("the first DIGEST-MD5 token must be empty".into()),
            State::Challenged { nonce } => check_response(self.service, token, &nonce, password_of),
            State::Finished => Step::Failure("the DIGEST-MD5 exchange is already over".into()),
        }
    }
}

fn check_response(
    service: Service,
    token: &[u8],
    nonce: &str,
    password_of: impl Fn(&str) -> Option<String>,
) -> Step {
    let (realm_wanted, uri_wanted) = (service.realm(), service.digest_uri());
    let d = match token::parse(token) {
        Ok(d) => d,
        Err(e) => return Step::Failure(format!("unreadable DIGEST-MD5 response: {e}")),
    };
    let field = |name: &str| d.get(name).ok_or_else(|| format!("{name} is missing"));
    let checked = (|| {
        let user = field("username")?;
        let realm = d.get("realm").unwrap_or("");
        if !realm.is_empty() && realm != realm_wanted {
            return Err(format!("realm {realm:?} is not {realm_wanted:?}"));
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
        if uri != uri_wanted {
            return Err(format!("digest-uri {uri:?} is not {uri_wanted:?}"));
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
            digest_uri: uri,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn users(name: &str) -> Option<String> {
        (name == "bob").then(|| "bobsecret".to_string())
    }

    /// A client's answer, computed the way RFC 2831's client does it.
    fn client_response(nonce: &str, password: &str) -> Vec<u8> {
        let uri = Service::CLIENT.digest_uri();
        let key = Keys {
            user: "bob",
            realm: Service::CLIENT.realm(),
            password,
            nonce,
            cnonce: "c1",
            authzid: None,
            nc: "00000001",
            digest_uri: &uri,
        };
        format!(
            "charset=utf-8,username=\"bob\",realm=\"{}\",nonce=\"{nonce}\",nc=00000001,\
             cnonce=\"c1\",digest-uri=\"{uri}\",maxbuf=65536,response={},qop=auth",
            Service::CLIENT.realm(),
            key.response("AUTHENTICATE:")
        )
        .into_bytes()
    }

    #[test]
    fn right_password_succeeds_with_rspauth() {
        let mut server = DigestServer::new(Service::CLIENT, "n0nce".into());
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
            let mut server = DigestServer::new(Service::CLIENT, "n0nce".into());
            let _ = server.step(b"", users);
            let step = server.step(&token, users);
            assert!(matches!(step, Step::Failure(_)), "{step:?}");
        }
        let mut server = DigestServer::new(Service::CLIENT, "n0nce".into());
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
