//! The sync.blue directory CSV: `internal_id,display_name,family_name,given_name,phone,email`,
//! numbers as `TYPE:NUMBER` joined by `;`.

use super::{Presenter, RenderError, Rendered, CSV};
use crate::domain::Contact;

pub const HEADER: [&str; 6] = [
    "internal_id",
    "display_name",
    "family_name",
    "given_name",
    "phone",
    "email",
];

pub fn render(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(contacts.len() * 96 + 64));
    w.write_record(HEADER)?;
    for c in contacts {
        let phone = c
            .numbers
            .iter()
            .map(|n| format!("{}:{}", n.kind, p.show(n)))
            .collect::<Vec<_>>()
            .join(";");
        w.write_record([
            defuse(&c.external_id).as_ref(),
            &defuse(&c.display_name),
            &defuse(&c.family_name),
            &defuse(&c.given_name),
            &phone,
            &defuse(&c.email),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(Rendered {
        body: String::from_utf8_lossy(&bytes).into_owned(),
        content_type: CSV,
        notice: None,
    })
}

/// A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading apostrophe, so opening an export cannot run code (OWASP CSV injection).
fn defuse(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NumberType, PhoneNumber};

    #[test]
    fn writes_typed_numbers_and_defuses_formulas() {
        let c = Contact {
            external_id: "1".into(),
            display_name: "=HYPERLINK(\"x\")".into(),
            given_name: "Anna, Maria".into(),
            email: "@evil".into(),
            numbers: vec![
                PhoneNumber {
                    kind: NumberType::Work,
                    value: "+4923648873040".into(),
                },
                PhoneNumber {
                    kind: NumberType::Extension,
                    value: "42".into(),
                },
            ],
            ..Default::default()
        };
        let out = render(&[&c], &Presenter::default()).unwrap().body;
        assert_eq!(
            out,
            "internal_id,display_name,family_name,given_name,phone,email\r\n\
             1,\"'=HYPERLINK(\"\"x\"\")\",,\"Anna, Maria\",WORK:+4923648873040;EXTENSION:42,'@evil\r\n"
        );
    }
}
