//! `/api/v1/directories/{KEY}/targets…`: PBXs the book is written into. Every route takes
//! `Authorized`.

use super::auth::Authorized;
use super::error::{ApiError, ErrorBody};
use super::params::{self, KeyOnly, API_KEY};
use super::AppState;
use crate::targets::{target_status, Request, TargetDetail, TargetError, TargetStatus, Why};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::time::Duration;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/targets", web::get().to(list))
        .route("/targets/{name}", web::get().to(get))
        .route("/targets/{name}", web::put().to(put))
        .route("/targets/{name}", web::delete().to(delete))
        .route("/targets/{name}/sync", web::post().to(sync));
}

/// `GET …/targets`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TargetList {
    pub targets: Vec<TargetStatus>,
}

fn name_of(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or("").to_owned()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TargetError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(f).await.map_err(|e| ApiError::internal(&e))??)
}

/// Every target of the directory with its status.
#[utoipa::path(get, path = "/api/v1/directories/{key}/targets", operation_id = "list_targets", tag = "targets",
    params(("key" = String, Path, description = "The directory key")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = TargetList), (status = 403, body = ErrorBody)))]
async fn list(
    auth: Authorized,
    _: KeyOnly,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let rows = blocking(move || Ok(st.store.target_rows(&auth.0)?)).await?;
    let targets = rows.iter().map(target_status).collect();
    Ok(HttpResponse::Ok().json(TargetList { targets }))
}

/// A target's settings (secrets masked), status and last dry run.
#[utoipa::path(get, path = "/api/v1/directories/{key}/targets/{name}", operation_id = "get_target", tag = "targets",
    params(("key" = String, Path, description = "The directory key"), ("name" = String, Path, description = "The target's name")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = TargetDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No target of this name")))]
async fn get(
    auth: Authorized,
    _: KeyOnly,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (st, name) = (state.clone(), name_of(&req));
    let v = blocking(move || st.targets.get(&auth.0, &name)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Creates or replaces a target: `{"kind", "url", …}` with the kind's credentials;
/// `********` keeps a stored secret.
#[utoipa::path(put, path = "/api/v1/directories/{key}/targets/{name}", operation_id = "put_target", tag = "targets",
    params(("key" = String, Path, description = "The directory key"), ("name" = String, Path, description = "1 to 64 letters, digits, `-` and `_`")),
    request_body(content = Object, description = "`kind` (innovaphone, easyconnect, 3cx, placetel, fritzbox), `url`, the kind's credentials, and optionally `interval_s`, `debounce_s`, `delete`, `adopt`, `max_delete_percent`, `numbers` (see docs/targets.md)"),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, body = TargetDetail, description = "Replaced"),
        (status = 201, body = TargetDetail, description = "Created"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A value that is not acceptable"),
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
        let created = st.targets.put(&auth.0, &name, &body)?;
        Ok((st.targets.get(&auth.0, &name)?, created))
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(v))
}

/// Removes a target and stops its run; the PBX's entries stay as they are.
#[utoipa::path(delete, path = "/api/v1/directories/{key}/targets/{name}", operation_id = "delete_target", tag = "targets",
    params(("key" = String, Path, description = "The directory key"), ("name" = String, Path, description = "The target's name")),
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
    if blocking(move || st.targets.delete(&auth.0, &name)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(TargetError::Unknown.into())
    }
}

/// `?dry_run=true` answers the plan and writes nothing; `?force=true` writes although the
/// book shrank more than `max_delete_percent`; `?wait=S` (0 to 600) as for sources.
#[utoipa::path(post, path = "/api/v1/directories/{key}/targets/{name}/sync", operation_id = "sync_target", tag = "targets",
    params(("key" = String, Path, description = "The directory key"), ("name" = String, Path, description = "The target's name"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait for the result (default 60, at most 600)"),
        ("dry_run" = Option<bool>, Query, description = "Answer the plan and write nothing"),
        ("force" = Option<bool>, Query, description = "Write although the book shrank more than max_delete_percent")),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 200, description = "The run ended (its status), or with dry_run the plan: create, update, delete, skipped, unchanged", content_type = "application/json"),
        (status = 202, description = "The run goes on; its status URL is in `Location`"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A run of this target is going on (dry run)"),
        (status = 502, body = ErrorBody, description = "The run stopped; what was written is recorded"),
    ))]
async fn sync(
    auth: Authorized,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut p = params::api(req.query_string())?;
    let wait = p.take("wait")?;
    let dry_run = p.flag("dry_run")?;
    let force = p.flag("force")?;
    p.finish(&["wait", "dry_run", "force", API_KEY])?;
    let wait = super::sources::wait_seconds(wait.as_deref())?;
    let (st, name) = (state.clone(), name_of(&req));
    let status_url = format!("/api/v1/directories/{}/targets/{name}", auth.0.as_str());
    let k = auth.0.clone();
    let run = Request {
        why: Why::Demand,
        dry_run,
        force,
    };
    let outcome = blocking(move || st.targets.start(&k, &name, run)).await?;
    let accepted = || {
        HttpResponse::Accepted()
            .insert_header(("Location", status_url.clone()))
            .json(json!({
                "status": if dry_run { "planning" } else { "running" },
                "message": if dry_run {
                    "the plan is being made; GET the status URL, it shows as last_dry_run"
                } else {
                    "the run goes on; GET the status URL for its result"
                },
                "status_url": status_url,
            }))
    };
    if wait == 0 {
        return Ok(accepted());
    }
    match actix_web::rt::time::timeout(Duration::from_secs(wait), outcome).await {
        Err(_) => Ok(accepted()),
        Ok(Err(closed)) => Err(ApiError::internal(&closed)),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Ok(Ok(o))) if dry_run => Ok(HttpResponse::Ok().json(o.plan)),
        Ok(Ok(Ok(o))) => match &o.stopped {
            Some(why) => Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("the run stopped; what was written is recorded: {why}"),
            )
            .with_details(vec![json!({"status": o.status, "plan": o.plan})])),
            None => {
                let mut v = o.status;
                v["plan"] = o.plan;
                Ok(HttpResponse::Ok().json(v))
            }
        },
    }
}
