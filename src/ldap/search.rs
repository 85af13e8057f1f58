//! One search over one book: the filter answered from the book's indexes, the entries in
//! display-name order, cut at the size limit, numbers written as the directory's phone
//! books write them.

use super::attrs::{entry, Selection};
use super::filter::{find, FilterError, Numbers, Query, Test};
use crate::book::Book;
use crate::domain::ContactId;
use crate::phone::{NumberRules, Region};
use crate::render::{Presenter, ShapeParams};
use ldap3_proto::proto::{LdapFilter, LdapSearchResultEntry};

/// Which contacts a search looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Within {
    Directory,
    Entry(ContactId),
}

pub struct Ask<'a> {
    pub filter: &'a LdapFilter,
    pub selection: &'a Selection,
    pub types_only: bool,
    /// Most entries to answer.
    pub limit: usize,
}

pub struct Answer {
    pub entries: Vec<LdapSearchResultEntry>,
    /// More contacts matched than `limit`.
    pub more: bool,
}

/// The server-wide rules numbers are read and written under.
#[derive(Clone, Copy, Debug, Default)]
pub struct NumberDefaults {
    pub region: Option<Region>,
    pub max_extension_digits: usize,
}

/// Searches `book` as the client that presented `key` sees it.
pub fn search(
    book: &Book,
    key: &str,
    within: Within,
    ask: &Ask,
    defaults: NumberDefaults,
) -> Result<Answer, FilterError> {
    let mut query = Query::from_ldap(ask.filter)?;
    if let Within::Entry(id) = within {
        query = Query::And(vec![
            Query::Text(super::filter::Field::Id, Test::Equal(id.to_string())),
            query,
        ]);
    }
    // As the directory's phone books write and the caller-ID lookup reads numbers.
    let p = Presenter::resolve(
        &ShapeParams::default(),
        Some(&book.directory.settings),
        defaults.region,
    );
    let numbers = Numbers {
        rules: NumberRules {
            region: p.region,
            max_extension_digits: defaults.max_extension_digits,
        },
        outside_prefix: p.outside_prefix.as_str(),
    };
    let (hits, more) = find(book, &query, &numbers, ask.limit);
    let entries = hits
        .iter()
        .filter_map(|i| book.contacts.get(*i as usize))
        .map(|c| entry(c, key, ask.selection, ask.types_only, &p))
        .collect();
    Ok(Answer { entries, more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::merge::Sourced;
    use crate::domain::{ApiKey, Contact, DirectorySettings, NumberType, PhoneNumber};
    use crate::store::Directory;
    use ldap3_proto::parse_ldap_filter_str;

    fn book(settings: DirectorySettings) -> Book {
        let c = |name: &str, number: &str| Sourced {
            contact: Contact {
                display_name: name.into(),
                numbers: vec![PhoneNumber {
                    kind: NumberType::Work,
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
                key: ApiKey::parse("ACME0123456789").unwrap(),
                settings,
                version: 1,
            },
            vec![c("Alpha", "+4923648873041"), c("Zeta", "+4923648873040")],
        )
    }

    fn run(b: &Book, filter: &str, within: Within, limit: usize) -> Answer {
        let f = parse_ldap_filter_str(filter).unwrap();
        let sel = Selection::new(&["cn".into(), "telephoneNumber".into()]);
        search(
            b,
            "READKEY0000001",
            within,
            &Ask {
                filter: &f,
                selection: &sel,
                types_only: false,
                limit,
            },
            NumberDefaults {
                region: None,
                max_extension_digits: 6,
            },
        )
        .ok()
        .unwrap()
    }

    fn cn(a: &Answer) -> Vec<String> {
        a.entries
            .iter()
            .map(|e| String::from_utf8(e.attributes[0].vals[0].clone()).unwrap())
            .collect()
    }

    #[test]
    fn sorted_cut_and_shaped_as_the_directory_says() {
        let settings = DirectorySettings {
            region: "DE".parse().ok(),
            numbers: Some(crate::domain::Shape::National),
            outside_prefix: "0".parse().ok(),
            ..Default::default()
        };
        let b = book(settings);
        let all = run(&b, "(objectClass=*)", Within::Directory, 10);
        assert_eq!(cn(&all), vec!["Alpha", "Zeta"]);
        assert!(!all.more);
        let tel = &all.entries[0].attributes[1];
        assert_eq!(tel.atype, "telephoneNumber");
        assert_eq!(tel.vals, vec![b"0023648873041".to_vec()]);
        // DNs carry the key the client presented.
        assert!(all.entries[0]
            .dn
            .ends_with(",ou=READKEY0000001,dc=phonedir"));
        let one = run(&b, "(cn=*)", Within::Directory, 1);
        assert_eq!(cn(&one), vec!["Alpha"]);
        assert!(one.more);
        // The number as the PBX delivers it, with the outside-line prefix.
        let caller = run(&b, "(telephoneNumber=0023648873040)", Within::Directory, 10);
        assert_eq!(cn(&caller), vec!["Zeta"]);
    }

    #[test]
    fn an_entry_base_sees_only_that_entry() {
        let b = book(DirectorySettings::default());
        let zeta = b
            .contacts
            .iter()
            .find(|c| c.display_name == "Zeta")
            .unwrap()
            .id;
        let a = run(&b, "(objectClass=*)", Within::Entry(zeta), 10);
        assert_eq!(cn(&a), vec!["Zeta"]);
        assert!(run(&b, "(cn=alpha)", Within::Entry(zeta), 10)
            .entries
            .is_empty());
    }
}
