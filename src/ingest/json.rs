//! JSON for internal applications: an array of contacts (or `{"contacts": [...]}`), each
//! with the same fields as the CSV and its numbers typed:
//!
//! ```json
//! [{"internal_id": "7", "display_name": "Anna Schmidt", "company": "ACME",
//!   "numbers": [{"type": "WORK", "number": "+49 89 1234567"}, "MOBILE:0171 2345678"]}]
//! ```
//!
//! Warnings name the contact's position in the array (1-based) as their `line`.

use super::assemble::{Assembler, Row};
use super::columns::Role;
use super::{IngestError, IngestOptions, Parsed, Report, Warning};
use crate::domain::NumberType;
use crate::phone::NumberError;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    contacts: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    #[serde(default, alias = "external_id")]
    internal_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    group: Option<String>,
    /// The CSV's `phone` cell: `WORK:+49…;MOBILE:+49…`.
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    numbers: Vec<Number>,
}

/// One entry of `numbers`: `"MOBILE:+49…"` or `{"type": "MOBILE", "number": "+49…"}`.
/// Read by hand rather than as an untagged enum, whose only error is "did not match any
/// variant": a person needs to hear which key is missing or unknown.
enum Number {
    Typed {
        kind: Option<String>,
        number: String,
    },
    Text(String),
}

const NUMBER_SHAPE: &str =
    r#"write a number as "MOBILE:+49…" or {"type": "MOBILE", "number": "+49…"}"#;

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl<'de> serde::de::Visitor<'de> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(NUMBER_SHAPE)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
        Ok(Number::Text(v.to_owned()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Number, A::Error> {
        use serde::de::Error;
        let (mut kind, mut number) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "type" => &mut kind,
                "number" => &mut number,
                other => {
                    return Err(A::Error::custom(format!(
                        "a number has the keys \"type\" and \"number\", not \"{}\"; {NUMBER_SHAPE}",
                        other.chars().take(40).collect::<String>()
                    )))
                }
            };
            if slot.is_some() {
                return Err(A::Error::custom(format!(
                    "a number gives \"{key}\" twice; {NUMBER_SHAPE}"
                )));
            }
            *slot = Some(map.next_value::<Option<String>>()?.unwrap_or_default());
        }
        let Some(number) = number else {
            return Err(A::Error::custom(format!(
                "a number object has no \"number\"{}; {NUMBER_SHAPE}",
                kind.as_deref()
                    .map(|k| format!(" (its type is {k})"))
                    .unwrap_or_default()
            )));
        };
        Ok(Number::Typed {
            kind: kind.filter(|k| !k.trim().is_empty()),
            number,
        })
    }
}

pub fn parse_json(bytes: &[u8], opts: &IngestOptions) -> Result<Parsed, IngestError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::Empty);
    }
    let at = |e: serde_json::Error| IngestError::Json {
        line: e.line(),
        column: e.column(),
        message: json_message(bytes, &e),
    };
    // Not an untagged enum: serde would forget where inside the document an error is.
    let items: Vec<Item> = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {
            serde_json::from_slice::<Wrapped>(bytes)
                .map_err(at)?
                .contacts
        }
        _ => serde_json::from_slice(bytes).map_err(at)?,
    };
    if items.len() > opts.max_rows {
        return Err(IngestError::TooManyRows { max: opts.max_rows });
    }
    let mut report = Report {
        vocabulary: "json".to_owned(),
        encoding: "UTF-8".to_owned(),
        rows: items.len(),
        ..Report::default()
    };
    let mut book = Assembler::new(opts);
    for (i, item) in items.into_iter().enumerate() {
        let mut row = Row::new(i as u64 + 1, opts);
        let texts = [
            (Role::InternalId, "internal_id", item.internal_id),
            (Role::DisplayName, "display_name", item.display_name),
            (Role::GivenName, "given_name", item.given_name),
            (Role::FamilyName, "family_name", item.family_name),
            (Role::Company, "company", item.company),
            (Role::Department, "department", item.department),
            (Role::Position, "position", item.position),
            (Role::Email, "email", item.email),
            (Role::Group, "group", item.group),
            (Role::Phone(NumberType::Work), "phone", item.phone),
        ];
        for (role, column, value) in texts {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                row.cell(role, column, v, opts, &mut report.warnings);
            }
        }
        for (j, n) in item.numbers.into_iter().enumerate() {
            let column = format!("numbers[{j}]");
            let (kind, number) = match n {
                Number::Text(t) => (NumberType::Work, t),
                Number::Typed { kind: None, number } => (NumberType::Work, number),
                Number::Typed {
                    kind: Some(k),
                    number,
                } => match NumberType::from_alias(&k) {
                    Some(t) => (t, number),
                    None => {
                        report.warnings.push(Warning {
                            line: row.line,
                            column,
                            value: format!("{k}:{number}"),
                            message: NumberError::UnknownType(k).to_string(),
                        });
                        continue;
                    }
                },
            };
            row.cell(
                Role::Phone(kind),
                &column,
                &number,
                opts,
                &mut report.warnings,
            );
        }
        book.add(row, &mut report.warnings);
    }
    let contacts = book.finish(&mut report.warnings);
    report.warnings.sort_by_key(|w| w.line);
    Ok(Parsed { contacts, report })
}

/// serde's message, with the shape we expect when the top level is wrong.
fn json_message(bytes: &[u8], e: &serde_json::Error) -> String {
    let starts_ok = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[' || *b == b'{');
    if !starts_ok {
        format!(
            "{e}; expected an array of contacts like [{{\"display_name\": \"Anna\", \"numbers\": [{{\"type\": \"WORK\", \"number\": \"+4930901820\"}}]}}]"
        )
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::german_options as opts;

    #[test]
    fn reads_typed_numbers_in_both_shapes() {
        let j = r#"{"contacts": [
            {"internal_id": "7", "given_name": "Anna", "family_name": "Schmidt",
             "numbers": [{"type": "work", "number": "089 1234567"}, "MOBILE:0171 2345678", {"number": "42"}]},
            {"display_name": "Ben", "phone": "WORK:+4930901820;FAX:+4930901829"},
            {"display_name": "Cleo", "numbers": [{"type": "boat", "number": "+4930901821"}]}
        ]}"#;
        let p = parse_json(j.as_bytes(), &opts()).unwrap();
        assert_eq!(p.contacts.len(), 2);
        assert_eq!(p.contacts[0].display_name, "Anna Schmidt");
        let nums: Vec<String> = p.contacts[0]
            .numbers
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            nums,
            vec!["WORK:+49891234567", "MOBILE:+491712345678", "EXTENSION:42"]
        );
        assert_eq!(p.contacts[1].numbers.len(), 2);
        let w = &p.report.warnings;
        assert_eq!((w[0].line, w[0].column.as_str()), (3, "numbers[0]"));
        assert!(w[0].message.contains("`boat` is not a number type"));
    }

    #[test]
    fn a_number_object_without_number_says_so() {
        for (json, want) in [
            (
                r#"[{"display_name": "A", "numbers": [{"type": "WORK"}]}]"#,
                r#"a number object has no "number" (its type is WORK)"#,
            ),
            (
                r#"[{"display_name": "A", "numbers": [{"type": "WORK", "nummer": "1"}]}]"#,
                r#"not "nummer""#,
            ),
            (
                r#"[{"display_name": "A", "numbers": [42]}]"#,
                r#"write a number as "MOBILE:+49…""#,
            ),
        ] {
            match parse_json(json.as_bytes(), &opts()) {
                Err(IngestError::Json {
                    line: 1, message, ..
                }) => {
                    assert!(message.contains(want), "{json}: {message}");
                    assert!(!message.contains("variant"), "{message}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn errors_name_the_place() {
        match parse_json(b"[{\"display_name\": \"A\",\n \"diplay\": 1}]", &opts()) {
            Err(IngestError::Json {
                line: 2, message, ..
            }) => {
                assert!(message.contains("diplay"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json(b"\"hello\"", &opts()),
            Err(IngestError::Json { .. })
        ));
    }
}
