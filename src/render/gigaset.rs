//! Gigaset: the online-directory protocol that DECT bases (N510, N720, C530 IP, …) speak for
//! search and caller-name lookup, and the central phone book file (N610/N670/N870).

use super::shape::Shown;
use super::{cut, split_name, Presenter, RenderError, Rendered};
use crate::domain::text::count;
use crate::domain::{Contact, NumberType, PhoneNumber};
use askama::Template;
use std::borrow::Cow;

/// One entry of the online directory as the template writes it, borrowed from the book:
/// handsets search as their user types, and each answer is rendered anew.
struct Row<'a> {
    ln: Cow<'a, str>,
    fn_: Cow<'a, str>,
    hm: Shown<'a>,
    mb: Shown<'a>,
    fx: Shown<'a>,
    em: &'a str,
}

#[derive(Template)]
#[template(path = "gigaset_list.xml")]
struct List<'a> {
    total: usize,
    first: usize,
    last: usize,
    notfound: &'static str,
    entries: Vec<Row<'a>>,
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

/// One entry of the online directory: a name and at most one phone (`hm`), one mobile
/// (`mb`) and one fax (`fx`) number, which is all a Gigaset handset shows per entry.
///
/// A contact's first entry carries its extension in `hm` (what a DECT user dials most;
/// else its work, other or home number), its mobile (else pager) in `mb` and its fax in
/// `fx`. Every further number gets an entry of its own, the type after the name
/// (`Weiß, Jürgen (Home)`), as snom shows one entry per number: nothing is left out, and
/// a caller found by such a number is shown with it.
pub struct Entry<'a> {
    pub contact: &'a Contact,
    /// The type shown after the name, on the entries after the first.
    pub label: Option<&'static str>,
    pub hm: Option<&'a PhoneNumber>,
    pub mb: Option<&'a PhoneNumber>,
    pub fx: Option<&'a PhoneNumber>,
}

impl<'a> Entry<'a> {
    pub fn holds(&self, n: &PhoneNumber) -> bool {
        [self.hm, self.mb, self.fx].contains(&Some(n))
    }

    fn row<'p>(&self, p: &'p Presenter) -> Row<'p>
    where
        'a: 'p,
    {
        let (given, family) = split_name(self.contact);
        let (mut ln, mut fn_) = (Cow::Borrowed(family), Cow::Borrowed(given));
        if let Some(label) = self.label {
            // After the first name if there is one (`Weiß, Jürgen (Home)`), else after
            // the only name (`ACME GmbH (Fax)`).
            let name = if fn_.is_empty() { &mut ln } else { &mut fn_ };
            *name = Cow::Owned(format!("{name} ({label})"));
        }
        let show = |n: Option<&'a PhoneNumber>| n.map(|n| p.shown(n)).unwrap_or_default();
        Row {
            ln,
            fn_,
            hm: show(self.hm),
            mb: show(self.mb),
            fx: show(self.fx),
            em: if self.label.is_none() {
                &self.contact.email
            } else {
                ""
            },
        }
    }
}

/// The slot a number takes in an entry.
fn slot(t: NumberType) -> usize {
    match t {
        NumberType::Mobile | NumberType::Pager => 1,
        NumberType::Fax => 2,
        NumberType::Work | NumberType::Extension | NumberType::Other | NumberType::Home => 0,
    }
}

/// Which number of a type goes into the first entry's slot first.
fn first_entry_rank(t: NumberType) -> u8 {
    match t {
        NumberType::Extension => 0,
        NumberType::Work => 1,
        NumberType::Other => 2,
        NumberType::Home => 3,
        NumberType::Mobile => 0,
        NumberType::Pager => 1,
        NumberType::Fax => 0,
    }
}

/// A contact's entries: the first with a number in each slot it can fill, then one per
/// further number, in the order phones prefer them (see `Entry`).
pub fn entries(c: &Contact) -> Vec<Entry<'_>> {
    let mut first = Entry {
        contact: c,
        label: None,
        hm: None,
        mb: None,
        fx: None,
    };
    let mut ranked: Vec<&PhoneNumber> = c.numbers.iter().collect();
    ranked.sort_by_key(|n| first_entry_rank(n.kind));
    for n in ranked {
        let s = match slot(n.kind) {
            0 => &mut first.hm,
            1 => &mut first.mb,
            _ => &mut first.fx,
        };
        if s.is_none() {
            *s = Some(n);
        }
    }
    let mut out = vec![first];
    for n in c.numbers_by_preference() {
        if out[0].holds(n) {
            continue;
        }
        let mut e = Entry {
            contact: c,
            label: Some(n.kind.label()),
            hm: None,
            mb: None,
            fx: None,
        };
        match slot(n.kind) {
            0 => e.hm = Some(n),
            1 => e.mb = Some(n),
            _ => e.fx = Some(n),
        }
        out.push(e);
    }
    out
}

/// How many entries `entries(c)` makes, without making them: the first, plus one for each
/// number the first does not hold. Counting a big book's list costs no allocation.
pub fn entry_count(c: &Contact) -> usize {
    let mut picks: [Option<&PhoneNumber>; 3] = [None; 3];
    for n in &c.numbers {
        let s = &mut picks[slot(n.kind)];
        // The lowest rank wins; among equal ranks the first, as the stable sort in
        // `entries` has it.
        if s.is_none_or(|p| first_entry_rank(n.kind) < first_entry_rank(p.kind)) {
            *s = Some(n);
        }
    }
    1 + c
        .numbers
        .iter()
        .filter(|n| !picks.contains(&Some(*n)))
        .count()
}

/// What splitting contacts into several entries does to this list, for the
/// `X-Phonedir-Notice` header and the directory status; None when every contact fits one.
pub fn online_notice(entries: usize, contacts: usize) -> Option<String> {
    let extra = entries.saturating_sub(contacts);
    (extra > 0).then(|| {
        format!(
            "{} shown as entries of their own, like `Schmidt, Anna (Home)`: a Gigaset online-directory entry holds one phone (the extension first), one mobile and one fax number",
            count(extra, "number", "numbers")
        )
    })
}

/// The online directory's notice for a whole book (the directory status).
pub fn online_notice_for(contacts: &[&Contact]) -> Option<String> {
    let n: usize = contacts.iter().map(|c| entry_count(c)).sum();
    online_notice(n, contacts.len())
}

/// One page of a `get_list` answer: `page` are the entries from `first` (1-based) of
/// `total` hits; with no hit, `notfound` names the field that was searched.
pub fn list(
    page: &[Entry],
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
        entries: page.iter().map(|e| e.row(p)).collect(),
    }
    .render()?;
    Ok(Rendered::xml(body))
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
            "{} left out: the Gigaset central phone book holds {CENTRAL_MAX_ENTRIES} entries",
            count(contacts.len() - CENTRAL_MAX_ENTRIES, "contact", "contacts")
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
            "{} left out: a Gigaset central entry holds two office, two mobile and two home numbers, no fax",
            count(numbers_cut, "number", "numbers")
        ));
    }
    if names_cut > 0 {
        notes.push(format!(
            "{} cut to the {CENTRAL_MAX_NAME} characters a Gigaset handset shows",
            count(names_cut, "name", "names")
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

    fn n(kind: NumberType, value: &str) -> PhoneNumber {
        PhoneNumber {
            kind,
            value: value.into(),
        }
    }

    #[test]
    fn the_extension_comes_first_and_every_number_has_an_entry() {
        let c = Contact {
            display_name: "Jürgen Weiß".into(),
            given_name: "Jürgen".into(),
            family_name: "Weiß".into(),
            numbers: vec![
                n(NumberType::Work, "+4923111"),
                n(NumberType::Home, "+4923199"),
                n(NumberType::Mobile, "+4917022"),
                n(NumberType::Extension, "201"),
                n(NumberType::Work, "+4923112"),
                n(NumberType::Fax, "+4923119"),
            ],
            ..Default::default()
        };
        let p = Presenter::default();
        let rows: Vec<(String, String, String, String, String)> = entries(&c)
            .iter()
            .map(|e| e.row(&p))
            .map(|r| {
                let shown = |s: Shown| s.to_string();
                (
                    r.ln.into(),
                    r.fn_.into(),
                    shown(r.hm),
                    shown(r.mb),
                    shown(r.fx),
                )
            })
            .collect();
        let row = |f: &str, hm: &str, mb: &str, fx: &str| {
            ("Weiß".into(), f.into(), hm.into(), mb.into(), fx.into())
        };
        assert_eq!(
            rows,
            vec![
                row("Jürgen", "201", "+4917022", "+4923119"),
                row("Jürgen (Work)", "+4923111", "", ""),
                row("Jürgen (Work)", "+4923112", "", ""),
                row("Jürgen (Home)", "+4923199", "", ""),
            ]
        );
        assert_eq!(
            online_notice_for(&[&c]).unwrap(),
            "3 numbers shown as entries of their own, like `Schmidt, Anna (Home)`: a Gigaset online-directory entry holds one phone (the extension first), one mobile and one fax number"
        );
        // A company: the label goes after its only name.
        let acme = Contact {
            display_name: "ACME".into(),
            numbers: vec![n(NumberType::Work, "+491"), n(NumberType::Work, "+492")],
            ..Default::default()
        };
        let r = entries(&acme)[1].row(&p);
        assert_eq!((&*r.ln, &*r.fn_), ("ACME (Work)", ""));
    }

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
        assert!(notice.contains("1 contact left out"), "{notice}");
        assert!(notice.contains("2000 names cut"), "{notice}");
    }

    #[test]
    fn entry_count_counts_what_entries_makes() {
        use NumberType::*;
        let kinds = [Work, Extension, Mobile, Home, Other, Pager, Fax];
        for mask in 0u32..(1 << 9) {
            let numbers: Vec<PhoneNumber> = (0..9)
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| PhoneNumber {
                    kind: kinds[b % kinds.len()],
                    value: format!("+4930123456{b}"),
                })
                .collect();
            let c = Contact {
                display_name: "X".into(),
                numbers,
                ..Default::default()
            };
            assert_eq!(entry_count(&c), entries(&c).len(), "{:?}", c.numbers);
        }
    }
}
