//! `carddav` sources against a real Radicale server: add, change and delete cards, sync,
//! and read the phone books each time.

use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::radicale::{Radicale, PASSWORD, USER};
use crate::sources::{api, create_directory};

const ANNA: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:anna-1\r\nFN:Anna Schmidt\r\n\
N:Schmidt;Anna;;;\r\nORG:ACME GmbH;Sales\r\nTEL;TYPE=work,voice:+49 231 1234567\r\n\
TEL;TYPE=CELL:0171 1111111\r\nEMAIL;TYPE=INTERNET:anna@acme.example\r\nEND:VCARD\r\n";

// vCard 4.0 with a folded, escaped name and tel: URIs.
const JUERGEN: &str = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:jw-2\r\nFN:Weiß\\, Jürgen (Lei\r\n \
tung)\r\nN:Weiß;Jürgen;;;\r\nTEL;VALUE=uri;TYPE=\"work,voice\":tel:+49-2364-8873040\r\n\
TEL;VALUE=uri;TYPE=fax:tel:+49-2364-8873099\r\nEND:VCARD\r\n";

const BERND: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bernd-3\r\nFN:Bernd Meier\r\n\
N:Meier;Bernd;;;\r\nTEL;TYPE=HOME:030 7654321\r\nEND:VCARD\r\n";

fn book(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.get(&format!("/contacts/{KEY}")).body)
}

fn row(name: &str, phones: &str) -> (String, String) {
    (name.to_owned(), phones.to_owned())
}

#[test]
fn carddav_sync_follows_the_address_book_and_keeps_data_on_a_wrong_password() {
    let dav = Radicale::start();
    let url = dav.addressbook("company");
    dav.put_card("company", "anna.vcf", ANNA);
    dav.put_card("company", "jw.vcf", JUERGEN);

    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let settings = serde_json::json!({
        "kind": "carddav", "url": url, "username": USER, "password": PASSWORD,
        "interval_s": 0, "region": "DE",
    });
    let r = api(&s, "PUT", "/sources/dav", Some(&settings.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["password"], "********");
    assert!(!r.body.contains(PASSWORD));
    assert_eq!(r.json()["status"]["status"], "never_synced");

    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.json()["contacts"], 2);
    assert_eq!(
        book(&s),
        vec![
            row("Anna Schmidt", "WORK:+492311234567;MOBILE:+491711111111"),
            row(
                "Weiß, Jürgen (Leitung)",
                "WORK:+4923648873040;FAX:+4923648873099"
            ),
        ]
    );

    // A CSV push cannot overwrite the synced source.
    let r = s.push(
        &format!("/contacts/{KEY}?source=dav"),
        b"display_name,phone\nIntruder,+49 30 1111111\n",
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("carddav"));

    // Nothing changed: one PROPFIND, no multiget.
    let (propfinds, reports) = (dav.count("PROPFIND"), dav.count("REPORT"));
    let etag = s
        .get(&format!("/contacts/{KEY}"))
        .header("etag")
        .map(str::to_owned);
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(dav.count("PROPFIND"), propfinds + 1, "{}", dav.log());
    assert_eq!(
        dav.count("REPORT"),
        reports,
        "an unchanged book is not fetched again"
    );
    assert_eq!(
        s.get(&format!("/contacts/{KEY}"))
            .header("etag")
            .map(str::to_owned),
        etag,
        "phones keep their cached book"
    );

    // Change one card, delete one, add one.
    dav.put_card(
        "company",
        "anna.vcf",
        &ANNA.replace("0171 1111111", "0171 9999999"),
    );
    dav.delete_card("company", "jw.vcf");
    dav.put_card("company", "bernd.vcf", BERND);
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        dav.count("REPORT"),
        reports + 1,
        "one multiget for the two new cards"
    );
    let expected = vec![
        row("Anna Schmidt", "WORK:+492311234567;MOBILE:+491719999999"),
        row("Bernd Meier", "HOME:+49307654321"),
    ];
    assert_eq!(book(&s), expected);
    let y = s.get(&format!("/contacts/{KEY}/yealink/v1"));
    assert!(
        y.body.contains("Bernd Meier") && !y.body.contains("Jürgen"),
        "{}",
        y.body
    );

    // A wrong password: status error with a sentence, the book stays as it was.
    let mut wrong = settings.clone();
    wrong["password"] = "wrong".into();
    let r = api(&s, "PUT", "/sources/dav", Some(&wrong.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(err.contains("password"), "{err}");
    let st = api(&s, "GET", "", None).json();
    let src = &st["sources"][0];
    assert_eq!(src["name"], "dav");
    assert_eq!(src["kind"], "carddav");
    assert_eq!(src["status"], "error");
    assert!(
        src["last_error"].as_str().unwrap().contains("HTTP 401"),
        "{src}"
    );
    assert!(src["last_success"].is_string());
    assert_eq!(src["contacts"], 2);
    assert_eq!(book(&s), expected, "the last good data is kept");
    assert!(
        !s.log().contains("wrong") && !s.log().contains(PASSWORD),
        "{}",
        s.log()
    );

    // Sending the masked password back keeps the stored one: the right one again.
    let r = api(&s, "PUT", "/sources/dav", Some(&settings.to_string()));
    assert_eq!(r.status, 200);
    let mut masked = settings.clone();
    masked["password"] = "********".into();
    let r = api(&s, "PUT", "/sources/dav", Some(&masked.to_string()));
    assert_eq!(r.status, 200);
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "ok");
    assert!(r.json()["last_error"].is_null());
}
