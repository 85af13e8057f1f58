//! The attributes of an entry: which contact field each name means (case-insensitively,
//! with the aliases phone vendors' tables use: `gn`, `surname`, `commonName`, `company`,
//! `mobileTelephoneNumber`, Fanvil's `other`, …), which of them a search asked for, and the
//! entry built from a contact.

use super::dn;
use crate::domain::{Contact, NumberType};
use crate::render::{split_name, Presenter};
use ldap3_proto::proto::{LdapPartialAttribute, LdapSearchResultEntry};

/// What an attribute name stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    ObjectClass,
    Uid,
    /// `cn`: the display name.
    Cn,
    DisplayName,
    /// `sn`: the family name; a contact known only by its display name (a company, a
    /// hotline) has that as its family name, as phones sort and show it.
    Sn,
    GivenName,
    /// `o`: the company.
    O,
    /// `ou`: the department.
    Ou,
    Title,
    Mail,
    /// Numbers of one type, written in the directory's phone number shape.
    Phone(NumberType),
}

pub const OBJECT_CLASSES: [&str; 4] = ["top", "person", "organizationalPerson", "inetOrgPerson"];

/// Every name understood, lower case, with what it means. The first name of each attribute
/// is the one `*` returns it under.
const NAMES: [(&str, Attr); 36] = [
    ("objectclass", Attr::ObjectClass),
    ("uid", Attr::Uid),
    ("cn", Attr::Cn),
    ("displayname", Attr::DisplayName),
    ("sn", Attr::Sn),
    ("givenname", Attr::GivenName),
    ("o", Attr::O),
    ("ou", Attr::Ou),
    ("title", Attr::Title),
    ("mail", Attr::Mail),
    ("telephonenumber", Attr::Phone(NumberType::Work)),
    ("mobile", Attr::Phone(NumberType::Mobile)),
    ("homephone", Attr::Phone(NumberType::Home)),
    ("facsimiletelephonenumber", Attr::Phone(NumberType::Fax)),
    ("pager", Attr::Phone(NumberType::Pager)),
    ("othertelephone", Attr::Phone(NumberType::Other)),
    ("ipphone", Attr::Phone(NumberType::Extension)),
    // Aliases: RFC 4519 short and long names, Active Directory's names, vendors' defaults.
    ("userid", Attr::Uid),
    ("commonname", Attr::Cn),
    ("surname", Attr::Sn),
    ("gn", Attr::GivenName),
    ("organizationname", Attr::O),
    ("company", Attr::O),
    ("organizationalunitname", Attr::Ou),
    ("department", Attr::Ou),
    ("email", Attr::Mail),
    ("rfc822mailbox", Attr::Mail),
    ("mobiletelephonenumber", Attr::Phone(NumberType::Mobile)),
    ("homephonenumber", Attr::Phone(NumberType::Home)),
    ("hometelephonenumber", Attr::Phone(NumberType::Home)),
    ("fax", Attr::Phone(NumberType::Fax)),
    ("pagertelephonenumber", Attr::Phone(NumberType::Pager)),
    ("other", Attr::Phone(NumberType::Other)),
    ("otherphone", Attr::Phone(NumberType::Other)),
    ("otherhomephone", Attr::Phone(NumberType::Home)),
    ("othermobile", Attr::Phone(NumberType::Mobile)),
];

/// The names `*` returns, in the order entries list them.
const CANONICAL: [(&str, Attr); 17] = [
    ("objectClass", Attr::ObjectClass),
    ("uid", Attr::Uid),
    ("cn", Attr::Cn),
    ("displayName", Attr::DisplayName),
    ("sn", Attr::Sn),
    ("givenName", Attr::GivenName),
    ("o", Attr::O),
    ("ou", Attr::Ou),
    ("title", Attr::Title),
    ("mail", Attr::Mail),
    ("telephoneNumber", Attr::Phone(NumberType::Work)),
    ("mobile", Attr::Phone(NumberType::Mobile)),
    ("homePhone", Attr::Phone(NumberType::Home)),
    ("facsimileTelephoneNumber", Attr::Phone(NumberType::Fax)),
    ("pager", Attr::Phone(NumberType::Pager)),
    ("otherTelephone", Attr::Phone(NumberType::Other)),
    ("ipPhone", Attr::Phone(NumberType::Extension)),
];

/// What an attribute name (or numeric OID of a standard attribute) means; None for a name
/// phonedir does not know, and for names with options (`cn;lang-de`), which no value has.
pub fn attr(name: &str) -> Option<Attr> {
    let name = name.trim();
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let by_oid = match lower.as_str() {
        "2.5.4.0" => Some(Attr::ObjectClass),
        "0.9.2342.19200300.100.1.1" => Some(Attr::Uid),
        "2.5.4.3" => Some(Attr::Cn),
        "2.16.840.1.113730.3.1.241" => Some(Attr::DisplayName),
        "2.5.4.4" => Some(Attr::Sn),
        "2.5.4.42" => Some(Attr::GivenName),
        "2.5.4.10" => Some(Attr::O),
        "2.5.4.11" => Some(Attr::Ou),
        "2.5.4.12" => Some(Attr::Title),
        "0.9.2342.19200300.100.1.3" => Some(Attr::Mail),
        "2.5.4.20" => Some(Attr::Phone(NumberType::Work)),
        "0.9.2342.19200300.100.1.41" => Some(Attr::Phone(NumberType::Mobile)),
        "0.9.2342.19200300.100.1.20" => Some(Attr::Phone(NumberType::Home)),
        "2.5.4.23" => Some(Attr::Phone(NumberType::Fax)),
        "0.9.2342.19200300.100.1.42" => Some(Attr::Phone(NumberType::Pager)),
        _ => None,
    };
    by_oid.or_else(|| NAMES.iter().find(|(n, _)| *n == lower).map(|(_, a)| *a))
}

/// The attributes a search asked for (RFC 4511 §4.5.1.8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Every attribute, under its canonical name (`*`, or an empty list).
    pub all: bool,
    /// `+`: operational attributes (the root DSE has them; entries have none).
    pub operational: bool,
    /// Named attributes, returned under the name as asked (a phone that asked for `Mobile`
    /// or `company` finds it under that name), in the order asked, without repeats.
    pub named: Vec<(String, Attr)>,
    /// The names asked for, lower case, known or not (for the root DSE).
    pub asked: Vec<String>,
}

impl Selection {
    pub fn new(requested: &[String]) -> Selection {
        let mut s = Selection::default();
        let real: Vec<&str> = requested
            .iter()
            .map(|a| a.trim())
            .filter(|a| *a != "1.1" && !a.is_empty())
            .collect();
        // `1.1` alone asks for no attribute; an empty list for all of them.
        s.all = requested.is_empty();
        for name in real.into_iter().take(64) {
            match name {
                "*" => s.all = true,
                "+" => s.operational = true,
                _ => {
                    let lower = name.to_ascii_lowercase();
                    if s.asked.contains(&lower) {
                        continue;
                    }
                    if let Some(a) = attr(name) {
                        s.named.push((name.to_owned(), a));
                    }
                    s.asked.push(lower);
                }
            }
        }
        s
    }

    /// (name, attribute) pairs to write, in order.
    fn wanted(&self) -> Vec<(&str, Attr)> {
        let mut out: Vec<(&str, Attr)> = Vec::new();
        if self.all {
            out.extend(CANONICAL.iter().map(|(n, a)| (*n, *a)));
        }
        for (n, a) in &self.named {
            if !(self.all && CANONICAL.iter().any(|(c, _)| c.eq_ignore_ascii_case(n))) {
                out.push((n.as_str(), *a));
            }
        }
        out
    }
}

/// The values of one attribute of a contact; empty when the contact has none.
pub fn values(a: Attr, c: &Contact, p: &Presenter) -> Vec<String> {
    let one = |s: &str| {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![s.to_owned()]
        }
    };
    match a {
        Attr::ObjectClass => OBJECT_CLASSES.iter().map(|s| (*s).to_owned()).collect(),
        Attr::Uid => vec![c.id.to_string()],
        Attr::Cn | Attr::DisplayName => one(&c.display_name),
        Attr::Sn => one(split_name(c).1),
        Attr::GivenName => one(split_name(c).0),
        Attr::O => one(&c.company),
        Attr::Ou => one(&c.department),
        Attr::Title => one(&c.position),
        Attr::Mail => one(&c.email),
        Attr::Phone(kind) => c
            .numbers
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| p.show(n))
            .collect(),
    }
}

/// The entry of a contact, as the client that presented `key` sees it.
pub fn entry(
    c: &Contact,
    key: &str,
    sel: &Selection,
    types_only: bool,
    p: &Presenter,
) -> LdapSearchResultEntry {
    let attributes = sel
        .wanted()
        .into_iter()
        .filter_map(|(name, a)| {
            let vals = values(a, c, p);
            (!vals.is_empty()).then(|| LdapPartialAttribute {
                atype: name.to_owned(),
                vals: if types_only {
                    Vec::new()
                } else {
                    vals.into_iter().map(String::into_bytes).collect()
                },
            })
        })
        .collect();
    LdapSearchResultEntry {
        dn: dn::entry(c.id, key),
        attributes,
    }
}

/// An entry with fixed attributes (the root DSE, the containers), with the selection
/// applied: all of them for `*`, `+` or none asked; else those asked (case-insensitively).
pub fn fixed_entry(
    dn: String,
    attributes: &[(&str, Vec<String>)],
    sel: &Selection,
    types_only: bool,
) -> LdapSearchResultEntry {
    let everything = sel.all || sel.operational;
    LdapSearchResultEntry {
        dn,
        attributes: attributes
            .iter()
            .filter(|(name, _)| everything || sel.asked.contains(&name.to_ascii_lowercase()))
            .map(|(name, vals)| LdapPartialAttribute {
                atype: (*name).to_owned(),
                vals: if types_only {
                    Vec::new()
                } else {
                    vals.iter().map(|v| v.clone().into_bytes()).collect()
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactId, PhoneNumber};
    use crate::render::ShapeParams;

    fn anna() -> Contact {
        Contact {
            id: ContactId::parse("00000000000000a1").unwrap(),
            display_name: "Anna Schmidt".into(),
            given_name: "Anna".into(),
            family_name: "Schmidt".into(),
            company: "ACME".into(),
            numbers: vec![
                PhoneNumber {
                    kind: NumberType::Work,
                    value: "+4923648873040".into(),
                },
                PhoneNumber {
                    kind: NumberType::Mobile,
                    value: "+4915112345678".into(),
                },
                PhoneNumber {
                    kind: NumberType::Extension,
                    value: "42".into(),
                },
            ],
            ..Default::default()
        }
    }

    fn national() -> Presenter {
        Presenter::resolve(
            &ShapeParams::parse(Some("national"), None, Some("DE")).unwrap(),
            None,
            None,
        )
    }

    fn names(e: &LdapSearchResultEntry) -> Vec<&str> {
        e.attributes.iter().map(|a| a.atype.as_str()).collect()
    }

    fn value<'a>(e: &'a LdapSearchResultEntry, name: &str) -> Vec<&'a str> {
        e.attributes
            .iter()
            .find(|a| a.atype == name)
            .map(|a| {
                a.vals
                    .iter()
                    .map(|v| std::str::from_utf8(v).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn names_and_aliases_in_any_case() {
        assert_eq!(attr("CN"), Some(Attr::Cn));
        assert_eq!(attr("commonName"), Some(Attr::Cn));
        assert_eq!(attr("gn"), Some(Attr::GivenName));
        assert_eq!(attr("SURNAME"), Some(Attr::Sn));
        assert_eq!(attr("Mobile"), Some(Attr::Phone(NumberType::Mobile)));
        assert_eq!(
            attr("mobileTelephoneNumber"),
            Some(Attr::Phone(NumberType::Mobile))
        );
        assert_eq!(
            attr("homeTelephoneNumber"),
            Some(Attr::Phone(NumberType::Home))
        );
        assert_eq!(attr("other"), Some(Attr::Phone(NumberType::Other)));
        assert_eq!(attr("company"), Some(Attr::O));
        assert_eq!(attr("2.5.4.20"), Some(Attr::Phone(NumberType::Work)));
        assert_eq!(attr("jpegPhoto"), None);
        assert_eq!(attr("cn;lang-de"), None);
    }

    #[test]
    fn all_attributes_with_numbers_in_the_directory_shape() {
        let e = entry(
            &anna(),
            "ACME0123456789",
            &Selection::new(&[]),
            false,
            &national(),
        );
        assert_eq!(e.dn, "uid=00000000000000a1,ou=ACME0123456789,dc=phonedir");
        assert_eq!(
            names(&e),
            vec![
                "objectClass",
                "uid",
                "cn",
                "displayName",
                "sn",
                "givenName",
                "o",
                "telephoneNumber",
                "mobile",
                "ipPhone"
            ]
        );
        assert_eq!(value(&e, "objectClass"), OBJECT_CLASSES.to_vec());
        assert_eq!(value(&e, "telephoneNumber"), vec!["023648873040"]);
        assert_eq!(value(&e, "mobile"), vec!["015112345678"]);
        assert_eq!(value(&e, "ipPhone"), vec!["42"]);
        let star = entry(
            &anna(),
            "K",
            &Selection::new(&["*".into()]),
            false,
            &national(),
        );
        assert_eq!(names(&star), names(&e));
    }

    #[test]
    fn named_attributes_come_back_under_the_name_asked() {
        let sel = Selection::new(&[
            "Mobile".into(),
            "CN".into(),
            "company".into(),
            "mobile".into(),
            "jpegPhoto".into(),
            "homePhone".into(),
        ]);
        let e = entry(&anna(), "K", &sel, false, &national());
        // No homePhone: the contact has none; mobile once, as first asked.
        assert_eq!(names(&e), vec!["Mobile", "CN", "company"]);
        assert_eq!(value(&e, "company"), vec!["ACME"]);
    }

    #[test]
    fn no_attributes_and_types_only() {
        let e = entry(
            &anna(),
            "K",
            &Selection::new(&["1.1".into()]),
            false,
            &national(),
        );
        assert!(e.attributes.is_empty());
        // `1.1` beside a name is ignored.
        let e = entry(
            &anna(),
            "K",
            &Selection::new(&["1.1".into(), "cn".into()]),
            true,
            &national(),
        );
        assert_eq!(names(&e), vec!["cn"]);
        assert!(e.attributes[0].vals.is_empty());
    }

    #[test]
    fn a_company_only_entry_has_its_name_as_sn() {
        let c = Contact {
            display_name: "Pizza Roma".into(),
            company: "Pizza Roma".into(),
            ..Default::default()
        };
        let e = entry(&c, "K", &Selection::new(&[]), false, &national());
        assert_eq!(value(&e, "sn"), vec!["Pizza Roma"]);
        assert!(value(&e, "givenName").is_empty());
    }
}
