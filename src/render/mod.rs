//! Phone books in every dialect a phone reads. Each module is a pure function from a list of
//! contacts (the book, or what a search or lookup found in it) and a number shape to one
//! body; the HTTP layer picks the module by URL and adds caching headers.
//!
//! XML is written through askama templates (templates/), which escape `& < > " '` in
//! every value.

pub mod cisco;
pub mod csv;
pub mod fanvil;
pub mod fritzbox;
pub mod gigaset;
pub mod grandstream;
pub mod paging;
pub mod shape;
pub mod snom;
pub mod vcard;
pub mod yealink;

use crate::domain::Contact;
pub use crate::domain::ShapeError;
pub use shape::{Presenter, ShapeParams};

pub const XML: &str = "text/xml; charset=utf-8";
pub const CSV: &str = "text/csv; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("csv: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("csv: {0}")]
    CsvFlush(#[from] std::io::Error),
}

/// Escapes for XML with the five named entities only (`&amp;` and not `&#38;`): phone
/// firmware parsers are known to handle these and little else. The CardDAV answers use it
/// too.
#[derive(Clone, Copy, Debug, Default)]
pub struct XmlEscaper;

impl askama::filters::Escaper for XmlEscaper {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, s: &str) -> std::fmt::Result {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&apos;",
                // Characters XML 1.0 cannot carry even escaped: a parser would refuse the
                // whole document for one stray byte in one name.
                0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f => "\u{fffd}",
                _ => continue,
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&s[last..])
    }
}

/// A rendered phone book.
#[derive(Debug)]
pub struct Rendered {
    pub body: String,
    pub content_type: &'static str,
    /// What a device limit cut, for a response header and the directory status.
    pub notice: Option<String>,
}

impl Rendered {
    fn xml(body: String) -> Self {
        Rendered {
            body,
            content_type: XML,
            notice: None,
        }
    }
}

/// The book's title as phones show it.
pub fn title(name: &str) -> &str {
    if name.trim().is_empty() {
        "Contacts"
    } else {
        name
    }
}

/// Cuts `s` to `max` characters (not bytes), for devices with short name fields.
pub fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// One labelled entry per number, for formats whose entries hold a single number: with
/// several numbers the type goes into the name (`Oliver Baltz (Mobile)`). `max_name` cuts
/// the person's name, never the label, so entries stay tellable apart on short displays.
pub struct NamedNumber {
    pub name: String,
    pub number: String,
}

pub fn per_number(contacts: &[&Contact], p: &Presenter, max_name: usize) -> Vec<NamedNumber> {
    let mut entries = Vec::new();
    for c in contacts {
        let nums = c.numbers_by_preference();
        let labelled = nums.len() > 1;
        for n in nums {
            let name = if labelled {
                let label = n.kind.label();
                let room = max_name.saturating_sub(label.chars().count() + 3);
                format!("{} ({label})", cut(&c.display_name, room))
            } else {
                cut(&c.display_name, max_name)
            };
            entries.push(NamedNumber {
                name,
                number: p.show(n),
            });
        }
    }
    entries
}

/// Given and family name for formats that want them apart; a contact known only by its
/// display name (a company, a hotline) goes into the family-name field, which phones sort
/// and show first.
pub fn split_name(c: &Contact) -> (&str, &str) {
    if c.given_name.is_empty() && c.family_name.is_empty() {
        ("", &c.display_name)
    } else {
        (&c.given_name, &c.family_name)
    }
}

/// The whole-book formats, by the names the CLI and the docs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Yealink,
    YealinkDirectory,
    Snom,
    SnomTbook,
    SnomDect,
    GigasetCentral,
    Grandstream,
    Fanvil,
    FritzBox,
    Vcard3,
    Vcard4,
}

impl Format {
    pub const NAMES: [&'static str; 12] = [
        "csv",
        "yealink",
        "yealink-directory",
        "snom",
        "snom-tbook",
        "snom-dect",
        "gigaset-central",
        "grandstream",
        "fanvil",
        "fritzbox",
        "vcard",
        "vcard4",
    ];

    pub fn from_name(s: &str) -> Option<Format> {
        Some(match s {
            "csv" => Format::Csv,
            "yealink" => Format::Yealink,
            "yealink-directory" => Format::YealinkDirectory,
            "snom" => Format::Snom,
            "snom-tbook" => Format::SnomTbook,
            "snom-dect" => Format::SnomDect,
            "gigaset-central" => Format::GigasetCentral,
            "grandstream" => Format::Grandstream,
            "fanvil" => Format::Fanvil,
            "fritzbox" => Format::FritzBox,
            "vcard" => Format::Vcard3,
            "vcard4" => Format::Vcard4,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Yealink => "yealink",
            Format::YealinkDirectory => "yealink-directory",
            Format::Snom => "snom",
            Format::SnomTbook => "snom-tbook",
            Format::SnomDect => "snom-dect",
            Format::GigasetCentral => "gigaset-central",
            Format::Grandstream => "grandstream",
            Format::Fanvil => "fanvil",
            Format::FritzBox => "fritzbox",
            Format::Vcard3 => "vcard",
            Format::Vcard4 => "vcard4",
        }
    }

    pub fn render(
        self,
        book_title: &str,
        contacts: &[&Contact],
        p: &Presenter,
    ) -> Result<Rendered, RenderError> {
        match self {
            Format::Csv => csv::render(contacts, p),
            Format::Yealink => yealink::book(book_title, contacts, p),
            Format::YealinkDirectory => yealink::directory(contacts, p),
            Format::Snom => snom::directory(book_title, contacts, p),
            Format::SnomTbook => snom::tbook(contacts, p),
            Format::SnomDect => snom::dect(contacts, p),
            Format::GigasetCentral => gigaset::central(contacts, p),
            Format::Grandstream => grandstream::book(contacts, p),
            Format::Fanvil => fanvil::directory(contacts, p),
            Format::FritzBox => fritzbox::book(book_title, contacts, p),
            Format::Vcard3 => vcard::render(contacts, p, vcard::Version::V3),
            Format::Vcard4 => vcard::render(contacts, p, vcard::Version::V4),
        }
    }
}

/// A device limit that cuts this book in one format, for the directory's status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceWarning {
    pub format: &'static str,
    pub notice: String,
}

/// What every whole-book format would cut from this book, found by rendering it: the same
/// code that cuts is the code that reports, so the status cannot disagree with the phones.
pub fn device_warnings(book_title: &str, contacts: &[&Contact]) -> Vec<DeviceWarning> {
    let p = Presenter::default();
    Format::NAMES
        .iter()
        .filter_map(|n| Format::from_name(n))
        .filter_map(|f| {
            let notice = f.render(book_title, contacts, &p).ok()?.notice?;
            Some(DeviceWarning {
                format: f.name(),
                notice,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NumberType, PhoneNumber};

    #[test]
    fn device_warnings_name_each_format_that_cuts() {
        let numbers = (0..10)
            .map(|i| PhoneNumber {
                kind: NumberType::Work,
                value: format!("+49309018{:02}", 20 + i),
            })
            .collect();
        let c = Contact {
            display_name: "Viele".into(),
            numbers,
            ..Default::default()
        };
        let w = device_warnings("", &[&c]);
        let formats: Vec<&str> = w.iter().map(|w| w.format).collect();
        assert_eq!(
            formats,
            vec!["yealink", "snom-dect", "gigaset-central", "fritzbox"]
        );
        assert!(
            w[2].notice.contains("8 numbers left out"),
            "{}",
            w[2].notice
        );
        assert!(
            w[3].notice.contains("1 numbers left out"),
            "{}",
            w[2].notice
        );
        assert!(device_warnings("", &[]).is_empty());
    }

    #[test]
    fn every_format_name_reads_back() {
        for n in Format::NAMES {
            assert_eq!(Format::from_name(n).map(Format::name), Some(n));
        }
    }
}
