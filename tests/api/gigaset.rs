//! The Gigaset online directory as a base uses it: what each entry carries, the order the
//! handset lists it in, caller lookup that shows the number that called, and the error
//! documents and URL forms a base needs.

use crate::helpers::{Response, Server, KEY};
use std::path::Path;

const BOOK: &str = "display_name,given_name,family_name,phone,email\n\
Anna Zander,Anna,Zander,WORK:+49891234567;EXTENSION:201;WORK:+49891234599;HOME:+49301111111;MOBILE:+491712345678;FAX:+49891234568,anna@acme.example\n\
Zoe Adler,Zoe,Adler,WORK:+49891234500;EXTENSION:100,\n\
Müller GmbH,,,WORK:+49897777777,\n";

fn pushed() -> Server {
    let s = Server::start(&[]);
    let r = s.push_csv(BOOK);
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

/// (ln, fn, hm, mb, fx) of every entry.
fn entries(r: &Response) -> Vec<[String; 5]> {
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.xml();
    doc.descendants()
        .filter(|n| n.has_tag_name("entry"))
        .map(|e| {
            let f = |tag: &str| {
                e.children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.text())
                    .unwrap_or_default()
                    .to_owned()
            };
            [f("ln"), f("fn"), f("hm"), f("mb"), f("fx")]
        })
        .collect()
}

fn e(ln: &str, fname: &str, hm: &str, mb: &str, fx: &str) -> [String; 5] {
    [ln, fname, hm, mb, fx].map(str::to_owned)
}

#[test]
fn every_number_is_shown_the_extension_first_in_handset_order() {
    let s = pushed();
    let r = s.book("gigaset/v1");
    assert_eq!(
        entries(&r),
        vec![
            e("Adler", "Zoe", "100", "", ""),
            e("Adler", "Zoe (Work)", "+49891234500", "", ""),
            e("Müller GmbH", "", "+49897777777", "", ""),
            e("Zander", "Anna", "201", "+491712345678", "+49891234568"),
            e("Zander", "Anna (Work)", "+49891234567", "", ""),
            e("Zander", "Anna (Work)", "+49891234599", "", ""),
            e("Zander", "Anna (Home)", "+49301111111", "", ""),
        ]
    );
    assert!(r.body.contains("total=\"7\""), "{}", r.body);
    let notice = r.header("x-phonedir-notice").expect("notice");
    assert!(
        notice.starts_with("4 numbers shown as entries of their own"),
        "{notice}"
    );
    // The directory status says the same, under the format's name.
    let st = s.api().status().json();
    let w = st["device_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["format"] == "gigaset")
        .unwrap_or_else(|| panic!("{st}"))
        .clone();
    assert_eq!(w["notice"].as_str(), Some(notice));

    // Paging counts entries.
    let r = s.book("gigaset/v1?command=get_list&type=pb&ln=zander&first=2&count=2");
    assert_eq!(
        entries(&r),
        vec![
            e("Zander", "Anna (Work)", "+49891234567", "", ""),
            e("Zander", "Anna (Work)", "+49891234599", "", ""),
        ]
    );
    assert!(
        r.body.contains("total=\"4\" first=\"2\" last=\"3\""),
        "{}",
        r.body
    );
}

#[test]
fn a_caller_is_shown_with_the_number_that_called() {
    let s = pushed();
    // As docs/phones/gigaset.md recommends for a base behind a PBX.
    let r = s
        .api()
        .settings(r#"{"numbers":"auto","region":"DE","outside_prefix":"0"}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let ask = |hm: &str| {
        s.book(&format!(
            "gigaset/v1?command=get_list&type=pb&hm={hm}&first=1&count=1"
        ))
    };
    // From home, as the line delivers it: outside prefix + national.
    assert_eq!(
        entries(&ask("0030 1111111")),
        vec![e("Zander", "Anna (Home)", "00301111111", "", "")]
    );
    // Internally, from the extension.
    assert_eq!(
        entries(&ask("201")),
        vec![e("Zander", "Anna", "201", "001712345678", "00891234568")]
    );
    // From the second work number.
    let r = ask("00891234599");
    assert_eq!(entries(&r)[0][1], "Anna (Work)");
    assert_eq!(entries(&r)[0][2], "00891234599");
    let r = ask("00891111111");
    assert_eq!(r.xml().root_element().attribute("notfound"), Some("hm"));
}

#[test]
fn errors_unknown_keys_and_both_url_forms_answer_in_the_protocol() {
    let s = pushed();
    // Unknown key, malformed key, bad number shape: the protocol's error document.
    for (path, status) in [
        (
            "/contacts/ZZZZZZZZZZZZZZ/gigaset/v1?command=get_list&type=pb&hm=201".to_owned(),
            404,
        ),
        ("/contacts/SHORT/gigaset/v1".to_owned(), 400),
        (format!("/contacts/{KEY}/gigaset/v1?numbers=roman"), 400),
        (format!("/contacts/{KEY}/gigaset/v1?numbers=national"), 400),
    ] {
        let r = s.get(&path);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("text/xml; charset=utf-8"),
            "{path}"
        );
        assert_eq!(r.xml().root_element().tag_name().name(), "error", "{path}");
    }

    // What a C530 IP sends, with the URL set as Gigaset's docs say (ending in `?`) and
    // without it (the parameters then follow the path directly).
    let sent = "command=get_list&type=pb&fn=*&ln=*&ct=*&st=*&hm=201&nr=*&mb=*&fx=*&sip=*&zc=*&em=*&in=*&bp=*&lang=9&first=1&count=1&mac=7C2F80D0C183&reqsrc=auto&handsetid=23546&limit=2048";
    for path in [
        format!("/contacts/{KEY}/gigaset/v1?{sent}"),
        format!("/contacts/{KEY}/gigaset/v1{sent}"),
        format!("/contacts/{KEY}/gigaset/v1??{sent}"),
    ] {
        let r = s.get(&path);
        assert_eq!(
            entries(&r),
            vec![e("Zander", "Anna", "201", "+491712345678", "+49891234568")],
            "{path}"
        );
    }

    // The URL docs/phones/gigaset.md tells the administrator to enter.
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/phones/gigaset.md"),
    )
    .unwrap();
    let line = doc
        .lines()
        .find(|l| l.contains("aucServerURL"))
        .expect("provisioning line");
    let url = line.split('=').nth(1).unwrap().trim();
    assert!(url.ends_with("/gigaset/v1?"), "{line}");
    let path = url.replace("https://HOST", "").replace("KEY", KEY);
    assert_eq!(entries(&s.get(&format!("{path}{sent}"))).len(), 1);
}
