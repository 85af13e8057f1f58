//! Gigaset's online-directory protocol (DECT bases N510, N720, C530 IP, …): `command=get_list`
//! with `ln`/`fn` name search, `hm` (or `mb`, `fx`) caller lookup in any number shape,
//! `first`/`count` paging, and the protocol's own error documents. Without parameters: the
//! whole list.

use super::Ask as PhoneAsk;
use super::{View, SHAPE_PARAMS};
use crate::book::{index, Book};
use crate::domain::Contact;
use crate::http::conditional::respond;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::phone::NumberRules;
use crate::render::gigaset::{self, FORMAT_NOT_AVAILABLE, INVALID, SYNTAX_ERROR};
use crate::render::{Presenter, RenderError, Rendered, ShapeParams};
use actix_web::{web, HttpRequest, HttpResponse};

/// What the protocol's requests carry; the ones not read here (address fields, the base's
/// language, MAC address and request source) change nothing in the answer.
const SENT_BY_BASES: [&str; 10] = [
    "ct", "st", "nr", "zc", "sip", "em", "lang", "mac", "reqsrc", "limit",
];
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

pub async fn online(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (ask, shape) = parse(req.query_string())?;
    let view = View::Gigaset(ask);
    respond(&req, &state, &key, PhoneAsk { view, shape }).await
}

/// The number-shape parameters are ours, not the protocol's: a malformed one is an HTTP
/// error like on every other URL. Everything else answers in the protocol.
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

/// Book positions that answer a request.
enum Hits {
    /// The whole book, in order.
    All(usize),
    Some(Vec<u32>),
}

impl Hits {
    fn len(&self) -> usize {
        match self {
            Hits::All(n) => *n,
            Hits::Some(v) => v.len(),
        }
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
        // Positions in the book: number hits in the lookup's order (best first), name hits
        // in book order. Only positions are handled until the page is cut, so a search in a
        // big book costs what it finds, not the book's size.
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
        // The longest name typed is looked up in the index; the other is checked on the
        // entries found.
        names.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        let passes = |c: &Contact, names: &[(&str, index::Fields)]| {
            names.iter().all(|(t, f)| index::matches(c, t, *f))
        };
        let hits: Hits = match &r.number {
            Some((_, raw)) => {
                let mut v: Vec<u32> = Vec::new();
                for h in book.lookup(raw, rules, p.outside_prefix.as_str()) {
                    let Some(i) = book.index_of(h.contact) else {
                        continue;
                    };
                    let i = i as u32;
                    if !v.contains(&i) && passes(h.contact, &names) {
                        v.push(i);
                    }
                }
                Hits::Some(v)
            }
            None => match names.split_first() {
                None => Hits::All(book.contacts.len()),
                Some(((typed, fields), rest)) => {
                    let mut v = book.with_prefix(typed, *fields);
                    v.retain(|i| passes(&book.contacts[*i as usize], rest));
                    Hits::Some(v)
                }
            },
        };
        let total = hits.len();
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
        let page: Vec<&Contact> = match &hits {
            Hits::All(_) => book.contacts[start..end].iter().collect(),
            Hits::Some(v) => v[start..end]
                .iter()
                .map(|i| &book.contacts[*i as usize])
                .collect(),
        };
        gigaset::list(&page, total, r.first, notfound, p)
    }
}
