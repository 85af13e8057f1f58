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
