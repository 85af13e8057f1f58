//! LDAP filters as phones send them, turned into a query over the book.
//!
//! Translation (`Query::from_ldap`) knows attribute names and nothing of the book: unknown
//! attributes, ordering and extensible matches match nothing (a phone's template naming an
//! attribute we lack must not fail the search), `objectClass` is decided at once, and
//! `~=` is `=`. Evaluation (`find`) answers from the book's indexes where it can:
//!
//! - names (`cn`, `displayName`, `sn`, `givenName`, `o`) starting with what was typed
//!   (`(cn=Mül*)`): the word-prefix index, folded like the phone-book search (case,
//!   accents and German transliteration ignored, any word of the name);
//! - numbers equal to what was typed, in any shape a phone sends (`+4989…`, `004989…`,
//!   `089…`, with the outside-line prefix, spaces or dashes): the caller-ID lookup;
//! - a contact's `uid`: the id index.
//!
//! The rest (`*any*` and `*final` parts, presence, `!`) is checked contact by contact, in
//! book order, and only until the answer is full; a filter may hold at most `MAX_CHECKS`
//! such tests and `MAX_NODES` nodes, so one search costs at most a bounded number of passes
//! over the book.
//!
//! Matching is a superset of LDAP's own rules, never less: a name matches an initial part
//! at the start of any of its words (`(cn=Mül*)` finds `Jörg Müller`), equality ignores
//! case, accents and punctuation, and a number's substrings match its digits whatever the
//! shape (leading zeros of what was typed are a trunk or international prefix).

use crate::book::index::{self, intersect, union};
use crate::book::Book;
use crate::domain::text::{fold, fold_german, has_german_letters};
use crate::domain::{Contact, ContactId, NumberType};
use crate::phone::NumberRules;
use ldap3_proto::proto::{LdapFilter, LdapSubstringFilter};

use super::attrs::{attr, Attr, OBJECT_CLASSES};

/// Most nodes a filter may have (phones send a handful).
pub const MAX_NODES: usize = 64;
/// Most tests that are checked contact by contact rather than answered by an index.
pub const MAX_CHECKS: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error(
        "the filter has more than {MAX_NODES} parts; phonedir answers filters as phones send them"
    )]
    TooManyNodes,
    #[error("the filter has more than {MAX_CHECKS} tests that need a pass over the whole directory (presence, `*any*` or `*final` substrings); name fewer")]
    TooManyChecks,
}

/// A text field of a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Display,
    Given,
    Family,
    Company,
    Department,
    Title,
    Mail,
    Id,
}

/// What a value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    Equal(String),
    Substrings {
        initial: Option<String>,
        any: Vec<String>,
        last: Option<String>,
    },
    Present,
}

/// Number types, as a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    pub fn of(kind: NumberType) -> Kinds {
        Kinds(1 << NumberType::ALL.iter().position(|k| *k == kind).unwrap_or(0))
    }

    pub fn contains(self, kind: NumberType) -> bool {
        self.0 & Kinds::of(kind).0 != 0
    }
}

/// A filter in the book's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    True,
    False,
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    Text(Field, Test),
    Number(Kinds, Test),
}

impl Query {
    pub fn from_ldap(f: &LdapFilter) -> Result<Query, FilterError> {
        let mut budget = Budget::default();
        translate(f, &mut budget)
    }
}

#[derive(Default)]
struct Budget {
    nodes: usize,
    checks: usize,
}

fn translate(f: &LdapFilter, b: &mut Budget) -> Result<Query, FilterError> {
    b.nodes += 1;
    if b.nodes > MAX_NODES {
        return Err(FilterError::TooManyNodes);
    }
    Ok(match f {
        LdapFilter::And(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match translate(p, b)? {
                    Query::True => {}
                    Query::False => return Ok(Query::False),
                    q => out.push(q),
                }
            }
            match out.len() {
                0 => Query::True,
                1 => out.pop().unwrap_or(Query::True),
                _ => Query::And(out),
            }
        }
        LdapFilter::Or(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match translate(p, b)? {
                    Query::False => {}
                    Query::True => return Ok(Query::True),
                    q => out.push(q),
                }
            }
            match out.len() {
                0 => Query::False,
                1 => out.pop().unwrap_or(Query::False),
                _ => Query::Or(out),
            }
        }
        LdapFilter::Not(inner) => match translate(inner, b)? {
            Query::True => Query::False,
            Query::False => Query::True,
            q => Query::Not(Box::new(q)),
        },
        LdapFilter::Equality(a, v) | LdapFilter::Approx(a, v) => {
            leaf(a, Test::Equal(v.clone()), b)?
        }
        LdapFilter::Substring(a, s) => leaf(a, substrings(s), b)?,
        LdapFilter::Present(a) => leaf(a, Test::Present, b)?,
        // Nothing in a phone book is ordered or has matching rules phones use.
        LdapFilter::GreaterOrEqual(..)
        | LdapFilter::LessOrEqual(..)
        | LdapFilter::Extensible(_) => Query::False,
    })
}

fn substrings(s: &LdapSubstringFilter) -> Test {
    let some = |p: &Option<String>| p.clone().filter(|v| !v.is_empty());
    let any: Vec<String> = s.any.iter().filter(|v| !v.is_empty()).cloned().collect();
    let (initial, last) = (some(&s.initial), some(&s.final_));
    if initial.is_none() && any.is_empty() && last.is_none() {
        Test::Present
    } else {
        Test::Substrings { initial, any, last }
    }
}

fn leaf(name: &str, test: Test, b: &mut Budget) -> Result<Query, FilterError> {
    let field = match attr(name) {
        None => return Ok(Query::False),
        Some(Attr::ObjectClass) => return Ok(object_class(&test)),
        Some(Attr::Phone(kind)) => {
            let q = Query::Number(Kinds::of(kind), test);
            return counted(q, b);
        }
        Some(Attr::Uid) => Field::Id,
        Some(Attr::Cn | Attr::DisplayName) => Field::Display,
        Some(Attr::Sn) => Field::Family,
        Some(Attr::GivenName) => Field::Given,
        Some(Attr::O) => Field::Company,
        Some(Attr::Ou) => Field::Department,
        Some(Attr::Title) => Field::Title,
        Some(Attr::Mail) => Field::Mail,
    };
    // What folds to nothing (`(cn=-*)`) asks only that there be a value.
    let test = match test {
        Test::Equal(v) if field != Field::Id && fold(&v).is_empty() => return Ok(Query::False),
        Test::Substrings { initial, any, last }
            if field != Field::Id
                && initial
                    .iter()
                    .chain(&any)
                    .chain(&last)
                    .all(|p| fold(p).is_empty()) =>
        {
            Test::Present
        }
        t => t,
    };
    counted(Query::Text(field, test), b)
}

/// Counts the leaves that no index answers.
fn counted(q: Query, b: &mut Budget) -> Result<Query, FilterError> {
    let indexed = match &q {
        Query::Text(
            f,
            Test::Substrings {
                initial: Some(_),
                any,
                last: None,
            },
        ) => any.is_empty() && index_fields(*f).is_some(),
        Query::Text(f, Test::Equal(_)) => index_fields(*f).is_some() || *f == Field::Id,
        Query::Number(_, Test::Equal(_)) => true,
        _ => false,
    };
    if !indexed {
        b.checks += 1;
        if b.checks > MAX_CHECKS {
            return Err(FilterError::TooManyChecks);
        }
    }
    Ok(q)
}

fn object_class(test: &Test) -> Query {
    let ok = OBJECT_CLASSES.iter().any(|class| match test {
        Test::Present => true,
        Test::Equal(v) => v.trim().eq_ignore_ascii_case(class),
        Test::Substrings { initial, any, last } => {
            let pieces = |p: &Option<String>| p.as_ref().map(|s| s.to_ascii_lowercase());
            in_order(
                &class.to_ascii_lowercase(),
                pieces(initial).as_deref(),
                &any.iter()
                    .map(|s| s.to_ascii_lowercase())
                    .collect::<Vec<_>>(),
                pieces(last).as_deref(),
                |_| true,
            )
        }
    });
    if ok {
        Query::True
    } else {
        Query::False
    }
}

fn index_fields(f: Field) -> Option<index::Fields> {
    match f {
        Field::Display => Some(index::DISPLAY),
        Field::Given => Some(index::SPLIT_GIVEN),
        Field::Family => Some(index::SPLIT_FAMILY),
        Field::Company => Some(index::COMPANY),
        _ => None,
    }
}

/// How the directory reads numbers (for equality in any shape).
pub struct Numbers<'a> {
    pub rules: NumberRules,
    pub outside_prefix: &'a str,
}

/// Book positions (ascending, so in display-name order) of up to `limit` matching contacts,
/// and whether there are more.
///
/// Phones want the first few hits of what was typed, in name order. The book is searched a
/// part at a time, from the start (the first `below` entries, eight times more each round),
/// until `limit` + 1 hits are found or the book ends: a first letter that thousands of names
/// start with costs what the first hits cost, and the few hits of a longer prefix cost a
/// handful of index lookups per round.
pub fn find(book: &Book, q: &Query, numbers: &Numbers, limit: usize) -> (Vec<u32>, bool) {
    let n = u32::try_from(book.contacts.len()).unwrap_or(u32::MAX);
    let wanted = u32::try_from(limit.saturating_add(1)).unwrap_or(u32::MAX);
    let mut below = wanted.saturating_mul(16).max(1024).min(n);
    loop {
        let plan = plan(book, q, numbers, below);
        let (found, more) = first(book, &plan, limit, below);
        if more || below >= n {
            return (found, more);
        }
        below = below.saturating_mul(8).min(n);
    }
}

/// Up to `limit` hits among the first `below` entries, and whether there are more there.
fn first(book: &Book, plan: &Plan, limit: usize, below: u32) -> (Vec<u32>, bool) {
    let test = |i: u32| {
        book.contacts
            .get(i as usize)
            .is_some_and(|c| plan.test(i, c))
    };
    let mut found = Vec::new();
    let mut more = false;
    let mut keep = |i: u32| {
        if found.len() < limit {
            found.push(i);
            true
        } else {
            more = true;
            false
        }
    };
    match plan.candidates() {
        Some(list) => {
            for &i in list
                .iter()
                .take_while(|i| **i < below)
                .filter(|i| test(**i))
            {
                if !keep(i) {
                    break;
                }
            }
        }
        None => {
            for i in (0..below).filter(|i| test(*i)) {
                if !keep(i) {
                    break;
                }
            }
        }
    }
    (found, more)
}

/// A query with its indexed parts answered.
enum Plan {
    All,
    Nothing,
    /// Positions, ascending.
    Set(Vec<u32>),
    Text(Field, Matcher),
    /// A number of these kinds is there (`None`) or has these digits.
    Number(Kinds, Option<Digits>),
    And(Vec<Plan>),
    Or(Vec<Plan>),
    Not(Box<Plan>),
}

/// The plan of `q` for the first `below` entries of the book.
fn plan(book: &Book, q: &Query, numbers: &Numbers, below: u32) -> Plan {
    let sub = |q: &Query| plan(book, q, numbers, below);
    match q {
        Query::True => Plan::All,
        Query::False => Plan::Nothing,
        Query::And(qs) => Plan::And(qs.iter().map(sub).collect()),
        Query::Or(qs) => Plan::Or(qs.iter().map(sub).collect()),
        Query::Not(q) => Plan::Not(Box::new(sub(q))),
        Query::Number(kinds, Test::Equal(v)) => {
            let mut set: Vec<u32> = book
                .lookup(v, &numbers.rules, numbers.outside_prefix, usize::MAX)
                .into_iter()
                .filter(|h| kinds.contains(h.number.kind))
                .filter_map(|h| book.index_of(h.contact))
                .map(|i| i as u32)
                .collect();
            set.sort_unstable();
            set.dedup();
            Plan::Set(set)
        }
        Query::Number(kinds, Test::Present) => Plan::Number(*kinds, None),
        Query::Number(kinds, Test::Substrings { initial, any, last }) => {
            match Digits::new(initial.as_deref(), any, last.as_deref()) {
                Some(d) => Plan::Number(*kinds, Some(d)),
                None => Plan::Nothing,
            }
        }
        Query::Text(Field::Id, Test::Equal(v)) => {
            let at = ContactId::parse(&v.trim().to_ascii_lowercase())
                .and_then(|id| book.get(id))
                .and_then(|c| book.index_of(c));
            Plan::Set(at.map(|i| vec![i as u32]).unwrap_or_default())
        }
        Query::Text(f, test) => {
            let matcher = Matcher::new(test);
            match (index_fields(*f), test) {
                (
                    Some(fields),
                    Test::Substrings {
                        initial: Some(i),
                        any,
                        last: None,
                    },
                ) if any.is_empty() => Plan::Set(book.with_prefix_below(i, fields, below)),
                // Every word of an equal name starts a word of the field: the index narrows,
                // the matcher decides.
                (Some(fields), Test::Equal(v)) => Plan::And(vec![
                    Plan::Set(book.with_prefix_below(v, fields, below)),
                    Plan::Text(*f, matcher),
                ]),
                _ => Plan::Text(*f, matcher),
            }
        }
    }
}

impl Plan {
    /// Positions that may match, ascending; None for "any of them".
    fn candidates(&self) -> Option<std::borrow::Cow<'_, [u32]>> {
        use std::borrow::Cow;
        match self {
            Plan::Set(s) => Some(Cow::Borrowed(s)),
            Plan::Nothing => Some(Cow::Borrowed(&[])),
            Plan::And(ps) => ps
                .iter()
                .filter_map(Plan::candidates)
                .reduce(|a, b| Cow::Owned(intersect(&a, &b))),
            Plan::Or(ps) => {
                let mut all: Vec<u32> = Vec::new();
                for p in ps {
                    all = union(&all, &p.candidates()?);
                }
                Some(Cow::Owned(all))
            }
            Plan::All | Plan::Text(..) | Plan::Number(..) | Plan::Not(_) => None,
        }
    }

    fn test(&self, i: u32, c: &Contact) -> bool {
        match self {
            Plan::All => true,
            Plan::Nothing => false,
            Plan::Set(s) => s.binary_search(&i).is_ok(),
            Plan::Text(f, m) => m.test(text(c, *f)),
            Plan::Number(kinds, digits) => {
                c.numbers
                    .iter()
                    .filter(|n| kinds.contains(n.kind))
                    .any(|n| {
                        digits
                            .as_ref()
                            .is_none_or(|d| d.test(&n.value, n.is_extension()))
                    })
            }
            Plan::And(ps) => ps.iter().all(|p| p.test(i, c)),
            Plan::Or(ps) => ps.iter().any(|p| p.test(i, c)),
            Plan::Not(p) => !p.test(i, c),
        }
    }
}

/// The value of a text field as an entry shows it.
fn text(c: &Contact, f: Field) -> std::borrow::Cow<'_, str> {
    let (given, family) = crate::render::split_name(c);
    std::borrow::Cow::Borrowed(match f {
        Field::Display => &c.display_name,
        Field::Given => given,
        Field::Family => family,
        Field::Company => &c.company,
        Field::Department => &c.department,
        Field::Title => &c.position,
        Field::Mail => &c.email,
        Field::Id => return std::borrow::Cow::Owned(c.id.to_string()),
    })
}

/// A test on one text value, with what was typed folded both ways (`Müller`: `muller` and
/// `mueller`), matched against the value folded both ways.
enum Matcher {
    Present,
    Equal([String; 2]),
    /// (initial, any, last) in each folding.
    Pieces([(Option<String>, Vec<String>, Option<String>); 2]),
}

impl Matcher {
    fn new(test: &Test) -> Matcher {
        match test {
            Test::Present => Matcher::Present,
            Test::Equal(v) => Matcher::Equal([fold(v), fold_german(v)]),
            Test::Substrings { initial, any, last } => {
                let pieces = |f: fn(&str) -> String| {
                    let one = |p: &Option<String>| p.as_deref().map(f).filter(|s| !s.is_empty());
                    (
                        one(initial),
                        any.iter().map(|p| f(p)).filter(|s| !s.is_empty()).collect(),
                        one(last),
                    )
                };
                Matcher::Pieces([pieces(fold), pieces(fold_german)])
            }
        }
    }

    fn test(&self, value: std::borrow::Cow<'_, str>) -> bool {
        if value.is_empty() {
            return false;
        }
        // Presence needs no folding.
        if matches!(self, Matcher::Present) {
            return true;
        }
        let plain = fold(&value);
        // The German folding differs only where an umlaut or ß is.
        let german = has_german_letters(&value).then(|| fold_german(&value));
        let mut folded = std::iter::once(&plain).chain(german.as_ref());
        match self {
            Matcher::Present => true,
            Matcher::Equal(wanted) => folded.any(|v| wanted.contains(v)),
            Matcher::Pieces(variants) => folded.any(|v| {
                variants.iter().any(|(initial, any, last)| {
                    in_order(v, initial.as_deref(), any, last.as_deref(), |at| {
                        at == 0 || v.as_bytes().get(at - 1) == Some(&b' ')
                    })
                })
            }),
        }
    }
}

/// Whether `value` has `initial` at a start `starts` accepts, then each of `any` in order
/// after it, then ends with `last` (not overlapping what came before).
fn in_order(
    value: &str,
    initial: Option<&str>,
    any: &[String],
    last: Option<&str>,
    starts: impl Fn(usize) -> bool,
) -> bool {
    let mut from = match initial {
        None => 0,
        Some(p) => match value
            .match_indices(p)
            .map(|(at, _)| at)
            .find(|at| starts(*at))
        {
            Some(at) => at + p.len(),
            None => return false,
        },
    };
    for p in any {
        match value.get(from..).and_then(|rest| rest.find(p.as_str())) {
            Some(at) => from += at + p.len(),
            None => return false,
        }
    }
    match last {
        None => true,
        Some(p) => value.len() >= from + p.len() && value.ends_with(p),
    }
}

/// Substrings of a number, as digits: separators and a leading `+` do not count, and the
/// leading zeros of the first part are a prefix (`0`, `00`) that a stored number does not
/// have in the same place. Shapes differ at the start (`+49…`, `0049…`, `0…`), so an
/// initial part may sit anywhere in the stored digits; the end is the same in every shape.
struct Digits {
    /// Initial and any parts, in order, zeros stripped from the first.
    parts: Vec<String>,
    last: Option<String>,
    /// The same as typed, for extensions (dialled as they are).
    raw_parts: Vec<String>,
    raw_last: Option<String>,
}

impl Digits {
    /// None if a part holds anything but digits and separators: no number has it.
    fn new(initial: Option<&str>, any: &[String], last: Option<&str>) -> Option<Digits> {
        fn digits(p: &str) -> Option<String> {
            let mut out = String::new();
            for c in p.chars() {
                match c {
                    '0'..='9' => out.push(c),
                    '+' | ' ' | '-' | '.' | '/' | '(' | ')' => {}
                    _ => return None,
                }
            }
            Some(out)
        }
        let mut raw_parts = Vec::new();
        for p in initial.into_iter().chain(any.iter().map(String::as_str)) {
            let d = digits(p)?;
            if !d.is_empty() {
                raw_parts.push(d);
            }
        }
        let raw_last = match last {
            Some(p) => Some(digits(p)?),
            None => None,
        }
        .filter(|s| !s.is_empty());
        let (mut parts, mut last) = (raw_parts.clone(), raw_last.clone());
        if let Some(first) = parts.first_mut().or(last.as_mut()) {
            let stripped = first.trim_start_matches('0');
            if !stripped.is_empty() {
                *first = stripped.to_owned();
            }
        }
        Some(Digits {
            parts,
            last,
            raw_parts,
            raw_last,
        })
    }

    fn test(&self, value: &str, extension: bool) -> bool {
        let value = value.trim_start_matches('+');
        let (parts, last) = if extension {
            (&self.raw_parts, &self.raw_last)
        } else {
            (&self.parts, &self.last)
        };
        in_order(value, None, parts, last.as_deref(), |_| true)
    }
}

#[cfg(test)]
mod tests;
