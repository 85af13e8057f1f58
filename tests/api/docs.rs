//! What the README and docs/ tell a new user to paste must be what the server does: the
//! examples are read from the files themselves, so a doc that drifts fails here.

use crate::helpers::{Server, KEY};
use std::path::Path;

fn doc(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Asterisk's `CURL()` returns the body whatever the status: a dialplan that sets the
/// caller's name straight from it overwrites the trunk's name with nothing for every
/// unknown caller. Every example must set the name only when the answer is not empty, and
/// the answer for an unknown caller must be empty.
#[test]
fn asterisk_examples_keep_the_trunk_name_for_unknown_callers() {
    for file in ["README.md", "docs/phones/pbx-lookup.md"] {
        let text = doc(file);
        let dialplan: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("same =>") || l.contains("exten =>"))
            .collect();
        assert!(
            dialplan.iter().any(|l| l.contains("lookup?format=text")),
            "{file} has no Asterisk example"
        );
        for line in &dialplan {
            if line.contains("Set(CALLERID(name)=") {
                assert!(
                    line.contains("ExecIf($[\"${PD_NAME}\" != \"\"]"),
                    "{file}: the caller's name is set without checking the answer: {line}"
                );
            }
        }
        let fetch = dialplan
            .iter()
            .find(|l| l.contains("PD_NAME=${CURL("))
            .unwrap_or_else(|| panic!("{file}: no CURL() into PD_NAME"));
        assert!(fetch.contains("format=text"), "{file}: {fetch}");
    }

    // What the dialplan fetches, for a caller the book knows and for one it does not.
    let s = Server::start(&[]);
    s.push_csv("display_name,phone\nAnna Schmidt,WORK:+493011122233\n");
    let url = |n: &str| format!("/contacts/{KEY}/lookup?format=text&number={n}");
    assert_eq!(s.get(&url("%2B493011122233")).body, "Anna Schmidt");
    for unknown in ["%2B493099999999", "", "anonymous"] {
        let r = s.get(&url(unknown));
        assert_eq!(r.body, "", "{unknown}: {}", r.status);
    }
}

/// The `--flag` and `PHONEDIR_…` words of a text.
fn words(text: &str, start: &str, is_part: fn(char) -> bool) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        let word: String = rest[i..]
            .chars()
            .take(start.len())
            .chain(rest[i + start.len()..].chars().take_while(|c| is_part(*c)))
            .collect();
        let word = word.trim_end_matches('-').to_owned();
        if word.len() > start.len() {
            out.insert(word);
        }
        rest = &rest[i + start.len()..];
    }
    out
}

/// Every flag and environment variable `phonedir serve --help` shows is in the README's
/// serve table, and the table names none that does not exist: a branch that adds a flag
/// without documenting it fails here.
#[test]
fn the_readme_serve_table_lists_every_flag_and_variable() {
    let out = std::process::Command::new(crate::helpers::bin())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let flag = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let var = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
    let mut help_flags = words(&help, "--", flag);
    help_flags.remove("--help");
    help_flags.remove("--version");
    let help_vars = words(&help, "PHONEDIR_", var);
    assert!(help_flags.len() > 10 && help_vars.len() > 10, "{help}");

    let readme = doc("README.md");
    let start = readme
        .find("`phonedir serve` flags")
        .expect("the serve table's heading");
    let table: String = readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let table_flags = words(&table, "--", flag);
    let table_vars = words(&table, "PHONEDIR_", var);
    let missing: Vec<_> = help_flags.difference(&table_flags).collect();
    assert!(
        missing.is_empty(),
        "flags missing in the README's serve table: {missing:?}"
    );
    let missing: Vec<_> = help_vars.difference(&table_vars).collect();
    assert!(
        missing.is_empty(),
        "variables missing in the README's serve table: {missing:?}"
    );
    let stale: Vec<_> = table_flags.difference(&help_flags).collect();
    assert!(
        stale.is_empty(),
        "the README's serve table names flags serve does not take: {stale:?}"
    );
    // Variables read without a flag (PHONEDIR_LOG, PHONEDIR_SECRET_KEY) are not in --help;
    // they may stand in the table if the code reads them.
    let code = source_text(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let stale: Vec<_> = table_vars
        .difference(&help_vars)
        .filter(|v| !code.contains(&format!("\"{v}\"")))
        .collect();
    assert!(
        stale.is_empty(),
        "the README's serve table names variables serve does not read: {stale:?}"
    );
}

/// Every `.rs` file under `dir`, concatenated.
fn source_text(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.push_str(&source_text(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

/// Every source settings example (`{"kind": …}`) in README.md and docs/sources.md, as text.
fn source_examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{\"kind\"") {
        let s = &rest[start..];
        let (mut depth, mut in_string, mut escaped, mut end) = (0, false, false, s.len());
        for (i, c) in s.char_indices() {
            match (in_string, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (true, false, '"') => in_string = false,
                (false, _, '"') => in_string = true,
                (false, _, '{') => depth += 1,
                (false, _, '}') => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Shell line continuations and indentation are not part of the JSON.
        out.push(s[..end].replace("\\\n", " ").replace('\n', " "));
        rest = &s[end..];
    }
    out
}

/// The settings the docs tell users to send are settings the server takes: each example
/// (a source's or a target's) parses as JSON and is accepted (201) by a real server, a test
/// CA in for `ca_cert`'s placeholder.
#[test]
fn source_examples_in_the_docs_are_accepted() {
    let s = Server::start(&[]);
    crate::sources::create_directory(&s);
    let (ca, ..) = crate::fake::test_ca();
    let mut n = 0;
    for file in ["README.md", "docs/sources.md", "docs/targets.md"] {
        for (i, example) in source_examples(&doc(file)).into_iter().enumerate() {
            let mut v: serde_json::Value = serde_json::from_str(&example)
                .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {example}"));
            if v.get("ca_cert").is_some() {
                v["ca_cert"] = ca.clone().into();
            }
            if v["kind"] == "push" {
                continue;
            }
            n += 1;
            let target = ["innovaphone", "easyconnect", "3cx", "placetel", "fritzbox"]
                .contains(&v["kind"].as_str().unwrap_or(""));
            let path = if target { "targets" } else { "sources" };
            let r = s
                .api()
                .call("PUT", &format!("/{path}/doc{n}"), Some(&v.to_string()));
            assert_eq!(r.status, 201, "{file} example {i}: {example}: {}", r.body);
        }
    }
    assert!(n >= 10, "only {n} examples found");
}
