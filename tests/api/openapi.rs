//! The OpenAPI document checked by a real validator (openapi-spec-validator) and against what
//! the server answers: every documented operation is answered, and each phone-book URL takes
//! exactly the query parameters the document lists. The route table's side (every route of
//! the app is documented) is checked inside the crate, in `src/http/openapi.rs`. Also the
//! Prometheus metrics, parsed by the official Python client.

use crate::helpers::{with_book, Server, KEY};
use crate::tools;
use serde_json::Value;
use std::collections::BTreeSet;

fn document(s: &Server) -> Value {
    let r = s.get("/api/v1/openapi.json");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

#[test]
fn the_openapi_document_is_valid_3_1_and_every_operation_is_answered() {
    let s = with_book(&[]);
    let doc = document(&s);
    assert_eq!(doc["openapi"], "3.1.0");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = tools::command("openapi-spec-validator")
        .arg(&path)
        .output()
        .expect("run openapi-spec-validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.contains("OK"), "{said}");

    // The error shape is one schema, and management routes name their key schemes.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "details"]));
    let status = &doc["paths"]["/api/v1/directories/{key}"]["get"];
    assert_eq!(
        status["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(status["security"].to_string().contains("directory_key"));

    // Every documented operation exists: none falls to the server's "no such URL".
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "{}", paths.len());
    for (path, item) in paths {
        let url = path
            .replace("{key}", KEY)
            .replace("{name}", "nosuch")
            .replace("{other}", "1");
        for method in item.as_object().unwrap().keys() {
            let r = s.request(&method.to_uppercase(), &s.url(&url), &[], None);
            assert!(
                !(r.status == 404 && r.body.contains("no such URL")),
                "{method} {path} is documented but not answered"
            );
        }
    }
}

/// The parameters a URL names in its "unknown parameter" answer.
fn accepted(s: &Server, path: &str) -> BTreeSet<String> {
    let r = s.get(&format!("{path}?zz_not_a_parameter=1"));
    let text = if r.body.starts_with('{') {
        r.json()["error"].as_str().unwrap_or("").to_owned()
    } else if r.body.starts_with('<') {
        // The Gigaset protocol answers with its own error document.
        let doc = r.xml();
        doc.descendants()
            .find(|n| n.has_tag_name("message"))
            .and_then(|n| n.text())
            .unwrap_or("")
            .to_owned()
    } else {
        r.header("x-phonedir-error").unwrap_or(&r.body).to_owned()
    };
    let list = text
        .split_once("takes ")
        .map(|(_, l)| l)
        .unwrap_or_else(|| panic!("{path}: {}", r.body));
    list.split(',')
        .map(|p| p.trim().trim_end_matches('.').to_owned())
        .collect()
}

#[test]
fn each_phone_book_url_takes_exactly_the_documented_parameters() {
    let s = with_book(&[]);
    let doc = document(&s);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/contacts/{key}") {
            continue;
        }
        let Some(get) = item.get("get") else { continue };
        let documented: BTreeSet<String> = get["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let answered = accepted(&s, &path.replace("{key}", KEY));
        assert_eq!(documented, answered, "{path}");
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}

#[test]
fn metrics_count_by_route_pattern_and_never_name_a_key() {
    let s = with_book(&[]);
    for _ in 0..3 {
        assert_eq!(s.book("yealink/v1").status, 200);
    }
    assert_eq!(s.get("/contacts/NOPEq7Rt2xK9pL/yealink/v1").status, 404);
    assert_eq!(s.api().status().status, 200);
    let r = s.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain; version=0.0.4"));
    let text = r.body;
    assert!(
        !text.contains(KEY) && !text.contains("NOPEq7Rt2xK9pL") && !text.contains("ACME"),
        "{text}"
    );
    // The official client reads it; what it reads is what happened.
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
seen = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        seen[(s.name, tuple(sorted(s.labels.items())))] = s.value
def get(name, **labels):
    return seen.get((name, tuple(sorted(labels.items()))), 0)
print(int(get("phonedir_http_requests_total", route="/contacts/{key}/yealink/v1", method="GET", status="200")))
print(int(get("phonedir_http_requests_total", route="/contacts/{key}/yealink/v1", method="GET", status="404")))
print(int(get("phonedir_render_cache_hits_total")))
print(int(get("phonedir_render_cache_misses_total")))
print(int(get("phonedir_book_build_duration_seconds_count")))
print(int(get("phonedir_source_runs_total", kind="push", outcome="ok")))
"#;
    let mut child = tools::command("prometheus-client")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{got}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: Vec<u64> = got.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(n[0], 3, "{text}");
    assert_eq!(n[1], 1);
    assert!(n[2] >= 2, "cache hits: {text}");
    assert!(n[3] >= 1, "cache misses");
    assert!(n[4] >= 1, "book builds");
    assert_eq!(n[5], 1, "the push");
}

#[test]
fn metrics_move_to_their_own_listener() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let s = with_book(&["--metrics", &addr]);
    assert_eq!(s.get("/metrics").status, 404);
    assert!(
        s.log()
            .contains(&format!("metrics on http://{addr}/metrics")),
        "{}",
        s.log()
    );
    let r = s.request("GET", &format!("http://{addr}/metrics"), &[], None);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("phonedir_source_runs_total{kind=\"push\",outcome=\"ok\"} 1"),
        "{}",
        r.body
    );
}
