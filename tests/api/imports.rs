//! The files people really have: every shape in tests/data, any encoding and delimiter,
//! explicit maps, JSON, and the guards that keep a book from being wiped by accident.

use crate::helpers::{cli, csv_rows, fixture, Server, KEY};

fn book(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.book("").body)
}

#[test]
fn german_excel_windows_1252_semicolons_national_numbers() {
    let s = Server::start(&[]);
    let j = s.pushed("?region=DE", &fixture("excel-de-semicolon-cp1252.csv"));
    assert_eq!(j["encoding"], "windows-1252");
    assert_eq!(j["delimiter"], "semicolon");
    assert_eq!(j["vocabulary"], "generic");
    assert_eq!(j["contacts"], 3);
    assert_eq!(j["warnings"], serde_json::json!([]));
    assert_eq!(
        book(&s),
        vec![
            (
                "Müller, Jörg".to_owned(),
                "WORK:+492311234567;MOBILE:+491711234567".to_owned()
            ),
            (
                "Özdemir, Ayse".to_owned(),
                "WORK:+49301234567;MOBILE:+4915123456789".to_owned()
            ),
            ("Straßer, Ute".to_owned(), "WORK:+4989123456".to_owned()),
        ]
    );
    let yealink = s.book("yealink/v1").body;
    assert!(
        yealink.contains("Name=\"Müller, Jörg\""),
        "bytes decoded from cp1252"
    );
}

#[test]
fn outlook_export_with_bom_and_multiline_note() {
    let s = Server::start(&[]);
    let j = s.pushed("", &fixture("outlook-export.csv"));
    assert_eq!(j["vocabulary"], "outlook");
    assert_eq!(j["encoding"], "UTF-8 (BOM)");
    assert_eq!(j["contacts"], 2);
    assert!(j["columns_ignored"]
        .as_array()
        .unwrap()
        .contains(&"Notes".into()));
    assert_eq!(
        book(&s),
        vec![
            (
                "Hans Peter Keller".to_owned(),
                "FAX:+41446681801;WORK:+41446681800;MOBILE:+41791234567".to_owned()
            ),
            (
                "Maria Garcia".to_owned(),
                "WORK:+14255550109;MOBILE:+14255550110".to_owned()
            ),
        ]
    );
}

#[test]
fn google_export_pairs_labels_and_reports_the_foreign_number() {
    let s = Server::start(&[]);
    let j = s.pushed("?region=DE", &fixture("google-contacts-export.csv"));
    assert_eq!(j["vocabulary"], "google");
    assert_eq!(j["contacts"], 1);
    let w = &j["warnings"][0];
    assert_eq!(w["line"], 3);
    assert_eq!(w["column"], "Phone 1 - Value");
    assert_eq!(w["value"], "020 7946 0018");
    assert_eq!(
        w["message"],
        "`020 7946 0018` is not a valid number for region DE; add the country code or push with ?region=GB"
    );
    assert_eq!(
        book(&s),
        vec![(
            "Lena Fischer".to_owned(),
            "MOBILE:+491601234567;MOBILE:+491607654321;WORK:+49401234567".to_owned()
        )]
    );
    // With the right region the London number is stored.
    let j = s.pushed("?region=GB", &fixture("google-contacts-export.csv"));
    assert_eq!(j["contacts"], 2);
    assert!(book(&s).contains(&("Tom Baker".to_owned(), "HOME:+442079460018".to_owned())));
}

/// One book written by every encoding and delimiter Excel and friends produce.
#[test]
fn every_encoding_and_delimiter_gives_the_same_book() {
    let s = Server::start(&[]);
    let rows = [
        ["Name", "Telefon", "Mobil", "E-Mail"],
        ["Jürgen Weiß", "030 901820", "0151 12345678", "j@example.de"],
        ["Zoë \"Zo\" Ørsted; Jr.", "+44 20 7946 0958", "", ""],
        ["Ärzte-Praxis Süd", "089 1234567", "", "praxis@example.de"],
    ];
    let mut reference = None;
    for delim in [',', ';', '\t', '|'] {
        let text: String = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        if c.contains(['"', ',', ';', '|']) {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(&delim.to_string())
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let bom: Vec<u8> = b"\xef\xbb\xbf"
            .iter()
            .copied()
            .chain(text.bytes())
            .collect();
        let cp1252: Vec<u8> = text
            .chars()
            .map(|c| match c {
                'ü' => 0xFC,
                'ß' => 0xDF,
                'ë' => 0xEB,
                'Ø' => 0xD8,
                'Ä' => 0xC4,
                c => c as u8,
            })
            .collect();
        for (name, bytes) in [
            ("utf-8", text.clone().into_bytes()),
            ("utf-8 bom", bom),
            ("utf-16le", utf16le),
            ("utf-16be", utf16be),
            ("windows-1252", cp1252),
        ] {
            let j = s.pushed("?region=DE", &bytes);
            assert_eq!(j["contacts"], 3, "{name} {delim:?}: {j}");
            let got = book(&s);
            match &reference {
                None => reference = Some(got),
                Some(r) => assert_eq!(&got, r, "{name} with {delim:?}"),
            }
        }
    }
    let r = reference.unwrap();
    assert!(r.contains(&(
        "Zoë \"Zo\" Ørsted; Jr.".to_owned(),
        "WORK:+442079460958".to_owned()
    )));
}

#[test]
fn title_lines_blank_lines_trailing_columns_and_duplicate_headers() {
    let s = Server::start(&[]);
    let file = "Kontakte Export 2026\r\n\r\nName;Telefon;Telefon;Notiz;;\r\n\
                \"Anna\r\nSchmidt\";030 901820;030 901821;\"mehr\r\nText\";;\r\n\r\n\
                Ben;+49 231 12345-67;;;;\r\n";
    let j = s.pushed("?region=DE", file.as_bytes());
    assert_eq!(j["contacts"], 2, "{j}");
    let b = book(&s);
    assert_eq!(
        b[0],
        (
            // A line break in a name becomes a space: phones show a name on one line, and a
            // PBX display must get no control characters.
            "Anna Schmidt".to_owned(),
            "WORK:+4930901820;WORK:+4930901821".to_owned()
        )
    );
    assert_eq!(b[1], ("Ben".to_owned(), "WORK:+492311234567".to_owned()));
}

#[test]
fn explicit_map_completes_or_replaces_the_vocabularies() {
    let s = Server::start(&[]);
    // Known columns are read; the map adds the one no vocabulary knows.
    let file = "Kontakt|Rufnummer|Handy Nr.|Notiz\nACME Zentrale|0231 123450|0171 2345678|x\n";
    let j = s.pushed("?region=DE", file.as_bytes());
    assert_eq!(
        j["columns_ignored"],
        serde_json::json!(["Handy Nr.", "Notiz"])
    );
    let j = s.pushed("?region=DE&map=phone.mobile:Handy%20Nr.", file.as_bytes());
    assert_eq!(j["vocabulary"], "generic+map");
    assert_eq!(j["columns_ignored"], serde_json::json!(["Notiz"]));
    assert_eq!(
        book(&s),
        vec![(
            "ACME Zentrale".to_owned(),
            "WORK:+49231123450;MOBILE:+491712345678".to_owned()
        )]
    );

    // A CRM dump no vocabulary knows needs the map for everything.
    let crm = "Partner;Zentrale Durchwahlnr;Funk\nBeta GmbH;0231 223344;0171 3456789\n";
    let r = s.push(&format!("/contacts/{KEY}?region=DE"), crm.as_bytes());
    assert_eq!(r.status, 422, "{}", r.body);
    let map = "display_name:Partner,phone.work:Zentrale%20Durchwahlnr,phone.mobile:Funk";
    let j = s.pushed(&format!("?region=DE&map={map}"), crm.as_bytes());
    assert_eq!(j["vocabulary"], "map");
    assert_eq!(
        book(&s),
        vec![(
            "Beta GmbH".to_owned(),
            "WORK:+49231223344;MOBILE:+491713456789".to_owned()
        )]
    );

    let r = s.push(
        &format!("/contacts/{KEY}?map=display_name:Name"),
        crm.as_bytes(),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("`Name`"));
    let r = s.push(&format!("/contacts/{KEY}?map=shoe:Partner"), crm.as_bytes());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("phone.mobile"));
}

#[test]
fn json_push_for_internal_applications() {
    let s = Server::start(&[]);
    let url = s.url(&format!("/contacts/{KEY}?region=DE"));
    let body = br#"[{"internal_id": "1", "given_name": "Anna", "family_name": "Schmidt",
        "company": "ACME", "numbers": [{"type": "WORK", "number": "089 1234567"}, "EXT:201"]},
        {"display_name": "Hotline", "phone": "WORK:+498001234567"}]"#;
    let r = s.request(
        "POST",
        &url,
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["vocabulary"], "json");
    assert_eq!(
        book(&s),
        vec![
            (
                "Anna Schmidt".to_owned(),
                "WORK:+49891234567;EXTENSION:201".to_owned()
            ),
            ("Hotline".to_owned(), "WORK:+498001234567".to_owned())
        ]
    );
    let before = book(&s);
    let r = s.request(
        "PUT",
        &url,
        &[("Content-Type", "application/json")],
        Some(b"[{\"display_name\": \"X\",\n  \"numbres\": []}]"),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["details"][0]["line"], 2);
    assert!(r.json()["error"].as_str().unwrap().contains("numbres"));
    assert_eq!(book(&s), before);
}

#[test]
fn shrink_guard_refuses_an_accidentally_short_export() {
    let s = Server::start(&[]);
    s.pushed("", &fixture("syncblue-directory.csv"));
    let auth = format!("Bearer {KEY}");
    let r = s.request(
        "PUT",
        &s.url(&format!("/api/v1/directories/{KEY}/settings")),
        &[("Authorization", &auth)],
        Some(br#"{"max_shrink_percent": 50}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = book(&s);
    let two = b"display_name,phone\nA,+4930901820\nB,+4930901821\n";
    let r = s.push_file(two);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("from 6 to 2 contacts"));
    assert_eq!(book(&s), before);
    // Losing up to half is fine; more needs force.
    let three = b"display_name,phone\nA,+4930901820\nB,+4930901821\nC,+4930901822\n";
    assert_eq!(s.push_file(three).status, 200);
    assert_eq!(
        s.push(
            &format!("/contacts/{KEY}?force=true"),
            b"display_name,phone\nA,+4930901820\n"
        )
        .status,
        200
    );
    assert_eq!(book(&s).len(), 1);
}

#[test]
fn cli_import_prints_a_readable_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("google.csv");
    std::fs::write(&file, fixture("google-contacts-export.csv")).unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, err) = cli(&[
        "import",
        "--data-dir",
        d,
        "--key",
        KEY,
        "--region",
        "DE",
        "--dry-run",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 contact with 3 numbers from 2 rows (google, UTF-8, comma delimited)"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was stored"), "{out}");
    assert!(out.contains("\n2 problems:\n"), "{out}");
    // The advice names the command's flag, not the URL's parameter.
    assert!(
        out.contains(
            "line 3, column Phone 1 - Value: `020 7946 0018` is not a valid number for region DE; add the country code or import with --region GB"
        ),
        "{out}"
    );
    assert!(!out.contains("?region"), "{out}");
    let (ok, out, _) = cli(&["directory", "list", "--data-dir", d]);
    assert!(ok && !out.contains(KEY), "dry run stored nothing: {out}");
    let (ok, _, err) = cli(&["import", "--data-dir", d, "--key", KEY, "/nonexistent.csv"]);
    assert!(!ok && err.contains("cannot read /nonexistent.csv"), "{err}");
}
