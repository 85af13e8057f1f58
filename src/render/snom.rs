//! snom: the minibrowser `SnomIPPhoneDirectory` (one entry per number) and the tbook 2.0
//! file that the phone imports into its local directory.

use super::paging::{paginate, PageRequest};
use super::{per_number, split_name, title, NamedNumber, Presenter, RenderError, Rendered};
use crate::domain::text::count;
use crate::domain::{Contact, NumberType};
use askama::Template;

struct SoftKey {
    key: &'static str,
    label: &'static str,
    url: String,
}

#[derive(Template)]
#[template(path = "snom_directory.xml")]
struct Directory<'a> {
    title: &'a str,
    prompt: String,
    entries: &'a [NamedNumber],
    keys: Vec<SoftKey>,
}

/// Entries per screen when a phone pages through the book.
pub const PAGE_SIZE: usize = 20;

/// One entry per number; with several numbers the type goes into the name.
pub fn directory(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    let entries = per_number(contacts, p, usize::MAX);
    let body = Directory {
        title: title(book_title),
        // Shown under the list: how much there is to scroll through.
        prompt: count(entries.len(), "entry", "entries"),
        entries: &entries,
        keys: Vec::new(),
    }
    .render()?;
    Ok(Rendered::xml(body))
}

/// A screen of the directory with soft keys: F1 opens the search page, F3/F4 go to the
/// previous/next screen.
pub fn directory_page(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
    page: &PageRequest<'_>,
    search_url: String,
) -> Result<Rendered, RenderError> {
    let entries = per_number(contacts, p, usize::MAX);
    let pg = paginate(&entries, PAGE_SIZE, page);
    let mut keys = vec![SoftKey {
        key: "F1",
        label: "Search",
        url: search_url,
    }];
    if let Some(url) = pg.prev {
        keys.push(SoftKey {
            key: "F3",
            label: "Previous",
            url,
        });
    }
    if let Some(url) = pg.next {
        keys.push(SoftKey {
            key: "F4",
            label: "Next",
            url,
        });
    }
    let prompt = if entries.is_empty() {
        "No entries".to_owned()
    } else {
        format!("Page {} of {}", pg.number, pg.pages)
    };
    let body = Directory {
        title: title(book_title),
        prompt,
        entries: pg.items,
        keys,
    }
    .render()?;
    Ok(Rendered::xml(body))
}

#[derive(Template)]
#[template(path = "snom_input.xml")]
struct Input<'a> {
    title: &'a str,
    url: &'a str,
}

/// The search page: the phone asks for a term and fetches `url` with `__Q__` replaced.
pub fn search_page(book_title: &str, url: &str) -> Result<Rendered, RenderError> {
    Ok(Rendered::xml(
        Input {
            title: title(book_title),
            url,
        }
        .render()?,
    ))
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

/// tbook number types: business, extension, fixed, home, mobile, sip — every one of them
/// dialled when picked. There is none for fax, and a fax is nothing to call: faxes stay out.
fn tbook_type(t: NumberType) -> Option<&'static str> {
    Some(match t {
        NumberType::Work => "business",
        NumberType::Extension => "extension",
        NumberType::Mobile | NumberType::Pager => "mobile",
        NumberType::Home => "home",
        NumberType::Other => "fixed",
        NumberType::Fax => return None,
    })
}

pub fn tbook(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let mut faxes = 0;
    let contacts: Vec<TContact> = contacts
        .iter()
        .filter_map(|c| {
            let (first, last) = split_name(c);
            let mut numbers = Vec::new();
            for n in c.numbers_by_preference() {
                match tbook_type(n.kind) {
                    Some(label) => numbers.push(TNumber {
                        number: p.show(n),
                        label,
                    }),
                    None => faxes += 1,
                }
            }
            // A contact with nothing to dial (only a fax) is no directory entry.
            (!numbers.is_empty()).then(|| TContact {
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                organization: c.company.clone(),
                email: c.email.clone(),
                numbers,
            })
        })
        .collect();
    let mut r = Rendered::xml(TBook { contacts }.render()?);
    if faxes > 0 {
        r.notice = Some(format!(
            "{} left out: snom's local directory dials every number it holds and has no fax type",
            count(faxes, "fax number", "fax numbers")
        ));
    }
    Ok(r)
}

struct DectEntry {
    name: String,
    home: String,
    office: String,
    mobile: String,
}

#[derive(Template)]
#[template(path = "snom_dect.xml")]
struct DectDirectory {
    entries: Vec<DectEntry>,
}

/// snom DECT bases (M300/M700/M900): one entry per contact with one home (`Telephone`),
/// one office and one mobile number.
pub fn dect(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let mut left_out = 0;
    let entries = contacts
        .iter()
        .map(|c| {
            let nums = c.numbers_by_preference();
            let slot = |f: fn(NumberType) -> bool| {
                nums.iter()
                    .find(|n| f(n.kind))
                    .map(|n| p.show(n))
                    .unwrap_or_default()
            };
            let e = DectEntry {
                name: c.display_name.clone(),
                home: slot(|t| t == NumberType::Home),
                office: slot(|t| {
                    matches!(
                        t,
                        NumberType::Work | NumberType::Extension | NumberType::Other
                    )
                }),
                mobile: slot(|t| matches!(t, NumberType::Mobile | NumberType::Pager)),
            };
            let shown = [&e.home, &e.office, &e.mobile]
                .iter()
                .filter(|s| !s.is_empty())
                .count();
            left_out += nums.len() - shown;
            e
        })
        .collect();
    let mut r = Rendered::xml(DectDirectory { entries }.render()?);
    if left_out > 0 {
        r.notice = Some(format!(
            "{} left out: a snom DECT entry holds one home, one office and one mobile number",
            count(left_out, "number", "numbers")
        ));
    }
    Ok(r)
}
