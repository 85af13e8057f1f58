//! The server as an operator runs it: restarts, concurrent phones during pushes, closed
//! registration, the demo, the CLI, and logs that keep keys out.

use crate::helpers::{cli, csv_rows, fixture, Server, KEY};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn healthz() {
    let s = Server::start(&[]);
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.get_tls("/healthz").status, 200);
}

#[test]
fn a_restart_on_the_same_data_dir_serves_the_same_books_and_certificate() {
    let s = Server::start(&[]);
    assert_eq!(
        s.push(
            &format!("/contacts/{KEY}"),
            &fixture("syncblue-directory.csv")
        )
        .status,
        200
    );
    let paths = [
        "",
        "/yealink/v1",
        "/snom/v1",
        "/snom/tbook",
        "/gigaset/v1",
        "/gigaset/central",
    ];
    let before: Vec<(String, Option<String>)> = paths
        .iter()
        .map(|p| {
            let r = s.get(&format!("/contacts/{KEY}{p}"));
            (r.body.clone(), r.header("etag").map(str::to_owned))
        })
        .collect();
    let fingerprint = |log: &str| {
        log.lines()
            .find_map(|l| l.split("fingerprint ").nth(1))
            .map(|f| f.split_whitespace().next().unwrap_or("").to_owned())
            .expect("fingerprint in log")
    };
    let fp1 = fingerprint(&s.log());
    let data = s.stop();
    let s = Server::start_in(data, &[]);
    for (p, (body, tag)) in paths.iter().zip(&before) {
        let r = s.get(&format!("/contacts/{KEY}{p}"));
        assert_eq!(&r.body, body, "{p}");
        assert_eq!(r.header("etag").map(str::to_owned), *tag, "{p}");
    }
    assert_eq!(
        fingerprint(&s.log()),
        fp1,
        "the generated certificate is reused"
    );
    assert!(
        !s.log().contains("generated a self-signed certificate"),
        "{}",
        s.log()
    );
}

/// Phones fetching while pushes run see the old book or the new one, never a mix.
#[test]
fn readers_never_see_half_a_push() {
    let s = Arc::new(Server::start(&[]));
    let book = |prefix: &str, n: usize| {
        let mut csv = String::from("display_name,phone\n");
        for i in 0..n {
            csv.push_str(&format!("{prefix} {i:04},+49309018{i:04}\n"));
        }
        csv
    };
    let (a, b) = (book("Alpha", 300), book("Bravo", 400));
    assert_eq!(
        s.push(&format!("/contacts/{KEY}"), a.as_bytes()).status,
        200
    );
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (s, done) = (s.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..12 {
                let body = if i % 2 == 0 { &b } else { &a };
                assert_eq!(
                    s.push(&format!("/contacts/{KEY}"), body.as_bytes()).status,
                    200
                );
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut seen = (0, 0);
    while !done.load(Ordering::SeqCst) {
        let rows = csv_rows(&s.book("").body);
        let alpha = rows.iter().filter(|r| r.0.starts_with("Alpha")).count();
        let bravo = rows.iter().filter(|r| r.0.starts_with("Bravo")).count();
        assert!(
            (alpha, bravo) == (300, 0) || (alpha, bravo) == (0, 400),
            "mixed book: {alpha} Alpha + {bravo} Bravo"
        );
        if alpha > 0 {
            seen.0 += 1
        } else {
            seen.1 += 1
        }
    }
    writer.join().unwrap();
    assert!(seen.0 + seen.1 > 0);
}

#[test]
fn closed_registration_needs_a_created_directory() {
    let s = Server::start(&["--no-open-registration"]);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let (ok, out, err) = cli(&[
        "directory",
        "create",
        KEY,
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains(KEY));
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (ok, out, _) = cli(&[
        "directory",
        "list",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok);
    assert!(
        out.lines().any(|l| l.starts_with(KEY) && l.contains(" 6 ")),
        "{out}"
    );
}

#[test]
fn demo_loads_the_sample_directory_once() {
    let s = Server::start(&["--demo"]);
    let rows = csv_rows(&s.get("/contacts/DEMOabcABC0123").body);
    assert_eq!(rows.len(), 18);
    assert!(rows.contains(&(
        "Anna Schmidt".into(),
        "WORK:+49891234567;EXTENSION:201;MOBILE:+491712345678".into()
    )));
    // Its key is published: over the network it only reads.
    let r = s.push(
        "/contacts/DEMOabcABC0123",
        b"display_name,phone\nOnly Me,+4930901820\n",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("read"),
        "{}",
        r.body
    );
    let r = s.request(
        "GET",
        &s.url("/api/v1/directories/DEMOabcABC0123"),
        &[("Authorization", "Bearer DEMOabcABC0123")],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(csv_rows(&s.get("/contacts/DEMOabcABC0123").body).len(), 18);
    // The operator may change it, and the change survives a restart with --demo.
    let file = s.data_dir().join("me.csv");
    std::fs::write(&file, "display_name,phone\nOnly Me,+4930901820\n").unwrap();
    let (ok, _, err) = cli(&[
        "import",
        "--key",
        "DEMOabcABC0123",
        file.to_str().unwrap(),
        "--data-dir",
        s.data_dir().to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let data = s.stop();
    let s = Server::start_in(data, &["--demo"]);
    assert_eq!(csv_rows(&s.get("/contacts/DEMOabcABC0123").body).len(), 1);
}

#[test]
fn cli_import_and_export_match_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("in.csv");
    std::fs::write(&file, fixture("syncblue-directory.csv")).unwrap();
    let (ok, out, err) = cli(&[
        "import",
        "--data-dir",
        d,
        "--key",
        KEY,
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("6 contacts with 8 numbers"), "{out}");
    let (ok, exported, _) = cli(&[
        "export",
        "--data-dir",
        d,
        "--key",
        KEY,
        "--format",
        "yealink",
    ]);
    assert!(ok);
    let s = Server::start_in(Arc::new(dir), &[]);
    assert_eq!(s.book("yealink/v1").body, exported);
    let (ok, _, err) = cli(&[
        "export",
        "--data-dir",
        s.data_dir().to_str().unwrap(),
        "--key",
        KEY,
        "--format",
        "fax",
    ]);
    assert!(!ok && err.contains("unknown format"), "{err}");
}

#[test]
fn logs_never_hold_a_full_key() {
    let s = Server::start(&[]);
    s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    s.book("yealink/v1?q=baltz");
    s.get("/contacts/ZZZZZZZZZZZZZZ");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = s.log();
    assert!(log.contains("ACME**********"), "{log}");
    assert!(!log.contains(KEY), "{log}");
    assert!(!log.contains("ZZZZZZZZZZZZZZ"), "{log}");
}
