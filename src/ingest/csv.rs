//! CSV in any dialect a contact export comes in: bytes → text → header → rows → contacts.

use super::columns::{self, Mapping, Role};
use super::text::{self, delimiter_name};
use super::{IngestError, IngestOptions, Parsed, Report, Warning};
use crate::domain::{Contact, PhoneNumber};
use crate::phone::NumberError;
use std::collections::HashMap;

/// How many records may stand before the header (export titles, blank lines).
const HEADER_SEARCH_ROWS: usize = 10;
/// A field this long or with this many line breaks is an unclosed quote that swallowed
/// the rest of the file, not a contact.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELD_LINES: usize = 200;

pub fn parse_csv(bytes: &[u8], opts: &IngestOptions) -> Result<Parsed, IngestError> {
    let decoded = text::decode(bytes)?;
    let delimiter = text::sniff_delimiter(densest_line(&decoded.text));
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(decoded.text.as_bytes());

    let mut records = reader.records();
    let (headers, mapping) = find_header(&mut records)?;
    let mut report = Report {
        vocabulary: mapping.vocabulary.name.to_owned(),
        encoding: decoded.encoding.to_owned(),
        delimiter: delimiter_name(delimiter).to_owned(),
        ..Report::default()
    };
    for (h, role) in headers.iter().zip(&mapping.roles) {
        let name = h.trim_start_matches('\u{feff}').trim().to_owned();
        match role {
            Some(Role::Known) | None => report.columns_ignored.push(name),
            Some(_) => report.columns_used.push(name),
        }
    }

    let lines = LineIndex::new(&decoded.text);
    let mut book = Assembler::default();
    for rec in records {
        let rec = rec.map_err(|e| malformed(&e))?;
        let line = rec.position().map_or(0, |p| lines.line_of(p.byte()));
        check_fields(&rec, line)?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        if report.rows > opts.max_rows {
            return Err(IngestError::TooManyRows { max: opts.max_rows });
        }
        let mut row = Row {
            line,
            contact: Contact::default(),
        };
        for (i, field) in rec.iter().enumerate() {
            let (Some(Some(role)), Some(header)) = (mapping.roles.get(i), headers.get(i)) else {
                continue;
            };
            let value = field.trim();
            if value.is_empty() {
                continue;
            }
            match *role {
                Role::Phone(kind) => {
                    for piece in split_numbers(value) {
                        match opts.rules.parse_typed(piece, kind) {
                            Ok(n) => row.contact.add_number(n),
                            Err(NumberError::Empty) => {}
                            Err(e) => report.warnings.push(Warning {
                                line,
                                column: header.trim().to_owned(),
                                value: piece.trim().to_owned(),
                                message: e.to_string(),
                            }),
                        }
                    }
                }
                Role::Known => {}
                text_role => set_text(&mut row.contact, text_role, value),
            }
        }
        book.add(row);
    }
    let contacts = book.finish(&mut report.warnings);
    report.warnings.sort_by_key(|w| w.line);
    Ok(Parsed { contacts, report })
}

/// The line among the first few with the most candidate delimiters: a title line above the
/// header must not decide the delimiter.
fn densest_line(text: &str) -> &str {
    text.lines()
        .take(HEADER_SEARCH_ROWS)
        .max_by_key(|l| l.matches([',', ';', '\t', '|']).count())
        .unwrap_or("")
}

/// Line numbers as a person counts them in an editor, from byte offsets.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// After a `\r\n` the reader's next record starts at the `\n`, so a line break at the
    /// start offset still belongs to the line before.
    fn line_of(&self, byte: u64) -> u64 {
        let byte = usize::try_from(byte).unwrap_or(usize::MAX);
        self.0.partition_point(|&nl| nl <= byte) as u64 + 1
    }
}

fn find_header(
    records: &mut ::csv::StringRecordsIter<&[u8]>,
) -> Result<(Vec<String>, Mapping), IngestError> {
    let mut first_error = None;
    for rec in records.take(HEADER_SEARCH_ROWS) {
        let rec = rec.map_err(|e| malformed(&e))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let headers: Vec<String> = rec.iter().map(str::to_owned).collect();
        match columns::detect(&headers) {
            Ok(mapping) => return Ok((headers, mapping)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(IngestError::Empty))
}

fn check_fields(rec: &::csv::StringRecord, line: u64) -> Result<(), IngestError> {
    for f in rec.iter() {
        if f.len() > MAX_FIELD_BYTES || f.matches('\n').count() > MAX_FIELD_LINES {
            return Err(IngestError::Malformed {
                line,
                message: "a quoted field starts here and does not end; an unbalanced quote (\") swallows the rest of the file".to_owned(),
            });
        }
    }
    Ok(())
}

fn malformed(e: &::csv::Error) -> IngestError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "the line is not valid text".to_owned(),
        _ => e.to_string(),
    };
    IngestError::Malformed { line, message }
}

/// One cell may hold several numbers: `;`, `,`, line breaks, or Google's ` ::: `.
fn split_numbers(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ',', '\n', '\r'])
        .flat_map(|p| p.split(":::"))
        .filter(|p| !p.trim().is_empty())
}

fn set_text(c: &mut Contact, role: Role, value: &str) {
    let slot = match role {
        Role::InternalId => &mut c.external_id,
        Role::DisplayName => &mut c.display_name,
        Role::GivenName => &mut c.given_name,
        Role::FamilyName => &mut c.family_name,
        Role::Company => &mut c.company,
        Role::Department => &mut c.department,
        Role::Position => &mut c.position,
        Role::Email => &mut c.email,
        Role::Group => &mut c.group,
        Role::Phone(_) | Role::Known => return,
    };
    // With repeated columns the first value wins; later ones add nothing.
    if slot.is_empty() {
        *slot = value.to_owned();
    }
}

struct Row {
    line: u64,
    contact: Contact,
}

/// Folds rows that share an `internal_id` into one contact, in first-seen order.
#[derive(Default)]
struct Assembler {
    rows: Vec<Row>,
    by_id: HashMap<String, usize>,
}

impl Assembler {
    fn add(&mut self, row: Row) {
        let id = row.contact.external_id.clone();
        if !id.is_empty() {
            if let Some(&i) = self.by_id.get(&id) {
                let into = &mut self.rows[i].contact;
                for n in &row.contact.numbers {
                    into.add_number(n.clone());
                }
                for role in [
                    Role::DisplayName,
                    Role::GivenName,
                    Role::FamilyName,
                    Role::Company,
                    Role::Department,
                    Role::Position,
                    Role::Email,
                    Role::Group,
                ] {
                    let v = text_of(&row.contact, role).to_owned();
                    if !v.is_empty() {
                        set_text(into, role, &v);
                    }
                }
                return;
            }
            self.by_id.insert(id, self.rows.len());
        }
        self.rows.push(row);
    }

    fn finish(self, warnings: &mut Vec<Warning>) -> Vec<Contact> {
        let mut out = Vec::with_capacity(self.rows.len());
        for Row { line, mut contact } in self.rows {
            if contact.display_name.is_empty() {
                contact.display_name = fallback_name(&contact);
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

fn text_of(c: &Contact, role: Role) -> &str {
    match role {
        Role::InternalId => &c.external_id,
        Role::DisplayName => &c.display_name,
        Role::GivenName => &c.given_name,
        Role::FamilyName => &c.family_name,
        Role::Company => &c.company,
        Role::Department => &c.department,
        Role::Position => &c.position,
        Role::Email => &c.email,
        Role::Group => &c.group,
        Role::Phone(_) | Role::Known => "",
    }
}

/// Given and family name, else the company.
fn fallback_name(c: &Contact) -> String {
    let person = format!("{} {}", c.given_name, c.family_name)
        .trim()
        .to_owned();
    if person.is_empty() {
        c.company.clone()
    } else {
        person
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NumberType;
    use crate::phone::NumberRules;

    fn opts() -> IngestOptions {
        IngestOptions {
            rules: NumberRules {
                region: Some("DE".parse().unwrap()),
                max_extension_digits: 6,
            },
            ..Default::default()
        }
    }

    fn numbers(c: &Contact) -> Vec<String> {
        c.numbers.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn rows_with_the_same_internal_id_and_repeated_phone_columns_make_one_contact() {
        let csv = "internal_id,display_name,phone,phone\n\
                   7,Anna,WORK:+4930901820,MOBILE:+4915112345678\n\
                   7,,HOME:+4930901821\n\
                   8,Ben,42,\n";
        let p = parse_csv(csv.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts.len(), 2);
        assert_eq!(
            numbers(&p.contacts[0]),
            vec![
                "WORK:+4930901820",
                "MOBILE:+4915112345678",
                "HOME:+4930901821"
            ]
        );
        assert_eq!(numbers(&p.contacts[1]), vec!["EXTENSION:42"]);
    }

    #[test]
    fn numbers_split_on_semicolons_commas_and_line_breaks() {
        let csv = "display_name,phone\nAnna,\"WORK:+4930901820; MOBILE:+4915112345678,\nFAX:+4930901829\"\n";
        let p = parse_csv(csv.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts[0].numbers.len(), 3);
        assert_eq!(p.contacts[0].numbers[2].kind, NumberType::Fax);
    }

    #[test]
    fn bad_numbers_become_warnings_with_line_and_column() {
        let csv = "display_name,phone\r\nAnna,WORK:+4930901820;WORK:12345678901234567\r\nBen,WROK:+4930901820\r\n";
        let p = parse_csv(csv.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts.len(), 1);
        let w = &p.report.warnings;
        assert_eq!(w[0].line, 2);
        assert_eq!(w[0].column, "phone");
        assert_eq!(w[0].value, "WORK:12345678901234567");
        assert_eq!(w[1].line, 3);
        assert!(
            w[1].message.contains("`WROK` is not a number type"),
            "{w:?}"
        );
        assert!(
            w[2].message.contains("`Ben` has no usable phone number"),
            "{w:?}"
        );
    }

    #[test]
    fn display_name_falls_back_to_given_family_then_company() {
        let csv = "given_name,family_name,company,phone_work\nAnna,Schmidt,ACME,+4930901820\n,,ACME,+4930901821\n";
        let p = parse_csv(csv.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts[0].display_name, "Anna Schmidt");
        assert_eq!(p.contacts[1].display_name, "ACME");
    }

    #[test]
    fn unclosed_quote_is_refused() {
        let mut csv = String::from("display_name,phone\n\"Anna,+4930901820\n");
        for _ in 0..300 {
            csv.push_str("Ben,+4930901821\n");
        }
        assert!(matches!(
            parse_csv(csv.as_bytes(), &opts()),
            Err(IngestError::Malformed { line: 2, .. })
        ));
    }
}
