//! `/api/v1/directories/{KEY}…`: the management API. Every route takes `Authorized`, so no
//! handler can forget the key check.

use super::auth::Authorized;
use super::error::{resource, ApiError, ErrorBody};
use super::params::{self, KeyOnly, API_KEY};
use super::AppState;
use crate::book::Changes;
use crate::domain::{ApiKey, DirectorySettings, RawSettings};
use crate::render::DeviceWarning;
use crate::store::SourceSummary;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

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

/// A directory's status: what `GET /api/v1/directories/{KEY}` answers and the admin
/// overview shows.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryStatus {
    /// The directory key.
    pub directory: String,
    /// The title phones show (empty if unset).
    pub name: String,
    /// Moves with every change of contacts or settings.
    pub version: i64,
    /// Entries of the merged book, what phones see (the same person in two sources is one).
    pub contacts: usize,
    /// Numbers of the merged book.
    pub numbers: usize,
    pub settings: DirectorySettings,
    /// Every source with its own count and sync status.
    pub sources: Vec<SourceSummary>,
    /// Every target (a PBX the book is written into) with its run status.
    pub targets: Vec<crate::targets::TargetStatus>,
    /// What each whole-book format's device limits cut from this book.
    pub device_warnings: Vec<DeviceWarning>,
}

/// The status of the directory whose directory key is `key`; blocking (reads the book).
pub fn directory_status(state: &AppState, key: &ApiKey) -> Result<DirectoryStatus, ApiError> {
    let book = state
        .books
        .get(key)?
        .ok_or_else(ApiError::unknown_directory)?;
    let sources = state.store.sources(key)?;
    let targets = state
        .store
        .target_rows(key)?
        .iter()
        .map(crate::targets::target_status)
        .collect();
    let dir = &book.directory;
    Ok(DirectoryStatus {
        directory: dir.key.as_str().to_owned(),
        name: dir.title().to_owned(),
        version: dir.version,
        // What phones see: the merged book. Each source's own count is in `sources`.
        contacts: book.contacts.len(),
        numbers: book.contacts.iter().map(|c| c.numbers.len()).sum::<usize>(),
        settings: dir.settings.clone(),
        sources,
        targets,
        // Computed once per version and kept with the book.
        device_warnings: book.device_warnings().to_vec(),
    })
}

/// The directory's name, version, merged counts, settings, sources and device warnings.
#[utoipa::path(get, path = "/api/v1/directories/{key}", operation_id = "directory_status", tag = "directories",
    params(("key" = String, Path, description = "The directory key")),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = DirectoryStatus),
        (status = 401, body = ErrorBody, description = "No key sent"),
        (status = 403, body = ErrorBody, description = "Not this directory's directory key"),
        (status = 429, body = ErrorBody, description = "Too many wrong keys from this address"),
    ))]
async fn status(
    auth: Authorized,
    _: KeyOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let status = web::block(move || directory_status(&st, &auth.0))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(status))
}

/// `?since=V`: which contacts the book added, changed and removed after version V (one the
/// change log handed out, as `version` of an earlier answer). 410 when V is older than the
/// log keeps.
#[utoipa::path(get, path = "/api/v1/directories/{key}/changes", tag = "directories",
    params(("key" = String, Path, description = "The directory key"),
        ("since" = Option<i64>, Query, description = "A version an earlier answer gave; 0 or none for the version to start from")),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = Changes),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 410, body = ErrorBody, description = "`since` is older than the change log keeps: fetch the whole book again"),
    ))]
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

/// The directory's settings.
#[utoipa::path(get, path = "/api/v1/directories/{key}/settings", tag = "directories",
    params(("key" = String, Path, description = "The directory key")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = DirectorySettings), (status = 403, body = ErrorBody)))]
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
#[utoipa::path(put, path = "/api/v1/directories/{key}/settings", tag = "directories",
    params(("key" = String, Path, description = "The directory key")),
    request_body = DirectorySettings,
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = DirectorySettings, description = "The settings now in force"),
        (status = 400, body = ErrorBody, description = "Not JSON of this shape"),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A value that is not acceptable (region XX)"),
    ))]
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
