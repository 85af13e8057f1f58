//! Keys with scopes, black-box: a read key reads everything a phone reads and nothing more,
//! a push key also pushes, the directory key alone manages; keys are made, listed and revoked
//! over the API and the CLI, chosen by the server, stored only hashed, and open registration
//! refuses guessable ones and counts what each address creates.

use crate::helpers::{cli, fixture, with_book, Response, Server, KEY};
use serde_json::{json, Value};

/// A request with `key` as Bearer token (the management API's credential).
pub fn call(s: &Server, key: &str, method: &str, path: &str, body: Option<&str>) -> Response {
    let auth = format!("Bearer {key}");
    s.request(
        method,
        &s.url(path),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.map(str::as_bytes),
    )
}

/// A new key of `scope` for the test directory, made with its directory key.
pub fn new_key(s: &Server, scope: &str, label: &str) -> String {
    let body = json!({"scope": scope, "label": label}).to_string();
    let r = call(
        s,
        KEY,
        "POST",
        &format!("/api/v1/directories/{KEY}/keys"),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["key"].as_str().expect("key").to_owned()
}

fn assert_refused(r: &Response, status: u16, contains: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let msg = r.json()["error"].as_str().expect("JSON error").to_owned();
    assert!(msg.contains(contains), "{msg}");
}

/// Every reading URL a phone, a PBX or an address book uses.
const READERS: &[&str] = &[
    "",
    "/yealink/v1",
    "/yealink/v1?style=directory",
    "/snom/v1",
    "/snom/v1?page=1",
    "/snom/tbook",
    "/snom/dect",
    "/snom/search",
    "/gigaset/v1",
    "/gigaset/central",
    "/cisco/v1",
    "/grandstream/v1",
    "/grandstream/v1/phonebook.xml",
    "/fanvil/v1",
    "/fritzbox/v1",
    "/vcard",
    "/lookup?number=%2B4923648873040",
];

#[test]
fn a_read_key_reads_every_book_and_nothing_else() {
    let s = with_book(&[]);
    let read = new_key(&s, "read", "lobby phones");
    assert_eq!(read.len(), 14);
    assert!(read.bytes().all(|b| b.is_ascii_alphanumeric()));
    for path in READERS {
        let mine = s.get(&format!("/contacts/{KEY}{path}"));
        let theirs = s.get(&format!("/contacts/{read}{path}"));
        assert_eq!(theirs.status, 200, "{path}: {}", theirs.body);
        // The same book, with the read key where a link names the directory.
        assert_eq!(
            theirs.body.replace(&read, KEY),
            mine.body,
            "{path}: the read key reads what the directory key reads"
        );
        assert!(!theirs.body.contains(KEY), "{path} shows the directory key");
    }
    // Not a push, not even an empty one; not the management API.
    let before = s.get(&format!("/contacts/{KEY}")).body;
    assert_refused(
        &s.push(
            &format!("/contacts/{read}"),
            b"display_name,phone\nEve,+4930901820\n",
        ),
        403,
        "push key or the directory key",
    );
    assert_refused(
        &s.push(
            &format!("/contacts/{read}?allow_empty=true"),
            b"display_name,phone\n",
        ),
        403,
        "cannot push",
    );
    for (path, method) in [
        (format!("/api/v1/directories/{read}"), "GET"),
        (format!("/api/v1/directories/{read}/sources"), "GET"),
        (format!("/api/v1/directories/{read}/keys"), "POST"),
    ] {
        assert_refused(
            &call(&s, &read, method, &path, Some(r#"{"scope":"read"}"#)),
            403,
            "directory key",
        );
    }
    // Nor by naming the directory in the path with the read key as credential.
    let r = call(
        &s,
        &read,
        "GET",
        &format!("/api/v1/directories/{KEY}"),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(s.get(&format!("/contacts/{KEY}")).body, before);
}

#[test]
fn a_push_key_pushes_without_learning_the_directory_key() {
    let s = with_book(&[]);
    let push = new_key(&s, "push", "nightly export");
    let r = s.push(
        &format!("/contacts/{push}?source=hr"),
        b"display_name,phone\nPush Key Paula,+4930901820\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["directory"], push.as_str());
    assert!(!r.body.contains(KEY), "{}", r.body);
    assert!(s
        .get(&format!("/contacts/{KEY}"))
        .body
        .contains("Push Key Paula"));
    assert_eq!(s.get(&format!("/contacts/{push}/yealink/v1")).status, 200);
    assert_refused(
        &call(
            &s,
            &push,
            "GET",
            &format!("/api/v1/directories/{push}"),
            None,
        ),
        403,
        "directory key",
    );
}

#[test]
fn keys_are_listed_masked_and_revoked_at_once() {
    let s = with_book(&[]);
    let read = new_key(&s, "read", "lobby phones");
    let push = new_key(&s, "push", "");
    assert_eq!(s.get(&format!("/contacts/{read}/snom/v1")).status, 200);
    let keys = format!("/api/v1/directories/{KEY}/keys");
    let r = call(&s, KEY, "GET", &keys, None);
    assert_eq!(r.status, 200, "{}", r.body);
    for k in [&read, &push, &KEY.to_owned()] {
        assert!(
            !r.body.contains(k.as_str()),
            "a listing shows no key: {}",
            r.body
        );
    }
    let list: Vec<Value> = r.json()["keys"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "only read and push keys: {list:?}");
    assert_eq!(list[0]["key"], format!("{}**********", &read[..4]));
    assert_eq!(list[0]["scope"], "read");
    assert_eq!(list[0]["label"], "lobby phones");
    assert!(list[0]["created"].as_str().unwrap().ends_with('Z'));
    assert!(
        list[0]["last_used"].is_string(),
        "the read key was used: {list:?}"
    );
    assert!(list[1]["last_used"].is_null(), "the push key was not");
    assert_eq!(list[1]["scope"], "push");

    // Revoked by the key itself or by id; gone at once, for every reader.
    assert_eq!(
        call(&s, KEY, "DELETE", &format!("{keys}/{read}"), None).status,
        204
    );
    assert_eq!(s.get(&format!("/contacts/{read}/snom/v1")).status, 404);
    assert_eq!(s.get(&format!("/contacts/{read}")).status, 404);
    let id = list[1]["id"].as_i64().unwrap();
    assert_eq!(
        call(&s, KEY, "DELETE", &format!("{keys}/{id}"), None).status,
        204
    );
    // A revoked key stays dead: a push to it makes no new directory that the phones set
    // up with it would then show.
    assert_refused(
        &s.push(
            &format!("/contacts/{push}"),
            b"display_name,phone\nX,+4930901820\n",
        ),
        403,
        "revoked",
    );
    assert_eq!(s.get(&format!("/contacts/{push}")).status, 404);
    assert_refused(
        &call(&s, KEY, "DELETE", &format!("{keys}/{read}"), None),
        404,
        "no such key",
    );
    assert_refused(
        &call(&s, KEY, "DELETE", &format!("{keys}/{KEY}"), None),
        422,
        "directory key cannot be revoked",
    );
    assert_eq!(call(&s, KEY, "GET", &keys, None).json()["keys"], json!([]));
    // What the API refuses, it says why.
    assert_refused(
        &call(&s, KEY, "POST", &keys, Some(r#"{"scope":"admin"}"#)),
        422,
        "read",
    );
    assert_refused(
        &call(
            &s,
            KEY,
            "POST",
            &keys,
            Some(r#"{"scope":"read","lable":"x"}"#),
        ),
        400,
        "lable",
    );
    assert_refused(
        &call(&s, KEY, "POST", &keys, Some(r#"{"scope":"directory"}"#)),
        422,
        "one directory key",
    );
    // Another directory's keys are not this one's to revoke.
    let other = create_over_api(&s, None);
    let theirs = {
        let body = r#"{"scope":"read"}"#;
        let r = call(
            &s,
            &other,
            "POST",
            &format!("/api/v1/directories/{other}/keys"),
            Some(body),
        );
        r.json()["key"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        call(&s, KEY, "DELETE", &format!("{keys}/{theirs}"), None).status,
        404
    );
    assert_eq!(s.get(&format!("/contacts/{theirs}")).status, 200);
}

/// `POST /api/v1/directories`, optionally from `from` (X-Forwarded-For); the new key.
fn create_over_api(s: &Server, from: Option<&str>) -> String {
    let r = create_response(s, from);
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["key"].as_str().unwrap().to_owned()
}

fn create_response(s: &Server, from: Option<&str>) -> Response {
    let mut h = vec![];
    if let Some(ip) = from {
        h.push(("X-Forwarded-For", ip));
    }
    s.request("POST", &s.url("/api/v1/directories"), &h, None)
}

#[test]
fn the_server_chooses_keys_and_open_registration_refuses_guessable_ones() {
    let s = Server::start(&[]);
    let r = create_response(&s, None);
    assert_eq!(r.status, 201, "{}", r.body);
    let key = r.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["scope"], "directory");
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/directories/{key}").as_str())
    );
    // Made empty, managed with its key, filled by a push.
    let st = call(&s, &key, "GET", &format!("/api/v1/directories/{key}"), None);
    assert_eq!((st.status, st.json()["contacts"].clone()), (200, json!(0)));
    assert_eq!(
        s.push(
            &format!("/contacts/{key}"),
            &fixture("syncblue-directory.csv")
        )
        .status,
        200
    );
    assert_refused(
        &s.request(
            "POST",
            &s.url("/api/v1/directories"),
            &[],
            Some(b"{\"key\":\"mine\"}"),
        ),
        400,
        "server chooses",
    );
    assert_refused(
        &s.request("POST", &s.url("/api/v1/directories?name=ACME"), &[], None),
        400,
        "server chooses",
    );
    for guessable in [
        "ACME0123456789",
        "aaaaaaaaaaaaaa",
        "Xq7dcbaR2mK9pL",
        "abababababcdcd",
    ] {
        let r = s.push(
            &format!("/contacts/{guessable}"),
            b"display_name,phone\nA,+4930901820\n",
        );
        assert_refused(&r, 422, "guess");
        assert_eq!(
            s.get(&format!("/contacts/{guessable}")).status,
            404,
            "nothing was made"
        );
    }
    // The operator may still choose any key.
    let (ok, out, err) = cli(&[
        "directory",
        "create",
        "ACME0123456789",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("ACME0123456789") && err.contains("warning"),
        "{out}{err}"
    );
    let r = s.push(
        "/contacts/ACME0123456789",
        b"display_name,phone\nA,+4930901820\n",
    );
    assert_eq!(
        r.status, 200,
        "an existing directory takes pushes: {}",
        r.body
    );
}

#[test]
fn registrations_are_counted_per_address() {
    let s = Server::start(&[
        "--registration-limit",
        "3",
        "--trusted-proxy",
        "127.0.0.1/32",
        "--max-upload-bytes",
        "1000",
    ]);
    let a = "198.51.100.1";
    for _ in 0..2 {
        create_over_api(&s, Some(a));
    }
    // A push that makes nothing (a file that is no contact list) does not count.
    let r = s.request(
        "POST",
        &s.url("/contacts/Wm3pQx8vLr2Tz6"),
        &[("X-Forwarded-For", a), ("Content-Type", "text/csv")],
        Some(b"just,some\nwords,here\n"),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // Nor does one refused before it was read (too large).
    let big = vec![b'x'; 70_000];
    let r = s.request(
        "POST",
        &s.url("/contacts/Wm3pQx8vLr2Tz6"),
        &[("X-Forwarded-For", a), ("Content-Type", "text/csv")],
        Some(&big),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    // Open registration by push counts the same.
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("X-Forwarded-For", a), ("Content-Type", "text/csv")],
        Some(b"display_name,phone\nA,+4930901820\n"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A push to an existing directory is no registration.
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("X-Forwarded-For", a), ("Content-Type", "text/csv")],
        Some(b"display_name,phone\nB,+4930901821\n"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = create_response(&s, Some(a));
    assert_refused(&r, 429, "directories");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let r = s.request(
        "POST",
        &s.url("/contacts/Kt4wQ9zLm2Rx7B"),
        &[("X-Forwarded-For", a), ("Content-Type", "text/csv")],
        Some(b"display_name,phone\nA,+4930901820\n"),
    );
    assert_eq!(r.status, 429, "{}", r.body);
    // Another address is not affected; the CLI never is.
    create_over_api(&s, Some("198.51.100.2"));
    for _ in 0..5 {
        let (ok, _, err) = cli(&[
            "directory",
            "create",
            "--data-dir",
            s.data_dir().to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
    }
    drop(s);

    let s = Server::start(&["--registration-limit", "0"]);
    for _ in 0..15 {
        create_over_api(&s, None);
    }
    let s = Server::start(&["--no-open-registration"]);
    assert_refused(&create_response(&s, None), 403, "operator");
}

#[test]
fn the_cli_makes_lists_and_revokes_keys_that_a_running_server_honours() {
    let s = with_book(&[]);
    let d = s.data_dir().to_str().unwrap().to_owned();
    let (ok, out, err) = cli(&[
        "directory",
        "keys",
        "create",
        KEY,
        "--scope",
        "read",
        "--label",
        "DECT base",
        "--data-dir",
        &d,
    ]);
    assert!(ok, "{err}");
    let read = out.trim().to_owned();
    assert_eq!(read.len(), 14, "{out}");
    assert_eq!(s.get(&format!("/contacts/{read}/gigaset/v1")).status, 200);
    // Any key of the directory names it at the command line.
    let (ok, out, err) = cli(&["directory", "keys", "list", &read, "--data-dir", &d]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("{}**********", &read[..4])) && out.contains("DECT base"),
        "{out}"
    );
    assert!(!out.contains(&read), "{out}");
    let (ok, _, err) = cli(&["directory", "keys", "revoke", KEY, &read, "--data-dir", &d]);
    assert!(ok, "{err}");
    // The server notices another process's revocation within a moment.
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(s.get(&format!("/contacts/{read}/gigaset/v1")).status, 404);
    let (ok, _, err) = cli(&["directory", "keys", "revoke", KEY, &read, "--data-dir", &d]);
    assert!(!ok && err.contains("no such key"), "{err}");
    let (ok, out, err) = cli(&["directory", "create", "--data-dir", &d]);
    assert!(ok, "{err}");
    let made = out.split_whitespace().nth(2).unwrap().to_owned();
    assert_eq!(made.len(), 14, "{out}");
    let st = call(
        &s,
        &made,
        "GET",
        &format!("/api/v1/directories/{made}"),
        None,
    );
    assert_eq!(st.status, 200, "{}", st.body);
}

#[test]
fn keys_are_not_on_disk_in_clear_and_the_data_is_the_owners_only() {
    let s = with_book(&[]);
    let read = new_key(&s, "read", "");
    let push = new_key(&s, "push", "");
    let dir = s.data_dir().to_owned();
    let data = s.stop();
    let mut bytes = Vec::new();
    for f in ["phonedir.sqlite3", "phonedir.sqlite3-wal"] {
        bytes.extend(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    assert!(bytes.len() > 4096);
    for k in [KEY, &read, &push] {
        assert!(!bytes.windows(14).any(|w| w == k.as_bytes()), "{k} on disk");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("phonedir.sqlite3")), 0o600);
    }
    // And all of it opens again after a restart.
    let s = Server::start_in(data, &[]);
    assert_eq!(s.get(&format!("/contacts/{read}")).status, 200);
}
