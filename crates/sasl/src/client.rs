//! The DIGEST-MD5 client (RFC 2831), as Java's client answers a ZooKeeper server: no
//! initial response (the first token it sends is empty), then a digest response to
//! the server's challenge, and a check of the server's `rspauth`, which proves the
//! server knew the password too. A member uses it to authenticate to another with
//! the QuorumLearner section's username and password.

use crate::digest::{same, Keys, Service};
use crate::token;

/// What to do after one server token.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientStep {
    /// Send this token and wait for the server's next.
    Continue(Vec<u8>),
    /// The server proved it knows the password: authenticated both ways.
    Done,
    /// Give up, for the reason given.
    Failure(String),
}

enum State {
    Start,
    Answered { expected_rspauth: String },
    Finished,
}

pub struct DigestClient {
    service: Service,
    user: String,
    password: String,
    cnonce: String,
    state: State,
}

impl DigestClient {
    /// `cnonce` must be fresh and unpredictable for each exchange.
    pub fn new(service: Service, user: &str, password: &str, cnonce: String) -> DigestClient {
        DigestClient {
            service,
            user: user.to_string(),
            password: password.to_string(),
            cnonce,
            state: State::Start,
        }
    }

    /// The first token: DIGEST-MD5 has no initial response.
    pub fn initial(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes one server token: the challenge, then the `rspauth`.
    pub fn step(&mut self, token: &[u8]) -> ClientStep {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Start => self.answer(token),
            State::Answered { expected_rspauth } => {
                let rspauth = token::parse(token)
                    .ok()
                    .and_then(|d| d.get("rspauth").map(str::to_string));
                match rspauth {
                    Some(r) if same(r.as_bytes(), expected_rspauth.as_bytes()) => ClientStep::Done,
                    Some(_) => ClientStep::Failure("the server's rspauth is wrong".into()),
                    None => ClientStep::Failure("the server sent no rspauth".into()),
                }
            }
            State::Finished => ClientStep::Failure("the DIGEST-MD5 exchange is over".into()),
        }
    }

    fn answer(&mut self, challenge: &[u8]) -> ClientStep {
        let d = match token::parse(challenge) {
            Ok(d) => d,
            Err(e) => return ClientStep::Failure(format!("unreadable challenge: {e}")),
        };
        let Some(nonce) = d.get("nonce") else {
            return ClientStep::Failure("the challenge has no nonce".into());
        };
        let offered = d.get("qop").unwrap_or("auth");
        if !offered.split(',').any(|q| q.trim() == "auth") {
            return ClientStep::Failure(format!("qop {offered:?} does not offer auth"));
        }
        if d.get("algorithm") != Some("md5-sess") {
            return ClientStep::Failure("the challenge's algorithm is not md5-sess".into());
        }
        let realm = d.get("realm").unwrap_or("");
        let uri = self.service.digest_uri();
        let key = Keys {
            user: &self.user,
            realm,
            password: &self.password,
            nonce,
            cnonce: &self.cnonce,
            authzid: None,
            nc: "00000001",
            digest_uri: &uri,
        };
        let response = format!(
            "charset=utf-8,username=\"{}\",realm=\"{}\",nonce=\"{}\",nc=00000001,cnonce=\"{}\",\
             digest-uri=\"{uri}\",maxbuf=65536,response={},qop=auth",
            quote(&self.user),
            quote(realm),
            quote(nonce),
            quote(&self.cnonce),
            key.response("AUTHENTICATE:")
        );
        self.state = State::Answered {
            expected_rspauth: key.response(":"),
        };
        ClientStep::Continue(response.into_bytes())
    }
}

/// A quoted-string's escapes (RFC 2831 section 7.2).
fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{DigestServer, Step};

    fn users(name: &str) -> Option<String> {
        (name == "learner").then(|| "s3cret".to_string())
    }

    /// Runs a whole exchange; the server's outcome and the client's.
    fn exchange(service: (Service, Service), password: &str) -> (Option<String>, ClientStep) {
        let mut client = DigestClient::new(service.0, "learner", password, "cn0nce".into());
        let mut server = DigestServer::new(service.1, "n0nce".into());
        let Step::Continue(challenge) = server.step(&client.initial(), users) else {
            return (None, ClientStep::Failure("no challenge".into()));
        };
        let ClientStep::Continue(response) = client.step(&challenge) else {
            return (None, ClientStep::Failure("no response".into()));
        };
        match server.step(&response, users) {
            Step::Success { user, token } => (Some(user), client.step(&token)),
            Step::Failure(why) => (None, ClientStep::Failure(why)),
            Step::Continue(_) => (None, ClientStep::Failure("a third round".into())),
        }
    }

    #[test]
    fn client_and_server_agree_on_the_quorum_service() {
        let (user, outcome) = exchange((Service::QUORUM, Service::QUORUM), "s3cret");
        assert_eq!(
            (user.as_deref(), outcome),
            (Some("learner"), ClientStep::Done)
        );
    }

    #[test]
    fn a_wrong_password_or_another_service_fails() {
        let (user, _) = exchange((Service::QUORUM, Service::QUORUM), "wrong");
        assert_eq!(user, None);
        let (user, _) = exchange((Service::CLIENT, Service::QUORUM), "s3cret");
        assert_eq!(user, None);
    }

    #[test]
    fn a_forged_rspauth_and_bad_challenges_fail() {
        let mut client = DigestClient::new(Service::QUORUM, "learner", "s3cret", "c".into());
        let challenge = b"realm=\"zk-quorum-sasl-md5\",nonce=\"n\",qop=\"auth\",algorithm=md5-sess";
        assert!(matches!(client.step(challenge), ClientStep::Continue(_)));
        let forged = client.step(b"rspauth=00000000000000000000000000000000");
        assert!(matches!(forged, ClientStep::Failure(_)), "{forged:?}");
        for bad in [
            &b"nonce=\"n\",qop=\"auth-int\",algorithm=md5-sess"[..],
            b"qop=\"auth\",algorithm=md5-sess",
            b"nonce=\"n\",qop=\"auth\"",
            b"\"",
        ] {
            let mut client = DigestClient::new(Service::QUORUM, "learner", "s3cret", "c".into());
            assert!(matches!(client.step(bad), ClientStep::Failure(_)));
        }
    }
}
