//! `google` sources against a local fake of Google's OAuth token endpoint and People API,
//! built from the documented payloads: the refresh-token grant, `people/me/connections`
//! and `people:listDirectoryPeople` paged by `nextPageToken`, sync tokens (deleted people
//! with `metadata.deleted`, an expired token answered with `EXPIRED_SYNC_TOKEN`), a 429
//! `RESOURCE_EXHAUSTED`, an expired access token, revoked consent and a missing scope.

use crate::fake::{decode, Fake, Reply, Request};
use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::sources::{api, create_directory};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const REFRESH: &str = "1//0gL-refresh-token";
const REVOKED: &str = "1//0gL-revoked-token";

fn person(id: &str, given: &str, family: &str, phones: &[(&str, &str)]) -> Value {
    json!({
        "resourceName": format!("people/{id}"),
        "etag": format!("%EgUBAi43PRoE{id}"),
        "metadata": {"sources": [{"type": "CONTACT", "id": id}], "objectType": "PERSON"},
        "names": [{"metadata": {"primary": true, "source": {"type": "CONTACT", "id": id}},
                   "displayName": format!("{given} {family}"), "familyName": family,
                   "givenName": given, "displayNameLastFirst": format!("{family}, {given}"),
                   "unstructuredName": format!("{given} {family}")}],
        "phoneNumbers": phones.iter().map(|(v, t)| json!({
            "metadata": {"primary": false, "source": {"type": "CONTACT", "id": id}},
            "value": v, "type": t, "formattedType": t})).collect::<Vec<_>>(),
        "emailAddresses": [{"value": format!("{}@example.com", given.to_lowercase()), "type": "work"}],
        "organizations": [{"name": "ACME", "title": "Engineer", "department": "R&D"}]
    })
}

fn error(code: u16, status: &str, message: &str, reason: &str) -> Reply {
    Reply::json(
        code,
        json!({"error": {"code": code, "message": message, "status": status,
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": reason, "domain": "people.googleapis.com"}]}}),
    )
}

fn form(req: &Request, k: &str) -> Option<String> {
    req.body
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(n, _)| *n == k)
        .map(|(_, v)| decode(v))
}

struct Google {
    fake: Fake,
    tokens: Arc<AtomicUsize>,
    /// What the connections answer now (changed by the test between rounds).
    round: Arc<Mutex<u32>>,
}

fn start() -> Google {
    let tokens = Arc::new(AtomicUsize::new(0));
    let round = Arc::new(Mutex::new(1u32));
    let throttled = Arc::new(AtomicUsize::new(0));
    let (t, r) = (tokens.clone(), round.clone());
    let fake = Fake::start(move |req| {
        if req.path() == "/token" {
            assert_eq!(req.method, "POST");
            assert_eq!(form(req, "grant_type").as_deref(), Some("refresh_token"));
            assert_eq!(
                form(req, "client_id").as_deref(),
                Some("123-abc.apps.googleusercontent.com")
            );
            if form(req, "client_secret").as_deref() != Some("GOCSPX-secret") {
                return Reply::json(
                    401,
                    json!({"error": "invalid_client", "error_description": "Unauthorized"}),
                );
            }
            if form(req, "refresh_token").as_deref() != Some(REFRESH) {
                return Reply::json(
                    400,
                    json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
                );
            }
            let n = t.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(
                200,
                json!({"access_token": format!("ya29.tok-{n}"), "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/contacts.readonly https://www.googleapis.com/auth/directory.readonly",
                "token_type": "Bearer"}),
            );
        }
        let auth = req.header("authorization").unwrap_or("");
        let round = *r.lock().unwrap();
        // Round 2's first access token is refused as expired (as one that outlived its hour).
        if !auth.starts_with("Bearer ya29.tok-") || (round == 2 && auth == "Bearer ya29.tok-2") {
            return error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "ACCESS_TOKEN_EXPIRED");
        }
        match req.path() {
            "/v1/people/me/connections" => {
                let fields = req.query("personFields").unwrap_or_default();
                assert!(
                    fields.contains("phoneNumbers") && fields.contains("names"),
                    "{fields}"
                );
                assert_eq!(req.query("requestSyncToken").as_deref(), Some("true"));
                let sync = req.query("syncToken");
                let page = req.query("pageToken");
                match (sync.as_deref(), page.as_deref()) {
                    (None, None) if round >= 3 => Reply::json(200, json!({
                        "connections": [person("c1", "Anna", "Schmidt", &[("+49 30 1234567", "work"), ("0171 5550199", "mobile")])],
                        "nextSyncToken": "sync-full-2", "totalPeople": 1, "totalItems": 1})),
                    (None, None) => Reply::json(200, json!({
                        "connections": [
                            person("c1", "Anna", "Schmidt", &[("+49 30 1234567", "work"), ("0171 5550101", "mobile")]),
                            person("c2", "Bob", "Jones", &[("+44 20 7946 0018", "home"), ("+49 30 1234599", "workFax")]),
                        ],
                        "nextPageToken": "page-2", "totalPeople": 3, "totalItems": 3})),
                    (None, Some("page-2")) => {
                        // Google's per-minute quota: 429 without Retry-After the first time.
                        if throttled.fetch_add(1, Ordering::SeqCst) == 0 {
                            return error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'people.googleapis.com'.", "RATE_LIMIT_EXCEEDED");
                        }
                        Reply::json(200, json!({
                            "connections": [person("c3", "Cleo", "Park", &[("+49 30 5550300", "Büro"), ("ask Anna", "mobile")])],
                            "nextSyncToken": "sync-1", "totalPeople": 3, "totalItems": 3}))
                    }
                    (Some("sync-1"), None) => Reply::json(200, json!({
                        "connections": [
                            person("c1", "Anna", "Schmidt", &[("+49 30 1234567", "work"), ("0171 5550199", "mobile")]),
                            {"resourceName": "people/c2", "etag": "%x", "metadata": {"deleted": true}},
                        ],
                        "nextSyncToken": "sync-2"})),
                    (Some(_), None) => error(400, "FAILED_PRECONDITION", "Sync token is expired. Clear local cache and retry call without the sync token.", "EXPIRED_SYNC_TOKEN"),
                    other => panic!("unexpected {other:?}"),
                }
            }
            "/v1/people:listDirectoryPeople" => {
                assert!(
                    req.target
                        .contains("sources=DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"),
                    "{}",
                    req.target
                );
                assert!(req
                    .query("readMask")
                    .unwrap_or_default()
                    .contains("phoneNumbers"));
                if auth != "Bearer ya29.tok-1" && round == 9 {
                    return error(
                        403,
                        "PERMISSION_DENIED",
                        "Request had insufficient authentication scopes.",
                        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    );
                }
                Reply::json(
                    200,
                    json!({
                    "people": [person("d1", "Dana", "Lee", &[("+1 650 253 0000", "work")])],
                    "nextSyncToken": "dir-1"}),
                )
            }
            other => panic!("unexpected path {other}"),
        }
    });
    Google {
        fake,
        tokens,
        round,
    }
}

fn settings(g: &Fake, mode: &str, refresh: &str) -> String {
    json!({"kind": "google", "client_id": "123-abc.apps.googleusercontent.com",
           "client_secret": "GOCSPX-secret", "refresh_token": refresh, "mode": mode,
           "interval_s": 0, "region": "DE",
           "token_url": format!("{}/token", g.base), "api_url": format!("{}/v1", g.base)})
    .to_string()
}

fn book(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.get(&format!("/contacts/{KEY}")).body)
}

#[test]
fn google_contacts_paging_quota_sync_tokens_expired_tokens_and_revoked_consent() {
    let g = start();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let r = api(
        &s,
        "PUT",
        "/sources/google",
        Some(&settings(&g.fake, "contacts", REFRESH)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let shown = r.json()["settings"].clone();
    assert_eq!(
        (
            shown["client_secret"].as_str(),
            shown["refresh_token"].as_str()
        ),
        (Some("********"), Some("********"))
    );

    // Round 1: two pages, a 429 on the second honoured with a backoff.
    let r = api(&s, "POST", "/sources/google/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        book(&s),
        vec![
            (
                "Anna Schmidt".to_owned(),
                "WORK:+49301234567;MOBILE:+491715550101".to_owned()
            ),
            (
                "Bob Jones".to_owned(),
                "HOME:+442079460018;FAX:+49301234599".to_owned()
            ),
            ("Cleo Park".to_owned(), "WORK:+49305550300".to_owned()),
        ]
    );
    let pages2 = g
        .fake
        .requests()
        .iter()
        .filter(|r| r.target.contains("pageToken=page-2"))
        .count();
    assert_eq!(pages2, 2, "the throttled page was asked again");
    // Cleo's mobile is not a number: a warning with her resource name, not a log line.
    let st = api(&s, "GET", "/sources/google", None).json();
    let w = &st["status"]["warnings"];
    assert_eq!(w["count"], 1, "{w}");
    assert_eq!(w["first"][0]["record"], "people/c3");
    assert_eq!(w["first"][0]["field"], "phoneNumbers");
    assert_eq!(w["first"][0]["value"], "ask Anna");

    // Round 2 with the sync token: the access token is refused as expired (one more is
    // asked for), Bob was deleted, Anna has a new mobile number.
    *g.round.lock().unwrap() = 2;
    let r = api(&s, "POST", "/sources/google/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(g.tokens.load(Ordering::SeqCst), 3);
    let after = book(&s);
    assert_eq!(
        after,
        vec![
            (
                "Anna Schmidt".to_owned(),
                "WORK:+49301234567;MOBILE:+491715550199".to_owned()
            ),
            ("Cleo Park".to_owned(), "WORK:+49305550300".to_owned()),
        ]
    );
    let last = g.fake.requests().last().cloned().unwrap();
    assert_eq!(last.query("syncToken").as_deref(), Some("sync-1"));

    // Round 3: the sync token has expired; a full round replaces everything.
    *g.round.lock().unwrap() = 3;
    let before = g.fake.requests().len();
    let r = api(&s, "POST", "/sources/google/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let asked: Vec<Option<String>> = g.fake.requests()[before..]
        .iter()
        .filter(|r| r.path().ends_with("connections"))
        .map(|r| r.query("syncToken"))
        .collect();
    assert_eq!(asked, vec![Some("sync-2".to_owned()), None], "{asked:?}");
    assert_eq!(
        book(&s),
        vec![(
            "Anna Schmidt".to_owned(),
            "WORK:+49301234567;MOBILE:+491715550199".to_owned()
        )]
    );

    // The consent was revoked: a sentence that says what to do; the book stays.
    let r = api(
        &s,
        "PUT",
        "/sources/google",
        Some(&settings(&g.fake, "contacts", REVOKED)),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&s, "POST", "/sources/google/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("invalid_grant") && err.contains("revoked") && err.contains("refresh token"),
        "{err}"
    );
    assert_eq!(book(&s).len(), 1);
    assert!(
        !s.log().contains(REVOKED) && !s.log().contains("GOCSPX-secret"),
        "{}",
        s.log()
    );
    // A kept secret goes only where it went.
    let mut moved: Value =
        serde_json::from_str(&settings(&g.fake, "contacts", "********")).unwrap();
    moved["token_url"] = "https://evil.example/token".into();
    let r = api(&s, "PUT", "/sources/google", Some(&moved.to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
}

#[test]
fn google_workspace_directory_and_a_missing_scope() {
    let g = start();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let r = api(
        &s,
        "PUT",
        "/sources/domain",
        Some(&settings(&g.fake, "directory", REFRESH)),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(&s, "POST", "/sources/domain/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        book(&s),
        vec![("Dana Lee".to_owned(), "WORK:+16502530000".to_owned())]
    );

    // A refresh token granted without directory.readonly.
    *g.round.lock().unwrap() = 9;
    let r = api(&s, "POST", "/sources/domain/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("directory.readonly") && err.contains("HTTP 403"),
        "{err}"
    );
}
