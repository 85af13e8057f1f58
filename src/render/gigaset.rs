//! Gigaset: the online-directory protocol that DECT bases (N510, N720, C530 IP, …) speak for
//! search and caller-name lookup, and the central phone book file (N610/N670/N870).

use super::{cut, split_name, Presenter, RenderError, Rendered};
use crate::domain::{Contact, NumberType};
use askama::Template;

struct Entry {
    ln: String,
    fn_: String,
    hm: String,
    mb: String,
    fx: String,
    em: String,
}

#[derive(Template)]
#[template(path = "gigaset_list.xml")]
struct List {
    total: usize,
    first: usize,
    last: usize,
    notfound: &'static str,
    entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "gigaset_error.xml")]
struct ErrorDoc<'a> {
    id: u8,
    message: &'a str,
}

/// The protocol's error ids.
pub const SYNTAX_ERROR: u8 = 2;
pub const INVALID: u8 = 4;
pub const FORMAT_NOT_AVAILABLE: u8 = 7;

/// The protocol's error document (`id` one of the constants above).
pub fn error(id: u8, message: &str) -> Result<Rendered, RenderError> {
    Ok(Rendered::xml(ErrorDoc { id, message }.render()?))
}

/// One page of a `get_list` answer: `page` are the entries from `first` (1-based) of
/// `total` hits; with no hit, `notfound` names the field that was searched.
pub fn list(
    page: &[&Contact],
    total: usize,
    first: usize,
    notfound: &'static str,
    p: &Presenter,
) -> Result<Rendered, RenderError> {
    let body = List {
        total,
        first,
        last: (first + page.len()).saturating_sub(1),
        notfound,
        entries: page.iter().map(|c| entry(c, p)).collect(),
    }
    .render()?;
    Ok(Rendered::xml(body))
}

fn entry(c: &Contact, p: &Presenter) -> Entry {
    let (fname, lname) = split_name(c);
    let nums = c.numbers_by_preference();
    let pick = |f: &dyn Fn(NumberType) -> bool| {
        nums.iter()
            .find(|n| f(n.kind))
            .map(|n| p.show(n))
            .unwrap_or_default()
    };
    Entry {
        ln: lname.to_owned(),
        fn_: fname.to_owned(),
        hm: pick(&|t| !matches!(t, NumberType::Mobile | NumberType::Pager | NumberType::Fax)),
        mb: pick(&|t| matches!(t, NumberType::Mobile | NumberType::Pager)),
        fx: pick(&|t| t == NumberType::Fax),
        em: c.email.clone(),
    }
}

/// Device limits of the central phone book (Gigaset N610/N870 documentation).
pub const CENTRAL_MAX_ENTRIES: usize = 2000;
pub const CENTRAL_MAX_NAME: usize = 32;
/// The file may not exceed 2 MB. With at most 2000 entries, names cut to 32 characters and
/// six numbers of at most 21 digits, an entry stays under 700 bytes even with every
/// character escaped or four bytes long, so the entry limit keeps the file under 1.4 MB;
/// a unit test holds us to that.
pub const CENTRAL_MAX_BYTES: usize = 2 * 1024 * 1024;

struct CentralEntry {
    surname: String,
    name: String,
    office: [String; 2],
    mobile: [String; 2],
    home: [String; 2],
}

#[derive(Template)]
#[template(path = "gigaset_central.xml")]
struct Central {
    entries: Vec<CentralEntry>,
}

/// The central phone book: two office, two mobile and two home numbers per entry.
pub fn central(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let numbers_cut = std::cell::Cell::new(0);
    let slots = |c: &Contact, f: &dyn Fn(NumberType) -> bool| {
        let mut out: [String; 2] = Default::default();
        let fitting: Vec<_> = c
            .numbers_by_preference()
            .into_iter()
            .filter(|n| f(n.kind))
            .collect();
        numbers_cut.set(numbers_cut.get() + fitting.len().saturating_sub(2));
        for (slot, n) in out.iter_mut().zip(fitting) {
            *slot = p.show(n);
        }
        out
    };
    let mut names_cut = 0;
    let entries = contacts
        .iter()
        .take(CENTRAL_MAX_ENTRIES)
        .map(|c| {
            let (name, surname) = split_name(c);
            if name.chars().count() > CENTRAL_MAX_NAME || surname.chars().count() > CENTRAL_MAX_NAME
            {
                names_cut += 1;
            }
            CentralEntry {
                surname: cut(surname, CENTRAL_MAX_NAME),
                name: cut(name, CENTRAL_MAX_NAME),
                office: slots(c, &|t| {
                    matches!(
                        t,
                        NumberType::Work | NumberType::Extension | NumberType::Other
                    )
                }),
                mobile: slots(c, &|t| matches!(t, NumberType::Mobile | NumberType::Pager)),
                home: slots(c, &|t| t == NumberType::Home),
            }
        })
        .collect();
    let mut r = Rendered::xml(Central { entries }.render()?);
    let mut notes = Vec::new();
    if contacts.len() > CENTRAL_MAX_ENTRIES {
        notes.push(format!(
            "{} contacts left out: the Gigaset central phone book holds {CENTRAL_MAX_ENTRIES} entries",
            contacts.len() - CENTRAL_MAX_ENTRIES
        ));
    }
    let faxes: usize = contacts
        .iter()
        .take(CENTRAL_MAX_ENTRIES)
        .map(|c| {
            c.numbers
                .iter()
                .filter(|n| n.kind == NumberType::Fax)
                .count()
        })
        .sum();
    let numbers_cut = numbers_cut.get() + faxes;
    if numbers_cut > 0 {
        notes.push(format!(
            "{numbers_cut} numbers left out: a Gigaset central entry holds two office, two mobile and two home numbers, no fax"
        ));
    }
    if names_cut > 0 {
        notes.push(format!(
            "{names_cut} names cut to the {CENTRAL_MAX_NAME} characters a Gigaset handset shows"
        ));
    }
    if !notes.is_empty() {
        r.notice = Some(notes.join("; "));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhoneNumber;
    use crate::render::ShapeParams;

    #[test]
    fn the_largest_possible_central_book_stays_under_2_mb() {
        let name = "&𝄞".repeat(40);
        let n = |kind| PhoneNumber {
            kind,
            value: "+491234567890123".into(),
        };
        let c = Contact {
            display_name: name.clone(),
            given_name: name.clone(),
            family_name: name,
            numbers: [
                NumberType::Work,
                NumberType::Other,
                NumberType::Mobile,
                NumberType::Pager,
                NumberType::Home,
                NumberType::Home,
            ]
            .into_iter()
            .map(n)
            .collect(),
            ..Default::default()
        };
        let p = Presenter::resolve(
            &ShapeParams::parse(Some("intl00"), Some("0000"), None).unwrap(),
            None,
            None,
        );
        let book = vec![&c; CENTRAL_MAX_ENTRIES + 1];
        let r = central(&book, &p).unwrap();
        assert!(r.body.len() < CENTRAL_MAX_BYTES, "{} bytes", r.body.len());
        let notice = r.notice.unwrap();
        assert!(notice.contains("1 contacts left out"), "{notice}");
        assert!(notice.contains("2000 names cut"), "{notice}");
    }
}
