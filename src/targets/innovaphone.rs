//! innovaphone Contacts app: the whole phone book as one CSV file, `POST
//! {url}/post/{phonebook}?op=csv` with HTTP Digest (the app's "HTTP Post" user). Every row
//! carries the contact's stable id in `extAnchor`, so the app updates entries in place and a
//! renamed contact keeps its identity (and its place on phones' home screens).
//!
//! The upload replaces the phone book's contents [unverified against a real PBX; the wiki
//! says rows are updated by `extAnchor`], so the phone book must be phonedir's alone. There
//! is no reading API: the stored mapping is the truth, and a file equal to the last accepted
//! one is not sent again.

use super::client::{segment, Client, RemoteError};
use super::entry::{Layout, Payload, Src};
use super::kind::{Kind, Reading};
use super::spec::InnovaphoneSpec;
use crate::domain::{ContactId, NumberType as T};

/// Column names as a production client writes them [code: ESTOS → innovaphone]; the
/// lengths are not documented (255 is a guess that keeps rows sane).
const LAYOUT: Layout = Layout {
    text: &[
        ("givenname", Src::Given),
        ("sn", Src::Family),
        ("displayname", Src::Display),
        ("company", Src::Company),
        ("department", Src::Department),
        ("position", Src::Position),
        ("email", Src::Email),
    ],
    slots: &[
        (
            "telephonenumber",
            &[T::Work, T::Extension, T::Other, T::Pager],
        ),
        ("mobile", &[T::Mobile]),
        ("homephone", &[T::Home]),
        ("facsimiletelephonenumber", &[T::Fax]),
    ],
    repeat: false,
    max_numbers: 4,
    max_chars: 255,
    name: &["displayname"],
    email: Some("email"),
};

pub struct Innovaphone {
    url: String,
    client: Client,
}

impl Innovaphone {
    pub fn new(s: &InnovaphoneSpec, mut client: Client) -> Innovaphone {
        // The upload replaces the whole phone book: sending it again does no harm.
        client.repeat_post = true;
        Innovaphone {
            url: format!(
                "{}/post/{}?op=csv",
                s.url.trim_end_matches('/'),
                segment(&s.phonebook)
            ),
            client,
        }
    }
}

impl Kind for Innovaphone {
    fn layout(&self) -> &'static Layout {
        &LAYOUT
    }

    fn reading(&self) -> Reading {
        Reading::Nothing
    }

    // One file holds every entry: single writes do not exist here; `run` uploads instead.
    fn create(&mut self, _: &Payload) -> Result<Option<String>, RemoteError> {
        Err(RemoteError::Entry(
            "the innovaphone phone book is written as one file".into(),
        ))
    }

    fn update(&mut self, _: &str, _: &Payload) -> Result<(), RemoteError> {
        Err(RemoteError::Entry(
            "the innovaphone phone book is written as one file".into(),
        ))
    }

    fn delete(&mut self, _: &str) -> Result<(), RemoteError> {
        Err(RemoteError::Entry(
            "the innovaphone phone book is written as one file".into(),
        ))
    }

    fn render(&self, entries: &[(ContactId, &Payload)]) -> Option<Vec<u8>> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let mut header = vec!["extAnchor"];
        header.extend(LAYOUT.text.iter().map(|(f, _)| *f));
        header.extend(LAYOUT.slots.iter().map(|(s, _)| *s));
        w.write_record(&header).ok()?;
        let mut rows: Vec<&(ContactId, &Payload)> = entries.iter().collect();
        rows.sort_by_key(|(c, _)| *c);
        for (c, p) in rows {
            let mut rec = vec![c.to_string()];
            rec.extend(LAYOUT.text.iter().map(|(f, _)| p.field(f).to_owned()));
            rec.extend(LAYOUT.slots.iter().map(|(s, _)| {
                p.numbers
                    .iter()
                    .find(|(slot, _)| slot == s)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default()
            }));
            w.write_record(&rec).ok()?;
        }
        w.into_inner().ok()
    }

    fn upload(&mut self, file: &[u8]) -> Result<(), RemoteError> {
        let url = self.url.clone();
        let reply = self.client.send(
            "POST",
            &url,
            &[("Content-Type", "application/octet-stream")],
            Some(file),
        )?;
        self.client
            .expect(&url, reply, "uploading the phone book")
            .map(drop)
    }
}
