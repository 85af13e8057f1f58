//! `rest` sources against a local fake of a PBX's JSON API: the `easyconnect` preset, a
//! generic mapping with paging and bearer auth, and the scheduler running a source by itself.

use crate::fake::{Fake, Reply};
use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::sources::{api, create_directory};
use serde_json::json;
use std::time::{Duration, Instant};

/// EasyConnect contact records (innovaphone field names).
fn easyconnect() -> Fake {
    Fake::start(|req| {
        if req.query("apikey").as_deref() != Some("EC-KEY-1") {
            return Reply::json(401, json!({"error": "invalid apikey"}));
        }
        assert_eq!(req.path(), "/ACME/contacts/contact");
        Reply::json(
            200,
            json!([
                {"dbsid": 1, "cn": "Schmidt, Anna", "givenname": "Anna", "sn": "Schmidt",
                 "company": "ACME", "email": "anna@acme.example",
                 "telephonenumber": "+49 231 1234567", "mobile": "0171 1111111"},
                {"dbsid": 2, "cn": "Meier, Bernd", "givenname": "Bernd", "sn": "Meier",
                 "telephonenumber": ["+49 231 1234500", "+49 231 1234501"],
                 "homephone": "030 7654321"},
                {"dbsid": 3, "cn": "No Number"}
            ]),
        )
    })
}

#[test]
fn easyconnect_preset_needs_only_url_and_key() {
    let pbx = easyconnect();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let url = format!("{}/ACME/contacts/contact?search=", pbx.base);
    let body = json!({"kind": "rest", "preset": "easyconnect", "url": url,
                      "secret": "EC-KEY-1", "interval_s": 0, "region": "DE"});
    let r = api(&s, "PUT", "/sources/pbx", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["secret"], "********");
    let r = api(&s, "POST", "/sources/pbx/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 2);
    // The record without a number is not dropped silently: its id, and why.
    let w = &r.json()["warnings"];
    assert_eq!(w["count"], 1, "{w}");
    assert_eq!(w["first"][0]["record"], "3");
    assert!(
        w["first"][0]["message"]
            .as_str()
            .unwrap()
            .contains("No Number"),
        "{w}"
    );
    let rows = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(
        rows,
        vec![
            (
                "Meier, Bernd".to_owned(),
                "WORK:+492311234500;WORK:+492311234501;HOME:+49307654321".to_owned()
            ),
            (
                "Schmidt, Anna".to_owned(),
                "WORK:+492311234567;MOBILE:+491711111111".to_owned()
            ),
        ]
    );
    let reqs = pbx.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].query("search").as_deref(), Some(""));

    // A wrong key: an error sentence, the contacts stay.
    let body = json!({"kind": "rest", "preset": "easyconnect", "url": url,
                      "secret": "WRONG", "interval_s": 0, "region": "DE"});
    api(&s, "PUT", "/sources/pbx", Some(&body.to_string()));
    let r = api(&s, "POST", "/sources/pbx/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("key"),
        "{}",
        r.body
    );
    assert_eq!(csv_rows(&s.get(&format!("/contacts/{KEY}")).body).len(), 2);
    assert!(
        !s.log().contains("EC-KEY-1"),
        "the key never reaches the log"
    );
}

#[test]
fn generic_rest_mapping_with_paging_runs_on_its_schedule() {
    let api_fake = Fake::start(|req| {
        if req.header("authorization") != Some("Bearer T0KEN") {
            return Reply::json(401, json!({}));
        }
        let page = req.query("page").unwrap_or_default();
        let (people, next) = match page.as_str() {
            "" => (
                json!([{"name": {"first": "Zoë", "last": "Adams"}, "phones": {"office": "+44 20 7946 0001"}}]),
                json!("/people?page=2"),
            ),
            "2" => (
                json!([{"name": {"first": "Yusuf", "last": "Baker"}, "phones": {"office": "+44 20 7946 0002", "cell": ["+44 7911 123456"]}}]),
                json!(null),
            ),
            _ => return Reply::json(404, json!({})),
        };
        Reply::json(
            200,
            json!({"data": {"people": people}, "links": {"next": next}}),
        )
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let body = json!({
        "kind": "rest", "url": format!("{}/people", api_fake.base),
        "auth": "bearer", "secret": "T0KEN",
        "records": "/data/people", "next": "/links/next",
        "fields": {"given_name": "/name/first", "family_name": "/name/last",
                   "numbers": {"WORK": ["/phones/office"], "MOBILE": ["/phones/cell"]}},
        "interval_s": 60
    });
    let r = api(&s, "PUT", "/sources/crm", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    // No sync request: the scheduler runs a new scheduled source at once.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let st = api(&s, "GET", "/sources/crm", None).json();
        if st["status"]["status"] == "ok" {
            break st;
        }
        assert!(Instant::now() < deadline, "never synced: {st}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["status"]["contacts"], 2);
    let next = status["status"]["next_run"].as_str().unwrap().to_owned();
    assert!(next.ends_with('Z'), "{next}");
    let rows = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(
        rows,
        vec![
            (
                "Yusuf Baker".to_owned(),
                "WORK:+442079460002;MOBILE:+447911123456".to_owned()
            ),
            ("Zoë Adams".to_owned(), "WORK:+442079460001".to_owned()),
        ]
    );
    assert_eq!(api_fake.requests().len(), 2, "two pages, one sync");
    // The status view lists it with its schedule.
    let st = api(&s, "GET", "", None).json();
    assert_eq!(st["sources"][0]["kind"], "rest");
    assert_eq!(st["sources"][0]["next_run"], next.as_str());
}

#[test]
fn an_empty_answer_does_not_wipe_the_book_unless_allowed() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let fake = Fake::start(move |_| {
        if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::json(200, json!([{"name": "Anna", "tel": "+49 30 1234567"}]))
        } else {
            Reply::json(200, json!([]))
        }
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let mut body = json!({"kind": "rest", "url": fake.base, "interval_s": 0,
        "fields": {"display_name": "name", "numbers": {"WORK": ["tel"]}}});
    api(&s, "PUT", "/sources/x", Some(&body.to_string()));
    assert_eq!(api(&s, "POST", "/sources/x/sync", None).status, 200);
    let r = api(&s, "POST", "/sources/x/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("allow_empty"), "{}", r.body);
    assert_eq!(csv_rows(&s.get(&format!("/contacts/{KEY}")).body).len(), 1);
    body["allow_empty"] = true.into();
    api(&s, "PUT", "/sources/x", Some(&body.to_string()));
    let r = api(&s, "POST", "/sources/x/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 0);
}

#[test]
fn a_source_on_an_internal_ca_is_reached_with_ca_cert_and_refused_without() {
    let (ca, tls, _, _) = crate::fake::test_ca();
    let pbx = Fake::start_tls(tls, |_| {
        Reply::json(
            200,
            json!({"data": [{"name": "Anna Schmidt", "phone": "+49 30 1234567"}]}),
        )
    });
    assert!(pbx.base.starts_with("https://localhost:"), "{}", pbx.base);
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let mut body = json!({"kind": "rest", "url": format!("{}/people", pbx.base),
                          "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}},
                          "interval_s": 0});
    // Without the CA: the certificate is not trusted, and nothing is skipped.
    let r = api(&s, "PUT", "/sources/pbx", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(&s, "POST", "/sources/pbx/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("certificate"),
        "{}",
        r.body
    );
    // A ca_cert that is not a certificate is refused when it is set.
    body["ca_cert"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".into();
    let r = api(&s, "PUT", "/sources/pbx", Some(&body.to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("ca_cert"),
        "{}",
        r.body
    );
    body["ca_cert"] = ca.clone().into();
    let r = api(&s, "PUT", "/sources/pbx", Some(&body.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["settings"]["ca_cert"], ca.as_str());
    let r = api(&s, "POST", "/sources/pbx/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        csv_rows(&s.get(&format!("/contacts/{KEY}")).body),
        vec![("Anna Schmidt".to_owned(), "WORK:+49301234567".to_owned())]
    );
}
