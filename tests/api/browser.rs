//! The admin pages in a real browser: headless Chromium (Debian's package, installed by
//! tests/tools/install.py), driven over WebDriver by chromedriver with plain HTTP and JSON.
//! A person's round: sign in, upload a file with a bad row and see its line, store it, see
//! the book, make a read key and revoke it, add a source, add a target and see its plan
//! against a fake PBX. Every page is photographed; with
//! `PHONEDIR_UPDATE_SCREENSHOTS=1` the pictures replace the ones in docs/admin/.

use crate::helpers::{with_book, Server, KEY, LOCAL_SOURCES};
use crate::tools;
use base64::Engine;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// chromedriver with one Chromium session; both end when this is dropped.
struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// The W3C WebDriver name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    fn start() -> Driver {
        let chromium = tools::command("chromium").get_program().to_owned();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = tools::command("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let deadline = Instant::now() + Duration::from_secs(30);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags known to work on these machines (no network but loopback).
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        }}});
        let mut d = Driver {
            child,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        d
    }

    /// A WebDriver command; answers its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path.starts_with("/session") && !self.session.is_empty() {
            format!(
                "{}/session/{}{}",
                self.base,
                self.session,
                &path["/session".len()..]
            )
        } else {
            format!("{}{path}", self.base)
        };
        let req = self
            .agent
            .request(method, &url)
            .set("Content-Type", "application/json");
        let result = match body {
            Some(b) => req.send_string(&b.to_string()),
            None if method == "POST" => req.send_string("{}"),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let text = resp.into_string().expect("WebDriver answer");
        let v: Value = serde_json::from_str(&text).expect("WebDriver JSON");
        if v["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("POST", "/session/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/session/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/session/element/{e}/clear"), None);
        self.call(
            "POST",
            &format!("/session/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/session/element/{e}/click"), None);
    }

    /// A WebDriver command that may fail while a page loads (no such element yet, a stale
    /// one): None then.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let req = self
            .agent
            .request(method, &url)
            .set("Content-Type", "application/json");
        let resp = match body {
            Some(b) => req.send_string(&b.to_string()),
            None => req.call(),
        }
        .ok()?;
        let v: Value = serde_json::from_str(&resp.into_string().ok()?).ok()?;
        Some(v["value"].clone())
    }

    /// The text of the first element `css` finds, if there is one yet.
    fn try_text(&self, css: &str) -> Option<String> {
        let found = self.try_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        let e = found[ELEMENT].as_str()?.to_owned();
        let text = self.try_call("GET", &format!("/element/{e}/text"), None)?;
        text.as_str().map(str::to_owned)
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &format!("/session/element/{e}/text"), None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn value(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &format!("/session/element/{e}/property/value"), None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn url(&self) -> String {
        self.call("GET", "/session/url", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    fn page(&self) -> String {
        self.call("GET", "/session/source", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// A PNG of the page, the window made tall enough for all of it (up to a bound).
    fn screenshot(&self, name: &str) -> PathBuf {
        let height = self
            .call(
                "POST",
                "/session/execute/sync",
                Some(json!({"script": "return document.documentElement.scrollHeight", "args": []})),
            )
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 2400);
        self.call(
            "POST",
            "/session/window/rect",
            Some(json!({"width": 1280, "height": height + 120})),
        );
        let b64 = self.call("GET", "/session/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or(""))
            .expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(
            png.len() > 5_000,
            "{name}: an empty picture ({} bytes)",
            png.len()
        );
        let dir = if std::env::var_os("PHONEDIR_UPDATE_SCREENSHOTS").is_some() {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/admin")
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/admin-screenshots")
        };
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        self.call(
            "POST",
            "/session/window/rect",
            Some(json!({"width": 1280, "height": 900})),
        );
        path
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(d: &Driver, what: &str, ok: impl Fn(&Driver) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok(d) {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_person_signs_in_uploads_stores_and_manages_keys_in_chromium() {
    // Loopback allowed: the target below writes into a fake PBX on this machine.
    let s: Server = with_book(LOCAL_SOURCES);
    let d = Driver::start();
    let base = s.http.clone();

    // Sign in with the directory key.
    d.go(&format!("{base}/admin"));
    assert!(d.url().ends_with("/admin/signin"), "{}", d.url());
    d.screenshot("signin");
    d.type_into("#key", KEY);
    d.click("form[action='/admin/signin'] button");
    wait_for(&d, "the overview", |d| d.url().ends_with("/admin"));
    let contacts_before: usize = d.text("#contacts").parse().expect("a count");
    assert!(contacts_before > 0);
    assert!(d.text("table.status").contains("push"), "{}", d.page());

    // Name the directory and its country, as a new administrator does first.
    d.go(&format!("{base}/admin/settings"));
    d.type_into("#name", "ACME GmbH");
    d.type_into("#region", "DE");
    d.click("form[action='/admin/settings'] button");
    wait_for(&d, "saved settings", |d| {
        d.try_text(".flash").unwrap_or_default().contains("saved")
    });
    let status = s.api().status().json();
    assert_eq!(status["name"], "ACME GmbH");
    assert_eq!(status["settings"]["region"], "DE");
    d.screenshot("settings");
    d.go(&format!("{base}/admin"));
    assert!(d.text("h1").contains("ACME GmbH"));

    // Upload a file with a bad row: the preview names its line.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("team.csv");
    std::fs::write(&file, crate::helpers::fixture("admin-upload.csv")).expect("write");
    d.go(&format!("{base}/admin/upload"));
    assert_eq!(
        d.value("#region"),
        "DE",
        "the directory's region is the default"
    );
    d.type_into("#source", "team");
    d.type_into("#file", &file.display().to_string());
    d.screenshot("upload");
    d.click("form[action='/admin/upload'] button[type=submit]");
    wait_for(&d, "the preview", |d| {
        d.page().contains("Preview of team.csv")
    });
    assert_eq!(d.text("#preview-contacts"), "3");
    let problems = d.text("table.problems");
    assert!(
        problems.contains("Clara") || problems.contains("12345678901234567890"),
        "{problems}"
    );
    assert_eq!(d.text("table.problems td.line"), "4", "{problems}");
    d.screenshot("upload-preview");

    // Store it, and see it in the book.
    d.click("#store");
    wait_for(&d, "the book", |d| d.url().contains("/admin/book"));
    assert!(
        d.text(".flash").contains("stored 3 contacts"),
        "{}",
        d.page()
    );
    d.type_into("#q", "vogt");
    d.click("form[action='/admin/book'] button");
    wait_for(&d, "no match for the bad row", |d| {
        d.try_text("#counts").unwrap_or_default().contains("0 of")
    });
    d.type_into("#q", "roth");
    d.click("form[action='/admin/book'] button");
    wait_for(&d, "Dieter Roth", |d| {
        d.try_text("table.book")
            .unwrap_or_default()
            .contains("Dieter Roth")
    });
    assert!(
        d.text("table.book").contains("+498945678901"),
        "{}",
        d.text("table.book")
    );
    d.go(&format!("{base}/admin/book?format=yealink"));
    d.screenshot("book");
    d.go(&format!("{base}/admin/book?format=yealink&q=roth"));
    d.click("table.book a");
    wait_for(&d, "a contact", |d| d.url().contains("/admin/contact/"));
    assert!(d.page().contains("Every number in every shape"));
    // The national shape needs the region set above.
    assert!(
        d.text("table.shapes").contains("08945678901"),
        "{}",
        d.text("table.shapes")
    );
    d.screenshot("contact");

    // The overview counts the new source.
    d.go(&format!("{base}/admin"));
    let after: usize = d.text("#contacts").parse().expect("a count");
    assert_eq!(after, contacts_before + 3);

    // Make a read key: shown once; it reads the book; revoked, it reads nothing.
    d.go(&format!("{base}/admin/keys"));
    d.type_into("#label", "reception phones");
    d.click("#make-key");
    wait_for(&d, "the new key", |d| d.page().contains("id=\"newkey\""));
    let read = d.value("#newkey");
    assert_eq!(read.len(), 14, "{read}");
    assert_ne!(read, KEY);
    assert_eq!(s.get(&format!("/contacts/{read}/yealink/v1")).status, 200);
    assert!(d.text("table.keys").contains("reception phones"));
    d.screenshot("keys");
    d.go(&format!("{base}/admin/keys"));
    assert!(!d.page().contains(&read), "the key was shown twice");
    d.click("table.keys button.danger");
    wait_for(&d, "the revocation", |d| {
        d.try_text(".flash").unwrap_or_default().contains("revoked")
    });
    assert_eq!(s.get(&format!("/contacts/{read}/yealink/v1")).status, 404);

    // The other pages render; the copy buttons appear with JavaScript.
    d.go(&format!("{base}/admin/phones"));
    assert!(d
        .value("#url-yealink")
        .contains("/contacts/READ_KEY/yealink/v1"));
    let copy = d.find("button[data-copy='url-yealink']");
    let shown = d.call("GET", &format!("/session/element/{copy}/displayed"), None);
    assert_eq!(shown, json!(true), "the copy button stayed hidden");
    d.screenshot("phones");
    // A pulled source: its secret is masked when shown; a failed sync turns its light red,
    // with the reason in words.
    d.go(&format!("{base}/admin/sources"));
    d.type_into("#name", "nextcloud");
    d.type_into(
        "#settings",
        r#"{"kind": "carddav", "url": "https://127.0.0.1:9/dav/", "username": "anna", "password": "s3cret-app-pass", "interval_s": 0}"#,
    );
    d.click("form[action='/admin/sources'] button");
    wait_for(&d, "the new source", |d| {
        d.url().ends_with("/admin/sources/nextcloud")
    });
    let shown = d.value("#settings");
    assert!(
        shown.contains("********") && !shown.contains("s3cret"),
        "{shown}"
    );
    d.click("form[action='/admin/sources/nextcloud/sync'] button");
    wait_for(&d, "the failed sync", |d| d.page().contains("failed"));
    assert!(
        d.text("table.facts").contains("error"),
        "{}",
        d.text("table.facts")
    );
    d.screenshot("source");
    d.go(&format!("{base}/admin/sources"));
    d.screenshot("sources");
    d.go(&format!("{base}/admin"));
    assert!(d.try_text("span.light.red").is_some(), "no red light");
    d.screenshot("overview");

    // A target: added on its page, its plan made against a PBX (the EasyConnect fake),
    // written.
    let pbx = crate::targets::easyconnect(Default::default());
    d.go(&format!("{base}/admin/targets"));
    d.type_into("#name", "pbx");
    d.type_into(
        "#settings",
        &json!({"kind": "easyconnect", "url": format!("{}/ACME", pbx.base), "apikey": "EC-KEY",
                "interval_s": 0, "debounce_s": 3600})
        .to_string(),
    );
    d.click("form[action='/admin/targets'] button");
    wait_for(&d, "the new target", |d| {
        d.url().ends_with("/admin/targets/pbx")
    });
    let shown = d.value("#settings");
    assert!(
        shown.contains("********") && !shown.contains("EC-KEY"),
        "{shown}"
    );
    d.click("form[action='/admin/targets/pbx/plan'] button");
    wait_for(&d, "the plan", |d| d.page().contains("nothing was written"));
    let planned: usize = d.text("#plan-create").parse().expect("a count");
    assert_eq!(planned, after, "every contact of the book is created");
    assert!(crate::targets::writes(&pbx).is_empty(), "the plan wrote");
    d.screenshot("target");
    d.click("form[action='/admin/targets/pbx/sync'] button");
    wait_for(&d, "the run", |d| {
        d.try_text(".flash").unwrap_or_default().contains("written")
    });
    assert_eq!(d.text("#run-created"), after.to_string());
    d.go(&format!("{base}/admin/targets"));
    assert!(d.try_text("span.light.green").is_some(), "no green light");
    d.screenshot("targets");

    // The API explorer loads the document from vendored files only.
    d.go(&format!("{base}/api/docs"));
    wait_for(&d, "swagger-ui", |d| {
        d.page().contains("/api/v1/directories/{key}/keys")
    });
    d.screenshot("api-docs");

    // Signing out ends it.
    d.go(&format!("{base}/admin"));
    d.click("form.signout button");
    wait_for(&d, "the sign-in page", |d| {
        d.url().ends_with("/admin/signin")
    });
    d.go(&format!("{base}/admin/keys"));
    assert!(d.url().ends_with("/admin/signin"));
}
