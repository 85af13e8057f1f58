//! Bytes to text: the encodings spreadsheets and address books write, and the delimiter
//! they chose. Detection looks at the content only; file names and headers lie.

use super::IngestError;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), and Windows-1252
/// for bytes that are not UTF-8 (what German Excel writes as "CSV").
pub fn decode(bytes: &[u8]) -> Result<Decoded, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::Empty);
    }
    let (encoding, body): (&'static Encoding, &[u8]) = match Encoding::for_bom(bytes) {
        Some((enc, bom_len)) => (enc, &bytes[bom_len..]),
        None if std::str::from_utf8(bytes).is_ok() => (UTF_8, bytes),
        None => (WINDOWS_1252, bytes),
    };
    if encoding != UTF_16LE && encoding != UTF_16BE {
        if let Some(offset) = body.iter().position(|b| *b == 0) {
            return Err(IngestError::NotText { offset });
        }
    }
    let (text, _) = encoding.decode_without_bom_handling(body);
    let text = text.into_owned();
    // A stray control character in a text file is removed from its cell with a warning
    // (`field::clean`); many of them mean a binary file renamed to .csv.
    let controls = text
        .char_indices()
        .filter(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    let mut first = None;
    let mut count = 0usize;
    for (offset, _) in controls {
        first.get_or_insert(offset);
        count += 1;
    }
    if let Some(offset) = first.filter(|_| count > (text.len() / 1000).max(8)) {
        return Err(IngestError::NotText { offset });
    }
    let name = match encoding.name() {
        "UTF-8" if body.len() != bytes.len() => "UTF-8 (BOM)",
        other => other,
    };
    Ok(Decoded {
        text,
        encoding: name,
    })
}

/// The delimiter that splits the header line into the most fields: `,` `;` tab or `|`.
pub fn sniff_delimiter(header_line: &str) -> u8 {
    let candidates = [b',', b';', b'\t', b'|'];
    let mut best = (b',', 0usize);
    for d in candidates {
        let n = count_unquoted(header_line, d);
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

fn count_unquoted(line: &str, d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => "semicolon",
        b'\t' => "tab",
        b'|' => "pipe",
        _ => "comma",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_encodings_excel_writes() {
        let d = decode("Name;Telefon\nMüller;1".as_bytes()).unwrap();
        assert_eq!(d.encoding, "UTF-8");
        let d = decode(b"\xef\xbb\xbfName\nM\xc3\xbcller").unwrap();
        assert_eq!(
            (d.encoding, d.text.as_str()),
            ("UTF-8 (BOM)", "Name\nMüller")
        );
        let d = decode(b"Name\nM\xfcller").unwrap();
        assert_eq!(
            (d.encoding, d.text.as_str()),
            ("windows-1252", "Name\nMüller")
        );
        let d = decode(b"\xff\xfeN\x00\xfc\x00").unwrap();
        assert_eq!((d.encoding, d.text.as_str()), ("UTF-16LE", "Nü"));
    }

    #[test]
    fn a_few_control_characters_are_text_many_are_binary() {
        assert!(decode(b"Name\nAnna\x1b[31m\n").is_ok());
        let binary: Vec<u8> = (0..100u8).map(|i| i % 31 + 1).collect();
        assert!(matches!(decode(&binary), Err(IngestError::NotText { .. })));
    }

    #[test]
    fn refuses_binary() {
        assert!(matches!(
            decode(b"PK\x03\x04\x00\x00"),
            Err(IngestError::NotText { offset: 4 })
        ));
        assert!(matches!(decode(b""), Err(IngestError::Empty)));
    }

    #[test]
    fn sniffs_delimiters_outside_quotes() {
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("\"a,b\";c;d"), b';');
        assert_eq!(sniff_delimiter("a\tb"), b'\t');
        assert_eq!(sniff_delimiter("name"), b',');
    }
}
