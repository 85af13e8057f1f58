//! CardDAV (RFC 6352): PROPFIND Depth 1 lists the address book's cards with their ETags;
//! only new or changed cards are fetched, by `addressbook-multiget`. The state keeps each
//! card's ETag and contact, so an unchanged book costs one request.

use super::build::RecordRules;
use super::build::{build, Tally};
use super::net::{basic_auth, origin, Http};
use super::spec::CarddavSpec;
use super::xml::{self, XmlError};
use super::{Fetched, SyncError};
use crate::domain::Contact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAV: &str = "DAV:";
const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// Cards per multiget request.
const BATCH: usize = 200;

#[derive(Default, Serialize, Deserialize)]
struct State {
    cards: BTreeMap<String, Card>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Card {
    etag: String,
    /// None when the card has no name or no usable number.
    contact: Option<Contact>,
}

pub fn fetch(
    http: &Http,
    spec: &CarddavSpec,
    state: Option<&str>,
    rules: &RecordRules,
) -> Result<Fetched, SyncError> {
    let old: Option<State> = state.and_then(|s| serde_json::from_str(s).ok());
    let auth = basic_auth(&spec.username, &spec.password);
    let listing = propfind(http, spec, &auth)?;

    let mut cards: BTreeMap<String, Card> = BTreeMap::new();
    let mut wanted = Vec::new();
    for (href, etag) in &listing {
        match old.as_ref().and_then(|o| o.cards.get(&norm(href))) {
            Some(c) if !etag.is_empty() && &c.etag == etag => {
                cards.insert(norm(href), c.clone());
            }
            _ => wanted.push(href.clone()),
        }
    }
    let unchanged = old
        .as_ref()
        .is_some_and(|o| wanted.is_empty() && o.cards.len() == listing.len());
    if unchanged {
        return Ok(Fetched::Unchanged);
    }
    let mut tally = Tally::default();
    for batch in wanted.chunks(BATCH) {
        for (href, etag, vcard) in multiget(http, spec, &auth, batch)? {
            let contact = super::vcard::parse(&vcard)
                .into_iter()
                .next()
                .and_then(|raw| build(raw, rules, &mut tally));
            cards.insert(norm(&href), Card { etag, contact });
        }
    }
    if let Some(missing) = wanted.iter().find(|h| !cards.contains_key(&norm(h))) {
        // A card listed but not delivered: a partial answer must not shrink the book.
        return Err(SyncError::new(format!(
            "the server listed {missing} but did not deliver it; nothing was changed"
        )));
    }
    tracing::info!(
        cards = cards.len(),
        fetched = wanted.len(),
        "carddav listing"
    );
    tally.log("carddav", cards.len());
    let contacts = cards.values().filter_map(|c| c.contact.clone()).collect();
    let state = serde_json::to_string(&State { cards }).ok();
    Ok(Fetched::Contacts { contacts, state })
}

fn check(status: u16, what: &str, url: &str) -> Result<(), SyncError> {
    match status {
        200..=299 => Ok(()),
        401 => Err(SyncError::new(format!(
            "{} refused the username or password (HTTP 401); check them in the source settings",
            origin(url)
        ))),
        403 => Err(SyncError::new(format!(
            "{} denies this account access to the address book (HTTP 403)",
            origin(url)
        ))),
        404 => Err(SyncError::new(format!(
            "no address book at this URL on {} (HTTP 404); give the URL of the address book collection",
            origin(url)
        ))),
        s => Err(SyncError::new(format!(
            "{what} on {} failed with HTTP {s}",
            origin(url)
        ))),
    }
}

/// (href, etag) of every vCard in the collection.
fn propfind(
    http: &Http,
    spec: &CarddavSpec,
    auth: &str,
) -> Result<Vec<(String, String)>, SyncError> {
    let body = br#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>"#;
    let reply = http.send(
        "PROPFIND",
        &spec.url,
        &[
            ("Authorization", auth),
            ("Depth", "1"),
            ("Content-Type", "application/xml; charset=utf-8"),
        ],
        Some(body),
    )?;
    check(
        reply.status,
        "listing the address book (PROPFIND)",
        &spec.url,
    )?;
    listing(&reply.body).map_err(|e| not_multistatus(&spec.url, &e))
}

/// (href, etag) of every non-collection response of a PROPFIND answer.
pub fn listing(body: &str) -> Result<Vec<(String, String)>, XmlError> {
    let doc = xml::parse(body)?;
    let mut out = Vec::new();
    for resp in doc
        .descendants()
        .filter(|n| n.has_tag_name((DAV, "response")))
    {
        let Some(href) = child_text(resp, DAV, "href") else {
            continue;
        };
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

/// (href, etag, vCard text) of the asked cards.
fn multiget(
    http: &Http,
    spec: &CarddavSpec,
    auth: &str,
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
    let reply = http.send(
        "REPORT",
        &spec.url,
        &[
            ("Authorization", auth),
            ("Depth", "0"),
            ("Content-Type", "application/xml; charset=utf-8"),
        ],
        Some(body.as_bytes()),
    )?;
    check(
        reply.status,
        "fetching cards (addressbook-multiget)",
        &spec.url,
    )?;
    cards(&reply.body).map_err(|e| not_multistatus(&spec.url, &e))
}

/// (href, etag, vCard text) of every card an `addressbook-multiget` answer delivers.
pub fn cards(body: &str) -> Result<Vec<(String, String, String)>, XmlError> {
    let doc = xml::parse(body)?;
    let mut out = Vec::new();
    for resp in doc
        .descendants()
        .filter(|n| n.has_tag_name((DAV, "response")))
    {
        let Some(href) = child_text(resp, DAV, "href") else {
            continue;
        };
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
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
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
}
