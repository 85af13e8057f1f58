//! `/api/v1/directories/{KEY}/sources…`: pulled sources (graph, carddav, rest) and push
//! sources' merge priority. Every route takes `Authorized`.

use super::auth::Authorized;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::sources::spec::SourceSettingsSchema;
use crate::sources::{status_json, SourceDetail, SourceError, SourceStatus};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
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
async fn list(auth: Authorized, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
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
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let gone = blocking(move || Ok(st.store.delete_source(&auth.0, &name)?)).await?;
    if gone {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(SourceError::UnknownSource.into())
    }
}

#[derive(Deserialize)]
struct SyncQuery {
    /// Seconds to wait for the result; afterwards the answer is 202 and the sync goes on.
    wait: Option<u64>,
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
    query: web::Query<SyncQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let status_url = format!("/api/v1/directories/{}/sources/{name}", auth.0.as_str());
    let wait = Duration::from_secs(query.wait.unwrap_or(DEFAULT_WAIT_S).min(600));
    // Begun before the wait starts, so the status says `syncing` as soon as we answer.
    let (st2, k) = (st.clone(), auth.0.clone());
    let ticket = blocking(move || st2.syncer.begin(&k, &name)).await?;
    let run = blocking(move || st.syncer.run(ticket));
    match actix_web::rt::time::timeout(wait, run).await {
        Err(_) => Ok(HttpResponse::Accepted()
            .insert_header(("Location", status_url.clone()))
            .json(json!({
                "status": "syncing",
                "message": "the sync goes on; GET the status URL for its result",
                "status_url": status_url,
            }))),
        Ok(Err(e)) => Err(e),
        Ok(Ok(row)) if row.status == "error" => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the sync failed, the contacts of the last good sync are kept: {}",
                row.last_error.clone().unwrap_or_default()
            ),
        )
        .with_details(vec![status_json(&row)])),
        Ok(Ok(row)) => Ok(HttpResponse::Ok().json(status_json(&row))),
    }
}
