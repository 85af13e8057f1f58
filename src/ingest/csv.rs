//! CSV in any dialect a contact export comes in: bytes → text → header → rows → contacts.

use super::assemble::{Assembler, Row};
use super::columns::{self, Mapping, Role};
use super::text::{self, delimiter_name};
use super::{IngestError, IngestOptions, Parsed, Report};

/// How many records may stand before the header (export titles, blank lines).
const HEADER_SEARCH_ROWS: usize = 10;
/// How often (in rows) the progress callback hears from us.
const PROGRESS_EVERY: usize = 2_000;

pub fn parse_csv(bytes: &[u8], opts: &IngestOptions) -> Result<Parsed, IngestError> {
    parse_csv_with_progress(bytes, opts, &mut |_, _| {})
}

/// As `parse_csv`, calling `progress(bytes_read, bytes_total)` now and then (for a progress
/// bar on large files).
pub fn parse_csv_with_progress(
    bytes: &[u8],
    opts: &IngestOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Parsed, IngestError> {
    let decoded = text::decode(bytes)?;
    let delimiter = choose_delimiter(&decoded.text, opts);
    if let Some(line) = unclosed_quote(&decoded.text, delimiter) {
        return Err(IngestError::Malformed {
            line,
            message: "a quoted field starts here and never ends; the unbalanced quote (\") would swallow the rest of the file".to_owned(),
        });
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(decoded.text.as_bytes());

    let mut records = reader.records();
    let (headers, mapping) = find_header(&mut records, opts)?;
    let mut report = Report {
        vocabulary: mapping.vocabulary.clone(),
        encoding: decoded.encoding.to_owned(),
        delimiter: delimiter_name(delimiter).to_owned(),
        ..Report::default()
    };
    for (h, role) in headers.iter().zip(&mapping.roles) {
        let name = h.trim_start_matches('\u{feff}').trim().to_owned();
        // A column without a name (a trailing `;` in every line) is nothing a person
        // could look for in the report.
        if name.is_empty() {
            continue;
        }
        match role {
            Some(Role::Known) | None => report.columns_ignored.push(name),
            Some(_) => report.columns_used.push(name),
        }
    }

    let total = decoded.text.len() as u64;
    let lines = LineIndex::new(&decoded.text);
    let mut book = Assembler::new(opts);
    for rec in records {
        let rec = rec.map_err(|e| malformed(&e))?;
        let byte = rec.position().map_or(0, |p| p.byte());
        let line = lines.line_of(byte);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        if report.rows > opts.max_rows {
            return Err(IngestError::TooManyRows { max: opts.max_rows });
        }
        if report.rows % PROGRESS_EVERY == 0 {
            progress(byte, total);
        }
        let mut row = Row::new(line, opts);
        for (i, field) in rec.iter().enumerate() {
            let (Some(Some(role)), Some(header)) = (mapping.roles.get(i), headers.get(i)) else {
                continue;
            };
            let value = field.trim();
            if value.is_empty() || *role == Role::Known {
                continue;
            }
            row.cell(*role, header, value, opts, &mut report.warnings);
        }
        book.add(row, &mut report.warnings);
    }
    progress(total, total);
    let contacts = book.finish(&mut report.warnings);
    report.warnings.sort_by_key(|w| w.line);
    Ok(Parsed { contacts, report })
}

/// The delimiter under which a header is recognised, the one recognising most columns if
/// several do. Counting characters alone misleads: a data row like
/// `WORK:…;MOBILE:…;FAX:…` holds more `;` than the header holds `,`.
fn choose_delimiter(text: &str, opts: &IngestOptions) -> u8 {
    let mut best: Option<(usize, u8)> = None;
    for d in [b',', b';', b'\t', b'|'] {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(d)
            .from_reader(text.as_bytes());
        for rec in reader.records().take(HEADER_SEARCH_ROWS) {
            let Ok(rec) = rec else { break };
            let headers: Vec<String> = rec.iter().map(str::to_owned).collect();
            if let Ok(m) = columns::detect(&headers, opts.map) {
                let score = m.roles.iter().flatten().count();
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, d));
                }
                break;
            }
        }
    }
    best.map_or_else(|| text::sniff_delimiter(densest_line(text)), |(_, d)| d)
}

/// The line among the first few with the most candidate delimiters: a title line above the
/// header must not decide the delimiter.
fn densest_line(text: &str) -> &str {
    text.lines()
        .take(HEADER_SEARCH_ROWS)
        .max_by_key(|l| l.matches([',', ';', '\t', '|']).count())
        .unwrap_or("")
}

/// The line where a quoted field opens that no quote closes. Such a field would run to the
/// end of the file and turn every later row into one garbage cell. A quote counts only at
/// the start of a field, as the CSV reader reads it.
fn unclosed_quote(text: &str, delimiter: u8) -> Option<u64> {
    let delimiter = char::from(delimiter);
    let (mut line, mut opened_at) = (1u64, 0u64);
    let (mut quoted, mut at_field_start) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                opened_at = line;
                at_field_start = false;
            }
            '\n' | '\r' => at_field_start = true,
            c if c == delimiter => at_field_start = true,
            ' ' if at_field_start => {}
            _ => at_field_start = false,
        }
    }
    quoted.then_some(opened_at)
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
    opts: &IngestOptions,
) -> Result<(Vec<String>, Mapping), IngestError> {
    let mut first_error = None;
    for rec in records.take(HEADER_SEARCH_ROWS) {
        let rec = rec.map_err(|e| malformed(&e))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let headers: Vec<String> = rec.iter().map(str::to_owned).collect();
        match columns::detect(&headers, opts.map) {
            Ok(mapping) => return Ok((headers, mapping)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(IngestError::Empty))
}

fn malformed(e: &::csv::Error) -> IngestError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "the line is not valid text".to_owned(),
        _ => e.to_string(),
    };
    IngestError::Malformed { line, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Contact, NumberType};
    use crate::ingest::german_options as opts;

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
    fn many_numbers_in_a_row_do_not_make_semicolon_the_delimiter() {
        let csv = "internal_id,display_name,phone\n\
                   1,Anna,WORK:+4930901820;WORK:+4930901821;MOBILE:+4915112345678;FAX:+4930901829;HOME:+4930901822;OTHER:+4930901823;PAGER:+4930901824\n";
        let p = parse_csv(csv.as_bytes(), &opts()).unwrap();
        assert_eq!(p.report.delimiter, "comma");
        assert_eq!(p.contacts[0].numbers.len(), 7);
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
        // Short files too, and quotes inside unquoted fields or doubled inside quoted ones
        // are no unbalanced quote.
        let short = "display_name,phone\nAnna,+4930901820\nBen \"the boss\",\"+4930901821\nCleo,+4930901822\n";
        assert!(matches!(
            parse_csv(short.as_bytes(), &opts()),
            Err(IngestError::Malformed { line: 3, .. })
        ));
        let fine =
            "display_name,phone\nBen \"the boss\",+4930901821\n\"Cleo \"\"C\"\"\",+4930901822\n";
        let p = parse_csv(fine.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts[1].display_name, "Cleo \"C\"");
    }
}
