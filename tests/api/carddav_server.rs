//! The CardDAV server as real clients use it: vdirsyncer syncing a directory into a folder,
//! and the request bodies DAVx5, Thunderbird, Evolution and iOS send (from their sources,
//! see docs/carddav.md), replayed with the answers each of them depends on.

use crate::helpers::{Response, Server, KEY};
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const OTHER: &str = "OTHRq8Zt3vWx5K";

const FIRST: &str = "internal_id,display_name,given_name,family_name,email,phone\n\
    1,Anna Schmidt,Anna,Schmidt,anna@acme.example,WORK:+492311234567\n\
    2,Bernd Meier,Bernd,Meier,,HOME:+49307654321\n\
    3,Cleo Wolf,Cleo,Wolf,,MOBILE:+491711111111\n";

/// Anna's number changes, Bernd leaves, Dora arrives.
const SECOND: &str = "internal_id,display_name,given_name,family_name,email,phone\n\
    1,Anna Schmidt,Anna,Schmidt,anna@acme.example,WORK:+492311234568\n\
    3,Cleo Wolf,Cleo,Wolf,,MOBILE:+491711111111\n\
    4,Dora Neu,Dora,Neu,,WORK:+49301111\n";

/// A CardDAV client of one server: Basic credentials, no redirects followed (the tests
/// look at them), any method.
struct Dav<'a> {
    s: &'a Server,
    auth: Option<String>,
    agent: ureq::Agent,
}

trait Multistatus {
    /// The responses of an answer that must be a multistatus.
    fn responses(&self) -> Vec<Resp>;
}

impl Multistatus for Response {
    fn responses(&self) -> Vec<Resp> {
        assert_eq!(self.status, 207, "{}", self.body);
        responses(&self.body)
    }
}

/// One `<D:response>`: its href, the first status in it (what Thunderbird reads), the
/// properties of its 200 propstat (local name → inner XML text) and those in a 404.
#[derive(Debug)]
struct Resp {
    href: String,
    first_status: String,
    ok: BTreeMap<String, String>,
    missing: Vec<String>,
}

fn responses(body: &str) -> Vec<Resp> {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name(("DAV:", "response")))
        .map(|r| {
            let href = r
                .children()
                .find(|n| n.has_tag_name(("DAV:", "href")))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_owned();
            let first_status = r
                .descendants()
                .find(|n| n.has_tag_name(("DAV:", "status")))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_owned();
            let mut ok = BTreeMap::new();
            let mut missing = Vec::new();
            for ps in r
                .children()
                .filter(|n| n.has_tag_name(("DAV:", "propstat")))
            {
                let status = ps
                    .children()
                    .find(|n| n.has_tag_name(("DAV:", "status")))
                    .and_then(|n| n.text())
                    .unwrap_or_default();
                let props = ps
                    .children()
                    .find(|n| n.has_tag_name(("DAV:", "prop")))
                    .into_iter()
                    .flat_map(|p| p.children().filter(|n| n.is_element()));
                for p in props {
                    let name = p.tag_name().name().to_owned();
                    if status == "HTTP/1.1 200 OK" {
                        let inner: String = p
                            .descendants()
                            .filter_map(|d| {
                                if d.is_text() {
                                    d.text().map(str::to_owned)
                                } else if d.is_element() && d != p {
                                    Some(format!("<{}>", d.tag_name().name()))
                                } else {
                                    None
                                }
                            })
                            .collect();
                        ok.insert(name, inner);
                    } else {
                        missing.push(name);
                    }
                }
            }
            Resp {
                href,
                first_status,
                ok,
                missing,
            }
        })
        .collect()
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl<'a> Dav<'a> {
    fn new(s: &'a Server, key: &str) -> Dav<'a> {
        Dav::with_auth(s, Some(basic("phone", key)))
    }

    fn with_auth(s: &'a Server, auth: Option<String>) -> Dav<'a> {
        Dav {
            s,
            auth,
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn call(&self, method: &str, path: &str, depth: Option<&str>, body: &str) -> Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            self.s.url(path)
        };
        let mut req = self
            .agent
            .request(method, &url)
            .set("Content-Type", "application/xml; charset=utf-8");
        if let Some(a) = &self.auth {
            req = req.set("Authorization", a);
        }
        if let Some(d) = depth {
            req = req.set("Depth", d);
        }
        crate::helpers::send(req, Some(body.as_bytes()))
    }

    fn propfind(&self, path: &str, depth: &str, props: &str) -> Response {
        self.call(
            "PROPFIND",
            path,
            Some(depth),
            &format!(
                r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>{props}</d:prop></d:propfind>"#
            ),
        )
    }

    /// Discovery as clients do it from the server's base URL: the principal, its home set,
    /// and the one address book in it.
    fn book(&self) -> String {
        let root = self
            .propfind("/", "0", "<d:current-user-principal/>")
            .responses();
        let principal = strip(&root[0].ok["current-user-principal"]);
        let p = self
            .propfind(&principal, "0", "<card:addressbook-home-set/>")
            .responses();
        let home = strip(&p[0].ok["addressbook-home-set"]);
        let books: Vec<Resp> = self
            .propfind(&home, "1", "<d:resourcetype/>")
            .responses()
            .into_iter()
            .filter(|r| r.ok["resourcetype"].contains("<addressbook>"))
            .collect();
        assert_eq!(books.len(), 1, "exactly one address book per directory");
        books[0].href.clone()
    }

    /// href → ETag of every card, by PROPFIND Depth 1.
    fn etags(&self, book: &str) -> BTreeMap<String, String> {
        self.propfind(book, "1", "<d:getetag/>")
            .responses()
            .into_iter()
            .filter(|r| r.href != book)
            .map(|r| (r.href, r.ok["getetag"].clone()))
            .collect()
    }

    fn multiget(&self, book: &str, depth: &str, prop: &str, hrefs: &[String]) -> Response {
        let mut body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop>{prop}</D:prop>"#
        );
        for h in hrefs {
            body.push_str(&format!("\n<D:href>{h}</D:href>"));
        }
        body.push_str("</C:addressbook-multiget>");
        self.call("REPORT", book, Some(depth), &body)
    }

    fn sync(&self, book: &str, depth: &str, token: &str) -> Response {
        let token = if token.is_empty() {
            "<d:sync-token/>".to_owned()
        } else {
            format!("<d:sync-token>{token}</d:sync-token>")
        };
        self.call(
            "REPORT",
            book,
            Some(depth),
            &format!(
                r#"<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">{token}<d:sync-level>1</d:sync-level><d:prop><d:getetag/><d:resourcetype/></d:prop></d:sync-collection>"#
            ),
        )
    }
}

/// The text of an element whose inner XML the parser above flattened (`<href>/x/`).
fn strip(inner: &str) -> String {
    inner.replace("<href>", "").trim().to_owned()
}

/// The `sync-token` an answer ends with.
fn token_of(body: &str) -> String {
    let doc = roxmltree::Document::parse(body).unwrap();
    doc.root_element()
        .children()
        .find(|n| n.has_tag_name(("DAV:", "sync-token")))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no sync-token: {body}"))
        .to_owned()
}

fn push(s: &Server, key: &str, csv: &str) {
    let r = s.push(&format!("/contacts/{key}"), csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
}

fn write_vdirsyncer_config(dir: &std::path::Path, url: &str, password: &str) -> std::path::PathBuf {
    let config = format!(
        "[general]\nstatus_path = \"{status}\"\n\n\
         [pair phonebook]\na = \"local\"\nb = \"server\"\ncollections = [\"from b\"]\n\n\
         [storage local]\ntype = \"filesystem\"\npath = \"{folder}\"\nfileext = \".vcf\"\n\n\
         [storage server]\ntype = \"carddav\"\nurl = \"{url}\"\nusername = \"phone\"\n\
         password = \"{password}\"\nread_only = true\n",
        status = dir.join("status").display(),
        folder = dir.join("contacts").display(),
    );
    let path = dir.join("config");
    std::fs::create_dir_all(dir.join("contacts")).unwrap();
    std::fs::write(&path, config).unwrap();
    path
}

fn vdirsyncer(config: &std::path::Path, args: &[&str]) -> String {
    use std::io::Write;
    let mut child = crate::tools::command("vdirsyncer")
        .arg("-c")
        .arg(config)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vdirsyncer");
    // `discover` asks whether to create the local folder.
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(b"y\ny\ny\n");
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "vdirsyncer {args:?} failed:\n{text}");
    text
}

/// (FN, TEL values) of every card vdirsyncer wrote into the folder.
fn folder(dir: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let mut cards = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("contacts/contacts")).unwrap() {
        let path = e.unwrap().path();
        assert_eq!(path.extension().and_then(|x| x.to_str()), Some("vcf"));
        let text = std::fs::read_to_string(&path).unwrap();
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("FN:"))
            .unwrap_or_else(|| panic!("no FN in {}", path.display()))
            .to_owned();
        let tels = text
            .lines()
            .filter(|l| l.starts_with("TEL"))
            .filter_map(|l| l.rsplit(':').next())
            .map(str::to_owned)
            .collect();
        cards.insert(name, tels);
    }
    cards
}

#[test]
fn vdirsyncer_discovers_the_book_from_the_base_url_and_follows_pushes() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    let dir = tempfile::tempdir().unwrap();
    let config = write_vdirsyncer_config(dir.path(), &s.url("/"), KEY);
    let found = vdirsyncer(&config, &["discover"]);
    assert!(found.contains("\"contacts\""), "{found}");
    vdirsyncer(&config, &["sync"]);
    let first = folder(dir.path());
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["Anna Schmidt", "Bernd Meier", "Cleo Wolf"]
    );
    assert_eq!(first["Anna Schmidt"], ["+492311234567"]);

    push(&s, KEY, SECOND);
    let log = vdirsyncer(&config, &["sync"]);
    let second = folder(dir.path());
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        ["Anna Schmidt", "Cleo Wolf", "Dora Neu"],
        "{log}"
    );
    assert_eq!(second["Anna Schmidt"], ["+492311234568"]);
    assert_eq!(second["Cleo Wolf"], first["Cleo Wolf"]);
}

#[test]
fn wrong_or_missing_credentials_get_the_basic_challenge_and_discovery_needs_none() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    let book = Dav::new(&s, KEY).book();
    let cases = [
        None,
        Some(basic("phone", "WRNG0123456789")),
        Some(basic("phone", "not a key")),
        Some("Basic %%%".to_owned()),
        Some(format!("Bearer {KEY}")),
    ];
    for auth in cases {
        let dav = Dav::with_auth(&s, auth.clone());
        for (method, path) in [
            ("PROPFIND", "/dav/"),
            ("PROPFIND", book.as_str()),
            ("GET", book.as_str()),
            ("REPORT", book.as_str()),
        ] {
            let a = dav.call(method, path, Some("0"), "");
            assert_eq!(a.status, 401, "{auth:?} {method} {path}: {}", a.body);
            assert_eq!(
                a.header("WWW-Authenticate"),
                Some("Basic realm=\"phonedir\""),
                "{auth:?} {method} {path}"
            );
        }
    }
    // RFC 6764 discovery and OPTIONS ask for nothing.
    let anon = Dav::with_auth(&s, None);
    let wk = anon.call("PROPFIND", "/.well-known/carddav", Some("0"), "");
    assert_eq!(wk.status, 301);
    assert_eq!(wk.header("Location"), Some("/dav/"));
    let wk = anon.call("GET", "/.well-known/carddav", None, "");
    assert_eq!(wk.status, 301);
    let o = anon.call("OPTIONS", &book, None, "");
    assert_eq!(o.status, 200);
    assert!(o.header("DAV").unwrap().contains("addressbook"));
    // With credentials, the root says in words where the book is, for desk phones.
    let words = Dav::new(&s, KEY).call("GET", "/dav/", None, "");
    assert_eq!(words.status, 200);
    assert!(words.body.contains(&s.url(&book)), "{}", words.body);
    // The key may also stand in the user name, with no password.
    let user_only = Dav::with_auth(&s, Some(basic(KEY, "")));
    assert_eq!(
        user_only.propfind(&book, "0", "<d:displayname/>").status,
        207
    );
}

#[test]
fn another_directorys_key_never_opens_this_book() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    push(&s, OTHER, SECOND);
    let mine = Dav::new(&s, KEY);
    let theirs = Dav::new(&s, OTHER);
    let my_book = mine.book();
    let their_book = theirs.book();
    assert_ne!(my_book, their_book);
    assert!(
        !my_book.contains(KEY) && !their_book.contains(OTHER),
        "keys stay out of URLs"
    );
    let my_cards: Vec<String> = mine.etags(&my_book).into_keys().collect();
    assert_eq!(my_cards.len(), 3);
    // With the other directory's key: not found, and nothing of this book in the answer.
    let a = theirs.propfind(&my_book, "1", "<d:getetag/>");
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(theirs.call("GET", &my_cards[0], None, "").status, 404);
    let a = theirs.multiget(&their_book, "1", "<D:getetag/><C:address-data/>", &my_cards);
    let r = a.responses();
    assert!(
        r.iter().all(|r| r.first_status == "HTTP/1.1 404 Not Found"),
        "{}",
        a.body
    );
    assert!(!a.body.contains("Bernd"));
    let a = theirs.multiget(&my_book, "1", "<D:getetag/>", &my_cards);
    assert_eq!(a.status, 404);
    // The other book's principal is not this key's either.
    let their_principal = their_book
        .replace("/books/", "/principals/")
        .replace("/contacts/", "/");
    assert_eq!(
        mine.propfind(&their_principal, "0", "<d:displayname/>")
            .status,
        404
    );
    // A read key opens the same book (phones and smartphones get read keys), revoked it
    // opens nothing.
    let r = s.api().call(
        "POST",
        "/keys",
        Some(r#"{"scope": "read", "label": "smartphones"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let read_key = r.json()["key"].as_str().unwrap().to_owned();
    let reader = Dav::new(&s, &read_key);
    assert_eq!(reader.book(), my_book);
    assert_eq!(reader.etags(&my_book).len(), 3);
    let id = r.json()["id"].to_string();
    assert_eq!(
        s.api().call("DELETE", &format!("/keys/{id}"), None).status,
        204
    );
    assert_eq!(reader.call("PROPFIND", &my_book, Some("0"), "").status, 401);
}

#[test]
fn guessing_passwords_is_throttled_like_guessing_keys_in_urls() {
    let s = Server::start(&["--key-failures-per-minute", "5"]);
    push(&s, KEY, FIRST);
    let book = Dav::new(&s, KEY).book();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let wrong = Dav::with_auth(&s, Some(basic("phone", &format!("WrngKey{i}xQ7zT"))));
        statuses.push(wrong.call("PROPFIND", &book, Some("0"), "").status);
    }
    assert!(
        statuses.contains(&401) && statuses.contains(&429),
        "{statuses:?}"
    );
    // The right key from this address waits too, as in URLs: guessing costs time.
    let r = Dav::new(&s, KEY).call("PROPFIND", &book, Some("0"), "");
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("Retry-After").is_some());
}

#[test]
fn davx5_finds_a_read_only_book_syncs_it_by_token_and_tolerates_the_refused_write() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    let dav = Dav::new(&s, KEY);
    // DavResourceFinder: PROPFIND Depth 0 on the URL the user typed.
    let r = dav.propfind(
        "/",
        "0",
        "<d:resourcetype/><d:displayname/><d:current-user-principal/><card:addressbook-home-set/><card:addressbook-description/>",
    )
    .responses();
    // The response is about the URL asked, so DAVx5 takes it as that resource's.
    assert_eq!(r[0].href, "/");
    let principal = strip(&r[0].ok["current-user-principal"]);
    // A principal counts only if OPTIONS on it says `addressbook`.
    let o = dav.call("OPTIONS", &principal, None, "");
    assert!(o
        .header("DAV")
        .unwrap()
        .split(',')
        .any(|c| c.trim() == "addressbook"));
    let home = strip(
        &dav.propfind(&principal, "0", "<card:addressbook-home-set/>")
            .responses()[0]
            .ok["addressbook-home-set"],
    );
    // ServiceDetectionUtils: the home set, Depth 1.
    let listing = dav
        .propfind(
            &home,
            "1",
            "<d:current-user-privilege-set/><d:displayname/><d:owner/><d:resourcetype/><card:addressbook-description/>",
        )
        .responses();
    let book = listing
        .iter()
        .find(|r| r.ok["resourcetype"].contains("<addressbook>"))
        .expect("an address book in the home set");
    let privileges = &book.ok["current-user-privilege-set"];
    assert!(privileges.contains("<read>"));
    for w in ["<write>", "<write-content>", "<all>"] {
        assert!(!privileges.contains(w), "read-only: {privileges}");
    }
    let book = book.href.clone();
    // BaseWebDavCollection: capabilities.
    let caps = dav
        .propfind(
            &book,
            "0",
            "<d:supported-report-set/><d:sync-token/><cs:getctag/><card:max-resource-size/><card:supported-address-data/>",
        )
        .responses();
    assert!(caps[0].ok["supported-report-set"].contains("<sync-collection>"));
    assert!(caps[0].ok.contains_key("getctag"));
    assert_eq!(caps[0].missing, ["max-resource-size"]);
    let token = caps[0].ok["sync-token"].clone();
    assert!(
        token.contains(':') && token.contains('/') || token.starts_with("urn:"),
        "{token}"
    );
    // vCard 4 is advertised, so DAVx5 asks for it.
    assert!(caps[0].ok["supported-address-data"].contains("<address-data-type>"));
    let caps_xml = dav
        .propfind(&book, "0", "<card:supported-address-data/>")
        .body;
    assert!(caps_xml.contains("version=\"4.0\""), "{caps_xml}");

    // Initial sync: an empty token, Depth 0, getetag + resourcetype.
    let first = dav.sync(&book, "0", "");
    let members = first.responses();
    assert_eq!(members.len(), 3);
    assert!(members
        .iter()
        .all(|m| m.ok.contains_key("getetag") && m.href.starts_with(&book)));
    assert_eq!(token_of(&first.body), token);
    // Multiget in batches of 10, Depth 0, vCard 4, hrefs as absolute encoded paths.
    let hrefs: Vec<String> = members.iter().map(|m| m.href.clone()).collect();
    let cards = dav
        .multiget(
            &book,
            "0",
            r#"<D:getcontenttype/><D:getetag/><C:address-data content-type="text/vcard" version="4.0"/>"#,
            &hrefs,
        )
        .responses();
    assert_eq!(cards.len(), 3);
    for c in &cards {
        assert!(
            c.ok.contains_key("getetag"),
            "DAVx5 requires an ETag: {c:?}"
        );
        assert!(c.ok["address-data"].contains("VERSION:4.0"));
    }
    // Unchanged: the same token, no members.
    let again = dav.sync(&book, "0", &token);
    assert!(again.responses().is_empty());
    assert_eq!(token_of(&again.body), token);
    // After a push: changed and new members with ETags, the removed one as a 404.
    push(&s, KEY, SECOND);
    let next = dav.sync(&book, "0", &token);
    let changes = next.responses();
    let gone: Vec<&Resp> = changes
        .iter()
        .filter(|c| c.first_status.contains("404"))
        .collect();
    assert_eq!(changes.len(), 3, "{}", next.body);
    assert_eq!(gone.len(), 1);
    assert!(gone[0].ok.is_empty());
    assert_ne!(token_of(&next.body), token);
    // A local edit uploaded anyway: 403 with need-privileges, which DAVx5 ignores.
    let put = dav.call(
        "PUT",
        &hrefs[0],
        None,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n",
    );
    assert_eq!(put.status, 403);
    let doc = roxmltree::Document::parse(&put.body).unwrap();
    assert!(doc.root_element().has_tag_name(("DAV:", "error")));
    assert!(doc
        .root_element()
        .children()
        .any(|c| c.has_tag_name(("DAV:", "need-privileges"))));
    // A token from before a forgotten past: 403 valid-sync-token, which starts a full sync.
    let stale = dav.sync(&book, "0", &format!("{}9", token));
    assert_eq!(stale.status, 403);
    assert!(stale.body.contains("valid-sync-token"), "{}", stale.body);
}

#[test]
fn thunderbird_reads_exact_status_lines_and_fetches_every_card_in_one_multiget() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    // Thunderbird waits for the challenge before it sends credentials.
    let anon = Dav::with_auth(&s, None);
    let setup = "<d:resourcetype/><d:displayname/><d:current-user-principal/><d:current-user-privilege-set/>";
    let a = anon.propfind("/", "0", setup);
    assert_eq!(a.status, 401);
    assert!(a
        .header("WWW-Authenticate")
        .unwrap()
        .starts_with("Basic realm="));
    let dav = Dav::new(&s, KEY);
    let r = dav.propfind("/", "0", setup).responses();
    assert_eq!(r[0].first_status, "HTTP/1.1 200 OK");
    let principal = strip(&r[0].ok["current-user-principal"]);
    let p = dav
        .propfind(&principal, "0", "<card:addressbook-home-set/>")
        .responses();
    assert_eq!(p[0].first_status, "HTTP/1.1 200 OK");
    let home = strip(&p[0].ok["addressbook-home-set"]);
    let listing = dav
        .propfind(
            &home,
            "1",
            "<d:resourcetype/><d:displayname/><d:current-user-privilege-set/>",
        )
        .responses();
    assert!(listing.iter().all(|r| r.first_status == "HTTP/1.1 200 OK"));
    let book = listing
        .iter()
        .find(|r| r.ok["resourcetype"].contains("<addressbook>"))
        .unwrap();
    assert_eq!(book.ok["displayname"], "Contacts");
    assert!(!book.ok["current-user-privilege-set"].contains("write"));
    let book = book.href.clone();
    // fetchAllFromServer: PROPFIND Depth 1, then one multiget of every href, Depth 1.
    let all = dav
        .propfind(&book, "1", "<d:resourcetype/><d:getetag/><cs:getctag/>")
        .responses();
    let cards: Vec<&Resp> = all.iter().filter(|r| r.href != book).collect();
    assert_eq!(cards.len(), 3);
    for c in &cards {
        assert!(c.ok.contains_key("resourcetype") && c.ok.contains_key("getetag"));
        assert_eq!(c.first_status, "HTTP/1.1 200 OK");
    }
    let hrefs: Vec<String> = cards.iter().map(|c| c.href.clone()).collect();
    let got = dav
        .multiget(&book, "1", "<D:getetag/><C:address-data/>", &hrefs)
        .responses();
    assert_eq!(
        got.iter().map(|g| g.href.clone()).collect::<Vec<_>>(),
        hrefs
    );
    for g in &got {
        let card = &g.ok["address-data"];
        let uid = card
            .lines()
            .find_map(|l| l.strip_prefix("UID:"))
            .unwrap()
            .trim();
        assert!(
            g.href.ends_with(&format!("{uid}.vcf")),
            "UID is the card's name"
        );
        assert!(card.contains("VERSION:3.0") && card.contains("\nN:"));
    }
    // Periodic sync: sync-token by PROPFIND, then sync-collection with Depth 1.
    let p = dav
        .propfind(&book, "0", "<d:displayname/><cs:getctag/><d:sync-token/>")
        .responses();
    let token = p[0].ok["sync-token"].clone();
    assert_eq!(p[0].ok["getctag"], token);
    let sync = dav.sync(&book, "1", &token);
    assert_eq!(sync.status, 207);
    assert!(sync.responses().is_empty());
    // A token it should not use any more: Thunderbird refetches after a 400 only (others
    // get the RFC's 403); the body names valid-sync-token either way.
    let stale = format!("{token}0");
    let tb = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
    let body = format!(
        r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{stale}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
    );
    let req = dav
        .agent
        .request("REPORT", &s.url(&book))
        .set("Authorization", &basic("me", KEY))
        .set("Depth", "1")
        .set("User-Agent", tb);
    let a = crate::helpers::send(req, Some(body.as_bytes()));
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("<D:valid-sync-token/>"));
    assert_eq!(dav.sync(&book, "1", &stale).status, 403);
}

#[test]
fn evolution_and_ios_get_what_they_ask_and_404_propstats_for_the_rest() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    let dav = Dav::new(&s, KEY);
    let book = dav.book();
    // Evolution: OPTIONS on the book must list `addressbook` (answered without credentials,
    // as Google does), then a getctag PROPFIND brings the 401.
    let anon = Dav::with_auth(&s, None);
    let o = anon.call("OPTIONS", &book, None, "");
    assert!(o.header("DAV").unwrap().contains("addressbook"));
    let allow = o.header("Allow").unwrap();
    assert!(
        allow.contains("REPORT") && !allow.contains("PUT"),
        "{allow}"
    );
    assert_eq!(anon.propfind(&book, "0", "<cs:getctag/>").status, 401);
    // EDS < 3.61: getetag listing, then multigets of at most 100.
    let etags = dav.etags(&book);
    let hrefs: Vec<String> = etags.keys().cloned().collect();
    let got = dav
        .multiget(&book, "1", "<D:getetag/><C:address-data/>", &hrefs)
        .responses();
    for g in &got {
        assert_eq!(
            g.ok["getetag"], etags[&g.href],
            "multiget and PROPFIND agree on ETags"
        );
    }
    // EDS ≥ 3.61: sync-collection, Depth 0; a token it cannot use → 403 valid-sync-token.
    let first = dav.sync(&book, "0", "");
    let token = token_of(&first.body);
    assert!(token.contains(':'), "a URI, not taken for a ctag");
    let bad = dav.sync(&book, "0", "http://example.com/ns/sync/1");
    assert_eq!(bad.status, 403);
    assert!(bad.body.contains("valid-sync-token"));
    let del = dav.call("DELETE", &hrefs[0], None, "");
    assert_eq!(del.status, 403);
    assert!(del.body.contains("need-privileges"));

    // iOS on the principal and on the home set: what it knows comes first in a 200
    // propstat, the rest in a 404, and nothing fails the request.
    let principal = book
        .replace("/books/", "/principals/")
        .replace("/contacts/", "/");
    let p = dav
        .propfind(
            &principal,
            "0",
            "<d:principal-collection-set/><d:supported-report-set/><d:resource-id/><d:displayname/><cs:email-address-set/><card:addressbook-home-set/><card:directory-gateway/>",
        )
        .responses();
    assert_eq!(p[0].first_status, "HTTP/1.1 200 OK");
    assert!(p[0].ok.contains_key("addressbook-home-set") && p[0].ok.contains_key("displayname"));
    assert!(p[0].missing.contains(&"directory-gateway".to_owned()));
    let home = strip(&p[0].ok["addressbook-home-set"]);
    let h = dav
        .propfind(
            &home,
            "1",
            "<d:add-member/><d:current-user-privilege-set/><d:displayname/><card:max-image-size/><card:max-resource-size/><cs:me-card/><d:owner/><cs:push-transports/><cs:pushkey/><d:quota-available-bytes/><d:quota-used-bytes/><d:resource-id/><d:resourcetype/><d:supported-report-set/><d:sync-token/>",
        )
        .responses();
    assert_eq!(h.len(), 2, "the home set and its one book");
    assert!(h.iter().all(|r| r.first_status == "HTTP/1.1 200 OK"));
    assert!(h[1].ok.contains_key("sync-token") && h[1].missing.contains(&"pushkey".to_owned()));
    let b = dav
        .propfind(&book, "0", "<cs:getctag/><d:sync-token/>")
        .responses();
    assert!(b[0].ok["getctag"].starts_with("urn:"));
    // macOS' directory search: addressbook-query on TEL, the number typed as dialled.
    let q = dav.call(
        "REPORT",
        &book,
        Some("1"),
        r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>
           <C:filter test="anyof"><C:prop-filter name="TEL"><C:text-match match-type="equals">0171 1111111</C:text-match></C:prop-filter>
           <C:prop-filter name="FN"><C:text-match match-type="starts-with">bern</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#,
    );
    let names: BTreeSet<String> = q
        .responses()
        .iter()
        .map(|r| {
            r.ok["address-data"]
                .lines()
                .find_map(|l| l.strip_prefix("FN:"))
                .unwrap()
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["Bernd Meier".to_owned(), "Cleo Wolf".to_owned()])
    );
}

#[test]
fn cards_have_strong_etags_that_change_exactly_when_the_card_does() {
    let s = Server::start(&[]);
    push(&s, KEY, FIRST);
    let dav = Dav::new(&s, KEY);
    let book = dav.book();
    let before = dav.etags(&book);
    let token = dav.propfind(&book, "0", "<d:sync-token/>").responses()[0].ok["sync-token"].clone();
    let (href, etag) = before.iter().next().unwrap();
    let get = dav.call("GET", href, None, "");
    assert_eq!(get.status, 200);
    assert_eq!(get.header("ETag"), Some(etag.as_str()));
    assert!(get
        .header("Content-Type")
        .unwrap()
        .starts_with("text/vcard"));
    assert!(get.body.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"));
    let head = dav.call("HEAD", href, None, "");
    assert_eq!(
        (head.status, head.header("ETag")),
        (200, Some(etag.as_str()))
    );
    assert!(head.body.is_empty());
    let cond = dav
        .agent
        .get(&s.url(href))
        .set("Authorization", &basic("p", KEY))
        .set("If-None-Match", etag)
        .call();
    assert_eq!(
        cond.map(|r| r.status()).unwrap_or_else(|e| match e {
            ureq::Error::Status(c, _) => c,
            _ => 0,
        }),
        304
    );
    // The same file again: no ETag and no token moves.
    push(&s, KEY, FIRST);
    assert_eq!(dav.etags(&book), before);
    let again = dav.propfind(&book, "0", "<d:sync-token/>").responses()[0].ok["sync-token"].clone();
    assert_eq!(again, token);
    // A change: only the changed card's ETag moves.
    push(&s, KEY, &FIRST.replace("+49307654321", "+49307654322"));
    let after = dav.etags(&book);
    let moved: Vec<&String> = after.keys().filter(|h| after[*h] != before[*h]).collect();
    assert_eq!(moved.len(), 1);
    assert!(dav
        .call("GET", moved[0], None, "")
        .body
        .contains("Bernd Meier"));
    // Methods: writes are refused with need-privileges, others are not allowed.
    for m in ["PUT", "DELETE", "PROPPATCH", "MKCOL", "COPY", "MOVE"] {
        let a = dav.call(m, href, None, "");
        assert_eq!(a.status, 403, "{m}");
        assert!(a.body.contains("<D:need-privileges/>"), "{m}: {}", a.body);
    }
    let lock = dav.call("LOCK", href, None, "");
    assert_eq!(lock.status, 405);
    assert_eq!(
        lock.header("Allow"),
        Some("OPTIONS, GET, HEAD, PROPFIND, REPORT")
    );
    assert_eq!(
        dav.call("GET", &format!("{book}0000000000000001.vcf"), None, "")
            .status,
        404
    );
    let bad = dav.call(
        "PROPFIND",
        &book,
        Some("0"),
        "<propfind xmlns=\"DAV:\"><prop>",
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("not well-formed"), "{}", bad.body);
}

#[test]
fn a_multiget_of_every_href_of_a_large_book_in_one_request() {
    let s = Server::start(&[]);
    let n = 5_000;
    let mut csv = String::from("internal_id,display_name,phone\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{i},Person {i:05},WORK:+4930{:07}\n",
            1_000_000 + i
        ));
    }
    push(&s, KEY, &csv);
    let dav = Dav::new(&s, KEY);
    let book = dav.book();
    let hrefs: Vec<String> = dav.etags(&book).into_keys().collect();
    assert_eq!(hrefs.len(), n);
    let a = dav.multiget(&book, "1", "<D:getetag/><C:address-data/>", &hrefs);
    let r = a.responses();
    assert_eq!(r.len(), n);
    assert!(r
        .iter()
        .all(|r| r.first_status == "HTTP/1.1 200 OK" && r.ok.contains_key("address-data")));
    // Bigger than actix's default body limit of 256 KiB, and streamed out in chunks.
    let request_bytes: usize = hrefs.iter().map(|h| h.len() + 17).sum();
    assert!(request_bytes > 256 * 1024, "{request_bytes}");
    assert_eq!(a.header("Transfer-Encoding"), Some("chunked"));
    // But not without bound: a body far beyond what the book could ask for is refused
    // from its declared length, before it is read.
    use std::io::{Read, Write};
    let addr = s.http.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "REPORT {book} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\nContent-Type: application/xml\r\nContent-Length: 50000000\r\n\r\n",
        basic("phone", KEY)
    )
    .unwrap();
    let mut head = [0u8; 64];
    let got = tcp.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..got]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}
