//! Targets: the book written into PBXs, each kind against a local fake built from its
//! documented payloads (paging, Digest, OAuth tokens that expire, 429 with Retry-After, 404
//! on stale ids, answers that never come), end to end through the real server: a CSV push,
//! a run, a push that renames, changes and removes contacts, and exactly those writes.

use crate::fake::{decode, Fake, Reply, Request};
use crate::helpers::{Response, Server, KEY, LOCAL_SOURCES};
use crate::sources::api;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn put_target(s: &Server, name: &str, body: &Value) -> Response {
    api(
        s,
        "PUT",
        &format!("/targets/{name}"),
        Some(&body.to_string()),
    )
}

fn sync(s: &Server, name: &str, query: &str) -> Response {
    api(s, "POST", &format!("/targets/{name}/sync{query}"), None)
}

fn status(s: &Server, name: &str) -> Value {
    api(s, "GET", &format!("/targets/{name}"), None).json()["status"].clone()
}

/// The plan's parts that a run must carry out exactly as a dry run planned them.
fn plan_of(v: &Value) -> Value {
    json!({
        "create": v["create"], "update": v["update"], "delete": v["delete"],
        "skipped": v["skipped"], "unchanged": v["unchanged"],
    })
}

/// Requests that change something (every method but GET), except token requests.
pub(crate) fn writes(f: &Fake) -> Vec<Request> {
    f.requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path() != "/connect/token")
        .collect()
}

/// Waits until `check` holds, or fails the test with what was last seen.
fn wait_for(what: &str, mut check: impl FnMut() -> Option<String>) {
    let t = Instant::now();
    loop {
        match check() {
            None => return,
            Some(seen) if t.elapsed() > Duration::from_secs(30) => {
                panic!("{what} did not happen: {seen}")
            }
            Some(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A book of `n` people with stable ids (`internal_id`), so a rename keeps its contact.
fn people(n: usize) -> Vec<[String; 5]> {
    (1..=n)
        .map(|i| {
            [
                i.to_string(),
                format!("Person{i} Example"),
                format!("Person{i}"),
                "Example".to_owned(),
                format!("WORK:+4923112345{i:02};MOBILE:+4917112345{i:02}"),
            ]
        })
        .collect()
}

/// The row of the person with this `internal_id`.
fn row(book: &mut [[String; 5]], id: usize) -> &mut [String; 5] {
    book.iter_mut().find(|r| r[0] == id.to_string()).unwrap()
}

fn csv(rows: &[[String; 5]]) -> String {
    let mut out = String::from("internal_id,display_name,given_name,family_name,phone\n");
    for r in rows {
        out.push_str(&format!("{},{},{},{},{}\n", r[0], r[1], r[2], r[3], r[4]));
    }
    out
}

fn push(s: &Server, rows: &[[String; 5]]) {
    let r = s.push_csv(&csv(rows));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks an `Authorization: Digest …` header as a server does (RFC 2617, qop=auth).
fn digest_ok(req: &Request, realm: &str, user: &str, password: &str) -> bool {
    let Some(h) = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Digest "))
    else {
        return false;
    };
    let mut p = BTreeMap::new();
    for part in h.split(", ") {
        if let Some((k, v)) = part.split_once('=') {
            p.insert(k.trim().to_owned(), v.trim_matches('"').to_owned());
        }
    }
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    if get("username") != user || get("realm") != realm || get("uri") != req.target {
        return false;
    }
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{}:{}", req.method, req.target));
    let want = md5_hex(&format!(
        "{ha1}:{}:{}:{}:{}:{ha2}",
        get("nonce"),
        get("nc"),
        get("cnonce"),
        get("qop")
    ));
    get("response") == want
}

fn challenge(realm: &str) -> Reply {
    Reply {
        status: 401,
        headers: vec![(
            "WWW-Authenticate".into(),
            format!("Digest realm=\"{realm}\", nonce=\"n0nce42\", qop=\"auth\", algorithm=MD5"),
        )],
        body: String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// 3CX v20: OAuth client credentials, OData paging, POST/PATCH/DELETE, Tag markers.

#[derive(Default)]
struct ThreeCx {
    contacts: BTreeMap<u64, Value>,
    next: u64,
    /// Token → API requests it is still good for (it "expires" early, as after a restart).
    tokens: BTreeMap<String, u32>,
    issued: u32,
    /// Requests that came with a token that had expired.
    expired: u32,
    /// Writes carried out, as "METHOD path" (a request refused for its token is none).
    applied: Vec<String>,
    /// The next PATCH answers 502 with Retry-After and changes nothing.
    fail_next_patch: bool,
    /// Milliseconds each create takes.
    slow_ms: u64,
}

fn odata_error(status: u16, msg: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"code": status.to_string(), "message": msg}}),
    )
}

fn threecx(state: Arc<Mutex<ThreeCx>>) -> Fake {
    Fake::start(move |req| {
        if req.path() == "/connect/token" {
            let form = decode(&req.body);
            if req.method != "POST"
                || !form.contains("client_id=phonedir")
                || !form.contains("client_secret=S3CRET-3cx")
                || !form.contains("grant_type=client_credentials")
            {
                return Reply::json(400, json!({"error": "invalid_client"}));
            }
            let mut st = state.lock().unwrap();
            st.issued += 1;
            let token = format!("tok{}", st.issued);
            st.tokens.insert(token.clone(), 5);
            return Reply::json(
                200,
                json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
            );
        }
        let slow = state.lock().unwrap().slow_ms;
        let mut st = state.lock().unwrap();
        let token = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_owned();
        match st.tokens.get_mut(&token) {
            Some(left) if *left > 0 => *left -= 1,
            Some(_) => {
                st.expired += 1;
                return odata_error(401, "token expired");
            }
            None => return odata_error(401, "unknown token"),
        }
        let path = req.path().to_owned();
        if path.contains("Pbx.") {
            // Bulk deletes and other actions: never called.
            return odata_error(500, "tripwire: bulk action called");
        }
        let id_of = |p: &str| {
            p.strip_prefix("/xapi/v1/Contacts(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u64>().ok())
        };
        match (req.method.as_str(), path.as_str()) {
            ("GET", "/xapi/v1/Contacts") => {
                let top: usize = req
                    .query("$top")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(100);
                let skip: usize = req.query("$skip").and_then(|v| v.parse().ok()).unwrap_or(0);
                let all: Vec<Value> = st.contacts.values().cloned().collect();
                let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
                Reply::json(
                    200,
                    json!({"@odata.context": "x", "@odata.count": all.len(), "value": page}),
                )
            }
            ("POST", "/xapi/v1/Contacts") => {
                let mut c: Value = serde_json::from_str(&req.body).unwrap();
                st.next += 1;
                let id = st.next;
                c["Id"] = id.into();
                st.contacts.insert(id, c.clone());
                st.applied.push(format!("POST {path}"));
                drop(st);
                // A slow PBX: the entry exists before the answer is sent.
                std::thread::sleep(Duration::from_millis(slow));
                Reply::json(201, c)
            }
            ("PATCH", p) if id_of(p).is_some() => {
                let id = id_of(p).unwrap();
                let patch: Value = serde_json::from_str(&req.body).unwrap();
                if std::mem::take(&mut st.fail_next_patch) {
                    return odata_error(502, "upstream busy").with_header("Retry-After", "1");
                }
                st.applied.push(format!("PATCH {p}"));
                match st.contacts.get_mut(&id) {
                    Some(c) => {
                        for (k, v) in patch.as_object().unwrap() {
                            c[k] = v.clone();
                        }
                        Reply::json(204, Value::Null)
                    }
                    None => odata_error(404, "no such contact"),
                }
            }
            ("DELETE", p) if id_of(p).is_some() => {
                st.applied.push(format!("DELETE {p}"));
                match st.contacts.remove(&id_of(p).unwrap()) {
                    Some(_) => Reply::json(204, Value::Null),
                    None => odata_error(404, "no such contact"),
                }
            }
            _ => odata_error(404, "no such URL"),
        }
    })
}

fn foreign_3cx(st: &mut ThreeCx, first: &str, last: &str, business: &str) {
    st.next += 1;
    let id = st.next;
    st.contacts.insert(
        id,
        json!({"Id": id, "FirstName": first, "LastName": last, "CompanyName": "",
               "Email": "", "Business": business, "PhoneNumber": "", "Tag": null}),
    );
}

fn applied(state: &Arc<Mutex<ThreeCx>>) -> Vec<String> {
    state.lock().unwrap().applied.clone()
}

/// Our entries in the fake, by Tag.
fn tagged(st: &ThreeCx) -> BTreeMap<String, Value> {
    st.contacts
        .values()
        .filter_map(|c| {
            let tag = c["Tag"].as_str()?;
            tag.starts_with("phonedir:")
                .then(|| (tag.to_owned(), c.clone()))
        })
        .collect()
}

#[test]
fn three_cx_holds_the_book_and_follows_renames_changes_and_removals_exactly() {
    let state = Arc::new(Mutex::new(ThreeCx::default()));
    {
        let mut st = state.lock().unwrap();
        // 250 entries of others: three pages of 100 before ours.
        for i in 0..250 {
            foreign_3cx(
                &mut st,
                &format!("Foreign{i}"),
                "Caller",
                &format!("+3312345{i:04}"),
            );
        }
        // Person1's number, written another way: adopted on the first run.
        foreign_3cx(&mut st, "P.", "Example", "+49 231 1234501");
        // Two entries with Person2's number: neither is taken, Person2 is not created.
        foreign_3cx(&mut st, "Person2", "Example", "+492311234502");
        foreign_3cx(&mut st, "Reception", "", "+492311234502");
    }
    let pbx = threecx(state.clone());
    let s = Server::start(LOCAL_SOURCES);
    let mut book = people(10);
    push(&s, &book);

    let cfg = json!({"kind": "3cx", "url": pbx.base, "client_id": "phonedir",
                     "client_secret": "S3CRET-3cx", "interval_s": 0, "debounce_s": 600});
    let r = put_target(&s, "pbx", &cfg);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["client_secret"], "********");

    // The dry run plans and writes nothing.
    let r = sync(&s, "pbx", "?dry_run=true");
    assert_eq!(r.status, 200, "{}", r.body);
    let dry = r.json();
    assert_eq!(dry["create"].as_array().unwrap().len(), 8, "{dry}");
    assert_eq!(dry["update"].as_array().unwrap().len(), 1, "{dry}");
    assert_eq!(dry["update"][0]["adopted"], true);
    assert_eq!(dry["update"][0]["changes"]["FirstName"]["to"], "Person1");
    assert_eq!(dry["skipped"].as_array().unwrap().len(), 1, "{dry}");
    assert!(dry["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("2 entries"));
    assert_eq!(dry["delete"], json!([]));
    assert!(applied(&state).is_empty(), "a dry run writes nothing");
    let pages: Vec<String> = pbx
        .requests()
        .iter()
        .filter(|r| r.path() == "/xapi/v1/Contacts")
        .filter_map(|r| r.query("$skip"))
        .collect();
    assert!(
        pages.contains(&"200".to_owned()),
        "paged past two pages: {pages:?}"
    );
    assert_eq!(
        status(&s, "pbx")["status"],
        "never_run",
        "a dry run is no run"
    );

    // The run does exactly that plan.
    let r = sync(&s, "pbx", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json();
    assert_eq!(plan_of(&run["plan"]), plan_of(&dry));
    assert_eq!(run["counts"]["created"], 8);
    assert_eq!(run["counts"]["updated"], 1);
    assert_eq!(run["status"], "ok");
    // The operator's metrics count the nine writes (8 creates, 1 update) by kind.
    let metrics = s.get("/metrics").body;
    assert!(
        metrics.contains("phonedir_target_writes_total{kind=\"3cx\",outcome=\"ok\"} 9"),
        "{metrics}"
    );
    {
        let st = state.lock().unwrap();
        let ours = tagged(&st);
        assert_eq!(ours.len(), 9, "8 created + 1 adopted");
        let names: Vec<String> = ours
            .values()
            .map(|c| {
                format!(
                    "{} {}",
                    c["FirstName"].as_str().unwrap(),
                    c["LastName"].as_str().unwrap()
                )
            })
            .collect();
        for i in [1, 3, 4, 10] {
            assert!(names.contains(&format!("Person{i} Example")), "{names:?}");
        }
        let p3 = ours.values().find(|c| c["FirstName"] == "Person3").unwrap();
        assert_eq!(p3["Business"], "+492311234503");
        assert_eq!(p3["PhoneNumber"], "+491711234503");
        assert_eq!(
            st.contacts.len(),
            253 + 8,
            "foreign entries stay, nothing duplicated"
        );
    }

    // Nothing changed: nothing written.
    let before = applied(&state).len();
    let r = sync(&s, "pbx", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let again = r.json();
    assert_eq!(again["counts"]["unchanged"], 9, "{again}");
    assert_eq!(applied(&state).len(), before);

    // A push that renames Person3, changes Person4's number and removes Person5.
    let p3 = row(&mut book, 3);
    p3[1] = "Carla Renamed".into();
    p3[2] = "Carla".into();
    p3[3] = "Renamed".into();
    row(&mut book, 4)[4] = "WORK:+4923199999904".into();
    book.retain(|r| r[0] != "5");
    push(&s, &book);
    // The PBX stumbles once (502 with Retry-After): the write is made after the wait.
    state.lock().unwrap().fail_next_patch = true;
    let r = sync(&s, "pbx", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let w: Vec<String> = applied(&state)[before..].to_vec();
    assert!(
        !state.lock().unwrap().fail_next_patch,
        "a PATCH met the 502, and was made after the wait (below)"
    );
    let id_of = |first: &str| -> u64 {
        let st = state.lock().unwrap();
        st.contacts
            .values()
            .find(|c| c["FirstName"] == first)
            .and_then(|c| c["Id"].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(
        w.contains(&format!("PATCH /xapi/v1/Contacts({})", id_of("Carla"))),
        "{w:?}"
    );
    assert!(
        w.contains(&format!("PATCH /xapi/v1/Contacts({})", id_of("Person4"))),
        "{w:?}"
    );
    assert!(
        w.iter().any(|x| x.starts_with("DELETE /xapi/v1/Contacts(")),
        "{w:?}"
    );
    {
        let st = state.lock().unwrap();
        assert!(st.contacts.values().all(|c| c["FirstName"] != "Person5"));
        assert_eq!(tagged(&st).len(), 8);
        assert_eq!(
            st.contacts.len(),
            253 + 7,
            "the foreign entries are all there"
        );
    }

    // From now on the target follows new versions by itself (short debounce), writing only
    // what changed.
    let mut auto = cfg.clone();
    auto["debounce_s"] = 1.into();
    auto["client_secret"] = "********".into();
    let r = put_target(&s, "pbx", &auto);
    assert_eq!(r.status, 200, "{}", r.body);
    wait_for("the run after the settings changed", || {
        let st = status(&s, "pbx");
        (st["next_run"].is_null() && st["status"] == "ok")
            .then_some(())
            .map_or_else(|| Some(st.to_string()), |_| None)
    });
    let before = applied(&state).len();
    row(&mut book, 6)[4] = "WORK:+4923188888806".into();
    push(&s, &book);
    let version = api(&s, "GET", "", None).json()["version"].as_i64().unwrap();
    wait_for("a run after the push", || {
        let st = status(&s, "pbx");
        (st["last_run"]["version"].as_i64() >= Some(version))
            .then_some(())
            .map_or_else(|| Some(st.to_string()), |_| None)
    });
    let st = status(&s, "pbx");
    assert_eq!(st["last_run"]["mode"], "changes", "{st}");
    let w = applied(&state)[before..].to_vec();
    assert_eq!(
        w,
        vec![format!("PATCH /xapi/v1/Contacts({})", id_of("Person6"))]
    );

    // An entry deleted in the PBX is created anew when its contact changes.
    let stale = id_of("Person7");
    state.lock().unwrap().contacts.remove(&stale);
    let before = applied(&state).len();
    row(&mut book, 7)[4] = "WORK:+4923177777707".into();
    push(&s, &book);
    let version = api(&s, "GET", "", None).json()["version"].as_i64().unwrap();
    wait_for("a run after the second push", || {
        let st = status(&s, "pbx");
        (st["last_run"]["version"].as_i64() >= Some(version))
            .then_some(())
            .map_or_else(|| Some(st.to_string()), |_| None)
    });
    let w: Vec<String> = applied(&state)[before..].to_vec();
    assert_eq!(
        w,
        vec![
            format!("PATCH /xapi/v1/Contacts({stale})"),
            "POST /xapi/v1/Contacts".to_owned()
        ]
    );
    {
        let st = state.lock().unwrap();
        let p7: Vec<&Value> = st
            .contacts
            .values()
            .filter(|c| c["FirstName"] == "Person7")
            .collect();
        assert_eq!(p7.len(), 1);
        assert_eq!(p7[0]["Business"], "+4923177777707");
        assert!(
            st.issued >= 2,
            "tokens expired and were renewed: {}",
            st.issued
        );
    }

    // Never a bulk delete; the secret never in the log; the status in the directory's.
    assert!(!pbx.requests().iter().any(|r| r.path().contains("Pbx.")));
    assert!(!s.log().contains("S3CRET-3cx"));
    let dir = api(&s, "GET", "", None).json();
    let t = &dir["targets"][0];
    assert_eq!(
        (t["name"].as_str(), t["kind"].as_str(), t["status"].as_str()),
        (Some("pbx"), Some("3cx"), Some("ok"))
    );
    assert!(
        t["last_success"].is_string() && t["writes"].as_i64().unwrap() >= 14,
        "{t}"
    );
    assert!(t["counts"].is_object(), "{t}");
}

#[test]
fn a_run_killed_midway_or_cancelled_leaves_no_duplicates() {
    let state = Arc::new(Mutex::new(ThreeCx {
        slow_ms: 150,
        ..Default::default()
    }));
    let pbx = threecx(state.clone());
    let s = Server::start(LOCAL_SOURCES);
    push(&s, &people(12));
    let cfg = json!({"kind": "3cx", "url": pbx.base, "client_id": "phonedir",
                     "client_secret": "S3CRET-3cx", "interval_s": 0, "debounce_s": 600});
    assert_eq!(put_target(&s, "slow", &cfg).status, 201);

    // Deleting a target stops its run.
    let r = sync(&s, "slow", "?wait=0");
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for("two creates", || {
        let n = writes(&pbx).len();
        (n >= 2)
            .then_some(())
            .map_or_else(|| Some(n.to_string()), |_| None)
    });
    assert_eq!(api(&s, "DELETE", "/targets/slow", None).status, 204);
    std::thread::sleep(Duration::from_millis(600));
    let after_delete = writes(&pbx).len();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(writes(&pbx).len(), after_delete, "the run stopped");
    assert!(after_delete < 12);

    // A new target (phonedir knows nothing of the entries above, they carry its markers),
    // killed with SIGKILL in the middle of its run, then run again after a restart.
    assert_eq!(put_target(&s, "slow", &cfg).status, 201);
    let r = sync(&s, "slow", "?wait=0");
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for("more creates", || {
        let n = writes(&pbx).len();
        (n >= after_delete + 3)
            .then_some(())
            .map_or_else(|| Some(n.to_string()), |_| None)
    });
    let data = s.kill();
    let s = Server::start_in(data, LOCAL_SOURCES);
    let st = status(&s, "slow");
    assert_eq!(st["status"], "error", "{st}");
    let r = sync(&s, "slow", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let st = state.lock().unwrap();
    let ours = tagged(&st);
    assert_eq!(ours.len(), 12, "every contact once: {:?}", ours.keys());
    assert_eq!(
        st.contacts.len(),
        12,
        "no duplicates: {:?}\n{:?}",
        st.contacts
            .values()
            .map(|c| format!("{} {}", c["Id"], c["Tag"]))
            .collect::<Vec<_>>(),
        pbx.requests()
            .iter()
            .map(|r| format!(
                "{} {} {}",
                r.method,
                r.target,
                r.body.get(r.body.len().saturating_sub(40)..).unwrap_or("")
            ))
            .collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------
// Placetel: bearer, a bare array paged until a short page, 429 with Retry-After, an
// answer that never comes, never `blocked`.

#[derive(Default)]
struct Placetel {
    contacts: BTreeMap<u64, Value>,
    next: u64,
    throttled: bool,
    posts: u32,
    /// The create whose answer is lost (1-based); 0 = none.
    lose_answer_of: u32,
}

/// Placetel's "delete all contacts".
fn delete_all(f: &Fake) -> bool {
    f.requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path().trim_end_matches('/') == "/v2/contacts")
}

fn placetel(state: Arc<Mutex<Placetel>>) -> Fake {
    Fake::start(move |req| {
        if req.header("authorization") != Some("Bearer PT-TOKEN") {
            return Reply::json(401, json!({"error": "Unauthorized"}));
        }
        let mut st = state.lock().unwrap();
        let path = req.path().to_owned();
        let id = path
            .strip_prefix("/v2/contacts/")
            .and_then(|n| n.parse::<u64>().ok());
        match (req.method.as_str(), path.as_str(), id) {
            ("GET", "/v2/contacts", _) => {
                let page: usize = req.query("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                let per: usize = req
                    .query("per_page")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(25);
                if page == 2 && !st.throttled {
                    st.throttled = true;
                    return Reply::json(429, json!({"error": "slow down"}))
                        .with_header("Retry-After", "1");
                }
                let all: Vec<Value> = st.contacts.values().cloned().collect();
                let items: Vec<Value> = all.into_iter().skip((page - 1) * per).take(per).collect();
                Reply::json(200, Value::Array(items))
            }
            ("POST", "/v2/contacts", _) => {
                let mut c: Value = serde_json::from_str(&req.body).unwrap();
                st.next += 1;
                st.posts += 1;
                let id = st.next;
                c["id"] = id.into();
                st.contacts.insert(id, c.clone());
                if st.posts == st.lose_answer_of {
                    return Reply::hang_up();
                }
                Reply::json(201, c)
            }
            ("PUT", _, Some(id)) => {
                let put: Value = serde_json::from_str(&req.body).unwrap();
                match st.contacts.get_mut(&id) {
                    Some(c) => {
                        for (k, v) in put.as_object().unwrap() {
                            c[k] = v.clone();
                        }
                        Reply::json(200, c.clone())
                    }
                    None => Reply::json(404, json!({"error": "Not found"})),
                }
            }
            ("DELETE", _, Some(id)) => match st.contacts.remove(&id) {
                Some(_) => Reply::json(204, Value::Null),
                None => Reply::json(404, json!({"error": "Not found"})),
            },
            // `DELETE /contacts` (all of them) and anything else.
            _ => Reply::json(500, json!({"error": "tripwire"})),
        }
    })
}

#[test]
fn placetel_pages_waits_when_throttled_survives_a_lost_answer_and_guards_deletes() {
    let state = Arc::new(Mutex::new(Placetel {
        lose_answer_of: 3,
        ..Default::default()
    }));
    {
        let mut st = state.lock().unwrap();
        for i in 0..230u64 {
            st.next += 1;
            let id = st.next;
            st.contacts.insert(
                id,
                json!({"id": id, "first_name": format!("Other{i}"), "last_name": "Customer",
                       "phone_work": format!("+4940555{i:04}"), "blocked": false}),
            );
        }
    }
    let pbx = placetel(state.clone());
    let s = Server::start(LOCAL_SOURCES);
    let mut book = people(5);
    push(&s, &book);
    let cfg = json!({"kind": "placetel", "url": format!("{}/v2", pbx.base), "token": "PT-TOKEN",
                     "interval_s": 0, "debounce_s": 600});
    assert_eq!(put_target(&s, "placetel", &cfg).status, 201);

    // The third create's answer is lost: the run goes on and says so.
    let t = Instant::now();
    let r = sync(&s, "placetel", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "waited as Retry-After asked"
    );
    let run = r.json();
    assert_eq!(
        run["plan"]["failures"].as_array().unwrap().len(),
        1,
        "{run}"
    );
    assert_eq!(run["status"], "error", "{run}");
    assert!(
        run["last_error"]
            .as_str()
            .unwrap()
            .contains("1 of 5 writes failed"),
        "{run}"
    );
    let page2 = pbx
        .requests()
        .iter()
        .filter(|r| r.query("page").as_deref() == Some("2"))
        .count();
    assert_eq!(page2, 2, "page 2 asked again after the 429");
    assert!(pbx
        .requests()
        .iter()
        .any(|r| r.query("page").as_deref() == Some("3")));

    // Run again: the entry that did arrive is found, not created twice.
    let r = sync(&s, "placetel", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "ok", "{}", r.body);
    {
        let st = state.lock().unwrap();
        assert_eq!(st.contacts.len(), 235, "5 of ours, no duplicate");
        assert_eq!(st.posts, 5);
    }
    for w in writes(&pbx) {
        assert!(
            !w.body.contains("blocked"),
            "blocked is never sent: {}",
            w.body
        );
    }

    // A book that lost 3 of 5 contacts: refused, nothing written …
    let before = writes(&pbx).len();
    book.truncate(2);
    push(&s, &book);
    let r = sync(&s, "placetel", "");
    assert_eq!(r.status, 409, "{}", r.body);
    let e = r.json();
    assert!(e["error"].as_str().unwrap().contains("from 5 to 2"), "{e}");
    assert_eq!(
        e["details"][0]["plan"]["delete"].as_array().unwrap().len(),
        3
    );
    assert_eq!(writes(&pbx).len(), before);
    // … until asked for once.
    let r = sync(&s, "placetel", "?force=true");
    assert_eq!(r.status, 200, "{}", r.body);
    let w = &writes(&pbx)[before..];
    assert_eq!(w.len(), 3);
    assert!(w
        .iter()
        .all(|r| r.method == "DELETE" && r.path().starts_with("/v2/contacts/")));
    assert_eq!(
        state.lock().unwrap().contacts.len(),
        232,
        "the others' entries stay"
    );

    // A wrong key stops the run with a sentence.
    let mut wrong = cfg.clone();
    wrong["token"] = "WRONG".into();
    assert_eq!(put_target(&s, "placetel", &wrong).status, 200);
    let r = sync(&s, "placetel", "");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("token"),
        "{}",
        r.body
    );
    assert_eq!(status(&s, "placetel")["status"], "error");
    assert!(!s.log().contains("PT-TOKEN"));
    assert!(!delete_all(&pbx), "never DELETE /contacts (all of them)");
}

// ---------------------------------------------------------------------------------------
// EasyConnect: the seed article's search → PUT / POST flow.

#[derive(Default)]
pub(crate) struct Easy {
    /// By distinguishedname.
    pub(crate) contacts: BTreeMap<String, Value>,
    next: u32,
}

pub(crate) fn easyconnect(state: Arc<Mutex<Easy>>) -> Fake {
    Fake::start(move |req| {
        if req.query("apikey").as_deref() != Some("EC-KEY") {
            return Reply::json(401, json!({"error": "invalid apikey"}));
        }
        let mut st = state.lock().unwrap();
        let path = decode(req.path());
        let dn = path
            .strip_prefix("/ACME/contacts/contact/")
            .map(str::to_owned);
        match (req.method.as_str(), path.as_str(), dn) {
            ("GET", "/ACME/contacts/contact", _) => {
                let q = req.query("search").unwrap_or_default().to_lowercase();
                let hits: Vec<Value> = st
                    .contacts
                    .values()
                    .filter(|c| c["cn"].as_str().unwrap_or("").to_lowercase().contains(&q))
                    .cloned()
                    .collect();
                // One hit comes as the object itself, several as an array.
                match hits.len() {
                    1 => Reply::json(200, hits[0].clone()),
                    _ => Reply::json(200, Value::Array(hits)),
                }
            }
            ("POST", "/ACME/contacts/contact", _) => {
                let mut c: Value = serde_json::from_str(&req.body).unwrap();
                st.next += 1;
                let dn = format!("cn={},o=ACME,n={}", c["cn"].as_str().unwrap(), st.next);
                c["distinguishedname"] = dn.clone().into();
                st.contacts.insert(dn, c);
                // The new distinguishedname is not answered.
                Reply::json(201, json!({}))
            }
            ("PUT", _, Some(dn)) => {
                let mut c: Value = serde_json::from_str(&req.body).unwrap();
                if !st.contacts.contains_key(&dn) {
                    return Reply::json(404, json!({"error": "not found"}));
                }
                c["distinguishedname"] = dn.clone().into();
                st.contacts.insert(dn, c);
                Reply::json(200, json!({}))
            }
            ("DELETE", _, Some(dn)) if !dn.is_empty() => match st.contacts.remove(&dn) {
                Some(_) => Reply::json(200, json!({})),
                None => Reply::json(404, json!({"error": "not found"})),
            },
            _ => Reply::json(500, json!({"error": "tripwire"})),
        }
    })
}

#[test]
fn easyconnect_searches_then_puts_or_posts_and_finds_what_it_created() {
    let state = Arc::new(Mutex::new(Easy::default()));
    {
        let mut st = state.lock().unwrap();
        for (dn, c) in [
            (
                "cn=Person1 Example,o=ACME",
                json!({"cn": "Person1 Example", "telephonenumber": "+49 231 1234501"}),
            ),
            (
                "cn=Person2 Example,o=ACME,1",
                json!({"cn": "Person2 Example", "telephonenumber": "+492311234502"}),
            ),
            (
                "cn=Person2 Example,o=ACME,2",
                json!({"cn": "Person2 Example", "mobile": "+491711234502"}),
            ),
            (
                "cn=Zoe Other,o=ACME",
                json!({"cn": "Zoe Other", "telephonenumber": "+4989111"}),
            ),
        ] {
            let mut c = c;
            c["distinguishedname"] = dn.into();
            st.contacts.insert(dn.to_owned(), c);
        }
    }
    let pbx = easyconnect(state.clone());
    let s = Server::start(LOCAL_SOURCES);
    let mut book = people(5);
    push(&s, &book);
    let cfg = json!({"kind": "easyconnect", "url": format!("{}/ACME", pbx.base), "apikey": "EC-KEY",
                     "dbsid": "4", "interval_s": 0, "debounce_s": 600});
    let r = put_target(&s, "ec", &cfg);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["settings"]["apikey"], "********");

    let r = sync(&s, "ec", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json();
    assert_eq!(run["counts"]["created"], 3, "{run}");
    assert_eq!(run["counts"]["updated"], 1, "Person1 adopted: {run}");
    assert_eq!(run["counts"]["skipped"], 1, "two Person2 entries: {run}");
    assert_eq!(run["status"], "ok", "{run}");
    let w: Vec<String> = writes(&pbx).iter().map(|r| r.method.clone()).collect();
    assert_eq!(w.iter().filter(|m| *m == "POST").count(), 3);
    assert_eq!(w.iter().filter(|m| *m == "PUT").count(), 1);
    {
        let st = state.lock().unwrap();
        assert_eq!(st.contacts.len(), 7);
        let p1 = &st.contacts["cn=Person1 Example,o=ACME"];
        assert_eq!(p1["givenname"], "Person1");
        assert_eq!(p1["mobile"], "+491711234501");
        assert_eq!(p1["dbsid"], "4");
    }

    // Nothing changed: searches only.
    let before = writes(&pbx).len();
    let r = sync(&s, "ec", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(writes(&pbx).len(), before, "{:?}", &writes(&pbx)[before..]);

    // Person5 leaves: its entry (found again after its create) is deleted by its name.
    book.remove(4);
    push(&s, &book);
    let r = sync(&s, "ec", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let w = &writes(&pbx)[before..];
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].method, "DELETE");
    assert!(
        decode(w[0].path()).contains("cn=Person5 Example"),
        "{}",
        w[0].path()
    );
    assert_eq!(state.lock().unwrap().contacts.len(), 6);

    let mut wrong = cfg.clone();
    wrong["apikey"] = "NOPE".into();
    put_target(&s, "ec", &wrong);
    let r = sync(&s, "ec", "");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("apikey"),
        "{}",
        r.body
    );
    assert!(!s.log().contains("EC-KEY"));
}

// ---------------------------------------------------------------------------------------
// innovaphone Contacts: one CSV per phone book, Digest, extAnchor.

fn innovaphone(uploads: Arc<Mutex<Vec<String>>>) -> Fake {
    Fake::start(move |req| {
        if req.method != "POST" || req.target != "/acme.example/contacts/post/Company?op=csv" {
            return Reply::json(404, json!({}));
        }
        if !digest_ok(req, "Innovaphone", "httppost", "pw-innovaphone") {
            return challenge("Innovaphone");
        }
        uploads.lock().unwrap().push(req.body.clone());
        Reply::json(200, json!({}))
    })
}

/// The rows of an uploaded file by extAnchor: (display name, telephonenumber).
fn rows(file: &str) -> BTreeMap<String, (String, String)> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(file.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (a, d, t) = (col("extAnchor"), col("displayname"), col("telephonenumber"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[a].to_owned(), (rec[d].to_owned(), rec[t].to_owned()))
        })
        .collect()
}

#[test]
fn innovaphone_uploads_one_file_with_anchors_and_not_again_when_nothing_changed() {
    let uploads = Arc::new(Mutex::new(Vec::new()));
    let pbx = innovaphone(uploads.clone());
    let s = Server::start(LOCAL_SOURCES);
    let mut book = people(5);
    push(&s, &book);
    let cfg = json!({"kind": "innovaphone", "url": format!("{}/acme.example/contacts", pbx.base),
                     "username": "httppost", "password": "pw-innovaphone", "phonebook": "Company",
                     "interval_s": 0, "debounce_s": 600});
    assert_eq!(put_target(&s, "inno", &cfg).status, 201);
    let r = sync(&s, "inno", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["counts"]["created"], 5);
    let first = rows(&uploads.lock().unwrap()[0]);
    assert_eq!(first.len(), 5);
    let (anchor, (name, tel)) = first.iter().next().unwrap();
    assert_eq!(anchor.len(), 16, "the contact id: {anchor}");
    assert!(
        name.starts_with("Person") && tel.starts_with("+49231"),
        "{name} {tel}"
    );

    // The same book: no upload.
    let r = sync(&s, "inno", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(uploads.lock().unwrap().len(), 1);

    // A rename keeps its anchor; a removed contact leaves the file.
    book[0][1] = "Anna Renamed".into();
    book.remove(3);
    push(&s, &book);
    let r = sync(&s, "inno", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json()["counts"].clone();
    assert_eq!(
        (c["updated"].as_i64(), c["deleted"].as_i64()),
        (Some(1), Some(1)),
        "{c}"
    );
    let second = rows(&uploads.lock().unwrap()[1]);
    assert_eq!(second.len(), 4);
    let renamed = second
        .iter()
        .find(|(_, (n, _))| n == "Anna Renamed")
        .unwrap();
    assert_eq!(
        first[renamed.0].0, "Person1 Example",
        "same anchor as before the rename"
    );

    let mut wrong = cfg.clone();
    wrong["password"] = "nope".into();
    assert_eq!(put_target(&s, "inno", &wrong).status, 200);
    book[1][4] = "WORK:+4930111".into();
    push(&s, &book);
    let r = sync(&s, "inno", "");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap().contains("HTTP Post"),
        "{}",
        r.body
    );
    assert!(!s.log().contains("pw-innovaphone"));
}

// ---------------------------------------------------------------------------------------
// FRITZ!Box TR-064 X_AVM-DE_OnTel with Digest.

#[derive(Default)]
struct Fritz {
    /// uniqueid → (name, numbers)
    entries: BTreeMap<u32, (String, Vec<(String, String)>)>,
    next: u32,
}

fn soap(name: &str, args: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml; charset=\"utf-8\"".into())],
        body: format!(
            "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:{name}Response xmlns:u=\"urn:dslforum-org:service:X_AVM-DE_OnTel:1\">{args}</u:{name}Response></s:Body></s:Envelope>"
        ),
    }
}

fn fault(code: u32) -> Reply {
    Reply {
        status: 500,
        headers: vec![],
        body: format!("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns=\"urn:dslforum-org:control-1-0\"><errorCode>{code}</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"),
    }
}

fn fritzbox(state: Arc<Mutex<Fritz>>) -> Fake {
    Fake::start(move |req| {
        if !digest_ok(req, "F!Box SOAP-Auth", "phonedir", "fritz-pw") {
            return challenge("F!Box SOAP-Auth");
        }
        let mut st = state.lock().unwrap();
        if req.method == "GET" && req.path() == "/phonebook.lua" {
            let mut x =
                String::from("<?xml version=\"1.0\"?><phonebooks><phonebook name=\"Telefonbuch\">");
            for (id, (name, numbers)) in &st.entries {
                x.push_str(&format!("<contact><category>0</category><person><realName>{}</realName></person><telephony>", xml_escape(name)));
                for (t, n) in numbers {
                    x.push_str(&format!("<number type=\"{t}\">{n}</number>"));
                }
                x.push_str(&format!("</telephony><uniqueid>{id}</uniqueid></contact>"));
            }
            x.push_str("</phonebook></phonebooks>");
            return Reply {
                status: 200,
                headers: vec![],
                body: x,
            };
        }
        if req.path() != "/upnp/control/x_contact" {
            return Reply::json(404, json!({}));
        }
        let action = req
            .header("soapaction")
            .and_then(|a| a.trim_matches('"').split('#').nth(1))
            .unwrap_or("")
            .to_owned();
        let doc = roxmltree::Document::parse(&req.body).unwrap();
        let arg = |n: &str| {
            doc.descendants()
                .find(|x| x.tag_name().name() == n)
                .and_then(|x| x.text())
                .unwrap_or("")
                .to_owned()
        };
        match action.as_str() {
            "GetPhonebookList" => soap(&action, "<NewPhonebookList>0,1</NewPhonebookList>"),
            "GetPhonebook" => {
                let id = arg("NewPhonebookID");
                let name = if id == "1" { "Firma" } else { "Telefonbuch" };
                // The box names itself by its own host name.
                soap(&action, &format!("<NewPhonebookName>{name}</NewPhonebookName><NewPhonebookExtraID></NewPhonebookExtraID><NewPhonebookURL>http://fritz.box:49000/phonebook.lua?sid=abc&amp;pbid={id}</NewPhonebookURL>"))
            }
            "SetPhonebookEntryUID" => {
                assert_eq!(arg("NewPhonebookID"), "1", "the book named Firma");
                let data = arg("NewPhonebookEntryData");
                let entry = roxmltree::Document::parse(&data).unwrap();
                let text = |n: &str| {
                    entry
                        .descendants()
                        .find(|x| x.tag_name().name() == n)
                        .and_then(|x| x.text())
                        .unwrap_or("")
                        .to_owned()
                };
                let numbers: Vec<(String, String)> = entry
                    .descendants()
                    .filter(|x| x.tag_name().name() == "number")
                    .map(|x| {
                        (
                            x.attribute("type").unwrap_or("").to_owned(),
                            x.text().unwrap_or("").to_owned(),
                        )
                    })
                    .collect();
                if numbers.len() > 9 {
                    return fault(600);
                }
                let uid = text("uniqueid");
                let id = if uid.is_empty() {
                    st.next += 1;
                    st.next
                } else {
                    let id: u32 = uid.parse().unwrap();
                    if !st.entries.contains_key(&id) {
                        return fault(713);
                    }
                    id
                };
                st.entries.insert(id, (text("realName"), numbers));
                soap(
                    &action,
                    &format!("<NewPhonebookEntryUniqueID>{id}</NewPhonebookEntryUniqueID>"),
                )
            }
            "DeletePhonebookEntryUID" => {
                let id: u32 = arg("NewPhonebookEntryUniqueID").parse().unwrap_or(0);
                match st.entries.remove(&id) {
                    Some(_) => soap(&action, ""),
                    None => fault(713),
                }
            }
            // DeletePhonebook and the rest: never called.
            _ => fault(401),
        }
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn fritzbox_over_tr064_writes_nine_numbers_at_most_and_recreates_a_deleted_entry() {
    let state = Arc::new(Mutex::new(Fritz::default()));
    state.lock().unwrap().entries.insert(
        500,
        (
            "Müller & Söhne".into(),
            vec![("work".into(), "+4930999".into())],
        ),
    );
    state.lock().unwrap().next = 500;
    let pbx = fritzbox(state.clone());
    let s = Server::start(LOCAL_SOURCES);
    let many: Vec<String> = (0..11).map(|i| format!("WORK:+49301000{i:02}")).collect();
    let mut book = people(3);
    book.push([
        "9".into(),
        "Vielnummer & Co <GmbH>".into(),
        "".into(),
        "".into(),
        many.join(";"),
    ]);
    push(&s, &book);
    let cfg = json!({"kind": "fritzbox", "url": pbx.base, "username": "phonedir",
                     "password": "fritz-pw", "phonebook": "Firma", "interval_s": 0, "debounce_s": 600});
    assert_eq!(put_target(&s, "fritz", &cfg).status, 201);
    let r = sync(&s, "fritz", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json();
    assert_eq!(run["counts"]["created"], 4, "{run}");
    let warnings = run["plan"]["warnings"].to_string();
    assert!(warnings.contains("at most 9 numbers"), "{warnings}");
    {
        let st = state.lock().unwrap();
        let many = st
            .entries
            .values()
            .find(|(n, _)| n == "Vielnummer & Co <GmbH>")
            .unwrap();
        assert_eq!(many.1.len(), 9);
        assert_eq!(st.entries.len(), 5, "the box's own entry stays");
    }
    // The phone book was read from the configured address, not from fritz.box.
    assert!(pbx.requests().iter().any(|r| r.path() == "/phonebook.lua"));

    // Nothing changed: nothing written.
    let before = writes(&pbx).len();
    let r = sync(&s, "fritz", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let actions: Vec<String> = writes(&pbx)[before..]
        .iter()
        .filter_map(|r| r.header("soapaction").map(str::to_owned))
        .filter(|a| a.contains("SetPhonebookEntryUID") || a.contains("Delete"))
        .collect();
    assert!(actions.is_empty(), "{actions:?}");

    // An entry deleted on the box is created anew by the next complete run.
    let gone = {
        let mut st = state.lock().unwrap();
        let id = *st
            .entries
            .iter()
            .find(|(_, (n, _))| n == "Person2 Example")
            .unwrap()
            .0;
        st.entries.remove(&id);
        id
    };
    book[0][4] = "HOME:+4930555".into();
    push(&s, &book);
    let r = sync(&s, "fritz", "");
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json()["counts"].clone();
    assert_eq!(
        (c["created"].as_i64(), c["updated"].as_i64()),
        (Some(1), Some(1)),
        "{c}"
    );
    let st = state.lock().unwrap();
    assert!(!st.entries.contains_key(&gone));
    assert_eq!(
        st.entries
            .values()
            .filter(|(n, _)| n == "Person2 Example")
            .count(),
        1
    );
    let p1 = st
        .entries
        .values()
        .find(|(n, _)| n == "Person1 Example")
        .unwrap();
    assert_eq!(p1.1, vec![("home".to_owned(), "+4930555".to_owned())]);
    assert!(!pbx.requests().iter().any(|r| r
        .header("soapaction")
        .is_some_and(|a| a.contains("DeletePhonebook\""))));
}

// ---------------------------------------------------------------------------------------
// Managing targets.

#[test]
fn targets_are_managed_like_sources() {
    let s = Server::start(LOCAL_SOURCES);
    push(&s, &people(2));
    let cfg = json!({"kind": "placetel", "url": "http://127.0.0.1:9/v2", "token": "T0KEN-1"});
    let r = put_target(&s, "p", &cfg);
    assert_eq!(r.status, 201, "{}", r.body);
    let got = api(&s, "GET", "/targets/p", None).json();
    assert_eq!(got["settings"]["token"], "********");
    assert_eq!(got["settings"]["delete"], "own");
    assert_eq!(got["settings"]["max_delete_percent"], 20);
    assert_eq!(got["status"]["status"], "never_run");
    // The mask keeps the secret; another URL with the mask does not.
    let mut masked = cfg.clone();
    masked["token"] = "********".into();
    assert_eq!(put_target(&s, "p", &masked).status, 200);
    masked["url"] = "https://evil.example/v2".into();
    let r = put_target(&s, "p", &masked);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("url"));
    for (body, code) in [
        (json!({"kind": "placetel", "tokn": "x"}), 400),
        (json!({"kind": "sipgate"}), 400),
        (
            json!({"kind": "placetel", "token": "x", "max_delete_percent": 150}),
            422,
        ),
        (
            json!({"kind": "placetel", "token": "x", "numbers": "national"}),
            422,
        ),
    ] {
        let r = put_target(&s, "q", &body);
        assert_eq!(r.status, code, "{body}: {}", r.body);
    }
    assert_eq!(api(&s, "GET", "/targets/q", None).status, 404);
    assert_eq!(
        sync(&s, "p", "?dryrun=1").status,
        400,
        "unknown parameters are refused"
    );
    assert_eq!(sync(&s, "nope", "").status, 404);
    let list = api(&s, "GET", "/targets", None).json();
    assert_eq!(list["targets"].as_array().unwrap().len(), 1);
    // Without the key: nothing.
    let url = s.url(&format!("/api/v1/directories/{KEY}/targets/p"));
    assert_eq!(s.request("GET", &url, &[], None).status, 401);
    // A PBX on a private address is reached only where the operator allows it.
    let s2 = Server::start(&[]);
    push(&s2, &people(1));
    assert_eq!(put_target(&s2, "p", &cfg).status, 201);
    let r = sync(&s2, "p", "");
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("--source-allow"),
        "{}",
        r.body
    );
    assert_eq!(api(&s, "DELETE", "/targets/p", None).status, 204);
    assert_eq!(api(&s, "DELETE", "/targets/p", None).status, 404);
}
