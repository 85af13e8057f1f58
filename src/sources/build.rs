//! A record as a remote system delivers it (a vCard, a directory entry, a JSON object),
//! turned into a contact by the one record builder pushes use (`ingest::Row`): the same
//! field rules, number rules, per-contact number cap and name composition. Every kind of
//! pulled source ends here, and what a record loses becomes a warning kept with the
//! source's status (`SourceWarnings`), never only a log line.

use crate::domain::{Contact, NumberType, RecordWarning, SourceWarnings};
use crate::ingest::{IngestOptions, Role, Row};
use crate::phone::NumberRules;

/// One field of a record, in the order the source gave them.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Text(Role, String, String),
    Number(NumberType, String, String),
    /// Something the reader itself could not use (part of a value), with why.
    Note(String, String, String),
}

/// A pulled record: its id at the source and its fields, each under the source's own name
/// of the field (for warnings a person can find in the source).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub id: String,
    cells: Vec<Cell>,
}

impl Record {
    /// A record with the id the source knows it by (also kept as the contact's
    /// `external_id`); `field` is the source's name for the id.
    pub fn new(field: &str, id: &str) -> Record {
        let mut r = Record {
            id: id.trim().to_owned(),
            cells: Vec::new(),
        };
        r.text(Role::InternalId, field, id);
        r
    }

    /// A text field with its role (`Role::DisplayName`, `Role::Company`, …). Empty values
    /// are nothing.
    pub fn text(&mut self, role: Role, field: &str, value: &str) -> &mut Self {
        if !value.trim().is_empty() {
            self.cells
                .push(Cell::Text(role, field.to_owned(), value.to_owned()));
        }
        self
    }

    /// One phone number of a type.
    pub fn number(&mut self, kind: NumberType, field: &str, value: &str) -> &mut Self {
        if !value.trim().is_empty() {
            self.cells
                .push(Cell::Number(kind, field.to_owned(), value.to_owned()));
        }
        self
    }

    /// A part of a value the reader could not use, and what to do about it.
    pub fn note(&mut self, field: &str, value: &str, message: impl Into<String>) -> &mut Self {
        self.cells.push(Cell::Note(
            field.to_owned(),
            value.to_owned(),
            message.into(),
        ));
        self
    }

    /// The numbers given so far, as (type, field, value): for tests and for readers that
    /// order them.
    pub fn numbers(&self) -> Vec<(NumberType, &str, &str)> {
        self.cells
            .iter()
            .filter_map(|c| match c {
                Cell::Number(k, f, v) => Some((*k, f.as_str(), v.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The first text of a role, for tests and readers.
    pub fn first(&self, role: Role) -> Option<&str> {
        self.cells.iter().find_map(|c| match c {
            Cell::Text(r, _, v) if *r == role => Some(v.as_str()),
            _ => None,
        })
    }
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

    fn options(&self) -> IngestOptions<'static> {
        IngestOptions {
            rules: self.numbers,
            max_rows: self.max_contacts,
            max_field_chars: self.max_field_chars,
            max_numbers: self.max_numbers,
            map: None,
        }
    }
}

/// Builds records into contacts and collects what they lost.
#[derive(Debug, Default)]
pub struct Builder {
    pub warnings: SourceWarnings,
    /// Records read so far, for the position of a record without an id.
    seen: usize,
}

impl Builder {
    /// The contact, or None (with a warning) when the record has no name or no number a
    /// phone could dial.
    pub fn build(&mut self, record: Record, rules: &RecordRules) -> Option<Contact> {
        let (contact, warnings) = build(record, rules, self.seen);
        self.seen += 1;
        for w in warnings {
            self.warnings.push(w);
        }
        contact
    }

    /// Warnings kept from an earlier sync for a record not read again (CardDAV keeps cards
    /// whose ETag did not change).
    pub fn keep(&mut self, warnings: &[RecordWarning]) {
        self.seen += 1;
        for w in warnings {
            self.warnings.push(w.clone());
        }
    }

    /// For the log at the end of a sync.
    pub fn log(&self, kind: &str, contacts: usize) {
        tracing::info!(
            contacts,
            records = self.seen,
            warnings = self.warnings.count,
            "{kind} sync"
        );
    }
}

/// A record's id as far as a warning repeats it.
const MAX_ID_CHARS: usize = 256;

/// One record on its own: the contact (if any) and the record's warnings. `position`
/// (0-based) names a record without an id.
pub fn build(
    record: Record,
    rules: &RecordRules,
    position: usize,
) -> (Option<Contact>, Vec<RecordWarning>) {
    let opts = rules.options();
    let mut row = Row::pulled(&opts);
    let mut found = Vec::new();
    for cell in record.cells {
        match cell {
            Cell::Text(role, field, value) => row.cell(role, &field, &value, &opts, &mut found),
            Cell::Number(kind, field, value) => row.number(kind, &field, &value, &opts, &mut found),
            Cell::Note(field, value, message) => row.note(&field, &value, message, &mut found),
        }
    }
    let contact = row.finish(&opts, &mut found);
    let id = if record.id.is_empty() {
        format!("#{}", position + 1)
    } else {
        // Whole, as the source spells it (a DN, a URN), up to a length a status can carry.
        record.id.chars().take(MAX_ID_CHARS).collect()
    };
    let warnings = found
        .into_iter()
        .map(|w| RecordWarning {
            record: id.clone(),
            field: w.column,
            value: w.value,
            message: w.message,
        })
        .collect();
    (contact, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RecordRules {
        RecordRules {
            numbers: NumberRules {
                region: "DE".parse().ok(),
                max_extension_digits: 4,
            },
            max_field_chars: 20,
            max_numbers: 2,
            max_contacts: 10,
        }
    }

    #[test]
    fn the_push_rules_with_warnings_for_what_is_lost() {
        let mut b = Builder::default();
        let mut r = Record::new("UID", "anna-1");
        r.text(Role::GivenName, "N", "Anna")
            .text(Role::MiddleName, "N", "Maria")
            .text(Role::FamilyName, "N", "Schmidt")
            .text(Role::Group, "CATEGORIES", "Sales")
            .number(NumberType::Work, "TEL", "030 1234567")
            .number(NumberType::Mobile, "TEL", "call me")
            .number(NumberType::Work, "TEL", "42");
        let c = b.build(r, &rules()).unwrap();
        assert_eq!(c.display_name, "Anna Maria Schmidt");
        assert_eq!(
            (c.external_id.as_str(), c.group.as_str()),
            ("anna-1", "Sales")
        );
        let v: Vec<String> = c.numbers.iter().map(|n| n.to_string()).collect();
        assert_eq!(v, vec!["WORK:+49301234567", "EXTENSION:42"]);
        assert_eq!(b.warnings.count, 1);
        let w = &b.warnings.first[0];
        assert_eq!(
            (w.record.as_str(), w.field.as_str(), w.value.as_str()),
            ("anna-1", "TEL", "call me")
        );

        // Controls removed, long fields and numbers past the cap left out: each said.
        let mut r = Record::default();
        r.text(Role::DisplayName, "displayName", "Ann\u{1b}[2Ja\u{fffe}")
            .text(Role::Company, "company", &"x".repeat(21));
        for n in ["030 1234567", "030 1234567", "030 1234568", "030 1234569"] {
            r.number(NumberType::Work, "telephoneNumber", n);
        }
        let c = b.build(r, &rules()).unwrap();
        assert_eq!(
            (c.display_name.as_str(), c.company.as_str()),
            ("Ann[2Ja", "")
        );
        assert_eq!(c.numbers.len(), 2);
        assert_eq!(b.warnings.count, 4);
        assert!(b.warnings.first[1..].iter().all(|w| w.record == "#2"));

        // No number, no name: not stored, and said so.
        let mut r = Record::new("dn", "cn=Nobody,dc=example");
        r.text(Role::DisplayName, "displayName", "Nobody");
        assert!(b.build(r, &rules()).is_none());
        let mut r = Record::new("dn", "cn=x");
        r.number(NumberType::Work, "telephoneNumber", "+49 30 1234567");
        assert!(b.build(r, &rules()).is_none());
        let last = b.warnings.first.last().unwrap();
        assert!(last.message.contains("no name"), "{last:?}");
        assert!(!last.message.contains("display_name"), "{last:?}");
        assert_eq!(b.warnings.count, 6);
    }
}
