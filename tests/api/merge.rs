//! The merged book: pushes into two sources become one list in every format.

use crate::helpers::{csv_rows, Server, KEY};

/// Pushes `csv` as `source`, German national numbers allowed.
fn push(s: &Server, source: &str, csv: &str) {
    s.pushed(&format!("?source={source}&region=DE"), csv.as_bytes());
}

#[test]
fn the_same_person_in_two_sources_is_one_entry_and_switchboards_do_not_fold() {
    let s = Server::start(&[]);
    push(
        &s,
        "crm",
        "display_name,company,phone,phone_mobile\n\
         \"Weiss, Juergen\",Old GmbH,02364 88730-40,\n\
         Anna Schmidt,ACME,02364 887300,\n\
         Bernd Meier,ACME,02364 887300,0170 1111111\n",
    );
    push(
        &s,
        "m365",
        "display_name,company,phone,phone_mobile,email\n\
         Jürgen Weiß,ACME,+49 2364 8873040,0171 2222222,jw@acme.example\n",
    );
    let rows = csv_rows(&s.book("").body);
    assert_eq!(
        rows,
        vec![
            ("Anna Schmidt".to_owned(), "WORK:+492364887300".to_owned()),
            (
                "Bernd Meier".to_owned(),
                "WORK:+492364887300;MOBILE:+491701111111".to_owned()
            ),
            (
                "Weiss, Juergen".to_owned(),
                "WORK:+4923648873040;MOBILE:+491712222222".to_owned()
            ),
        ],
        "Jürgen folded into one entry (equal priority: the first source by name wins the name), \
         colleagues behind the switchboard stay apart"
    );

    // Yealink renders the same merged list.
    let y = s.book("yealink/v1");
    let doc = y.xml();
    let units: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Unit"))
        .collect();
    assert_eq!(units.len(), 3, "{}", y.body);
    let jw = units
        .iter()
        .find(|u| u.attribute("Name") == Some("Weiss, Juergen"))
        .expect("Jürgen");
    assert_eq!(jw.attribute("Phone1"), Some("+4923648873040"));
    assert_eq!(jw.attribute("Phone2"), Some("+491712222222"));

    // Which sources an entry came from is visible in the status counts per source.
    let st = s
        .request(
            "GET",
            &s.url(&format!("/api/v1/directories/{KEY}")),
            &[("Authorization", &format!("Bearer {KEY}"))],
            None,
        )
        .json();
    let sources = st["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert!(sources
        .iter()
        .all(|s| s["kind"] == "push" && s["status"] == "ok"));
}

/// A merged entry's names are one source's: the Yealink name and the Gigaset `ln`/`fn`
/// never come from two different spellings.
#[test]
fn display_given_and_family_name_come_from_one_source() {
    let s = Server::start(&[]);
    push(
        &s,
        "push",
        "display_name,phone\n\"Weiss, Juergen\",+4923648873040\n",
    );
    push(
        &s,
        "crm",
        "given_name,family_name,phone\nJürgen,Weiß,+4923648873040\n",
    );
    let names = |s: &Server| {
        let y = s.book("yealink/v1");
        let y = y.xml();
        let unit = y
            .descendants()
            .find(|n| n.has_tag_name("Unit"))
            .and_then(|u| u.attribute("Name"))
            .map(str::to_owned);
        let g = s.book("gigaset/v1");
        let g = g.xml();
        let field = |tag: &str| {
            g.descendants()
                .find(|n| n.has_tag_name(tag))
                .and_then(|n| n.text())
                .map(str::to_owned)
        };
        (unit, field("ln"), field("fn"))
    };
    // Equal priorities: `crm` sorts before `push` and wins all three names.
    assert_eq!(
        names(&s),
        (
            Some("Jürgen Weiß".into()),
            Some("Weiß".into()),
            Some("Jürgen".into())
        )
    );
    // The push's priority made better: its display name, and no `Jürgen`/`Weiß` mixed in.
    let r = s.api().call(
        "PUT",
        "/sources/push",
        Some(r#"{"kind":"push","priority":5}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        names(&s),
        (
            Some("Weiss, Juergen".into()),
            Some("Weiss, Juergen".into()),
            None
        )
    );
}
