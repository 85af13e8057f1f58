//! vCard: one `.vcf` with every contact, 3.0 (RFC 2426, what most phones and mail clients
//! import) or 4.0 (RFC 6350).

use super::{Presenter, RenderError, Rendered};
use crate::domain::{Contact, NumberType};

pub const VCARD: &str = "text/vcard; charset=utf-8";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V3,
    V4,
}

pub fn render(contacts: &[&Contact], p: &Presenter, v: Version) -> Result<Rendered, RenderError> {
    let mut out = String::with_capacity(contacts.len() * 200);
    for c in contacts {
        card(&mut out, c, p, v);
    }
    Ok(Rendered {
        body: out,
        content_type: VCARD,
        notice: None,
    })
}

/// One contact's card, appended to `out`. Its `UID` is the contact's stable id
/// (`urn:uuid:`-free text, as both versions allow), so an address book that imports the file
/// again updates its cards instead of doubling them.
pub fn card(out: &mut String, c: &Contact, p: &Presenter, v: Version) {
    line(out, "BEGIN:VCARD");
    line(
        out,
        match v {
            Version::V3 => "VERSION:3.0",
            Version::V4 => "VERSION:4.0",
        },
    );
    let uid = c.id.to_string();
    match v {
        Version::V3 => line(out, &format!("UID:{}", escape(&uid))),
        Version::V4 => line(out, &format!("UID;VALUE=text:{}", escape(&uid))),
    }
    line(out, &format!("FN:{}", escape(&c.display_name)));
    line(
        out,
        &format!("N:{};{};;;", escape(&c.family_name), escape(&c.given_name)),
    );
    if !c.company.is_empty() || !c.department.is_empty() {
        let org = if c.department.is_empty() {
            escape(&c.company)
        } else {
            format!("{};{}", escape(&c.company), escape(&c.department))
        };
        line(out, &format!("ORG:{org}"));
    }
    if !c.position.is_empty() {
        line(out, &format!("TITLE:{}", escape(&c.position)));
    }
    if !c.email.is_empty() {
        match v {
            Version::V3 => line(out, &format!("EMAIL;TYPE=INTERNET:{}", escape(&c.email))),
            Version::V4 => line(out, &format!("EMAIL:{}", escape(&c.email))),
        }
    }
    for n in c.numbers_by_preference() {
        let shown = p.show(n);
        let types = tel_types(n.kind);
        let l = match v {
            Version::V3 => format!("TEL;TYPE={}:{}", types.to_ascii_uppercase(), shown),
            // Only a global number is a `tel:` URI without a phone-context; the rest stays text.
            Version::V4 if shown.starts_with('+') => {
                format!("TEL;VALUE=uri;TYPE=\"{types}\":tel:{shown}")
            }
            Version::V4 => format!("TEL;TYPE=\"{types}\":{}", escape(&shown)),
        };
        line(out, &l);
    }
    if !c.group.is_empty() {
        line(out, &format!("CATEGORIES:{}", escape(&c.group)));
    }
    line(out, "END:VCARD");
}

/// The vCard TYPE values of a number, as both versions write them.
pub fn tel_types(t: NumberType) -> &'static str {
    match t {
        NumberType::Work | NumberType::Extension => "work,voice",
        NumberType::Home => "home,voice",
        NumberType::Mobile => "cell,voice",
        NumberType::Fax => "work,fax",
        NumberType::Pager => "pager",
        NumberType::Other => "voice",
    }
}

/// Text value escaping shared by both versions: backslash, comma, semicolon, newline.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => o.push_str("\\\\"),
            ',' => o.push_str("\\,"),
            ';' => o.push_str("\\;"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Writes one content line, folded at 75 octets without splitting a character.
fn line(out: &mut String, l: &str) {
    let mut width = 0;
    for ch in l.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let mut out = String::new();
        let l = format!("FN:{}", "ü".repeat(60));
        line(&mut out, &l);
        for physical in out.split("\r\n").filter(|s| !s.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{l}\r\n"));
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
