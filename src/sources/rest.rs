//! JSON APIs (PBXs, CRMs): GET the URL, take the records at a JSON pointer, map fields by
//! name or pointer, follow a next-page link. The `easyconnect` preset fills the mapping for
//! innovaphone's EasyConnect.

use super::build::{build, Raw, Tally};
use super::net::{basic_auth, encode_query, origin, same_origin, Http};
use super::spec::{RestAuth, RestSpec};
use super::{Fetched, SyncError};
use crate::domain::NumberType;
use crate::phone::NumberRules;
use serde_json::Value;

/// Pages followed at most; a server that links in a circle must not hold a sync forever.
const MAX_PAGES: usize = 10_000;

pub fn fetch(http: &Http, spec: &RestSpec, rules: &NumberRules) -> Result<Fetched, SyncError> {
    let mut url = with_apikey(spec, &spec.url);
    let mut contacts = Vec::new();
    let mut tally = Tally::default();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        if !seen.insert(url.clone()) {
            return Err(SyncError::new(format!(
                "{} links back to a page already read; check the `next` pointer",
                origin(&spec.url)
            )));
        }
        let page = get_json(http, spec, &url)?;
        let records = records(&page, &spec.records).ok_or_else(|| {
            SyncError::new(format!(
                "the answer of {} has no array of records{}",
                origin(&spec.url),
                if spec.records.is_empty() {
                    String::new()
                } else {
                    format!(" at `{}`", spec.records)
                }
            ))
        })?;
        for r in records {
            if let Some(c) = build(raw(r, spec), rules, &mut tally) {
                contacts.push(c);
            }
        }
        let next = (!spec.next.is_empty())
            .then(|| page.pointer(&spec.next).and_then(Value::as_str))
            .flatten()
            .filter(|s| !s.is_empty());
        match next {
            Some(n) => {
                let next = resolve(&url, n);
                // The credentials go to the configured host only; a link elsewhere would
                // carry them to whoever wrote it into the answer.
                if spec.auth != RestAuth::None && !same_origin(&next, &spec.url) {
                    return Err(SyncError::new(format!(
                        "the next-page link of {} points to {}, another host; phonedir sends the source's credentials only to {}, so the sync stopped and nothing was changed",
                        origin(&spec.url),
                        origin(&next),
                        origin(&spec.url)
                    )));
                }
                url = with_apikey(spec, &next)
            }
            None => {
                tracing::info!(
                    contacts = contacts.len(),
                    left_out = tally.no_name_or_number,
                    bad_numbers = tally.bad_numbers,
                    "rest sync"
                );
                return Ok(Fetched::Contacts {
                    contacts,
                    state: None,
                });
            }
        }
    }
    Err(SyncError::new(format!(
        "{} has more than {MAX_PAGES} pages",
        origin(&spec.url)
    )))
}

fn get_json(http: &Http, spec: &RestSpec, url: &str) -> Result<Value, SyncError> {
    let auth = match spec.auth {
        RestAuth::Bearer => Some(format!("Bearer {}", spec.secret)),
        RestAuth::Basic => Some(basic_auth(&spec.username, &spec.secret)),
        RestAuth::None | RestAuth::Apikey => None,
    };
    let mut headers = vec![("Accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let reply = http.send("GET", url, &headers, None)?;
    match reply.status {
        200..=299 => {}
        401 | 403 => {
            return Err(SyncError::new(format!(
                "{} refused the credentials (HTTP {}); check the key or password in the source settings",
                origin(url),
                reply.status
            )))
        }
        s => {
            return Err(SyncError::new(format!(
                "{} answered HTTP {s}",
                origin(url)
            )))
        }
    }
    serde_json::from_str(&reply.body)
        .map_err(|e| SyncError::new(format!("the answer of {} is not JSON: {e}", origin(url))))
}

fn with_apikey(spec: &RestSpec, url: &str) -> String {
    if spec.auth != RestAuth::Apikey {
        return url.to_owned();
    }
    let param = format!("{}=", spec.apikey_param);
    if url.contains(&format!("?{param}")) || url.contains(&format!("&{param}")) {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}{}={}",
        encode_query(&spec.apikey_param),
        encode_query(&spec.secret)
    )
}

/// A next link may be absolute, host-relative (`/x?page=2`) or a bare query (`?page=2`).
fn resolve(base: &str, next: &str) -> String {
    if next.starts_with("http://") || next.starts_with("https://") {
        next.to_owned()
    } else if next.starts_with('/') {
        format!("{}{next}", origin(base))
    } else if next.starts_with('?') {
        format!("{}{next}", base.split('?').next().unwrap_or(base))
    } else {
        next.to_owned()
    }
}

fn records<'a>(page: &'a Value, pointer: &str) -> Option<&'a Vec<Value>> {
    if !pointer.is_empty() {
        return page.pointer(pointer)?.as_array();
    }
    match page {
        Value::Array(a) => Some(a),
        Value::Object(m) => ["value", "items", "data", "contacts", "records", "results"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_array)),
        _ => None,
    }
}

/// A field by key or JSON pointer, as text; arrays give their first element.
fn field(r: &Value, f: &str) -> String {
    values(r, f).into_iter().next().unwrap_or_default()
}

fn values(r: &Value, f: &str) -> Vec<String> {
    if f.is_empty() {
        return Vec::new();
    }
    let v = if f.starts_with('/') {
        r.pointer(f)
    } else {
        r.get(f)
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(scalar).collect(),
        Some(v) => scalar(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn raw(r: &Value, spec: &RestSpec) -> Raw {
    let f = &spec.fields;
    let mut numbers = Vec::new();
    // In the type order phones show (work first), whatever order the mapping names them in.
    for kind in NumberType::ALL {
        let fields = f
            .numbers
            .iter()
            .filter(|(t, _)| NumberType::from_alias(t) == Some(kind))
            .flat_map(|(_, fields)| fields);
        for name in fields {
            for v in values(r, name) {
                numbers.push((kind, v));
            }
        }
    }
    Raw {
        id: field(r, &f.id),
        display_name: field(r, &f.display_name),
        given_name: field(r, &f.given_name),
        family_name: field(r, &f.family_name),
        company: field(r, &f.company),
        email: field(r, &f.email),
        numbers,
        ..Default::default()
    }
}
