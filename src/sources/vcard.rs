//! vCards as real servers and phones write them, as far as a phone book needs them: FN, N
//! (with middle names), ORG with departments, TITLE, EMAIL, CATEGORIES, TEL with its type,
//! UID. Understood:
//!
//! - vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350); folded lines; `\,` `\;` `\n` escapes;
//! - `TYPE` in every spelling: `TYPE=cell,voice`, `type=CELL;type=pref`, `TYPE="work,voice"`,
//!   vCard 2.1's bare `TEL;CELL;VOICE`, `x-` prefixes, Outlook's `X-MS-TEL`;
//! - Apple's item groups (`item1.TEL` + `item1.X-ABLabel:_$!<Mobile>!$_`, or a free-text label
//!   such as `Büro`), which Google's and iCloud's CardDAV write as well;
//! - vCard 2.1 `ENCODING=QUOTED-PRINTABLE` with soft line breaks and `CHARSET=`;
//! - 4.0 `tel:` URIs with separators and `;ext=` (the extension is reported, the number kept);
//! - `N` without `FN` (the name is composed, middle name included), nested `AGENT` cards.
//!
//! Everything else is ignored. Parsing is linear in the text and never fails: a line it
//! cannot read is skipped.

use super::build::Record;
use crate::domain::NumberType;
use crate::ingest::Role;
use std::borrow::Cow;
use std::collections::HashMap;

/// One property: `group.NAME;params:value`, names upper-cased, the group lower-cased.
struct Prop {
    group: String,
    name: String,
    /// (NAME, value) with names upper-cased; a bare vCard 2.1 parameter has the name "".
    params: Vec<(String, String)>,
    value: String,
}

impl Prop {
    fn param_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
    }

    /// TYPE values (and bare 2.1 parameters), lower-case.
    fn types(&self) -> Vec<String> {
        self.param_values("TYPE")
            .chain(self.param_values(""))
            .map(str::to_ascii_lowercase)
            .collect()
    }

    fn is_pref(&self) -> bool {
        self.params.iter().any(|(k, _)| k == "PREF") || self.types().iter().any(|t| t == "pref")
    }

    /// The value with quoted-printable and charsets decoded, escapes still in.
    fn decoded(&self) -> Cow<'_, str> {
        let qp = self
            .param_values("ENCODING")
            .any(|e| e.eq_ignore_ascii_case("quoted-printable"))
            || self
                .param_values("")
                .any(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if !qp {
            return Cow::Borrowed(&self.value);
        }
        let bytes = super::net::unescape_hex(&self.value, b'=');
        let charset = self.param_values("CHARSET").next().unwrap_or("utf-8");
        let encoding =
            encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        let (text, _, _) = encoding.decode(&bytes);
        Cow::Owned(text.into_owned())
    }

    fn text(&self) -> String {
        unescape(&self.decoded())
    }

    /// The `;`-separated components, each split at unescaped `,` and unescaped.
    fn components(&self) -> Vec<Vec<String>> {
        split_unescaped(&self.decoded(), ';')
            .iter()
            .map(|c| {
                split_unescaped(c, ',')
                    .iter()
                    .map(|v| unescape(v).trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .collect()
    }
}

/// Every card in `text` (one vCard object or several in a row); a card without a UID has
/// an empty id.
pub fn parse(text: &str) -> Vec<Record> {
    cards(text).iter().map(|props| card(props, "")).collect()
}

/// The first card in `text`, with `fallback_id` as its id if it has no UID (a CardDAV
/// server's file name for it, as Evolution does).
pub fn parse_one(text: &str, fallback_id: &str) -> Option<Record> {
    cards(text).first().map(|props| card(props, fallback_id))
}

/// The properties of each top-level card; nested cards (vCard 2.1 `AGENT`) are skipped.
fn cards(text: &str) -> Vec<Vec<Prop>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<Prop>> = None;
    let mut depth = 0usize;
    for line in unfold(text) {
        let Some(prop) = split_line(&line) else {
            continue;
        };
        let is = |v: &str| prop.value.trim().eq_ignore_ascii_case(v);
        match prop.name.as_str() {
            "BEGIN" if is("VCARD") => {
                depth += 1;
                if depth == 1 {
                    current = Some(Vec::new());
                }
            }
            "END" if is("VCARD") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.extend(current.take());
                }
            }
            _ if depth == 1 => {
                if let Some(c) = current.as_mut() {
                    c.push(prop);
                }
            }
            _ => {}
        }
    }
    out
}

fn card(props: &[Prop], fallback_id: &str) -> Record {
    let find = |name: &str| props.iter().find(|p| p.name == name);
    let uid = find("UID").map(Prop::text).unwrap_or_default();
    let uid = match uid.trim() {
        "" => fallback_id.to_owned(),
        u => u.to_owned(),
    };
    let mut r = Record::new("UID", &uid);
    if let Some(fname) = find("FN") {
        r.text(Role::DisplayName, "FN", &fname.text());
    }
    if let Some(n) = find("N") {
        let parts = n.components();
        let joined = |i: usize| parts.get(i).map(|v| v.join(" ")).unwrap_or_default();
        r.text(Role::FamilyName, "N", &joined(0))
            .text(Role::GivenName, "N", &joined(1))
            .text(Role::MiddleName, "N", &joined(2));
    }
    if let Some(org) = find("ORG") {
        // ORG:Company;Department;Sub-department (each component one value, commas kept).
        let parts: Vec<String> = split_unescaped(&org.decoded(), ';')
            .iter()
            .map(|c| unescape(c).trim().to_owned())
            .collect();
        r.text(
            Role::Company,
            "ORG",
            parts.first().map_or("", String::as_str),
        );
        let departments: Vec<&str> = parts
            .iter()
            .skip(1)
            .map(String::as_str)
            .filter(|d| !d.is_empty())
            .collect();
        r.text(Role::Department, "ORG", &departments.join(" / "));
    }
    if let Some(title) = find("TITLE") {
        r.text(Role::Position, "TITLE", &title.text());
    }
    // The preferred address first: the record keeps the first one.
    let mut emails: Vec<&Prop> = props.iter().filter(|p| p.name == "EMAIL").collect();
    emails.sort_by_key(|p| !p.is_pref());
    if let Some(e) = emails.first() {
        let v = e.text();
        let v = v.trim();
        let v = strip_scheme(v, "mailto:").unwrap_or(v);
        r.text(Role::Email, "EMAIL", v);
    }
    if let Some(cat) = find("CATEGORIES") {
        if let Some(first) = cat.components().into_iter().flatten().next() {
            r.text(Role::Group, "CATEGORIES", &first);
        }
    }
    let labels: HashMap<&str, String> = props
        .iter()
        .filter(|p| p.name == "X-ABLABEL" && !p.group.is_empty())
        .map(|p| (p.group.as_str(), p.text()))
        .collect();
    // Preferred numbers first: phones with few slots show those.
    let mut tels: Vec<&Prop> = props
        .iter()
        .filter(|p| p.name == "TEL" || p.name == "X-MS-TEL")
        .collect();
    tels.sort_by_key(|p| !p.is_pref());
    for t in tels {
        let label = labels.get(t.group.as_str()).map(String::as_str);
        let kind = tel_kind(&t.types(), label);
        tel(&mut r, kind, &t.text());
    }
    r
}

/// A TEL value: plain text, or a `tel:` URI (`tel:+49-30-1234567;ext=42`).
fn tel(r: &mut Record, kind: NumberType, value: &str) {
    let value = value.trim();
    let Some(uri) = strip_scheme(value, "tel:") else {
        if let Some((scheme, _)) = value.split_once(':').filter(|(s, _)| is_scheme(s)) {
            r.note(
                "TEL",
                value,
                format!("a {scheme}: address is not a phone number and was left out; put the number itself in the card"),
            );
            return;
        }
        r.number(kind, "TEL", value);
        return;
    };
    let mut parts = uri.split(';');
    let number = parts.next().unwrap_or("");
    for p in parts {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        if k.eq_ignore_ascii_case("ext") && !v.trim().is_empty() {
            r.note(
                "TEL",
                value,
                format!("the extension {v} was left out: phones dial the number {number} itself; if {v} can be dialled directly, write the whole direct-dial number in the card"),
            );
        }
    }
    r.number(kind, "TEL", number);
}

/// `mailto:x` → `x`, case-insensitively.
fn strip_scheme<'a>(v: &'a str, scheme: &str) -> Option<&'a str> {
    v.get(..scheme.len())
        .filter(|s| s.eq_ignore_ascii_case(scheme))
        .map(|_| &v[scheme.len()..])
}

/// `sip`, `mailto`, `x-skype`: a URI scheme, not the start of a number.
fn is_scheme(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The number type of a TEL from its TYPE values and its Apple/Google label. A fax stays a
/// fax whatever else it is; a label the address book shows decides over generic types; the
/// types decide otherwise.
fn tel_kind(types: &[String], label: Option<&str>) -> NumberType {
    let from_types = || {
        let has = |t: &str| {
            types
                .iter()
                .any(|x| x == t || x.strip_prefix("x-") == Some(t))
        };
        if has("fax") {
            Some(NumberType::Fax)
        } else if has("pager") {
            Some(NumberType::Pager)
        } else if has("cell") || has("mobile") || has("iphone") || has("car") {
            Some(NumberType::Mobile)
        } else if has("home") {
            Some(NumberType::Home)
        } else if has("work") || has("main") || has("company") || has("main-number") {
            Some(NumberType::Work)
        } else if has("other") {
            Some(NumberType::Other)
        } else {
            None
        }
    };
    let typed = from_types();
    if typed == Some(NumberType::Fax) {
        return NumberType::Fax;
    }
    label
        .and_then(label_kind)
        .or(typed)
        .unwrap_or(NumberType::Other)
}

/// Apple's `_$!<HomeFAX>!$_`, Google's `Work Fax`, a person's `Büro` or `Handy privat`.
pub fn label_kind(label: &str) -> Option<NumberType> {
    let inner = label
        .trim()
        .strip_prefix("_$!<")
        .and_then(|l| l.strip_suffix(">!$_"))
        .unwrap_or(label.trim());
    if let Some(k) = NumberType::from_alias(inner) {
        return Some(k);
    }
    // Word by word, the most telling word first: a fax, then a mobile, … Words that only
    // say "a phone" (`Voice`, `Telefon`) tell nothing about its kind.
    let generic = ["voice", "tel", "phone", "telefon"];
    let words: Vec<NumberType> = inner
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !generic.iter().any(|g| w.eq_ignore_ascii_case(g)))
        .filter_map(NumberType::from_alias)
        .collect();
    [
        NumberType::Fax,
        NumberType::Mobile,
        NumberType::Pager,
        NumberType::Home,
        NumberType::Work,
        NumberType::Extension,
        NumberType::Other,
    ]
    .into_iter()
    .find(|k| words.contains(k))
}

/// Logical lines: a line break followed by a space or tab continues the line (RFC 6350
/// folding); in vCard 2.1 a quoted-printable value ending in `=` continues on the next line
/// (a soft line break), with or without indentation.
fn unfold(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<String> = Vec::new();
    let mut soft_break = false;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if soft_break {
            if let Some(last) = out.last_mut() {
                last.pop(); // the `=`
                last.push_str(line.trim_start_matches([' ', '\t']));
                soft_break = is_quoted_printable(last) && last.ends_with('=');
                continue;
            }
        }
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(rest);
                soft_break = is_quoted_printable(last) && last.ends_with('=');
                continue;
            }
        }
        if !line.trim().is_empty() {
            out.push(line.to_owned());
            soft_break = is_quoted_printable(line) && line.ends_with('=');
        }
    }
    out
}

/// Whether the line's parameters (before its value) say quoted-printable.
fn is_quoted_printable(line: &str) -> bool {
    let head = value_start(line).map_or(line, |i| &line[..i]);
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// The index of the `:` that starts the value (outside quoted parameter values).
fn value_start(line: &str) -> Option<usize> {
    let mut in_quotes = false;
    line.char_indices().find_map(|(i, ch)| match ch {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        ':' if !in_quotes => Some(i),
        _ => None,
    })
}

/// `group.NAME;P=V;P2="a,b";BARE:value` → a property.
fn split_line(line: &str) -> Option<Prop> {
    let colon = value_start(line)?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = split_outside_quotes(head, ';').into_iter();
    let full = parts.next()?;
    let (group, name) = match full.rsplit_once('.') {
        Some((g, n)) => (g.trim().to_ascii_lowercase(), n),
        None => (String::new(), full),
    };
    let name = name.trim().to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.replace('"', "")),
            None => (String::new(), p.trim().to_owned()),
        })
        .collect();
    Some(Prop {
        group,
        name,
        params,
        value: value.to_owned(),
    })
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_quotes) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
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

/// Splits at `sep` not preceded by a backslash; the parts keep their escapes.
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
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use NumberType::*;

    fn one(text: &str) -> Record {
        let mut cards = parse(text);
        assert_eq!(cards.len(), 1, "{text}");
        cards.remove(0)
    }

    fn numbers(r: &Record) -> Vec<(NumberType, String)> {
        r.numbers()
            .into_iter()
            .map(|(k, _, v)| (k, v.to_owned()))
            .collect()
    }

    fn n(k: NumberType, v: &str) -> (NumberType, String) {
        (k, v.to_owned())
    }

    #[test]
    fn vcard3_with_folding_escapes_and_types() {
        let r = one(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Weiß\\, Jürgen \r\n Dr.\r\n\
                    N:Weiß;Jürgen;;Dr.;\r\nORG:ACME\\; Co;Sales\r\nTITLE:Head of\\nSales\r\n\
                    TEL;TYPE=work,voice:+49 231 1234567\r\nTEL;TYPE=CELL:0171 2222222\r\n\
                    item1.TEL;type=WORK;type=FAX:+49 231 1234599\r\n\
                    EMAIL;TYPE=INTERNET:jw@acme.example\r\nUID:abc-1\r\nEND:VCARD\r\n",
        );
        assert_eq!(r.id, "abc-1");
        assert_eq!(r.first(Role::DisplayName), Some("Weiß, Jürgen Dr."));
        assert_eq!(r.first(Role::FamilyName), Some("Weiß"));
        assert_eq!(r.first(Role::GivenName), Some("Jürgen"));
        assert_eq!(r.first(Role::Company), Some("ACME; Co"));
        assert_eq!(r.first(Role::Department), Some("Sales"));
        assert_eq!(r.first(Role::Position), Some("Head of\nSales"));
        assert_eq!(r.first(Role::Email), Some("jw@acme.example"));
        assert_eq!(
            numbers(&r),
            vec![
                n(Work, "+49 231 1234567"),
                n(Mobile, "0171 2222222"),
                n(Fax, "+49 231 1234599"),
            ]
        );
    }

    #[test]
    fn type_in_every_spelling() {
        let r = one("BEGIN:VCARD\nVERSION:3.0\nFN:T\n\
                     TEL;TYPE=cell,voice:1\n\
                     TEL;type=HOME;type=pref:2\n\
                     TEL;TYPE=\"work,voice\":3\n\
                     TEL;CELL:4\n\
                     TEL;WORK;FAX:5\n\
                     TEL;TYPE=PAGER:6\n\
                     TEL;TYPE=X-COMPANY:7\n\
                     TEL;TYPE=voice:8\n\
                     TEL:9\n\
                     X-MS-TEL;VOICE;COMPANY:10\n\
                     END:VCARD\n");
        assert_eq!(
            numbers(&r),
            vec![
                n(Home, "2"),
                n(Mobile, "1"),
                n(Work, "3"),
                n(Mobile, "4"),
                n(Fax, "5"),
                n(Pager, "6"),
                n(Work, "7"),
                n(Other, "8"),
                n(Other, "9"),
                n(Work, "10"),
            ]
        );
    }

    #[test]
    fn apple_item_groups_with_standard_and_free_text_labels() {
        // As an iPhone writes a card (iCloud CardDAV): labels in item groups, before or
        // after the number they name.
        let r = one(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.4//EN\r\n\
            N:Schmidt;Anna;;;\r\nFN:Anna Schmidt\r\n\
            item1.TEL;type=pref:+49 171 5550001\r\nitem1.X-ABLabel:_$!<Mobile>!$_\r\n\
            item2.X-ABLabel:Büro\r\nitem2.TEL:+49 30 5550002\r\n\
            item3.TEL:+49 30 5550003\r\nitem3.X-ABLabel:_$!<HomeFAX>!$_\r\n\
            item4.TEL:+49 30 5550004\r\nitem4.X-ABLabel:_$!<Main>!$_\r\n\
            item5.TEL:+49 30 5550005\r\nitem5.X-ABLabel:Handy privat\r\n\
            item6.TEL:+49 30 5550006\r\nitem6.X-ABLabel:Zentrale\r\n\
            TEL;type=IPHONE;type=CELL;type=VOICE:+49 171 5550007\r\n\
            TEL;type=HOME;type=VOICE:+49 30 5550008\r\n\
            END:VCARD\r\n",
        );
        assert_eq!(
            numbers(&r),
            vec![
                n(Mobile, "+49 171 5550001"),
                n(Work, "+49 30 5550002"),
                n(Fax, "+49 30 5550003"),
                n(Work, "+49 30 5550004"),
                n(Mobile, "+49 30 5550005"),
                n(Other, "+49 30 5550006"),
                n(Mobile, "+49 171 5550007"),
                n(Home, "+49 30 5550008"),
            ]
        );
    }

    #[test]
    fn google_and_outlook_labels() {
        // Google Contacts' CardDAV: custom labels in item groups, `Work Fax` as a label.
        let r = one("BEGIN:VCARD\nVERSION:3.0\nFN:Google\n\
                     TEL;TYPE=CELL:+1 650 555 0101\n\
                     item1.TEL:+1 650 555 0102\nitem1.X-ABLabel:Work Fax\n\
                     item2.TEL:+1 650 555 0103\nitem2.X-ABLabel:Google Voice\n\
                     TEL;TYPE=WORK:+1 650 555 0104\nEND:VCARD\n");
        assert_eq!(
            numbers(&r),
            vec![
                n(Mobile, "+1 650 555 0101"),
                n(Fax, "+1 650 555 0102"),
                n(Other, "+1 650 555 0103"),
                n(Work, "+1 650 555 0104"),
            ]
        );
        // Outlook's vCard 2.1 export.
        let r = one(
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN;LANGUAGE=de:Meier;Bernd\r\nFN:Bernd Meier\r\n\
                     ORG:Contoso;Vertrieb\r\nTEL;WORK;VOICE:+49 89 5550100\r\n\
                     TEL;CELL;VOICE:+49 151 5550101\r\nTEL;WORK;FAX:+49 89 5550199\r\n\
                     TEL;HOME;VOICE:+49 89 5550102\r\nX-MS-OL-DEFAULT-POSTAL-ADDRESS:2\r\n\
                     EMAIL;PREF;INTERNET:bernd@contoso.example\r\nEND:VCARD\r\n",
        );
        assert_eq!(
            numbers(&r),
            vec![
                n(Work, "+49 89 5550100"),
                n(Mobile, "+49 151 5550101"),
                n(Fax, "+49 89 5550199"),
                n(Home, "+49 89 5550102"),
            ]
        );
        assert_eq!(r.first(Role::Department), Some("Vertrieb"));
        assert_eq!(r.first(Role::Email), Some("bernd@contoso.example"));
    }

    #[test]
    fn vcard21_quoted_printable_and_charsets() {
        let r = one("BEGIN:VCARD\r\nVERSION:2.1\r\n\
            N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Wei=DF;J=FCrgen\r\n\
            FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen Wei=C3=9F, Abteilungsleiter =\r\n\
            Vertrieb und =\r\n  Marketing\r\n\
            ORG;ENCODING=QUOTED-PRINTABLE;CHARSET=windows-1252:M=FCller =26 S=F6hne\r\n\
            TEL;PREF;WORK;VOICE:0231 1234567\r\nEND:VCARD\r\n");
        assert_eq!(r.first(Role::FamilyName), Some("Weiß"));
        assert_eq!(r.first(Role::GivenName), Some("Jürgen"));
        assert_eq!(
            r.first(Role::DisplayName),
            Some("Jürgen Weiß, Abteilungsleiter Vertrieb und Marketing")
        );
        assert_eq!(r.first(Role::Company), Some("Müller & Söhne"));
        assert_eq!(numbers(&r), vec![n(Work, "0231 1234567")]);
    }

    #[test]
    fn vcard4_tel_uris_with_separators_and_extensions() {
        let text = "BEGIN:VCARD\nVERSION:4.0\nFN:Anna\n\
                    TEL;VALUE=uri;TYPE=\"voice,home\":tel:+49-30-1234567\n\
                    TEL;VALUE=uri;PREF=1;TYPE=cell:TEL:+49.171.5550123\n\
                    TEL;VALUE=uri;TYPE=work:tel:+1-425-555-0100;ext=123\n\
                    TEL;VALUE=uri:sip:anna@pbx.example\n\
                    END:VCARD\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n";
        let cards = parse(text);
        assert_eq!(cards.len(), 2);
        assert_eq!(
            numbers(&cards[0]),
            vec![
                n(Mobile, "+49.171.5550123"),
                n(Home, "+49-30-1234567"),
                n(Work, "+1-425-555-0100"),
            ]
        );
        assert_eq!(cards[1].first(Role::DisplayName), Some("Bob"));
        // The extension and the SIP address become warnings when built.
        let rules = super::super::build::RecordRules {
            numbers: crate::phone::NumberRules::default(),
            max_field_chars: 100,
            max_numbers: 10,
            max_contacts: 10,
        };
        let (_, w) = super::super::build::build(cards[0].clone(), &rules, 0);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].message.contains("extension 123"), "{w:?}");
        assert!(w[1].message.contains("sip: address"), "{w:?}");
        assert_eq!(w[0].record, "#1");
    }

    #[test]
    fn n_without_fn_org_with_departments_and_categories() {
        let r = one(
            "BEGIN:VCARD\nVERSION:3.0\nN:Stevenson;John;Philip,Paul;Dr.;Jr.\n\
                     ORG:ABC\\, Inc.;North American Division;Marketing\n\
                     CATEGORIES:Vertrieb,VIP\nTEL:+1 650 555 0101\nEND:VCARD\n",
        );
        assert_eq!(r.first(Role::DisplayName), None);
        assert_eq!(r.first(Role::GivenName), Some("John"));
        assert_eq!(r.first(Role::MiddleName), Some("Philip Paul"));
        assert_eq!(r.first(Role::FamilyName), Some("Stevenson"));
        assert_eq!(r.first(Role::Company), Some("ABC, Inc."));
        assert_eq!(
            r.first(Role::Department),
            Some("North American Division / Marketing")
        );
        assert_eq!(r.first(Role::Group), Some("Vertrieb"));
        let rules = super::super::build::RecordRules {
            numbers: crate::phone::NumberRules::default(),
            max_field_chars: 100,
            max_numbers: 10,
            max_contacts: 10,
        };
        let (c, w) = super::super::build::build(r, &rules, 0);
        let c = c.unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.display_name, "John Philip Paul Stevenson");
        assert_eq!(c.group, "Vertrieb");
    }

    #[test]
    fn nested_agent_cards_and_fallback_ids() {
        let text = "BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nTEL:1\nAGENT:\nBEGIN:VCARD\nVERSION:2.1\n\
                    FN:Assistant\nTEL:2\nUID:inner\nEND:VCARD\nTEL;CELL:3\nEND:VCARD\n";
        let r = parse_one(text, "boss.vcf").unwrap();
        assert_eq!(r.id, "boss.vcf");
        assert_eq!(r.first(Role::DisplayName), Some("Boss"));
        assert_eq!(numbers(&r), vec![n(Other, "1"), n(Mobile, "3")]);
    }

    #[test]
    fn garbage_is_skipped_not_fatal() {
        for text in [
            "",
            "BEGIN:VCARD",
            "END:VCARD\nEND:VCARD\nBEGIN:VCARD\n",
            ":::\n;;;\n\"\"\"",
            "BEGIN:VCARD\nTEL;TYPE=\"unclosed:1\nFN;ENCODING=QUOTED-PRINTABLE:=\n=\n=\nEND:VCARD",
            "BEGIN:VCARD\n.:x\nx.:y\nN:\\\nEND:VCARD\n",
        ] {
            let _ = parse(text);
        }
    }
}
