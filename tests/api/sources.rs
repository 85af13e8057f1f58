//! The sources part of the management API, and helpers the pull tests share.

use crate::fake::{Fake, Reply};
use crate::helpers::{cli, csv_rows, Response, Server, KEY, LOCAL_SOURCES};

/// A management API call on the test directory, with its key as Bearer token.
pub fn api(s: &Server, method: &str, path: &str, body: Option<&str>) -> Response {
    s.api().call(method, path, body)
}

pub fn create_directory(s: &Server) {
    let (ok, _, err) = cli(&[
        "directory",
        "create",
        KEY,
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
}

#[test]
fn sources_are_managed_with_the_key_and_priority_decides_merged_fields() {
    let s = Server::start(&[]);
    for (source, csv) in [
        (
            "crm",
            "display_name,company,phone\n\"Weiss, Juergen\",Old GmbH,+49 2364 8873040\n",
        ),
        (
            "hr",
            "display_name,company,phone\nJürgen Weiß,ACME,+49 2364 8873040\n",
        ),
    ] {
        let r = s.push(&format!("/contacts/{KEY}?source={source}"), csv.as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let first = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        first[0].0, "Weiss, Juergen",
        "equal priority: first source by name"
    );

    // Without the key nothing is shown or changed.
    let url = s.url(&format!("/api/v1/directories/{KEY}/sources/hr"));
    assert_eq!(s.request("GET", &url, &[], None).status, 401);
    let wrong = [("Authorization", "Bearer OTHER012345678")];
    assert_eq!(s.request("DELETE", &url, &wrong, None).status, 403);

    // Push sources are listed with kind push; their priority can be set.
    let list = api(&s, "GET", "/sources", None).json();
    let kinds: Vec<&str> = list["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["push", "push"]);
    let r = api(
        &s,
        "PUT",
        "/sources/hr",
        Some(r#"{"kind":"push","priority":1}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let after = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(
        after[0].0, "Jürgen Weiß",
        "the lower priority now wins the name"
    );
    assert_eq!(
        after[0].1, "WORK:+4923648873040",
        "the number is there once"
    );
    let r = api(&s, "POST", "/sources/hr/sync", None);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("push"));

    // Bad settings are refused with a sentence and change nothing.
    for (body, status, needle) in [
        ("{", 400, "JSON"),
        (
            r#"{"kind":"carddav","url":"https://x","passwrd":"p"}"#,
            400,
            "passwrd",
        ),
        (r#"{"kind":"carddav","url":"x"}"#, 422, "url"),
        (
            r#"{"kind":"rest","url":"https://x","fields":{"display_name":"n"}}"#,
            422,
            "numbers",
        ),
        (
            r#"{"kind":"carddav","url":"https://x","region":"XX"}"#,
            422,
            "region",
        ),
    ] {
        let r = api(&s, "PUT", "/sources/dav", Some(body));
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains(needle),
            "{}",
            r.body
        );
    }
    let r = api(&s, "PUT", "/sources/bad%20name", Some(r#"{"kind":"push"}"#));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(api(&s, "GET", "/sources/dav", None).status, 404);
    // A push source does not silently turn into a pulled one.
    let r = api(
        &s,
        "PUT",
        "/sources/hr",
        Some(r#"{"kind":"carddav","url":"https://dav.example/ab/"}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);

    // DELETE removes the source and its contacts.
    let r = api(&s, "DELETE", "/sources/hr", None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(api(&s, "DELETE", "/sources/hr", None).status, 404);
    let rest = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(
        rest,
        vec![(
            "Weiss, Juergen".to_owned(),
            "WORK:+4923648873040".to_owned()
        )]
    );
    let st = api(&s, "GET", "", None).json();
    assert_eq!(st["sources"].as_array().unwrap().len(), 1);
}

#[test]
fn a_slow_sync_answers_202_with_the_status_url() {
    let slow = Fake::start(|_| {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Reply::json(
            200,
            serde_json::json!([{"name": "Late Larry", "tel": "+49 30 1234567"}]),
        )
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let body = serde_json::json!({"kind": "rest", "url": slow.base, "interval_s": 0,
        "fields": {"display_name": "name", "numbers": {"WORK": ["tel"]}}});
    assert_eq!(
        api(&s, "PUT", "/sources/slow", Some(&body.to_string())).status,
        201
    );
    let r = api(&s, "POST", "/sources/slow/sync?wait=0", None);
    assert_eq!(r.status, 202, "{}", r.body);
    let url = r.json()["status_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/directories/{KEY}/sources/slow"));
    let st = api(&s, "GET", "/sources/slow", None).json();
    assert_eq!(st["status"]["status"], "syncing");
    // One sync at a time: a second request waits for the running one and gets its result.
    let r = api(&s, "POST", "/sources/slow/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 1);
    assert_eq!(slow.requests().len(), 1, "one sync, not two");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while api(&s, "GET", "/sources/slow", None).json()["status"]["status"] != "ok" {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let rows = csv_rows(&s.get(&format!("/contacts/{KEY}")).body);
    assert_eq!(
        rows,
        vec![("Late Larry".to_owned(), "WORK:+49301234567".to_owned())]
    );
}

#[test]
fn secrets_survive_a_restart_through_the_key_file() {
    let fake = Fake::start(|req| {
        if req.header("authorization") != Some("Bearer keep-me") {
            return Reply::json(401, serde_json::json!({}));
        }
        Reply::json(
            200,
            serde_json::json!([{"name": "Anna", "tel": "+49 30 1234567"}]),
        )
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let body = serde_json::json!({"kind": "rest", "url": fake.base, "interval_s": 0,
        "auth": "bearer", "secret": "keep-me",
        "fields": {"display_name": "name", "numbers": {"WORK": ["tel"]}}});
    assert_eq!(
        api(&s, "PUT", "/sources/x", Some(&body.to_string())).status,
        201
    );
    assert_eq!(api(&s, "POST", "/sources/x/sync", None).status, 200);
    let key_file = s.data_dir().join("secret.key");
    assert!(key_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is the owner's only");
    }
    let data = s.stop();
    let s = Server::start_in(data, LOCAL_SOURCES);
    let r = api(&s, "POST", "/sources/x/sync", None);
    assert_eq!(r.status, 200, "the stored secret still opens: {}", r.body);
    assert_eq!(
        api(&s, "GET", "/sources/x", None).json()["settings"]["secret"],
        "********"
    );
}
