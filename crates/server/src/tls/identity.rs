//! A client certificate's subject as ZooKeeper names it: `X500Principal.getName()`,
//! RFC 2253, which writes the relative distinguished names in the reverse of their
//! DER order (`CN=alice,OU=eng,O=corp` for a subject written O, OU, CN). Attributes
//! without an RFC 2253 keyword are written as `OID=#hex` of their DER, as Java does.

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::Certificate;

/// The keywords RFC 2253 (and Java's RFC 2253 output) knows.
fn keyword(oid: &ObjectIdentifier) -> Option<&'static str> {
    Some(match oid.to_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// RFC 2253 section 2.4 escaping.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (c == '#' && i == 0)
            || edge_space
        {
            out.push('\\');
        }
        out.push(c);
    }
}

fn hex(bytes: &[u8], out: &mut String) {
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
}

/// The subject DN of a DER certificate in RFC 2253 form; `None` if it does not parse
/// (rustls has already verified it, so that would be a certificate rustls reads and
/// this parser does not).
pub fn subject_dn(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let mut out = String::new();
    for (i, rdn) in cert.tbs_certificate.subject.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let text = matches!(
                atv.value.tag(),
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString
            );
            match keyword(&atv.oid) {
                Some(name) if text => {
                    out.push_str(name);
                    out.push('=');
                    escape(&String::from_utf8_lossy(atv.value.value()), &mut out);
                }
                _ => {
                    out.push_str(&atv.oid.to_string());
                    out.push_str("=#");
                    hex(&atv.value.to_der().ok()?, &mut out);
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_rfc_2253_says() {
        let mut out = String::new();
        escape(" a,b+c#", &mut out);
        assert_eq!(out, "\\ a\\,b\\+c#");
        let mut out = String::new();
        escape("#x ", &mut out);
        assert_eq!(out, "\\#x\\ ");
    }

    #[test]
    fn garbage_is_no_subject() {
        assert_eq!(subject_dn(b"not a certificate"), None);
    }
}
