//! snom: the minibrowser `SnomIPPhoneDirectory` (one entry per number) and the tbook 2.0
//! file that the phone imports into its local directory.

use super::{split_name, title, Presenter, RenderError, Rendered};
use crate::domain::{Contact, NumberType};
use askama::Template;

struct Entry {
    name: String,
    number: String,
}

#[derive(Template)]
#[template(path = "snom_directory.xml")]
struct Directory<'a> {
    title: &'a str,
    entries: Vec<Entry>,
}

/// One entry per number; with several numbers the type goes into the name
/// (`Oliver Baltz (Mobile)`), since the entry has no label of its own.
pub fn directory(
    book_title: &str,
    contacts: &[Contact],
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    let mut entries = Vec::new();
    for c in contacts {
        let nums = c.numbers_by_preference();
        let labelled = nums.len() > 1;
        for n in nums {
            let name = if labelled {
                format!("{} ({})", c.display_name, n.kind.label())
            } else {
                c.display_name.clone()
            };
            entries.push(Entry {
                name,
                number: p.show(n),
            });
        }
    }
    let body = Directory {
        title: title(book_title),
        entries,
    }
    .render()?;
    Ok(Rendered::xml(body))
}

struct TNumber {
    number: String,
    label: &'static str,
}

struct TContact {
    first_name: String,
    last_name: String,
    organization: String,
    email: String,
    numbers: Vec<TNumber>,
}

#[derive(Template)]
#[template(path = "snom_tbook.xml")]
struct TBook {
    contacts: Vec<TContact>,
}

/// tbook number types: business, extension, fixed, home, mobile, sip.
fn tbook_type(t: NumberType) -> &'static str {
    match t {
        NumberType::Work => "business",
        NumberType::Extension => "extension",
        NumberType::Mobile | NumberType::Pager => "mobile",
        NumberType::Home => "home",
        NumberType::Fax | NumberType::Other => "fixed",
    }
}

pub fn tbook(contacts: &[Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let contacts = contacts
        .iter()
        .map(|c| {
            let (first, last) = split_name(c);
            TContact {
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                organization: c.company.clone(),
                email: c.email.clone(),
                numbers: c
                    .numbers_by_preference()
                    .into_iter()
                    .map(|n| TNumber {
                        number: p.show(n),
                        label: tbook_type(n.kind),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(Rendered::xml(TBook { contacts }.render()?))
}
