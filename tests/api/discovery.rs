//! CardDAV discovery as users give URLs: the server's base URL of a real Radicale, and
//! fakes of iCloud's and Nextcloud's discovery shapes (principal and address book home on
//! other paths, several books, `/.well-known/carddav` redirects within the host), serving
//! vCards as iPhones, old phones, Outlook and DAVx5 write them. What a card loses is a
//! warning in the source's status.

use crate::fake::{Fake, Reply, Request};
use crate::helpers::{csv_rows, Server, KEY, LOCAL_SOURCES};
use crate::radicale::{Radicale, PASSWORD, USER};
use crate::sources::{api, create_directory};
use serde_json::json;
use std::collections::BTreeMap;

const APPLE_ID: &str = "anna@icloud.example";
const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// An iPhone's card (iOS 17): labels in item groups, a free-text label, a fax by TYPE.
const IPHONE: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.4.1//EN\r\n\
N:Schmidt;Anna;Maria;;\r\nFN:Anna Maria Schmidt\r\nORG:ACME GmbH;Vertrieb;\r\nTITLE:Teamleiterin\r\n\
item1.EMAIL;type=INTERNET;type=pref:anna@acme.example\r\nitem1.X-ABLabel:_$!<Work>!$_\r\n\
item2.TEL;type=pref:+49 171 5550001\r\nitem2.X-ABLabel:_$!<Mobile>!$_\r\n\
item3.TEL:+49 30 5550002\r\nitem3.X-ABLabel:Büro\r\n\
TEL;type=WORK;type=FAX:+49 30 5550099\r\nCATEGORIES:Kunden\r\n\
REV:2024-03-01T10:00:00Z\r\nUID:5E0A1C3B-7A4F-4F0E-9C55-1B8C0E6D2A11\r\nEND:VCARD\r\n";

/// An old phone's vCard 2.1: quoted-printable in ISO-8859-1, bare types.
const OLD_PHONE: &str = "BEGIN:VCARD\r\nVERSION:2.1\r\n\
N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Wei=DF;J=FCrgen\r\n\
FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=FCrgen Wei=DF\r\n\
TEL;WORK;VOICE:+49 2364 8873040\r\nTEL;CELL:0171 2222222\r\nUID:jw-21\r\nEND:VCARD\r\n";

/// DAVx5's vCard 4: tel: URIs, an extension, no FN.
const DAVX5: &str = "BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:+//IDN bitfire.at//ez-vcard 0.12.1\r\n\
UID:urn:uuid:3f1c5e52-1b1e-4f3c-9a2e-0d6f1c2b7e90\r\nN:Meier;Bernd;;;\r\n\
TEL;VALUE=uri;TYPE=\"work,voice\":tel:+49-89-555-0100;ext=42\r\n\
TEL;VALUE=uri;TYPE=cell:tel:+49-151-55501010\r\nEND:VCARD\r\n";

/// A card with a number nobody can dial, and one without any name.
const BROKEN: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:cleo-4\r\nFN:Cleo Reception\r\n\
TEL;TYPE=HOME:ask at the front desk\r\nTEL;TYPE=WORK:+49 30 5550300\r\nEND:VCARD\r\n";
const NAMELESS: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:nameless-5\r\n\
TEL;TYPE=WORK:+49 30 5550500\r\nEND:VCARD\r\n";

fn basic(user: &str, pw: &str) -> String {
    use std::fmt::Write;
    let raw = format!("{user}:{pw}");
    // Small base64 for the fake's check.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            let _ = write!(
                out,
                "{}",
                if i <= chunk.len() {
                    T[((n >> (18 - 6 * i)) & 63) as usize] as char
                } else {
                    '='
                }
            );
        }
    }
    out
}

/// A WebDAV server's layout: what a PROPFIND on each path answers, and the cards of each
/// address book. Built from the shapes the vendors answer with.
struct Layout {
    /// Path → (Depth 0 response, Depth 1 extra responses).
    props: BTreeMap<String, (String, Vec<String>)>,
    /// Path → redirect target.
    redirects: BTreeMap<String, String>,
    /// Book path → (file, vCard).
    books: BTreeMap<String, Vec<(String, String)>>,
    /// Paths where PROPFIND is not allowed (a web UI).
    not_allowed: Vec<String>,
    auth: String,
    /// The multistatus opening tag (namespace prefixes differ by vendor).
    open: &'static str,
    close: &'static str,
}

impl Layout {
    fn serve(&self, req: &Request) -> Reply {
        if req.header("authorization") != Some(self.auth.as_str()) {
            return Reply {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), "Basic realm=\"fake\"".into())],
                body: String::new(),
            };
        }
        let path = req.path().to_owned();
        if let Some(to) = self.redirects.get(&path) {
            return Reply {
                status: 301,
                headers: vec![("Location".into(), to.clone())],
                body: String::new(),
            };
        }
        if self.not_allowed.contains(&path) {
            return Reply {
                status: 405,
                headers: vec![],
                body: "<html>Method not allowed</html>".into(),
            };
        }
        let xml = |body: String| Reply {
            status: 207,
            headers: vec![(
                "Content-Type".into(),
                "application/xml; charset=utf-8".into(),
            )],
            body: format!("<?xml version=\"1.0\"?>\n{}{body}{}", self.open, self.close),
        };
        match req.method.as_str() {
            "PROPFIND" => {
                if let Some(cards) = self.books.get(&path) {
                    if req.header("depth") == Some("1") && req.body.contains("getetag") {
                        let mut out = self.props[&path].0.clone();
                        for (file, card) in cards {
                            out.push_str(&format!(
                                "<d:response><d:href>{path}{file}</d:href><d:propstat><d:prop><d:resourcetype/><d:getetag>\"{}\"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
                                card.len()
                            ));
                        }
                        return xml(out);
                    }
                }
                match self.props.get(&path) {
                    Some((me, children)) => {
                        let mut out = me.clone();
                        if req.header("depth") == Some("1") {
                            out.extend(children.iter().cloned());
                        }
                        xml(out)
                    }
                    None => Reply {
                        status: 404,
                        headers: vec![],
                        body: String::new(),
                    },
                }
            }
            "REPORT" => {
                let cards = &self.books[&path];
                let mut out = String::new();
                for href in req.body.split("<d:href>").skip(1) {
                    let href = href.split("</d:href>").next().unwrap();
                    let file = href.rsplit('/').next().unwrap();
                    let (_, card) = cards.iter().find(|(f, _)| f == file).unwrap();
                    out.push_str(&format!(
                        "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:getetag>\"{}\"</d:getetag><card:address-data>{}</card:address-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
                        card.len(),
                        card.replace('&', "&amp;").replace('<', "&lt;")
                    ));
                }
                xml(out)
            }
            _ => Reply {
                status: 405,
                headers: vec![],
                body: String::new(),
            },
        }
    }
}

/// One `response` with 200 props, and a 404 propstat for what the resource does not have
/// (as Sabre and iCloud answer unknown properties).
fn response(href: &str, props: &str) -> String {
    format!(
        "<d:response><d:href>{href}</d:href><d:propstat><d:prop>{props}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><card:addressbook-home-set/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>"
    )
}

fn book_response(href: &str, name: &str) -> String {
    response(
        href,
        &format!(
            "<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>{name}</d:displayname>"
        ),
    )
}

/// iCloud's shape: the base URL answers the principal on another path; the principal's
/// home set is an absolute URL (iCloud's lives on a `pNN-contacts` host; here the same
/// host, with its port spelled out as iCloud spells `:443`); one book, `card`.
fn icloud(cards: Vec<(String, String)>) -> Fake {
    Fake::start(move |req| {
        let base = format!("http://{}", req.header("host").unwrap());
        let principal = "/1234567890/principal/";
        let home = "/1234567890/carddavhome/";
        let book = "/1234567890/carddavhome/card/";
        let mut props = BTreeMap::new();
        props.insert(
            "/".to_owned(),
            (
                response(
                    "/",
                    &format!("<d:resourcetype><d:collection/></d:resourcetype><d:current-user-principal><d:href>{principal}</d:href></d:current-user-principal>"),
                ),
                vec![],
            ),
        );
        props.insert(
            principal.to_owned(),
            (
                response(
                    principal,
                    &format!("<d:resourcetype><d:principal/></d:resourcetype><card:addressbook-home-set><d:href>{base}{home}</d:href></card:addressbook-home-set>"),
                ),
                vec![],
            ),
        );
        props.insert(
            home.to_owned(),
            (
                response(home, "<d:resourcetype><d:collection/></d:resourcetype>"),
                vec![book_response(book, "card")],
            ),
        );
        props.insert(book.to_owned(), (book_response(book, "card"), vec![]));
        let mut books = BTreeMap::new();
        books.insert(book.to_owned(), cards.clone());
        let mut redirects = BTreeMap::new();
        redirects.insert("/.well-known/carddav".to_owned(), "/".to_owned());
        Layout {
            props,
            redirects,
            books,
            not_allowed: vec![],
            auth: basic(APPLE_ID, APP_PASSWORD),
            open: "<d:multistatus xmlns:d=\"DAV:\" xmlns:card=\"urn:ietf:params:xml:ns:carddav\">",
            close: "</d:multistatus>",
        }
        .serve(req)
    })
}

/// Nextcloud's shape: `/` is the web UI, `/.well-known/carddav` redirects to
/// `/remote.php/dav/`, the home set holds the user's books and "Recently contacted".
fn nextcloud() -> Fake {
    Fake::start(move |req| {
        let dav = "/remote.php/dav/";
        let principal = "/remote.php/dav/principals/users/anna/";
        let home = "/remote.php/dav/addressbooks/users/anna/";
        let contacts = "/remote.php/dav/addressbooks/users/anna/contacts/";
        let firma = "/remote.php/dav/addressbooks/users/anna/firma/";
        let recent =
            "/remote.php/dav/addressbooks/users/anna/z-app-generated--contactsinteraction--recent/";
        let mut props = BTreeMap::new();
        let with_principal = |href: &str| {
            response(
                href,
                &format!("<d:resourcetype><d:collection/></d:resourcetype><d:current-user-principal><d:href>{principal}</d:href></d:current-user-principal>"),
            )
        };
        props.insert(dav.to_owned(), (with_principal(dav), vec![]));
        props.insert(
            principal.to_owned(),
            (
                response(
                    principal,
                    &format!("<d:resourcetype><d:principal/></d:resourcetype><card:addressbook-home-set><d:href>{home}</d:href></card:addressbook-home-set>"),
                ),
                vec![],
            ),
        );
        props.insert(
            home.to_owned(),
            (
                with_principal(home),
                vec![
                    book_response(contacts, "Contacts"),
                    book_response(firma, "Firma"),
                    book_response(recent, "Recently contacted"),
                ],
            ),
        );
        for b in [contacts, firma, recent] {
            props.insert(b.to_owned(), (book_response(b, "x"), vec![]));
        }
        let mut books = BTreeMap::new();
        books.insert(contacts.to_owned(), vec![]);
        books.insert(
            firma.to_owned(),
            vec![("bernd.vcf".to_owned(), DAVX5.to_owned())],
        );
        books.insert(recent.to_owned(), vec![]);
        let mut redirects = BTreeMap::new();
        redirects.insert("/.well-known/carddav".to_owned(), dav.to_owned());
        Layout {
            props,
            redirects,
            books,
            not_allowed: vec!["/".to_owned()],
            auth: basic("anna", "nc-app-password"),
            open: "<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" xmlns:card=\"urn:ietf:params:xml:ns:carddav\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">",
            close: "</d:multistatus>",
        }
        .serve(req)
    })
}

fn book(s: &Server) -> Vec<(String, String)> {
    csv_rows(&s.get(&format!("/contacts/{KEY}")).body)
}

fn row(name: &str, phones: &str) -> (String, String) {
    (name.to_owned(), phones.to_owned())
}

#[test]
fn icloud_from_its_base_url_with_cards_as_phones_write_them_and_warnings_in_the_status() {
    let cards = [
        ("5E0A1C3B.vcf", IPHONE),
        ("jw-21.vcf", OLD_PHONE),
        ("bernd.vcf", DAVX5),
        ("cleo.vcf", BROKEN),
        ("nameless.vcf", NAMELESS),
    ]
    .iter()
    .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
    .collect();
    let fake = icloud(cards);
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let settings = json!({"kind": "carddav", "url": fake.base, "username": APPLE_ID,
                          "password": "wrong", "interval_s": 0, "region": "DE"});
    let r = api(&s, "PUT", "/sources/icloud", Some(&settings.to_string()));
    assert_eq!(r.status, 201, "{}", r.body);

    // A wrong (not app-specific) password: a sentence that says what to check.
    let r = api(&s, "POST", "/sources/icloud/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("HTTP 401") && err.contains("app-specific password"),
        "{err}"
    );

    let mut right = settings.clone();
    right["password"] = APP_PASSWORD.into();
    let r = api(&s, "PUT", "/sources/icloud", Some(&right.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let failed = fake.requests().len();
    let r = api(&s, "POST", "/sources/icloud/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 4, "{}", r.body);
    assert_eq!(
        book(&s),
        vec![
            // The preferred number first, as the card says.
            row(
                "Anna Maria Schmidt",
                "MOBILE:+491715550001;WORK:+49305550002;FAX:+49305550099"
            ),
            row("Bernd Meier", "WORK:+49895550100;MOBILE:+4915155501010"),
            row("Cleo Reception", "WORK:+49305550300"),
            row("Jürgen Weiß", "WORK:+4923648873040;MOBILE:+491712222222"),
        ]
    );
    // What phones see as a vCard keeps the card's group, company and department.
    let v = s.get(&format!("/contacts/{KEY}/vcard")).body;
    assert!(v.contains("CATEGORIES:Kunden"), "{v}");
    assert!(v.contains("ORG:ACME GmbH;Vertrieb"), "{v}");

    // The discovery went from / over the principal to the home set, then to the book.
    let reqs = fake.requests();
    let propfinds: Vec<String> = reqs[failed..]
        .iter()
        .filter(|r| r.method == "PROPFIND")
        .map(|r| format!("{} {}", r.path(), r.header("depth").unwrap_or("")))
        .collect();
    assert_eq!(
        &propfinds[..4],
        [
            "/ 0",
            "/1234567890/principal/ 0",
            "/1234567890/carddavhome/ 1",
            "/1234567890/carddavhome/card/ 1"
        ],
        "{propfinds:?}"
    );

    // Nothing dropped silently: each lost part is a warning with record, field, value.
    let st = api(&s, "GET", "/sources/icloud", None).json();
    let w = &st["status"]["warnings"];
    assert_eq!(w["count"], 3, "{w}");
    let first = w["first"].as_array().unwrap();
    let find = |record: &str| {
        first
            .iter()
            .find(|x| x["record"] == record)
            .unwrap_or_else(|| panic!("no warning for {record}: {w}"))
    };
    let ext = find("urn:uuid:3f1c5e52-1b1e-4f3c-9a2e-0d6f1c2b7e90");
    assert_eq!(ext["field"], "TEL");
    assert!(
        ext["message"].as_str().unwrap().contains("extension 42"),
        "{ext}"
    );
    let bad = find("cleo-4");
    assert_eq!(bad["value"], "ask at the front desk");
    let nameless = find("nameless-5");
    assert!(
        nameless["message"].as_str().unwrap().contains("no name"),
        "{nameless}"
    );
    // The directory's status shows them too.
    let dir = api(&s, "GET", "", None).json();
    assert_eq!(dir["sources"][0]["warnings"]["count"], 3, "{dir}");
    // And the admin overview, under the source's light.
    let mut b = crate::admin::Browser::http(&s);
    assert_eq!(b.sign_in(KEY).status, 303);
    let page = b.get("/admin").body;
    assert!(page.contains("3 warning(s)"), "{page}");
    assert!(page.contains("ask at the front desk"), "{page}");

    // The next sync goes straight to the book found: no discovery again.
    let before = fake.requests().len();
    let r = api(&s, "POST", "/sources/icloud/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let again: Vec<String> = fake.requests()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        again,
        ["PROPFIND /1234567890/carddavhome/card/"],
        "{again:?}"
    );
    // The warnings of unchanged cards stay.
    let st = api(&s, "GET", "/sources/icloud", None).json();
    assert_eq!(st["status"]["warnings"]["count"], 3);
}

#[test]
fn nextcloud_from_its_base_url_lists_the_books_to_choose_from() {
    let fake = nextcloud();
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    let settings = json!({"kind": "carddav", "url": format!("{}/", fake.base),
                          "username": "anna", "password": "nc-app-password", "interval_s": 0});
    assert_eq!(
        api(&s, "PUT", "/sources/nc", Some(&settings.to_string())).status,
        201
    );
    let r = api(&s, "POST", "/sources/nc/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    for needle in [
        "\"Contacts\" (/remote.php/dav/addressbooks/users/anna/contacts/)",
        "\"Firma\"",
        "\"Recently contacted\"",
        "\"book\"",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // The well-known redirect was followed with the method and the password kept.
    let wk: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/remote.php/dav/")
        .collect();
    assert_eq!(wk.len(), 1);
    assert_eq!(wk[0].method, "PROPFIND");

    let mut chosen = settings.clone();
    chosen["book"] = "firma".into();
    let r = api(&s, "PUT", "/sources/nc", Some(&chosen.to_string()));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(&s, "POST", "/sources/nc/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        book(&s),
        vec![row(
            "Bernd Meier",
            "WORK:+49895550100;MOBILE:+4915155501010"
        )]
    );
    // A name that is not there names the ones that are.
    chosen["book"] = "Kunden".into();
    api(&s, "PUT", "/sources/nc", Some(&chosen.to_string()));
    let r = api(&s, "POST", "/sources/nc/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("\"Kunden\"") && err.contains("\"Firma\""),
        "{err}"
    );
    assert_eq!(book(&s).len(), 1, "the last good contacts stay");
}

#[test]
fn a_url_that_leads_to_no_address_book_says_what_was_tried() {
    // A web server that knows no WebDAV at all.
    let web = Fake::start(|_| Reply {
        status: 404,
        headers: vec![],
        body: "<html>not found</html>".into(),
    });
    // And one that sends the password elsewhere: redirects to another host.
    let other = Fake::start_on("127.0.0.2:0", |_| Reply {
        status: 207,
        headers: vec![],
        body: String::new(),
    });
    let to = other.base.clone();
    let away = Fake::start(move |_| Reply {
        status: 301,
        headers: vec![("Location".into(), format!("{to}/dav/"))],
        body: String::new(),
    });
    // And one whose answer names a book on another host.
    let to = other.base.clone();
    let listed = Fake::start(move |_| {
        Reply {
        status: 207,
        headers: vec![],
        body: format!(
            "<d:multistatus xmlns:d=\"DAV:\" xmlns:card=\"urn:ietf:params:xml:ns:carddav\">{}</d:multistatus>",
            book_response(&format!("{to}/book/"), "Elsewhere")
        ),
    }
    });
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    for (name, url, needles) in [
        (
            "web",
            format!("{}/contacts", web.base),
            vec![
                "found no address book",
                "/contacts (HTTP 404)",
                "/.well-known/carddav (HTTP 404)",
            ],
        ),
        (
            "away",
            format!("{}/", away.base),
            vec!["another host", "127.0.0.2", "password only"],
        ),
        (
            "listed",
            format!("{}/", listed.base),
            vec!["another host", "127.0.0.2"],
        ),
    ] {
        let settings = json!({"kind": "carddav", "url": url, "username": "u",
                              "password": "p", "interval_s": 0});
        let r = api(
            &s,
            "PUT",
            &format!("/sources/{name}"),
            Some(&settings.to_string()),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let r = api(&s, "POST", &format!("/sources/{name}/sync"), None);
        assert_eq!(r.status, 502, "{name}: {}", r.body);
        let err = r.json()["error"].as_str().unwrap().to_owned();
        for n in needles {
            assert!(err.contains(n), "{name}: {n}: {err}");
        }
    }
    assert!(
        other.requests().is_empty(),
        "no request, no password, went to the other host"
    );
}

#[test]
fn radicale_from_its_base_url_and_with_two_books() {
    let dav = Radicale::start();
    dav.addressbook("company");
    dav.put_card("company", "anna.vcf", IPHONE);
    let s = Server::start(LOCAL_SOURCES);
    create_directory(&s);
    // The base URL, as a user knows it: the principal, the home set, the one book.
    let settings = json!({"kind": "carddav", "url": dav.base, "username": USER,
                          "password": PASSWORD, "interval_s": 0});
    assert_eq!(
        api(&s, "PUT", "/sources/dav", Some(&settings.to_string())).status,
        201
    );
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["contacts"], 1);
    assert_eq!(book(&s)[0].0, "Anna Maria Schmidt");

    // A second book: the base URL no longer says which; the error lists both.
    let second = dav.addressbook("private");
    dav.put_card(
        "private",
        "jw.vcf",
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jw-3\r\nFN:Jürgen Weiß\r\nN:Weiß;Jürgen;;;\r\n\
         TEL;TYPE=WORK:+49 2364 8873040\r\nEND:VCARD\r\n",
    );
    let r = api(&s, "PUT", "/sources/dav", Some(&settings.to_string()));
    assert_eq!(r.status, 200);
    let r = api(&s, "POST", "/sources/dav/sync", None);
    assert_eq!(r.status, 502, "{}", r.body);
    let err = r.json()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("/anna/company/") && err.contains("/anna/private/"),
        "{err}"
    );
    // The path chooses, as the book's own URL does.
    for choice in [json!({"book": "/anna/private/"}), json!({"url": second})] {
        let mut c = settings.clone();
        for (k, v) in choice.as_object().unwrap() {
            c[k] = v.clone();
        }
        assert_eq!(
            api(&s, "PUT", "/sources/dav", Some(&c.to_string())).status,
            200
        );
        let r = api(&s, "POST", "/sources/dav/sync", None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(book(&s), vec![row("Jürgen Weiß", "WORK:+4923648873040")]);
    }
}
