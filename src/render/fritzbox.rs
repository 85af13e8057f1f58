//! AVM Fritz!Box `phonebooks` import file (Telefonie → Telefonbuch → Wiederherstellen). The
//! box reads the first `phonebook` only.

use super::{title, Presenter, RenderError, Rendered};
use crate::domain::text::count;
use crate::domain::{Contact, NumberType};
use askama::Template;

/// Users report these limits; the box silently drops what exceeds them, so we cut first
/// and say so.
pub const MAX_CONTACTS: usize = 2000;
pub const MAX_NUMBERS: usize = 9;

struct Number {
    kind: &'static str,
    prio: u8,
    number: String,
}

struct Entry {
    name: String,
    email: String,
    numbers: Vec<Number>,
}

#[derive(Template)]
#[template(path = "fritzbox_book.xml")]
struct Book<'a> {
    title: &'a str,
    contacts: Vec<Entry>,
}

/// The box's number types; the ones it has no type for go under the closest one.
fn kind(t: NumberType) -> &'static str {
    match t {
        NumberType::Work | NumberType::Extension | NumberType::Other => "work",
        NumberType::Home => "home",
        NumberType::Mobile | NumberType::Pager => "mobile",
        NumberType::Fax => "fax_work",
    }
}

pub fn book(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    let mut numbers_cut = 0;
    let entries = contacts
        .iter()
        .take(MAX_CONTACTS)
        .map(|c| {
            let nums = c.numbers_by_preference();
            numbers_cut += nums.len().saturating_sub(MAX_NUMBERS);
            Entry {
                name: c.display_name.clone(),
                email: c.email.clone(),
                numbers: nums
                    .into_iter()
                    .take(MAX_NUMBERS)
                    .enumerate()
                    .map(|(i, n)| Number {
                        kind: kind(n.kind),
                        prio: u8::from(i == 0),
                        number: p.show(n),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut r = Rendered::xml(
        Book {
            title: title(book_title),
            contacts: entries,
        }
        .render()?,
    );
    let mut notes = Vec::new();
    if contacts.len() > MAX_CONTACTS {
        notes.push(format!(
            "{} left out: a Fritz!Box phone book holds {MAX_CONTACTS}",
            count(contacts.len() - MAX_CONTACTS, "contact", "contacts")
        ));
    }
    if numbers_cut > 0 {
        notes.push(format!(
            "{} left out: a Fritz!Box contact holds {MAX_NUMBERS} (fax last)",
            count(numbers_cut, "number", "numbers")
        ));
    }
    if !notes.is_empty() {
        r.notice = Some(notes.join("; "));
    }
    Ok(r)
}
