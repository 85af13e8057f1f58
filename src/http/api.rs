//! `/api/v1/directories/{KEY}…`: the management API. Every route takes `Authorized`, so no
//! handler can forget the key check.

use super::auth::Authorized;
use super::error::ApiError;
use super::AppState;
use crate::domain::DirectorySettings;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/directories/{key}")
            .route("", web::get().to(status))
            .route("/settings", web::get().to(get_settings))
            .route("/settings", web::put().to(put_settings))
            .configure(super::sources::routes)
            .configure(super::keys::routes),
    );
}

async fn status(auth: Authorized, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let (dir, sources, warnings) = web::block(move || -> Result<_, ApiError> {
        let dir = st
            .store
            .directory(&auth.0)?
            .ok_or_else(ApiError::unknown_directory)?;
        let sources = st.store.sources(&auth.0)?;
        let warnings = st.store.book(&auth.0)?.map_or_else(Vec::new, |b| {
            crate::render::device_warnings(b.directory.title(), &b.contacts)
        });
        Ok((dir, sources, warnings))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let contacts: usize = sources.iter().map(|s| s.contacts).sum();
    Ok(HttpResponse::Ok().json(json!({
        "directory": dir.key.as_str(),
        "name": dir.title(),
        "version": dir.version,
        "contacts": contacts,
        "settings": dir.settings,
        "sources": sources,
        "device_warnings": warnings,
    })))
}

async fn get_settings(
    auth: Authorized,
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
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let settings: DirectorySettings = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the settings are not valid JSON of the expected shape: {e}"),
        )
    })?;
    settings
        .validate()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let st = state.clone();
    let dir = web::block(move || st.store.set_settings(&auth.0, &settings))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(dir.settings))
}
