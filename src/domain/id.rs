//! Stable contact identity: the id a contact keeps across re-pushes and re-syncs, so vCard
//! `UID`s, CardDAV hrefs, LDAP DNs and the PBX targets' mappings survive a new version.
//!
//! An id is derived, never stored: from (source, the source's own id) when the source gives
//! one, else from (source, the name folded for sorting). A contact whose source gives no id
//! keeps its id when its numbers, company or e-mail change; a rename makes it a new contact,
//! since nothing else tells the two apart. Two entries of one source with the same id or name
//! are told apart by their order in the source. The source's name is part of every id, so
//! two sources that both number their rows 1, 2, 3 never collide.

use serde::{Deserialize, Serialize};
use std::fmt;

/// 64 bits of SHA-256, written as 16 lower-case hex digits: ASCII, safe in a URL path
/// segment, an LDAP RDN and a file name. Zero means "not assigned yet".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContactId(u64);

impl ContactId {
    pub const LEN: usize = 16;

    /// The id of the `occurrence`-th (0-based) entry of `source` with this `external_id`
    /// (or, without one, this folded name).
    pub fn derive(source: &str, external_id: &str, sort_key: &str, occurrence: usize) -> Self {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(source.as_bytes());
        ctx.update(&[0]);
        if external_id.is_empty() {
            ctx.update(b"n");
            ctx.update(sort_key.as_bytes());
        } else {
            ctx.update(b"x");
            ctx.update(external_id.as_bytes());
        }
        ctx.update(&[0]);
        ctx.update(&(occurrence as u64).to_le_bytes());
        Self::from_digest(ctx.finish().as_ref())
    }

    fn from_digest(d: &[u8]) -> Self {
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        ContactId(u64::from_be_bytes(b).max(1))
    }

    /// Reads an id from a URL or an LDAP DN; anything else than 16 lower-case hex digits is
    /// none.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != Self::LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        u64::from_str_radix(s, 16)
            .ok()
            .filter(|v| *v != 0)
            .map(ContactId)
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The id of `as_u64` (as the store keeps it).
    pub fn from_u64(v: u64) -> Self {
        ContactId(v)
    }

    /// A different id for the same contact, for the (astronomically rare) case that two
    /// contacts of one book hash to the same id: the book stays addressable one by one.
    pub fn rehashed(self) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0.to_be_bytes());
        Self::from_digest(digest.as_ref())
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ContactId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContactId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ContactId::parse(&s).ok_or_else(|| serde::de::Error::custom("not a contact id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_source_and_identity_not_on_position_in_the_book() {
        let a = ContactId::derive("push", "1", "anna", 0);
        assert_eq!(a, ContactId::derive("push", "1", "anna renamed", 0));
        assert_ne!(a, ContactId::derive("crm", "1", "anna", 0));
        assert_ne!(a, ContactId::derive("push", "2", "anna", 0));
        assert_ne!(a, ContactId::derive("push", "1", "anna", 1));
        // Without an external id the name is the identity.
        let n = ContactId::derive("push", "", "anna", 0);
        assert_ne!(n, ContactId::derive("push", "", "ben", 0));
        // An external id "n…" cannot pose as a name.
        assert_ne!(
            ContactId::derive("push", "", "x1", 0),
            ContactId::derive("push", "1", "", 0)
        );
        assert_eq!(a.to_string().len(), ContactId::LEN);
        assert_eq!(ContactId::parse(&a.to_string()), Some(a));
        assert_eq!(ContactId::parse("../etc/passwd!!"), None);
        assert_ne!(a.rehashed(), a);
    }
}
