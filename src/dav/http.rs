//! The actix adapter of the CardDAV server: routes, methods, credentials, request bodies,
//! and answers (big multistatus answers stream out in chunks, so a 100,000-card multiget
//! holds the shared book and one chunk, never the whole answer).

use super::carddav::{self, Ctx, Depth, Listing, Res};
use super::xml::{self, Report};
use super::{auth, DavError, Precondition};
use crate::domain::ApiKey;
use crate::http::AppState;
use crate::phone::NumberRules;
use crate::render::{Presenter, ShapeParams};
use actix_web::http::{header, StatusCode};
use actix_web::{guard, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use std::net::IpAddr;

/// What OPTIONS tells: WebDAV classes 1 and 3 and CardDAV (DAVx5 accepts a principal and
/// Evolution an address book only when `addressbook` is here), and the read methods.
pub const DAV_CLASSES: &str = "1, 3, addressbook";
pub const ALLOW: &str = "OPTIONS, GET, HEAD, PROPFIND, REPORT";
/// Methods that would change the book: refused with `need-privileges`, which clients take
/// as "read-only" rather than as a failure.
const WRITES: [&str; 8] = [
    "PUT",
    "DELETE",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "POST",
    "ACL",
];
const PROPFIND_MAX_BYTES: usize = 64 * 1024;
/// A REPORT may name every card of the book: Thunderbird sends all hrefs in one multiget.
/// So its body may be as big as the book asks for, and no bigger.
const REPORT_BASE_BYTES: usize = 1024 * 1024;
const REPORT_BYTES_PER_CARD: usize = 256;
/// Answers with more entries than this go out in chunks of about `CHUNK_BYTES`.
const STREAM_FROM: usize = 200;
const CHUNK_BYTES: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/carddav", web::route().to(well_known))
        .service(web::scope("/dav").default_service(web::to(handle)))
        // Clients given only the server's address ask its root first.
        .route(
            "/",
            web::route()
                .guard(guard::fn_guard(|ctx| {
                    matches!(ctx.head().method.as_str(), "PROPFIND" | "OPTIONS")
                }))
                .to(handle),
        );
}

/// RFC 6764: the context path, without asking for credentials; 301 because some clients
/// do not follow a 302 for PROPFIND.
async fn well_known() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, carddav::ROOT))
        .finish()
}

fn options() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("DAV", DAV_CLASSES))
        .insert_header((header::ALLOW, ALLOW))
        .finish()
}

async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    match answer(&req, payload, state).await {
        Ok(r) => Ok(r),
        // Thunderbird starts over after a 400 but keeps failing after the 403 that RFC 6578
        // prescribes for a token it should not use any more (its CardDAVDirectory expects
        // [207, 400]); the body still names `valid-sync-token`.
        Err(e)
            if e.precondition() == Some(Precondition::ValidSyncToken)
                && user_agent(&req).contains("Thunderbird") =>
        {
            let mut resp = actix_web::ResponseError::error_response(&e);
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

fn user_agent(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn answer(
    req: &HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DavError> {
    let method = req.method().as_str().to_owned();
    if method == "OPTIONS" {
        return Ok(options());
    }
    let target = carddav::target(req.path()).ok_or(DavError::NotFound)?;
    let password = auth::basic_password(req).ok_or(DavError::Unauthorized)?;
    let key = auth::directory_for(&state, &password, client(req)).await?;
    match method.as_str() {
        "PROPFIND" | "REPORT" | "GET" | "HEAD" => {}
        m if WRITES.contains(&m) => {
            return Err(DavError::forbidden(
                Precondition::NeedPrivileges,
                "this address book is read-only: change the directory by a push or a source",
            ))
        }
        m => return Err(DavError::MethodNotAllowed(m.to_owned())),
    }
    let mut ctx = context(&state, key.clone()).await?;
    if req.path() == "/" {
        ctx = ctx.at_server_root();
    }
    let res = ctx.resolve(&target)?;
    match method.as_str() {
        "PROPFIND" => {
            let depth = depth(req)?;
            let body = read_body(req, payload, PROPFIND_MAX_BYTES).await?;
            let props = xml::propfind(&body)?;
            Ok(multistatus(carddav::propfind(ctx, res, depth, props)))
        }
        "REPORT" => report(req, payload, &state, key, ctx, res).await,
        _ => Ok(get(req, &ctx, res)),
    }
}

async fn report(
    req: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
    key: ApiKey,
    ctx: Ctx,
    res: Res,
) -> Result<HttpResponse, DavError> {
    if res != Res::Book {
        return Err(DavError::forbidden(
            Precondition::SupportedReport,
            "reports are answered by the address book itself (…/contacts/)",
        ));
    }
    let limit = REPORT_BASE_BYTES + REPORT_BYTES_PER_CARD * ctx.book.contacts.len();
    let body = read_body(req, payload, limit).await?;
    let st = state.clone();
    // A multiget of a big book is megabytes of XML: parsed off the async workers.
    let listing = web::block(move || -> Result<Listing, DavError> {
        match xml::report(&body)? {
            Report::Multiget { props, hrefs } => Ok(carddav::multiget(ctx, props, hrefs)),
            Report::Query {
                props,
                filter,
                limit,
            } => {
                let settings = &ctx.book.directory.settings;
                let p = Presenter::resolve(
                    &ShapeParams::default(),
                    Some(settings),
                    st.limits.default_region,
                );
                let rules = NumberRules {
                    region: p.region,
                    max_extension_digits: st.limits.max_extension_digits,
                };
                Ok(carddav::query(ctx, props, &filter, limit, &rules))
            }
            Report::Sync {
                token,
                props,
                limit,
            } => carddav::sync(&st.books, &key, st.store.salt(), &token, props, limit),
            Report::Other(n) => Err(DavError::forbidden(
                Precondition::SupportedReport,
                format!(
                    "the report {{{}}}{} is not offered; use addressbook-multiget, addressbook-query or sync-collection",
                    n.ns, n.local
                ),
            )),
        }
    })
    .await
    .map_err(|e| DavError::Internal(e.to_string()))??;
    Ok(multistatus(listing))
}

/// The book of `key` as CardDAV shows it (blocking: the book may have to be built).
async fn context(state: &web::Data<AppState>, key: ApiKey) -> Result<Ctx, DavError> {
    let st = state.clone();
    web::block(move || {
        let (book, logged_at) = carddav::current(&st.books, &key)?;
        let id = carddav::public_id(st.store.salt(), book.directory.id);
        Ok(Ctx::new(book, id, logged_at))
    })
    .await
    .map_err(|e| DavError::Internal(e.to_string()))?
}

/// GET (and HEAD: actix leaves the body out) of a card. Collections answer in words, with
/// the address book's URL, which desk phones need in full (`curl -u any:KEY …/dav/`).
fn get(req: &HttpRequest, ctx: &Ctx, res: Res) -> HttpResponse {
    let Res::Card(pos) = res else {
        return HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "{}: a read-only CardDAV address book of {} contacts.\n\
                 Clients that discover it: the server's address, any user name, a key of the directory as the password.\n\
                 Clients and phones that need the address book's own URL: {}\n",
                crate::render::title(ctx.book.title()),
                ctx.book.contacts.len(),
                absolute(req, &ctx.book_href()),
            ));
    };
    let (body, etag) = ctx.card(pos);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(crate::render::vcard::VCARD)
        .insert_header((header::ETAG, etag))
        .body(body)
}

/// `Depth` of a PROPFIND: 0 when missing (as Radicale; our tree is shallow), and
/// `infinity` read as 1, since the address book's cards are the deepest level.
fn depth(req: &HttpRequest) -> Result<Depth, DavError> {
    match req
        .headers()
        .get("Depth")
        .map(|v| v.to_str().map(str::trim))
    {
        None | Some(Ok("0")) => Ok(Depth::Zero),
        Some(Ok("1")) => Ok(Depth::One),
        Some(Ok(v)) if v.eq_ignore_ascii_case("infinity") => Ok(Depth::One),
        _ => Err(DavError::BadRequest(
            "the Depth header must be 0, 1 or infinity".into(),
        )),
    }
}

async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, DavError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(DavError::TooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            DavError::BadRequest(format!("the request body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(DavError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn multistatus(listing: Listing) -> HttpResponse {
    let mut resp = HttpResponse::build(StatusCode::MULTI_STATUS);
    resp.content_type(super::write::CONTENT_TYPE);
    if listing.len() <= STREAM_FROM {
        return resp.body(listing.render());
    }
    resp.streaming(chunks(listing))
}

/// The answer in chunks, each written when the connection takes it.
fn chunks(
    listing: Listing,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::convert::Infallible>> {
    futures_util::stream::unfold((listing, 0usize, false), |(l, i, done)| async move {
        if done {
            return None;
        }
        let mut out = String::with_capacity(CHUNK_BYTES + 8 * 1024);
        if i == 0 {
            out.push_str(l.head());
        }
        let mut buf = String::new();
        let mut j = i;
        while j < l.len() && out.len() < CHUNK_BYTES {
            l.write_item(j, &mut out, &mut buf);
            j += 1;
        }
        let last = j >= l.len();
        if last {
            l.write_tail(&mut out);
        }
        Some((Ok(web::Bytes::from(out)), (l, j, last)))
    })
}

/// `scheme://host/path` as the client reached us.
fn absolute(req: &HttpRequest, path: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}{path}", info.scheme(), info.host())
}

/// The client's address as the rest of the server sees it (behind a trusted proxy, the one
/// it names), so the wrong-key throttle counts CardDAV attempts with the others.
fn client(req: &HttpRequest) -> IpAddr {
    crate::http::auth::client(req)
}
