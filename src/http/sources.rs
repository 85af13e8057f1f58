//! `/api/v1/directories/{KEY}/sources…`: pulled sources (graph, carddav, rest) and push
//! sources' merge priority. Every route takes `Authorized`.

use super::auth::Authorized;
use super::error::{ApiError, ErrorBody};
use super::params::{self, KeyOnly, API_KEY};
use super::AppState;
use crate::sources::spec::SourceSettingsSchema;
use crate::sources::{status_json, SourceDetail, SourceError, SourceStatus};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::time::Duration;

/// How long `POST …/sync` waits for the result before answering 202 by default.
const DEFAULT_WAIT_S: u64 = 60;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sources", web::get().to(list))
        .route("/sources/{name}", web::get().to(get))
        .route("/sources/{name}", web::put().to(put))
        .route("/sources/{name}", web::delete().to(delete))
        .route("/sources/{name}/sync", web::post().to(sync));
}

fn name_of(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or("").to_owned()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(f).await.map_err(|e| ApiError::internal(&e))??)
}

/// Every source of the directory with its status.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceStatus>,
}

#[utoipa::path(get, path = "/api/v1/directories/{key}/sources", operation_id = "list_sources", tag = "sources",
    params(("key" = String, Path, description = "The directory key")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = SourceList), (status = 403, body = ErrorBody)))]
async fn list(
    auth: Authorized,
    _: KeyOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let rows = blocking(move || Ok(st.store.source_rows(&auth.0)?)).await?;
    let list: Vec<_> = rows.iter().map(status_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "sources": list })))
}

/// A source's settings, secrets masked as `********`, and its status.
#[utoipa::path(get, path = "/api/v1/directories/{key}/sources/{name}", operation_id = "get_source", tag = "sources",
    params(("key" = String, Path, description = "The directory key"),
        ("name" = String, Path, description = "The source's name")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = SourceDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No source of this name")))]
async fn get(
    auth: Authorized,
    _: KeyOnly,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let v = blocking(move || st.syncer.get(&auth.0, &name)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Creates or replaces a pulled source (or sets a push source's priority). Send `********`
/// for a secret to keep the stored one.
#[utoipa::path(put, path = "/api/v1/directories/{key}/sources/{name}", operation_id = "put_source", tag = "sources",
    params(("key" = String, Path, description = "The directory key"),
        ("name" = String, Path, description = "1 to 64 letters, digits, `-` and `_`")),
    request_body = SourceSettingsSchema,
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = SourceDetail, description = "Replaced"),
        (status = 201, body = SourceDetail, description = "Created"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A source of another kind has this name"),
        (status = 422, body = ErrorBody, description = "A value that is not acceptable, or a kept secret whose destination changed"),
    ))]
async fn put(
    auth: Authorized,
    _: KeyOnly,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let (v, created) = blocking(move || {
        let (_, created) = st.syncer.put(&auth.0, &name, &body)?;
        Ok((st.syncer.get(&auth.0, &name)?, created))
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(v))
}

/// Removes the source and its contacts.
#[utoipa::path(delete, path = "/api/v1/directories/{key}/sources/{name}", operation_id = "delete_source", tag = "sources",
    params(("key" = String, Path, description = "The directory key"),
        ("name" = String, Path, description = "The source's name")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn delete(
    auth: Authorized,
    _: KeyOnly,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let gone = blocking(move || {
        let gone = st.store.delete_source(&auth.0, &name)?;
        // A sync of it, queued or running, stops at its next request.
        st.syncer.cancel(&auth.0, &name);
        Ok(gone)
    })
    .await?;
    if gone {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(SourceError::UnknownSource.into())
    }
}

/// `?wait=S`: seconds to wait for the result (0 to 600); afterwards the answer is 202 and
/// the sync goes on.
fn wait_of(req: &HttpRequest) -> Result<Duration, ApiError> {
    let mut p = params::api(req.query_string())?;
    let wait = p.take("wait")?;
    p.finish(&["wait", API_KEY])?;
    Ok(Duration::from_secs(wait_seconds(wait.as_deref())?))
}

/// The value of a `?wait=` (a source's or a target's run): 60 if absent, at most 600.
pub(super) fn wait_seconds(wait: Option<&str>) -> Result<u64, ApiError> {
    Ok(match wait.map(str::trim) {
        None | Some("") => DEFAULT_WAIT_S,
        Some(w) => w.parse::<u64>().ok().filter(|s| *s <= 600).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("wait is `{w}`; use a number of seconds from 0 to 600"),
            )
        })?,
    })
}

/// Runs a sync now and answers its status; 202 if it takes longer than `wait` seconds.
#[utoipa::path(post, path = "/api/v1/directories/{key}/sources/{name}/sync", operation_id = "sync_source", tag = "sources",
    params(("key" = String, Path, description = "The directory key"),
        ("name" = String, Path, description = "The source's name"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait for the result (default 60, at most 600)")),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = SourceStatus, description = "The sync finished"),
        (status = 202, description = "The sync goes on; its status URL is in `Location`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A sync of this source is running"),
        (status = 422, body = ErrorBody, description = "A push source is not synced"),
        (status = 502, body = ErrorBody, description = "The sync failed; the last good contacts are kept"),
    ))]
async fn sync(
    auth: Authorized,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let wait = wait_of(&req)?;
    let (st, name) = (state.clone(), name_of(&req));
    let status_url = format!("/api/v1/directories/{}/sources/{name}", auth.0.as_str());
    // Started (and marked `syncing`) before we answer; the sync itself runs on the job
    // runner's threads, and waiting for it holds no thread at all.
    let k = auth.0.clone();
    let outcome = blocking(move || st.syncer.start(&k, &name)).await?;
    let accepted = || {
        HttpResponse::Accepted()
            .insert_header(("Location", status_url.clone()))
            .json(json!({
                "status": "syncing",
                "message": "the sync goes on; GET the status URL for its result",
                "status_url": status_url,
            }))
    };
    if wait.is_zero() {
        return Ok(accepted());
    }
    match actix_web::rt::time::timeout(wait, outcome).await {
        Err(_) => Ok(accepted()),
        Ok(Err(closed)) => Err(ApiError::internal(&closed)),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Ok(Ok(row))) if row.status == "error" => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the sync failed, the contacts of the last good sync are kept: {}",
                row.last_error.clone().unwrap_or_default()
            ),
        )
        .with_details(vec![status_json(&row)])),
        Ok(Ok(Ok(row))) => Ok(HttpResponse::Ok().json(status_json(&row))),
    }
}
