//! From cells to contacts: the one record builder every input shares, pushed files and
//! pulled sources alike. Rows with one `internal_id` fold into one contact, numbers are
//! read with the directory's rules, a missing display name is built from the other names
//! (middle name included), and everything that cannot be stored becomes a warning with its
//! place (a file's line, a pulled record's id).

use super::columns::Role;
use super::field::{self, Field};
use super::{IngestOptions, Warning};
use crate::domain::{composed_name, Contact, NumberSet, NumberType, PhoneNumber};
use crate::phone::NumberError;
use std::collections::HashMap;

/// One input row (a CSV record, a JSON array item, a pulled record) on its way to a contact.
pub struct Row {
    pub line: u64,
    /// A pulled record rather than a line of a file: the sentences say "record".
    pulled: bool,
    pub contact: Contact,
    middle_name: String,
    /// Google's `Phone N - Label` cells, by slot.
    labels: Vec<(u8, String)>,
    /// (slot, value, column) of Google's `Phone N - Value` cells.
    slot_values: Vec<(u8, String, String)>,
    numbers: NumberSet,
}

impl Row {
    pub fn new(line: u64, opts: &IngestOptions) -> Row {
        Row {
            line,
            pulled: false,
            contact: Contact::default(),
            middle_name: String::new(),
            labels: Vec::new(),
            slot_values: Vec::new(),
            numbers: NumberSet::new(opts.max_numbers),
        }
    }

    /// A record of a pulled source (a vCard, a directory entry, an API's JSON object).
    pub fn pulled(opts: &IngestOptions) -> Row {
        Row {
            pulled: true,
            ..Row::new(0, opts)
        }
    }

    /// Takes one non-empty cell of a column with `role`, under the field rules
    /// (`field::clean`): a cell too long is left out, characters no output can carry are
    /// removed, each with a warning.
    pub fn cell(
        &mut self,
        role: Role,
        column: &str,
        value: &str,
        opts: &IngestOptions,
        warnings: &mut Vec<Warning>,
    ) {
        let Some(value) = self.kept(column, value, opts, warnings) else {
            return;
        };
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        match role {
            Role::Phone(kind) => self.numbers(value, kind, column, opts, warnings),
            Role::PhoneLabel(slot) => self.labels.push((slot, value.to_owned())),
            Role::PhoneValue(slot) => {
                self.slot_values
                    .push((slot, value.to_owned(), column.to_owned()))
            }
            Role::MiddleName => set_once(&mut self.middle_name, value),
            Role::Labels => {
                // `* myContacts ::: Friends`: system labels start with `*`.
                let label = value
                    .split(":::")
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('*'));
                if let Some(l) = label {
                    set_once(&mut self.contact.group, l);
                }
            }
            Role::Known => {}
            text => {
                if let Some(slot) = text_slot(&mut self.contact, text) {
                    set_once(slot, value);
                }
            }
        }
    }

    /// The value under the field rules (`field::clean`), or None when it is too long; what
    /// was changed or left out is a warning.
    fn kept<'v>(
        &self,
        column: &str,
        value: &'v str,
        opts: &IngestOptions,
        warnings: &mut Vec<Warning>,
    ) -> Option<std::borrow::Cow<'v, str>> {
        match field::clean(value, opts.max_field_chars) {
            Field::TooLong { chars } => {
                warnings.push(self.warning(
                    column,
                    field::excerpt(value),
                    field::too_long_message(chars, opts.max_field_chars),
                ));
                None
            }
            Field::Kept { value, removed } => {
                if removed > 0 {
                    warnings.push(self.warning(
                        column,
                        field::excerpt(&value),
                        field::removed_message(removed),
                    ));
                }
                Some(value)
            }
        }
    }

    fn warning(&self, column: &str, value: String, message: String) -> Warning {
        Warning {
            line: self.line,
            column: column.trim().to_owned(),
            value,
            message,
        }
    }

    /// One number of a pulled record's field, as it is (a source's field holds one number:
    /// nothing is split at `,` or `;`).
    pub fn number(
        &mut self,
        kind: NumberType,
        column: &str,
        value: &str,
        opts: &IngestOptions,
        warnings: &mut Vec<Warning>,
    ) {
        if self.numbers.over_cap > 0 {
            self.numbers.over_cap += 1;
            return;
        }
        let Some(value) = self.kept(column, value, opts, warnings) else {
            return;
        };
        match opts.rules.parse(&value, kind) {
            Ok(n) => {
                self.numbers.add(&mut self.contact.numbers, n);
            }
            Err(NumberError::Empty) => {}
            Err(e) => warnings.push(self.warning(column, value.trim().to_owned(), e.to_string())),
        }
    }

    /// A note of the reader's about this record (a part of a value it could not use).
    pub fn note(&self, column: &str, value: &str, message: String, warnings: &mut Vec<Warning>) {
        warnings.push(self.warning(column, field::excerpt(value), message));
    }

    /// The contact, or None (with a warning) when it has no name or no usable number.
    pub fn finish(self, opts: &IngestOptions, warnings: &mut Vec<Warning>) -> Option<Contact> {
        let Row {
            line,
            pulled,
            mut contact,
            middle_name,
            numbers,
            ..
        } = self;
        let what = if pulled { "record" } else { "row" };
        if numbers.over_cap > 0 {
            warnings.push(Warning {
                line,
                column: String::new(),
                value: contact.display_name.clone(),
                message: field::too_many_numbers_message(opts.max_numbers, numbers.over_cap),
            });
        }
        if contact.display_name.is_empty() {
            contact.display_name = composed_name(
                &contact.given_name,
                &middle_name,
                &contact.family_name,
                &contact.company,
            );
        }
        if contact.display_name.is_empty() {
            let fill = if pulled {
                "give it a display name, a given or family name, or a company in the source"
            } else {
                "fill display_name, given_name/family_name or company"
            };
            warnings.push(Warning {
                line,
                column: String::new(),
                value: contact
                    .numbers
                    .first()
                    .map(PhoneNumber::to_string)
                    .unwrap_or_default(),
                message: format!("the {what} has no name; {fill}. The {what} was not stored"),
            });
            return None;
        }
        if contact.numbers.is_empty() {
            warnings.push(Warning {
                line,
                column: String::new(),
                value: contact.display_name.clone(),
                message: format!(
                    "`{}` has no usable phone number and was not stored",
                    contact.display_name
                ),
            });
            return None;
        }
        Some(contact)
    }

    /// Reads every number of a cell (`;`, `,`, line breaks or ` ::: ` between them).
    fn numbers(
        &mut self,
        cell: &str,
        kind: NumberType,
        column: &str,
        opts: &IngestOptions,
        warnings: &mut Vec<Warning>,
    ) {
        for piece in split_numbers(cell) {
            if self.numbers.over_cap > 0 {
                // Past the cap nothing more is read: the rest costs no parsing.
                self.numbers.over_cap += 1;
                continue;
            }
            match opts.rules.parse_typed(piece, kind) {
                Ok(n) => {
                    self.numbers.add(&mut self.contact.numbers, n);
                }
                Err(NumberError::Empty) => {}
                Err(e) => warnings.push(Warning {
                    line: self.line,
                    column: column.trim().to_owned(),
                    value: piece.trim().to_owned(),
                    message: e.to_string(),
                }),
            }
        }
    }

    /// Reads the label/value pairs once the whole row is known.
    fn resolve_slots(&mut self, opts: &IngestOptions, warnings: &mut Vec<Warning>) {
        for (slot, value, column) in std::mem::take(&mut self.slot_values) {
            let label = self
                .labels
                .iter()
                .find(|(s, _)| *s == slot)
                .map(|(_, l)| l.trim().trim_start_matches('*').trim().to_owned())
                .unwrap_or_default();
            let kind = if label.is_empty() {
                NumberType::Work
            } else {
                NumberType::from_alias(&label).unwrap_or(NumberType::Other)
            };
            self.numbers(&value, kind, &column, opts, warnings);
        }
    }
}

fn set_once(slot: &mut String, value: &str) {
    // With repeated columns the first value wins; later ones add nothing.
    if slot.is_empty() {
        *slot = value.to_owned();
    }
}

fn text_slot(c: &mut Contact, role: Role) -> Option<&mut String> {
    Some(match role {
        Role::InternalId => &mut c.external_id,
        Role::DisplayName => &mut c.display_name,
        Role::GivenName => &mut c.given_name,
        Role::FamilyName => &mut c.family_name,
        Role::Company => &mut c.company,
        Role::Department => &mut c.department,
        Role::Position => &mut c.position,
        Role::Email => &mut c.email,
        Role::Group => &mut c.group,
        _ => return None,
    })
}

/// One cell may hold several numbers: `;`, `,`, line breaks, or Google's ` ::: `.
pub fn split_numbers(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ',', '\n', '\r'])
        .flat_map(|p| p.split(":::"))
        .filter(|p| !p.trim().is_empty())
}

/// Folds rows that share an `internal_id` into one contact, in first-seen order.
pub struct Assembler<'a> {
    opts: &'a IngestOptions<'a>,
    rows: Vec<Row>,
    by_id: HashMap<String, usize>,
}

impl<'a> Assembler<'a> {
    pub fn new(opts: &'a IngestOptions<'a>) -> Self {
        Assembler {
            opts,
            rows: Vec::new(),
            by_id: HashMap::new(),
        }
    }

    pub fn add(&mut self, mut row: Row, warnings: &mut Vec<Warning>) {
        row.resolve_slots(self.opts, warnings);
        let id = row.contact.external_id.clone();
        if !id.is_empty() {
            if let Some(&i) = self.by_id.get(&id) {
                let into = &mut self.rows[i];
                let from = row.contact;
                into.numbers.over_cap += row.numbers.over_cap;
                for n in from.numbers {
                    into.numbers.add(&mut into.contact.numbers, n);
                }
                let c = &mut into.contact;
                for (slot, v) in [
                    (&mut c.display_name, from.display_name),
                    (&mut c.given_name, from.given_name),
                    (&mut c.family_name, from.family_name),
                    (&mut c.company, from.company),
                    (&mut c.department, from.department),
                    (&mut c.position, from.position),
                    (&mut c.email, from.email),
                    (&mut c.group, from.group),
                ] {
                    set_once(slot, &v);
                }
                set_once(&mut into.middle_name, &row.middle_name);
                return;
            }
            self.by_id.insert(id, self.rows.len());
        }
        self.rows.push(row);
    }

    pub fn finish(self, warnings: &mut Vec<Warning>) -> Vec<Contact> {
        let opts = self.opts;
        self.rows
            .into_iter()
            .filter_map(|row| row.finish(opts, warnings))
            .collect()
    }
}
