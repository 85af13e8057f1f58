//! 3CX v20 configuration API (XAPI): OAuth client credentials at `{url}/connect/token`,
//! OData contacts at `{url}/xapi/v1/Contacts` (`$top`/`$skip` paging, POST, PATCH
//! `Contacts({Id})`, DELETE `Contacts({Id})`). Entries phonedir writes carry
//! `Tag = phonedir:{contact id}`, which finds them again if the mapping is lost. The bulk
//! delete actions (`Pbx.DeleteContactsById`, …) are never called.

use super::client::{Auth, Client, RemoteError};
use super::entry::{Layout, Payload, Src};
use super::kind::{from_json, text, to_json, Kind, Reading};
use super::plan::RemoteEntry;
use super::spec::ThreecxSpec;
use crate::domain::{ContactId, NumberType as T};
use crate::sources::net::encode_query;
use serde_json::Value;
use std::time::{Duration, Instant};

/// `Pbx.Contact` fields [code, generated from the official spec]; lengths undocumented.
const LAYOUT: Layout = Layout {
    text: &[
        ("FirstName", Src::GivenOrDisplay),
        ("LastName", Src::Family),
        ("CompanyName", Src::Company),
        ("Email", Src::Email),
    ],
    slots: &[
        ("Business", &[T::Work, T::Extension]),
        ("Business2", &[T::Work, T::Extension]),
        ("PhoneNumber", &[T::Mobile]),
        ("Mobile2", &[T::Mobile]),
        ("Home", &[T::Home]),
        ("Home2", &[T::Home]),
        ("BusinessFax", &[T::Fax]),
        ("HomeFax", &[T::Fax]),
        ("Pager", &[T::Pager]),
        (
            "Other",
            &[
                T::Other,
                T::Work,
                T::Extension,
                T::Mobile,
                T::Home,
                T::Pager,
            ],
        ),
    ],
    repeat: false,
    max_numbers: 10,
    max_chars: 255,
    name: &["FirstName", "LastName"],
    email: Some("Email"),
};

pub const MARKER_PREFIX: &str = "phonedir:";
const PAGE: usize = 100;
/// Pages read at most (100 000 entries).
const MAX_PAGES: usize = 1000;
/// A token is renewed this long before it says it expires.
const EARLY: Duration = Duration::from_secs(30);

pub struct Threecx {
    url: String,
    client_id: String,
    client_secret: String,
    client: Client,
    expires: Option<Instant>,
}

impl Threecx {
    pub fn new(s: &ThreecxSpec, client: Client) -> Threecx {
        Threecx {
            url: s.url.trim_end_matches('/').to_owned(),
            client_id: s.client_id.clone(),
            client_secret: s.client_secret.clone(),
            client,
            expires: None,
        }
    }

    /// A token from `/connect/token` (client credentials).
    fn token(&mut self) -> Result<(), RemoteError> {
        let url = format!("{}/connect/token", self.url);
        let body = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            encode_query(&self.client_id),
            encode_query(&self.client_secret)
        );
        self.client.auth = Auth::None;
        let reply = self.client.send(
            "POST",
            &url,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )?;
        let bad_client = || {
            RemoteError::Auth(format!(
                "3CX at {} refused the client id and secret (HTTP 400/401 from /connect/token); check `client_id` and `client_secret` (Admin Console → Integrations → API)",
                self.url
            ))
        };
        let reply = match reply.status {
            400 | 401 | 403 => return Err(bad_client()),
            _ => self.client.expect(&url, reply, "getting a token")?,
        };
        let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                RemoteError::Stop(format!(
                    "3CX at {} answered /connect/token without an access_token; is `url` the PBX's address?",
                    self.url
                ))
            })?;
        let life = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        self.expires = Some(Instant::now() + Duration::from_secs(life).saturating_sub(EARLY));
        self.client.auth = Auth::Bearer(token.to_owned());
        Ok(())
    }

    /// An API request with a fresh token; a 401 renews the token once and tries again.
    fn call(
        &mut self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<crate::sources::net::Reply, RemoteError> {
        if self.expires.is_none_or(|e| Instant::now() >= e) {
            self.token()?;
        }
        let headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ];
        let reply = self.client.send(method, url, &headers, body)?;
        if reply.status != 401 {
            return Ok(reply);
        }
        // The token expired before it said so (a PBX restart, a revoked key).
        self.token()?;
        self.client.send(method, url, &headers, body)
    }

    fn entry_url(&self, id: &str) -> Result<String, RemoteError> {
        // Ids are OData integers; anything else would change the URL's meaning.
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RemoteError::Entry(format!(
                "`{}` is not a 3CX contact id",
                id.chars().take(24).collect::<String>()
            )));
        }
        Ok(format!("{}/xapi/v1/Contacts({id})", self.url))
    }

    fn body(p: &Payload) -> Vec<u8> {
        Value::Object(to_json(&LAYOUT, p)).to_string().into_bytes()
    }
}

fn entry(v: &Value) -> Option<RemoteEntry> {
    let id = text(v.get("Id"));
    if id.is_empty() {
        return None;
    }
    let mut payload = from_json(&LAYOUT, v);
    let tag = text(v.get("Tag"));
    let marker = tag.strip_prefix(MARKER_PREFIX).and_then(ContactId::parse);
    payload.fields.insert("Tag".into(), tag);
    Some(RemoteEntry {
        id,
        payload,
        marker,
    })
}

impl Kind for Threecx {
    fn layout(&self) -> &'static Layout {
        &LAYOUT
    }

    fn extra(&self, contact: ContactId) -> Vec<(&'static str, String)> {
        vec![("Tag", format!("{MARKER_PREFIX}{contact}"))]
    }

    fn reading(&self) -> Reading {
        Reading::List
    }

    fn list(&mut self) -> Result<Vec<RemoteEntry>, RemoteError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let url = format!(
                "{}/xapi/v1/Contacts?$top={PAGE}&$skip={}",
                self.url,
                page * PAGE
            );
            let reply = self.call("GET", &url, None)?;
            let reply = self.client.expect(&url, reply, "listing contacts")?;
            let v: Value = serde_json::from_str(&reply.body).map_err(|_| {
                RemoteError::Stop(format!(
                    "3CX at {} answered the contact list with something other than JSON",
                    self.url
                ))
            })?;
            let Some(items) = v.get("value").and_then(Value::as_array) else {
                return Err(RemoteError::Stop(format!(
                    "3CX at {} answered the contact list without `value`; is `url` the PBX's address?",
                    self.url
                )));
            };
            out.extend(items.iter().filter_map(entry));
            if items.len() < PAGE {
                return Ok(out);
            }
        }
        Err(RemoteError::Stop(format!(
            "3CX at {} holds more than {} contacts; phonedir does not read further",
            self.url,
            MAX_PAGES * PAGE
        )))
    }

    fn create(&mut self, p: &Payload) -> Result<Option<String>, RemoteError> {
        let url = format!("{}/xapi/v1/Contacts", self.url);
        let reply = self.call("POST", &url, Some(&Self::body(p)))?;
        let reply = self.client.expect(&url, reply, "creating a contact")?;
        let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        Ok(Some(text(v.get("Id"))).filter(|id| !id.is_empty()))
    }

    fn update(&mut self, id: &str, p: &Payload) -> Result<(), RemoteError> {
        let url = self.entry_url(id)?;
        let reply = self.call("PATCH", &url, Some(&Self::body(p)))?;
        self.client
            .expect(&url, reply, "updating a contact")
            .map(drop)
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let url = self.entry_url(id)?;
        let reply = self.call("DELETE", &url, None)?;
        self.client
            .expect(&url, reply, "deleting a contact")
            .map(drop)
    }
}
