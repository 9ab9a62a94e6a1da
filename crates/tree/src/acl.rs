//! ACL schemes (world, auth, digest, ip, x509, sasl, super) and the permission check.

use std::net::IpAddr;

use base64::Engine;
use corral_jute::records::{perms, Acl, Id};

/// The identity a connection has authenticated as; `super` bypasses every check.
pub fn is_super(ids: &[Id]) -> bool {
    ids.iter().any(|id| id.scheme == "super")
}

/// Whether `ids` may do `perm` on a node with `acl`. Any bit of `perm` is enough,
/// as ZooKeeper's `checkACL` has it (getACL asks READ|ADMIN).
pub fn allows(acl: &[Acl], ids: &[Id], perm: i32) -> bool {
    if is_super(ids) {
        return true;
    }
    acl.iter().filter(|a| a.perms & perm != 0).any(|a| {
        let scheme = a.id.scheme.as_str();
        if scheme == "world" && a.id.id == "anyone" {
            return true;
        }
        ids.iter()
            .filter(|i| i.scheme == scheme)
            .any(|i| match scheme {
                "ip" => ip_matches(&a.id.id, &i.id),
                _ => a.id.id == i.id,
            })
    })
}

/// The digest id of `user:password`: `user:base64(sha1("user:password"))`.
pub fn digest(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = sha1_smol::Sha1::from(user_password.as_bytes())
        .digest()
        .bytes();
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// The authentication providers beyond ZooKeeper's built-in ones (world, auth, digest,
/// ip) that this ensemble runs, and so the ACL schemes it accepts: ZooKeeper answers
/// InvalidACL for `x509:` without TLS and for `sasl:` without its SASL provider. Part
/// of the rules every replica applies alike, so it is set before the log is replayed
/// and must be the same on every server, as `extendedTypesEnabled` must.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthSchemes {
    /// A TLS client port (secureClientPort or port unification): the x509 provider.
    pub x509: bool,
    /// SASL for clients (a JAAS Server section): the sasl provider.
    pub sasl: bool,
}

impl AuthSchemes {
    /// Both extra providers, for tests and tools that judge no configuration.
    pub const ALL: AuthSchemes = AuthSchemes {
        x509: true,
        sasl: true,
    };
}

/// Checks an ACL list for create and setACL and expands the `auth` scheme into the
/// caller's authenticated ids. `None` means InvalidACL.
pub fn fixup(acl: &[Acl], ids: &[Id], schemes: AuthSchemes) -> Option<Vec<Acl>> {
    if acl.is_empty() {
        return None;
    }
    let mut out: Vec<Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        match a.id.scheme.as_str() {
            "world" if a.id.id == "anyone" => out.push(a.clone()),
            "auth" => {
                let mut found = false;
                // Every authenticated id expands `auth` (ip is not authenticated),
                // as ZooKeeper expands it with the ids of authenticating providers.
                for id in ids
                    .iter()
                    .filter(|i| matches!(i.scheme.as_str(), "digest" | "x509" | "sasl"))
                {
                    found = true;
                    out.push(Acl {
                        perms: a.perms,
                        id: id.clone(),
                    });
                }
                if !found {
                    return None;
                }
            }
            "digest" if a.id.id.split(':').count() == 2 => out.push(a.clone()),
            // X509AuthenticationProvider: any distinguished name; matched exactly.
            "x509" if schemes.x509 && !a.id.id.is_empty() => out.push(a.clone()),
            // A SASL user name; matched exactly, as SASLAuthenticationProvider does.
            "sasl" if schemes.sasl && !a.id.id.is_empty() => out.push(a.clone()),
            // ZooKeeper's IPAuthenticationProvider accepts IPv4 ACLs only.
            "ip" if parse_cidr(&a.id.id).is_some_and(|(ip, _)| ip.is_ipv4()) => out.push(a.clone()),
            _ => return None,
        }
    }
    // ZooKeeper drops exact duplicates after expansion.
    let mut unique: Vec<Acl> = Vec::with_capacity(out.len());
    for a in out {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    Some(unique)
}

fn parse_cidr(spec: &str) -> Option<(IpAddr, u32)> {
    let (addr, bits) = match spec.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (spec, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn ip_matches(spec: &str, client: &str) -> bool {
    let (Some((net, bits)), Ok(client)) = (parse_cidr(spec), client.parse::<IpAddr>()) else {
        return false;
    };
    let (net, client, width) = match (net, client) {
        (IpAddr::V4(n), IpAddr::V4(c)) => (u32::from(n) as u128, u32::from(c) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(c)) => (u128::from(n), u128::from(c), 128),
        _ => return false,
    };
    let full = if width == 128 {
        !0u128
    } else {
        (1u128 << width) - 1
    };
    let mask = if bits == 0 {
        0
    } else {
        (full << (width - bits)) & full
    };
    net & mask == client & mask
}

/// The ACL ZooKeeper gives its own nodes and `OPEN_ACL_UNSAFE`.
pub fn open() -> Vec<Acl> {
    vec![Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

/// `READ_ACL_UNSAFE`, which /zookeeper/config carries.
pub fn read_only() -> Vec<Acl> {
    vec![Acl {
        perms: perms::READ,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    #[test]
    fn digest_matches_zookeeper() {
        // zkCli: DigestAuthenticationProvider.generateDigest("super:test")
        assert_eq!(digest("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    }

    #[test]
    fn ip_cidr() {
        assert!(ip_matches("10.0.0.0/8", "10.1.2.3"));
        assert!(!ip_matches("10.0.0.0/8", "11.1.2.3"));
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(!ip_matches("127.0.0.1", "127.0.0.2"));
        assert!(ip_matches("127.0.0.0/31", "127.0.0.1"));
        assert!(ip_matches("0.0.0.0/0", "1.2.3.4"));
        assert!(ip_matches("::1", "::1"));
    }

    #[test]
    fn checks_and_fixup() {
        let acl = vec![Acl {
            perms: perms::READ,
            id: id("digest", "u:h"),
        }];
        assert!(allows(&acl, &[id("digest", "u:h")], perms::READ));
        assert!(!allows(&acl, &[id("digest", "u:h")], perms::WRITE));
        assert!(!allows(&acl, &[id("digest", "v:h")], perms::READ));
        assert!(allows(&acl, &[id("super", "")], perms::WRITE));
        let auth = vec![Acl {
            perms: perms::ALL,
            id: id("auth", ""),
        }];
        assert!(fixup(&auth, &[id("ip", "1.2.3.4")], AuthSchemes::ALL).is_none());
        let fixed = fixup(
            &auth,
            &[id("ip", "1.2.3.4"), id("digest", "u:h")],
            AuthSchemes::ALL,
        );
        assert_eq!(fixed.map(|a| a[0].id.clone()), Some(id("digest", "u:h")));
        assert!(fixup(&[], &[], AuthSchemes::ALL).is_none());
        let bob = vec![Acl {
            perms: perms::ALL,
            id: id("sasl", "bob"),
        }];
        assert_eq!(fixup(&bob, &[], AuthSchemes::ALL), Some(bob.clone()));
        assert!(allows(&bob, &[id("sasl", "bob")], perms::READ));
        assert!(!allows(&bob, &[id("sasl", "alice")], perms::READ));
        let fixed = fixup(&auth, &[id("sasl", "bob")], AuthSchemes::ALL);
        assert_eq!(fixed.map(|a| a[0].id.clone()), Some(id("sasl", "bob")));
        assert!(fixup(
            &[Acl {
                perms: 1,
                id: id("world", "bob")
            }],
            &[],
            AuthSchemes::ALL
        )
        .is_none());
        assert!(fixup(
            &[Acl {
                perms: 1,
                id: id("ip", "300.1.1.1")
            }],
            &[],
            AuthSchemes::ALL
        )
        .is_none());
    }

    #[test]
    fn x509_ids_are_valid_matched_exactly_and_expand_auth() {
        let alice = id("x509", "CN=alice,OU=eng,O=corp");
        let acl = vec![Acl {
            perms: perms::ALL,
            id: alice.clone(),
        }];
        assert_eq!(fixup(&acl, &[], AuthSchemes::ALL), Some(acl.clone()));
        assert!(allows(&acl, std::slice::from_ref(&alice), perms::READ));
        assert!(!allows(
            &acl,
            &[id("x509", "CN=bob,OU=eng,O=corp")],
            perms::READ
        ));
        let auth = vec![Acl {
            perms: perms::READ,
            id: id("auth", ""),
        }];
        let fixed = fixup(
            &auth,
            &[id("ip", "127.0.0.1"), alice.clone()],
            AuthSchemes::ALL,
        );
        assert_eq!(fixed.map(|a| a[0].id.clone()), Some(alice));
        let empty = vec![Acl {
            perms: 1,
            id: id("x509", ""),
        }];
        assert!(fixup(&empty, &[], AuthSchemes::ALL).is_none());
    }

    #[test]
    fn x509_and_sasl_acls_need_their_provider() {
        let acl = |scheme: &str, who: &str| {
            vec![Acl {
                perms: perms::ALL,
                id: id(scheme, who),
            }]
        };
        let x509 = acl("x509", "CN=foo");
        let sasl = acl("sasl", "bob");
        let none = AuthSchemes::default();
        assert_eq!(fixup(&x509, &[], none), None);
        assert_eq!(fixup(&sasl, &[], none), None);
        let tls = AuthSchemes {
            x509: true,
            sasl: false,
        };
        assert_eq!(fixup(&x509, &[], tls), Some(x509.clone()));
        assert_eq!(fixup(&sasl, &[], tls), None);
        let with_sasl = AuthSchemes {
            x509: false,
            sasl: true,
        };
        assert_eq!(fixup(&sasl, &[], with_sasl), Some(sasl.clone()));
        assert_eq!(fixup(&x509, &[], with_sasl), None);
    }
}
