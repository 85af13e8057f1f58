use super::*;
use crate::domain::merge::Sourced;
use crate::domain::{ApiKey, DirectorySettings, PhoneNumber};
use crate::store::Directory;
use ldap3_proto::parse_ldap_filter_str;

fn n(kind: NumberType, v: &str) -> PhoneNumber {
    PhoneNumber {
        kind,
        value: v.into(),
    }
}

fn contact(
    display: &str,
    given: &str,
    family: &str,
    company: &str,
    numbers: Vec<PhoneNumber>,
) -> Sourced {
    Sourced {
        contact: Contact {
            display_name: display.into(),
            given_name: given.into(),
            family_name: family.into(),
            company: company.into(),
            numbers,
            ..Default::default()
        },
        source: "push".into(),
        priority: 100,
    }
}

fn book() -> Book {
    let mut zoe = contact("Zoë O'Brien", "Zoë", "O'Brien", "", vec![]);
    zoe.contact.email = "zoe@example.com".into();
    zoe.contact.department = "Sales".into();
    // As the store hands a source's entries over: sorted by name.
    Book::build(
        Directory {
            id: 1,
            key: ApiKey::parse("ACME0123456789").unwrap(),
            settings: DirectorySettings::default(),
            version: 1,
        },
        vec![
            contact(
                "Anna Schmidt",
                "Anna",
                "Schmidt",
                "ACME",
                vec![
                    n(NumberType::Work, "+492311234567"),
                    n(NumberType::Extension, "42"),
                ],
            ),
            contact(
                "Jörg Müller",
                "Jörg",
                "Müller",
                "Bäckerei Groß",
                vec![
                    n(NumberType::Work, "+4989123456"),
                    n(NumberType::Mobile, "+4915112345678"),
                ],
            ),
            contact(
                "Pizza Roma",
                "",
                "",
                "Pizza Roma",
                vec![n(NumberType::Work, "+49891111111")],
            ),
            zoe,
        ],
    )
}

fn numbers() -> Numbers<'static> {
    Numbers {
        rules: NumberRules {
            region: "DE".parse().ok(),
            max_extension_digits: 6,
        },
        outside_prefix: "0",
    }
}

/// Display names found by an RFC 4515 filter, in answer order.
fn found(filter: &str) -> Vec<String> {
    found_limited(filter, 100).0
}

fn found_limited(filter: &str, limit: usize) -> (Vec<String>, bool) {
    let b = book();
    let f = parse_ldap_filter_str(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    let q = Query::from_ldap(&f).unwrap();
    let (hits, more) = find(&b, &q, &numbers(), limit);
    (
        hits.iter()
            .map(|i| b.contacts[*i as usize].display_name.clone())
            .collect(),
        more,
    )
}

#[test]
fn names_start_a_word_in_any_case_accent_or_spelling() {
    // Yealink's and Gigaset's name filters with what a user types.
    for typed in ["Mül", "mul", "MUE", "jörg", "joe"] {
        let f = format!("(|(cn={typed}*)(sn={typed}*))");
        assert_eq!(found(&f), vec!["Jörg Müller"], "{f}");
    }
    assert_eq!(
        found("(|(displayName=sch*)(sn=sch*))"),
        vec!["Anna Schmidt"]
    );
    // Company-only entries have their name as sn; `o` is the company.
    assert_eq!(found("(sn=piz*)"), vec!["Pizza Roma"]);
    assert_eq!(found("(o=bäck*)"), vec!["Jörg Müller"]);
    assert_eq!(found("(company=baeck*)"), vec!["Jörg Müller"]);
    // Not a word start.
    assert!(found("(cn=ller*)").is_empty());
    // givenName of a company-only entry is empty.
    assert!(found("(givenName=piz*)").is_empty());
    assert_eq!(found("(gn=an*)"), vec!["Anna Schmidt"]);
}

#[test]
fn any_and_final_parts_and_equality() {
    assert_eq!(found("(cn=*ller*)"), vec!["Jörg Müller"]);
    assert_eq!(found("(cn=*muel*)"), vec!["Jörg Müller"]);
    assert_eq!(found("(sn=*dt)"), vec!["Anna Schmidt"]);
    assert_eq!(found("(cn=a*sch*dt)"), vec!["Anna Schmidt"]);
    assert!(found("(cn=a*dt*sch)").is_empty());
    assert_eq!(found("(cn=\"ANNA SCHMIDT\")"), vec!["Anna Schmidt"]);
    assert_eq!(found("(cn~=\"anna schmidt\")"), vec!["Anna Schmidt"]);
    assert_eq!(found("(cn=\"zoe obrien\")"), vec!["Zoë O'Brien"]);
    assert!(found("(cn=Anna)").is_empty());
    assert_eq!(found("(mail=ZOE@example.com)"), vec!["Zoë O'Brien"]);
    assert_eq!(found("(ou=sal*)"), vec!["Zoë O'Brien"]);
    assert_eq!(found("(mail=*)"), vec!["Zoë O'Brien"]);
}

#[test]
fn numbers_in_every_shape_a_phone_sends() {
    // Gigaset's exact number filter and Yealink's number filter, with the caller as the
    // line delivers it.
    for caller in [
        "+4989123456",
        "004989123456",
        "089123456",
        "089 123456",
        "089-123-456",
        "0089123456",
    ] {
        let gigaset = format!(
            "(|(telephoneNumber=\"{caller}\")(mobile=\"{caller}\")(homePhone=\"{caller}\"))"
        );
        assert_eq!(found(&gigaset), vec!["Jörg Müller"], "{gigaset}");
        let yealink =
            format!("(|(telephoneNumber=\"{caller}\")(mobile=\"{caller}\")(ipPhone=\"{caller}\"))");
        assert_eq!(found(&yealink), vec!["Jörg Müller"], "{yealink}");
    }
    assert_eq!(found("(mobile=\"0151 12345678\")"), vec!["Jörg Müller"]);
    // A mobile number is no telephoneNumber.
    assert!(found("(telephoneNumber=015112345678)").is_empty());
    assert_eq!(found("(ipPhone=42)"), vec!["Anna Schmidt"]);
    assert_eq!(found("(Mobile=+4915112345678)"), vec!["Jörg Müller"]);
    // Substrings: digits anywhere, in order, whatever the shape.
    assert_eq!(
        found("(telephoneNumber=089*)"),
        vec!["Jörg Müller", "Pizza Roma"]
    );
    assert_eq!(
        found("(telephoneNumber=\"+49 89 12*\")"),
        vec!["Jörg Müller"]
    );
    assert_eq!(found("(telephoneNumber=*4567)"), vec!["Anna Schmidt"]);
    assert_eq!(found("(telephoneNumber=*0231*45*)"), vec!["Anna Schmidt"]);
    assert!(found("(telephoneNumber=abc*)").is_empty());
    assert_eq!(found("(ipPhone=4*)"), vec!["Anna Schmidt"]);
}

#[test]
fn snom_presence_and_not() {
    assert_eq!(
        found("(&(telephoneNumber=*)(sn=sch*))"),
        vec!["Anna Schmidt"]
    );
    assert!(found("(&(telephoneNumber=*)(sn=o*))").is_empty());
    assert_eq!(
        found("(&(telephoneNumber=089123456)(sn=*))"),
        vec!["Jörg Müller"]
    );
    assert_eq!(
        found("(!(cn=a*))"),
        vec!["Jörg Müller", "Pizza Roma", "Zoë O'Brien"]
    );
    assert_eq!(
        found("(&(cn=*)(!(telephoneNumber=*)))"),
        vec!["Zoë O'Brien"]
    );
}

#[test]
fn object_class_unknown_attributes_and_ordering() {
    let all = vec!["Anna Schmidt", "Jörg Müller", "Pizza Roma", "Zoë O'Brien"];
    assert_eq!(found("(objectClass=*)"), all);
    assert_eq!(found("(objectclass=inetOrgPerson)"), all);
    assert_eq!(
        found("(&(objectClass=person)(cn=an*))"),
        vec!["Anna Schmidt"]
    );
    assert!(found("(objectClass=groupOfNames)").is_empty());
    // A template's attribute we lack matches nothing and fails nothing.
    assert!(found("(jpegPhoto=*)").is_empty());
    assert_eq!(found("(|(cn=an*)(nickname=an*))"), vec!["Anna Schmidt"]);
    assert!(found("(cn>=a)").is_empty());
    assert_eq!(found("(!(cn<=a))"), all);
}

#[test]
fn limits_cut_in_display_order() {
    assert_eq!(
        found_limited("(objectClass=*)", 2),
        (
            vec!["Anna Schmidt".to_owned(), "Jörg Müller".to_owned()],
            true
        )
    );
    assert_eq!(
        found_limited("(cn=*)", 4),
        (
            vec![
                "Anna Schmidt".to_owned(),
                "Jörg Müller".to_owned(),
                "Pizza Roma".to_owned(),
                "Zoë O'Brien".to_owned()
            ],
            false
        )
    );
}

#[test]
fn uid_finds_one_contact() {
    let b = book();
    let id = b.contacts[1].id;
    let f = parse_ldap_filter_str(&format!("(uid={id})")).unwrap();
    let (hits, _) = find(&b, &Query::from_ldap(&f).unwrap(), &numbers(), 10);
    assert_eq!(hits, vec![1]);
    let f = parse_ldap_filter_str("(uid=0000000000000001)").unwrap();
    let (hits, _) = find(&b, &Query::from_ldap(&f).unwrap(), &numbers(), 10);
    assert!(hits.is_empty());
}

#[test]
fn hostile_filters_are_bounded() {
    let many: String = (0..MAX_NODES).map(|i| format!("(cn=a{i}*)")).collect();
    let f = parse_ldap_filter_str(&format!("(|{many})")).unwrap();
    assert_eq!(Query::from_ldap(&f), Err(FilterError::TooManyNodes));
    let scans: String = (0..=MAX_CHECKS).map(|i| format!("(cn=*a{i}*)")).collect();
    let f = parse_ldap_filter_str(&format!("(|{scans})")).unwrap();
    assert_eq!(Query::from_ldap(&f), Err(FilterError::TooManyChecks));
    // Index-answered parts do not count as checks.
    let indexed: String = (0..40).map(|i| format!("(cn=a{i}*)")).collect();
    let f = parse_ldap_filter_str(&format!("(|{indexed})")).unwrap();
    assert!(Query::from_ldap(&f).is_ok());
}

#[test]
fn translation_folds_constants() {
    let q = |s: &str| Query::from_ldap(&parse_ldap_filter_str(s).unwrap()).unwrap();
    assert_eq!(q("(&(objectClass=*)(foo=1))"), Query::False);
    assert_eq!(q("(|(objectClass=*)(foo=1))"), Query::True);
    assert_eq!(q("(!(foo=1))"), Query::True);
    assert_eq!(q("(cn=-*)"), Query::Text(Field::Display, Test::Present));
    assert_eq!(
        q("(&(cn=a*)(objectClass=person))"),
        Query::Text(
            Field::Display,
            Test::Substrings {
                initial: Some("a".into()),
                any: vec![],
                last: None
            }
        )
    );
}

#[test]
fn a_big_book_is_searched_a_part_at_a_time_with_the_same_answers() {
    // 5,000 people in name order; the Zimmermanns come last.
    let mut entries: Vec<Sourced> = (0..4990)
        .map(|i| {
            contact(
                &format!("Anna {i:04}"),
                "Anna",
                &format!("A{i:04}"),
                "ACME",
                vec![],
            )
        })
        .collect();
    for i in 0..10 {
        entries.push(contact(
            &format!("Zoe Zimmermann {i}"),
            "Zoe",
            "Zimmermann",
            "ACME",
            vec![n(NumberType::Work, &format!("+4989123456{i}"))],
        ));
    }
    let b = Book::build(
        Directory {
            id: 1,
            key: ApiKey::parse("ACME0123456789").unwrap(),
            settings: DirectorySettings::default(),
            version: 1,
        },
        entries,
    );
    let run = |f: &str, limit| {
        let q = Query::from_ldap(&parse_ldap_filter_str(f).unwrap()).unwrap();
        find(&b, &q, &numbers(), limit)
    };
    let (hits, more) = run("(|(cn=an*)(sn=an*))", 50);
    assert_eq!(hits, (0..50).collect::<Vec<u32>>());
    assert!(more);
    // Hits only at the end: found after the first parts came up short.
    let (hits, more) = run("(|(cn=zim*)(sn=zim*))", 50);
    assert_eq!(hits, (4990..5000).collect::<Vec<u32>>());
    assert!(!more);
    let (hits, more) = run("(|(cn=zim*)(sn=zim*))", 9);
    assert_eq!((hits.len(), more), (9, true));
    // A company everyone has is no name.
    assert_eq!(run("(|(cn=acme*)(sn=acme*))", 50), (vec![], false));
    // Checks without an index go as far as needed too.
    let (hits, _) = run("(&(cn=*mann*)(telephoneNumber=*))", 50);
    assert_eq!(hits.len(), 10);
    let (hits, more) = run("(!(cn=zoe*))", 5000);
    assert_eq!((hits.len(), more), (4990, false));
}
