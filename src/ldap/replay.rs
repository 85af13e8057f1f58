//! One client's byte stream read and answered as the server does, without network or store:
//! the server's codec, the session, and searches over a small fixed book. What the `ldap`
//! fuzz target and the robustness test below run; a panic here is a bug.

use super::attrs::Selection;
use super::auth::Verdict;
use super::dn::parse_base;
use super::search::{search, Ask, NumberDefaults, Within};
use super::server::codec;
use super::session::{Session, Step};
use crate::book::Book;
use crate::domain::merge::Sourced;
use crate::domain::{ApiKey, Contact, NumberType, PhoneNumber};
use crate::store::Directory;
use std::sync::OnceLock;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

/// Reads `bytes` as a connection's stream and answers every message; the number of
/// messages read.
pub fn replay(bytes: &[u8]) -> usize {
    let book = book();
    let mut codec = codec();
    let mut buf = BytesMut::from(bytes);
    let mut out = BytesMut::new();
    let mut session = Session::default();
    let mut read = 0;
    while let Ok(Some(msg)) = codec.decode(&mut buf) {
        read += 1;
        let answers = match session.step(msg) {
            Step::Send(m) => m,
            Step::Nothing => continue,
            Step::Close(_) | Step::StartTls(_) => break,
            Step::Bind { msgid, password } => {
                let verdict = if password == book.directory.key.as_str() {
                    Verdict::Open(super::auth::Opened {
                        presented: book.directory.key.clone(),
                        directory: book.directory.key.clone(),
                    })
                } else {
                    Verdict::Wrong
                };
                vec![session.bound(msgid, Ok(verdict))]
            }
            Step::Search { msgid, req, .. } => {
                let _ = parse_base(&req.base);
                let sel = Selection::new(&req.attrs);
                let ask = Ask {
                    filter: &req.filter,
                    selection: &sel,
                    types_only: req.typesonly,
                    limit: 50,
                };
                let defaults = NumberDefaults {
                    region: "DE".parse().ok(),
                    max_extension_digits: 6,
                };
                match search(book, "ACME0123456789", Within::Directory, &ask, defaults) {
                    Ok(a) => a
                        .entries
                        .into_iter()
                        .map(|e| ldap3_proto::proto::LdapMsg {
                            msgid,
                            op: ldap3_proto::proto::LdapOp::SearchResultEntry(e),
                            ctrl: Vec::new(),
                        })
                        .collect(),
                    Err(_) => Vec::new(),
                }
            }
        };
        for a in answers {
            out.clear();
            let _ = codec.encode(a, &mut out);
        }
    }
    read
}

fn book() -> &'static Book {
    static BOOK: OnceLock<Book> = OnceLock::new();
    BOOK.get_or_init(|| {
        let c = |name: &str, given: &str, family: &str, kind, number: &str| Sourced {
            contact: Contact {
                display_name: name.into(),
                given_name: given.into(),
                family_name: family.into(),
                numbers: vec![PhoneNumber {
                    kind,
                    value: number.into(),
                }],
                ..Default::default()
            },
            source: "push".into(),
            priority: 100,
        };
        Book::build(
            Directory {
                id: 1,
                key: ApiKey::parse("ACME0123456789").unwrap_or_else(|_| unreachable!()),
                settings: Default::default(),
                version: 1,
            },
            vec![
                c(
                    "Anna Schmidt",
                    "Anna",
                    "Schmidt",
                    NumberType::Work,
                    "+49891234567",
                ),
                c("Ben", "", "", NumberType::Extension, "42"),
                c(
                    "Jörg Müller",
                    "Jörg",
                    "Müller",
                    NumberType::Mobile,
                    "+4915112345678",
                ),
                c(
                    "Zoë O'Brien",
                    "Zoë",
                    "O'Brien",
                    NumberType::Home,
                    "+442079460958",
                ),
            ],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::parse_ldap_filter_str;
    use ldap3_proto::proto::{
        LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapMsg, LdapOp, LdapSearchRequest,
        LdapSearchScope,
    };

    fn stream(msgs: Vec<LdapOp>) -> Vec<u8> {
        let mut c = codec();
        let mut buf = BytesMut::new();
        for (i, op) in msgs.into_iter().enumerate() {
            c.encode(
                LdapMsg {
                    msgid: i as i32 + 1,
                    op,
                    ctrl: Vec::new(),
                },
                &mut buf,
            )
            .unwrap();
        }
        buf.to_vec()
    }

    fn phone() -> Vec<u8> {
        stream(vec![
            LdapOp::BindRequest(LdapBindRequest {
                version: 3,
                dn: "cn=phone".into(),
                cred: LdapBindCred::Simple("ACME0123456789".into()),
            }),
            LdapOp::SearchRequest(LdapSearchRequest {
                base: "dc=phonedir".into(),
                scope: LdapSearchScope::Subtree,
                aliases: LdapDerefAliases::Never,
                sizelimit: 50,
                timelimit: 0,
                typesonly: false,
                filter: parse_ldap_filter_str(
                    "(&(|(cn=Mü*)(sn=*ll*)(telephoneNumber=089*))(!(mobile=\"0151 12345678\")))",
                )
                .unwrap(),
                attrs: vec!["cn".into(), "Mobile".into(), "*".into()],
            }),
            LdapOp::UnbindRequest,
        ])
    }

    #[test]
    fn a_phones_stream_is_read_whole() {
        assert_eq!(replay(&phone()), 3);
    }

    /// Mutations of a real phone's stream and random bytes: every one is read or refused,
    /// none panics. (The `ldap` fuzz target does the same at length.)
    #[test]
    fn mutated_and_random_streams_never_panic() {
        let base = phone();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut bytes = base.clone();
            if round % 4 == 0 {
                let n = (next() % 200) as usize;
                bytes = (0..n).map(|_| next() as u8).collect();
                if round % 8 == 0 && !bytes.is_empty() {
                    bytes[0] = 0x30;
                }
            } else {
                for _ in 0..=(next() % 4) {
                    let i = (next() as usize) % bytes.len();
                    match next() % 3 {
                        0 => bytes[i] = next() as u8,
                        1 => bytes.truncate(i),
                        _ => bytes.insert(i, next() as u8),
                    }
                    if bytes.is_empty() {
                        break;
                    }
                }
            }
            let _ = replay(&bytes);
        }
    }
}
