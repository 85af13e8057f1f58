//! From cells to contacts: the rules every input shape shares. Rows with one
//! `internal_id` fold into one contact, numbers are read with the push's rules, a missing
//! display name is built from the other names, and everything that cannot be stored
//! becomes a warning with its line.

use super::columns::Role;
use super::Warning;
use crate::domain::{composed_name, Contact, NumberType, PhoneNumber};
use crate::phone::{NumberError, NumberRules};
use std::collections::HashMap;

/// One input row (a CSV record, a JSON array item) on its way to a contact.
pub struct Row {
    pub line: u64,
    pub contact: Contact,
    middle_name: String,
    /// Google's `Phone N - Label` cells, by slot.
    labels: Vec<(u8, String)>,
    /// (slot, value, column) of Google's `Phone N - Value` cells.
    slot_values: Vec<(u8, String, String)>,
}

impl Row {
    pub fn new(line: u64) -> Row {
        Row {
            line,
            contact: Contact::default(),
            middle_name: String::new(),
            labels: Vec::new(),
            slot_values: Vec::new(),
        }
    }

    /// Takes one non-empty cell of a column with `role`.
    pub fn cell(
        &mut self,
        role: Role,
        column: &str,
        value: &str,
        rules: &NumberRules,
        warnings: &mut Vec<Warning>,
    ) {
        match role {
            Role::Phone(kind) => self.numbers(value, kind, column, rules, warnings),
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

    /// Reads every number of a cell (`;`, `,`, line breaks or ` ::: ` between them).
    pub fn numbers(
        &mut self,
        cell: &str,
        kind: NumberType,
        column: &str,
        rules: &NumberRules,
        warnings: &mut Vec<Warning>,
    ) {
        for piece in split_numbers(cell) {
            match rules.parse_typed(piece, kind) {
                Ok(n) => self.contact.add_number(n),
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
    fn resolve_slots(&mut self, rules: &NumberRules, warnings: &mut Vec<Warning>) {
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
            self.numbers(&value, kind, &column, rules, warnings);
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
    rules: &'a NumberRules,
    rows: Vec<Row>,
    by_id: HashMap<String, usize>,
}

impl<'a> Assembler<'a> {
    pub fn new(rules: &'a NumberRules) -> Self {
        Assembler {
            rules,
            rows: Vec::new(),
            by_id: HashMap::new(),
        }
    }

    pub fn add(&mut self, mut row: Row, warnings: &mut Vec<Warning>) {
        row.resolve_slots(self.rules, warnings);
        let id = row.contact.external_id.clone();
        if !id.is_empty() {
            if let Some(&i) = self.by_id.get(&id) {
                let into = &mut self.rows[i];
                let from = row.contact;
                for n in from.numbers {
                    into.contact.add_number(n);
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
        let mut out = Vec::with_capacity(self.rows.len());
        for Row {
            line,
            mut contact,
            middle_name,
            ..
        } in self.rows
        {
            if contact.display_name.is_empty() {
                contact.display_name = composed_name(
                    &contact.given_name,
                    &middle_name,
                    &contact.family_name,
                    &contact.company,
                );
            }
            if contact.display_name.is_empty() {
                warnings.push(Warning {
                    line,
                    column: String::new(),
                    value: contact
                        .numbers
                        .first()
                        .map(PhoneNumber::to_string)
                        .unwrap_or_default(),
                    message: "the row has no name; fill display_name, given_name/family_name or company. The row was not stored".to_owned(),
                });
                continue;
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
                continue;
            }
            out.push(contact);
        }
        out
    }
}
