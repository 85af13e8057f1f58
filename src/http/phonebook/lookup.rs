//! Caller-ID lookup for PBXs and CTI: `?number=N`, answered as JSON or, with
//! `&format=text`, as the bare name (what a PBX's HTTP lookup puts on the display).
//!
//! A PBX such as Asterisk (`CURL()`) takes the body whatever the status, so with
//! `format=text` every answer but a hit has an empty body; the status and the
//! `X-Phonedir-Error` header say why.

use super::{shape, Ask, View, SHAPE_PARAMS};
use crate::book::Book;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::phone::NumberRules;
use crate::render::{Format, ShapeParams};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

const ACCEPTED: [&str; 5] = [
    "number",
    "format",
    SHAPE_PARAMS[0],
    SHAPE_PARAMS[1],
    SHAPE_PARAMS[2],
];

/// Who is calling: the best contact for a number in any shape a PBX sends.
#[derive(serde::Serialize, utoipa::ToSchema)]
// Borrowed from the book and serialized at once: a PBX asks on every call.
pub struct LookupHit<'a> {
    /// The matching number as stored (E.164, or an extension).
    pub number: &'a str,
    /// The name to show.
    pub name: &'a str,
    #[serde(rename = "type")]
    pub kind: crate::domain::NumberType,
    /// False for a match of the trailing digits only.
    pub exact: bool,
    pub contact: &'a crate::domain::Contact,
}

/// Caller-ID lookup: JSON, or with `format=text` the bare name (every other answer has an
/// empty body and the reason in `X-Phonedir-Error`).
#[utoipa::path(get, path = "/contacts/{key}/lookup", tag = "lookup",
    params(super::KeyParam,
        ("number" = String, Query, description = "The calling number: E.164, 00…, national, with the outside prefix, an extension"),
        ("format" = Option<String>, Query, description = "`json` (default) or `text`"),
        super::ShapeQuery),
    responses(
        (status = 200, content((LookupHit = "application/json"), (String = "text/plain"))),
        (status = 400, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody, description = "No contact has this number, or no directory this key"),
    ))]
pub async fn lookup(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    // Whether the caller wants text decides how every error is written, so it is read
    // before anything can fail. The query is read once; only when it is refused (too many
    // parameters) is it scanned for `format` alone.
    let query = Params::parse(req.query_string());
    let text = match &query {
        Ok(params) => params.values("format").any(is_text),
        Err(_) => url::form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(k, v)| k == "format" && is_text(&v)),
    };
    match answer(&req, &key, &state, query).await {
        Ok(resp) => resp,
        Err(e) if text => HttpResponse::build(e.status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("X-Phonedir-Error", header_safe(&e.message)))
            .content_type("text/plain; charset=utf-8")
            .finish(),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

fn is_text(format: &str) -> bool {
    format.trim().eq_ignore_ascii_case("text")
}

async fn answer(
    req: &HttpRequest,
    key: &str,
    state: &web::Data<AppState>,
    query: Result<Params, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let key = crate::http::auth::read(req, state, key).await?;
    let mut params = query?;
    let text = match params.take("format")?.as_deref().map(str::trim) {
        None | Some("json") => false,
        Some("text") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format is `{other}`; use json or text"),
            ))
        }
    };
    let number = params
        .take("number")?
        .map(|n| plus_from_form_encoding(&n))
        .filter(|n| !n.is_empty());
    let shape = shape(&mut params)?;
    params.finish(&ACCEPTED)?;
    let Some(number) = number else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "add the calling number: ?number=+4923648873040 (any shape: 0049…, 0231…, an extension)",
        ));
    };
    // A book in memory answers at once; building one is work for a blocking thread.
    let book = match state.books.cached(&key)? {
        Some(b) => b,
        None => {
            let st = state.clone();
            web::block(move || st.books.get(&key))
                .await
                .map_err(|e| ApiError::internal(&e))??
                .ok_or_else(ApiError::unknown_directory)?
        }
    };
    let found = find(&book, &number, shape, &state.limits);
    let mut resp = match found {
        Some(_) => HttpResponse::Ok(),
        None => HttpResponse::NotFound(),
    };
    resp.insert_header((header::CACHE_CONTROL, "no-store"));
    Ok(match (found, text) {
        (Some(hit), true) => resp
            .content_type("text/plain; charset=utf-8")
            .body(hit.name.to_owned()),
        // An empty body: a PBX shows nothing rather than an error text as the caller's name.
        (None, true) => resp
            .content_type("text/plain; charset=utf-8")
            .insert_header(("X-Phonedir-Error", "no contact has this number"))
            .finish(),
        // Into a buffer the size of most answers, not grown from 128 bytes in three steps.
        (Some(hit), false) => {
            let mut body = Vec::with_capacity(1024);
            serde_json::to_writer(&mut body, &hit).map_err(|e| ApiError::internal(&e))?;
            resp.content_type(header::ContentType::json()).body(body)
        }
        (None, false) => resp.json(serde_json::json!({
            "error": "no contact has this number",
            "details": [],
        })),
    })
}

fn find<'a>(
    book: &'a Arc<Book>,
    number: &str,
    shape: ShapeParams,
    limits: &crate::push::Limits,
) -> Option<LookupHit<'a>> {
    // The lookup reads numbers with the phone books' rules (region, outside prefix).
    let ask = Ask {
        view: View::Whole(Format::Yealink, None),
        shape,
    };
    let p = ask.presenter(&book.directory.settings, limits);
    let rules = NumberRules {
        region: p.region,
        max_extension_digits: limits.max_extension_digits,
    };
    let hits = book.lookup(number, &rules, p.outside_prefix.as_str(), 1);
    hits.first().map(|h| LookupHit {
        number: &h.number.value,
        name: &h.contact.display_name,
        kind: h.number.kind,
        exact: h.exact,
        contact: h.contact,
    })
}

/// A PBX that puts `+4923…` into a query string unencoded sends a space (form encoding);
/// a leading space before digits can only have been that plus.
fn plus_from_form_encoding(raw: &str) -> String {
    let rest = raw.trim_start_matches(' ');
    if rest.len() < raw.len() && rest.starts_with(|c: char| c.is_ascii_digit()) {
        format!("+{}", rest.trim())
    } else {
        raw.trim().to_owned()
    }
}

/// An error sentence as a header value: visible ASCII only.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect()
}
