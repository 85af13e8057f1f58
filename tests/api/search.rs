//! Searching from the phone: snom screens with soft keys and the search page, Yealink's
//! `#SEARCH`, and the spellings people type.

use crate::helpers::{Server, KEY};

fn book() -> Server {
    let mut csv = String::from("display_name,given_name,family_name,company,phone\r\n");
    for i in 0..45 {
        csv.push_str(&format!("Person {i:02},,,,+4930{:07}\r\n", 9_000_000 + i));
    }
    csv.push_str("Jörg Müller,Jörg,Müller,Bäckerei Groß,+4923648873040\r\n");
    csv.push_str("Zoë O'Brien & Partner,,,,+442079460958\r\n");
    let s = Server::start(&[]);
    let r = s.push(&format!("/contacts/{KEY}"), csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

fn path_of(url: &str) -> &str {
    &url[url.find("/contacts/").expect("absolute phonedir URL")..]
}

fn child<'a>(n: roxmltree::Node<'a, '_>, tag: &str) -> &'a str {
    n.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .unwrap_or("")
}

/// (key, label, url) of every SoftKeyItem.
fn keys(body: &str) -> Vec<(String, String, String)> {
    let doc = roxmltree::Document::parse(body).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("SoftKeyItem"))
        .map(|k| {
            (
                child(k, "Name").to_owned(),
                child(k, "Label").to_owned(),
                child(k, "URL").to_owned(),
            )
        })
        .collect()
}

fn names(body: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(body).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .map(|e| child(e, "Name").to_owned())
        .collect()
}

#[test]
fn snom_pages_with_soft_keys_and_searches_from_its_input_page() {
    let s = book();
    // Without `page`: the whole book and no soft keys, as before.
    let whole = s.book("snom/v1");
    assert_eq!(names(&whole.body).len(), 47);
    assert!(keys(&whole.body).is_empty());

    let r = s.book("snom/v1?page=1&numbers=intl00");
    assert_eq!(names(&r.body).len(), 20);
    let k = keys(&r.body);
    let labels: Vec<(&str, &str)> = k.iter().map(|(a, b, _)| (a.as_str(), b.as_str())).collect();
    assert_eq!(labels, vec![("F1", "Search"), ("F4", "Next")]);
    // Follow Next to the last screen.
    let r2 = s.get(path_of(&k[1].2));
    let r3 = s.get(path_of(&keys(&r2.body)[2].2));
    assert_eq!(names(&r3.body).len(), 7);
    let labels3: Vec<String> = keys(&r3.body).into_iter().map(|(_, l, _)| l).collect();
    assert_eq!(labels3, vec!["Search", "Previous"]);
    assert!(r3.body.contains("Zoë O&apos;Brien &amp; Partner"));
    assert!(
        r.body.contains("<Telephone>004923648873040</Telephone>"),
        "{}",
        r.body
    );

    // F1 opens the input page; the phone replaces the token and fetches the URL.
    let search = &k[0].2;
    assert!(
        search.contains("/snom/search") && search.contains("numbers=intl00"),
        "{search}"
    );
    let input = s.get(path_of(search));
    let doc = input.xml();
    assert_eq!(doc.root_element().tag_name().name(), "SnomIPPhoneInput");
    let item = doc
        .descendants()
        .find(|n| n.has_tag_name("InputItem"))
        .unwrap();
    let token = child(item, "InputToken");
    let url = child(doc.root_element(), "URL");
    assert!(url.contains(token), "{url}");
    let typed = url.replace(token, "MUELLER");
    let hits = s.get(path_of(&typed));
    assert_eq!(names(&hits.body), vec!["Jörg Müller"]);
    assert!(
        hits.body.contains("<Telephone>004923648873040</Telephone>"),
        "{}",
        hits.body
    );
}

#[test]
fn every_spelling_finds_mueller_on_every_searching_format() {
    let s = book();
    for q in [
        "muller",
        "mueller",
        "M%C3%9CLLER",
        "joerg",
        "gross",
        "8873040",
        "02364%208873040",
    ] {
        for f in ["yealink/v1", "snom/v1", "cisco/v1"] {
            let r = s.book(&format!("{f}?q={q}"));
            assert_eq!(r.status, 200);
            let body = &r.body;
            assert!(body.contains("Jörg Müller"), "{f}?q={q}");
            assert!(!body.contains("Person 01"), "{f}?q={q}");
        }
    }
    // Yealink's unreplaced placeholder and an empty term list everything.
    for q in ["%23SEARCH", ""] {
        let r = s.book(&format!("yealink/v1?q={q}"));
        assert_eq!(
            r.xml()
                .descendants()
                .filter(|n| n.has_tag_name("Unit"))
                .count(),
            47
        );
    }
}
