//! Number normalization: the text people type (`+49 (0)231 12345-67`, `0049…`, `030/123-45`,
//! `WORK:+4923648873040`, `42`) becomes a typed E.164 number or an internal extension.
//!
//! The phonenumber crate does the country rules; this layer cleans what it stumbles over
//! (`(0)` after a country code, `++`, letters of vanity numbers, type prefixes) and decides
//! what an internal extension is. `tests/data/numbers.tsv` (generated with Google's
//! libphonenumber) is the reference it is tested against.

use crate::domain::{NumberType, PhoneNumber};
use phonenumber::country;
use std::fmt;
use std::str::FromStr;

/// A country whose national numbers we can read (ISO 3166 alpha-2, `DE`), with its calling
/// code, which every number a reader shows is compared with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id, u16);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a region phonedir knows; use a two-letter country code such as DE, AT, CH or GB"
)]
pub struct RegionError(pub String);

impl FromStr for Region {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        if up.len() != 2 {
            return Err(RegionError(s.to_owned()));
        }
        let id = country::Id::from_str(&up).map_err(|_| RegionError(s.to_owned()))?;
        let meta = db()
            .by_id(up.as_str())
            .ok_or_else(|| RegionError(s.to_owned()))?;
        Ok(Region(id, meta.country_code()))
    }
}

impl Region {
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// The country calling code (`49` for DE).
    pub fn calling_code(&self) -> u16 {
        self.1
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Written and read as its code (`"DE"`), as settings JSON and the API carry it.
impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.code())
    }
}

/// Why a number was not stored. Each message names the input and says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NumberError {
    #[error("the number is empty")]
    Empty,
    #[error("`{0}` is not a number type; use WORK, HOME, MOBILE, FAX, PAGER, OTHER or EXTENSION")]
    UnknownType(String),
    #[error("`{input}` contains `{ch}`, which has no place in a phone number")]
    BadCharacter { input: String, ch: char },
    #[error("`{0}` carries an extension suffix; write a direct-dial number in one piece (+49 231 12345-67) or give the extension its own EXTENSION number")]
    ExtensionSuffix(String),
    #[error("`{0}` is not an extension: an internal extension consists of digits only")]
    BadExtension(String),
    #[error("`{input}` has {digits} digits, more than an internal extension has here (at most {max}, --max-extension-digits); write a direct-dial number with its area code in a number column, or raise --max-extension-digits")]
    LongExtension {
        input: String,
        digits: usize,
        max: usize,
    },
    #[error("`{0}` is too short for a phone number, and an internal extension does not start with 0; write the whole number with its area code, or EXT:{0} if it is an extension")]
    TooShort(String),
    #[error("`{0}` is a national number and no region is set; add the country code or push with ?region=CC (for example ?region=DE)")]
    NoRegion(String),
    #[error("`{input}` is not a valid number for region {region}; {hint}")]
    InvalidForRegion {
        input: String,
        region: String,
        hint: String,
    },
    #[error("`{0}` is not a valid phone number; check the digits and the country code")]
    Invalid(String),
}

/// How numbers of one push (or one source) are read.
#[derive(Clone, Copy, Debug)]
pub struct NumberRules {
    /// For national numbers (`030 1234567`); without it they are refused.
    pub region: Option<Region>,
    /// Digit strings up to this length without `+`/`00` are internal extensions.
    pub max_extension_digits: usize,
}

impl Default for NumberRules {
    fn default() -> Self {
        NumberRules {
            region: None,
            max_extension_digits: 6,
        }
    }
}

/// Regions tried when a national number does not fit the given one, so the message can
/// say which `?region=` would have worked.
const HINT_REGIONS: [&str; 16] = [
    "DE", "AT", "CH", "GB", "FR", "NL", "BE", "IT", "ES", "PL", "DK", "SE", "US", "IE", "CZ", "AU",
];

impl NumberRules {
    /// Reads one number that may carry a type prefix (`MOBILE:+49…`, `cell: 0171…`).
    /// Without a prefix the number has `default_type`.
    pub fn parse_typed(
        &self,
        raw: &str,
        default_type: NumberType,
    ) -> Result<PhoneNumber, NumberError> {
        let s = strip_quotes(raw);
        let (kind, rest) = split_type(s)?;
        self.parse(rest, kind.unwrap_or(default_type))
    }

    /// What `parse` reads first for a number written with digits and separators only,
    /// without asking the metadata whether that number is valid:
    /// - `+49 231 1234567`: `+` and the digits;
    /// - `0049 231 1234567`: behind the region's international prefix (`00` without a
    ///   region), `+` and the rest;
    /// - `0231 123 45-67` in DE: the region's trunk prefix replaced by its calling code.
    ///
    /// `parse` returns this reading whenever it is valid (a national number never starts
    /// with its region's international prefix, or it could not be dialled), so a caller that
    /// finds it among numbers known to be valid (a book's) has what `parse` would give,
    /// without its patterns.
    pub fn first_reading(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if !rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'/' | b'.' | b'(' | b')'))
        {
            return None;
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        if plus {
            return Some(format!("+{digits}"));
        }
        let meta = match self.region {
            Some(region) => Some(db().by_id(region.code())?),
            None => None,
        };
        // Some regions have several international prefixes (a pattern): those are left to
        // `parse`.
        let international = match meta {
            Some(m) => m
                .international_prefix()
                .map(|p| p.as_str().trim())
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            None => Some("00"),
        };
        if let Some(rest) = international
            .and_then(|p| digits.strip_prefix(p))
            .filter(|r| !r.is_empty())
        {
            return Some(format!("+{rest}"));
        }
        // Shorter ones are extensions (or cut short) to `parse`.
        if digits.len() <= self.max_extension_digits {
            return None;
        }
        let meta = meta?;
        let rest = digits
            .strip_prefix(trunk_prefix(meta)?)
            .filter(|r| !r.is_empty())?;
        Some(format!("+{}{rest}", meta.country_code()))
    }

    /// Reads one number of a known type.
    pub fn parse(&self, raw: &str, kind: NumberType) -> Result<PhoneNumber, NumberError> {
        let input = strip_quotes(raw);
        if input.is_empty() {
            return Err(NumberError::Empty);
        }
        let cleaned = clean(input)?;
        if kind == NumberType::Extension {
            if cleaned.plus || cleaned.had_letters || cleaned.digits.is_empty() {
                return Err(NumberError::BadExtension(input.to_owned()));
            }
            if cleaned.digits.len() > self.max_extension_digits {
                return Err(NumberError::LongExtension {
                    input: input.to_owned(),
                    digits: cleaned.digits.len(),
                    max: self.max_extension_digits,
                });
            }
            return Ok(PhoneNumber {
                kind,
                value: cleaned.digits,
            });
        }
        if !cleaned.plus
            && !cleaned.had_letters
            && !cleaned.digits.is_empty()
            && !cleaned.digits.starts_with("00")
            && cleaned.digits.len() <= self.max_extension_digits
        {
            // `0151` in a mobile column is a number cut short, not an extension: behind a
            // PBX, 0 is the way out, so no extension starts with it.
            if cleaned.digits.starts_with('0') {
                return Err(NumberError::TooShort(input.to_owned()));
            }
            return Ok(PhoneNumber {
                kind: NumberType::Extension,
                value: cleaned.digits,
            });
        }
        let value = self.e164(input, &cleaned)?;
        Ok(PhoneNumber { kind, value })
    }

    fn e164(&self, input: &str, c: &Cleaned) -> Result<String, NumberError> {
        if c.plus {
            return international(&c.digits).ok_or_else(|| NumberError::Invalid(input.to_owned()));
        }
        if c.digits.starts_with("00") && self.region.is_none() {
            // Without a region, `00` is the international prefix almost everywhere.
            return international(&c.digits[2..])
                .ok_or_else(|| NumberError::Invalid(input.to_owned()));
        }
        let Some(region) = self.region else {
            return Err(NumberError::NoRegion(input.to_owned()));
        };
        if let Some(n) = in_region(region, &c.digits) {
            return Ok(n);
        }
        let hint = HINT_REGIONS
            .iter()
            .filter(|r| **r != region.code())
            .find(|r| {
                Region::from_str(r)
                    .ok()
                    .and_then(|r| national(r, &c.digits))
                    .is_some()
            })
            .map(|r| format!("add the country code or push with ?region={r}"))
            .unwrap_or_else(|| "check the digits or add the country code".to_owned());
        Err(NumberError::InvalidForRegion {
            input: input.to_owned(),
            region: region.code().to_owned(),
            hint,
        })
    }
}

// How a number is read. The phonenumber crate keeps every metadata pattern in one regex
// cache of 100 entries behind one lock; a book with numbers of many countries needs more
// and recompiles patterns on nearly every call (a hundred times slower than one country).
// So the shapes that make up nearly every book — E.164, national with or without the trunk
// prefix, the region's international prefix — are read here with the metadata's patterns
// compiled once; the crate's parser is the fallback for everything else.

/// The crate's metadata, which lives for the whole run.
fn db() -> &'static phonenumber::metadata::Database {
    &phonenumber::metadata::DATABASE
}

/// Digits after a `+` (or an international prefix).
fn international(digits: &str) -> Option<String> {
    canonical(digits).or_else(|| {
        let quirky = (1..=3.min(digits.len()))
            .filter_map(|len| digits[..len].parse::<u16>().ok())
            .filter_map(|code| db().by_code(&code))
            .flatten()
            .any(has_parsing_rules);
        quirky
            .then(|| e164_of(None, &format!("+{digits}")))
            .flatten()
    })
}

/// Regions whose national numbers need libphonenumber's rewriting rules (Argentina's
/// mobile `15`, carrier codes in Brazil, …): only for these is the crate's slow parser worth
/// asking when our reading fails. Elsewhere a failure is final, so a file full of bad
/// numbers costs no more than a good one.
fn has_parsing_rules(meta: &phonenumber::metadata::Metadata) -> bool {
    meta.national_prefix_for_parsing().is_some() || meta.national_prefix_transform_rule().is_some()
}

/// Digits dialled in `region`: national (with or without its trunk prefix), or behind the
/// region's international prefix (`00`, `011`, …).
fn in_region(region: Region, digits: &str) -> Option<String> {
    national(region, digits)
        .or_else(|| {
            let rest = strip_international_prefix(region, digits)?;
            international(rest)
        })
        .or_else(|| {
            let meta = db().by_id(region.code())?;
            has_parsing_rules(meta)
                .then(|| e164_of(Some(region), digits))
                .flatten()
        })
}

/// The calling code of an E.164 number (`+4923…` → 49), without matching any pattern.
pub fn calling_code(e164: &str) -> Option<u16> {
    let digits = e164.strip_prefix('+').unwrap_or(e164);
    split_calling_code(digits).map(|(code, ..)| code)
}

/// (calling code, its length): whichever prefix of one to three digits is a calling code,
/// since they are prefix-free.
fn split_calling_code(digits: &str) -> Option<(u16, usize)> {
    (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        is_calling_code(code).then_some((code, len))
    })
}

/// Whether some region has this calling code. Readers ask it for every number they show, so
/// it is a table made once, not the crate's `by_code`, which collects a Vec per call.
fn is_calling_code(code: u16) -> bool {
    static CODES: std::sync::OnceLock<Box<[bool]>> = std::sync::OnceLock::new();
    CODES
        .get_or_init(|| (0..1000u16).map(|c| db().by_code(&c).is_some()).collect())
        .get(usize::from(code))
        .copied()
        .unwrap_or(false)
}

/// The digits a region's national numbers are dialled with in front (`0` in DE), when the
/// metadata gives plain digits (some regions have none, some a pattern).
fn trunk_prefix(meta: &phonenumber::metadata::Metadata) -> Option<&str> {
    meta.national_prefix()
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `+` and digits: a valid national number of the calling code, as written or without the
/// trunk prefix a writer left in (`+49 (0)89 …`).
fn canonical(digits: &str) -> Option<String> {
    let (code, len) = split_calling_code(digits)?;
    let nsn = &digits[len..];
    if valid_national(code, nsn) {
        return Some(format!("+{digits}"));
    }
    db().by_code(&code)?
        .iter()
        .filter_map(|m| trunk_prefix(m))
        .find_map(|p| nsn.strip_prefix(p).filter(|n| valid_national(code, n)))
        .map(|n| format!("+{code}{n}"))
}

/// A national number of `region`, with or without its trunk prefix (`0231 …`, Italy's
/// `02 …` which keeps its zero).
fn national(region: Region, digits: &str) -> Option<String> {
    let meta = db().by_id(region.code())?;
    let code = meta.country_code();
    let stripped = trunk_prefix(meta).and_then(|p| digits.strip_prefix(p));
    stripped
        .into_iter()
        .chain(std::iter::once(digits))
        .find(|n| !n.is_empty() && valid_national(code, n))
        .map(|n| format!("+{code}{n}"))
}

/// The slow path: the crate's parser, and our whole-number check.
fn e164_of(region: Option<Region>, text: &str) -> Option<String> {
    let n = phonenumber::parse(region.map(|r| r.0), text).ok()?;
    if !valid_national(n.code().value(), &n.national().to_string()) {
        return None;
    }
    Some(n.format().mode(phonenumber::Mode::E164).to_string())
}

/// libphonenumber's validity: the whole national significant number matches the general
/// pattern and one number type's pattern and lengths, in some region of the calling code.
/// (The crate's own check anchors patterns at the start only, so `+86 231 2345 6789`
/// passed; and its region pick drops Italian leading zeros.)
fn valid_national(code: u16, national: &str) -> bool {
    let Some(regions) = db().by_code(&code) else {
        return false;
    };
    regions.into_iter().any(|meta| {
        let d = meta.descriptors();
        let types = [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ];
        full_match(d.general(), national)
            && types.into_iter().flatten().any(|t| full_match(t, national))
    })
}

fn full_match(d: &'static phonenumber::metadata::Descriptor, national: &str) -> bool {
    let len = national.len() as u16;
    if !d.possible_length().is_empty() && !d.possible_length().contains(&len) {
        return false;
    }
    compiled(d.national_number().as_str(), true).is_some_and(|re| re.is_match(national))
}

/// A metadata pattern compiled once, anchored at both ends (`whole`) or at the start.
/// Patterns live in the crate's static database for the whole run, so their address
/// names them; the few thousand compiled patterns live as long.
fn compiled(pattern: &'static str, whole: bool) -> Option<&'static regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{OnceLock, RwLock};
    type Cache = RwLock<HashMap<(usize, usize, bool), Option<&'static regex::Regex>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = (pattern.as_ptr() as usize, pattern.len(), whole);
    if let Some(re) = cache.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return *re;
    }
    // The metadata keeps the layout whitespace of libphonenumber's XML.
    let compact: String = pattern.split_whitespace().collect();
    let source = if whole {
        format!("^(?:{compact})$")
    } else {
        format!("^(?:{compact})")
    };
    let re = regex::Regex::new(&source)
        .ok()
        .map(|r| &*Box::leak(Box::new(r)));
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, re);
    re
}

/// The region's own international prefix (`011` in the US, `0011` in Australia) read
/// from the metadata.
fn strip_international_prefix(region: Region, digits: &str) -> Option<&str> {
    let meta = db().by_id(region.code())?;
    let re = compiled(meta.international_prefix()?.as_str(), false)?;
    let m = re.find(digits)?;
    (m.end() < digits.len()).then(|| &digits[m.end()..])
}

fn strip_quotes(s: &str) -> &str {
    s.trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim_matches(char::is_whitespace)
}

/// Splits `TYPE:number`. A prefix that is a word but not a known type is an error, so a
/// typo (`WROK:+49…`) is reported instead of stored as a work number.
fn split_type(s: &str) -> Result<(Option<NumberType>, &str), NumberError> {
    let Some((prefix, rest)) = s.split_once(':') else {
        return Ok((None, s));
    };
    let p = prefix.trim();
    if p.is_empty()
        || !p
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '_' | '-'))
    {
        return Ok((None, s));
    }
    if p.eq_ignore_ascii_case("tel") {
        return split_type(rest.trim());
    }
    match NumberType::from_alias(p) {
        Some(t) => Ok((Some(t), rest.trim())),
        None => Err(NumberError::UnknownType(p.to_owned())),
    }
}

struct Cleaned {
    plus: bool,
    digits: String,
    had_letters: bool,
}

/// Keeps the digits, reads a leading `+` (also `++`) and turns vanity letters into keypad
/// digits. Separators people use (space, `-`, `/`, `.`, brackets) vanish.
fn clean(input: &str) -> Result<Cleaned, NumberError> {
    let trimmed = input.trim_start();
    let plus = trimmed.starts_with('+') || trimmed.starts_with('＋');
    // `+49 (0)89 …`: the `(0)` is read like any other bracket; the parser drops a trunk
    // zero after a country code where the country has one (not in Italy, where it is part
    // of the number).
    let body = trimmed.trim_start_matches(['+', '＋', ' ']);

    let lower = body.to_ascii_lowercase();
    let letters = body.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if lower.contains("ext") || lower.contains("durchwahl") || (letters < 3 && lower.contains('x'))
    {
        return Err(NumberError::ExtensionSuffix(input.to_owned()));
    }
    if let (1..=2, Some(ch)) = (letters, body.chars().find(|c| c.is_ascii_alphabetic())) {
        return Err(NumberError::BadCharacter {
            input: input.to_owned(),
            ch,
        });
    }
    let digit_count = body.chars().filter(|c| c.is_ascii_digit()).count();
    if letters > 0 && digit_count < 3 {
        return Err(NumberError::Invalid(input.to_owned()));
    }

    let mut digits = String::with_capacity(body.len());
    for ch in body.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            'a'..='z' | 'A'..='Z' => digits.push(keypad(ch)),
            ' ' | '\u{a0}' | '\t' | '-' | '‐' | '–' | '—' | '.' | '/' | '(' | ')' | '[' | ']'
            | '~' => {}
            _ => {
                return Err(NumberError::BadCharacter {
                    input: input.to_owned(),
                    ch,
                })
            }
        }
    }
    Ok(Cleaned {
        plus,
        digits,
        had_letters: letters > 0,
    })
}

/// The ITU E.161 keypad: ABC=2 … WXYZ=9.
fn keypad(c: char) -> char {
    match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        _ => '9',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> NumberRules {
        NumberRules {
            region: Some("DE".parse().unwrap()),
            ..Default::default()
        }
    }

    /// Where the first reading is a valid number, `parse` reads the same; where it is none,
    /// a lookup falls back to `parse` (letters, extensions, no prefix it knows).
    #[test]
    fn the_first_reading_is_what_parse_reads_when_valid() {
        let same_as_parse = |rules: &NumberRules, raw: &str| -> bool {
            let Some(first) = rules.first_reading(raw) else {
                return false;
            };
            let valid = rules
                .parse(&first, NumberType::Work)
                .is_ok_and(|n| n.value == first);
            if valid {
                let read = rules.parse(raw, NumberType::Work).map(|n| n.value);
                let region = rules.region.map(|r| r.to_string());
                assert_eq!(read.as_deref(), Ok(first.as_str()), "{raw} in {region:?}");
            }
            valid
        };
        let mut checked = 0;
        for region in ["DE", "AT", "CH", "GB", "FR", "US", "IT", "NL"] {
            let rules = NumberRules {
                region: Some(region.parse().unwrap()),
                ..Default::default()
            };
            for raw in [
                "0231 1234567",
                "0231/123 45-67",
                "(0231) 1234567",
                "030 12345678",
                "0049 231 1234567",
                "0041 44 668 18 00",
                "011 49 231 1234567",
                "+49 231 1234567",
                "+49 (0)231 1234567",
                "+39 06 1234 5678",
                "01511 2345678",
                "020 7946 0958",
                "1 212 555 0100",
                "06 12 34 56 78",
                "0612345678",
                "02 1234 5678",
                "0664 1234567",
                "044 668 18 00",
            ] {
                checked += usize::from(same_as_parse(&rules, raw));
            }
        }
        assert!(checked >= 20, "only {checked} readings were valid numbers");

        // Every region's own example numbers dialled nationally, and numbers of sixteen
        // countries dialled from it internationally.
        let examples = |meta: &phonenumber::metadata::Metadata| -> Vec<String> {
            let d = meta.descriptors();
            [d.fixed_line(), d.mobile()]
                .into_iter()
                .flatten()
                .filter_map(|x| x.example())
                .map(str::to_owned)
                .collect()
        };
        let abroad: Vec<(u16, String)> = HINT_REGIONS
            .iter()
            .filter_map(|r| db().by_id(*r))
            .flat_map(|m| examples(m).into_iter().map(|e| (m.country_code(), e)))
            .collect();
        let (mut regions, mut checked) = (0, 0);
        for meta in db().iter() {
            let Ok(region) = meta.id().parse::<Region>() else {
                continue;
            };
            regions += 1;
            let rules = NumberRules {
                region: Some(region),
                ..Default::default()
            };
            if let Some(trunk) = trunk_prefix(meta) {
                for nsn in examples(meta) {
                    checked += usize::from(same_as_parse(&rules, &format!("{trunk}{nsn}")));
                }
            }
            if let Some(intl) = meta
                .international_prefix()
                .map(|p| p.as_str().trim())
                .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
            {
                for (code, nsn) in &abroad {
                    checked += usize::from(same_as_parse(&rules, &format!("{intl} {code} {nsn}")));
                }
            }
        }
        assert!(
            regions > 200 && checked > 3000,
            "{regions} regions, {checked} readings"
        );
        for (code, nsn) in &abroad {
            for rules in [NumberRules::default(), de()] {
                assert!(same_as_parse(&rules, &format!("+{code} {nsn}")));
            }
            assert!(same_as_parse(
                &NumberRules::default(),
                &format!("00{code}{nsn}")
            ));
        }

        let de = de();
        assert_eq!(
            de.first_reading(" 0231 123 45-67 ").as_deref(),
            Some("+492311234567")
        );
        assert_eq!(
            de.first_reading("0049 231 1234567").as_deref(),
            Some("+492311234567")
        );
        assert_eq!(
            de.first_reading("+49 231 1234567").as_deref(),
            Some("+492311234567")
        );
        for not_read in [
            "0231 ABCDEFG",
            "42",
            "012345",
            "231 1234567x",
            "++49 231",
            "+",
        ] {
            assert_eq!(de.first_reading(not_read), None, "{not_read}");
        }
        assert_eq!(de.first_reading("231 1234567"), None, "no trunk prefix");
        assert_eq!(NumberRules::default().first_reading("0231 1234567"), None);
    }

    #[test]
    fn typed_numbers() {
        let n = de()
            .parse_typed("MOBILE:+4915112345678", NumberType::Work)
            .unwrap();
        assert_eq!(n.kind, NumberType::Mobile);
        assert_eq!(n.value, "+4915112345678");
        let n = de()
            .parse_typed("cell: 0151 12345678", NumberType::Work)
            .unwrap();
        assert_eq!(
            (n.kind, n.value.as_str()),
            (NumberType::Mobile, "+4915112345678")
        );
        assert_eq!(
            de().parse_typed("WROK:+4923648873040", NumberType::Work),
            Err(NumberError::UnknownType("WROK".into()))
        );
    }

    #[test]
    fn untyped_is_work_and_quotes_are_dropped() {
        let n = de().parse_typed("'+4989123456'", NumberType::Work).unwrap();
        assert_eq!(
            (n.kind, n.value.as_str()),
            (NumberType::Work, "+4989123456")
        );
    }

    #[test]
    fn short_digit_strings_are_extensions() {
        let n = de().parse_typed("42", NumberType::Work).unwrap();
        assert_eq!((n.kind, n.value.as_str()), (NumberType::Extension, "42"));
        let n = de().parse_typed("EXT:123456", NumberType::Work).unwrap();
        assert_eq!(
            (n.kind, n.value.as_str()),
            (NumberType::Extension, "123456")
        );
        // Longer than an extension may be here, or a number cut short: a warning, not an
        // extension nobody can dial.
        let e = de()
            .parse_typed("1234567", NumberType::Extension)
            .unwrap_err();
        assert!(e.to_string().contains("7 digits"), "{e}");
        assert!(e.to_string().contains("--max-extension-digits"), "{e}");
        let e = de().parse_typed("0151", NumberType::Mobile).unwrap_err();
        assert_eq!(e, NumberError::TooShort("0151".into()));
        // EXT: says it is an extension, whatever it starts with.
        let n = de().parse_typed("EXT:0", NumberType::Work).unwrap();
        assert_eq!(n.value, "0");
        let n = NumberRules::default()
            .parse_typed("12-34", NumberType::Work)
            .unwrap();
        assert_eq!(n.value, "1234");
        assert!(matches!(
            de().parse_typed("EXTENSION:+4942", NumberType::Work),
            Err(NumberError::BadExtension(_))
        ));
    }

    #[test]
    fn national_without_region_says_what_to_do() {
        let e = NumberRules::default()
            .parse_typed("030 1234567", NumberType::Work)
            .unwrap_err();
        assert!(e.to_string().contains("?region="), "{e}");
    }

    #[test]
    fn wrong_region_suggests_the_right_one() {
        let e = de()
            .parse_typed("020 7946 0018", NumberType::Home)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`020 7946 0018` is not a valid number for region DE; add the country code or push with ?region=GB"
        );
    }

    #[test]
    fn extension_suffixes_and_odd_characters_are_refused() {
        assert!(matches!(
            de().parse_typed("+49 231 1234 ext. 12", NumberType::Work),
            Err(NumberError::ExtensionSuffix(_))
        ));
        assert!(matches!(
            de().parse_typed("+49 231 1234*5", NumberType::Work),
            Err(NumberError::BadCharacter { ch: '*', .. })
        ));
    }

    #[test]
    fn regions() {
        assert_eq!("de".parse::<Region>().unwrap().code(), "DE");
        assert_eq!("DE".parse::<Region>().unwrap().calling_code(), 49);
        assert!("XX".parse::<Region>().is_err());
        assert!("DEU".parse::<Region>().is_err());
    }
}

#[cfg(test)]
mod reference_table {
    //! The table in tests/data/numbers.tsv was generated with Google's libphonenumber
    //! (tests/data/gen_numbers.py); every row must come out the same here.
    use super::*;

    #[test]
    fn matches_libphonenumber() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/numbers.tsv");
        let table = std::fs::read_to_string(path).expect("reference table");
        let mut failures = Vec::new();
        let mut rows = 0;
        for line in table.lines().skip_while(|l| l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (input, region, expected) = (cols[0], cols[1], cols[2]);
            rows += 1;
            let rules = NumberRules {
                region: Some(region.parse().expect("region")),
                max_extension_digits: 6,
            };
            let got = match rules.parse(input, NumberType::Work) {
                Ok(n) if n.kind == NumberType::Extension => format!("EXTENSION {}", n.value),
                Ok(n) => n.value,
                Err(_) => "INVALID".to_owned(),
            };
            if got != expected {
                failures.push(format!(
                    "{input:?} ({region}): expected {expected}, got {got}"
                ));
            }
        }
        assert!(rows >= 150, "table has only {rows} rows");
        assert!(
            failures.is_empty(),
            "{} of {rows} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
