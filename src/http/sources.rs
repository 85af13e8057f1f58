//! `/api/v1/directories/{KEY}/sources…`: pulled sources (graph, carddav, rest) and push
//! sources' merge priority. Every route takes `Authorized`.

use super::auth::Authorized;
use super::error::ApiError;
use super::params::{self, KeyOnly, API_KEY};
use super::AppState;
use crate::sources::{status_json, SourceError};
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
    let secs = match wait.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_WAIT_S,
        Some(w) => w.parse::<u64>().ok().filter(|s| *s <= 600).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("wait is `{w}`; use a number of seconds from 0 to 600"),
            )
        })?,
    };
    Ok(Duration::from_secs(secs))
}

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
