//! XQTING EasyConnect on an innovaphone PBX, the flow of the seed article: search a contact
//! by name (`GET {url}/contacts/contact?search=NAME&apikey=K`), then update it (`PUT
//! {url}/contacts/contact/{distinguishedname}`) or create it (`POST {url}/contacts/contact`);
//! deletes as `DELETE {url}/contacts/contact/{distinguishedname}`. The key travels as the
//! `apikey` query parameter.
//!
//! The search answers a JSON array of contacts or an object holding one. A create may not
//! answer the new `distinguishedname`; the run then searches again. Whether the search is
//! exact or a substring match is not documented: entries are compared by content, never
//! taken on the search's word.

use super::client::{segment, Client, RemoteError};
use super::entry::{Layout, Payload, Src};
use super::kind::{from_json, text, to_json, Kind, Reading};
use super::plan::RemoteEntry;
use super::spec::EasyconnectSpec;
use crate::domain::{ContactId, NumberType as T};
use crate::sources::net::encode_query;
use serde_json::Value;

/// The fields of the seed article; lengths not documented (255 is a guess).
const LAYOUT: Layout = Layout {
    text: &[
        ("cn", Src::Display),
        ("givenname", Src::Given),
        ("sn", Src::Family),
        ("company", Src::Company),
        ("email", Src::Email),
    ],
    slots: &[
        (
            "telephonenumber",
            &[T::Work, T::Extension, T::Other, T::Pager],
        ),
        ("mobile", &[T::Mobile]),
        ("homephone", &[T::Home]),
    ],
    repeat: false,
    max_numbers: 3,
    max_chars: 255,
    name: &["cn"],
    email: Some("email"),
};

/// Entries one search may answer; more are not read.
const MAX_HITS: usize = 1000;

pub struct Easyconnect {
    base: String,
    apikey: String,
    dbsid: Option<String>,
    client: Client,
}

impl Easyconnect {
    pub fn new(s: &EasyconnectSpec, client: Client) -> Easyconnect {
        Easyconnect {
            base: format!("{}/contacts/contact", s.url.trim_end_matches('/')),
            apikey: s.apikey.clone(),
            dbsid: s.dbsid.clone(),
            client,
        }
    }

    fn key(&self) -> String {
        format!("apikey={}", encode_query(&self.apikey))
    }

    fn entry_url(&self, dn: &str) -> String {
        format!("{}/{}?{}", self.base, segment(dn), self.key())
    }

    fn body(&self, p: &Payload) -> Vec<u8> {
        Value::Object(to_json(&LAYOUT, p)).to_string().into_bytes()
    }
}

/// The contacts of a search answer: an array of them, an object that is one, or an object
/// holding them under a list field.
fn contacts(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().take(MAX_HITS).collect(),
        Value::Object(o) if o.contains_key("distinguishedname") || o.contains_key("cn") => {
            vec![v]
        }
        Value::Object(o) => o
            .values()
            .find_map(|x| match x {
                Value::Array(a) => Some(a.iter().take(MAX_HITS).collect()),
                Value::Object(_) => Some(contacts(x)),
                _ => None,
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// An entry of a search answer; `dbsid` is compared only when the target sets one.
fn entry(v: &Value, with_dbsid: bool) -> Option<RemoteEntry> {
    let dn = text(v.get("distinguishedname"));
    if dn.trim().is_empty() {
        // Without it the entry cannot be addressed.
        return None;
    }
    let mut payload = from_json(&LAYOUT, v);
    if let Some(d) = v.get("dbsid").filter(|_| with_dbsid) {
        payload.fields.insert("dbsid".into(), text(Some(d)));
    }
    Some(RemoteEntry {
        id: dn,
        payload,
        marker: None,
    })
}

impl Kind for Easyconnect {
    fn layout(&self) -> &'static Layout {
        &LAYOUT
    }

    fn extra(&self, _: ContactId) -> Vec<(&'static str, String)> {
        self.dbsid.iter().map(|d| ("dbsid", d.clone())).collect()
    }

    fn reading(&self) -> Reading {
        Reading::Search
    }

    fn search(&mut self, name: &str) -> Result<Vec<RemoteEntry>, RemoteError> {
        let url = format!("{}?search={}&{}", self.base, encode_query(name), self.key());
        let reply = self
            .client
            .send("GET", &url, &[("Accept", "application/json")], None)?;
        let reply = match self.client.expect(&url, reply, "searching contacts") {
            // Some APIs answer "no such contact" for a search that finds nothing.
            Err(RemoteError::NotFound) => return Ok(Vec::new()),
            other => other?,
        };
        if reply.body.trim().is_empty() {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_str(&reply.body).map_err(|_| {
            RemoteError::Stop(
                "EasyConnect's contact search did not answer JSON; check that `url` is the EasyConnect App URL".into(),
            )
        })?;
        let with_dbsid = self.dbsid.is_some();
        Ok(contacts(&v)
            .into_iter()
            .filter_map(|c| entry(c, with_dbsid))
            .collect())
    }

    fn create(&mut self, p: &Payload) -> Result<Option<String>, RemoteError> {
        let url = format!("{}?{}", self.base, self.key());
        let body = self.body(p);
        let reply = self.client.send(
            "POST",
            &url,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            Some(&body),
        )?;
        let reply = self.client.expect(&url, reply, "creating a contact")?;
        let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        Ok(contacts(&v)
            .first()
            .map(|c| text(c.get("distinguishedname")))
            .filter(|dn| !dn.trim().is_empty()))
    }

    fn update(&mut self, id: &str, p: &Payload) -> Result<(), RemoteError> {
        let url = self.entry_url(id);
        let body = self.body(p);
        let reply = self.client.send(
            "PUT",
            &url,
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            Some(&body),
        )?;
        self.client
            .expect(&url, reply, "updating a contact")
            .map(drop)
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let url = self.entry_url(id);
        let reply = self.client.send("DELETE", &url, &[], None)?;
        self.client
            .expect(&url, reply, "deleting a contact")
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_answers_an_array_or_an_object() {
        let one = serde_json::json!({"distinguishedname": "cn=Anna", "cn": "Anna",
            "telephonenumber": ["+491", "+492"], "mobile": null});
        let e = entry(contacts(&one)[0], false).unwrap();
        assert_eq!(e.id, "cn=Anna");
        assert_eq!(e.payload.numbers.len(), 2);
        let arr = serde_json::json!([one, {"cn": "no dn"}]);
        assert_eq!(
            contacts(&arr)
                .into_iter()
                .filter_map(|c| entry(c, false))
                .count(),
            1
        );
        let wrapped = serde_json::json!({"contacts": [one]});
        assert_eq!(contacts(&wrapped).len(), 1);
        let wrapped_one = serde_json::json!({"contact": one});
        assert_eq!(contacts(&wrapped_one).len(), 1);
        assert!(contacts(&serde_json::json!({})).is_empty());
        assert!(contacts(&serde_json::json!("x")).is_empty());
    }
}
