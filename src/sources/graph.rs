//! Microsoft 365 through Microsoft Graph, with an app registration's client credentials.
//!
//! `users`: the organization's enabled users, kept fresh by `/users/delta` rounds (the
//! state holds the delta link and the users last seen; a lost delta state starts a full
//! round). `contacts`: every user's mailbox contacts, one mailbox after the other.
//! `org_contacts`: the organizational contacts (`/contacts`).

use super::build::RecordRules;
use super::build::{Builder, Record};
use super::net::{encode_query, origin, path_of, same_origin, Http};
use super::spec::{GraphMode, GraphSpec};
use super::stream::{Pointer, Records};
use super::{Fetched, SyncError};
use crate::domain::{Contact, NumberType};
use crate::ingest::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

const GRAPH: &str = "https://graph.microsoft.com/v1.0";
const USER_FIELDS: &str =
    "id,displayName,givenName,surname,mail,businessPhones,mobilePhone,jobTitle,department,companyName,accountEnabled";
const CONTACT_FIELDS: &str =
    "id,displayName,givenName,surname,companyName,department,jobTitle,businessPhones,homePhones,mobilePhone,emailAddresses";
const ORG_CONTACT_FIELDS: &str =
    "id,displayName,givenName,surname,companyName,department,jobTitle,mail,phones";
/// Pages followed at most in one listing.
const MAX_PAGES: usize = 100_000;
static VALUE: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/value"));
static NEXT_LINK: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/@odata.nextLink"));
static DELTA_LINK: LazyLock<Pointer> = LazyLock::new(|| Pointer::parse("/@odata.deltaLink"));
/// A cached token is renewed this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

#[derive(Default, Serialize, Deserialize)]
struct DeltaState {
    delta_link: String,
    /// User id → the user's selected fields as last seen.
    users: BTreeMap<String, Map<String, Value>>,
}

struct Session<'a> {
    http: &'a Http,
    spec: &'a GraphSpec,
    graph: String,
    token: Option<String>,
}

pub fn fetch(
    http: &Http,
    spec: &GraphSpec,
    state: Option<&str>,
    rules: &RecordRules,
) -> Result<Fetched, SyncError> {
    let mut s = Session {
        http,
        spec,
        graph: spec
            .graph_url
            .clone()
            .unwrap_or_else(|| GRAPH.to_owned())
            .trim_end_matches('/')
            .to_owned(),
        token: None,
    };
    let mut b = Builder::default();
    let (contacts, state) = match spec.mode {
        GraphMode::Users => {
            let old = state.and_then(|s| serde_json::from_str::<DeltaState>(s).ok());
            let st = users_delta(&mut s, old, rules)?;
            let contacts = st
                .users
                .values()
                .filter(|u| u.get("accountEnabled") != Some(&Value::Bool(false)))
                .filter_map(|u| b.build(user_record(u), rules))
                .collect();
            (contacts, serde_json::to_string(&st).ok())
        }
        GraphMode::Contacts => (mailbox_contacts(&mut s, rules, &mut b)?, None),
        GraphMode::OrgContacts => {
            let url = format!("{}/contacts?$select={ORG_CONTACT_FIELDS}&$top=999", s.graph);
            let mut out = Vec::new();
            s.pages(&url, "OrgContact.Read.All", &mut |c| {
                if let Some(c) = b.build(org_contact_record(&c), rules) {
                    rules.room_for(out.len() + 1)?;
                    out.push(c);
                }
                Ok(())
            })?;
            (out, None)
        }
    };
    b.log("graph", contacts.len());
    Ok(Fetched::Contacts {
        contacts,
        state,
        warnings: b.warnings,
    })
}

fn users_delta(
    s: &mut Session,
    old: Option<DeltaState>,
    rules: &RecordRules,
) -> Result<DeltaState, SyncError> {
    let fresh = format!("{}/users/delta?$select={USER_FIELDS}", s.graph);
    let (mut users, start) = match old {
        Some(o) if !o.delta_link.is_empty() && same_origin(&o.delta_link, &s.graph) => {
            (o.users, o.delta_link)
        }
        _ => (BTreeMap::new(), fresh.clone()),
    };
    let incremental = start != fresh;
    let round = match s.delta_round(&start, &mut users, rules) {
        Err(DeltaError::Lost) if incremental => {
            tracing::info!("graph delta state expired; starting a full round");
            users.clear();
            s.delta_round(&fresh, &mut users, rules)
        }
        other => other,
    };
    match round {
        Ok(delta_link) => Ok(DeltaState { delta_link, users }),
        Err(DeltaError::Lost) => Err(SyncError::new(
            "Microsoft Graph refused even a fresh delta round (SyncStateNotFound)",
        )),
        Err(DeltaError::Other(e)) => Err(e),
    }
}

enum DeltaError {
    /// The delta token is no longer known: start over.
    Lost,
    Other(SyncError),
}

impl From<SyncError> for DeltaError {
    fn from(e: SyncError) -> Self {
        DeltaError::Other(e)
    }
}

impl Session<'_> {
    /// One delta round from `start`; applies changes to `users`; answers the next delta link.
    fn delta_round(
        &mut self,
        start: &str,
        users: &mut BTreeMap<String, Map<String, Value>>,
        rules: &RecordRules,
    ) -> Result<String, DeltaError> {
        let mut url = start.to_owned();
        for _ in 0..MAX_PAGES {
            let page = self.get(&url, "User.Read.All", &mut |item| {
                let Value::Object(obj) = item else {
                    return Ok(());
                };
                let Some(id) = obj.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    return Ok(());
                };
                if obj.contains_key("@removed") {
                    users.remove(&id);
                } else {
                    // A delta page may carry only the changed properties.
                    let entry = users.entry(id).or_default();
                    for (k, v) in obj {
                        entry.insert(k, v);
                    }
                    rules.room_for(users.len())?;
                }
                Ok(())
            });
            let page = match page {
                Ok(p) => p,
                Err(GetError::Gone) => return Err(DeltaError::Lost),
                Err(GetError::Sync(e)) => return Err(e.into()),
            };
            if let Some(next) = page.get(&NEXT_LINK).and_then(Value::as_str) {
                url = self.follow(next)?;
            } else if let Some(delta) = page.get(&DELTA_LINK).and_then(Value::as_str) {
                return Ok(self.follow(delta)?);
            } else {
                return Err(SyncError::new(
                    "a Microsoft Graph delta page had neither a next nor a delta link; nothing was changed",
                )
                .into());
            }
        }
        Err(SyncError::new("the Microsoft Graph delta round did not end").into())
    }

    /// Every item of a listing, following `@odata.nextLink` whole.
    fn pages(
        &mut self,
        first: &str,
        permission: &str,
        each: &mut dyn FnMut(Value) -> Result<(), String>,
    ) -> Result<(), SyncError> {
        let mut url = first.to_owned();
        for _ in 0..MAX_PAGES {
            let page = match self.get(&url, permission, each) {
                Ok(p) => p,
                Err(GetError::Gone) => {
                    return Err(SyncError::new(format!(
                        "Microsoft Graph no longer knows {}",
                        path_of(&url)
                    )))
                }
                Err(GetError::Sync(e)) => return Err(e),
            };
            match page.get(&NEXT_LINK).and_then(Value::as_str) {
                Some(next) => url = self.follow(next)?,
                None => return Ok(()),
            }
        }
        Err(SyncError::new("a Microsoft Graph listing did not end"))
    }

    /// A next or delta link, if it stays where the token may go (the configured Graph).
    fn follow(&self, link: &str) -> Result<String, SyncError> {
        if same_origin(link, &self.graph) {
            Ok(link.to_owned())
        } else {
            Err(SyncError::new(format!(
                "Microsoft Graph answered a link to {}, not to {}; phonedir sends the access token only to the configured graph_url, so the sync stopped and nothing was changed",
                origin(link),
                origin(&self.graph)
            )))
        }
    }

    /// One page: its items go to `each` as they are read; answers the paging links.
    fn get(
        &mut self,
        url: &str,
        permission: &str,
        each: &mut dyn FnMut(Value) -> Result<(), String>,
    ) -> Result<HashMap<Pointer, Value>, GetError> {
        for fresh_token in [false, true] {
            let token = self.token(fresh_token)?;
            let auth = format!("Bearer {token}");
            let reply = self.http.send_json(
                url,
                &[
                    ("Authorization", &auth),
                    ("Accept", "application/json"),
                    ("Prefer", "odata.maxpagesize=999"),
                ],
                Records::At(&VALUE),
                &[NEXT_LINK.clone(), DELTA_LINK.clone()],
                each,
            )?;
            let code = reply
                .error
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("");
            match reply.status {
                200..=299 => return Ok(reply.kept.values),
                // An expired or revoked token: one new token, one more try.
                401 if !fresh_token => {
                    forget_token(self.spec);
                    continue;
                }
                410 => return Err(GetError::Gone),
                400 if code.contains("SyncStateNotFound") || code.contains("resyncRequired") => {
                    return Err(GetError::Gone)
                }
                401 | 403 => {
                    return Err(SyncError::new(format!(
                        "Microsoft Graph denied {} (HTTP {}, {}): the app registration needs the application permission {permission} with admin consent",
                        path_of(url),
                        reply.status,
                        if code.is_empty() { "no code" } else { code }
                    ))
                    .into())
                }
                404 => return Err(GetError::Gone),
                s => {
                    return Err(SyncError::new(format!(
                        "Microsoft Graph answered HTTP {s} ({code}) for {}",
                        path_of(url)
                    ))
                    .into())
                }
            }
        }
        Err(SyncError::new("Microsoft Graph refused a freshly issued token").into())
    }

    fn token(&mut self, renew: bool) -> Result<String, SyncError> {
        if !renew {
            if let Some(t) = &self.token {
                return Ok(t.clone());
            }
            if let Some(t) = cached_token(self.spec) {
                self.token = Some(t.clone());
                return Ok(t);
            }
        }
        let url = self.spec.token_url.clone().unwrap_or_else(|| {
            format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                encode_query(&self.spec.tenant_id)
            )
        });
        let scope = match &self.spec.graph_url {
            Some(g) if g.starts_with("https://") => format!("{}/.default", origin(g)),
            _ => "https://graph.microsoft.com/.default".to_owned(),
        };
        let form = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials&scope={}",
            encode_query(&self.spec.client_id),
            encode_query(&self.spec.client_secret),
            encode_query(&scope)
        );
        let reply = self.http.send(
            "POST",
            &url,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form.as_bytes()),
        )?;
        let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let token = body.get("access_token").and_then(Value::as_str);
        match (reply.status, token) {
            (200, Some(t)) => {
                let expires = body.get("expires_in").and_then(Value::as_u64).unwrap_or(0);
                store_token(self.spec, t, Duration::from_secs(expires));
                self.token = Some(t.to_owned());
                Ok(t.to_owned())
            }
            (status, _) => {
                // AADSTS descriptions name the problem (bad secret, unknown tenant) and
                // never echo the secret; their first line is enough.
                let why = body
                    .get("error_description")
                    .and_then(Value::as_str)
                    .and_then(|d| d.lines().next())
                    .or_else(|| body.get("error").and_then(Value::as_str))
                    .unwrap_or("no reason given");
                Err(SyncError::new(format!(
                    "Microsoft refused the app credentials (HTTP {status}): {why}; check tenant_id, client_id and client_secret"
                )))
            }
        }
    }
}

enum GetError {
    Gone,
    Sync(SyncError),
}

impl From<SyncError> for GetError {
    fn from(e: SyncError) -> Self {
        GetError::Sync(e)
    }
}

impl From<GetError> for SyncError {
    fn from(e: GetError) -> Self {
        match e {
            GetError::Gone => SyncError::new("Microsoft Graph does not know this object"),
            GetError::Sync(e) => e,
        }
    }
}

fn mailbox_contacts(
    s: &mut Session,
    rules: &RecordRules,
    b: &mut Builder,
) -> Result<Vec<Contact>, SyncError> {
    let mut ids = Vec::new();
    let url = format!(
        "{}/users?$select=id,userPrincipalName,accountEnabled&$top=999",
        s.graph
    );
    s.pages(&url, "User.Read.All", &mut |u| {
        if u.get("accountEnabled") == Some(&Value::Bool(false)) {
            return Ok(());
        }
        if let Some(id) = u.get("id").and_then(Value::as_str) {
            rules.room_for(ids.len() + 1)?;
            ids.push(id.to_owned());
        }
        Ok(())
    })?;
    let mut out = Vec::new();
    // One mailbox after the other: parallel requests to one mailbox fail
    // (ErrorTooManyObjectsOpened) and throttling is per mailbox anyway.
    for id in ids {
        let url = format!(
            "{}/users/{}/contacts?$select={CONTACT_FIELDS}&$top=999",
            s.graph,
            encode_query(&id)
        );
        let mut mine = Vec::new();
        let before = out.len();
        match s.pages(&url, "Contacts.Read", &mut |c| {
            if let Some(c) = b.build(contact_record(&c), rules) {
                rules.room_for(before + mine.len() + 1)?;
                mine.push(c);
            }
            Ok(())
        }) {
            Ok(()) => out.extend(mine),
            // A user without a mailbox has no contacts folder.
            Err(e) if e.0.starts_with("Microsoft Graph no longer knows") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn text(v: &Map<String, Value>, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn common(v: &Map<String, Value>) -> Record {
    let mut r = Record::new("id", &text(v, "id"));
    for (role, field) in [
        (Role::DisplayName, "displayName"),
        (Role::GivenName, "givenName"),
        (Role::FamilyName, "surname"),
        (Role::Company, "companyName"),
        (Role::Department, "department"),
        (Role::Position, "jobTitle"),
    ] {
        r.text(role, field, &text(v, field));
    }
    r
}

fn user_record(u: &Map<String, Value>) -> Record {
    let mut r = common(u);
    r.text(Role::Email, "mail", &text(u, "mail"));
    for n in strings(u.get("businessPhones")) {
        r.number(NumberType::Work, "businessPhones", &n);
    }
    r.number(NumberType::Mobile, "mobilePhone", &text(u, "mobilePhone"));
    r
}

fn contact_record(c: &Value) -> Record {
    let empty = Map::new();
    let c = c.as_object().unwrap_or(&empty);
    let mut r = common(c);
    let email = c
        .get("emailAddresses")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .unwrap_or("");
    r.text(Role::Email, "emailAddresses", email);
    for n in strings(c.get("businessPhones")) {
        r.number(NumberType::Work, "businessPhones", &n);
    }
    r.number(NumberType::Mobile, "mobilePhone", &text(c, "mobilePhone"));
    for n in strings(c.get("homePhones")) {
        r.number(NumberType::Home, "homePhones", &n);
    }
    r
}

fn org_contact_record(c: &Value) -> Record {
    let empty = Map::new();
    let c = c.as_object().unwrap_or(&empty);
    let mut r = common(c);
    r.text(Role::Email, "mail", &text(c, "mail"));
    for p in c
        .get("phones")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let number = p.get("number").and_then(Value::as_str).unwrap_or("");
        let kind = match p.get("type").and_then(Value::as_str).unwrap_or("") {
            t if t.to_ascii_lowercase().contains("fax") => NumberType::Fax,
            "mobile" => NumberType::Mobile,
            "home" => NumberType::Home,
            "pager" => NumberType::Pager,
            "business" => NumberType::Work,
            _ => NumberType::Other,
        };
        r.number(kind, "phones", number);
    }
    r
}

type TokenCache = Mutex<HashMap<String, (String, Instant)>>;

fn tokens() -> &'static TokenCache {
    static CACHE: OnceLock<TokenCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Tokens are cached per app registration, secret included (a new secret, a new token).
fn token_key(spec: &GraphSpec) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        // The Graph the token is for is part of the key: a token goes only where it was
        // asked for.
        format!(
            "{}\n{}\n{}\n{}\n{}",
            spec.token_url.as_deref().unwrap_or(""),
            spec.graph_url.as_deref().unwrap_or(""),
            spec.tenant_id,
            spec.client_id,
            spec.client_secret
        )
        .as_bytes(),
    );
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn cached_token(spec: &GraphSpec) -> Option<String> {
    let cache = tokens().lock().unwrap_or_else(|p| p.into_inner());
    cache
        .get(&token_key(spec))
        .filter(|(_, until)| Instant::now() < *until)
        .map(|(t, _)| t.clone())
}

fn store_token(spec: &GraphSpec, token: &str, lifetime: Duration) {
    let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
    tokens()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token_key(spec), (token.to_owned(), until));
}

fn forget_token(spec: &GraphSpec) {
    tokens()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&token_key(spec));
}
