//! Push the sync.blue files and fetch every phone-book format, checking names and numbers
//! the way a phone would read them.

use crate::helpers::{csv_rows, fixture, Server, KEY};

fn pushed() -> Server {
    let s = Server::start(&[]);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

#[test]
fn push_answers_with_counts_and_report() {
    let s = Server::start(&[]);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["directory"], KEY);
    assert_eq!(j["source"], "push");
    assert_eq!(j["contacts"], 6);
    assert_eq!(j["numbers"], 8);
    assert_eq!(j["version"], 1);
    assert_eq!(j["warnings"].as_array().unwrap().len(), 0);
}

#[test]
fn csv_book_has_the_contract_header_sorted_names_and_typed_numbers() {
    let s = pushed();
    let r = s.book("");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r
        .body
        .starts_with("internal_id,display_name,family_name,given_name,phone,email\r\n"));
    let rows = csv_rows(&r.body);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Émile Zola",
            "Jürgen Weiß",
            "Oliver Baltz",
            "Reception",
            "Support Hotline",
            "Zoë O'Brien & Partner"
        ]
    );
    assert_eq!(rows[1].1, "WORK:+4930901820;MOBILE:+4915112345678");
    assert_eq!(rows[3].1, "WORK:+4923648873000;FAX:+4923648873099");
}

#[test]
fn yealink_book_units_with_three_phones_escaped_names_and_search() {
    let s = pushed();
    let r = s.book("yealink/v1");
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    assert!(r
        .body
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(
        r.body.contains("Name=\"Zoë O&apos;Brien &amp; Partner\""),
        "{}",
        r.body
    );
    let doc = r.xml();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "YealinkIPPhoneBook");
    let units: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("Unit"))
        .collect();
    assert_eq!(units.len(), 6);
    let juergen = units
        .iter()
        .find(|u| u.attribute("Name") == Some("Jürgen Weiß"))
        .expect("Jürgen");
    assert_eq!(juergen.attribute("Phone1"), Some("+4930901820"));
    assert_eq!(juergen.attribute("Phone2"), Some("+4915112345678"));
    assert_eq!(juergen.attribute("Phone3"), Some(""));
    assert!(units
        .iter()
        .any(|u| u.attribute("Name") == Some("Zoë O'Brien & Partner")));

    for (q, expect) in [
        ("weiss", 1),
        ("WEISS", 1),
        ("#SEARCH", 6),
        ("", 6),
        ("zola", 1),
        ("0958", 1),
    ] {
        let r = s.get(&format!(
            "/contacts/{KEY}/yealink/v1?q={}",
            q.replace('#', "%23")
        ));
        let n = r
            .xml()
            .descendants()
            .filter(|n| n.has_tag_name("Unit"))
            .count();
        assert_eq!(n, expect, "q={q}");
    }
}

#[test]
fn yealink_directory_style_labels_every_number() {
    let s = pushed();
    let r = s.book("yealink/v1?style=directory");
    let doc = r.xml();
    assert_eq!(
        doc.root_element().tag_name().name(),
        "YealinkIPPhoneDirectory"
    );
    let reception = doc
        .descendants()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .find(|e| {
            e.children()
                .any(|c| c.has_tag_name("Name") && c.text() == Some("Reception"))
        })
        .expect("Reception");
    let tels: Vec<(Option<&str>, Option<&str>)> = reception
        .children()
        .filter(|c| c.has_tag_name("Telephone"))
        .map(|t| (t.attribute("label"), t.text()))
        .collect();
    assert_eq!(
        tels,
        vec![
            (Some("Work"), Some("+4923648873000")),
            (Some("Fax"), Some("+4923648873099"))
        ]
    );
}

#[test]
fn snom_directory_has_one_entry_per_number_and_tbook_answers_get_and_post() {
    let s = pushed();
    let r = s.book("snom/v1");
    let doc = r.xml();
    assert_eq!(doc.root_element().tag_name().name(), "SnomIPPhoneDirectory");
    let entries: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .map(|e| {
            let t = |tag| {
                e.children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.text())
                    .unwrap_or("")
                    .to_owned()
            };
            (t("Name"), t("Telephone"))
        })
        .collect();
    assert_eq!(entries.len(), 8);
    assert!(entries.contains(&("Jürgen Weiß (Mobile)".into(), "+4915112345678".into())));
    assert!(entries.contains(&("Oliver Baltz".into(), "+4923648873040".into())));

    let q = s
        .get(&format!("/contacts/{KEY}/snom/v1?q=baltz"))
        .xml()
        .descendants()
        .filter(|n| n.has_tag_name("DirectoryEntry"))
        .count();
    assert_eq!(q, 1);

    let get = s.book("snom/tbook");
    let post = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}/snom/tbook")),
        &[],
        Some(b""),
    );
    assert_eq!(post.status, 200);
    assert_eq!(get.body, post.body);
    let doc = get.xml();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "tbook");
    assert_eq!(root.attribute("complete"), Some("true"));
    assert_eq!(root.attribute("version"), Some("2.0"));
    let baltz = doc
        .descendants()
        .filter(|n| n.has_tag_name("contact"))
        .find(|c| {
            c.descendants()
                .any(|d| d.has_tag_name("last_name") && d.text() == Some("Baltz"))
        })
        .expect("Baltz");
    let number = baltz
        .descendants()
        .find(|d| d.has_tag_name("number"))
        .unwrap();
    assert_eq!(number.attribute("no"), Some("+4923648873040"));
    assert_eq!(number.attribute("type"), Some("business"));
}

#[test]
fn gigaset_online_directory_protocol() {
    let s = pushed();
    let base = format!("/contacts/{KEY}/gigaset/v1");

    // Without parameters: the whole list.
    let doc_body = s.get(&base).body;
    let doc = roxmltree::Document::parse(&doc_body).unwrap();
    let list = doc.root_element();
    assert_eq!(list.tag_name().name(), "list");
    assert_eq!(list.attribute("total"), Some("6"));

    // Caller lookup as a base sends it, in national shape (the number is stored as E.164).
    let body = s
        .get(&format!("{base}?command=get_list&type=pb&fn=*&ln=*&ct=*&st=*&hm=030901820&nr=*&mb=*&fx=*&sip=*&zc=*&em=*&lang=9&first=1&count=1&reqsrc=auto&limit=2048"))
        .body;
    let doc = roxmltree::Document::parse(&body).unwrap();
    let list = doc.root_element();
    assert_eq!(
        (
            list.attribute("total"),
            list.attribute("first"),
            list.attribute("last")
        ),
        (Some("1"), Some("1"), Some("1"))
    );
    let text = |tag| {
        doc.descendants()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    assert_eq!(text("ln").as_deref(), Some("Weiß"));
    assert_eq!(text("fn").as_deref(), Some("Jürgen"));
    assert_eq!(text("hm").as_deref(), Some("+4930901820"));
    assert_eq!(text("mb").as_deref(), Some("+4915112345678"));

    // Same lookup as +49 and 0049.
    for hm in ["%2B4930901820", "004930901820"] {
        let b = s
            .get(&format!("{base}?command=get_list&type=pb&hm={hm}"))
            .body;
        assert!(b.contains("<ln>Weiß</ln>"), "{hm}: {b}");
    }

    // Not found names the searched field.
    let b = s
        .get(&format!("{base}?command=get_list&type=pb&hm=0891111111"))
        .body;
    let d = roxmltree::Document::parse(&b).unwrap();
    assert_eq!(d.root_element().attribute("notfound"), Some("hm"));
    assert_eq!(d.root_element().attribute("total"), Some("0"));

    // Name search with paging: total counts all hits, first/last the page.
    let b = s
        .get(&format!(
            "{base}?command=get_list&type=pb&ln=*&first=2&count=2"
        ))
        .body;
    let d = roxmltree::Document::parse(&b).unwrap();
    let l = d.root_element();
    assert_eq!(
        (
            l.attribute("total"),
            l.attribute("first"),
            l.attribute("last")
        ),
        (Some("6"), Some("2"), Some("3"))
    );
    assert_eq!(
        d.descendants().filter(|n| n.has_tag_name("entry")).count(),
        2
    );
    let b = s
        .get(&format!("{base}?command=get_list&type=pb&ln=wei*"))
        .body;
    assert!(
        b.contains("total=\"1\"") && b.contains("<ln>Weiß</ln>"),
        "{b}"
    );
    let b = s
        .get(&format!("{base}?command=get_list&type=pb&ln=weiss"))
        .body;
    assert!(b.contains("total=\"1\""), "{b}");

    // Errors are the protocol's error document.
    let b = s
        .get(&format!("{base}?command=get_list&type=pb&first=abc"))
        .body;
    let d = roxmltree::Document::parse(&b).unwrap();
    assert_eq!(d.root_element().tag_name().name(), "error");
    assert_eq!(
        d.descendants()
            .find(|n| n.has_tag_name("errorid"))
            .unwrap()
            .text(),
        Some("2")
    );
    let b = s.get(&format!("{base}?command=get_list&type=yp")).body;
    assert!(b.contains("<errorid>7</errorid>"), "{b}");
}

#[test]
fn gigaset_central_book() {
    let s = pushed();
    let doc_body = s.book("gigaset/central").body;
    assert!(doc_body.contains("<!DOCTYPE LocalDirectory>"));
    let doc = roxmltree::Document::parse_with_options(
        &doc_body,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let weiss = doc
        .descendants()
        .find(|n| n.attribute("surname") == Some("Weiß"))
        .expect("Weiß");
    assert_eq!(weiss.attribute("name"), Some("Jürgen"));
    assert_eq!(weiss.attribute("office1"), Some("+4930901820"));
    assert_eq!(weiss.attribute("mobile1"), Some("+4915112345678"));
    assert_eq!(weiss.attribute("home1"), Some(""));
    // Bytes, not just XML: ß and ü arrive as UTF-8.
    assert!(doc_body.as_bytes().windows(2).any(|w| w == "ß".as_bytes()));
}

#[test]
fn account_csv_numbers_by_column_type() {
    let s = Server::start(&[]);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-account.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 2);
    assert_eq!(r.json()["columns_ignored"], serde_json::json!(["birthday"]));
    let rows = csv_rows(&s.book("").body);
    assert_eq!(rows[0].0, "Anna Schmidt");
    assert_eq!(
        rows[0].1,
        "WORK:+4989123456;WORK:+4989123457;FAX:+4989123459;MOBILE:+491701234567"
    );
    assert_eq!(rows[1].0, "Ben Müller");
    assert_eq!(rows[1].1, "WORK:+4989123460;HOME:+4981519999");
}

#[test]
fn https_serves_the_same_books_as_http() {
    let s = pushed();
    for path in ["", "/yealink/v1", "/snom/v1", "/gigaset/v1"] {
        let p = format!("/contacts/{KEY}{path}");
        let a = s.get(&p);
        let b = s.get_tls(&p);
        assert_eq!(b.status, 200, "{p}");
        assert_eq!(a.body, b.body, "{p}");
    }
}

#[test]
fn etag_answers_304_until_the_book_changes() {
    let s = pushed();
    let path = format!("/contacts/{KEY}/yealink/v1");
    let first = s.get(&path);
    let tag = first.header("etag").expect("etag").to_owned();
    let again = s.request("GET", &s.url(&path), &[("If-None-Match", &tag)], None);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    // Another format has its own tag.
    let other = s.request(
        "GET",
        &s.url(&format!("/contacts/{KEY}/snom/v1")),
        &[("If-None-Match", &tag)],
        None,
    );
    assert_eq!(other.status, 200);
    // The same file again changes nothing, so phones keep their copy.
    let same = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(same.json()["changed"], false);
    assert_eq!(
        s.request("GET", &s.url(&path), &[("If-None-Match", &tag)], None)
            .status,
        304
    );
    // A real change does not.
    let r = s.push_file(b"display_name,phone\nNew Person,+4930901899\n");
    assert_eq!(r.status, 200, "{}", r.body);
    let after = s.request("GET", &s.url(&path), &[("If-None-Match", &tag)], None);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(tag.as_str()));
    assert!(after.body.contains("New Person"));
}

#[test]
fn sources_replace_only_themselves() {
    let s = pushed();
    let r = s.push(
        &format!("/contacts/{KEY}?source=crm"),
        b"display_name,phone\nCRM Person,+4930901898\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["source"], "crm");
    assert_eq!(r.json()["contacts"], 1);
    assert_eq!(csv_rows(&s.book("").body).len(), 7);
    s.push(
        &format!("/contacts/{KEY}?source=crm"),
        b"display_name,phone\nOther,+4930901897\n",
    );
    let names: Vec<String> = csv_rows(&s.book("").body)
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(names.len(), 7);
    assert!(names.contains(&"Other".to_owned()) && !names.contains(&"CRM Person".to_owned()));
}

#[test]
fn region_reads_national_numbers_and_bad_numbers_are_reported_by_line() {
    let s = Server::start(&[]);
    let csv = "display_name,phone\r\nAnna,030 12345-67\r\nTom,HOME:020 7946 0018\r\nEve,42\r\n";
    let r = s.push(&format!("/contacts/{KEY}?region=DE"), csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["contacts"], 2);
    let w = &j["warnings"][0];
    assert_eq!(w["line"], 3);
    assert_eq!(w["column"], "phone");
    assert_eq!(w["value"], "HOME:020 7946 0018");
    assert_eq!(
        w["message"],
        "`020 7946 0018` is not a valid number for region DE; add the country code or push with ?region=GB"
    );
    let rows = csv_rows(&s.book("").body);
    assert_eq!(rows[0], ("Anna".to_owned(), "WORK:+49301234567".to_owned()));
    assert_eq!(rows[1], ("Eve".to_owned(), "EXTENSION:42".to_owned()));
}

#[test]
fn raw_csv_body_with_put_works_like_the_form() {
    let s = Server::start(&[]);
    let r = s.request(
        "PUT",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", "text/csv")],
        Some(&fixture("syncblue-directory.csv")),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 6);
}
