//! Errors in the user's words: what a new user ran into, each as they saw it.

use crate::helpers::{bin, cli, Server, KEY};
use std::process::Command;

fn error_of(r: &crate::helpers::Response) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_json_number_without_number_says_so() {
    let s = Server::start(&[]);
    let r = s.request(
        "POST",
        &s.url(&format!("/contacts/{KEY}")),
        &[("Content-Type", "application/json")],
        Some(br#"[{"display_name": "Anna", "numbers": [{"type": "WORK"}]}]"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let e = error_of(&r);
    assert!(e.contains(r#"no "number""#), "{e}");
    assert!(!e.contains("untagged") && !e.contains("variant"), "{e}");
}

#[test]
fn cli_errors_are_one_clean_line_even_with_rust_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec!["directory", "set", KEY, "--name", "x", "--data-dir", d],
        vec!["import", "--key", KEY, "/nonexistent.csv", "--data-dir", d],
        vec!["export", "--key", "short", "--data-dir", d],
    ] {
        let out = Command::new(bin())
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        assert!(
            !err.contains("backtrace") && !err.contains("Caused by"),
            "{err}"
        );
    }
}

#[test]
fn a_missing_certificate_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["serve", "--https", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--tls-cert", "missing.pem", "--tls-key", "missing.key"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: --tls-cert missing.pem: the file does not exist"),
        "{err}"
    );
    // Nothing was set up for a server that cannot start.
    assert!(!dir.path().join("secret.key").exists());
}

#[test]
fn a_closed_server_says_how_to_create_a_directory() {
    let s = Server::start(&["--no-open-registration"]);
    let r = s.push_csv("display_name,phone\nAnna,+4930901820\n");
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        error_of(&r).contains("phonedir directory create KEY"),
        "{}",
        r.body
    );
}

#[test]
fn a_wrong_method_answers_405_with_the_methods_the_url_takes() {
    let s = Server::start(&[]);
    s.push_csv("display_name,phone\nAnna,+4930901820\n");
    for (method, path, allow) in [
        ("DELETE", format!("/contacts/{KEY}"), "GET, HEAD, POST, PUT"),
        ("POST", format!("/contacts/{KEY}/yealink/v1"), "GET, HEAD"),
        ("DELETE", format!("/api/v1/directories/{KEY}"), "GET"),
    ] {
        let r = s.request(method, &s.url(&path), &[], None);
        assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        assert!(error_of(&r).contains(method), "{}", r.body);
    }
    // The directory is still there, and an unknown path is still 404.
    assert_eq!(s.book("").status, 200);
    assert_eq!(s.book("nothing").status, 404);
}

#[test]
fn trailing_empty_columns_are_not_reported_as_ignored_columns() {
    let s = Server::start(&[]);
    let r = s.push_csv("Name;Telefon;Notiz;;\nAnna;+4930901820;x;;\n");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["columns_ignored"], serde_json::json!(["Notiz"]));
}

/// A 7-digit `Durchwahl` is longer than an extension may be; `0151` in a mobile column is
/// a number cut short. Both used to become extensions nobody can dial, without a word.
#[test]
fn numbers_that_are_no_extensions_get_a_warning() {
    let s = Server::start(&[]);
    let r = s.push(
        &format!("/contacts/{KEY}?region=DE"),
        "Name,Telefon,Durchwahl,Mobil\n\
         Anna,089 1234567,1234567,\n\
         Ben,089 1234568,202,0151\n\
         Cleo,089 1234569,203,251\n"
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let w = r.json()["warnings"].as_array().unwrap().clone();
    let found = |line: i64, column: &str, text: &str| {
        w.iter().any(|x| {
            x["line"] == line
                && x["column"] == column
                && x["message"].as_str().unwrap().contains(text)
        })
    };
    assert!(found(2, "Durchwahl", "7 digits"), "{w:?}");
    assert!(found(3, "Mobil", "too short"), "{w:?}");
    assert_eq!(w.len(), 2, "{w:?}");
    let rows = crate::helpers::csv_rows(&s.book("").body);
    assert_eq!(
        rows,
        vec![
            ("Anna".to_owned(), "WORK:+49891234567".to_owned()),
            (
                "Ben".to_owned(),
                "WORK:+49891234568;EXTENSION:202".to_owned()
            ),
            // A DECT handset's number in the mobile column stays an extension.
            (
                "Cleo".to_owned(),
                "WORK:+49891234569;EXTENSION:203;EXTENSION:251".to_owned()
            ),
        ]
    );
}

#[test]
fn the_cli_counts_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.csv");
    std::fs::write(&file, "Name,Telefon,Mobil\nAnna,+4930901820,0171 1234567\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, err) = cli(&[
        "import",
        "--data-dir",
        d,
        "--key",
        KEY,
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("1 contact with 1 number from 1 row "), "{out}");
    assert!(out.contains("1 problem:"), "{out}");
    assert!(
        out.contains("import with --region CC (for example --region DE)"),
        "{out}"
    );
}
