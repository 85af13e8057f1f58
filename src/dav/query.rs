//! `addressbook-query` filters (RFC 6352 §10.5) over a book: which cards a client's search
//! finds. Properties are read from the contact as its card writes them (FN, N, ORG, TITLE,
//! EMAIL, TEL, CATEGORIES, UID); any other property is "not defined" on every card.
//!
//! TEL matches in any shape a person types a number in: the digits of the search are
//! compared with each number as E.164, `00`-international and national digits, and an
//! `equals` search also finds what the caller-ID lookup finds (`0231…`, `+49231…`,
//! `0049231…`, an extension, with an outside-line prefix).

use super::xml::{Collation, Filter, MatchType, PropFilter, Test, TextMatch};
use crate::book::Book;
use crate::domain::{Contact, PhoneNumber, Shape};
use crate::phone::NumberRules;
use crate::render::vcard::tel_types;
use crate::render::Presenter;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Positions of the cards `filter` matches, in book order.
pub fn matching(book: &Book, filter: &Filter, rules: &NumberRules) -> Vec<u32> {
    if filter.props.is_empty() {
        return (0..book.contacts.len() as u32).collect();
    }
    let prepared: Vec<Prepared> = filter
        .props
        .iter()
        .map(|f| Prepared::new(book, f, rules))
        .collect();
    let shapes = Shapes::new(book, rules);
    book.contacts
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let mut results = prepared.iter().map(|p| p.matches(c, &shapes));
            if filter.all {
                results.all(|r| r)
            } else {
                results.any(|r| r)
            }
        })
        .map(|(i, _)| i as u32)
        .collect()
}

/// A prop-filter with what can be computed once per query: the numbers a TEL `equals`
/// finds by lookup.
struct Prepared<'a> {
    filter: &'a PropFilter,
    /// For each text-match of a TEL filter: the numbers (by address) the lookup finds.
    looked_up: Vec<HashSet<usize>>,
}

impl<'a> Prepared<'a> {
    fn new(book: &Book, filter: &'a PropFilter, rules: &NumberRules) -> Prepared<'a> {
        let mut looked_up = Vec::new();
        if filter.name == "TEL" {
            if let Test::Checks { matches, .. } = &filter.test {
                for m in matches {
                    let set = if m.kind == MatchType::Equals {
                        book.lookup(&m.text, rules, "", usize::MAX)
                            .into_iter()
                            .filter(|h| h.exact)
                            .map(|h| h.number as *const PhoneNumber as usize)
                            .collect()
                    } else {
                        HashSet::new()
                    };
                    looked_up.push(set);
                }
            }
        }
        Prepared { filter, looked_up }
    }

    fn matches(&self, c: &Contact, shapes: &Shapes) -> bool {
        let instances = instances(c, &self.filter.name);
        match &self.filter.test {
            Test::NotDefined => instances.is_empty(),
            Test::Checks { matches, params } => instances.iter().any(|inst| {
                if matches.is_empty() && params.is_empty() {
                    return true;
                }
                let mut results = matches
                    .iter()
                    .enumerate()
                    .map(|(i, m)| self.text_matches(inst, i, m, shapes))
                    .chain(params.iter().map(|p| {
                        let values: &[&str] = if p.name == "TYPE" { &inst.types } else { &[] };
                        match &p.test {
                            None => !values.is_empty(),
                            Some(None) => values.is_empty(),
                            Some(Some(m)) => values.iter().any(|v| text_match(v, m)),
                        }
                    }));
                if self.filter.all {
                    results.all(|r| r)
                } else {
                    results.any(|r| r)
                }
            }),
        }
    }

    fn text_matches(&self, inst: &Instance, i: usize, m: &TextMatch, shapes: &Shapes) -> bool {
        let Some(n) = inst.number else {
            return inst.texts.iter().any(|t| text_match(t, m));
        };
        let wanted = digits(&m.text);
        let hit = if wanted.is_empty() {
            // No digits typed: compare with the number as the card writes it.
            let shown = shapes.card.show(n);
            compare(&shown, &m.text, m.kind, m.collation)
        } else {
            let by_lookup = self
                .looked_up
                .get(i)
                .is_some_and(|s| s.contains(&(n as *const PhoneNumber as usize)));
            by_lookup
                || shapes.any_form(n, wanted.starts_with('0'), |form| {
                    compare(form, &wanted, m.kind, Collation::Octet)
                })
        };
        hit != m.negate
    }
}

/// The shapes a number is compared in, as digits.
struct Shapes {
    card: Presenter,
    intl: Presenter,
    /// National digits by number (address), computed at most once per number and query:
    /// the formatter is the costly part of a TEL search.
    national: RefCell<HashMap<usize, Option<String>>>,
}

impl Shapes {
    fn new(book: &Book, rules: &NumberRules) -> Shapes {
        let card = book.address_book_presenter();
        Shapes {
            intl: Presenter {
                shape: Shape::Intl00,
                region: card.region.or(rules.region),
                outside_prefix: Default::default(),
            },
            card,
            national: RefCell::new(HashMap::new()),
        }
    }

    /// Whether `f` holds for the number's digits in any shape: E.164, as the card writes
    /// it, `00`-international, and (for digits typed with a trunk prefix, the only case
    /// that needs the costlier formatter) as dialled inside its own country.
    fn any_form(&self, n: &PhoneNumber, trunk: bool, f: impl Fn(&str) -> bool) -> bool {
        f(&digits(&n.value))
            || f(&digits(&self.card.show(n)))
            || f(&digits(&self.intl.show(n)))
            || (trunk && !n.is_extension() && {
                let mut memo = self.national.borrow_mut();
                memo.entry(n as *const PhoneNumber as usize)
                    .or_insert_with(|| crate::render::shape::national(&n.value))
                    .as_deref()
                    .is_some_and(&f)
            })
    }
}

/// One occurrence of a property on a card: its texts (N has its parts and the whole),
/// its TYPE values, and for TEL the number.
struct Instance<'c> {
    texts: Vec<String>,
    types: Vec<&'static str>,
    number: Option<&'c PhoneNumber>,
}

fn instances<'c>(c: &'c Contact, name: &str) -> Vec<Instance<'c>> {
    let text = |t: Vec<String>| Instance {
        texts: t,
        types: Vec::new(),
        number: None,
    };
    let nonempty = |s: &str| -> Vec<Instance<'c>> {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![text(vec![s.to_owned()])]
        }
    };
    match name {
        "FN" => vec![text(vec![c.display_name.clone()])],
        "N" => vec![text(vec![
            c.family_name.clone(),
            c.given_name.clone(),
            format!("{};{};;;", c.family_name, c.given_name),
        ])],
        "UID" => vec![text(vec![c.id.to_string()])],
        "EMAIL" if !c.email.is_empty() => vec![Instance {
            texts: vec![c.email.clone()],
            types: vec!["internet"],
            number: None,
        }],
        "ORG" if !(c.company.is_empty() && c.department.is_empty()) => vec![text(vec![
            c.company.clone(),
            c.department.clone(),
            format!("{};{}", c.company, c.department),
        ])],
        "TITLE" => nonempty(&c.position),
        "CATEGORIES" => nonempty(&c.group),
        "TEL" => c
            .numbers_by_preference()
            .into_iter()
            .map(|n| Instance {
                texts: Vec::new(),
                types: tel_types(n.kind).split(',').collect(),
                number: Some(n),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn text_match(value: &str, m: &TextMatch) -> bool {
    compare(value, &m.text, m.kind, m.collation) != m.negate
}

fn compare(value: &str, wanted: &str, kind: MatchType, collation: Collation) -> bool {
    let fold = |s: &str| match collation {
        Collation::UnicodeCasemap => s.to_lowercase(),
        Collation::AsciiCasemap => s.to_ascii_lowercase(),
        Collation::Octet => s.to_owned(),
    };
    let (v, w) = (fold(value), fold(wanted));
    match kind {
        MatchType::Equals => v == w,
        MatchType::Contains => v.contains(&w),
        MatchType::StartsWith => v.starts_with(&w),
        MatchType::EndsWith => v.ends_with(&w),
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collations_and_match_types() {
        assert!(compare(
            "Jürgen Weiß",
            "JÜRGEN",
            MatchType::StartsWith,
            Collation::UnicodeCasemap
        ));
        assert!(!compare(
            "Jürgen",
            "JÜRGEN",
            MatchType::Equals,
            Collation::AsciiCasemap
        ));
        assert!(compare(
            "Anna",
            "anna",
            MatchType::Equals,
            Collation::AsciiCasemap
        ));
        assert!(!compare(
            "Anna",
            "anna",
            MatchType::Equals,
            Collation::Octet
        ));
        assert!(compare(
            "Schmidt",
            "mid",
            MatchType::Contains,
            Collation::Octet
        ));
        assert!(compare(
            "Schmidt",
            "DT",
            MatchType::EndsWith,
            Collation::UnicodeCasemap
        ));
        assert_eq!(digits("+49 (231) 12-34"), "492311234");
    }
}
