//! The admin pages over plain HTTP(S), as a browser without JavaScript uses them: sessions,
//! cookie flags, CSRF tokens, the read-only view of a read key, the wrong-key throttle.
//! `browser.rs` drives the same pages in Chromium.

use crate::helpers::{fixture, send, tls_agent, with_book, Response, Server, KEY};
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
    for page in ["/admin/keys", "/admin/sources", "/admin/upload"] {
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
