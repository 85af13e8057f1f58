//! What every kind of target does, behind one small trait: read what the PBX holds (list
//! it, or search it by name), create, update and delete one entry — or, for a kind that
//! takes whole files (innovaphone), render and upload the whole set. The planner and the
//! run are shared (`plan`, `run`); a kind only speaks its PBX's API.

use super::client::{Client, RemoteError};
use super::entry::{Layout, Payload};
use super::plan::RemoteEntry;
use super::spec::TargetSpec;
use crate::domain::ContactId;

/// How a kind reads what the PBX holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Lists the whole store (paged).
    List,
    /// Finds entries by name only.
    Search,
    /// Cannot read at all: the stored mapping is the truth (the whole set is uploaded).
    Nothing,
}

pub trait Kind {
    fn layout(&self) -> &'static Layout;

    /// Fields every entry carries besides the contact's own (a marker, a constant).
    fn extra(&self, _contact: ContactId) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn reading(&self) -> Reading;

    /// Everything the PBX holds (`Reading::List`).
    fn list(&mut self) -> Result<Vec<RemoteEntry>, RemoteError> {
        Ok(Vec::new())
    }

    /// The entries the PBX finds for a name (`Reading::Search`).
    fn search(&mut self, _name: &str) -> Result<Vec<RemoteEntry>, RemoteError> {
        Ok(Vec::new())
    }

    /// Creates an entry; answers its id, or None when the PBX does not say it.
    fn create(&mut self, p: &Payload) -> Result<Option<String>, RemoteError>;

    fn update(&mut self, id: &str, p: &Payload) -> Result<(), RemoteError>;

    fn delete(&mut self, id: &str) -> Result<(), RemoteError>;

    /// Whole-file kinds: the file holding exactly these entries.
    fn render(&self, _entries: &[(ContactId, &Payload)]) -> Option<Vec<u8>> {
        None
    }

    /// Whole-file kinds: sends the file rendered by `render`.
    fn upload(&mut self, _file: &[u8]) -> Result<(), RemoteError> {
        Ok(())
    }
}

/// The kind for these settings, talking through `client`.
pub fn open(spec: &TargetSpec, client: Client) -> Box<dyn Kind> {
    match spec {
        TargetSpec::Innovaphone(s) => Box::new(super::innovaphone::Innovaphone::new(s, client)),
        TargetSpec::Easyconnect(s) => Box::new(super::easyconnect::Easyconnect::new(s, client)),
        TargetSpec::Threecx(s) => Box::new(super::threecx::Threecx::new(s, client)),
        TargetSpec::Placetel(s) => Box::new(super::placetel::Placetel::new(s, client)),
        TargetSpec::Fritzbox(s) => Box::new(super::fritzbox::Fritzbox::new(s, client)),
    }
}

/// Reads a JSON value as text: strings as they are, numbers written out, null and the rest
/// as nothing.
pub fn text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A payload from a JSON object whose keys are the layout's field and slot names; a slot
/// may hold one number or an array of them.
pub fn from_json(layout: &Layout, obj: &serde_json::Value) -> Payload {
    let mut p = Payload::default();
    for (field, _) in layout.text {
        p.fields.insert((*field).to_owned(), text(obj.get(*field)));
    }
    for (slot, _) in layout.slots {
        match obj.get(*slot) {
            Some(serde_json::Value::Array(a)) => {
                for v in a.iter().take(layout.max_numbers) {
                    let t = text(Some(v));
                    if !t.trim().is_empty() {
                        p.numbers.push(((*slot).to_owned(), t));
                    }
                }
            }
            v => {
                let t = text(v);
                if !t.trim().is_empty() {
                    p.numbers.push(((*slot).to_owned(), t));
                }
            }
        }
    }
    p
}

/// A JSON object with every field and slot of the layout: the payload's values, and empty
/// strings for the slots it leaves free (so a number that went away is cleared).
pub fn to_json(layout: &Layout, p: &Payload) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for (k, v) in &p.fields {
        m.insert(k.clone(), v.clone().into());
    }
    for (slot, _) in layout.slots {
        let v = p
            .numbers
            .iter()
            .find(|(s, _)| s == slot)
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        m.insert((*slot).to_owned(), v.into());
    }
    m
}
