//! CardDAV (RFC 6352) as clients do it: the `url` may be the address book itself, the
//! server's base URL (what iCloud and Nextcloud users know) or anything in between. The
//! book is found as DAVx5, Thunderbird and vdirsyncer find it: PROPFIND on the URL for
//! `current-user-principal` and `addressbook-home-set`, else `/.well-known/carddav`
//! (RFC 6764), else `/`; the principal's home set lists the address books. Redirects are
//! followed here, keeping method and credentials, but only within the configured host (and
//! its sibling hosts under one parent domain, where iCloud keeps an account's data); the
//! found book is kept in the state, so later syncs go straight to it.
//!
//! A sync lists the book's cards with their ETags (PROPFIND Depth 1) and fetches only new
//! or changed cards (`addressbook-multiget`). The state keeps each card's ETag, contact and
//! warnings, so an unchanged book costs one request.

use super::build::{build, Builder, RecordRules};
use super::net::{basic_auth, origin, path_of, unescape_hex, Http, Reply};
use super::spec::CarddavSpec;
use super::xml::{self, XmlError};
use super::{Fetched, SyncError};
use crate::domain::{Contact, RecordWarning};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAV: &str = "DAV:";
const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// Cards per multiget request.
const BATCH: usize = 200;
/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 5;
/// Home sets and address books looked at in one discovery.
const MAX_HOMES: usize = 8;

#[derive(Default, Serialize, Deserialize)]
struct State {
    /// The address book found from the settings' URL; empty before the first discovery.
    #[serde(default)]
    book: String,
    cards: BTreeMap<String, Card>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Card {
    etag: String,
    /// None when the card has no name or no usable number.
    contact: Option<Contact>,
    /// What the card lost, kept for as long as the card is unchanged.
    #[serde(default)]
    warnings: Vec<RecordWarning>,
}

pub fn fetch(
    http: &Http,
    spec: &CarddavSpec,
    state: Option<&str>,
    rules: &RecordRules,
) -> Result<Fetched, SyncError> {
    let old: Option<State> = state.and_then(|s| serde_json::from_str(s).ok());
    let dav = Dav {
        http: http.manual_redirects(),
        auth: basic_auth(&spec.username, &spec.password),
        configured: spec.url.clone(),
    };
    let known = old
        .as_ref()
        .map(|o| o.book.clone())
        .filter(|b| !b.is_empty());
    let (book, listing) = match known {
        Some(book) => match dav.listing(&book) {
            // The book moved or went away: find it again from the settings.
            Err(Listing::Gone(_)) => {
                let book = discover(&dav, spec)?;
                let l = dav.listing(&book).map_err(Listing::into_error)?;
                (book, l)
            }
            other => (book, other.map_err(Listing::into_error)?),
        },
        None => {
            let book = discover(&dav, spec)?;
            let l = dav.listing(&book).map_err(Listing::into_error)?;
            (book, l)
        }
    };
    rules.room_for(listing.len()).map_err(SyncError::new)?;
    let same_book = old.as_ref().is_some_and(|o| o.book == book);
    let old_cards = old.filter(|_| same_book).map(|o| o.cards);

    let mut cards: BTreeMap<String, Card> = BTreeMap::new();
    let mut wanted = Vec::new();
    for (href, etag) in &listing {
        match old_cards.as_ref().and_then(|o| o.get(&norm(href))) {
            Some(c) if !etag.is_empty() && &c.etag == etag => {
                cards.insert(norm(href), c.clone());
            }
            _ => wanted.push(href.clone()),
        }
    }
    let unchanged = old_cards
        .as_ref()
        .is_some_and(|o| wanted.is_empty() && o.len() == listing.len());
    if unchanged {
        return Ok(Fetched::Unchanged);
    }
    for batch in wanted.chunks(BATCH) {
        for (href, etag, vcard) in dav.multiget(&book, batch)? {
            let fallback = href.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            let (contact, warnings) = match super::vcard::parse_one(&vcard, &norm(fallback)) {
                Some(record) => build(record, rules, 0),
                None => (
                    None,
                    vec![RecordWarning {
                        record: norm(fallback),
                        field: "address-data".into(),
                        value: crate::ingest::field::excerpt(&vcard),
                        message: "the server delivered no vCard for this card (no BEGIN:VCARD … END:VCARD); it was left out".into(),
                    }],
                ),
            };
            cards.insert(
                norm(&href),
                Card {
                    etag,
                    contact,
                    warnings,
                },
            );
        }
    }
    if let Some(missing) = wanted.iter().find(|h| !cards.contains_key(&norm(h))) {
        // A card listed but not delivered: a partial answer must not shrink the book.
        return Err(SyncError::new(format!(
            "the server listed {missing} but did not deliver it; nothing was changed"
        )));
    }
    let mut b = Builder::default();
    for c in cards.values() {
        b.keep(&c.warnings);
    }
    tracing::info!(
        cards = cards.len(),
        fetched = wanted.len(),
        "carddav listing"
    );
    let contacts: Vec<Contact> = cards.values().filter_map(|c| c.contact.clone()).collect();
    b.log("carddav", contacts.len());
    let state = serde_json::to_string(&State { book, cards }).ok();
    Ok(Fetched::Contacts {
        contacts,
        state,
        warnings: b.warnings,
    })
}

/// A WebDAV client for one source: credentials, and the URL they were configured for.
struct Dav {
    http: Http,
    auth: String,
    configured: String,
}

/// Why a listing failed: the book is gone (find it again) or anything else.
enum Listing {
    Gone(SyncError),
    Failed(SyncError),
}

impl Listing {
    fn into_error(self) -> SyncError {
        match self {
            Listing::Gone(e) | Listing::Failed(e) => e,
        }
    }
}

impl From<SyncError> for Listing {
    fn from(e: SyncError) -> Self {
        Listing::Failed(e)
    }
}

/// What a PROPFIND says about one resource.
#[derive(Debug, Default)]
struct Resource {
    /// Absolute URL.
    url: String,
    is_book: bool,
    name: String,
    principal: Option<String>,
    homes: Vec<String>,
}

const DISCOVER: &[u8] = br#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:resourcetype/><d:displayname/><d:current-user-principal/><c:addressbook-home-set/></d:prop></d:propfind>"#;

impl Dav {
    /// Sends a request, following redirects within the configured site with the method,
    /// headers and credentials kept (Thunderbird's and DAVx5's way); answers the URL that
    /// answered and its reply.
    fn send(
        &self,
        method: &str,
        url: &str,
        depth: &str,
        body: &[u8],
    ) -> Result<(String, Reply), SyncError> {
        let mut url = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let reply = self.http.send(
                method,
                &url,
                &[
                    ("Authorization", &self.auth),
                    ("Depth", depth),
                    ("Content-Type", "application/xml; charset=utf-8"),
                ],
                Some(body),
            )?;
            if !matches!(reply.status, 301 | 302 | 303 | 307 | 308) {
                return Ok((url, reply));
            }
            let Some(next) = reply.header("location").and_then(|l| join(&url, l)) else {
                return Ok((url, reply));
            };
            if !may_follow(&self.configured, &next) {
                return Err(SyncError::new(format!(
                    "{} redirects to {}, another host; phonedir sends the password only to the host of the configured URL, so it stopped. If that is where the address book lives, put {} in the settings",
                    origin(&url),
                    origin(&next),
                    next
                )));
            }
            url = next;
        }
        Err(SyncError::new(format!(
            "{} redirects more than {MAX_REDIRECTS} times in a row; check the URL",
            origin(&url)
        )))
    }

    /// PROPFIND for discovery: (the URL that answered, its status, the resources).
    fn props(&self, url: &str, depth: &str) -> Result<(String, u16, Vec<Resource>), SyncError> {
        let (at, reply) = self.send("PROPFIND", url, depth, DISCOVER)?;
        if reply.status == 401 {
            return Err(credentials_refused(&at));
        }
        if reply.status != 207 {
            return Ok((at, reply.status, Vec::new()));
        }
        let found = resources(&at, &reply.body).map_err(|e| not_multistatus(&at, &e))?;
        Ok((at, 207, found))
    }

    /// (href, etag) of every vCard in the book.
    fn listing(&self, book: &str) -> Result<Vec<(String, String)>, Listing> {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>"#;
        let (at, reply) = self.send("PROPFIND", book, "1", body)?;
        match reply.status {
            207 => listing(&reply.body).map_err(|e| Listing::Failed(not_multistatus(&at, &e))),
            404 | 410 => Err(Listing::Gone(SyncError::new(format!(
                "the address book {} is gone (HTTP {})",
                path_of(&at),
                reply.status
            )))),
            s => Err(Listing::Failed(status_error(
                s,
                "listing the address book (PROPFIND)",
                &at,
            ))),
        }
    }

    /// (href, etag, vCard text) of the asked cards.
    fn multiget(
        &self,
        book: &str,
        hrefs: &[String],
    ) -> Result<Vec<(String, String, String)>, SyncError> {
        let mut body = String::from(
            r#"<?xml version="1.0" encoding="utf-8"?>
<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav">
<d:prop><d:getetag/><c:address-data/></d:prop>"#,
        );
        for h in hrefs {
            body.push_str("<d:href>");
            body.push_str(&xml_escape(h));
            body.push_str("</d:href>");
        }
        body.push_str("</c:addressbook-multiget>");
        let (at, reply) = self.send("REPORT", book, "0", body.as_bytes())?;
        if !(200..300).contains(&reply.status) {
            return Err(status_error(
                reply.status,
                "fetching cards (addressbook-multiget)",
                &at,
            ));
        }
        cards(&reply.body).map_err(|e| not_multistatus(&at, &e))
    }
}

/// The address book the settings lead to, found as clients find it; an error that says
/// what was tried and found when there is none or several to choose from.
fn discover(dav: &Dav, spec: &CarddavSpec) -> Result<String, SyncError> {
    let mut tried: Vec<String> = Vec::new();
    let mut principal = None;
    let mut homes: Vec<String> = Vec::new();
    let start = spec.url.clone();
    let base = origin(&start);
    let mut seen = std::collections::HashSet::new();
    for url in [
        start.clone(),
        format!("{base}/.well-known/carddav"),
        format!("{base}/"),
    ] {
        if !seen.insert(url.trim_end_matches('/').to_owned()) {
            continue;
        }
        let (at, status, found) = dav.props(&url, "0")?;
        let Some(me) = found.into_iter().next() else {
            tried.push(format!("{} (HTTP {status})", path_of(&url)));
            continue;
        };
        if me.is_book {
            check_site(&spec.url, &me.url)?;
            return Ok(me.url);
        }
        homes.extend(me.homes.iter().cloned());
        principal = principal.or(me.principal.clone());
        if !me.homes.is_empty() || me.principal.is_some() {
            break;
        }
        tried.push(format!("{} (no principal, no address book)", path_of(&at)));
    }
    if homes.is_empty() {
        let Some(p) = &principal else {
            return Err(SyncError::new(format!(
                "found no address book on {base}: tried {}; give the address book's URL, or the server's base URL if it supports CardDAV discovery",
                tried.join(", ")
            )));
        };
        check_site(&spec.url, p)?;
        let (_, status, found) = dav.props(p, "0")?;
        homes = found
            .into_iter()
            .next()
            .map(|r| r.homes)
            .unwrap_or_default();
        if homes.is_empty() {
            return Err(SyncError::new(format!(
                "the account's principal {} names no address book home (addressbook-home-set, HTTP {status}); this server may not offer CardDAV for this account",
                path_of(p)
            )));
        }
    }
    let mut books: Vec<Resource> = Vec::new();
    homes.dedup();
    for home in homes.iter().take(MAX_HOMES) {
        check_site(&spec.url, home)?;
        let (_, status, found) = dav.props(home, "1")?;
        if status != 207 {
            tried.push(format!("{} (HTTP {status})", path_of(home)));
        }
        for book in found.into_iter().filter(|r| r.is_book) {
            // A listed book on another host would take the password there.
            check_site(&spec.url, &book.url)?;
            books.push(book);
        }
    }
    choose(books, spec.book.as_deref(), &homes)
}

/// The book named by `book` (display name or path), or the only one there is.
fn choose(books: Vec<Resource>, book: Option<&str>, homes: &[String]) -> Result<String, SyncError> {
    let list = |books: &[Resource]| {
        books
            .iter()
            .map(|b| {
                if b.name.is_empty() {
                    path_of(&b.url)
                } else {
                    format!("\"{}\" ({})", b.name, path_of(&b.url))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if books.is_empty() {
        return Err(SyncError::new(format!(
            "the account's address book home {} holds no address book; create one, or check the account",
            homes.iter().map(|h| path_of(h)).collect::<Vec<_>>().join(", ")
        )));
    }
    if let Some(wanted) = book.map(str::trim) {
        let trimmed = wanted.trim_matches('/');
        let hit = books.iter().find(|b| {
            b.name.eq_ignore_ascii_case(wanted)
                || path_of(&b.url).trim_matches('/') == trimmed
                || path_of(&b.url).trim_matches('/').rsplit('/').next() == Some(trimmed)
        });
        return match hit {
            Some(b) => Ok(b.url.clone()),
            None => Err(SyncError::new(format!(
                "no address book is called \"{wanted}\"; the account has {}. Set \"book\" to one of these names or paths",
                list(&books)
            ))),
        };
    }
    // Nextcloud adds books of its own to every account ("Recently contacted", the system
    // address book); they are a choice, not the default.
    let own: Vec<&Resource> = books
        .iter()
        .filter(|b| {
            !path_of(&b.url).split('/').any(|s| {
                s.starts_with("z-app-generated--") || s.starts_with("z-server-generated--")
            })
        })
        .collect();
    match (own.as_slice(), books.as_slice()) {
        ([one], _) => Ok(one.url.clone()),
        ([], [one]) => Ok(one.url.clone()),
        _ => Err(SyncError::new(format!(
            "the account has {} address books: {}. Set \"book\" in the source settings to the name or path of the one to sync",
            books.len(),
            list(&books)
        ))),
    }
}

/// Whether credentials for `configured` may go to `next`: the same host, or a sibling under
/// the same parent domain (iCloud answers `contacts.icloud.com` with the account's data on
/// `p42-contacts.icloud.com`); never from https down to http.
fn may_follow(configured: &str, next: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(configured), url::Url::parse(next)) else {
        return false;
    };
    if a.scheme() == "https" && b.scheme() != "https" {
        return false;
    }
    if !matches!(b.scheme(), "http" | "https") {
        return false;
    }
    match (a.host(), b.host()) {
        (Some(url::Host::Domain(x)), Some(url::Host::Domain(y))) => {
            let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
            if x == y {
                return true;
            }
            let parent = |h: &str| h.split_once('.').map(|(_, p)| p.to_owned());
            let px = parent(&x);
            // A parent of at least two labels (`icloud.com`, not `com`).
            px.is_some_and(|p| p.contains('.') && parent(&y).as_deref() == Some(p.as_str()))
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn check_site(configured: &str, url: &str) -> Result<(), SyncError> {
    if may_follow(configured, url) {
        Ok(())
    } else {
        Err(SyncError::new(format!(
            "the server points to {} for the address books, another host than {}; phonedir sends the password only to the configured host, so it stopped. If that host is right, put its URL in the settings",
            origin(url),
            origin(configured)
        )))
    }
}

/// `href` (a path or a URL) against the URL it came from.
fn join(base: &str, href: &str) -> Option<String> {
    url::Url::parse(base)
        .ok()?
        .join(href.trim())
        .ok()
        .map(String::from)
}

fn credentials_refused(url: &str) -> SyncError {
    SyncError::new(format!(
        "{} refused the username or password (HTTP 401); check them in the source settings (iCloud needs an app-specific password, Nextcloud with two-factor login an app password)",
        origin(url)
    ))
}

fn status_error(status: u16, what: &str, url: &str) -> SyncError {
    match status {
        401 => credentials_refused(url),
        403 => SyncError::new(format!(
            "{} denies this account access to {} (HTTP 403); check that the account may read this address book",
            origin(url),
            path_of(url)
        )),
        s => SyncError::new(format!(
            "{what} of {} on {} failed with HTTP {s}",
            path_of(url),
            origin(url)
        )),
    }
}

/// The `response` elements of a multistatus that name an href, with it.
fn responses<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
) -> impl Iterator<Item = (roxmltree::Node<'a, 'i>, String)> {
    doc.descendants()
        .filter(|n| n.has_tag_name((DAV, "response")))
        .filter_map(|r| child_text(r, DAV, "href").map(|h| (r, h)))
}

/// Every `response` of a PROPFIND answer as a resource, hrefs made absolute against `at`.
fn resources(at: &str, body: &str) -> Result<Vec<Resource>, XmlError> {
    let doc = xml::parse(body)?;
    let mut out = Vec::new();
    for (resp, href) in responses(&doc) {
        let Some(url) = join(at, &href) else {
            continue;
        };
        let mut r = Resource {
            url,
            ..Default::default()
        };
        for p in ok_props(resp) {
            if let Some(t) = p.children().find(|n| n.has_tag_name((DAV, "resourcetype"))) {
                r.is_book |= t
                    .children()
                    .any(|n| n.has_tag_name((CARDDAV, "addressbook")));
            }
            if let Some(n) = child_text(p, DAV, "displayname") {
                r.name = n;
            }
            let hrefs_of = |ns: &str, name: &str| -> Vec<String> {
                p.children()
                    .filter(|n| n.has_tag_name((ns, name)))
                    .flat_map(|n| n.children().filter(|h| h.has_tag_name((DAV, "href"))))
                    .filter_map(|h| join(at, h.text().unwrap_or("")))
                    .collect()
            };
            if let Some(pr) = hrefs_of(DAV, "current-user-principal").into_iter().next() {
                r.principal = Some(pr);
            }
            r.homes.extend(hrefs_of(CARDDAV, "addressbook-home-set"));
        }
        out.push(r);
    }
    Ok(out)
}

/// (href, etag) of every non-collection response of a PROPFIND answer.
pub fn listing(body: &str) -> Result<Vec<(String, String)>, XmlError> {
    let doc = xml::parse(body)?;
    let mut out = Vec::new();
    for (resp, href) in responses(&doc) {
        let is_collection = resp
            .descendants()
            .any(|n| n.has_tag_name((DAV, "collection")));
        if is_collection {
            continue;
        }
        let etag = ok_props(resp)
            .find_map(|p| child_text(p, DAV, "getetag"))
            .unwrap_or_default();
        out.push((href, etag));
    }
    Ok(out)
}

/// (href, etag, vCard text) of every card an `addressbook-multiget` answer delivers.
pub fn cards(body: &str) -> Result<Vec<(String, String, String)>, XmlError> {
    let doc = xml::parse(body)?;
    let mut out = Vec::new();
    for (resp, href) in responses(&doc) {
        let mut etag = String::new();
        let mut data = None;
        for p in ok_props(resp) {
            if let Some(e) = child_text(p, DAV, "getetag") {
                etag = e;
            }
            if let Some(d) = p
                .children()
                .find(|n| n.has_tag_name((CARDDAV, "address-data")))
            {
                data = Some(d.descendants().filter_map(|t| t.text()).collect::<String>());
            }
        }
        if let Some(d) = data {
            out.push((href, etag, d));
        }
    }
    Ok(out)
}

fn not_multistatus(url: &str, e: &XmlError) -> SyncError {
    SyncError::new(format!(
        "{} answered something that is not a WebDAV multistatus ({e})",
        origin(url)
    ))
}

/// The `prop` elements of a response's propstats with a 2xx status.
fn ok_props<'a, 'i>(
    resp: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    resp.children()
        .filter(|n| n.has_tag_name((DAV, "propstat")))
        .filter(|ps| {
            child_text(*ps, DAV, "status")
                .is_none_or(|s| s.split(' ').nth(1).is_some_and(|c| c.starts_with('2')))
        })
        .filter_map(|ps| ps.children().find(|n| n.has_tag_name((DAV, "prop"))))
}

fn child_text(node: roxmltree::Node, ns: &str, name: &str) -> Option<String> {
    node.children()
        .find(|n| n.has_tag_name((ns, name)))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
}

/// One spelling of an href: servers may answer a path where they listed a full URL, or
/// percent-encode differently between PROPFIND and REPORT.
fn norm(href: &str) -> String {
    let path = match href.find("://") {
        Some(i) => href[i + 3..].find('/').map_or("/", |j| &href[i + 3 + j..]),
        None => href,
    };
    let out = unescape_hex(path, b'%');
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_compare_by_path_and_decoded() {
        assert_eq!(norm("/ab/J%C3%BCrgen%20W.vcf"), "/ab/Jürgen W.vcf");
        assert_eq!(norm("https://dav.example:8443/ab/x.vcf"), "/ab/x.vcf");
        assert_eq!(norm("/ab/100%.vcf"), "/ab/100%.vcf");
    }

    #[test]
    fn credentials_follow_only_within_the_site() {
        let c = "https://contacts.icloud.com";
        assert!(may_follow(c, "https://contacts.icloud.com/123/principal/"));
        assert!(may_follow(
            c,
            "https://p42-contacts.icloud.com:443/123/carddavhome/"
        ));
        assert!(!may_follow(c, "http://p42-contacts.icloud.com/123/"));
        assert!(!may_follow(c, "https://evil.example/"));
        assert!(!may_follow(c, "https://icloud.com.evil.example/"));
        assert!(!may_follow(
            "https://example.com/dav",
            "https://other.com/dav"
        ));
        assert!(may_follow(
            "http://127.0.0.1:5232/",
            "http://127.0.0.1:5232/anna/"
        ));
        assert!(!may_follow(
            "http://127.0.0.1:5232/",
            "http://127.0.0.2:5232/anna/"
        ));
        assert!(may_follow("http://dav.example/", "https://dav.example/"));
    }
}
