//! No tenant can take the server down: each attack of issue 11, replayed against the real
//! server with small limits, and what must hold afterwards.

use crate::fake::{Fake, Reply};
use crate::helpers::{bin, cli, multipart, Response, Server, KEY, LOCAL_SOURCES};
use crate::sources::{api, create_directory};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const OTHER: &str = "OTHRq8Zt3vWx5K";

fn api_as(s: &Server, key: &str, method: &str, path: &str, body: Option<&str>) -> Response {
    let url = s.url(&format!("/api/v1/directories/{key}{path}"));
    let auth = format!("Bearer {key}");
    s.request(
        method,
        &url,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.map(str::as_bytes),
    )
}

fn create(s: &Server, key: &str) {
    let (ok, _, err) = cli(&[
        "directory",
        "create",
        key,
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
}

/// A REST source on `fake` for directory `key`.
fn rest_source(s: &Server, key: &str, name: &str, fake: &Fake, path: &str) {
    let body = json!({"kind": "rest", "url": format!("{}{path}", fake.base), "interval_s": 0,
                      "records": "/value", "next": "/next",
                      "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}});
    let r = api_as(
        s,
        key,
        "PUT",
        &format!("/sources/{name}"),
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A JSON API whose pages never end: each links to the next, a little slowly.
fn endless() -> Fake {
    Fake::start(|req| {
        std::thread::sleep(Duration::from_millis(100));
        let n: u64 = req.query("n").and_then(|n| n.parse().ok()).unwrap_or(0);
        Reply::json(
            200,
            json!({"value": [{"name": format!("Page {n}"), "phone": "+4930901820"}],
                   "next": format!("{}?n={}", req.path(), n + 1)}),
        )
    })
}

/// The raw socket of a request whose body we control byte by byte.
fn raw(s: &Server, head: &str) -> TcpStream {
    let addr = s.http.trim_start_matches("http://");
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    t.write_all(head.as_bytes()).unwrap();
    t
}

fn status_line(t: &mut TcpStream) -> String {
    let mut buf = [0u8; 4096];
    let n = t.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn deep_carddav_xml_fails_the_sync_not_the_server() {
    // 5,000 levels in 55 KB used to overflow the sync thread's stack and abort the process.
    let deep = "<d:prop>".repeat(5_000) + &"</d:prop>".repeat(5_000);
    let dav = Fake::start(move |_| {
        Reply {
        status: 207,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: format!(
            "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\"><d:response>{deep}</d:response></d:multistatus>"
        ),
    }
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let body = json!({"kind": "carddav", "url": format!("{}/ab/", dav.base), "username": "u",
                      "password": "p", "interval_s": 0});
    assert_eq!(
        api(&s, "PUT", "/sources/dav", Some(&body.to_string())).status,
        201
    );
    let r = api(&s, "POST", "/sources/dav/sync?wait=30", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.body.contains("nested deeper than 64 levels"),
        "{}",
        r.body
    );
    assert_eq!(s.get("/healthz").status, 200, "the server is up");
}

#[test]
fn a_sync_cut_off_by_a_stop_is_backed_off_not_rerun_at_start() {
    let hang = Fake::start(|_| {
        std::thread::sleep(Duration::from_secs(30));
        Reply::json(200, json!({"value": []}))
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let body = json!({"kind": "rest", "url": format!("{}/people", hang.base), "interval_s": 3600,
                      "records": "/value",
                      "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}});
    assert_eq!(
        api(&s, "PUT", "/sources/pbx", Some(&body.to_string())).status,
        201
    );
    wait_until(
        "the scheduled sync reaches the source",
        Duration::from_secs(10),
        || !hang.requests().is_empty(),
    );
    let data = s.stop();
    let before = hang.requests().len();
    let s = Server::start_in(data, LOCAL_SOURCES);
    let status = api(&s, "GET", "/sources/pbx", None).json();
    assert_eq!(status["status"]["status"], "error", "{status}");
    assert!(
        status["status"]["last_error"]
            .as_str()
            .unwrap()
            .contains("stopped during this sync"),
        "{status}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(hang.requests().len(), before, "not rerun at start");
}

#[test]
fn every_byte_and_part_of_a_form_counts() {
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--max-upload-bytes",
        "2000",
    ]);
    // A small file beside 100 KB in another field: once accepted whole, now refused.
    let boundary = "----b";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"junk\"\r\n\r\n{}\r\n",
        "x".repeat(100_000)
    );
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\ndisplay_name,phone\nAnna,+4930901820\r\n--{boundary}--\r\n"
    ));
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", &ct), ("Transfer-Encoding", "chunked")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.body.contains("every part of a form counted"),
        "{}",
        r.body
    );
    // Many tiny parts.
    let mut body = String::new();
    for i in 0..20 {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nx\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", &ct)],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("more than 16 fields"), "{}", r.body);
    let (ct, ok) = multipart("file", "a.csv", b"display_name,phone\nAnna,+4930901820\n");
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", &ct)],
        Some(&ok),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn the_key_and_directory_are_checked_before_the_body_and_slow_uploads_are_cut_off() {
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--no-open-registration",
        "--upload-timeout",
        "1",
        "--upload-min-rate",
        "100000",
    ]);
    // An unknown key is refused on its headers: no body was ever sent.
    let t0 = Instant::now();
    let mut t = raw(
        &s,
        "POST /contacts/NOPE0123456789 HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 10000000\r\n\r\n",
    );
    assert!(status_line(&mut t).contains("404"));
    assert!(t0.elapsed() < Duration::from_secs(3));
    // A known directory whose upload stops sending: cut off after the grace period.
    create_directory(&s);
    let mut t = raw(
        &s,
        &format!("POST /contacts/{KEY} HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 50000\r\n\r\ndisplay_name,phone\n"),
    );
    let t0 = Instant::now();
    let line = status_line(&mut t);
    assert!(line.contains("408"), "{line}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(s.get(&format!("/contacts/{KEY}")).status, 200);
}

#[test]
fn uploads_beyond_the_cap_wait_outside_and_idle_connections_are_dropped() {
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--max-uploads",
        "1",
        "--upload-timeout",
        "30",
        "--max-connections",
        "8",
        "--client-request-timeout",
        "1",
    ]);
    let mut stalled = raw(
        &s,
        &format!("POST /contacts/{KEY} HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5000\r\n\r\ndisplay_name"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let r = s.push(
        &format!("/contacts/{OTHER}"),
        b"display_name,phone\nAnna,+4930901820\n",
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("Retry-After"), Some("5"));
    stalled.write_all(b"").ok();
    drop(stalled);
    wait_until("the slot is free again", Duration::from_secs(5), || {
        s.push(
            &format!("/contacts/{OTHER}"),
            b"display_name,phone\nAnna,+4930901820\n",
        )
        .status
            == 200
    });
    // Idle connections (nothing sent) are closed after --client-request-timeout, so they
    // cannot hold every connection slot.
    let idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(s.http.trim_start_matches("http://")).unwrap())
        .collect();
    let t0 = Instant::now();
    assert_eq!(s.get("/healthz").status, 200);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    drop(idle);
}

#[test]
fn endless_sources_neither_starve_another_directory_nor_outlive_their_deletion() {
    let slow = endless();
    let quick = Fake::start(|_| {
        Reply::json(
            200,
            json!({"value": [{"name": "Quick", "phone": "+4930901821"}]}),
        )
    });
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--max-syncs",
        "2",
        "--max-syncs-per-directory",
        "1",
    ]);
    create_directory(&s);
    create(&s, OTHER);
    for i in 0..3 {
        rest_source(&s, KEY, &format!("loop{i}"), &slow, &format!("/loop{i}"));
        let r = api(&s, "POST", &format!("/sources/loop{i}/sync?wait=0"), None);
        assert_eq!(r.status, 202, "{}", r.body);
    }
    rest_source(&s, OTHER, "crm", &quick, "/people");
    let t0 = Instant::now();
    let r = api_as(&s, OTHER, "POST", "/sources/crm/sync?wait=20", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    // Deleting the sources stops their syncs at the next request.
    for i in 0..3 {
        assert_eq!(
            api(&s, "DELETE", &format!("/sources/loop{i}"), None).status,
            204
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    let n = slow.requests().len();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        slow.requests().len() <= n + 2,
        "requests went on after the delete"
    );
}

#[test]
fn a_sync_has_a_deadline_an_answer_size_limit_and_wait_0_holds_no_thread() {
    let slow = endless();
    let big = Fake::start(|_| {
        let value: Vec<_> = (0..2000)
            .map(|i| json!({"name": format!("Person {i}"), "phone": "+4930901820"}))
            .collect();
        Reply::json(200, json!({ "value": value }))
    });
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--sync-timeout",
        "2",
        "--max-response-bytes",
        "5000",
        "--max-sources",
        "60",
    ]);
    create_directory(&s);
    rest_source(&s, KEY, "loop", &slow, "/loop");
    assert_eq!(
        api(&s, "POST", "/sources/loop/sync?wait=0", None).status,
        202
    );
    // A second request while it runs waits for that sync's result.
    let r = api(&s, "POST", "/sources/loop/sync?wait=20", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.body.contains("longer than the limit of 2 s"),
        "{}",
        r.body
    );
    rest_source(&s, KEY, "big", &big, "/big");
    let r = api(&s, "POST", "/sources/big/sync?wait=20", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("larger than 5000 bytes"), "{}", r.body);
    // Fifty syncs started without waiting answer at once; the syncs run on the runner.
    for i in 0..50 {
        rest_source(&s, KEY, &format!("w{i}"), &slow, &format!("/w{i}"));
    }
    let t0 = Instant::now();
    for i in 0..50 {
        let r = api(&s, "POST", &format!("/sources/w{i}/sync?wait=0"), None);
        assert_eq!(r.status, 202, "{}", r.body);
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let t0 = Instant::now();
    let r = s.push(
        &format!("/contacts/{OTHER}"),
        b"display_name,phone\nAnna,+4930901820\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.get(&format!("/contacts/{OTHER}/yealink/v1")).status, 200);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}

#[test]
fn a_contact_with_80000_numbers_costs_the_cap_not_the_square() {
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--max-numbers-per-contact",
        "50",
    ]);
    let numbers: Vec<String> = (0..80_000).map(|i| format!("+4930{i:07}")).collect();
    let body = json!([{"display_name": "Many", "numbers": numbers}]).to_string();
    let t0 = Instant::now();
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}?dry_run=true")),
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let j = r.json();
    assert_eq!(j["numbers"], 50);
    assert!(
        j["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("more than 50 numbers; 79950 more were left out"),
        "{j}"
    );
}

#[test]
fn control_characters_never_reach_a_phone_and_long_fields_are_cut_on_every_path() {
    let pbx = Fake::start(|_| {
        Reply::json(
            200,
            json!({"value": [{"name": "Rest\u{1b}[2J\u{85}Person", "phone": "+4930901822"},
                             {"name": "x".repeat(5_000), "phone": "+4930901823"}]}),
        )
    });
    let s = Server::start(&["--source-allow", "127.0.0.0/8", "--max-field-chars", "100"]);
    let name = format!("Eve\u{1b}[31m\u{7}\u{fffe}{}", "");
    let body = json!([
        {"display_name": name, "numbers": ["+4930901820"]},
        {"display_name": "y".repeat(5_000_000), "company": "Big", "numbers": ["+4930901824"]}
    ])
    .to_string();
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let messages: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("3 control or non-XML characters were removed")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("5000000 characters")),
        "{messages:?}"
    );
    // CSV: U+FFFE (valid UTF-8, not XML).
    let r = s.push(
        &format!("/contacts/{KEY}?source=csv"),
        "display_name,phone\nFay\u{fffe} Noncharacter,+4930901825\n".as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A pulled source.
    rest_source(&s, KEY, "pbx", &pbx, "/people");
    assert_eq!(api(&s, "POST", "/sources/pbx/sync", None).status, 200);

    for format in [
        "yealink/v1",
        "snom/v1",
        "snom/tbook",
        "snom/dect",
        "gigaset/v1",
        "gigaset/central",
        "cisco/v1",
        "grandstream/v1",
        "fanvil/v1",
        "fritzbox/v1",
    ] {
        let r = s.get(&format!("/contacts/{KEY}/{format}"));
        assert_eq!(r.status, 200, "{format}");
        let opt = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        if let Err(e) = roxmltree::Document::parse_with_options(&r.body, opt) {
            panic!("{format} is not well-formed XML ({e}): {}", r.body);
        }
        assert!(r.body.contains("Eve[31m"), "{format}: {}", r.body);
        assert!(
            !r.body.contains('\u{1b}') && !r.body.contains('\u{fffe}'),
            "{format}"
        );
    }
    let csv = s.get(&format!("/contacts/{KEY}")).body;
    assert!(
        csv.contains("RestPerson") || csv.contains("Rest[2JPerson"),
        "{csv}"
    );
    assert!(
        !csv.contains(&"x".repeat(101)),
        "the long remote name was left out"
    );
    for number in ["%2B4930901820", "%2B4930901822"] {
        let r = s.get(&format!(
            "/contacts/{KEY}/lookup?number={number}&format=text"
        ));
        assert_eq!(r.status, 200);
        assert!(!r.body.chars().any(char::is_control), "{:?}", r.body);
    }
}

#[test]
fn quotas_and_the_free_disk_floor_answer_with_a_sentence() {
    let s = Server::start(&[
        "--source-allow",
        "127.0.0.0/8",
        "--max-sources",
        "1",
        "--max-contacts",
        "2",
    ]);
    let csv = b"display_name,phone\nAnna,+4930901820\n";
    assert_eq!(s.push_file(csv).status, 200);
    let r = s.push(&format!("/contacts/{KEY}?source=other"), csv);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("--max-sources"), "{}", r.body);
    let three = b"display_name,phone\nA,+4930901820\nB,+4930901821\nC,+4930901822\n";
    let r = s.push_file(three);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("--max-contacts"), "{}", r.body);
    let data = s.stop();

    // Under the free-disk floor every write is refused, every read goes on.
    let s = Server::start_in(
        data,
        &[
            "--source-allow",
            "127.0.0.0/8",
            "--min-free-disk",
            "1000000TiB",
        ],
    );
    let r = s.push_file(three);
    assert_eq!(r.status, 507, "{}", r.body);
    assert!(r.body.contains("disk is almost full"), "{}", r.body);
    let r = api(&s, "PUT", "/settings", Some(r#"{"name": "X"}"#));
    assert_eq!(r.status, 507, "{}", r.body);
    let r = s.get(&format!("/contacts/{KEY}/yealink/v1"));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Anna"));
}

#[test]
fn nosniff_everywhere_and_one_server_per_data_directory() {
    let s = Server::start(LOCAL_SOURCES);
    for path in [
        "/healthz",
        "/nowhere",
        &format!("/contacts/{KEY}/yealink/v1"),
    ] {
        let r = s.get(path);
        assert_eq!(
            r.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let out = std::process::Command::new(bin())
        .args(["serve", "--data-dir"])
        .arg(s.data_dir())
        .args(["--http", "127.0.0.1:0", "--https", "off"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another phonedir server is running"), "{err}");
    assert_eq!(s.get("/healthz").status, 200, "the first one is untouched");
}
