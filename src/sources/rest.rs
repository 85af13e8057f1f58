//! JSON APIs (PBXs, CRMs): GET the URL, take the records at a JSON pointer, map fields by
//! name or pointer, follow a next-page link. The `easyconnect` preset fills the mapping for
//! innovaphone's EasyConnect.

use super::build::RecordRules;
use super::build::{Builder, Record};
use super::net::{basic_auth, encode_query, origin, same_origin, Http};
use super::spec::{RestAuth, RestSpec};
use super::stream::{Kept, Pointer, Records};
use super::{Fetched, SyncError};
use crate::domain::NumberType;
use crate::ingest::Role;
use serde_json::Value;

/// Pages followed at most; a server that links in a circle must not hold a sync forever.
const MAX_PAGES: usize = 10_000;

/// Top-level keys that hold the records when the settings name none.
const GUESS: &[&str] = &["value", "items", "data", "contacts", "records", "results"];

pub fn fetch(http: &Http, spec: &RestSpec, rules: &RecordRules) -> Result<Fetched, SyncError> {
    let mut url = with_apikey(spec, &spec.url);
    let mut contacts = Vec::new();
    let mut b = Builder::default();
    let mut seen = std::collections::HashSet::new();
    let records_at = Pointer::parse(&spec.records);
    let next_at = Pointer::parse(&spec.next);
    let keep = if spec.next.is_empty() {
        Vec::new()
    } else {
        vec![next_at.clone()]
    };
    for _ in 0..MAX_PAGES {
        if !seen.insert(url.clone()) {
            return Err(SyncError::new(format!(
                "{} links back to a page already read; check the `next` pointer",
                origin(&spec.url)
            )));
        }
        let records = if spec.records.is_empty() {
            Records::Guess(GUESS)
        } else {
            Records::At(&records_at)
        };
        let kept = get_json(http, spec, &url, records, &keep, &mut |r| {
            if let Some(c) = b.build(record(&r, spec), rules) {
                rules.room_for(contacts.len() + 1)?;
                contacts.push(c);
            }
            Ok(())
        })?;
        if !kept.found_records {
            return Err(SyncError::new(format!(
                "the answer of {} has no array of records{}",
                origin(&spec.url),
                if spec.records.is_empty() {
                    String::new()
                } else {
                    format!(" at `{}`", spec.records)
                }
            )));
        }
        let next = kept
            .values
            .get(&next_at)
            .and_then(Value::as_str)
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
                b.log("rest", contacts.len());
                return Ok(Fetched::Contacts {
                    contacts,
                    state: None,
                    warnings: b.warnings,
                });
            }
        }
    }
    Err(SyncError::new(format!(
        "{} has more than {MAX_PAGES} pages",
        origin(&spec.url)
    )))
}

fn get_json(
    http: &Http,
    spec: &RestSpec,
    url: &str,
    records: Records,
    keep: &[Pointer],
    each: &mut dyn FnMut(Value) -> Result<(), String>,
) -> Result<Kept, SyncError> {
    let auth = match spec.auth {
        RestAuth::Bearer => Some(format!("Bearer {}", spec.secret)),
        RestAuth::Basic => Some(basic_auth(&spec.username, &spec.secret)),
        RestAuth::None | RestAuth::Apikey => None,
    };
    let mut headers = vec![("Accept", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let reply = http.send_json(url, &headers, records, keep, each)?;
    match reply.status {
        200..=299 => Ok(reply.kept),
        401 | 403 => Err(SyncError::new(format!(
            "{} refused the credentials (HTTP {}); check the key or password in the source settings",
            origin(url),
            reply.status
        ))),
        s => Err(SyncError::new(format!("{} answered HTTP {s}", origin(url)))),
    }
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

fn record(r: &Value, spec: &RestSpec) -> Record {
    let f = &spec.fields;
    let mut rec = Record::new(&f.id, &field(r, &f.id));
    for (role, name) in [
        (Role::DisplayName, &f.display_name),
        (Role::GivenName, &f.given_name),
        (Role::FamilyName, &f.family_name),
        (Role::Company, &f.company),
        (Role::Email, &f.email),
    ] {
        rec.text(role, name, &field(r, name));
    }
    // In the type order phones show (work first), whatever order the mapping names them in.
    for kind in NumberType::ALL {
        let fields = f
            .numbers
            .iter()
            .filter(|(t, _)| NumberType::from_alias(t) == Some(kind))
            .flat_map(|(_, fields)| fields);
        for name in fields {
            for v in values(r, name) {
                rec.number(kind, name, &v);
            }
        }
    }
    rec
}
