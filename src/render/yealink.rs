//! Yealink remote phone book: `YealinkIPPhoneBook` (Menu/Unit, desk phones and DECT) and
//! `YealinkIPPhoneDirectory` (labelled numbers, desk phones).

use super::{title, Presenter, RenderError, Rendered};
use crate::domain::Contact;
use askama::Template;

/// A Unit has three number slots. They are filled in the order of
/// `Contact::numbers_by_preference`: WORK, EXTENSION, MOBILE, HOME, OTHER, PAGER, FAX.
pub const PHONES_PER_UNIT: usize = 3;

struct Unit {
    name: String,
    phones: [String; PHONES_PER_UNIT],
}

struct Menu {
    name: String,
    units: Vec<Unit>,
}

#[derive(Template)]
#[template(path = "yealink_book.xml")]
struct Book<'a> {
    title: &'a str,
    menus: Vec<Menu>,
}

pub fn book(
    book_title: &str,
    contacts: &[Contact],
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    let mut cut = 0;
    let units = contacts
        .iter()
        .map(|c| {
            let nums = c.numbers_by_preference();
            cut += nums.len().saturating_sub(PHONES_PER_UNIT);
            let mut phones: [String; PHONES_PER_UNIT] = Default::default();
            for (slot, n) in phones.iter_mut().zip(nums) {
                *slot = p.show(n);
            }
            Unit {
                name: c.display_name.clone(),
                phones,
            }
        })
        .collect();
    let body = Book {
        title: title(book_title),
        menus: vec![Menu {
            name: "Contacts".to_owned(),
            units,
        }],
    }
    .render()?;
    let mut r = Rendered::xml(body);
    if cut > 0 {
        r.notice = Some(format!(
            "{cut} numbers left out: a Yealink Unit holds {PHONES_PER_UNIT} numbers (WORK, EXTENSION, MOBILE, HOME, OTHER, PAGER, FAX in that order); ?style=directory shows all"
        ));
    }
    Ok(r)
}

struct Labelled {
    label: &'static str,
    number: String,
}

struct Entry {
    name: String,
    numbers: Vec<Labelled>,
}

#[derive(Template)]
#[template(path = "yealink_directory.xml")]
struct Directory {
    entries: Vec<Entry>,
}

pub fn directory(contacts: &[Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let entries = contacts
        .iter()
        .map(|c| Entry {
            name: c.display_name.clone(),
            numbers: c
                .numbers_by_preference()
                .into_iter()
                .map(|n| Labelled {
                    label: n.kind.label(),
                    number: p.show(n),
                })
                .collect(),
        })
        .collect();
    Ok(Rendered::xml(Directory { entries }.render()?))
}
