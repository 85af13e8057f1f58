//! Google Contacts over the People API, with the OAuth 2.0 refresh token an administrator
//! obtains once (docs/sources.md).
//!
//! `contacts`: the account's own contacts (`people/me/connections`). `directory`: a Google
//! Workspace domain's directory (`people:listDirectoryPeople`: the domain's profiles and
//! shared contacts). Both page with `nextPageToken` and keep fresh with sync tokens: the
//! state holds the last sync token and the people last seen, an incremental round brings
//! only changes (deleted people come with `metadata.deleted`), and an expired token
//! (`EXPIRED_SYNC_TOKEN`, after 7 days) starts a full round. 429s and 503s are retried by
//! `net::Http` (Retry-After, else exponential backoff).

use super::build::{Builder, Record, RecordRules};
use super::net::{encode_query, origin, path_of, Http};
use super::spec::{GoogleMode, GoogleSpec};
use super::stream::{Pointer, Records};
use super::{Fetched, SyncError};
use crate::domain::{Contact, NumberType};
use crate::ingest::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
const API_URL: &str = "https://people.googleapis.com/v1";
const FIELDS: &str = "names,phoneNumbers,emailAddresses,organizations,metadata";
/// Pages followed at most in one round.
const MAX_PAGES: usize = 10_000;
static CONNECTIONS: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/connections"));
static PEOPLE: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/people"));
static NEXT_PAGE: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/nextPageToken"));
static NEXT_SYNC: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/nextSyncToken"));

#[derive(Default, Serialize, Deserialize)]
struct State {
    sync_token: String,
    /// resourceName → the person as last seen.
    people: BTreeMap<String, Value>,
}

struct Session<'a> {
    http: &'a Http,
    spec: &'a GoogleSpec,
    api: String,
    token: Option<String>,
}

enum RoundError {
    /// The sync token expired: start over with a full round.
    Expired,
    Other(SyncError),
}

impl From<SyncError> for RoundError {
    fn from(e: SyncError) -> Self {
        RoundError::Other(e)
    }
}

pub fn fetch(
    http: &Http,
    spec: &GoogleSpec,
    state: Option<&str>,
    rules: &RecordRules,
) -> Result<Fetched, SyncError> {
    let mut s = Session {
        http,
        spec,
        api: spec
            .api_url
            .as_deref()
            .unwrap_or(API_URL)
            .trim_end_matches('/')
            .to_owned(),
        token: None,
    };
    let old = state.and_then(|s| serde_json::from_str::<State>(s).ok());
    let (mut people, since) = match old {
        Some(o) if !o.sync_token.is_empty() => (o.people, Some(o.sync_token)),
        _ => (BTreeMap::new(), None),
    };
    let round = match s.round(since.as_deref(), &mut people, rules) {
        Err(RoundError::Expired) if since.is_some() => {
            tracing::info!("google sync token expired; starting a full round");
            people.clear();
            s.round(None, &mut people, rules)
        }
        other => other,
    };
    let sync_token = match round {
        Ok(t) => t,
        Err(RoundError::Expired) => {
            return Err(SyncError::new(
                "Google refused even a full sync as expired (EXPIRED_SYNC_TOKEN); the next sync tries again",
            ))
        }
        Err(RoundError::Other(e)) => return Err(e),
    };
    let mut b = Builder::default();
    let contacts: Vec<Contact> = people
        .values()
        .filter_map(|p| b.build(record(p), rules))
        .collect();
    b.log("google", contacts.len());
    let state = serde_json::to_string(&State { sync_token, people }).ok();
    Ok(Fetched::Contacts {
        contacts,
        state,
        warnings: b.warnings,
    })
}

impl Session<'_> {
    /// One round of pages from `since` (None: everything); applies what it reads to
    /// `people`; answers the next sync token.
    fn round(
        &mut self,
        since: Option<&str>,
        people: &mut BTreeMap<String, Value>,
        rules: &RecordRules,
    ) -> Result<String, RoundError> {
        let (path, records, fields_param, extra) = match self.spec.mode {
            GoogleMode::Contacts => ("people/me/connections", &*CONNECTIONS, "personFields", ""),
            GoogleMode::Directory => (
                "people:listDirectoryPeople",
                &*PEOPLE,
                "readMask",
                "&sources=DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE&sources=DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT",
            ),
        };
        let first = format!(
            "{}/{path}?{fields_param}={}&pageSize=1000&requestSyncToken=true{extra}{}",
            self.api,
            encode_query(FIELDS),
            since
                .map(|t| format!("&syncToken={}", encode_query(t)))
                .unwrap_or_default()
        );
        let mut url = first.clone();
        let mut seen_tokens = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = self.page(&url, records, &mut |p| {
                let Some(name) = p.get("resourceName").and_then(Value::as_str) else {
                    return Ok(());
                };
                let deleted = p.pointer("/metadata/deleted") == Some(&Value::Bool(true));
                if deleted {
                    people.remove(name);
                } else {
                    people.insert(name.to_owned(), kept(&p));
                    rules.room_for(people.len())?;
                }
                Ok(())
            })?;
            match page.get(&NEXT_PAGE).and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !seen_tokens.insert(next.to_owned()) {
                        return Err(SyncError::new(
                            "Google answered a page token it had answered before; the sync stopped so it cannot run in a circle",
                        )
                        .into());
                    }
                    url = format!("{first}&pageToken={}", encode_query(next));
                }
                _ => {
                    return Ok(page
                        .get(&NEXT_SYNC)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned())
                }
            }
        }
        Err(SyncError::new(format!("Google's listing has more than {MAX_PAGES} pages")).into())
    }

    /// One page; its people go to `each` as they are read. Answers the paging values.
    fn page(
        &mut self,
        url: &str,
        records: &Pointer,
        each: &mut dyn FnMut(Value) -> Result<(), String>,
    ) -> Result<std::collections::HashMap<Pointer, Value>, RoundError> {
        for fresh in [false, true] {
            let auth = format!("Bearer {}", self.token(fresh)?);
            let reply = self.http.send_json(
                url,
                &[("Authorization", &auth), ("Accept", "application/json")],
                Records::At(records),
                &[NEXT_PAGE.clone(), NEXT_SYNC.clone()],
                each,
            )?;
            let status = reply.status;
            if (200..300).contains(&status) {
                return Ok(reply.kept.values);
            }
            let err = &reply.error;
            let text = err.to_string();
            let message = err
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            match status {
                // An expired access token: one new token, one more try.
                401 if !fresh => {
                    self.token = None;
                    continue;
                }
                _ if text.contains("EXPIRED_SYNC_TOKEN") || status == 410 => {
                    return Err(RoundError::Expired)
                }
                401 => {
                    return Err(SyncError::new(format!(
                        "Google refused a freshly issued access token (HTTP 401: {message})"
                    ))
                    .into())
                }
                403 if text.contains("SERVICE_DISABLED") || text.contains("has not been used") => {
                    return Err(SyncError::new(format!(
                        "the People API is not enabled in the Google Cloud project of this OAuth client; enable it there (APIs & Services → Library → People API) and sync again ({message})"
                    ))
                    .into())
                }
                403 if text.contains("RATE_LIMIT") || text.contains("QUOTA") || text.contains("quota") => {
                    return Err(SyncError::new(format!(
                        "Google's quota for this project is used up (HTTP 403: {message}); the next sync tries again"
                    ))
                    .into())
                }
                403 => {
                    let scope = match self.spec.mode {
                        GoogleMode::Contacts => "https://www.googleapis.com/auth/contacts.readonly",
                        GoogleMode::Directory => "https://www.googleapis.com/auth/directory.readonly",
                    };
                    return Err(SyncError::new(format!(
                        "Google denied access (HTTP 403: {message}); the refresh token must be obtained with the scope {scope}{}",
                        if self.spec.mode == GoogleMode::Directory {
                            ", by a user of a Google Workspace domain whose directory sharing is on"
                        } else {
                            ""
                        }
                    ))
                    .into());
                }
                s => {
                    return Err(SyncError::new(format!(
                        "Google answered HTTP {s} for {}: {message}",
                        path_of(url)
                    ))
                    .into())
                }
            }
        }
        Err(SyncError::new("Google refused a freshly issued access token").into())
    }

    /// An access token from the refresh token (asked again when `renew`).
    fn token(&mut self, renew: bool) -> Result<String, SyncError> {
        if let (false, Some(t)) = (renew, &self.token) {
            return Ok(t.clone());
        }
        let url = self.spec.token_url.as_deref().unwrap_or(TOKEN_URL);
        let form = format!(
            "client_id={}&client_secret={}&refresh_token={}&grant_type=refresh_token",
            encode_query(&self.spec.client_id),
            encode_query(&self.spec.client_secret),
            encode_query(&self.spec.refresh_token)
        );
        let reply = self.http.send(
            "POST",
            url,
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Accept", "application/json"),
            ],
            Some(form.as_bytes()),
        )?;
        let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let token = body.get("access_token").and_then(Value::as_str);
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        // Google's descriptions name the problem and never echo a secret.
        let why = body
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or(error);
        match (reply.status, token) {
            (200, Some(t)) => {
                self.token = Some(t.to_owned());
                Ok(t.to_owned())
            }
            (_, _) if error == "invalid_grant" => Err(SyncError::new(format!(
                "Google no longer accepts the refresh token (invalid_grant: {why}): the consent was revoked, the password changed, or the token expired (tokens of an OAuth app in \"Testing\" status expire after 7 days). Obtain a new refresh token as docs/sources.md shows and send it as `refresh_token`"
            ))),
            (_, _) if error == "invalid_client" || error == "unauthorized_client" => {
                Err(SyncError::new(format!(
                    "Google does not accept this OAuth client ({error}: {why}); check client_id and client_secret, and that the refresh token was issued to this client"
                )))
            }
            (status, _) => Err(SyncError::new(format!(
                "{} refused the token request (HTTP {status}{}{})",
                origin(url),
                if why.is_empty() { "" } else { ": " },
                why
            ))),
        }
    }
}

/// The parts of a person a record is built from: what the state keeps between syncs
/// (Google's answers carry metadata and etags for every field besides).
fn kept(p: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "resourceName",
        "names",
        "phoneNumbers",
        "emailAddresses",
        "organizations",
    ] {
        if let Some(v) = p.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

/// The entry of a list marked primary (`metadata.primary`), else the first.
fn primary(p: &Value, field: &str) -> Option<Value> {
    let list = p.get(field)?.as_array()?;
    list.iter()
        .find(|e| e.pointer("/metadata/primary") == Some(&Value::Bool(true)))
        .or_else(|| list.first())
        .cloned()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// A person of the People API as a record.
fn record(p: &Value) -> Record {
    let mut r = Record::new("resourceName", text(p, "resourceName"));
    if let Some(n) = primary(p, "names") {
        r.text(Role::DisplayName, "names", text(&n, "displayName"))
            .text(Role::GivenName, "names", text(&n, "givenName"))
            .text(Role::MiddleName, "names", text(&n, "middleName"))
            .text(Role::FamilyName, "names", text(&n, "familyName"));
    }
    if let Some(o) = primary(p, "organizations") {
        r.text(Role::Company, "organizations", text(&o, "name"))
            .text(Role::Department, "organizations", text(&o, "department"))
            .text(Role::Position, "organizations", text(&o, "title"));
    }
    if let Some(e) = primary(p, "emailAddresses") {
        r.text(Role::Email, "emailAddresses", text(&e, "value"));
    }
    let phones = p.get("phoneNumbers").and_then(Value::as_array);
    for n in phones.into_iter().flatten() {
        // canonicalForm is E.164 where Google could read the number; else what was typed.
        let value = match text(n, "canonicalForm") {
            "" => text(n, "value"),
            c => c,
        };
        r.number(phone_type(text(n, "type")), "phoneNumbers", value);
    }
    r
}

/// The People API's phone types (`mobile`, `workFax`, …) and custom labels.
fn phone_type(t: &str) -> NumberType {
    match t {
        "mobile" | "workMobile" => NumberType::Mobile,
        "work" | "main" => NumberType::Work,
        "home" => NumberType::Home,
        "homeFax" | "workFax" | "otherFax" => NumberType::Fax,
        "pager" | "workPager" => NumberType::Pager,
        "" | "other" | "googleVoice" => NumberType::Other,
        custom => super::vcard::label_kind(custom).unwrap_or(NumberType::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_person_becomes_a_record() {
        let p = json!({
            "resourceName": "people/c7", "etag": "%Eg",
            "names": [{"metadata": {"primary": false}, "displayName": "Old"},
                      {"metadata": {"primary": true}, "displayName": "Anna Schmidt",
                       "givenName": "Anna", "familyName": "Schmidt"}],
            "organizations": [{"name": "ACME", "department": "Sales", "title": "Lead"}],
            "phoneNumbers": [
                {"value": "030 1234567", "canonicalForm": "+49301234567", "type": "work"},
                {"value": "0171 555", "type": "mobile"},
                {"value": "+49 30 99", "type": "workFax"},
                {"value": "+49 30 98", "type": "Büro"}
            ]
        });
        let r = record(&p);
        assert_eq!(r.id, "people/c7");
        assert_eq!(r.first(Role::DisplayName), Some("Anna Schmidt"));
        assert_eq!(r.first(Role::Department), Some("Sales"));
        let kinds: Vec<NumberType> = r.numbers().iter().map(|n| n.0).collect();
        assert_eq!(
            kinds,
            vec![
                NumberType::Work,
                NumberType::Mobile,
                NumberType::Fax,
                NumberType::Work
            ]
        );
        assert_eq!(r.numbers()[0].2, "+49301234567");
    }
}
