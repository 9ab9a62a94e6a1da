//! The DIGEST-MD5 directive list (RFC 2831 section 7.1): `name=value` or
//! `name="quoted value"`, separated by commas, with optional white space. The parser
//! never panics and allocates no more than the token holds, plus a list of at most
//! [`MAX_DIRECTIVES`] entries: each name and value is one exact-size copy of its bytes.

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
    #[error("more than {MAX_DIRECTIVES} directives")]
    TooMany,
}

/// A DIGEST-MD5 response has a dozen directives; more is not a client's.
const MAX_DIRECTIVES: usize = 32;

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

/// A quoted string's value, starting after its opening quote, and where the text
/// after its closing quote starts. A first pass finds the end and the unescaped length,
/// so the value is allocated once at its exact size. A backslash may escape only an
/// ASCII byte, so removing it leaves valid UTF-8 (UTF-8's multi-byte sequences contain
/// no byte below 0x80, so neither a quote nor a backslash can hide inside one).
fn quoted(bytes: &[u8], start: usize) -> Result<(String, usize), TokenError> {
    let mut i = start;
    let mut escapes = 0;
    let end = loop {
        match bytes.get(i) {
            None => return Err(TokenError::Unterminated),
            Some(b'"') => break i,
            Some(b'\\') => match bytes.get(i + 1) {
                Some(next) if next.is_ascii() => {
                    escapes += 1;
                    i += 2;
                }
                _ => return Err(TokenError::Malformed(i)),
            },
            Some(_) => i += 1,
        }
    };
    let mut value = Vec::with_capacity(end - start - escapes);
    let mut j = start;
    while j < end {
        if bytes[j] == b'\\' {
            j += 1;
        }
        value.push(bytes[j]);
        j += 1;
    }
    let value = String::from_utf8(value).map_err(|_| TokenError::NotUtf8)?;
    Ok((value, end + 1))
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
            let (value, next) = quoted(bytes, i + 1)?;
            i = next;
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
        if out.len() == MAX_DIRECTIVES {
            return Err(TokenError::TooMany);
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
        let many: Vec<u8> = (0..40)
            .flat_map(|n| format!("k{n}=v,").into_bytes())
            .collect();
        assert_eq!(parse(&many), Err(TokenError::TooMany));
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

    #[test]
    fn random_tokens_never_panic_and_values_fit_in_the_token() {
        // A fixed xorshift sequence over the bytes that matter to the grammar.
        let alphabet = b"a=\",\\ \t\xc3\xb8\xff1";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut token = Vec::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                token.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if let Ok(d) = parse(&token) {
                let held: usize = d.0.iter().map(|(n, v)| n.capacity() + v.capacity()).sum();
                assert!(held <= token.len(), "{token:?}");
            }
        }
    }
}
