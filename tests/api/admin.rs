//! The admin pages over plain HTTP(S), as a browser without JavaScript uses them: sessions,
//! cookie flags, CSRF tokens, the read-only view of a read key, the wrong-key throttle.
//! `browser.rs` drives the same pages in Chromium.

use crate::helpers::{fixture, send, tls_agent, with_book, Response, Server, KEY, LOCAL_SOURCES};
use crate::keys::{call, new_key};
use std::collections::BTreeMap;
use std::time::Duration;

/// A browser without JavaScript: one cookie jar, redirects shown, not followed.
pub struct Browser {
    base: String,
    agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn http(s: &Server) -> Browser {
        Browser {
            base: s.http.clone(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .build(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn https(s: &Server) -> Browser {
        Browser {
            base: s.https.clone(),
            agent: tls_agent(&s.data_dir().join("certs/selfsigned.pem"), 0),
            cookies: BTreeMap::new(),
        }
    }

    pub fn request(&mut self, method: &str, path: &str, form: Option<&str>) -> Response {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.set("Cookie", &jar.join("; "));
        }
        if form.is_some() {
            req = req.set("Content-Type", "application/x-www-form-urlencoded");
        }
        let r = send(req, form.map(str::as_bytes));
        for c in r.headers_all("set-cookie") {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
        r
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    pub fn post(&mut self, path: &str, form: &str) -> Response {
        self.request("POST", path, Some(form))
    }

    /// Signs in with `key` through the form, as a person does; answers the form's answer.
    pub fn sign_in(&mut self, key: &str) -> Response {
        let form = self.get("/admin/signin");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = csrf_of(&form.body);
        self.post("/admin/signin", &format!("csrf={csrf}&key={key}"))
    }

    /// The CSRF token of the session, from a page's sign-out form.
    pub fn csrf(&mut self) -> String {
        let page = self.get("/admin");
        assert_eq!(page.status, 200, "{}", page.body);
        csrf_of(&page.body)
    }
}

pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        + marker.len();
    html[i..].split('"').next().unwrap_or("").to_owned()
}

fn keys_of(s: &Server) -> Vec<serde_json::Value> {
    let r = call(
        s,
        KEY,
        "GET",
        &format!("/api/v1/directories/{KEY}/keys"),
        None,
    );
    r.json()["keys"].as_array().cloned().unwrap_or_default()
}

#[test]
fn session_cookie_is_httponly_strict_and_secure_over_https() {
    let s = with_book(&[]);
    let mut tls = Browser::https(&s);
    let r = tls.sign_in(KEY);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin"));
    let cookie = r
        .headers_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("phonedir_admin="))
        .expect("session cookie")
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    // The key is nowhere in the cookie, the redirect or the page.
    assert!(!cookie.contains(KEY));
    let page = tls.get("/admin");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<dd id=\"contacts\">"), "{}", page.body);
    assert!(!page.body.contains(KEY), "the directory key is on the page");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page
        .header("content-security-policy")
        .unwrap_or("")
        .contains("frame-ancestors 'none'"));

    // Over plain HTTP the cookie cannot be Secure (the browser would drop it), the rest holds.
    let mut plain = Browser::http(&s);
    let r = plain.sign_in(KEY);
    let cookie = r.headers_all("set-cookie").join("\n");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Without the cookie: to the sign-in page.
    let mut stranger = Browser::http(&s);
    let r = stranger.get("/admin/keys");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/signin"));
}

#[test]
fn forms_without_the_sessions_csrf_token_are_refused() {
    let s = with_book(&[]);
    let mut b = Browser::http(&s);
    assert_eq!(b.sign_in(KEY).status, 303);
    let csrf = b.csrf();
    for form in [
        "scope=read&label=evil",
        "csrf=&scope=read&label=evil",
        "csrf=0123abcd&scope=read&label=evil",
    ] {
        let r = b.post("/admin/keys", form);
        assert_eq!(r.status, 403, "{form}: {}", r.body);
        assert!(
            r.body.contains("did not come from this session"),
            "{}",
            r.body
        );
    }
    // A token of another session does not do either.
    let mut other = Browser::http(&s);
    assert_eq!(other.sign_in(KEY).status, 303);
    let theirs = other.csrf();
    assert_ne!(theirs, csrf);
    assert_eq!(
        b.post("/admin/keys", &format!("csrf={theirs}&scope=read&label=x"))
            .status,
        403
    );
    assert!(keys_of(&s).is_empty(), "a refused form made a key");
    // Settings, sources, upload and sign-out are forms too.
    assert_eq!(b.post("/admin/settings", "name=Evil").status, 403);
    assert_eq!(b.post("/admin/sources/x/delete", "").status, 403);
    assert_eq!(b.post("/admin/signout", "").status, 403);
    // The sign-in form needs its own cookie's token: another site cannot sign a browser in.
    let mut fresh = Browser::http(&s);
    let r = fresh.post("/admin/signin", &format!("csrf={csrf}&key={KEY}"));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!fresh.cookies.contains_key("phonedir_admin"));
    // With the token: done.
    let r = b.post("/admin/keys", &format!("csrf={csrf}&scope=read&label=desk"));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(keys_of(&s).len(), 1);
    // Signing out ends the session on the server, not only in the browser.
    let id = b.cookies["phonedir_admin"].clone();
    assert_eq!(
        b.post("/admin/signout", &format!("csrf={csrf}")).status,
        303
    );
    b.cookies.insert("phonedir_admin".into(), id);
    assert_eq!(b.get("/admin").status, 303);
}

#[test]
fn a_read_key_gets_a_read_only_view() {
    let s = with_book(&[]);
    let read = new_key(&s, "read", "reception");
    let mut b = Browser::http(&s);
    assert_eq!(b.sign_in(&read).status, 303);
    let overview = b.get("/admin");
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("read key"), "{}", overview.body);
    assert!(
        !overview.body.contains(KEY),
        "a read key's holder saw the directory key"
    );
    assert!(!overview.body.contains("Sync now"));
    let csrf = csrf_of(&overview.body);
    // Pages and forms that change things are refused, with a sentence.
    for page in [
        "/admin/keys",
        "/admin/sources",
        "/admin/targets",
        "/admin/upload",
    ] {
        let r = b.get(page);
        assert_eq!(r.status, 403, "{page}: {}", r.body);
    }
    let r = b.post("/admin/settings", &format!("csrf={csrf}&name=Hijacked"));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("needs the directory key"), "{}", r.body);
    let r = b.post("/admin/keys", &format!("csrf={csrf}&scope=read&label=mine"));
    assert_eq!(r.status, 403);
    let r = b.post("/admin/phones/key", &format!("csrf={csrf}"));
    assert_eq!(r.status, 403);
    let status = s.api().status().json();
    assert_eq!(status["name"], "", "the settings changed");
    assert_eq!(keys_of(&s).len(), 1);
    // What it may see: the book, the settings read-only, and the phone URLs with its own key.
    let book = b.get("/admin/book?format=snom&q=baltz");
    assert_eq!(book.status, 200, "{}", book.body);
    assert!(book.body.contains("Baltz"), "{}", book.body);
    let settings = b.get("/admin/settings");
    assert!(
        settings.body.contains("<fieldset disabled>"),
        "{}",
        settings.body
    );
    let phones = b.get("/admin/phones");
    assert!(
        phones
            .body
            .contains(&format!("/contacts/{read}/yealink/v1")),
        "{}",
        phones.body
    );
    // The key is in the page's text, never in a link or a form's address.
    for attr in ["href=\"", "action=\"", "src=\""] {
        for part in phones.body.split(attr).skip(1) {
            let url = part.split('"').next().unwrap_or("");
            assert!(!url.contains(&read), "{attr}{url}");
        }
    }
    // Revoked, the key ends the session at the next request.
    let r = call(
        &s,
        KEY,
        "DELETE",
        &format!("/api/v1/directories/{KEY}/keys/{read}"),
        None,
    );
    assert_eq!(r.status, 204);
    let r = b.get("/admin");
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/signin"));
}

#[test]
fn wrong_keys_at_sign_in_count_towards_the_throttle() {
    let s = with_book(&["--key-failures-per-minute", "3"]);
    let mut b = Browser::http(&s);
    for _ in 0..3 {
        let r = b.sign_in("WRONGq7Rt2xK9p");
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("opens no directory"), "{}", r.body);
    }
    let r = b.sign_in(KEY);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(!b.cookies.contains_key("phonedir_admin"));
    // The same throttle as the phone URLs: this address's requests with keys wait too.
    assert_eq!(s.book("yealink/v1").status, 429);
}

#[test]
fn upload_previews_then_stores_through_the_push_rules() {
    let s = with_book(&[]);
    let before = s.api().status().json()["version"].as_i64().unwrap();
    let mut b = Browser::http(&s);
    assert_eq!(b.sign_in(KEY).status, 303);
    let csrf = b.csrf();
    let (ct, body) = upload_form(&csrf, "team.csv", &fixture("admin-upload.csv"), "team");
    let r = {
        let jar: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        s.request(
            "POST",
            &s.url("/admin/upload"),
            &[("Content-Type", &ct), ("Cookie", &jar.join("; "))],
            Some(&body),
        )
    };
    assert_eq!(r.status, 200, "{}", r.body);
    // The dry run: the bad row with its line, nothing stored yet.
    assert!(r.body.contains("<td class=\"line\">4</td>"), "{}", r.body);
    assert!(
        r.body.contains("<dd id=\"preview-contacts\">3</dd>"),
        "{}",
        r.body
    );
    assert_eq!(s.api().status().json()["version"].as_i64().unwrap(), before);
    let r = b.post("/admin/upload/store", &format!("csrf={csrf}"));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/book"));
    let status = s.api().status().json();
    assert!(status["version"].as_i64().unwrap() > before);
    let team = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "team")
        .expect("source team");
    assert_eq!(team["contacts"], 3);
    // Stored once: a second "store" has nothing left to store.
    let r = b.post("/admin/upload/store", &format!("csrf={csrf}"));
    assert_eq!(r.header("location"), Some("/admin/upload"));
    let page = b.get("/admin/upload");
    assert!(page.body.contains("no previewed file"), "{}", page.body);
}

/// The upload form as a browser sends it.
pub fn upload_form(csrf: &str, name: &str, file: &[u8], source: &str) -> (String, Vec<u8>) {
    let boundary = "----phonedirAdminForm42";
    let mut body = Vec::new();
    for (k, v) in [
        ("csrf", csrf),
        ("source", source),
        ("region", "DE"),
        ("map", ""),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn targets_have_a_light_and_write_now_on_the_overview() {
    let s = with_book(&[]);
    // A PBX on loopback, which this server may not reach: the run fails with a sentence.
    let put = call(
        &s,
        KEY,
        "PUT",
        &format!("/api/v1/directories/{KEY}/targets/pbx"),
        Some(
            r#"{"kind":"easyconnect","url":"http://127.0.0.1:9/ACME","apikey":"k","debounce_s":3600}"#,
        ),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let mut b = Browser::http(&s);
    assert_eq!(b.sign_in(KEY).status, 303);
    let overview = b.get("/admin");
    assert!(overview.body.contains(">pbx<"), "{}", overview.body);
    assert!(
        overview.body.contains("easyconnect target"),
        "{}",
        overview.body
    );
    let csrf = csrf_of(&overview.body);
    let r = b.post("/admin/targets/pbx/sync", &format!("csrf={csrf}"));
    assert_eq!(r.status, 303, "{}", r.body);
    let after = b.get("/admin");
    assert!(
        after.body.contains("light red"),
        "the failed run shows no red light: {}",
        after.body
    );
    let status = s.api().status().json();
    assert_eq!(status["targets"][0]["name"], "pbx", "{status}");
    assert_eq!(status["targets"][0]["status"], "error", "{status}");
    let e = status["targets"][0]["last_error"].as_str().unwrap_or("");
    assert!(
        after.body.contains(&e[..e.len().min(30)]),
        "{e}: {}",
        after.body
    );
}

/// A form's fields as a browser encodes them.
fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The text of the settings field of a page, as the browser would send it back.
fn settings_field(html: &str) -> String {
    let start = html
        .find("name=\"settings\"")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or_else(|| panic!("no settings field in {html}"));
    let end = start + html[start..].find("</textarea>").expect("</textarea>");
    html[start..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn target_of(s: &Server, name: &str) -> Response {
    call(
        s,
        KEY,
        "GET",
        &format!("/api/v1/directories/{KEY}/targets/{name}"),
        None,
    )
}

#[test]
fn targets_are_added_edited_planned_written_and_deleted_on_their_pages() {
    use crate::targets::{easyconnect, writes, Easy};
    use serde_json::{json, Value};
    use std::sync::{Arc, Mutex};
    // Two entries in the PBX could each be Oliver Baltz: he is skipped and reported.
    let state = Arc::new(Mutex::new(Easy::default()));
    for i in 1..=2 {
        let dn = format!("cn=Oliver Baltz,o=ACME,{i}");
        state.lock().unwrap().contacts.insert(
            dn.clone(),
            json!({"cn": "Oliver Baltz", "distinguishedname": dn}),
        );
    }
    let pbx = easyconnect(state.clone());
    let s = with_book(LOCAL_SOURCES);
    let book = s.api().status().json()["contacts"].as_u64().unwrap();
    assert_eq!(book, 6);
    let mut b = Browser::http(&s);
    assert_eq!(b.sign_in(KEY).status, 303);

    // The list, empty, with an example for every kind and a link in the bar.
    let list = b.get("/admin/targets");
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("No targets yet"), "{}", list.body);
    for kind in ["innovaphone", "easyconnect", "3cx", "placetel", "fritzbox"] {
        assert!(list.body.contains(&format!("<h3>{kind}</h3>")), "{kind}");
    }
    assert!(list
        .body
        .contains("<a href=\"/admin/targets\" aria-current=\"page\">Targets</a>"));
    let csrf = csrf_of(&list.body);

    // Add one: to its page, the secret masked.
    let settings = json!({"kind": "easyconnect", "url": format!("{}/ACME", pbx.base),
                          "apikey": "EC-KEY", "interval_s": 0, "debounce_s": 3600});
    let add = |b: &mut Browser, name: &str, settings: &str| {
        b.post(
            "/admin/targets",
            &form(&[("csrf", &csrf), ("name", name), ("settings", settings)]),
        )
    };
    let r = add(&mut b, "ec", &settings.to_string());
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/targets/ec"));
    let page = b.get("/admin/targets/ec");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("target `ec` added"), "{}", page.body);
    assert!(page.body.contains("never run"), "{}", page.body);
    assert!(page.body.contains("No plan yet"), "{}", page.body);
    assert!(!page.body.contains("EC-KEY"), "the secret is on the page");
    let shown: Value = serde_json::from_str(&settings_field(&page.body)).expect("JSON");
    assert_eq!(shown["apikey"], "********", "{shown}");
    assert_eq!(shown["url"], settings["url"]);

    // The same name again, or settings the API refuses: the form again with the reason and
    // what was typed; nothing stored.
    let r = add(&mut b, "ec", &settings.to_string());
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("exists already"), "{}", r.body);
    let r = add(
        &mut b,
        "pbx2",
        r#"{"kind": "easyconnect", "apikey": "k", "colour": "red"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("colour"), "{}", r.body);
    assert!(r.body.contains("value=\"pbx2\""), "{}", r.body);
    assert_eq!(target_of(&s, "pbx2").status, 404);

    // Edit it, sending the masked secret back: the change is stored, the secret kept.
    let mut edited = shown.clone();
    edited["dbsid"] = "4".into();
    let r = b.post(
        "/admin/targets/ec",
        &form(&[("csrf", &csrf), ("settings", &edited.to_string())]),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let api = target_of(&s, "ec").json();
    assert_eq!(api["settings"]["dbsid"], "4", "{api}");
    assert_eq!(api["settings"]["apikey"], "********", "{api}");
    // The mask with another URL does not carry the secret there.
    let mut moved = edited.clone();
    moved["url"] = "https://evil.example/ACME".into();
    let r = b.post(
        "/admin/targets/ec",
        &form(&[("csrf", &csrf), ("settings", &moved.to_string())]),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("evil.example"),
        "the typed text is gone: {}",
        r.body
    );
    assert_eq!(
        target_of(&s, "ec").json()["settings"]["url"],
        settings["url"]
    );

    // The plan: read from the PBX (which answers only the right key, so the secret was
    // kept), shown on the page, nothing written.
    let r = b.post("/admin/targets/ec/plan", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/targets/ec"));
    let page = b.get("/admin/targets/ec");
    assert!(page.body.contains("nothing was written"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("id=\"plan-create\">{}<", book - 1)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("id=\"plan-skipped\">1<"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(">Jürgen Weiß</a>") && page.body.contains("a new entry “Jürgen Weiß”"),
        "{}",
        page.body
    );
    let skipped = &page.body[page
        .body
        .find("id=\"plan-skipped-list\"")
        .expect("skipped list")..];
    assert!(skipped.contains("Oliver Baltz"), "{skipped}");
    assert!(
        writes(&pbx).is_empty(),
        "a dry run wrote: {:?}",
        writes(&pbx)
    );
    assert_eq!(state.lock().unwrap().contacts.len(), 2);
    let api = target_of(&s, "ec").json();
    assert_eq!(
        api["last_dry_run"]["create"].as_array().map(Vec::len),
        Some(usize::try_from(book).unwrap() - 1),
        "{api}"
    );

    // Write now, back to its page: the run's counts and its skipped contact.
    let r = b.post(
        "/admin/targets/ec/sync",
        &form(&[("csrf", &csrf), ("back", "target")]),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/targets/ec"));
    let page = b.get("/admin/targets/ec");
    assert!(
        page.body.contains("target `ec` written: 5 created"),
        "{}",
        page.body
    );
    assert!(page.body.contains("light green"), "{}", page.body);
    assert!(page.body.contains("id=\"run-created\">5<"), "{}", page.body);
    let skipped = &page.body[page
        .body
        .find("id=\"run-skipped-list\"")
        .expect("skipped list")..];
    assert!(skipped.contains("Oliver Baltz"), "{skipped}");
    assert_eq!(state.lock().unwrap().contacts.len(), 2 + 5);

    // The book shrinks by two thirds: the plan is refused by the shrink guard and shown
    // with the deletes it held back; written anyway with the box ticked.
    let smaller = fixture("syncblue-directory.csv");
    let smaller: String = String::from_utf8(smaller)
        .unwrap()
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    let r = s.push(&format!("/contacts/{KEY}?force=true"), smaller.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.post("/admin/targets/ec/plan", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("would write nothing"), "{}", r.body);
    assert!(r.body.contains("id=\"plan-delete\">4<"), "{}", r.body);
    let deletes = &r.body[r.body.find("id=\"plan-delete-list\"").expect("delete list")..];
    assert!(deletes.contains("cn=Support Hotline"), "{deletes}");
    assert_eq!(state.lock().unwrap().contacts.len(), 7);
    let r = b.post(
        "/admin/targets/ec/sync",
        &form(&[("csrf", &csrf), ("back", "target"), ("force", "1")]),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get("/admin/targets/ec");
    assert!(page.body.contains("4 deleted"), "{}", page.body);
    assert_eq!(state.lock().unwrap().contacts.len(), 3);

    // On the overview and the list its name leads to its page.
    for at in ["/admin", "/admin/targets"] {
        let p = b.get(at);
        assert!(
            p.body.contains("href=\"/admin/targets/ec\""),
            "{at}: {}",
            p.body
        );
    }
    // Forms without the session's token are refused.
    assert_eq!(b.post("/admin/targets/ec/plan", "").status, 403);
    assert_eq!(b.post("/admin/targets/ec/delete", "csrf=x").status, 403);

    // A read key sees none of it and changes nothing.
    let read = new_key(&s, "read", "desk");
    let mut r_b = Browser::http(&s);
    assert_eq!(r_b.sign_in(&read).status, 303);
    let theirs = r_b.csrf();
    assert!(!r_b.get("/admin").body.contains("/admin/targets"));
    for path in ["/admin/targets", "/admin/targets/ec"] {
        let r = r_b.get(path);
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(r.body.contains("needs the directory key"), "{}", r.body);
    }
    let with_token = form(&[("csrf", &theirs), ("name", "x"), ("settings", "{}")]);
    for path in [
        "/admin/targets",
        "/admin/targets/ec",
        "/admin/targets/ec/plan",
        "/admin/targets/ec/sync",
        "/admin/targets/ec/delete",
    ] {
        assert_eq!(r_b.post(path, &with_token).status, 403, "{path}");
    }
    assert_eq!(target_of(&s, "ec").status, 200);

    // Delete: gone from phonedir, its entries stay in the PBX.
    let r = b.post("/admin/targets/ec/delete", &form(&[("csrf", &csrf)]));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/targets"));
    let list = b.get("/admin/targets");
    assert!(list.body.contains("stay in the PBX"), "{}", list.body);
    assert!(list.body.contains("No targets yet"), "{}", list.body);
    assert_eq!(target_of(&s, "ec").status, 404);
    assert_eq!(state.lock().unwrap().contacts.len(), 3);
    assert_eq!(b.get("/admin/targets/ec").status, 404);
    for action in ["plan", "sync"] {
        let r = b.post(
            &format!("/admin/targets/ec/{action}"),
            &form(&[("csrf", &csrf), ("back", "target")]),
        );
        assert_eq!(r.status, 404, "{action}: {}", r.body);
    }
}
