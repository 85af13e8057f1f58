//! Distinguished names of phonedir's tree and what a search base names in it:
//!
//! ```text
//! dc=phonedir                              the root (namingContexts)
//!   ou=<KEY>,dc=phonedir                   one directory, named by a key
//!     uid=<contact id>,ou=<KEY>,dc=phonedir  one contact
//! ```
//!
//! Attribute names compare case-insensitively and spaces around `,` and `=` do not count
//! (`OU=KEY, DC=phonedir`); the key itself is case-sensitive, as everywhere else.

use crate::domain::ContactId;

pub const ROOT: &str = "dc=phonedir";

/// What a search base names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// The empty DN: the root DSE.
    RootDse,
    /// `dc=phonedir`.
    Root,
    /// `ou=<text>,dc=phonedir`: a directory, if the text is a key that opens one.
    Directory(String),
    /// `uid=<id>,ou=<text>,dc=phonedir`.
    Entry(ContactId, String),
    /// `uid=<not an id>,ou=…,dc=phonedir`: under the root, but nothing there.
    Missing,
    /// Any other DN, such as a base left over from a phone's template (`dc=example,dc=com`):
    /// the bound directory, if there is one.
    Elsewhere,
}

pub fn parse_base(dn: &str) -> Base {
    let dn = dn.trim();
    if dn.is_empty() {
        return Base::RootDse;
    }
    let Some(rdns) = rdns(dn) else {
        return Base::Elsewhere;
    };
    let is = |(a, v): &(&str, &str), attr: &str, value: &str| {
        a.eq_ignore_ascii_case(attr) && v.eq_ignore_ascii_case(value)
    };
    match rdns.as_slice() {
        [root] if is(root, "dc", "phonedir") => Base::Root,
        [(ou, key), root] if ou.eq_ignore_ascii_case("ou") && is(root, "dc", "phonedir") => {
            Base::Directory((*key).to_owned())
        }
        [(uid, id), (ou, key), root]
            if uid.eq_ignore_ascii_case("uid")
                && ou.eq_ignore_ascii_case("ou")
                && is(root, "dc", "phonedir") =>
        {
            match ContactId::parse(&id.to_ascii_lowercase()) {
                Some(id) => Base::Entry(id, (*key).to_owned()),
                None => Base::Missing,
            }
        }
        _ => Base::Elsewhere,
    }
}

impl Base {
    /// What the base names, for the log (never the key itself).
    pub fn kind(&self) -> &'static str {
        match self {
            Base::RootDse => "root DSE",
            Base::Root => ROOT,
            Base::Directory(_) => "ou=<key>",
            Base::Entry(..) => "uid=<id>,ou=<key>",
            Base::Missing => "missing",
            Base::Elsewhere => "other",
        }
    }
}

/// (attribute, value) pairs of a DN with plain values; None for escapes, quotes or
/// multi-valued RDNs, which no DN of phonedir's tree has.
fn rdns(dn: &str) -> Option<Vec<(&str, &str)>> {
    if dn.contains(['\\', '"', '+', '#', ';']) {
        return None;
    }
    dn.split(',')
        .map(|rdn| {
            let (a, v) = rdn.split_once('=')?;
            let (a, v) = (a.trim(), v.trim());
            (!a.is_empty() && !v.is_empty()).then_some((a, v))
        })
        .collect()
}

/// The DN of a directory as the client that presented `key` sees it.
pub fn directory(key: &str) -> String {
    format!("ou={key},{ROOT}")
}

/// The DN of a contact as the client that presented `key` sees it.
pub fn entry(id: ContactId, key: &str) -> String {
    format!("uid={id},ou={key},{ROOT}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_level_of_the_tree() {
        assert_eq!(parse_base(""), Base::RootDse);
        assert_eq!(parse_base("  "), Base::RootDse);
        assert_eq!(parse_base("dc=phonedir"), Base::Root);
        assert_eq!(parse_base("DC=PhoneDir"), Base::Root);
        assert_eq!(
            parse_base("ou=ACME0123456789,dc=phonedir"),
            Base::Directory("ACME0123456789".into())
        );
        assert_eq!(
            parse_base(" OU = ACME0123456789 , dc=phonedir "),
            Base::Directory("ACME0123456789".into())
        );
        let id = ContactId::parse("00000000000000ab").unwrap();
        assert_eq!(
            parse_base("uid=00000000000000AB,ou=ACME0123456789,dc=phonedir"),
            Base::Entry(id, "ACME0123456789".into())
        );
        assert_eq!(
            parse_base(&entry(id, "ACME0123456789")),
            Base::Entry(id, "ACME0123456789".into())
        );
        assert_eq!(
            parse_base("uid=anna,ou=ACME0123456789,dc=phonedir"),
            Base::Missing
        );
    }

    #[test]
    fn anything_else_is_elsewhere() {
        for dn in [
            "dc=example,dc=com",
            "0",
            "ou=ACME0123456789",
            "ou=ACME0123456789,dc=phonedir,dc=com",
            "cn=a\\,b,dc=phonedir",
            "ou=a+cn=b,dc=phonedir",
            "ou=,dc=phonedir",
            "=x",
        ] {
            assert_eq!(parse_base(dn), Base::Elsewhere, "{dn}");
        }
    }
}
