//! Fanvil `FanvilIPPhoneDirectory` (remote phone book of X/V series): one entry per contact
//! with its numbers in the order a phone with few slots should show them.

use super::{Presenter, RenderError, Rendered};
use crate::domain::Contact;
use askama::Template;

struct Entry {
    name: String,
    numbers: Vec<String>,
}

#[derive(Template)]
#[template(path = "fanvil_directory.xml")]
struct Directory {
    entries: Vec<Entry>,
}

pub fn directory(contacts: &[&Contact], p: &Presenter) -> Result<Rendered, RenderError> {
    let entries = contacts
        .iter()
        .map(|c| Entry {
            name: c.display_name.clone(),
            numbers: c
                .numbers_by_preference()
                .into_iter()
                .map(|n| p.show(n))
                .collect(),
        })
        .collect();
    Ok(Rendered::xml(Directory { entries }.render()?))
}
