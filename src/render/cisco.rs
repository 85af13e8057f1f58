//! Cisco `CiscoIPPhoneDirectory` (79xx/88xx with SIP firmware, `directoryURL`): one number per
//! entry, at most 32 entries per screen, SoftKeys to dial, page and leave.

use super::paging::{paginate, PageRequest};
use super::{cut, per_number, title, NamedNumber, Presenter, RenderError, Rendered};
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

pub fn directory(
    book_title: &str,
    contacts: &[&Contact],
    p: &Presenter,
    page: &PageRequest<'_>,
) -> Result<Rendered, RenderError> {
    let entries = per_number(contacts, p, MAX_TEXT);
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
        name: "Exit",
        url: "SoftKey:Exit".to_owned(),
        position: 4,
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
    Ok(Rendered::xml(body))
}
