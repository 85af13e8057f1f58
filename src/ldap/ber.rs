//! BER for the message a search sends most: a `SearchResultEntry`, written straight into the
//! connection's buffer with its lengths computed first.
//!
//! ldap3_proto turns each message into a tree of tags and encodes every constructed tag
//! into a vector of its own that its parent then copies, so an entry of five levels is
//! allocated and copied five times; with the 50 entries of a search as you type that was a
//! third of the server's CPU (bench/ldap.py, `perf`). Every other message still goes
//! through ldap3_proto. The bytes are the same (tested against it below).

use bytes::{BufMut, BytesMut};
use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
/// [APPLICATION 4], constructed (RFC 4511 §4.5.2).
const SEARCH_RESULT_ENTRY: u8 = 0x64;

/// Writes the LDAPMessage `{ msgid, searchResEntry }` (no controls) to `buf`.
pub fn entry_message(msgid: i32, e: &LdapSearchResultEntry, buf: &mut BytesMut) {
    let attributes: usize = e.attributes.iter().map(|a| whole(attribute_len(a))).sum();
    let op = whole(e.dn.len()) + whole(attributes);
    let id = integer(i64::from(msgid));
    let message = 2 + id.len() + whole(op);
    buf.reserve(whole(message));
    head(buf, SEQUENCE, message);
    head(buf, INTEGER, id.len());
    buf.put_slice(&id);
    head(buf, SEARCH_RESULT_ENTRY, op);
    octets(buf, e.dn.as_bytes());
    head(buf, SEQUENCE, attributes);
    for a in &e.attributes {
        head(buf, SEQUENCE, attribute_len(a));
        octets(buf, a.atype.as_bytes());
        head(buf, SET, a.vals.iter().map(|v| whole(v.len())).sum());
        for v in &a.vals {
            octets(buf, v);
        }
    }
}

/// The content length of one `PartialAttribute` (type and set of values).
fn attribute_len(a: &LdapPartialAttribute) -> usize {
    whole(a.atype.len()) + whole(a.vals.iter().map(|v| whole(v.len())).sum())
}

/// A tag's whole size: one tag byte, its length's bytes, its content.
fn whole(content: usize) -> usize {
    1 + length_bytes(content) + content
}

fn length_bytes(n: usize) -> usize {
    if n < 128 {
        1
    } else {
        1 + (usize::BITS - n.leading_zeros()).div_ceil(8) as usize
    }
}

fn head(buf: &mut BytesMut, tag: u8, len: usize) {
    buf.put_u8(tag);
    if len < 128 {
        buf.put_u8(len as u8);
    } else {
        let n = length_bytes(len) - 1;
        buf.put_u8(0x80 | n as u8);
        buf.put_slice(&len.to_be_bytes()[std::mem::size_of::<usize>() - n..]);
    }
}

fn octets(buf: &mut BytesMut, v: &[u8]) {
    head(buf, OCTET_STRING, v.len());
    buf.put_slice(v);
}

/// A two's-complement INTEGER in the fewest bytes.
fn integer(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut at = 0;
    while at < b.len() - 1
        && ((b[at] == 0 && b[at + 1] & 0x80 == 0) || (b[at] == 0xff && b[at + 1] & 0x80 != 0))
    {
        at += 1;
    }
    b[at..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3_proto::proto::{LdapMsg, LdapOp};
    use ldap3_proto::LdapCodec;
    use tokio_util::codec::{Decoder, Encoder};

    fn theirs(msgid: i32, e: &LdapSearchResultEntry) -> BytesMut {
        let mut buf = BytesMut::new();
        LdapCodec::default()
            .encode(
                LdapMsg {
                    msgid,
                    op: LdapOp::SearchResultEntry(e.clone()),
                    ctrl: vec![],
                },
                &mut buf,
            )
            .unwrap();
        buf
    }

    fn attr(t: &str, vals: &[&[u8]]) -> LdapPartialAttribute {
        LdapPartialAttribute {
            atype: t.into(),
            vals: vals.iter().map(|v| v.to_vec()).collect(),
        }
    }

    #[test]
    fn the_same_bytes_as_ldap3_proto_for_every_size_of_length() {
        let long = "ü".repeat(70); // 140 bytes: a long-form length
        let huge = vec![b'x'; 70_000]; // three length bytes
        let entries = [
            LdapSearchResultEntry {
                dn: "uid=0123456789abcdef,ou=DEMOabcABC0123,dc=phonedir".into(),
                attributes: vec![
                    attr("cn", &[b"Anna Schmidt"]),
                    attr("telephoneNumber", &[b"+49891234567", b"0891234567"]),
                    attr("mobile", &[]),
                ],
            },
            LdapSearchResultEntry {
                dn: long.clone(),
                attributes: vec![attr(&long, &[long.as_bytes(), &huge])],
            },
            LdapSearchResultEntry {
                dn: String::new(),
                attributes: vec![],
            },
            LdapSearchResultEntry {
                dn: "x".into(),
                attributes: (0..40).map(|i| attr(&format!("a{i}"), &[b"v"])).collect(),
            },
        ];
        for msgid in [
            0,
            1,
            127,
            128,
            255,
            256,
            32_767,
            32_768,
            8_388_608,
            i32::MAX,
        ] {
            for e in &entries {
                let mut ours = BytesMut::new();
                entry_message(msgid, e, &mut ours);
                assert_eq!(ours, theirs(msgid, e), "msgid {msgid}, dn {}", e.dn.len());
                // And it reads back as the entry.
                let back = LdapCodec::new(Some(1 << 20), Some(32))
                    .decode(&mut ours)
                    .unwrap()
                    .unwrap();
                assert_eq!(back.msgid, msgid);
                assert_eq!(back.op, LdapOp::SearchResultEntry(e.clone()));
            }
        }
    }
}
