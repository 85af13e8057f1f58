//! vCard 3.0 (RFC 2426) and 4.0 (RFC 6350), as far as a phone book needs them: FN, N, ORG,
//! TITLE, EMAIL, TEL with its types, UID. Folded lines, escapes, groups (`item1.TEL`),
//! quoted parameters and `tel:` URIs are understood; everything else is ignored.

use super::build::Raw;
use crate::domain::NumberType;

/// A property's parameters, names upper-cased (`TYPE`, `PREF`; empty for a bare value).
type Params = Vec<(String, String)>;

/// Every card in `text` (one vCard object or several in a row).
pub fn parse(text: &str) -> Vec<Raw> {
    let mut cards = Vec::new();
    // The card being read, and its preferred numbers (they go first when it ends).
    let mut current: Option<(Raw, Vec<(NumberType, String)>)> = None;
    for line in unfold(text) {
        let Some((name, params, value)) = split_line(&line) else {
            continue;
        };
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VCARD") => {
                current = Some((Raw::default(), Vec::new()))
            }
            "END" if value.eq_ignore_ascii_case("VCARD") => {
                if let Some((mut c, mut pref)) = current.take() {
                    pref.append(&mut c.numbers);
                    c.numbers = pref;
                    cards.push(c);
                }
            }
            _ => {
                if let Some((c, pref)) = current.as_mut() {
                    apply(c, pref, &name, &params, value);
                }
            }
        }
    }
    cards
}

fn apply(
    c: &mut Raw,
    pref: &mut Vec<(NumberType, String)>,
    name: &str,
    params: &[(String, String)],
    value: &str,
) {
    match name {
        "FN" => c.display_name = unescape(value),
        "N" => {
            let parts = split_unescaped(value, ';');
            c.family_name = parts.first().cloned().unwrap_or_default();
            c.given_name = parts.get(1).cloned().unwrap_or_default();
        }
        "ORG" => {
            let parts = split_unescaped(value, ';');
            c.company = parts.first().cloned().unwrap_or_default();
            c.department = parts.get(1).cloned().unwrap_or_default();
        }
        "TITLE" => c.position = unescape(value),
        "UID" => c.id = unescape(value),
        "EMAIL" if c.email.is_empty() || is_pref(params) => {
            c.email = unescape(value).trim_start_matches("mailto:").to_owned();
        }
        "TEL" => {
            let v = unescape(value);
            let v = v.strip_prefix("tel:").unwrap_or(&v).to_owned();
            let kind = tel_type(params);
            if is_pref(params) {
                pref.push((kind, v));
            } else {
                c.numbers.push((kind, v));
            }
        }
        _ => {}
    }
}

/// TYPE values of any spelling (`TYPE=work,voice`, `TYPE="cell"`, repeated TYPE, bare
/// vCard 2.1 `;CELL`) to our number types; a fax stays a fax whatever else it is.
fn tel_type(params: &[(String, String)]) -> NumberType {
    let types: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "TYPE" || k.is_empty())
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("fax") {
        NumberType::Fax
    } else if has("pager") {
        NumberType::Pager
    } else if has("cell") || has("mobile") || has("iphone") {
        NumberType::Mobile
    } else if has("home") {
        NumberType::Home
    } else if has("work") || has("main") {
        NumberType::Work
    } else {
        NumberType::Other
    }
}

fn is_pref(params: &[(String, String)]) -> bool {
    params.iter().any(|(k, v)| {
        k == "PREF"
            || ((k == "TYPE" || k.is_empty())
                && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("pref")))
    })
}

/// Joins folded lines: a line break followed by a space or tab continues the line.
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        if !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    out
}

/// `group.NAME;P=V;P2="a,b":value` → (NAME, [(P, V), …], value). Upper-cases names.
fn split_line(line: &str) -> Option<(String, Params, &str)> {
    let mut in_quotes = false;
    let colon = line.char_indices().find_map(|(i, ch)| match ch {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        ':' if !in_quotes => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?;
    let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.replace('"', "")),
            None => (String::new(), p.to_owned()),
        })
        .collect();
    Some((name, params, value))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits at `sep` not preceded by a backslash, unescaping each part.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(unescape(&cur));
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    parts.push(unescape(&cur));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vcard3_with_folding_escapes_and_types() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Weiß\\, Jürgen \r\n Dr.\r\n\
                    N:Weiß;Jürgen;;Dr.;\r\nORG:ACME\\; Co;Sales\r\nTITLE:Head of\\nSales\r\n\
                    TEL;TYPE=work,voice:+49 231 1234567\r\nTEL;TYPE=CELL:0171 2222222\r\n\
                    item1.TEL;type=WORK;type=FAX:+49 231 1234599\r\n\
                    EMAIL;TYPE=INTERNET:jw@acme.example\r\nUID:abc-1\r\nEND:VCARD\r\n";
        let cards = parse(text);
        assert_eq!(cards.len(), 1);
        let c = &cards[0];
        assert_eq!(c.display_name, "Weiß, Jürgen Dr.");
        assert_eq!(
            (c.family_name.as_str(), c.given_name.as_str()),
            ("Weiß", "Jürgen")
        );
        assert_eq!(
            (c.company.as_str(), c.department.as_str()),
            ("ACME; Co", "Sales")
        );
        assert_eq!(c.position, "Head of\nSales");
        assert_eq!(c.email, "jw@acme.example");
        assert_eq!(c.id, "abc-1");
        assert_eq!(
            c.numbers,
            vec![
                (NumberType::Work, "+49 231 1234567".into()),
                (NumberType::Mobile, "0171 2222222".into()),
                (NumberType::Fax, "+49 231 1234599".into()),
            ]
        );
    }

    #[test]
    fn reads_vcard4_uris_quoted_types_and_pref() {
        let text = "BEGIN:VCARD\nVERSION:4.0\nFN:Anna\nTEL;VALUE=uri;TYPE=\"voice,home\":tel:+49-30-1234567\n\
                    TEL;VALUE=uri;PREF=1;TYPE=cell:tel:+49171555\nEND:VCARD\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n";
        let cards = parse(text);
        assert_eq!(cards.len(), 2);
        assert_eq!(
            cards[0].numbers,
            vec![
                (NumberType::Mobile, "+49171555".into()),
                (NumberType::Home, "+49-30-1234567".into()),
            ]
        );
        assert_eq!(cards[1].display_name, "Bob");
    }
}
