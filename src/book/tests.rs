use super::*;
use crate::domain::{ApiKey, DirectorySettings, NumberType, PhoneNumber};

fn directory(version: i64) -> Directory {
    Directory {
        id: 1,
        key: ApiKey::parse("ACME0123456789").unwrap(),
        settings: DirectorySettings::default(),
        version,
    }
}

fn entry(source: &str, ext: &str, name: &str, number: &str) -> Sourced {
    Sourced {
        contact: Contact {
            external_id: ext.into(),
            display_name: name.into(),
            numbers: vec![PhoneNumber {
                kind: NumberType::Work,
                value: number.into(),
            }],
            ..Default::default()
        },
        source: source.into(),
        priority: 100,
    }
}

fn ids(b: &Book) -> Vec<(String, ContactId)> {
    b.contacts
        .iter()
        .map(|c| (c.display_name.clone(), c.id))
        .collect()
}

#[test]
fn ids_survive_insertions_and_two_sources_numbering_rows_alike_do_not_collide() {
    let before = Book::build(
        directory(1),
        vec![
            entry("crm", "1", "Anna", "+4930111"),
            entry("pbx", "1", "Ben", "+4930222"),
        ],
    );
    let after = Book::build(
        directory(2),
        vec![
            entry("crm", "0", "Aaron", "+4930000"),
            entry("crm", "1", "Anna", "+4930111"),
            entry("pbx", "1", "Ben", "+4930222"),
        ],
    );
    let id = |b: &Book, n: &str| ids(b).into_iter().find(|(m, _)| m == n).unwrap().1;
    assert_eq!(id(&before, "Anna"), id(&after, "Anna"));
    assert_eq!(id(&before, "Ben"), id(&after, "Ben"));
    assert_ne!(id(&after, "Anna"), id(&after, "Ben"));
    assert_eq!(after.get(id(&after, "Ben")).unwrap().display_name, "Ben");
}

#[test]
fn without_external_ids_the_name_is_the_identity_and_duplicates_stay_apart() {
    let a = Book::build(
        directory(1),
        vec![
            entry("push", "", "Empfang", "+4930111"),
            entry("push", "", "Empfang", "+4930222"),
            entry("push", "", "Anna", "+4930333"),
        ],
    );
    let b = Book::build(
        directory(2),
        vec![
            entry("push", "", "Empfang", "+4930111"),
            entry("push", "", "Empfang", "+4930222"),
            entry("push", "", "Anna", "+4930999"),
        ],
    );
    assert_eq!(ids(&a), ids(&b), "a new number keeps the id");
    let all: std::collections::HashSet<_> = ids(&a).into_iter().map(|(_, i)| i).collect();
    assert_eq!(all.len(), 3);
}

#[test]
fn etags_change_exactly_when_the_card_does() {
    let a = Book::build(directory(1), vec![entry("push", "1", "Anna", "+4930111")]);
    let same = Book::build(directory(2), vec![entry("push", "1", "Anna", "+4930111")]);
    let other = Book::build(directory(3), vec![entry("push", "1", "Anna", "+4930112")]);
    assert_eq!(a.etags(), same.etags());
    assert_ne!(a.etags(), other.etags());
}

#[test]
fn search_and_lookup_come_from_the_indexes() {
    let b = Book::build(
        directory(1),
        vec![
            entry("push", "1", "Jörg Müller", "+492311234567"),
            entry("push", "2", "Anna Schmidt", "+4930111222"),
        ],
    );
    let q = Query::parse("mueller").unwrap();
    let hits: Vec<&str> = b
        .search(&q)
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(hits, vec!["Jörg Müller"]);
    let q = Query::parse("111222").unwrap();
    assert_eq!(b.search(&q).len(), 1);
    let rules = NumberRules {
        region: "DE".parse().ok(),
        ..Default::default()
    };
    let hits = b.lookup("0231 1234567", &rules, "", usize::MAX);
    assert_eq!(hits[0].contact.display_name, "Jörg Müller");
    assert!(hits[0].exact);
}

#[test]
fn the_change_log_keeps_tombstones_until_both_limits_pass_and_says_when_too_old() {
    use crate::store::{Retention, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path()).unwrap());
    let books = Books::new(store.clone(), 1 << 20, 2).with_retention(Retention {
        min_versions: 2,
        min_seconds: 0,
    });
    let k = ApiKey::parse("ACME0123456789").unwrap();
    let push = |names: &[&str]| {
        let contacts: Vec<Contact> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Contact {
                display_name: (*n).into(),
                numbers: vec![PhoneNumber {
                    kind: NumberType::Work,
                    value: format!("+49301112223{i}"),
                }],
                ..Default::default()
            })
            .collect();
        store
            .replace_source(&k, "push", "push", &contacts, true)
            .unwrap();
        books.get(&k).unwrap().unwrap()
    };
    let v1 = push(&["Anna", "Ben"]);
    // A reader with nothing gets everything, whatever the log holds.
    let (_, c) = books.changes(&k, 0).unwrap().unwrap();
    assert_eq!((c.added.len(), c.version), (2, v1.version()));
    let ben = v1.contacts[1].id;
    let v2 = push(&["Anna"]);
    let (_, c) = books.changes(&k, v1.version()).unwrap().unwrap();
    assert_eq!((c.removed.clone(), c.version), (vec![ben], v2.version()));
    // Ben comes back: since v1 he is no removal (a reader who had him gets him again, as
    // "added": the log keeps each id's latest history, not every step).
    push(&["Anna", "Ben"]);
    let (_, c) = books.changes(&k, v1.version()).unwrap().unwrap();
    assert!(c.removed.is_empty() && c.added == vec![ben], "{c:?}");
    let (_, c) = books.changes(&k, v2.version()).unwrap().unwrap();
    assert_eq!(c.added, vec![ben]);
    // Three more versions: v1 falls out of the log (more than 2 versions back).
    for names in [&["Anna"][..], &["Anna", "Cleo"][..], &["Cleo"][..]] {
        let b = push(names);
        books.logged(&b).unwrap();
    }
    match books.changes(&k, v1.version()) {
        Err(BookError::Changes(changes::ChangesError::TooOld { since, .. })) => {
            assert_eq!(since, v1.version())
        }
        other => panic!("{:?}", other.map(|o| o.map(|(_, c)| c))),
    }
    match books.changes(&k, 999) {
        Err(BookError::Changes(changes::ChangesError::Unknown { .. })) => {}
        other => panic!("{:?}", other.map(|o| o.map(|(_, c)| c))),
    }
}

#[test]
fn by_family_name_is_the_order_handsets_list_in() {
    let c = |given: &str, family: &str, display: &str| Sourced {
        contact: Contact {
            display_name: display.into(),
            given_name: given.into(),
            family_name: family.into(),
            ..Default::default()
        },
        source: "push".into(),
        priority: 100,
    };
    let b = Book::build(
        directory(1),
        vec![
            c("Anna", "Zander", "Anna Zander"),
            c("", "", "Müller GmbH"),
            c("anna", "Özdemir", "anna Özdemir"),
            c("Zoe", "Adler", "Zoe Adler"),
        ],
    );
    let order = b.by_family_name().unwrap();
    let names: Vec<&str> = order
        .0
        .iter()
        .map(|i| b.contacts[*i as usize].display_name.as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Zoe Adler", "Müller GmbH", "anna Özdemir", "Anna Zander"]
    );
    for (rank, i) in order.0.iter().enumerate() {
        assert_eq!(order.1[*i as usize] as usize, rank);
    }
}
