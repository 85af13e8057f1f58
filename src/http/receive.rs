//! `POST`/`PUT /contacts/{KEY}`: a file (form, raw CSV or JSON) replaces one source.

use super::error::ApiError;
use super::params::Params;
use super::{auth, upload, AppState};
use crate::access::PushTarget;
use crate::ingest::Mapping;
use crate::phone::Region;
use crate::push::{self, PushRequest};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// What a push's URL may carry.
const ACCEPTED: [&str; 6] = ["source", "region", "map", "allow_empty", "dry_run", "force"];

struct PushQuery {
    source: Option<String>,
    region: Option<String>,
    map: Option<String>,
    allow_empty: bool,
    dry_run: bool,
    force: bool,
}

impl PushQuery {
    /// Strictly: a misspelt `?dryrun=true` must not store the file.
    fn parse(query: &str) -> Result<PushQuery, ApiError> {
        let mut p = Params::parse(query)?;
        let q = PushQuery {
            source: p.take("source")?,
            region: p.take("region")?,
            map: p.take("map")?,
            allow_empty: p.flag("allow_empty")?,
            dry_run: p.flag("dry_run")?,
            force: p.flag("force")?,
        };
        p.finish(&ACCEPTED)?;
        Ok(q)
    }
}

fn bad_request(e: impl ToString) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
}

pub async fn push_file(
    req: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // A push key or the directory key; an unknown key is a new directory (open registration).
    let presented = key.into_inner();
    let (key, registration) = match auth::push_target(&req, &state, &presented).await? {
        PushTarget::Existing(access) => (access.directory, None),
        PushTarget::New(key, registration) => (key, Some(registration)),
    };
    let query = PushQuery::parse(req.query_string())?;
    let region = query
        .region
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(str::parse::<Region>)
        .transpose()
        .map_err(bad_request)?;
    let map = query
        .map
        .as_deref()
        .map(str::parse::<Mapping>)
        .transpose()
        .map_err(bad_request)?;
    let (body, format) = upload::read(&req, payload, state.max_upload_bytes).await?;
    let st = state.clone();
    let k = key.clone();
    let mut result = web::block(move || {
        push::push(
            &st.store,
            &st.limits,
            &PushRequest {
                key: &k,
                source: query.source.as_deref().unwrap_or("push"),
                body: &body,
                format,
                map: map.as_ref(),
                force: query.force,
                region,
                allow_empty: query.allow_empty,
                dry_run: query.dry_run,
            },
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    // Counted against --registration-limit only if a directory was made; any other way out
    // of this function gives the registration back.
    if let Some(r) = registration.filter(|_| !result.dry_run) {
        r.made();
    }
    // The key the caller used; a push key's holder never learns the directory key.
    result.directory = presented;
    tracing::info!(
        directory = %key.masked(),
        source = %result.source,
        contacts = result.contacts,
        warnings = result.report.warnings.len(),
        version = result.version,
        changed = result.changed,
        dry_run = result.dry_run,
        "push"
    );
    Ok(HttpResponse::Ok().json(result))
}
