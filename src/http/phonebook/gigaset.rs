//! Gigaset's online-directory protocol (DECT bases N510, N720, C530 IP, …): `command=get_list`
//! with `ln`/`fn` name search, `hm` (or `mb`, `fx`) caller lookup in any number shape,
//! `first`/`count` paging, and the protocol's own error documents — for every error, an
//! unknown key too, since a base shows nothing else. Without parameters: the whole list.
//!
//! Gigaset's convention is a server URL ending in `?`, to which the base appends its
//! parameters; configured without the `?`, they arrive glued to the path
//! (`…/gigaset/v1command=get_list&…`), and are read the same.

use super::Ask as PhoneAsk;
use super::{View, SHAPE_PARAMS};
use crate::book::{index, warm, Book};
use crate::http::conditional::respond;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::phone::NumberRules;
use crate::render::gigaset::{self, Entry, FORMAT_NOT_AVAILABLE, INVALID, SYNTAX_ERROR};
use crate::render::{Presenter, RenderError, Rendered, ShapeParams};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

/// What the protocol's requests carry; the ones not read here (address fields, industry
/// and business-phone search fields, the base's language, MAC address, handset and request
/// source) change nothing in the answer.
const SENT_BY_BASES: [&str; 13] = [
    "ct",
    "st",
    "nr",
    "zc",
    "sip",
    "em",
    "in",
    "bp",
    "lang",
    "mac",
    "handsetid",
    "reqsrc",
    "limit",
];
/// Callers a reverse lookup (`hm`) lists at most: a switchboard number on thousands of
/// contacts is answered with the first of them, in book order, not all (the handset shows
/// one name for a call).
const REVERSE_HITS: usize = 100;

const READ: [&str; 8] = ["command", "type", "first", "count", "ln", "fn", "hm", "mb"];

/// A `get_list` request, or the protocol error to answer it with.
pub enum Ask {
    List(Request),
    Error { id: u8, message: String },
}

pub struct Request {
    /// 1-based.
    first: usize,
    count: Option<usize>,
    ln: Option<String>,
    fname: Option<String>,
    /// The number to look up and the field it came in.
    number: Option<(&'static str, String)>,
}

/// The Gigaset online-directory protocol; errors in the protocol's own documents.
#[utoipa::path(method(get, head), path = "/contacts/{key}/gigaset/v1", operation_id = "gigaset", tag = "phone books",
    params(super::KeyParam,
        ("command" = Option<String>, Query, description = "`get_list`"),
        ("type" = Option<String>, Query, description = "`pb`, the public book"),
        ("first" = Option<usize>, Query, description = "First entry, from 1"),
        ("count" = Option<usize>, Query, description = "Entries per answer"),
        ("ln" = Option<String>, Query, description = "Family name search"),
        ("fn" = Option<String>, Query, description = "Given name search"),
        ("hm" = Option<String>, Query, description = "Caller lookup (any number shape)"),
        ("mb" = Option<String>, Query, description = "Caller lookup by mobile number"),
        ("fx" = Option<String>, Query, description = "Caller lookup by fax number"),
        ("ct" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("st" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("nr" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("zc" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("sip" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("em" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("in" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("bp" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("lang" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("mac" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("handsetid" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("reqsrc" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        ("limit" = Option<String>, Query, description = "Sent by bases; changes nothing"),
        super::ShapeQuery),
    responses((status = 200, body = String, content_type = "text/xml"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn online(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    // From the match info, not a `Path` extractor: the glued form's route has a second
    // path parameter.
    let key = req.match_info().get("key").unwrap_or("").to_owned();
    let answer = match parse(&query_of(&req)) {
        Ok((ask, shape)) => {
            let view = View::Gigaset(ask);
            respond(&req, &state, &key, PhoneAsk { view, shape }).await
        }
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(protocol_error)
}

/// The parameters, wherever the base put them: in the query, or glued to the path when
/// the configured URL lacked its `?` (and a doubled `?` from a URL that had one too).
fn query_of(req: &HttpRequest) -> String {
    let glued = req
        .path()
        .split_once("/gigaset/v1")
        .map_or("", |(_, rest)| rest.trim_start_matches('?'));
    let query = req.query_string().trim_start_matches('?');
    match (glued.is_empty(), query.is_empty()) {
        (true, _) => query.to_owned(),
        (false, true) => glued.to_owned(),
        (false, false) => format!("{glued}&{query}"),
    }
}

/// Any error — an unknown key, a malformed number shape, a full server — as the protocol's
/// error document: a base shows nothing of a JSON body. The HTTP status still says why.
fn protocol_error(e: ApiError) -> HttpResponse {
    let id = if e.status == StatusCode::BAD_REQUEST {
        SYNTAX_ERROR
    } else {
        INVALID
    };
    match gigaset::error(id, &e.message) {
        Ok(doc) => HttpResponse::build(e.status)
            .content_type(doc.content_type)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(doc.body),
        Err(_) => actix_web::ResponseError::error_response(&e),
    }
}

/// The number-shape parameters are ours, not the protocol's, but a base shows only the
/// protocol's answers: a malformed one is a syntax-error document with status 400.
fn parse(query: &str) -> Result<(Ask, ShapeParams), ApiError> {
    let mut params = Params::parse(query)?;
    let shape = super::shape(&mut params)?;
    Ok((read(&mut params), shape))
}

fn read(params: &mut Params) -> Ask {
    let error = |id, message: String| Ask::Error { id, message };
    let mut given = |name: &str| -> Result<Option<String>, Ask> {
        match params.take(name) {
            Ok(v) => Ok(v
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty() && v != "*")),
            Err(e) => Err(error(SYNTAX_ERROR, e.message)),
        }
    };
    let mut fields = || -> Result<Request, Ask> {
        if let Some(cmd) = given("command")? {
            if cmd != "get_list" {
                return Err(error(
                    SYNTAX_ERROR,
                    format!("unknown command {cmd}; use get_list"),
                ));
            }
        }
        if let Some(t) = given("type")? {
            if t != "pb" {
                return Err(error(
                    FORMAT_NOT_AVAILABLE,
                    format!("directory type {t} is not available; use type=pb"),
                ));
            }
        }
        let number = |v: Option<String>| -> Result<Option<usize>, Ask> {
            match v {
                None => Ok(None),
                Some(v) => match v.parse::<usize>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(error(
                        SYNTAX_ERROR,
                        format!("must be a whole number from 1 on, not {v}"),
                    )),
                },
            }
        };
        let first = number(given("first")?).map_err(|e| prefixed(e, "first"))?;
        let count = number(given("count")?).map_err(|e| prefixed(e, "count"))?;
        let mut lookup = None;
        for field in ["hm", "mb", "fx"] {
            if let Some(v) = given(field)? {
                lookup.get_or_insert((field, v));
            }
        }
        Ok(Request {
            first: first.unwrap_or(1),
            count,
            ln: given("ln")?,
            fname: given("fn")?,
            number: lookup,
        })
    };
    let request = fields();
    params.accept(&SENT_BY_BASES);
    match (request, params.unknown()) {
        (Err(e), _) => e,
        (Ok(_), Some((k, _))) => {
            let mut known = READ.to_vec();
            known.push("fx");
            known.extend(SENT_BY_BASES);
            known.extend(SHAPE_PARAMS);
            error(
                SYNTAX_ERROR,
                format!(
                    "unknown parameter {k}; the protocol takes {}",
                    known.join(", ")
                ),
            )
        }
        (Ok(r), None) => Ask::List(r),
    }
}

fn prefixed(e: Ask, name: &str) -> Ask {
    match e {
        Ask::Error { id, message } => Ask::Error {
            id,
            message: format!("{name} {message}"),
        },
        list => list,
    }
}

impl Ask {
    pub fn key(&self) -> String {
        match self {
            Ask::Error { id, message } => format!("error|{id}|{message}"),
            Ask::List(r) => format!(
                "list|{}|{}|{}|{}|{}",
                r.first,
                r.count.map_or_else(String::new, |c| c.to_string()),
                r.ln.as_deref().unwrap_or("*"),
                r.fname.as_deref().unwrap_or("*"),
                r.number
                    .as_ref()
                    .map_or_else(String::new, |(f, v)| format!("{f}={v}")),
            ),
        }
    }

    pub fn render(
        &self,
        book: &Book,
        rules: &NumberRules,
        p: &Presenter,
    ) -> Result<Rendered, RenderError> {
        let r = match self {
            Ask::Error { id, message } => return gigaset::error(*id, message),
            Ask::List(r) => r,
        };
        let (entries, contacts) = match &r.number {
            // Best hit first, each as the entry that shows the number that matched, so the
            // handset shows the caller with the number they called from.
            Some((_, raw)) => {
                let mut found: Vec<Entry> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                let hits = book.lookup(raw, rules, p.outside_prefix.as_str(), REVERSE_HITS);
                for h in hits {
                    let shown = found
                        .iter()
                        .any(|e| e.contact.id == h.contact.id && e.holds(h.number));
                    if shown {
                        continue;
                    }
                    seen.insert(h.contact.id);
                    if let Some(e) = gigaset::entries(h.contact)
                        .into_iter()
                        .find(|e| e.holds(h.number))
                    {
                        found.push(e);
                    }
                }
                (found, seen.len())
            }
            None => return list_by_name(book, r, p),
        };
        let total = entries.len();
        let notfound = match (&r.number, &r.ln, &r.fname) {
            (Some((field, _)), _, _) => field,
            (None, None, Some(_)) => "fn",
            _ => "ln",
        };
        if total > 0 && r.first > total {
            return gigaset::error(
                INVALID,
                &format!("first={} is past the last entry ({total})", r.first),
            );
        }
        let start = (r.first - 1).min(total);
        let end = r
            .count
            .map_or(total, |c| start.saturating_add(c).min(total));
        let mut out = gigaset::list(&entries[start..end], total, r.first, notfound, p)?;
        out.notice = gigaset::online_notice(total, contacts);
        Ok(out)
    }
}

/// A name search (or the whole list): the contacts in the order handsets show them
/// (family name, then given name), each as one or more entries. Only positions are handled
/// until the page is cut, so a search in a big book costs what it finds.
fn list_by_name(book: &Book, r: &Request, p: &Presenter) -> Result<Rendered, RenderError> {
    let mut names: Vec<(&str, index::Fields)> =
        [(&r.ln, index::SPLIT_FAMILY), (&r.fname, index::SPLIT_GIVEN)]
            .into_iter()
            .filter_map(|(typed, fields)| {
                typed
                    .as_deref()
                    .filter(|t| !t.trim_end_matches('*').is_empty())
                    .map(|t| (t, fields))
            })
            .collect();
    // The longest name typed comes from the index; the other is checked on its hits.
    names.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
    let Some(order) = book.by_family_name() else {
        return gigaset::error(INVALID, "the book cannot be listed");
    };
    let (all, rank) = (&order.0, &order.1);
    let found: Option<Vec<u32>> = names.split_first().map(|((typed, fields), rest)| {
        let mut v = book.with_prefix(typed, *fields);
        for (t, f) in rest {
            book.typed(t, *f).retain(&mut v);
        }
        // Every hit's numbers are counted for the total.
        warm(&book.contacts, &v);
        v.sort_by_key(|i| rank[*i as usize]);
        v
    });
    let positions: &[u32] = found.as_deref().unwrap_or(all);
    let contact = |i: &u32| &book.contacts[*i as usize];
    // Entries per contact are counted without building them; for the whole list the total
    // is counted once per version.
    let total = match &found {
        Some(v) => v.iter().map(|i| gigaset::entry_count(contact(i))).sum(),
        None => book
            .derived("gigaset_entries", |b| {
                b.contacts.iter().map(gigaset::entry_count).sum::<usize>()
            })
            .map_or(0, |n| *n),
    };
    let notfound = if r.ln.is_none() && r.fname.is_some() {
        "fn"
    } else {
        "ln"
    };
    if total > 0 && r.first > total {
        return gigaset::error(
            INVALID,
            &format!("first={} is past the last entry ({total})", r.first),
        );
    }
    let start = r.first - 1;
    let end = r
        .count
        .map_or(total, |c| start.saturating_add(c).min(total));
    let mut page: Vec<Entry> = Vec::new();
    let mut at = 0usize;
    for i in positions {
        if at >= end {
            break;
        }
        let c = contact(i);
        let n = gigaset::entry_count(c);
        if at + n > start {
            for (k, e) in gigaset::entries(c).into_iter().enumerate() {
                if (start..end).contains(&(at + k)) {
                    page.push(e);
                }
            }
        }
        at += n;
    }
    let mut out = gigaset::list(&page, total, r.first, notfound, p)?;
    out.notice = gigaset::online_notice(total, positions.len());
    Ok(out)
}
