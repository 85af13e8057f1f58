//! Grandstream `AddressBook` (GXP/GRP/DP phone book download, `phonebook.xml`): one Contact
//! with typed numbers. Element names are case-sensitive.

use super::{split_name, Presenter, RenderError, Rendered};
use crate::domain::{Contact, NumberType};
use askama::Template;

struct Number {
    label: &'static str,
    number: String,
}

struct Entry {
    first_name: String,
    last_name: String,
    numbers: Vec<Number>,
}

#[derive(Template)]
#[template(path = "grandstream_book.xml")]
struct Book {
    contacts: Vec<Entry>,
}

/// The phone's number types: Work, Home, Mobile, Fax, Other.
fn label(t: NumberType) -> &'static str {
    match t {
        NumberType::Work | NumberType::Extension => "Work",
        NumberType::Home => "Home",
        NumberType::Mobile => "Mobile",
        NumberType::Fax => "Fax",
        NumberType::Pager | NumberType::Other => "Other",
    }
}

pub fn book(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let contacts = contacts
        .iter()
        .map(|c| {
            let (first, last) = split_name(c);
            Entry {
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                numbers: c
                    .numbers_by_preference()
                    .into_iter()
                    .map(|n| Number {
                        label: label(n.kind),
                        number: p.show(n),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Rendered::xml(Book { contacts }.render()?))
}
