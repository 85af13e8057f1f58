//! What a target holds for one contact, in the target's own field names: built from a book
//! contact by the kind's `Layout` (field lengths and number slots enforced, with a warning),
//! read back from the PBX into the same shape, compared field by field, fingerprinted.

use crate::domain::{Contact, NumberType};
use crate::render::Presenter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry as a target holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Text fields by the target's names (`cn`, `FirstName`, …); an empty value clears.
    pub fields: BTreeMap<String, String>,
    /// Numbers as (slot, number in the target's shape), in the order written.
    pub numbers: Vec<(String, String)>,
}

/// One field that differs: what the target holds and what it should.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub from: String,
    pub to: String,
}

impl Payload {
    /// SHA-256 of the canonical JSON, 16 hex digits: equal exactly when the payloads are.
    pub fn fingerprint(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
        d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The numbers keyed by slot (`work`, `work#2` when a slot repeats).
    fn keyed_numbers(&self) -> BTreeMap<String, &str> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut out = BTreeMap::new();
        for (slot, value) in &self.numbers {
            let n = seen.entry(slot.as_str()).or_default();
            *n += 1;
            let key = if *n == 1 {
                slot.clone()
            } else {
                format!("{slot}#{n}")
            };
            out.insert(key, value.as_str());
        }
        out
    }

    /// What must change to turn `current` (what the target holds) into `self`, field by
    /// field. Values are compared as a PBX may store them: text trimmed, numbers by their
    /// dialable characters (`+49 231 12` = `+4923112`), so a PBX that formats numbers does
    /// not make every run rewrite them.
    pub fn changes_from(&self, current: &Payload) -> BTreeMap<String, Change> {
        let mut out = BTreeMap::new();
        let empty = String::new();
        for key in self.fields.keys().chain(current.fields.keys()) {
            let want = self.fields.get(key).unwrap_or(&empty);
            let have = current.fields.get(key).unwrap_or(&empty);
            if want.trim() != have.trim() && !out.contains_key(key) {
                out.insert(
                    key.clone(),
                    Change {
                        from: have.clone(),
                        to: want.clone(),
                    },
                );
            }
        }
        let (want, have) = (self.keyed_numbers(), current.keyed_numbers());
        for key in want.keys().chain(have.keys()) {
            let w = want.get(key).copied().unwrap_or("");
            let h = have.get(key).copied().unwrap_or("");
            if dialable(w) != dialable(h) {
                out.entry(key.clone()).or_insert_with(|| Change {
                    from: h.to_owned(),
                    to: w.to_owned(),
                });
            }
        }
        out
    }
}

/// The characters of a number a phone dials.
pub fn dialable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#'))
        .collect()
}

/// Where a text field's value comes from.
#[derive(Clone, Copy, Debug)]
pub enum Src {
    Display,
    Given,
    Family,
    Company,
    Email,
    Department,
    Position,
    /// The given name; for an entry with neither given nor family name, the display name
    /// (a target without a display-name field must still show one).
    GivenOrDisplay,
}

/// How one kind writes a contact.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub text: &'static [(&'static str, Src)],
    /// Number slots and the types each takes, in the order they are filled.
    pub slots: &'static [(&'static str, &'static [NumberType])],
    /// A slot may hold several numbers (FRITZ!Box: a type per number); else one each.
    pub repeat: bool,
    pub max_numbers: usize,
    /// Longest text value the PBX is given (in characters).
    pub max_chars: usize,
    /// The fields that make the name the PBX shows, joined by a space.
    pub name: &'static [&'static str],
    pub email: Option<&'static str>,
}

impl Layout {
    /// The entry for `c`, numbers in `shape`, plus `extra` fields (markers, constants), and
    /// what had to be cut, as sentences.
    pub fn payload(
        &self,
        c: &Contact,
        shape: &Presenter,
        extra: &[(&str, String)],
    ) -> (Payload, Vec<String>) {
        let mut warnings = Vec::new();
        let mut fields = BTreeMap::new();
        for (field, src) in self.text {
            let v = match src {
                Src::Display => &c.display_name,
                Src::Given => &c.given_name,
                Src::Family => &c.family_name,
                Src::Company => &c.company,
                Src::Email => &c.email,
                Src::Department => &c.department,
                Src::Position => &c.position,
                Src::GivenOrDisplay => {
                    if c.given_name.is_empty() && c.family_name.is_empty() {
                        &c.display_name
                    } else {
                        &c.given_name
                    }
                }
            };
            let v = v.trim();
            let n = v.chars().count();
            let v = if n > self.max_chars {
                warnings.push(format!(
                    "`{field}` has {n} characters; the first {} are written (the PBX takes no more)",
                    self.max_chars
                ));
                v.chars().take(self.max_chars).collect()
            } else {
                v.to_owned()
            };
            fields.insert((*field).to_owned(), v);
        }
        for (k, v) in extra {
            fields.insert((*k).to_owned(), v.clone());
        }
        let mut numbers: Vec<(String, String)> = Vec::new();
        let mut used = vec![false; self.slots.len()];
        let mut left_out = Vec::new();
        for n in c.numbers_by_preference() {
            let shaped = shape.show(n);
            let slot =
                self.slots.iter().enumerate().position(|(i, (_, types))| {
                    types.contains(&n.kind) && (self.repeat || !used[i])
                });
            match slot {
                Some(i) if numbers.len() < self.max_numbers => {
                    used[i] = true;
                    numbers.push((self.slots[i].0.to_owned(), shaped));
                }
                _ => left_out.push(shaped),
            }
        }
        if !left_out.is_empty() {
            warnings.push(format!(
                "{} left out: the PBX holds at most {} numbers per entry ({})",
                left_out.join(", "),
                self.max_numbers.min(if self.repeat {
                    usize::MAX
                } else {
                    self.slots.len()
                }),
                self.slots
                    .iter()
                    .map(|(s, _)| *s)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (Payload { fields, numbers }, warnings)
    }

    /// The name the PBX shows for an entry.
    pub fn name_of(&self, p: &Payload) -> String {
        self.name
            .iter()
            .map(|f| p.field(f).trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn email_of<'a>(&self, p: &'a Payload) -> &'a str {
        self.email.map_or("", |f| p.field(f).trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhoneNumber;

    const LAYOUT: Layout = Layout {
        text: &[("cn", Src::Display), ("givenname", Src::GivenOrDisplay)],
        slots: &[
            (
                "telephonenumber",
                &[NumberType::Work, NumberType::Extension],
            ),
            ("mobile", &[NumberType::Mobile]),
        ],
        repeat: false,
        max_numbers: 9,
        max_chars: 5,
        name: &["cn"],
        email: None,
    };

    fn contact() -> Contact {
        Contact {
            display_name: "Annabelle".into(),
            numbers: vec![
                PhoneNumber {
                    kind: NumberType::Mobile,
                    value: "+491711".into(),
                },
                PhoneNumber {
                    kind: NumberType::Work,
                    value: "+49231".into(),
                },
                PhoneNumber {
                    kind: NumberType::Work,
                    value: "+49232".into(),
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn layout_fills_slots_cuts_fields_and_says_so() {
        let (p, w) = LAYOUT.payload(&contact(), &Presenter::default(), &[]);
        assert_eq!(p.field("cn"), "Annab");
        assert_eq!(
            p.field("givenname"),
            "Annab",
            "no given name: the display name"
        );
        assert_eq!(
            p.numbers,
            vec![
                ("telephonenumber".to_owned(), "+49231".to_owned()),
                ("mobile".to_owned(), "+491711".to_owned())
            ]
        );
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w.iter().any(|w| w.contains("+49232 left out")), "{w:?}");
        assert!(
            w.iter().any(|w| w.contains("`cn` has 9 characters")),
            "{w:?}"
        );
    }

    #[test]
    fn changes_ignore_formatting_but_not_content() {
        let (p, _) = LAYOUT.payload(&contact(), &Presenter::default(), &[]);
        let mut remote = p.clone();
        remote.numbers[0].1 = "+49 231".into();
        remote.fields.insert("cn".into(), " Annab ".into());
        assert!(p.changes_from(&remote).is_empty());
        assert_ne!(p.fingerprint(), remote.fingerprint());
        remote.numbers.pop();
        remote.fields.insert("sn".into(), "X".into());
        let ch = p.changes_from(&remote);
        assert_eq!(ch.keys().collect::<Vec<_>>(), vec!["mobile", "sn"]);
        assert_eq!(ch["sn"].to, "");
        assert_eq!(ch["mobile"].to, "+491711");
    }
}
