//! The management API: key checks, status and settings, and what settings change.

use crate::helpers::{cli, fixture, Server, KEY};

#[test]
fn api_needs_the_directory_key() {
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    let url = s.url(&format!("/api/v1/directories/{KEY}"));
    let r = s.request("GET", &url, &[], None);
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    let r = s.request(
        "GET",
        &url,
        &[("Authorization", "Bearer OTHER012345678")],
        None,
    );
    assert_eq!(r.status, 403);
    // Another existing or unknown directory answers the same for a wrong key.
    let other = s.url("/api/v1/directories/ZZZZZZZZZZZZZZ");
    let r = s.request(
        "GET",
        &other,
        &[("Authorization", &format!("Bearer {KEY}"))],
        None,
    );
    assert_eq!(r.status, 403);
    let r = s.request("GET", &format!("{url}?apikey={KEY}"), &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["contacts"], 6);
    assert_eq!(j["sources"][0]["name"], "push");
    assert_eq!(j["sources"][0]["kind"], "push");
    assert_eq!(j["sources"][0]["contacts"], 6);
}

#[test]
fn settings_are_validated_and_take_effect() {
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    let url = s.url(&format!("/api/v1/directories/{KEY}/settings"));
    let auth = format!("Bearer {KEY}");
    let h = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = s.request("PUT", &url, &h, Some(br#"{"region":"XX"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("XX"));
    let r = s.request("PUT", &url, &h, Some(br#"{"regoin":"DE"}"#));
    assert_eq!(r.status, 400, "{}", r.body);
    let before = s.book("yealink/v1");
    let r = s.request(
        "PUT",
        &url,
        &h,
        Some(br#"{"region":"DE","name":"ACME & Co"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.request("GET", &url, &h, None).json()["region"], "DE");

    // The title changed, and so did the ETag.
    let after = s.book("yealink/v1");
    assert!(
        after.body.contains("<Title>ACME &amp; Co</Title>"),
        "{}",
        after.body
    );
    assert_ne!(before.header("etag"), after.header("etag"));
    // National numbers are now read with the directory's region.
    let r = s.push_file(b"display_name,phone\nAnna,030 1234567\n");
    assert_eq!(r.json()["contacts"], 1, "{}", r.body);

    let (ok, out, err) = cli(&[
        "directory",
        "set",
        KEY,
        "--outside-prefix",
        "0",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("\"outside_prefix\": \"0\"") && out.contains("\"region\": \"DE\""),
        "{out}"
    );
    let (ok, _, err) = cli(&[
        "directory",
        "set",
        KEY,
        "--numbers",
        "roman",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("e164"), "{err}");
}
