//! A record as a remote system delivers it, turned into a contact by the same number and
//! field rules pushes use (`ingest::field`, the per-contact number cap). Every kind of
//! source ends here.

use crate::domain::{composed_name, Contact, NumberSet, NumberType};
use crate::ingest::field::{self, Field};
use crate::phone::NumberRules;

#[derive(Clone, Debug, Default)]
pub struct Raw {
    pub id: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub company: String,
    pub department: String,
    pub position: String,
    pub email: String,
    pub numbers: Vec<(NumberType, String)>,
}

/// The rules a pulled record is read under: the directory's number rules and the server's
/// field limits (`--max-field-chars`, `--max-numbers-per-contact`), as for pushes.
#[derive(Clone, Copy, Debug)]
pub struct RecordRules {
    pub numbers: NumberRules,
    pub max_field_chars: usize,
    pub max_numbers: usize,
    /// Contacts one sync may bring (the directory's quota): a source that answers more is
    /// stopped while reading, before memory follows it.
    pub max_contacts: usize,
}

impl RecordRules {
    /// Whether `n` contacts are still within `max_contacts`; the sentence why not.
    pub fn room_for(&self, n: usize) -> Result<(), String> {
        if n > self.max_contacts {
            Err(format!(
                "the source delivers more than {} contacts, more than this directory may hold (--max-contacts); nothing was changed",
                self.max_contacts
            ))
        } else {
            Ok(())
        }
    }
}

/// What was left out or changed in a sync, for the log.
#[derive(Debug, Default)]
pub struct Tally {
    pub no_name_or_number: usize,
    pub bad_numbers: usize,
    /// Fields longer than `--max-field-chars`, left out.
    pub too_long: usize,
    /// Characters no output can carry, removed.
    pub removed_chars: usize,
    /// Numbers past the per-contact cap, left out.
    pub over_cap: usize,
}

impl Tally {
    pub fn log(&self, kind: &str, contacts: usize) {
        tracing::info!(
            contacts,
            left_out = self.no_name_or_number,
            bad_numbers = self.bad_numbers,
            too_long_fields = self.too_long,
            removed_chars = self.removed_chars,
            numbers_over_cap = self.over_cap,
            "{kind} sync"
        );
    }
}

/// A field under the field rules; empty when it is too long.
fn text(value: &str, rules: &RecordRules, tally: &mut Tally) -> String {
    match field::clean(value, rules.max_field_chars) {
        Field::Kept { value, removed } => {
            tally.removed_chars += removed;
            value.trim().to_owned()
        }
        Field::TooLong { .. } => {
            tally.too_long += 1;
            String::new()
        }
    }
}

/// The contact, or None when it has no name or no number a phone could dial.
pub fn build(raw: Raw, rules: &RecordRules, tally: &mut Tally) -> Option<Contact> {
    let mut c = Contact {
        external_id: text(&raw.id, rules, tally),
        given_name: text(&raw.given_name, rules, tally),
        family_name: text(&raw.family_name, rules, tally),
        company: text(&raw.company, rules, tally),
        department: text(&raw.department, rules, tally),
        position: text(&raw.position, rules, tally),
        email: text(&raw.email, rules, tally),
        ..Default::default()
    };
    c.display_name = match text(&raw.display_name, rules, tally).as_str() {
        "" => composed_name(&c.given_name, "", &c.family_name, &c.company),
        name => name.to_owned(),
    };
    let mut set = NumberSet::new(rules.max_numbers);
    for (kind, value) in raw.numbers {
        if value.trim().is_empty() {
            continue;
        }
        if set.over_cap > 0 {
            // Past the cap nothing more is parsed.
            set.over_cap += 1;
            continue;
        }
        if value.len() > rules.max_field_chars {
            tally.too_long += 1;
            continue;
        }
        match rules.numbers.parse(&value, kind) {
            Ok(n) => {
                set.add(&mut c.numbers, n);
            }
            Err(e) => {
                tally.bad_numbers += 1;
                tracing::debug!(error = %e, "number left out");
            }
        }
    }
    tally.over_cap += set.over_cap;
    if c.display_name.is_empty() || c.numbers.is_empty() {
        tally.no_name_or_number += 1;
        return None;
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_name_from_parts_and_drops_entries_without_numbers() {
        let rules = RecordRules {
            numbers: NumberRules {
                region: "DE".parse().ok(),
                max_extension_digits: 4,
            },
            max_field_chars: 20,
            max_numbers: 2,
            max_contacts: 10,
        };
        let mut t = Tally::default();
        let c = build(
            Raw {
                given_name: "Anna".into(),
                family_name: "Schmidt".into(),
                numbers: vec![
                    (NumberType::Work, "030 1234567".into()),
                    (NumberType::Mobile, "call me".into()),
                    (NumberType::Work, "42".into()),
                ],
                ..Default::default()
            },
            &rules,
            &mut t,
        )
        .unwrap();
        assert_eq!(c.display_name, "Anna Schmidt");
        let v: Vec<String> = c.numbers.iter().map(|n| n.to_string()).collect();
        assert_eq!(v, vec!["WORK:+49301234567", "EXTENSION:42"]);
        assert_eq!(t.bad_numbers, 1);
        // The field rules of pushes: controls removed, long fields and numbers past the cap
        // left out.
        let c = build(
            Raw {
                display_name: "Ann\u{1b}[2Ja\u{fffe}".into(),
                company: "x".repeat(21),
                numbers: vec![
                    (NumberType::Work, "030 1234567".into()),
                    (NumberType::Work, "030 1234567".into()),
                    (NumberType::Work, "030 1234568".into()),
                    (NumberType::Work, "030 1234569".into()),
                ],
                ..Default::default()
            },
            &rules,
            &mut t,
        )
        .unwrap();
        assert_eq!(
            (c.display_name.as_str(), c.company.as_str()),
            ("Ann[2Ja", "")
        );
        assert_eq!(c.numbers.len(), 2);
        assert_eq!((t.removed_chars, t.too_long, t.over_cap), (2, 1, 1));
        assert!(build(
            Raw {
                display_name: "Nobody".into(),
                ..Default::default()
            },
            &rules,
            &mut t
        )
        .is_none());
    }
}
