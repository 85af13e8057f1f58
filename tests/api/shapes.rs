//! Number shapes on every phone book and the caller-ID lookup API, against the real server.

use crate::helpers::{csv_rows, Server, KEY};

/// National input (read with ?region=DE), a foreign number, an extension, and names that
/// need escaping.
const BOOK: &str = "internal_id,display_name,family_name,given_name,phone,email\r\n\
1,Jörg Müller,Müller,Jörg,WORK:02364 8873040;EXTENSION:42;MOBILE:0151 12345678,\r\n\
2,Alpen & <Söhne>,,,WORK:+43 664 1234567,\r\n\
3,Empfang,,,EXTENSION:10,\r\n";

fn pushed() -> Server {
    let s = Server::start(&[]);
    let r = s.push(&format!("/contacts/{KEY}?region=DE"), BOOK.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

/// Unit name → its three phone attributes, read from the Yealink XML.
fn yealink_units(s: &Server, query: &str) -> Vec<(String, [String; 3])> {
    let r = s.book(&format!("yealink/v1{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let doc = r.xml();
    doc.descendants()
        .filter(|n| n.has_tag_name("Unit"))
        .map(|u| {
            let a = |k: &str| u.attribute(k).unwrap_or_default().to_owned();
            (a("Name"), [a("Phone1"), a("Phone2"), a("Phone3")])
        })
        .collect()
}

fn phones_of(units: &[(String, [String; 3])], name: &str) -> [String; 3] {
    units
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no unit {name} in {units:?}"))
        .1
        .clone()
}

#[test]
fn every_shape_for_national_foreign_and_extension_numbers() {
    let s = pushed();
    let cases = [
        (
            "",
            ["+4923648873040", "42", "+4915112345678"],
            "+436641234567",
        ),
        (
            "?numbers=intl00",
            ["004923648873040", "42", "004915112345678"],
            "00436641234567",
        ),
        (
            "?numbers=national&region=DE",
            ["023648873040", "42", "015112345678"],
            "+436641234567",
        ),
        (
            "?numbers=auto&region=DE",
            ["023648873040", "42", "015112345678"],
            "00436641234567",
        ),
        (
            "?numbers=auto&region=DE&outside_prefix=0",
            ["0023648873040", "42", "0015112345678"],
            "000436641234567",
        ),
        (
            "?numbers=auto&region=AT",
            ["004923648873040", "42", "004915112345678"],
            "06641234567",
        ),
    ];
    for (q, mueller, alpen) in cases {
        let units = yealink_units(&s, q);
        assert_eq!(phones_of(&units, "Jörg Müller"), mueller, "{q}");
        assert_eq!(phones_of(&units, "Alpen & <Söhne>")[0], alpen, "{q}");
        assert_eq!(phones_of(&units, "Empfang")[0], "10", "{q}");
    }
}

#[test]
fn shapes_apply_to_snom_gigaset_and_csv_too() {
    let s = pushed();
    let q = "numbers=auto&region=DE&outside_prefix=0";
    let r = s.book(&format!("snom/v1?{q}"));
    let doc = r.xml();
    let tels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Telephone"))
        .filter_map(|n| n.text())
        .collect();
    assert!(tels.contains(&"0023648873040"), "{tels:?}");
    assert!(tels.contains(&"42"), "{tels:?}");
    let r = s.book(&format!("snom/tbook?{q}"));
    let doc = r.xml();
    let nos: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("no"))
        .collect();
    assert!(nos.contains(&"000436641234567"), "{nos:?}");
    let r = s.book(&format!("gigaset/central?{q}"));
    let doc = roxmltree::Document::parse_with_options(
        &r.body,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let e = doc
        .descendants()
        .find(|n| n.attribute("surname") == Some("Müller"))
        .unwrap();
    assert_eq!(e.attribute("office1"), Some("0023648873040"));
    assert_eq!(e.attribute("office2"), Some("42"));
    assert_eq!(e.attribute("mobile1"), Some("0015112345678"));
    let r = s.book(&format!("gigaset/v1?hm=0023648873040&{q}"));
    let doc = r.xml();
    assert_eq!(
        doc.root_element().attribute("total"),
        Some("1"),
        "{}",
        r.body
    );
    let hm = doc.descendants().find(|n| n.has_tag_name("hm")).unwrap();
    assert_eq!(hm.text(), Some("0023648873040"));
    let r = s.get(&format!("/contacts/{KEY}?{q}"));
    let rows = csv_rows(&r.body);
    let m = rows.iter().find(|(n, _)| n == "Jörg Müller").unwrap();
    assert_eq!(m.1, "WORK:0023648873040;EXTENSION:42;MOBILE:0015112345678");
}

#[test]
fn directory_settings_shape_phones_and_the_url_wins() {
    let s = pushed();
    let url = s.url(&format!("/api/v1/directories/{KEY}/settings"));
    let auth = format!("Bearer {KEY}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = s.request(
        "PUT",
        &url,
        &h,
        Some(br#"{"numbers":"national","region":"DE","outside_prefix":"0"}"#),
    );
    assert!(r.status < 300, "{}", r.body);
    let units = yealink_units(&s, "");
    assert_eq!(
        phones_of(&units, "Jörg Müller"),
        ["0023648873040", "42", "0015112345678"]
    );
    // A foreign number under `national` stays international, dialable behind the prefix.
    assert_eq!(phones_of(&units, "Alpen & <Söhne>")[0], "000436641234567");
    let units = yealink_units(&s, "?numbers=e164&outside_prefix=");
    assert_eq!(
        phones_of(&units, "Jörg Müller"),
        ["+4923648873040", "42", "+4915112345678"]
    );
    // The CSV is the data contract: directory phone settings leave it E.164.
    let rows = csv_rows(&s.book("").body);
    let m = rows.iter().find(|(n, _)| n == "Jörg Müller").unwrap();
    assert_eq!(
        m.1,
        "WORK:+4923648873040;EXTENSION:42;MOBILE:+4915112345678"
    );
}

#[test]
fn bad_shape_parameters_are_refused_with_their_name() {
    let s = pushed();
    for (q, word) in [
        ("numbers=roman", "roman"),
        ("outside_prefix=9x", "9x"),
        ("region=XX", "XX"),
    ] {
        let r = s.book(&format!("yealink/v1?{q}"));
        assert_eq!(r.status, 400, "{q}");
        assert!(
            r.json()["error"].as_str().unwrap().contains(word),
            "{q}: {}",
            r.body
        );
    }
}

#[test]
fn lookup_finds_a_caller_in_every_arriving_shape() {
    let s = pushed();
    for n in [
        "+4923648873040",
        "004923648873040",
        "023648873040",
        "02364 88730-40",
        "(02364) 8873040",
        "0023648873040",
        "0004923648873040",
    ] {
        let r = s.get(&format!(
            "/contacts/{KEY}/lookup?number={}&region=DE&outside_prefix=0",
            urlencode(n)
        ));
        assert_eq!(r.status, 200, "{n}: {}", r.body);
        let j = r.json();
        assert_eq!(j["number"], "+4923648873040", "{n}");
        assert_eq!(j["name"], "Jörg Müller", "{n}");
        assert_eq!(j["type"], "WORK", "{n}");
        assert_eq!(j["exact"], true, "{n}");
        assert_eq!(j["contact"]["family_name"], "Müller", "{n}");
    }
    let r = s.get(&format!(
        "/contacts/{KEY}/lookup?number=015112345678&region=DE"
    ));
    assert_eq!(r.json()["type"], "MOBILE");
    let r = s.book("lookup?number=42");
    assert_eq!(r.json()["name"], "Jörg Müller");
    assert_eq!(r.json()["type"], "EXTENSION");
    let r = s.book("lookup?number=00436641234567");
    assert_eq!(r.json()["name"], "Alpen & <Söhne>");
    let r = s.get(&format!(
        "/contacts/{KEY}/lookup?number=0023648873040&format=text&region=DE&outside_prefix=0"
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.body, "Jörg Müller");
}

#[test]
fn lookup_uses_the_directory_settings_and_answers_404_for_strangers() {
    let s = pushed();
    let url = s.url(&format!("/api/v1/directories/{KEY}/settings"));
    let auth = format!("Bearer {KEY}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = s.request(
        "PUT",
        &url,
        &h,
        Some(br#"{"region":"DE","outside_prefix":"0"}"#),
    );
    assert!(r.status < 300, "{}", r.body);
    let r = s.book("lookup?number=0023648873040");
    assert_eq!(r.json()["name"], "Jörg Müller", "{}", r.body);
    let r = s.book("lookup?number=03012345678");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("no contact"));
    let r = s.get(&format!(
        "/contacts/{KEY}/lookup?number=03012345678&format=text"
    ));
    assert_eq!(r.status, 404);
    assert_eq!(r.body, "");
    let r = s.book("lookup");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("?number="));
    let r = s.book("lookup?number=42&format=xml");
    assert_eq!(r.status, 400);
    let r = s.get("/contacts/ZZZZZZZZZZZZZZ/lookup?number=42");
    assert_eq!(r.status, 404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `national` and `auto` need a home country; without one they used to be accepted and
/// silently write E.164. Now the settings API, the CLI and a URL refuse them with a
/// sentence, and the demo directory knows its country.
#[test]
fn national_shapes_without_a_region_are_refused() {
    let s = pushed();
    for json in [
        r#"{"numbers":"national"}"#,
        r#"{"numbers":"auto","outside_prefix":"0"}"#,
    ] {
        let r = s.api().settings(json);
        assert_eq!(r.status, 422, "{json}: {}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("set the region too"),
            "{}",
            r.body
        );
    }
    let r = s.book("yealink/v1?numbers=national");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("&region=DE"),
        "{}",
        r.body
    );
    assert_eq!(s.book("yealink/v1?numbers=national&region=DE").status, 200);
    // Once the directory has a region, the URL needs none.
    assert_eq!(s.api().settings(r#"{"region":"DE"}"#).status, 200);
    let units = yealink_units(&s, "?numbers=auto");
    assert_eq!(phones_of(&units, "Jörg Müller")[0], "023648873040");

    let d = s.data_dir().to_str().unwrap().to_owned();
    assert_eq!(s.api().settings("{}").status, 200);
    let (ok, _, err) = crate::helpers::cli(&[
        "directory",
        "set",
        KEY,
        "--numbers",
        "auto",
        "--data-dir",
        &d,
    ]);
    assert!(!ok, "accepted without a region");
    assert!(err.contains("set the region too"), "{err}");
    let (ok, out, err) = crate::helpers::cli(&[
        "directory",
        "set",
        KEY,
        "--numbers",
        "auto",
        "--region",
        "DE",
        "--data-dir",
        &d,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"auto\""), "{out}");

    // A server whose default region is DE lets a directory rely on it.
    let s = Server::start(&["--default-region", "DE"]);
    s.push_csv(BOOK);
    assert_eq!(s.api().settings(r#"{"numbers":"national"}"#).status, 200);
    assert_eq!(
        phones_of(&yealink_units(&s, ""), "Jörg Müller")[0],
        "023648873040"
    );
}

#[test]
fn the_demo_directory_knows_its_country() {
    let s = Server::start(&["--demo"]);
    let r = s.get("/contacts/DEMOabcABC0123/yealink/v1?numbers=national");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Phone1=\"089"), "{}", r.body);
}
