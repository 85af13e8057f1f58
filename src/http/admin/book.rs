//! The book as each phone shows it: one whole-book format at a time, with its numbers in the
//! shape that format gets, what its device limits cut, and the bytes the phone receives;
//! a search; and one contact with every number in every shape.

use super::{blocking, page, Nav, Rejected, Signed};
use crate::book::Book;
use crate::domain::search::Query;
use crate::domain::{Contact, ContactId, Shape};
use crate::http::error::ApiError;
use crate::http::phonebook::{Ask, View};
use crate::http::AppState;
use crate::render::{Format, Presenter, ShapeParams};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::sync::Arc;

/// Entries listed on one page; a search narrows a bigger book.
const SHOWN: usize = 200;
/// Bytes of the phone's answer shown under "what the phone receives".
const RAW_BYTES: usize = 64 * 1024;

/// The formats, as a person picks them.
const FORMATS: [(&str, &str); 12] = [
    ("yealink", "Yealink (Menu/Unit)"),
    ("yealink-directory", "Yealink (directory style)"),
    ("snom", "snom minibrowser"),
    ("snom-tbook", "snom tbook"),
    ("snom-dect", "snom DECT"),
    ("gigaset-central", "Gigaset central book"),
    ("grandstream", "Grandstream"),
    ("fanvil", "Fanvil"),
    ("fritzbox", "Fritz!Box"),
    ("vcard", "vCard 3.0"),
    ("vcard4", "vCard 4.0"),
    ("csv", "CSV (data contract)"),
];

pub struct Entry {
    pub id: String,
    pub name: String,
    pub company: String,
    /// (label, number as this format writes it)
    pub numbers: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "admin/book.html")]
struct BookPage {
    n: Nav,
    formats: Vec<(&'static str, &'static str, bool)>,
    format_label: &'static str,
    q: String,
    total: usize,
    found: usize,
    entries: Vec<Entry>,
    notice: Option<String>,
    raw: String,
    raw_cut: bool,
}

async fn book_of(state: &web::Data<AppState>, me: &Signed) -> Result<Arc<Book>, Rejected> {
    let (st, key) = (state.clone(), me.access.directory.clone());
    blocking(move || st.books.get(&key)?.ok_or_else(ApiError::unknown_directory)).await
}

fn presenter(book: &Book, format: Format, state: &AppState) -> Presenter {
    let ask = Ask {
        view: View::Whole(format, None),
        shape: ShapeParams::default(),
    };
    ask.presenter(&book.directory.settings, &state.limits)
}

pub async fn list(
    req: HttpRequest,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let query = super::Form::parse(req.query_string().as_bytes());
    let name = query.text("format").unwrap_or_else(|| "yealink".into());
    let (format_name, format_label) = FORMATS
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format is `{name}`; pick one of the list"),
            )
        })?;
    let format = Format::from_name(format_name)
        .ok_or_else(|| ApiError::internal(&"a listed format has no renderer"))?;
    let q = query.text("q").unwrap_or_default();
    let book = book_of(&state, &me).await?;
    let st = state.clone();
    let q2 = q.clone();
    let page_data = blocking(move || {
        let found: Vec<&Contact> = match Query::parse(&q2) {
            Some(query) => book.search(&query),
            None => book.all(),
        };
        let p = presenter(&book, format, &st);
        let shown: Vec<&Contact> = found.iter().take(SHOWN).copied().collect();
        let entries = shown
            .iter()
            .map(|c| Entry {
                id: c.id.to_string(),
                name: c.display_name.clone(),
                company: c.company.clone(),
                numbers: c
                    .numbers_by_preference()
                    .into_iter()
                    .map(|n| (n.kind.label(), p.show(n)))
                    .collect(),
            })
            .collect();
        // What the device limits cut from the whole book, as the status reports it.
        let notice = book
            .device_warnings()
            .iter()
            .find(|w| w.format == format.name())
            .map(|w| w.notice.clone());
        let rendered = {
            let _slot = st.books.busy()?;
            format
                .render(book.title(), &shown, &p)
                .map_err(ApiError::from)?
        };
        let mut raw = rendered.body;
        let raw_cut = raw.len() > RAW_BYTES;
        if raw_cut {
            let mut end = RAW_BYTES;
            while !raw.is_char_boundary(end) {
                end -= 1;
            }
            raw.truncate(end);
        }
        Ok((
            book.contacts.len(),
            found.len(),
            entries,
            notice,
            raw,
            raw_cut,
        ))
    })
    .await?;
    let (total, found, entries, notice, raw, raw_cut) = page_data;
    Ok(page(&BookPage {
        n: me.nav("book"),
        formats: FORMATS
            .iter()
            .map(|(n, l)| (*n, *l, *n == format_name))
            .collect(),
        format_label,
        q,
        total,
        found,
        entries,
        notice,
        raw,
        raw_cut,
    }))
}

/// One number in every shape.
pub struct Shapes {
    pub label: &'static str,
    pub stored: String,
    pub phones: String,
    pub address_books: String,
    pub e164: String,
    pub intl00: String,
    pub national: String,
    pub auto: String,
}

#[derive(Template)]
#[template(path = "admin/contact.html")]
struct ContactPage {
    n: Nav,
    c: Contact,
    id: String,
    numbers: Vec<Shapes>,
    region: String,
    outside_prefix: String,
}

pub async fn contact(
    req: HttpRequest,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let raw = req.match_info().get("id").unwrap_or("");
    let id = ContactId::parse(raw)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "a contact id has 16 hex digits"))?;
    let book = book_of(&state, &me).await?;
    let c = book.get(id).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "the book has no such contact (any more); search for it",
        )
    })?;
    let settings = &book.directory.settings;
    let region = settings.region.or(state.limits.default_region);
    let phones = presenter(&book, Format::Yealink, &state);
    let address_books = presenter(&book, Format::Vcard3, &state);
    let shaped = |shape: Shape| Presenter {
        shape,
        region,
        outside_prefix: Default::default(),
    };
    let numbers = c
        .numbers_by_preference()
        .into_iter()
        .map(|n| Shapes {
            label: n.kind.label(),
            stored: n.value.clone(),
            phones: phones.show(n),
            address_books: address_books.show(n),
            e164: shaped(Shape::E164).show(n),
            intl00: shaped(Shape::Intl00).show(n),
            national: shaped(Shape::National).show(n),
            auto: shaped(Shape::Auto).show(n),
        })
        .collect();
    Ok(page(&ContactPage {
        n: me.nav("book"),
        id: c.id.to_string(),
        c,
        numbers,
        region: region.map(|r| r.code().to_owned()).unwrap_or_default(),
        outside_prefix: phones.outside_prefix.as_str().to_owned(),
    }))
}
