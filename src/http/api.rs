//! `/api/v1/directories/{KEY}…`: the management API. Every route takes `Authorized`, so no
//! handler can forget the key check.

use super::auth::Authorized;
use super::error::{resource, ApiError};
use super::params::{self, KeyOnly, API_KEY};
use super::AppState;
use crate::domain::{DirectorySettings, RawSettings};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/directories/{key}")
            .service(resource("", "GET").route(web::get().to(status)))
            .service(
                resource("/settings", "GET, PUT")
                    .route(web::get().to(get_settings))
                    .route(web::put().to(put_settings)),
            )
            .service(resource("/changes", "GET").route(web::get().to(changes)))
            .configure(super::sources::routes)
            .configure(super::targets::routes)
            .configure(super::keys::routes),
    );
}

async fn status(
    auth: Authorized,
    _: KeyOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let (book, sources, targets) = web::block(move || -> Result<_, ApiError> {
        let book = st
            .books
            .get(&auth.0)?
            .ok_or_else(ApiError::unknown_directory)?;
        // Computed once per version and kept with the book.
        book.device_warnings();
        let sources = st.store.sources(&auth.0)?;
        let targets: Vec<_> = st
            .store
            .target_rows(&auth.0)?
            .iter()
            .map(crate::targets::status_json)
            .collect();
        Ok((book, sources, targets))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let dir = &book.directory;
    Ok(HttpResponse::Ok().json(json!({
        "directory": dir.key.as_str(),
        "name": dir.title(),
        "version": dir.version,
        // What phones see: the merged book. Each source's own count is in `sources`.
        "contacts": book.contacts.len(),
        "numbers": book.contacts.iter().map(|c| c.numbers.len()).sum::<usize>(),
        "settings": dir.settings,
        "sources": sources,
        "targets": targets,
        "device_warnings": book.device_warnings(),
    })))
}

/// `?since=V`: which contacts the book added, changed and removed after version V (one the
/// change log handed out, as `version` of an earlier answer). 410 when V is older than the
/// log keeps.
async fn changes(
    auth: Authorized,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut params = params::api(req.query_string())?;
    let since = params.take("since")?;
    params.finish(&["since", API_KEY])?;
    let since = match since.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(v) => v.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("since is `{v}`; use a version this API answered before, or 0"),
            )
        })?,
    };
    let st = state.clone();
    let answer = web::block(move || st.books.changes(&auth.0, since))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let (_, changes) = answer.ok_or_else(ApiError::unknown_directory)?;
    Ok(HttpResponse::Ok().json(changes))
}

async fn get_settings(
    auth: Authorized,
    _: KeyOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let dir = web::block(move || st.store.directory(&auth.0))
        .await
        .map_err(|e| ApiError::internal(&e))??
        .ok_or_else(ApiError::unknown_directory)?;
    Ok(HttpResponse::Ok().json(dir.settings))
}

/// Replaces the settings with the JSON body; fields left out are unset.
async fn put_settings(
    auth: Authorized,
    _: KeyOnly,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw: RawSettings = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the settings are not valid JSON of the expected shape: {e}"),
        )
    })?;
    let settings = DirectorySettings::try_from(raw)
        .and_then(|s| s.check_region(state.limits.default_region).map(|()| s))
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let st = state.clone();
    let dir = web::block(move || st.store.set_settings(&auth.0, &settings))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(dir.settings))
}
