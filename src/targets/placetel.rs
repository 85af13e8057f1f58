//! Placetel REST API v2: `Authorization: Bearer KEY`, `GET {url}/contacts?page=N&per_page=100`
//! (a bare array; paged until a short page), `POST /contacts`, `PUT /contacts/{id}` (fields
//! left out stay, empty strings clear), `DELETE /contacts/{id}`. `blocked` is never sent:
//! true would block the contact's calls.

use super::client::{segment, Client, RemoteError};
use super::entry::{Layout, Payload, Src};
use super::kind::{from_json, text, to_json, Kind, Reading};
use super::plan::RemoteEntry;
use super::spec::PlacetelSpec;
use crate::domain::NumberType as T;
use serde_json::Value;

/// Contact fields [code, generated from Placetel's OpenAPI]; lengths undocumented.
const LAYOUT: Layout = Layout {
    text: &[
        ("first_name", Src::GivenOrDisplay),
        ("last_name", Src::Family),
        ("company", Src::Company),
        ("email", Src::Email),
    ],
    slots: &[
        ("phone_work", &[T::Work, T::Extension, T::Other, T::Pager]),
        ("mobile_work", &[T::Mobile]),
        (
            "phone",
            &[T::Home, T::Work, T::Extension, T::Other, T::Pager],
        ),
        ("mobile", &[T::Mobile]),
        ("fax_work", &[T::Fax]),
        ("fax", &[T::Fax]),
    ],
    repeat: false,
    max_numbers: 6,
    max_chars: 255,
    name: &["first_name", "last_name"],
    email: Some("email"),
};

const PAGE: usize = 100;
const MAX_PAGES: usize = 1000;

pub struct Placetel {
    url: String,
    client: Client,
}

impl Placetel {
    pub fn new(s: &PlacetelSpec, client: Client) -> Placetel {
        Placetel {
            url: s.url.trim_end_matches('/').to_owned(),
            client,
        }
    }

    fn body(p: &Payload) -> Vec<u8> {
        Value::Object(to_json(&LAYOUT, p)).to_string().into_bytes()
    }

    fn send(
        &mut self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<crate::sources::net::Reply, RemoteError> {
        self.client.send(
            method,
            url,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            body,
        )
    }
}

fn entry(v: &Value) -> Option<RemoteEntry> {
    let id = text(v.get("id"));
    (!id.is_empty()).then(|| RemoteEntry {
        id,
        payload: from_json(&LAYOUT, v),
        marker: None,
    })
}

impl Kind for Placetel {
    fn layout(&self) -> &'static Layout {
        &LAYOUT
    }

    fn reading(&self) -> Reading {
        Reading::List
    }

    fn list(&mut self) -> Result<Vec<RemoteEntry>, RemoteError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let url = format!("{}/contacts?page={page}&per_page={PAGE}", self.url);
            let reply = self.send("GET", &url, None)?;
            let reply = self.client.expect(&url, reply, "listing contacts")?;
            let v: Value = serde_json::from_str(&reply.body).map_err(|_| {
                RemoteError::Stop("Placetel answered the contact list with something other than JSON; check `url`".into())
            })?;
            let Some(items) = v.as_array() else {
                return Err(RemoteError::Stop(
                    "Placetel answered the contact list with something other than a list; check `url`".into(),
                ));
            };
            out.extend(items.iter().filter_map(entry));
            // Not every endpoint honours per_page: only a short page ends the list.
            if items.len() < PAGE {
                return Ok(out);
            }
        }
        Err(RemoteError::Stop(format!(
            "Placetel holds more than {} contacts; phonedir does not read further",
            MAX_PAGES * PAGE
        )))
    }

    fn create(&mut self, p: &Payload) -> Result<Option<String>, RemoteError> {
        let url = format!("{}/contacts", self.url);
        let reply = self.send("POST", &url, Some(&Self::body(p)))?;
        let reply = self.client.expect(&url, reply, "creating a contact")?;
        let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        Ok(Some(text(v.get("id"))).filter(|id| !id.is_empty()))
    }

    fn update(&mut self, id: &str, p: &Payload) -> Result<(), RemoteError> {
        let url = format!("{}/contacts/{}", self.url, segment(id));
        let reply = self.send("PUT", &url, Some(&Self::body(p)))?;
        self.client
            .expect(&url, reply, "updating a contact")
            .map(drop)
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let url = format!("{}/contacts/{}", self.url, segment(id));
        let reply = self.send("DELETE", &url, None)?;
        self.client
            .expect(&url, reply, "deleting a contact")
            .map(drop)
    }
}
