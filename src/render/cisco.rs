//! Cisco `CiscoIPPhoneDirectory` (79xx/88xx with SIP firmware, `directoryURL`): one number per
//! entry, at most 32 entries per screen, SoftKeys to dial, page, search and leave; and the
//! `CiscoIPPhoneInput` search page.

use super::paging::{paginate, PageRequest};
use super::{cut, per_number_counting, title, NamedNumber, Presenter, RenderError, Rendered};
use crate::domain::text::count;
use crate::domain::Contact;
use askama::Template;

/// Cisco phones refuse a directory object with more entries than this.
pub const PAGE_SIZE: usize = 32;
/// Longest Name, Title and Prompt the phones display.
pub const MAX_TEXT: usize = 32;

struct SoftKey {
    name: &'static str,
    url: String,
    position: u8,
}

#[derive(Template)]
#[template(path = "cisco_directory.xml")]
struct Directory<'a> {
    title: String,
    prompt: String,
    entries: &'a [NamedNumber],
    keys: Vec<SoftKey>,
}

/// One screen of the directory; `search_url` is the search page the Search key opens.
pub fn directory(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
    page: &PageRequest<'_>,
    search_url: String,
) -> Result<Rendered, RenderError> {
    let (entries, names_cut) = per_number_counting(contacts, p, MAX_TEXT);
    let pg = paginate(&entries, PAGE_SIZE, page);
    let mut keys = vec![SoftKey {
        name: "Dial",
        url: "SoftKey:Dial".to_owned(),
        position: 1,
    }];
    if let Some(url) = pg.prev {
        keys.push(SoftKey {
            name: "Previous",
            url,
            position: 2,
        });
    }
    if let Some(url) = pg.next {
        keys.push(SoftKey {
            name: "Next",
            url,
            position: 3,
        });
    }
    keys.push(SoftKey {
        name: "Search",
        url: search_url,
        position: 4,
    });
    keys.push(SoftKey {
        name: "Exit",
        url: "SoftKey:Exit".to_owned(),
        position: 5,
    });
    let prompt = if entries.is_empty() {
        "No entries".to_owned()
    } else {
        format!("Page {} of {}", pg.number, pg.pages)
    };
    let body = Directory {
        title: cut(title(book_title), MAX_TEXT),
        prompt,
        entries: pg.items,
        keys,
    }
    .render()?;
    let mut r = Rendered::xml(body);
    r.notice = notice(names_cut);
    Ok(r)
}

/// What cutting names to the display's width did, for `X-Phonedir-Notice`.
fn notice(names_cut: usize) -> Option<String> {
    (names_cut > 0).then(|| {
        format!(
            "{} cut to the {MAX_TEXT} characters a Cisco phone shows (the number's label kept)",
            count(names_cut, "name", "names")
        )
    })
}

/// The notice for a whole book, for the directory status.
pub fn notice_for(contacts: &[&Contact]) -> Option<String> {
    notice(per_number_counting(contacts, &Presenter::default(), MAX_TEXT).1)
}

#[derive(Template)]
#[template(path = "cisco_input.xml")]
struct Input<'a> {
    title: String,
    url: &'a str,
}

/// The search page: the phone asks for a name or number and opens `url` with `q=` added.
pub fn search_page(book_title: &str, url: &str) -> Result<Rendered, RenderError> {
    Ok(Rendered::xml(
        Input {
            title: cut(title(book_title), MAX_TEXT),
            url,
        }
        .render()?,
    ))
}
