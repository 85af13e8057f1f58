//! `graph` sources against a local fake of Microsoft Graph built from the documented
//! payloads: the client-credentials token endpoint, paging by `@odata.nextLink`, a 429 with
//! `Retry-After`, an expired token, delta rounds with `@odata.deltaLink`, a lost delta
//! state, and permission errors.

use crate::fake::{Fake, Reply, Request};
use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::sources::{api, create_directory};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const TENANT: &str = "contoso-tenant";

fn user(id: &str, name: &str, business: &[&str], mobile: Option<&str>, enabled: bool) -> Value {
    let (given, sur) = name.split_once(' ').unwrap();
    json!({"id": id, "displayName": name, "givenName": given, "surname": sur,
           "mail": format!("{id}@contoso.example"), "businessPhones": business,
           "mobilePhone": mobile, "jobTitle": "Engineer", "accountEnabled": enabled})
}

/// Tokens issued so far: `tok-1`, `tok-2`, …
struct Graph {
    fake: Fake,
    tokens: Arc<AtomicUsize>,
}

fn token_reply(req: &Request, tokens: &AtomicUsize) -> Reply {
    let form = req.body.clone();
    let field = |k: &str| {
        form.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(n, _)| *n == k)
            .map(|(_, v)| crate::fake::decode(v))
    };
    assert_eq!(field("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(
        field("scope").as_deref(),
        Some("https://graph.microsoft.com/.default")
    );
    assert_eq!(field("client_id").as_deref(), Some("app-1"));
    if field("client_secret").as_deref() != Some("s3cr3t~value") {
        return Reply::json(
            401,
            json!({"error": "invalid_client",
                   "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: x"}),
        );
    }
    let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
               "access_token": format!("tok-{n}")}),
    )
}

fn bearer(req: &Request) -> String {
    req.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_owned()
}

fn start_users_graph() -> Graph {
    let tokens = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let t = tokens.clone();
    let fake = Fake::start(move |req| {
        let base = format!("http://{}", req.header("host").unwrap());
        if req.path() == format!("/{TENANT}/oauth2/v2.0/token") {
            assert_eq!(req.method, "POST");
            return token_reply(req, &t);
        }
        let tok = bearer(req);
        if !tok.starts_with("tok-") {
            return Reply::json(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken"}}),
            );
        }
        assert_eq!(req.path(), "/v1.0/users/delta", "{}", req.target);
        if let Some(dt) = req.query("$deltatoken") {
            return match dt.as_str() {
                // The first round's link, asked with the first token: that token expired.
                "round1" if tok == "tok-1" => Reply::json(
                    401,
                    json!({"error": {"code": "InvalidAuthenticationToken",
                                     "message": "Lifetime validation failed, the token is expired."}}),
                ),
                "round1" => Reply::json(
                    200,
                    json!({"value": [
                        {"id": "u1", "mobilePhone": "+49 171 5550001"},
                        {"id": "u2", "@removed": {"reason": "changed"}},
                    ], "@odata.deltaLink": format!("{base}/v1.0/users/delta?$deltatoken=round2")}),
                ),
                // The third round: the delta token has expired.
                _ => Reply::json(
                    400,
                    json!({"error": {"code": "SyncStateNotFound", "message": "The sync state is not found."}}),
                ),
            };
        }
        match req.query("$skiptoken").as_deref() {
            None => {
                let select = req.query("$select").unwrap_or_default();
                assert!(select.contains("accountEnabled") && select.contains("businessPhones"));
                Reply::json(
                    200,
                    json!({"value": [
                        user("u1", "Adele Vance", &["+1 425 555 0109"], None, true),
                        user("u2", "Alex Wilber", &["+1 858 555 0110"], Some("+1 858 555 0111"), true),
                    ], "@odata.nextLink": format!("{base}/v1.0/users/delta?$skiptoken=page2")}),
                )
            }
            Some("page2") => {
                // The first time, Graph is busy.
                if throttled.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Reply::json(429, json!({"error": {"code": "TooManyRequests"}}))
                        .with_header("Retry-After", "1");
                }
                Reply::json(
                    200,
                    json!({"value": [
                        user("u3", "Diego Siciliani", &["+1 205 555 0108"], None, true),
                        user("u4", "Gone Person", &["+1 205 555 0199"], None, false),
                    ], "@odata.deltaLink": format!("{base}/v1.0/users/delta?$deltatoken=round1")}),
                )
            }
            Some(other) => panic!("unknown skiptoken {other}"),
        }
    });
    Graph { fake, tokens }
}

fn settings(g: &Fake, mode: &str, secret: &str) -> String {
    json!({"kind": "graph", "tenant_id": TENANT, "client_id": "app-1",
           "client_secret": secret, "mode": mode, "interval_s": 0,
           "token_url": format!("{}/{TENANT}/oauth2/v2.0/token", g.base),
           "graph_url": format!("{}/v1.0", g.base)})
    .to_string()
}

fn names(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.get(&format!("/contacts/{KEY}")).body)
}

#[test]
fn graph_users_page_throttle_expired_token_and_delta_rounds() {
    let g = start_users_graph();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let r = api(
        &s,
        "PUT",
        "/sources/m365",
        Some(&settings(&g.fake, "users", "s3cr3t~value")),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["client_secret"], "********");

    // Round 1: two pages, a 429 in between honoured after its Retry-After.
    let started = std::time::Instant::now();
    let r = api(&s, "POST", "/sources/m365/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        started.elapsed().as_millis() >= 900,
        "waited for Retry-After"
    );
    assert_eq!(
        names(&s),
        vec![
            ("Adele Vance".to_owned(), "WORK:+14255550109".to_owned()),
            (
                "Alex Wilber".to_owned(),
                "WORK:+18585550110;MOBILE:+18585550111".to_owned()
            ),
            ("Diego Siciliani".to_owned(), "WORK:+12055550108".to_owned()),
        ],
        "the disabled account is left out"
    );
    let reqs = g.fake.requests();
    let page2: Vec<_> = reqs.iter().filter(|r| r.target.contains("page2")).collect();
    assert_eq!(page2.len(), 2, "the throttled page was asked again");
    assert_eq!(
        g.tokens.load(Ordering::SeqCst),
        1,
        "one token for the whole round"
    );

    // Round 2 with the stored delta link: the cached token has expired, a new one is
    // fetched; Adele got a mobile number, Alex was removed.
    let r = api(&s, "POST", "/sources/m365/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(g.tokens.load(Ordering::SeqCst), 2);
    assert_eq!(
        names(&s),
        vec![
            (
                "Adele Vance".to_owned(),
                "WORK:+14255550109;MOBILE:+491715550001".to_owned()
            ),
            ("Diego Siciliani".to_owned(), "WORK:+12055550108".to_owned()),
        ]
    );

    // Round 3: the delta state is gone; a full round rebuilds the list.
    let before = g.fake.requests().len();
    let r = api(&s, "POST", "/sources/m365/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&s).len(), 3);
    let round3: Vec<String> = g.fake.requests()[before..]
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert!(round3[0].contains("deltatoken=round2"), "{round3:?}");
    assert!(
        round3[1].starts_with("/v1.0/users/delta?$select="),
        "{round3:?}"
    );

    // A wrong secret: the status names the problem, the data stays, the secret stays out of
    // every answer and the log.
    let r = api(
        &s,
        "PUT",
        "/sources/m365",
        Some(&settings(&g.fake, "users", "wrong-secret")),
    );
    assert_eq!(r.status, 200);
    let r = api(&s, "POST", "/sources/m365/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("AADSTS7000215"), "{}", r.body);
    assert_eq!(names(&s).len(), 3);
    let log = s.log();
    assert!(
        !log.contains("s3cr3t") && !log.contains("wrong-secret"),
        "{log}"
    );
    // Neither the database nor its write-ahead log holds the secret in clear.
    let mut scanned = 0;
    for f in std::fs::read_dir(s.data_dir()).unwrap() {
        let f = f.unwrap();
        if f.file_name()
            .to_string_lossy()
            .starts_with("phonedir.sqlite3")
        {
            let bytes = std::fs::read(f.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("s3cr3t~value"),
                "the secret is encrypted at rest ({:?})",
                f.file_name()
            );
            scanned += bytes.len();
        }
    }
    assert!(scanned > 0);
}

#[test]
fn graph_mailbox_and_org_contacts_and_missing_permissions() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let mailbox_calls = Arc::new(Mutex::new(Vec::new()));
    let (t, calls) = (tokens.clone(), mailbox_calls.clone());
    let g = Fake::start(move |req| {
        let base = format!("http://{}", req.header("host").unwrap());
        if req.path().ends_with("/oauth2/v2.0/token") {
            return token_reply(req, &t);
        }
        match req.path() {
            "/v1.0/users" => Reply::json(
                200,
                json!({"value": [
                    {"id": "u1", "userPrincipalName": "adele@contoso.example", "accountEnabled": true},
                    {"id": "u2", "userPrincipalName": "nomail@contoso.example", "accountEnabled": true},
                    {"id": "u3", "userPrincipalName": "off@contoso.example", "accountEnabled": false},
                ]}),
            ),
            "/v1.0/users/u1/contacts" => {
                calls.lock().unwrap().push("u1".to_owned());
                if req.query("$skiptoken").is_none() {
                    Reply::json(
                        200,
                        json!({"value": [
                        {"displayName": "Pat Supplier", "givenName": "Pat", "surname": "Supplier",
                         "companyName": "Parts Ltd", "businessPhones": ["+44 20 7946 0101"],
                         "homePhones": [], "mobilePhone": null,
                         "emailAddresses": [{"name": "Pat", "address": "pat@parts.example"}]}],
                        "@odata.nextLink": format!("{base}/v1.0/users/u1/contacts?$skiptoken=x")}),
                    )
                } else {
                    Reply::json(
                        200,
                        json!({"value": [
                        {"displayName": "Sam Courier", "businessPhones": [],
                         "homePhones": ["+44 20 7946 0202"], "mobilePhone": "+44 7911 123456"}]}),
                    )
                }
            }
            // A user without a mailbox.
            "/v1.0/users/u2/contacts" => Reply::json(
                404,
                json!({"error": {"code": "MailboxNotEnabledForRESTAPI"}}),
            ),
            "/v1.0/users/u3/contacts" => panic!("disabled users are not read"),
            "/v1.0/contacts" => Reply::json(
                403,
                json!({"error": {"code": "Authorization_RequestDenied",
                                 "message": "Insufficient privileges to complete the operation."}}),
            ),
            other => panic!("unexpected {other}"),
        }
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let r = api(
        &s,
        "PUT",
        "/sources/mailboxes",
        Some(&settings(&g, "contacts", "s3cr3t~value")),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(&s, "POST", "/sources/mailboxes/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        names(&s),
        vec![
            ("Pat Supplier".to_owned(), "WORK:+442079460101".to_owned()),
            (
                "Sam Courier".to_owned(),
                "MOBILE:+447911123456;HOME:+442079460202".to_owned()
            ),
        ]
    );
    assert_eq!(mailbox_calls.lock().unwrap().len(), 2);

    let r = api(
        &s,
        "PUT",
        "/sources/org",
        Some(&settings(&g, "org_contacts", "s3cr3t~value")),
    );
    assert_eq!(r.status, 201);
    let r = api(&s, "POST", "/sources/org/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let st = api(&s, "GET", "/sources/org", None).json();
    assert_eq!(st["status"]["status"], "error");
    let err = st["status"]["last_error"].as_str().unwrap();
    assert!(
        err.contains("OrgContact.Read.All") && err.contains("403"),
        "{err}"
    );
    assert_eq!(
        names(&s).len(),
        2,
        "one failing source does not touch the others"
    );
}
