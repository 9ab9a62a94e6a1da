//! The DIGEST-MD5 directive list (RFC 2831 section 7.1): `name=value` or
//! `name="quoted value"`, separated by commas, with optional white space. The parser
//! never panics and allocates no more than the token holds: each name and value is a
//! copy of bytes of the token, and the list has at most one entry per comma.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("directive {0:?} appears more than once")]
    Repeated(String),
    #[error("malformed directive list at byte {0}")]
    Malformed(usize),
    #[error("a quoted value is not closed")]
    Unterminated,
    #[error("the token is not UTF-8")]
    NotUtf8,
}

/// The directives in the order given. Names are compared case-insensitively, as the RFC says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Directives(Vec<(String, String)>);

impl Directives {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

pub fn parse(token: &[u8]) -> Result<Directives, TokenError> {
    let text = std::str::from_utf8(token).map_err(|_| TokenError::NotUtf8)?;
    let bytes = text.as_bytes();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    let skip_lws = |i: &mut usize| {
        while *i < bytes.len() && is_lws(bytes[*i]) {
            *i += 1;
        }
    };
    loop {
        skip_lws(&mut i);
        if i == bytes.len() {
            return Ok(Directives(out));
        }
        // An empty element (",,") is allowed by the RFC's #rule.
        if bytes[i] == b',' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token_char(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(TokenError::Malformed(i));
        }
        let name = &text[start..i];
        skip_lws(&mut i);
        if bytes.get(i) != Some(&b'=') {
            return Err(TokenError::Malformed(i));
        }
        i += 1;
        skip_lws(&mut i);
        let value = if bytes.get(i) == Some(&b'"') {
            i += 1;
            let mut value = String::new();
            let mut closed = false;
            while let Some(&b) = bytes.get(i) {
                i += 1;
                match b {
                    b'"' => {
                        closed = true;
                        break;
                    }
                    b'\\' => match bytes.get(i) {
                        Some(&next) if next.is_ascii() => {
                            value.push(char::from(next));
                            i += 1;
                        }
                        _ => return Err(TokenError::Malformed(i)),
                    },
                    _ => {
                        // Copy a whole UTF-8 character: `i - 1` starts one (the text is
                        // valid UTF-8 and every byte so far ended a character).
                        let ch_len = text[i - 1..].chars().next().map_or(1, char::len_utf8);
                        value.push_str(&text[i - 1..i - 1 + ch_len]);
                        i += ch_len - 1;
                    }
                }
            }
            if !closed {
                return Err(TokenError::Unterminated);
            }
            value
        } else {
            let start = i;
            while i < bytes.len() && is_token_char(bytes[i]) {
                i += 1;
            }
            text[start..i].to_string()
        };
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(TokenError::Repeated(name.to_string()));
        }
        out.push((name.to_string(), value));
        skip_lws(&mut i);
        match bytes.get(i) {
            None => return Ok(Directives(out)),
            Some(b',') => i += 1,
            Some(_) => return Err(TokenError::Malformed(i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_and_plain_values() {
        let d = parse(br#"username="bob",realm="zk-sasl-md5", nc=00000001 ,qop=auth,x="a\"b\\c""#);
        let d = d.unwrap_or_default();
        assert_eq!(d.get("username"), Some("bob"));
        assert_eq!(d.get("REALM"), Some("zk-sasl-md5"));
        assert_eq!(d.get("nc"), Some("00000001"));
        assert_eq!(d.get("qop"), Some("auth"));
        assert_eq!(d.get("x"), Some("a\"b\\c"));
        assert_eq!(d.get("missing"), None);
    }

    #[test]
    fn keeps_utf8_in_quoted_values() {
        let d = parse("username=\"bjørn\"".as_bytes()).unwrap_or_default();
        assert_eq!(d.get("username"), Some("bjørn"));
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let bad: &[&[u8]] = &[
            b"=x",
            b"a",
            b"a=\"open",
            b"a=\"x\\",
            b"a=1 b=2",
            b"a=1,a=2",
            b"A=1,a=2",
            b"\xff\xfe",
            b"a=\"x\"y",
            b"a\"=1",
            b"a=\"\\\xc3\xb8\"",
        ];
        for token in bad {
            assert!(
                parse(token).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(token)
            );
        }
    }

    #[test]
    fn empty_and_sparse_lists_parse() {
        assert_eq!(parse(b""), Ok(Directives::default()));
        assert_eq!(
            parse(b" ,, a=1 ,").map(|d| d.get("a").map(String::from)),
            Ok(Some("1".into()))
        );
    }

    #[test]
    fn every_prefix_of_a_real_token_is_handled() {
        let token = br#"charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="abc",nc=00000001,cnonce="x\"y",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=0123,qop=auth"#;
        for n in 0..=token.len() {
            let _ = parse(&token[..n]);
        }
    }
}
