//! Every refusal answers JSON `{"error", "details"}` with the right status and leaves the
//! directory exactly as it was.

use crate::helpers::{fixture, multipart, Server, KEY};

fn book(s: &Server) -> String {
    s.book("").body
}

fn assert_error(r: &crate::helpers::Response, status: u16, contains: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let j = r.json();
    let msg = j["error"].as_str().expect("error sentence");
    assert!(msg.contains(contains), "{msg}");
    assert!(j["details"].is_array());
    assert!(
        !r.body.contains("/src/") && !r.body.contains("panicked"),
        "{}",
        r.body
    );
}

#[test]
fn malformed_and_unknown_keys() {
    let s = Server::start(&[]);
    assert_error(&s.get("/contacts/SHORT"), 400, "exactly 14 characters");
    assert_error(
        &s.get("/contacts/ACME-123456789/yealink/v1"),
        400,
        "0-9, A-Z and a-z",
    );
    assert_error(
        &s.push("/contacts/SHORT", b"display_name,phone\nA,+4930901820\n"),
        400,
        "14 characters",
    );
    assert_error(&s.get("/contacts/ZZZZZZZZZZZZZZ"), 404, "no directory");
    // A Gigaset base shows only its protocol's documents.
    let r = s.get("/contacts/ZZZZZZZZZZZZZZ/gigaset/v1");
    assert_eq!(r.status, 404);
    assert_eq!(r.xml().root_element().tag_name().name(), "error");
    assert!(r.body.contains("no directory has this key"), "{}", r.body);
    assert_error(&s.get("/nothing/here"), 404, "no such URL");
}

#[test]
fn refusals_leave_the_book_untouched() {
    let s = Server::start(&["--max-upload-bytes", "2000"]);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200);
    let before = book(&s);
    let url = s.url(&format!("/contacts/{KEY}"));

    // Not multipart, not CSV.
    let r = s.request(
        "POST",
        &url,
        &[("Content-Type", "image/png")],
        Some(b"\x89PNG"),
    );
    assert_error(&r, 415, "curl -F");
    // A form without a `file` field.
    let (ct, body) = multipart(
        "upload",
        "contacts.csv",
        b"display_name,phone\nA,+4930901820\n",
    );
    assert_error(
        &s.request("POST", &url, &[("Content-Type", &ct)], Some(&body)),
        400,
        "no field named `file`",
    );
    // A truncated form.
    let (ct, body) = multipart(
        "file",
        "contacts.csv",
        b"display_name,phone\nA,+4930901820\n",
    );
    let cut = &body[..body.len() - 20];
    assert_error(
        &s.request("POST", &url, &[("Content-Type", &ct)], Some(cut)),
        400,
        "form data",
    );
    // No recognizable columns: names what it expected and what it found.
    let r = s.push_file(b"foo;bar\n1;2\n");
    assert_error(&r, 422, "no recognizable columns");
    assert_eq!(
        r.json()["details"][0]["found_columns"],
        serde_json::json!(["foo", "bar"])
    );
    assert!(r.json()["error"].as_str().unwrap().contains("display_name"));
    // Binary data.
    assert_error(
        &s.push_file(b"PK\x03\x04\x00\x00\x00binary"),
        422,
        "not text",
    );
    // Too large.
    let big = format!("display_name,phone\n{}", "Anna,+4930901820\n".repeat(200));
    assert_error(
        &s.push(&format!("/contacts/{KEY}"), big.as_bytes()),
        413,
        "larger than",
    );
    // A file that parses but yields no contact.
    let r = s.push_file(b"display_name,phone\nAnna,not a number\n");
    assert_error(&r, 422, "no contact that can be stored");
    assert_eq!(r.json()["details"][0]["line"], 2);
    // Header only.
    assert_error(&s.push_file(b"display_name,phone\n"), 422, "allow_empty");
    // Unknown region.
    assert_error(
        &s.push(
            &format!("/contacts/{KEY}?region=XX"),
            b"display_name,phone\nA,+4930901820\n",
        ),
        400,
        "XX",
    );
    // Bad source name.
    assert_error(
        &s.push(
            &format!("/contacts/{KEY}?source=../x"),
            b"display_name,phone\nA,+4930901820\n",
        ),
        400,
        "source name",
    );

    assert_eq!(book(&s), before, "every refusal left the book as it was");

    // Emptying on purpose works.
    let r = s.push(
        &format!("/contacts/{KEY}?allow_empty=true"),
        b"display_name,phone\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 0);
    assert_eq!(
        book(&s),
        "internal_id,display_name,family_name,given_name,phone,email\r\n"
    );
}

#[test]
fn dry_run_reports_and_stores_nothing() {
    let s = Server::start(&[]);
    let r = s.push(
        &format!("/contacts/{KEY}?dry_run=true"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 6);
    assert_eq!(r.json()["dry_run"], true);
    assert_eq!(s.book("").status, 404);
}
