//! Signing in with a key of the directory, and out.

use super::session::{self, SIGNIN_COOKIE};
use super::{cookie, page, page_with, see_other, Form, Nav, Rejected, COOKIE};
use crate::access::Denied;
use crate::domain::Scope;
use crate::http::error::ApiError;
use crate::http::{auth, AppState};
use actix_web::cookie::time::Duration as CookieAge;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/signin.html")]
struct SignIn {
    n: Nav,
    csrf: String,
    error: Option<String>,
}

/// The sign-in form. Its CSRF token is also in a cookie of its own (there is no session
/// yet), so another site cannot sign a browser in with the other site's key.
pub async fn form(req: HttpRequest) -> Result<HttpResponse, Rejected> {
    let csrf = session::token().map_err(|_| ApiError::internal(&"no random numbers"))?;
    let mut resp = page(&SignIn {
        n: Nav::signed_out(),
        csrf: csrf.clone(),
        error: None,
    });
    let c = cookie(&req, SIGNIN_COOKIE, csrf, "/admin/signin");
    resp.add_cookie(&c).map_err(|e| ApiError::internal(&e))?;
    Ok(resp)
}

pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let form = Form::parse(&body);
    let expected = req.cookie(SIGNIN_COOKIE).map(|c| c.value().to_owned());
    let csrf_ok = match (form.get("csrf"), expected.as_deref()) {
        (Some(a), Some(b)) => session::same(a, b),
        _ => false,
    };
    if !csrf_ok {
        return Err(Rejected::Csrf);
    }
    let presented = form.text("key").unwrap_or_default();
    // Through the gate like every key: a wrong one counts towards the address's throttle.
    let opened = auth::open(&req, &state, &presented, Scope::Read).await?;
    let again = |status: StatusCode, error: String| -> Result<HttpResponse, Rejected> {
        let csrf = session::token().map_err(|_| ApiError::internal(&"no random numbers"))?;
        let mut resp = page_with(
            status,
            &SignIn {
                n: Nav::signed_out(),
                csrf: csrf.clone(),
                error: Some(error),
            },
        );
        let c = cookie(&req, SIGNIN_COOKIE, csrf, "/admin/signin");
        resp.add_cookie(&c).map_err(|e| ApiError::internal(&e))?;
        Ok(resp)
    };
    match opened {
        Ok(access) => {
            let id = state
                .admin
                .create(&presented, access.directory_id)
                .map_err(|_| ApiError::internal(&"no random numbers"))?;
            tracing::info!(directory = %access.directory.masked(), scope = %access.scope, "admin sign-in");
            let mut resp = see_other("/admin");
            let c = cookie(&req, COOKIE, id, "/admin");
            resp.add_cookie(&c).map_err(|e| ApiError::internal(&e))?;
            let mut gone = cookie(&req, SIGNIN_COOKIE, String::new(), "/admin/signin");
            gone.set_max_age(CookieAge::ZERO);
            resp.add_cookie(&gone).map_err(|e| ApiError::internal(&e))?;
            Ok(resp)
        }
        Err(Denied::Throttled(r)) => Err(Rejected::Throttled(r.0)),
        Err(Denied::Store(e)) => Err(ApiError::from(e).into()),
        Err(_) => again(
            StatusCode::FORBIDDEN,
            "this key opens no directory; check it (14 letters and digits) and try again".into(),
        ),
    }
}

pub async fn signout(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let form = Form::parse(&body);
    if let Some(id) = req.cookie(COOKIE).map(|c| c.value().to_owned()) {
        let csrf = state.admin.with(&id, |s| s.csrf.clone());
        match (csrf, form.get("csrf")) {
            (Some(a), Some(b)) if session::same(&a, b) => state.admin.end(&id),
            (None, _) => {}
            _ => return Err(Rejected::Csrf),
        }
    }
    let mut resp = see_other("/admin/signin");
    let mut gone = cookie(&req, COOKIE, String::new(), "/admin");
    gone.set_max_age(CookieAge::ZERO);
    resp.add_cookie(&gone).map_err(|e| ApiError::internal(&e))?;
    Ok(resp)
}
