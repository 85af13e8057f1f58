//! `/contacts/{KEY}…`: the sync.blue URL contract (push, CSV) and every phone book format.

use super::cache::{CacheKey, Cached};
use super::error::ApiError;
use super::AppState;
use crate::domain::search::Query;
use crate::domain::{Contact, DirectorySettings};
use crate::lookup;
use crate::phone::NumberRules;
use crate::render::paging::PageRequest;
use crate::render::yealink::{self, GroupBy};
use crate::render::{cisco, gigaset, snom, Format, Presenter, RenderError, Rendered, ShapeParams};
use crate::store::Book;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/contacts/{key}")
            .route("", read().to(whole(Format::Csv)))
            .route("", web::post().to(super::receive::push_file))
            .route("", web::put().to(super::receive::push_file))
            .route("/yealink/v1", read().to(yealink_book))
            .route("/snom/v1", read().to(snom_book))
            .route("/snom/tbook", read().to(whole(Format::SnomTbook)))
            .route("/snom/tbook", web::post().to(whole(Format::SnomTbook)))
            .route("/gigaset/v1", read().to(gigaset_online))
            .route("/gigaset/central", read().to(whole(Format::GigasetCentral)))
            .route("/snom/dect", read().to(whole(Format::SnomDect)))
            .route("/snom/search", read().to(snom_search))
            .route("/cisco/v1", read().to(cisco_book))
            .route("/grandstream/v1", read().to(whole(Format::Grandstream)))
            // Grandstream phones append `/phonebook.xml` to the configured server path.
            .route(
                "/grandstream/v1/phonebook.xml",
                read().to(whole(Format::Grandstream)),
            )
            .route("/fanvil/v1", read().to(whole(Format::Fanvil)))
            .route("/fritzbox/v1", read().to(whole(Format::FritzBox)))
            .route("/vcard", read().to(vcard_book))
            .route("/lookup", read().to(lookup_number)),
    );
}

/// GET, and HEAD for clients that check a book before fetching it (actix sends the headers
/// of the GET answer without its body).
fn read() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// What a phone asked for; the part of the URL and query that shapes the body.
enum View {
    /// A whole-book format, optionally narrowed by a search term.
    Book(Format, Option<Query>),
    /// A screen-by-screen directory: search term, page, and the URL of this request
    /// without its `page` parameter, for the soft-key links.
    Paged(Paged, Option<Query>, usize, String),
    /// Yealink's book with one Menu per group.
    YealinkGrouped(GroupBy, Option<Query>),
    /// snom's search page, which sends the typed term to this URL (`__Q__` replaced).
    SnomSearch(String),
    /// The Gigaset online-directory protocol, which answers its own queries.
    Gigaset(Vec<(String, String)>),
}

impl View {
    fn tag(&self) -> &'static str {
        match self {
            View::Book(f, _) => f.name(),
            View::Paged(Paged::Cisco, ..) => "cisco",
            View::Paged(Paged::Snom { .. }, ..) => "snom-page",
            View::SnomSearch(_) => "snom-search",
            View::YealinkGrouped(..) => "yealink-grouped",
            View::Gigaset(_) => "gigaset",
        }
    }

    /// Bodies with absolute links back to this server (soft keys, the search form) differ
    /// by the host the phone used; the others do not, and keep their ETag when it changes.
    fn embeds_urls(&self) -> bool {
        matches!(self, View::Paged(..) | View::SnomSearch(_))
    }

    /// The CSV is the data contract (export, re-import elsewhere): the directory's phone
    /// settings do not change it, only explicit URL parameters do.
    fn uses_directory_shape(&self) -> bool {
        !matches!(self, View::Book(Format::Csv, _))
    }

    fn render(
        &self,
        book: &Book,
        rules: &NumberRules,
        p: &Presenter,
    ) -> Result<Rendered, RenderError> {
        let title = book.directory.title();
        match self {
            View::Book(format, q) => format.render(title, &searched(&book.contacts, q), p),
            View::Paged(kind, q, page, base) => {
                let link = |n: usize| format!("{base}page={n}");
                let req = PageRequest {
                    page: *page,
                    link: &link,
                };
                let hits = searched(&book.contacts, q);
                match kind {
                    Paged::Cisco => cisco::directory(title, &hits, p, &req),
                    Paged::Snom { search } => {
                        snom::directory_page(title, &hits, p, &req, search.clone())
                    }
                }
            }
            View::SnomSearch(url) => snom::search_page(title, url),
            View::YealinkGrouped(by, q) => {
                yealink::grouped(title, &searched(&book.contacts, q), p, Some(*by))
            }
            View::Gigaset(params) => gigaset::online(&book.contacts, params, rules, p),
        }
    }
}

enum Paged {
    Cisco,
    Snom { search: String },
}

/// The contacts a search term finds, or all of them.
fn searched<'a>(contacts: &'a [Contact], q: &Option<Query>) -> std::borrow::Cow<'a, [Contact]> {
    match q {
        None => contacts.into(),
        Some(q) => contacts
            .iter()
            .filter(|c| q.matches(c))
            .cloned()
            .collect::<Vec<_>>()
            .into(),
    }
}

type Params = web::Query<Vec<(String, String)>>;

type Reply = std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, ApiError>>>>;

/// The handler for a whole-book format whose only options are search (`?q=`) and the
/// number shape.
fn whole(
    format: Format,
) -> impl Fn(HttpRequest, web::Path<String>, Params, web::Data<AppState>) -> Reply + Clone {
    move |req, key, params, state| {
        Box::pin(async move {
            let view = View::Book(format, param(&params, "q").and_then(Query::parse));
            respond(&req, &state, &key, view).await
        })
    }
}

async fn vcard_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = match param(&params, "version").map(str::trim) {
        None | Some("" | "3" | "3.0") => Format::Vcard3,
        Some("4" | "4.0") => Format::Vcard4,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("version is `{other}`; use 3.0 or 4.0"),
            ))
        }
    };
    let view = View::Book(format, param(&params, "q").and_then(Query::parse));
    respond(&req, &state, &key, view).await
}

async fn cisco_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = page_param(&params)?.unwrap_or(1);
    let view = View::Paged(
        Paged::Cisco,
        param(&params, "q").and_then(Query::parse),
        page,
        self_link_without(&req, "page"),
    );
    respond(&req, &state, &key, view).await
}

fn page_param(params: &[(String, String)]) -> Result<Option<usize>, ApiError> {
    param(params, "page")
        .map(|p| {
            p.trim().parse::<usize>().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("page is `{p}`; use a page number from 1 on"),
                )
            })
        })
        .transpose()
}

/// snom's search page: the phone asks for a term and opens the first screen of hits, with
/// this request's number-shape parameters kept.
async fn snom_search(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let url = snom_page_url(&req, "page=1&q=__Q__");
    respond(&req, &state, &key, View::SnomSearch(url)).await
}

/// An absolute `/snom/v1` URL with this request's parameters (but `page` and `q`) and `tail`.
fn snom_page_url(req: &HttpRequest, tail: &str) -> String {
    let here = self_link_without(req, "page");
    let (path, query) = here.split_once('?').unwrap_or((&here, ""));
    let base = path
        .strip_suffix("/search")
        .map(|p| format!("{p}/v1"))
        .unwrap_or_else(|| path.to_owned());
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some("q"))
        .collect();
    let mut url = format!("{base}?");
    for kv in kept {
        url.push_str(kv);
        url.push('&');
    }
    url.push_str(tail);
    url
}

/// This request's absolute URL without one parameter, ready for `name=value` to be
/// appended: phones follow SoftKey links as given, so they must be absolute.
fn self_link_without(req: &HttpRequest, name: &str) -> String {
    let info = req.connection_info();
    let kept: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|kv| !kv.is_empty() && kv.split('=').next() != Some(name))
        .collect();
    let mut url = format!("{}://{}{}?", info.scheme(), info.host(), req.path());
    for kv in kept {
        url.push_str(kv);
        url.push('&');
    }
    url
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The number-shape parameters every phone-book URL takes.
#[derive(Clone, Debug, Default)]
struct ShapeQuery {
    numbers: Option<String>,
    outside_prefix: Option<String>,
    region: Option<String>,
}

impl ShapeQuery {
    fn from_params(params: &[(String, String)]) -> Self {
        let get = |k| param(params, k).map(str::to_owned);
        ShapeQuery {
            numbers: get("numbers"),
            outside_prefix: get("outside_prefix"),
            region: get("region"),
        }
    }

    fn of(req: &HttpRequest) -> Self {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| ShapeQuery::from_params(&q))
            .unwrap_or_default()
    }

    /// The presenter and the number-reading rules for one request: URL over directory
    /// settings over server flags.
    fn resolve(
        &self,
        settings: &DirectorySettings,
        whole_settings: bool,
        limits: &crate::push::Limits,
    ) -> Result<(Presenter, NumberRules), ApiError> {
        let region_only;
        let settings = if whole_settings {
            settings
        } else {
            region_only = DirectorySettings {
                region: settings.region.clone(),
                ..Default::default()
            };
            &region_only
        };
        let p = Presenter::resolve(
            &ShapeParams {
                numbers: self.numbers.as_deref(),
                outside_prefix: self.outside_prefix.as_deref(),
                region: self.region.as_deref(),
            },
            Some(settings),
            limits.default_region,
        )?;
        let rules = NumberRules {
            region: p.region,
            max_extension_digits: limits.max_extension_digits,
        };
        Ok((p, rules))
    }
}

async fn yealink_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = param(&params, "q").and_then(Query::parse);
    let group_by = match param(&params, "group_by").filter(|g| !g.trim().is_empty()) {
        None => None,
        Some(g) => Some(GroupBy::from_name(g).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("group_by is `{g}`; use group, company or source"),
            )
        })?),
    };
    let view = match (param(&params, "style"), group_by) {
        (Some("directory"), _) => View::Book(Format::YealinkDirectory, q),
        (_, Some(by)) => View::YealinkGrouped(by, q),
        (_, None) => View::Book(Format::Yealink, q),
    };
    respond(&req, &state, &key, view).await
}

async fn snom_book(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = param(&params, "q").and_then(Query::parse);
    // Without `page` the whole book, as snom phones and the contract have always had it.
    let view = match page_param(&params)? {
        None => View::Book(Format::Snom, q),
        Some(page) => {
            let search = snom_page_url(&req, "").replace("/snom/v1?", "/snom/search?");
            let search = search.trim_end_matches(['&', '?']).to_owned();
            View::Paged(
                Paged::Snom { search },
                q,
                page,
                self_link_without(&req, "page"),
            )
        }
    };
    respond(&req, &state, &key, view).await
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

/// Caller-ID lookup for PBXs and CTI: `?number=N`, answered as JSON or, with
/// `&format=text`, as the bare name (what a PBX's HTTP lookup puts on the display).
async fn lookup_number(
    req: HttpRequest,
    key: web::Path<String>,
    params: Params,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = super::auth::read(&req, &state, &key).await?;
    let text = match param(&params, "format") {
        None | Some("json") => false,
        Some("text") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format is `{other}`; use json or text"),
            ))
        }
    };
    let Some(number) = param(&params, "number")
        .map(plus_from_form_encoding)
        .filter(|n| !n.is_empty())
    else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "add the calling number: ?number=+4923648873040 (any shape: 0049…, 0231…, an extension)",
        ));
    };
    let shape = ShapeQuery::from_params(&params);
    let st = state.clone();
    let found = web::block(move || -> Result<Option<serde_json::Value>, ApiError> {
        let Some(book) = st.store.book(&key)? else {
            return Err(ApiError::unknown_directory());
        };
        let (p, rules) = shape.resolve(&book.directory.settings, true, &st.limits)?;
        Ok(
            lookup::best(&book.contacts, &number, &rules, &p.outside_prefix).map(|h| {
                serde_json::json!({
                    "number": h.number.value,
                    "name": h.contact.display_name,
                    "type": h.number.kind,
                    "exact": h.exact,
                    "contact": h.contact,
                })
            }),
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let mut resp = match found {
        Some(_) => HttpResponse::Ok(),
        None => HttpResponse::NotFound(),
    };
    resp.insert_header((header::CACHE_CONTROL, "no-store"));
    Ok(match (found, text) {
        (Some(hit), true) => resp
            .content_type("text/plain; charset=utf-8")
            .body(hit["name"].as_str().unwrap_or_default().to_owned()),
        // An empty body: a PBX shows nothing rather than an error text as the caller's name.
        (None, true) => resp.content_type("text/plain; charset=utf-8").finish(),
        (Some(hit), false) => resp.json(hit),
        (None, false) => resp.json(serde_json::json!({
            "error": "no contact has this number",
            "details": [],
        })),
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

/// Answers a phone-book request: 404 for an unknown key, 304 when the phone's copy is
/// current, else the rendered book with its ETag.
async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    key: &str,
    view: View,
) -> Result<HttpResponse, ApiError> {
    // Any key of the directory reads it; from here on it is known by its directory key.
    let key = super::auth::read(req, state, key).await?;
    let variant = if view.embeds_urls() {
        // The links hold the path's key: a read key's holder must never be served a body
        // cached for the directory key (nor the reverse).
        let conn = req.connection_info();
        format!(
            "{}://{}{}?{}",
            conn.scheme(),
            conn.host(),
            req.path(),
            req.query_string()
        )
    } else {
        req.query_string().to_owned()
    };
    let gzip = accepts_gzip(req);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fresh = |tag: &str| {
        if_none_match
            .as_deref()
            .is_some_and(|h| etag_matches(h, tag))
    };

    // The path phones take every few minutes: no thread hop, no database query.
    if let Some((id, version)) = state.store.cached_version(&key)? {
        let tag = etag(id, version, view.tag(), &variant);
        if fresh(&tag) {
            return Ok(not_modified(tag));
        }
        let ck = CacheKey {
            directory_id: id,
            version,
            view: view.tag(),
            query: variant.clone(),
        };
        if let Some(hit) = state.cache.get(&ck) {
            return Ok(send(&hit, gzip));
        }
    }

    let shape = ShapeQuery::of(req);
    let st = state.clone();
    let outcome = web::block(move || -> Result<Outcome, ApiError> {
        let Some((id, version)) = st.store.version(&key)? else {
            return Err(ApiError::unknown_directory());
        };
        let tag = etag(id, version, view.tag(), &variant);
        if if_none_match
            .as_deref()
            .is_some_and(|h| etag_matches(h, &tag))
        {
            return Ok(Outcome::NotModified(tag));
        }
        let Some(book) = st.store.book(&key)? else {
            return Err(ApiError::unknown_directory());
        };
        let (p, rules) = shape.resolve(
            &book.directory.settings,
            view.uses_directory_shape(),
            &st.limits,
        )?;
        let r = view.render(&book, &rules, &p)?;
        let d = &book.directory;
        let cached = Arc::new(Cached::new(
            etag(d.id, d.version, view.tag(), &variant),
            d.version,
            r.content_type,
            r.notice,
            r.body,
        ));
        st.cache.insert(
            CacheKey {
                directory_id: d.id,
                version: d.version,
                view: view.tag(),
                query: variant,
            },
            cached.clone(),
        );
        Ok(Outcome::Body(cached))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(match outcome {
        Outcome::NotModified(tag) => not_modified(tag),
        Outcome::Body(c) => send(&c, gzip),
    })
}

enum Outcome {
    NotModified(String),
    Body(Arc<Cached>),
}

fn not_modified(tag: String) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag))
        .finish()
}

/// The cached body as it is (a reference count, no copy), gzipped if the phone takes it.
fn send(c: &Cached, gzip: bool) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    resp.content_type(c.content_type)
        .insert_header((header::ETAG, c.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("X-Phonedir-Version", c.version.to_string()));
    if let Some(n) = &c.notice {
        resp.insert_header(("X-Phonedir-Notice", n.clone()));
    }
    match (&c.gzip, gzip) {
        (Some(z), true) => resp
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(z.clone()),
        _ => resp.body(c.body.clone()),
    }
}

/// `Accept-Encoding` names gzip with a quality above zero.
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
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

    #[test]
    fn gzip_only_when_accepted() {
        use actix_web::test::TestRequest;
        let with = |v: &str| {
            accepts_gzip(
                &TestRequest::get()
                    .insert_header((header::ACCEPT_ENCODING, v))
                    .to_http_request(),
            )
        };
        assert!(with("gzip, deflate"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&TestRequest::get().to_http_request()));
    }
}
