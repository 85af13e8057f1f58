//! `/admin`: web pages for the people who run a directory, server-rendered (askama,
//! templates/admin/) and usable without JavaScript; a few lines of script only copy URLs.
//!
//! Sign-in takes any key of a directory through the gate (wrong keys count towards the
//! per-address throttle like everywhere else): a read key gives a read-only view, a push key
//! also uploads, the directory key manages everything. The key stays in the server's memory
//! (`session`), never in a URL or a page address. Every form carries a CSRF token; the
//! session cookie is `HttpOnly`, `SameSite=Strict` and, over HTTPS, `Secure`. Each page does
//! what the API does through the same functions (`push::push`, `Syncer`, the store), so the
//! rules are the same.

mod book;
mod keys;
mod overview;
mod phones;
mod put;
pub mod session;
mod settings;
mod signin;
mod sources;
mod targets;
mod upload;

use super::error::ApiError;
use super::{assets, auth, AppState};
use crate::access::Denied;
use crate::domain::{Access, Scope};
use crate::store::Directory;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::future::LocalBoxFuture;
pub use session::Sessions;
use session::{Flash, COOKIE};
use std::fmt;
use std::time::Duration;

/// How long "sync now", "write now" and "plan" wait for the result before the page says it
/// goes on (the light, or the target's page, shows it when it ends).
const RUN_WAIT: Duration = Duration::from_secs(30);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .route("", web::get().to(overview::show))
            .route("/assets/{file}", web::get().to(asset))
            .route("/signin", web::get().to(signin::form))
            .route("/signin", web::post().to(signin::submit))
            .route("/signout", web::post().to(signin::signout))
            .route("/upload", web::get().to(upload::form))
            .route("/upload", web::post().to(upload::preview))
            .route("/upload/store", web::post().to(upload::store))
            .route("/book", web::get().to(book::list))
            .route("/contact/{id}", web::get().to(book::contact))
            .route("/phones", web::get().to(phones::page_handler))
            .route("/phones/key", web::post().to(phones::make_key))
            .route("/settings", web::get().to(settings::form))
            .route("/settings", web::post().to(settings::save))
            .route("/keys", web::get().to(keys::page_handler))
            .route("/keys", web::post().to(keys::create))
            .route("/keys/{id}/revoke", web::post().to(keys::revoke))
            .route("/sources", web::get().to(sources::list))
            .route("/sources", web::post().to(sources::add))
            .route("/sources/{name}", web::get().to(sources::edit))
            .route("/sources/{name}", web::post().to(sources::save))
            .route("/sources/{name}/delete", web::post().to(sources::delete))
            .route("/sources/{name}/sync", web::post().to(sources::sync))
            .route("/targets", web::get().to(targets::list))
            .route("/targets", web::post().to(targets::add))
            .route("/targets/{name}", web::get().to(targets::edit))
            .route("/targets/{name}", web::post().to(targets::save))
            .route("/targets/{name}/delete", web::post().to(targets::delete))
            .route("/targets/{name}/plan", web::post().to(targets::plan))
            .route("/targets/{name}/sync", web::post().to(targets::sync)),
    );
}

async fn asset(req: HttpRequest) -> HttpResponse {
    assets::serve(assets::ADMIN, req.match_info().get("file").unwrap_or(""))
}

/// What the bar at the top of every page shows, and what the signed-in key may do.
pub struct Nav {
    pub signed_in: bool,
    /// The directory's name (or "Contacts").
    pub title: String,
    /// `read`, `push` or `directory`.
    pub scope: &'static str,
    pub can_push: bool,
    pub admin: bool,
    pub csrf: String,
    /// The page shown, for the bar's highlight.
    pub here: &'static str,
    pub flash: Option<Flash>,
}

impl Nav {
    fn signed_out() -> Nav {
        Nav {
            signed_in: false,
            title: String::new(),
            scope: "",
            can_push: false,
            admin: false,
            csrf: String::new(),
            here: "",
            flash: None,
        }
    }
}

/// A signed-in request: its session, and what its key opens now.
pub struct Signed {
    pub id: String,
    pub access: Access,
    /// The key signed in with (a read key's holder may see it; a directory key is never
    /// shown again).
    pub key: String,
    pub csrf: String,
    pub directory: Directory,
    flash: Option<Flash>,
}

impl Signed {
    pub fn nav(&mut self, here: &'static str) -> Nav {
        Nav {
            signed_in: true,
            title: crate::render::title(self.directory.title()).to_owned(),
            scope: self.access.scope.as_str(),
            can_push: self.access.scope.allows(Scope::Push),
            admin: self.access.scope.allows(Scope::Admin),
            csrf: self.csrf.clone(),
            here,
            flash: self.flash.take(),
        }
    }

    pub fn admin(&self) -> bool {
        self.access.scope.allows(Scope::Admin)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check(&self, form: &Form) -> Result<(), Rejected> {
        match form.get("csrf") {
            Some(t) if session::same(t, &self.csrf) => Ok(()),
            _ => Err(Rejected::Csrf),
        }
    }

    /// Refuses what a read (or push) key may not do.
    pub fn need(&self, scope: Scope) -> Result<(), Rejected> {
        if self.access.scope.allows(scope) {
            Ok(())
        } else {
            Err(Rejected::Scope(scope))
        }
    }

    /// A submitted form, once the key may do what it asks (`scope`) and its CSRF token is
    /// this session's: the checks every form of these pages starts with.
    pub fn form(&self, scope: Scope, body: &[u8]) -> Result<Form, Rejected> {
        self.need(scope)?;
        let form = Form::parse(body);
        self.check(&form)?;
        Ok(form)
    }

    /// A note for the next page.
    pub fn flash(
        &self,
        state: &AppState,
        ok: bool,
        text: impl Into<String>,
        new_key: Option<String>,
    ) {
        let flash = Flash {
            ok,
            text: text.into(),
            new_key,
        };
        state.admin.with(&self.id, |s| s.flash = Some(flash));
    }
}

/// Why a request gets no page: not signed in (to the sign-in page), throttled, a form from
/// elsewhere, a key that may not do this, or an error of the layers below.
#[derive(Debug)]
pub enum Rejected {
    SignIn,
    Throttled(u64),
    Csrf,
    Scope(Scope),
    Api(ApiError),
}

impl From<ApiError> for Rejected {
    fn from(e: ApiError) -> Self {
        Rejected::Api(e)
    }
}

impl From<actix_web::error::BlockingError> for Rejected {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Rejected::Api(ApiError::internal(&e))
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::SignIn => f.write_str("sign in first"),
            Rejected::Throttled(s) => write!(
                f,
                "too many wrong keys came from this address; wait {s} seconds and try again"
            ),
            Rejected::Csrf => f.write_str(
                "this form did not come from this session's page (or the session changed); go back, reload the page and send it again",
            ),
            Rejected::Scope(Scope::Admin) => f.write_str(
                "this page needs the directory key; you signed in with a key that may only read or push",
            ),
            Rejected::Scope(_) => f.write_str(
                "this needs a push key or the directory key; you signed in with a read key",
            ),
            Rejected::Api(e) => f.write_str(&e.message),
        }
    }
}

impl ResponseError for Rejected {
    fn status_code(&self) -> StatusCode {
        match self {
            Rejected::SignIn => StatusCode::SEE_OTHER,
            Rejected::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Rejected::Csrf | Rejected::Scope(_) => StatusCode::FORBIDDEN,
            Rejected::Api(e) => e.status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Rejected::SignIn = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/signin"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
        }
        let mut resp = page_with(
            self.status_code(),
            &Message {
                n: Nav::signed_out(),
                heading: "That did not work",
                text: self.to_string(),
                details: match self {
                    Rejected::Api(e) => e.details.iter().map(|d| d.to_string()).collect(),
                    _ => Vec::new(),
                },
            },
        );
        if let Rejected::Throttled(s) = self {
            if let Ok(v) = header::HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct Message {
    n: Nav,
    heading: &'static str,
    text: String,
    details: Vec<String>,
}

impl FromRequest for Signed {
    type Error = Rejected;
    type Future = LocalBoxFuture<'static, Result<Self, Rejected>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { signed(&req).await })
    }
}

async fn signed(req: &HttpRequest) -> Result<Signed, Rejected> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::internal(&"the application state is missing").into());
    };
    let id = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(Rejected::SignIn)?;
    let (key, csrf, flash) = state
        .admin
        .with(&id, |s| (s.key.clone(), s.csrf.clone(), s.flash.take()))
        .ok_or(Rejected::SignIn)?;
    // The key is checked again on every request: revoked, it ends the session at once.
    let opened = auth::open(req, state, &key, Scope::Read).await?;
    let access = match opened {
        Ok(a) => a,
        Err(Denied::Throttled(r)) => return Err(Rejected::Throttled(r.0)),
        Err(_) => {
            state.admin.end(&id);
            return Err(Rejected::SignIn);
        }
    };
    let (st, dir_key) = (state.clone(), access.directory.clone());
    let directory = web::block(move || st.store.directory(&dir_key))
        .await?
        .map_err(ApiError::from)?
        .ok_or_else(ApiError::unknown_directory)?;
    Ok(Signed {
        id,
        access,
        key,
        csrf,
        directory,
        flash,
    })
}

/// What every admin page is sent with: no caching (pages may show a key once), no framing,
/// scripts and styles from this server only, no referrer.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn page(t: &impl Template) -> HttpResponse {
    page_with(StatusCode::OK, t)
}

pub fn page_with(status: StatusCode, t: &impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("X-Frame-Options", "DENY"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .body(body),
        Err(e) => ApiError::internal(&e).error_response(),
    }
}

/// After a form: back to a page (POST, then redirect, then GET), so a reload sends nothing
/// twice.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A cookie the pages set: never readable by scripts, never sent with requests from other
/// sites, only over HTTPS when the page came over HTTPS.
pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String, path: &'a str) -> Cookie<'a> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path(path);
    c.set_secure(req.connection_info().scheme() == "https");
    c
}

/// A submitted form (`application/x-www-form-urlencoded`).
pub struct Form(Vec<(String, String)>);

/// Fields a form of these pages has at most.
const MAX_FIELDS: usize = 32;

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            url::form_urlencoded::parse(body)
                .take(MAX_FIELDS)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field, trimmed; None when missing or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// The `{name}` of a source's or target's page address.
fn name_of(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or("").to_owned()
}

/// `scheme://host` of this request, for the URLs a phone is given.
pub fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Runs `f` on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, Rejected> {
    Ok(web::block(f).await??)
}
