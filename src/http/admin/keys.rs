//! Read and push keys: make one with a label (shown once), list them masked, revoke one.

use super::{blocking, page, see_other, Nav, Rejected, Signed};
use crate::domain::Scope;
use crate::http::error::ApiError;
use crate::http::keys::{key_view, KeyView};
use crate::http::AppState;
use crate::store::KeyRef;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

/// Longest label, as the API allows.
const MAX_LABEL: usize = 100;

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    n: Nav,
    keys: Vec<KeyView>,
}

pub async fn page_handler(
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Admin)?;
    let (st, key) = (state.clone(), me.access.directory.clone());
    let keys = blocking(move || Ok(st.store.keys(&key)?)).await?;
    Ok(page(&KeysPage {
        n: me.nav("keys"),
        keys: keys.iter().map(key_view).collect(),
    }))
}

pub async fn create(
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let scope = match f.get("scope") {
        Some("push") => Scope::Push,
        Some("read") | None => Scope::Read,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("scope is `{other}`; use read or push"),
            )
            .into())
        }
    };
    let label = f.text("label").unwrap_or_default();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        me.flash(
            &state,
            false,
            format!("a label is up to {MAX_LABEL} characters of text on one line"),
            None,
        );
        return Ok(see_other("/admin/keys"));
    }
    let (st, dir) = (state.clone(), me.access.directory.clone());
    let made = blocking(move || Ok(st.store.create_key(&dir, scope, &label)?)).await;
    match made {
        Ok((key, info)) => {
            tracing::info!(key = %key.masked(), scope = %scope, "key created on the admin page");
            me.flash(
                &state,
                true,
                format!(
                    "the {} key `{}` was made; it is shown this once, copy it now",
                    scope.as_str(),
                    if info.label.is_empty() {
                        "without label"
                    } else {
                        &info.label
                    }
                ),
                Some(key.as_str().to_owned()),
            );
        }
        Err(Rejected::Api(e)) => me.flash(&state, false, e.message, None),
        Err(e) => return Err(e),
    }
    Ok(see_other("/admin/keys"))
}

pub async fn revoke(
    req: HttpRequest,
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.form(Scope::Admin, &body)?;
    let id = req
        .match_info()
        .get("id")
        .and_then(|i| i.parse::<i64>().ok())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "name the key by its id"))?;
    let (st, dir) = (state.clone(), me.access.directory.clone());
    let gone = blocking(move || Ok(st.store.revoke_key(&dir, &KeyRef::Id(id))?)).await;
    match gone {
        Ok(true) => me.flash(
            &state,
            true,
            "the key was revoked; phones with it get 404 from now on",
            None,
        ),
        Ok(false) => me.flash(
            &state,
            false,
            "this directory has no such key (any more)",
            None,
        ),
        Err(Rejected::Api(e)) => me.flash(&state, false, e.message, None),
        Err(e) => return Err(e),
    }
    Ok(see_other("/admin/keys"))
}
