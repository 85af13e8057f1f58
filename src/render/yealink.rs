//! Yealink remote phone book: `YealinkIPPhoneBook` (Menu/Unit, desk phones and DECT) and
//! `YealinkIPPhoneDirectory` (labelled numbers, desk phones).

use super::shape::Shown;
use super::{title, Presenter, RenderError, Rendered};
use crate::domain::text::count;
use crate::domain::text::fold;
use crate::domain::Contact;
use askama::Template;

/// A Unit has three number slots. They are filled in the order of
/// `Contact::numbers_by_preference`: WORK, EXTENSION, MOBILE, HOME, OTHER, PAGER, FAX.
pub const PHONES_PER_UNIT: usize = 3;

// Borrowed from the book and written straight into the body: a search answer is rendered
// per request, and a String per name and number was most of its cost.
struct Unit<'a> {
    name: &'a str,
    phones: [Shown<'a>; PHONES_PER_UNIT],
}

struct Menu<'a> {
    name: String,
    units: Vec<Unit<'a>>,
}

#[derive(Template)]
#[template(path = "yealink_book.xml")]
struct Book<'a> {
    title: &'a str,
    menus: Vec<Menu<'a>>,
}

/// What `?group_by=` sorts contacts into, one `Menu` each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Group,
    Company,
    Source,
}

impl GroupBy {
    pub fn from_name(s: &str) -> Option<GroupBy> {
        Some(match s.trim() {
            "group" => GroupBy::Group,
            "company" => GroupBy::Company,
            "source" => GroupBy::Source,
            _ => return None,
        })
    }

    fn key(self, c: &Contact) -> &str {
        match self {
            GroupBy::Group => c.group.trim(),
            GroupBy::Company => c.company.trim(),
            GroupBy::Source => c.sources.first().map_or("", |s| s.trim()),
        }
    }
}

/// The Menu for contacts without a group.
pub const UNGROUPED: &str = "Other";

pub fn book(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    grouped(book_title, contacts, p, None)
}

/// One Menu per group (case and accents ignored), menus sorted by name with the contacts
/// without a group last under "Other"; inside a menu the book's order stays.
pub fn grouped(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
    by: Option<GroupBy>,
) -> Result<Rendered, RenderError> {
    let mut groups: Vec<(String, Vec<&Contact>)> = Vec::new();
    match by {
        None => groups.push(("Contacts".to_owned(), contacts.to_vec())),
        Some(by) => {
            // Spellings that differ only in case or accents are one folder, named as the
            // book first spells it.
            let mut map: std::collections::BTreeMap<(bool, String), (String, Vec<&Contact>)> =
                Default::default();
            for c in contacts {
                let key = by.key(c);
                map.entry((key.is_empty(), fold(key)))
                    .or_insert_with(|| (key.to_owned(), Vec::new()))
                    .1
                    .push(c);
            }
            for ((empty, _), (name, members)) in map {
                let name = if empty { UNGROUPED.to_owned() } else { name };
                groups.push((name, members));
            }
        }
    }
    let mut cut = 0;
    let mut menus = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let units = members
            .into_iter()
            .map(|c| {
                cut += c.numbers.len().saturating_sub(PHONES_PER_UNIT);
                let mut phones: [Shown; PHONES_PER_UNIT] = Default::default();
                for (slot, n) in phones.iter_mut().zip(c.by_preference()) {
                    *slot = p.shown(n);
                }
                Unit {
                    name: &c.display_name,
                    phones,
                }
            })
            .collect();
        menus.push(Menu { name, units });
    }
    // A Unit is about 130 bytes: sized once, the body is not copied as it grows.
    let units: usize = menus.iter().map(|m| m.units.len()).sum();
    let mut body = String::with_capacity(256 + 160 * (units + menus.len()));
    Book {
        title: title(book_title),
        menus,
    }
    .render_into(&mut body)?;
    let mut r = Rendered::xml(body);
    if cut > 0 {
        r.notice = Some(format!(
            "{} left out: a Yealink Unit holds {PHONES_PER_UNIT} numbers (WORK, EXTENSION, MOBILE, HOME, OTHER, PAGER, FAX in that order); ?style=directory shows all",
            count(cut, "number", "numbers")
        ));
    }
    Ok(r)
}

struct Labelled<'a> {
    label: &'static str,
    number: Shown<'a>,
}

struct Entry<'a> {
    name: &'a str,
    numbers: Vec<Labelled<'a>>,
}

#[derive(Template)]
#[template(path = "yealink_directory.xml")]
struct Directory<'a> {
    entries: Vec<Entry<'a>>,
}

pub fn directory(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let entries = contacts
        .iter()
        .map(|c| Entry {
            name: &c.display_name,
            numbers: c
                .by_preference()
                .map(|n| Labelled {
                    label: n.kind.label(),
                    number: p.shown(n),
                })
                .collect(),
        })
        .collect();
    Ok(Rendered::xml(Directory { entries }.render()?))
}
