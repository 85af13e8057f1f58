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

/// The bytes `XmlEscaper` looks at: markup, controls, and the lead bytes of C1 controls and
/// of U+FFFE/U+FFFF.
const ATTENTION: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[0x7f] = true;
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[0xc2] = true;
    t[0xef] = true;
    t
};

impl askama::filters::Escaper for XmlEscaper {
    /// Escapes markup and drops what XML 1.0 cannot carry (C0 controls other than tab and
    /// line breaks, DEL, C1 controls, U+FFFE/U+FFFF): ingest removes them already, this is
    /// the second line of defence, so one stray character never makes a book unparseable.
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, s: &str) -> std::fmt::Result {
        let b = s.as_bytes();
        // Most names and every number need nothing: one look at each byte finds that, and
        // the text is written whole.
        let Some(mut i) = b.iter().position(|&c| ATTENTION[usize::from(c)]) else {
            return dest.write_str(s);
        };
        let mut last = 0;
        while i < b.len() {
            let (entity, len) = match b[i] {
                b'&' => ("&amp;", 1),
                b'<' => ("&lt;", 1),
                b'>' => ("&gt;", 1),
                b'"' => ("&quot;", 1),
                b'\'' => ("&apos;", 1),
                b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                0..=0x1f | 0x7f => ("", 1),
                // U+0080–U+009F in UTF-8.
                0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => ("", 2),
                // U+FFFE and U+FFFF.
                0xef if b.get(i + 1) == Some(&0xbf)
                    && matches!(b.get(i + 2), Some(0xbe | 0xbf)) =>
                {
                    ("", 3)
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            i += len;
            last = i;
        }
        dest.write_str(&s[last..])
    }
}

#[cfg(test)]
mod escaper_tests {
    use askama::filters::Escaper;

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_carry() {
        let mut out = String::new();
        super::XmlEscaper
            .write_escaped_str(
                &mut out,
                "A&B <x> \"q\" 'a'\t\u{1b}[2J\u{85}\u{fffe}\u{ffff}\u{7f}\u{0}Zoë\u{fffd}",
            )
            .unwrap();
        assert_eq!(
            out,
            "A&amp;B &lt;x&gt; &quot;q&quot; &apos;a&apos;\t[2JZoë\u{fffd}"
        );
        assert!(roxmltree::Document::parse(&format!("<a>{out}</a>")).is_ok());
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
    per_number_counting(contacts, p, max_name).0
}

/// `per_number`, and how many entries' names were cut to fit `max_name`.
pub fn per_number_counting(
    contacts: &[&Contact],
    p: &Presenter,
    max_name: usize,
) -> (Vec<NamedNumber>, usize) {
    let mut entries = Vec::new();
    let mut names_cut = 0;
    for c in contacts {
        let nums = c.numbers_by_preference();
        let labelled = nums.len() > 1;
        let name_chars = c.display_name.chars().count();
        for n in nums {
            let room = if labelled {
                max_name.saturating_sub(n.kind.label().chars().count() + 3)
            } else {
                max_name
            };
            if name_chars > room {
                names_cut += 1;
            }
            let name = if labelled {
                format!("{} ({})", cut(&c.display_name, room), n.kind.label())
            } else {
                cut(&c.display_name, max_name)
            };
            entries.push(NamedNumber {
                name,
                number: p.show(n),
            });
        }
    }
    (entries, names_cut)
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceWarning {
    pub format: &'static str,
    pub notice: String,
}

/// What every whole-book format would cut from this book, found by rendering it: the same
/// code that cuts is the code that reports, so the status cannot disagree with the phones.
pub fn device_warnings(book_title: &str, contacts: &[&Contact]) -> Vec<DeviceWarning> {
    let p = Presenter::default();
    let mut warnings: Vec<DeviceWarning> = Format::NAMES
        .iter()
        .filter_map(|n| Format::from_name(n))
        .filter_map(|f| {
            let notice = f.render(book_title, contacts, &p).ok()?.notice?;
            Some(DeviceWarning {
                format: f.name(),
                notice,
            })
        })
        .collect();
    // Gigaset's online directory and Cisco's screens answer queries rather than being one
    // file; their notices come from the same code their answers are made of.
    for (format, notice) in [
        ("gigaset", gigaset::online_notice_for(contacts)),
        ("cisco", cisco::notice_for(contacts)),
    ] {
        if let Some(notice) = notice {
            warnings.push(DeviceWarning { format, notice });
        }
    }
    warnings
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
            vec![
                "yealink",
                "snom-dect",
                "gigaset-central",
                "fritzbox",
                "gigaset"
            ]
        );
        assert!(
            w[4].notice
                .starts_with("9 numbers shown as entries of their own"),
            "{}",
            w[4].notice
        );
        assert!(
            w[2].notice.contains("8 numbers left out"),
            "{}",
            w[2].notice
        );
        assert!(w[3].notice.contains("1 number left out"), "{}", w[2].notice);
        assert!(device_warnings("", &[]).is_empty());
    }

    #[test]
    fn every_format_name_reads_back() {
        for n in Format::NAMES {
            assert_eq!(Format::from_name(n).map(Format::name), Some(n));
        }
    }
}
