//! `/contacts/{KEY}…`: the sync.blue URL contract (push, CSV) and every phone book format.

use super::error::ApiError;
use super::AppState;
use crate::domain::search::Query;
use crate::domain::{ApiKey, Contact};
use crate::phone::NumberRules;
use crate::render::{gigaset, Format, Presenter, RenderError, Rendered};
use crate::store::Book;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/contacts/{key}")
            .route("", web::get().to(csv_book))
            .route("", web::post().to(super::receive::push_file))
            .route("", web::put().to(super::receive::push_file))
            .route("/yealink/v1", web::get().to(yealink_book))
            .route("/snom/v1", web::get().to(snom_book))
            .route("/snom/tbook", web::get().to(snom_tbook))
            .route("/snom/tbook", web::post().to(snom_tbook))
            .route("/gigaset/v1", web::get().to(gigaset_online))
            .route("/gigaset/central", web::get().to(gigaset_central)),
    );
}

/// What a phone asked for; the part of the URL and query that shapes the body.
enum View {
    /// A whole-book format, optionally narrowed by a search term.
    Book(Format, Option<Query>),
    /// The Gigaset online-directory protocol, which answers its own queries.
    Gigaset(Vec<(String, String)>),
}

impl View {
    fn tag(&self) -> &'static str {
        match self {
            View::Book(f, _) => f.name(),
            View::Gigaset(_) => "gigaset",
        }
    }

    fn render(&self, book: &Book, rules: &NumberRules) -> Result<Rendered, RenderError> {
        let p = Presenter;
        match self {
            View::Book(format, None) => format.render(book.directory.title(), &book.contacts, p),
            View::Book(format, Some(q)) => {
                let hits: Vec<Contact> = book
                    .contacts
                    .iter()
                    .filter(|c| q.matches(c))
                    .cloned()
                    .collect();
                format.render(book.directory.title(), &hits, p)
            }
            View::Gigaset(params) => gigaset::online(&book.contacts, params, rules, p),
        }
    }
}

type Params = web::Query<Vec<(String, String)>>;

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn csv_book(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, &key, View::Book(Format::Csv, None)).await
}

async fn yealink_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = if param(&params, "style") == Some("directory") {
        Format::YealinkDirectory
    } else {
        Format::Yealink
    };
    let view = View::Book(format, param(&params, "q").and_then(Query::parse));
    respond(&req, &state, &key, view).await
}

async fn snom_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let view = View::Book(Format::Snom, param(&params, "q").and_then(Query::parse));
    respond(&req, &state, &key, view).await
}

async fn snom_tbook(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, &key, View::Book(Format::SnomTbook, None)).await
}

async fn gigaset_online(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let view = View::Gigaset(params.into_inner());
    respond(&req, &state, &key, view).await
}

async fn gigaset_central(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    respond(&req, &state, &key, View::Book(Format::GigasetCentral, None)).await
}

/// Answers a phone-book request: 404 for an unknown key, 304 when the phone's copy is
/// current, else the rendered book with its ETag.
async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    key: &str,
    view: View,
) -> Result<HttpResponse, ApiError> {
    let key = ApiKey::parse(key)?;
    let query = req.query_string().to_owned();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let st = state.clone();
    let outcome = web::block(move || -> Result<Outcome, ApiError> {
        let Some(dir) = st.store.directory(&key)? else {
            return Err(ApiError::unknown_directory());
        };
        let tag = etag(dir.id, dir.version, view.tag(), &query);
        if if_none_match
            .as_deref()
            .is_some_and(|h| etag_matches(h, &tag))
        {
            return Ok(Outcome::NotModified(tag));
        }
        let Some(book) = st.store.book(&key)? else {
            return Err(ApiError::unknown_directory());
        };
        let rules = NumberRules {
            region: book
                .directory
                .settings
                .region()
                .or(st.limits.default_region),
            max_extension_digits: st.limits.max_extension_digits,
        };
        let rendered = view.render(&book, &rules)?;
        let tag = etag(
            book.directory.id,
            book.directory.version,
            view.tag(),
            &query,
        );
        Ok(Outcome::Body(tag, book.directory.version, rendered))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(match outcome {
        Outcome::NotModified(tag) => HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish(),
        Outcome::Body(tag, version, r) => {
            let mut resp = HttpResponse::Ok();
            resp.content_type(r.content_type)
                .insert_header((header::ETAG, tag))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .insert_header(("X-Phonedir-Version", version.to_string()));
            if let Some(n) = r.notice {
                resp.insert_header(("X-Phonedir-Notice", n));
            }
            resp.body(r.body)
        }
    })
}

enum Outcome {
    NotModified(String),
    Body(String, i64, Rendered),
}

/// Strong ETag of one rendering of one directory version. The query is part of it, since
/// it changes the body (search, paging, style).
fn etag(directory_id: i64, version: i64, view: &str, query: &str) -> String {
    // FNV-1a: stable across builds and runs, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in query.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{directory_id}-{version}-{view}-{h:016x}\"")
}

fn etag_matches(header: &str, tag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_differ_by_version_view_and_query_and_match_lists() {
        let a = etag(1, 2, "csv", "");
        assert_ne!(a, etag(1, 3, "csv", ""));
        assert_ne!(a, etag(1, 2, "yealink", ""));
        assert_ne!(a, etag(1, 2, "csv", "q=x"));
        assert!(etag_matches(&format!("\"x\", {a}"), &a));
        assert!(etag_matches(&format!("W/{a}"), &a));
        assert!(etag_matches("*", &a));
        assert!(!etag_matches("\"other\"", &a));
    }
}
