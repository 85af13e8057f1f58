//! Parameters are never silently ignored: the issue's examples, as a user typed them, on
//! pushes, phone books and the management API.

use crate::helpers::{Server, KEY};

const CSV: &str = "display_name,phone\nAnna Schmidt,+493011122233\n";

fn error_of(r: &crate::helpers::Response) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_misspelt_push_parameter_stores_nothing_and_flags_read_every_spelling() {
    let s = Server::start(&[]);
    // `dryrun` is not `dry_run`: refused, and nothing stored.
    let r = s.push(&format!("/contacts/{KEY}?dryrun=true"), CSV.as_bytes());
    assert_eq!(r.status, 400, "{}", r.body);
    let e = error_of(&r);
    assert!(e.contains("`dryrun`") && e.contains("dry_run"), "{e}");
    assert_eq!(s.book("").status, 404, "the typo stored the file");
    // Every spelling of yes is yes, and a bare flag too.
    for q in ["dry_run=1", "dry_run=yes", "dry_run=TRUE", "dry_run"] {
        let r = s.push(&format!("/contacts/{KEY}?{q}"), CSV.as_bytes());
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(r.json()["dry_run"], true, "{q}");
    }
    assert_eq!(s.book("").status, 404);
    let r = s.push(&format!("/contacts/{KEY}?dry_run=maybe"), CSV.as_bytes());
    assert_eq!(r.status, 400);
    let e = error_of(&r);
    assert!(e.contains("dry_run") && e.contains("true or false"), "{e}");
    assert!(!e.contains("deserialize"), "{e}");
    for q in ["dry_run=0", "dry_run=no", "dry_run=false"] {
        let r = s.push(&format!("/contacts/{KEY}?{q}&force=0"), CSV.as_bytes());
        assert_eq!(r.json()["dry_run"], false, "{q}");
    }
    assert_eq!(s.book("").status, 200);
}

#[test]
fn phone_books_refuse_what_they_do_not_take() {
    let s = Server::start(&[]);
    s.push_csv(CSV);
    for (url, names) in [
        ("yealink/v1?style=foo", ["style", "book or directory"]),
        ("snom/v1?group_by=", ["`group_by`", "q, page"]),
        ("snom/v1?group_by=group", ["`group_by`", "q, page"]),
        ("cisco/v1?group_by=company", ["`group_by`", "q, page"]),
        ("snom/tbook?style=directory", ["`style`", "q, numbers"]),
        ("snom/search?q=anna", ["`q`", "numbers"]),
        ("vcard?version=5", ["version", "3.0 or 4.0"]),
    ] {
        let r = s.book(url);
        assert_eq!(r.status, 400, "{url}: {}", r.body);
        let e = error_of(&r);
        for n in names {
            assert!(e.contains(n), "{url}: {e}");
        }
    }
}

#[test]
fn the_management_api_refuses_unknown_parameters_too() {
    let s = Server::start(&[]);
    s.push_csv(CSV);
    for (method, path, body) in [
        ("GET", "?verbose=1", None),
        ("GET", "/settings?all=1", None),
        ("PUT", "/settings?dryrun=1", Some(r#"{"name":"ACME"}"#)),
        ("GET", "/changes?since=0&limit=5", None),
        ("GET", "/sources?kind=push", None),
        ("GET", "/sources/push?x=1", None),
        ("POST", "/sources/push/sync?wiat=5", None),
    ] {
        let r = s.api().call(method, path, body);
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert!(error_of(&r).contains("unknown parameter"), "{}", r.body);
    }
    // The settings were not changed by the refused PUT.
    assert_eq!(s.api().call("GET", "/settings", None).body, "{}");
    let r = s.api().call("POST", "/sources/push/sync?wait=soon", None);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("0 to 600"), "{}", r.body);
    // The key as a parameter is taken everywhere.
    let r = s.get(&format!("/api/v1/directories/{KEY}/settings?apikey={KEY}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = s.api().status().json()["version"].as_i64().unwrap();
    let r = s.get(&format!(
        "/api/v1/directories/{KEY}/changes?since={v}&apikey={KEY}"
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    // Without the key, the answer is about the key, not about parameters.
    let r = s.get(&format!("/api/v1/directories/{KEY}?verbose=1"));
    assert_eq!(r.status, 401);
}
