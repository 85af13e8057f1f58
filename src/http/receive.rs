//! `POST`/`PUT /contacts/{KEY}`: a file (form, raw CSV or JSON) replaces one source.

use super::error::ApiError;
use super::params::Params;
use super::{upload, AppState, UploadSlot};
use crate::domain::ApiKey;
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

/// A push allowed to send its body.
struct Admitted {
    key: ApiKey,
    /// One of the `--max-uploads` slots, given back when the push ends.
    _slot: UploadSlot,
}

/// Everything decided before a byte of the body is read, in one place: the key, the
/// directory (an unknown one is refused under `--no-open-registration`), the free-disk floor,
/// and a slot among the concurrent uploads. A refused push costs its headers only.
async fn admit(
    _req: &HttpRequest,
    key: &str,
    state: &web::Data<AppState>,
) -> Result<Admitted, ApiError> {
    let key = ApiKey::parse(key)?;
    let (st, k) = (state.clone(), key.clone());
    web::block(move || -> Result<(), ApiError> {
        if st.store.version(&k)?.is_none() && !st.limits.open_registration {
            return Err(ApiError::unknown_directory());
        }
        st.store.check_free_space()?;
        Ok(())
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let slot = state.uploads.take().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is receiving as many uploads as it takes at once (--max-uploads); try again in a moment",
        )
    })?;
    Ok(Admitted { key, _slot: slot })
}

pub async fn push_file(
    req: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = PushQuery::parse(req.query_string())?;
    let admitted = admit(&req, &key, &state).await?;
    let key = admitted.key.clone();
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
    let (body, format) = upload::read(&req, payload, &state.upload).await?;
    let st = state.clone();
    let k = key.clone();
    // Reading a big file is seconds of CPU: on a thread of its own at a lower priority (one
    // per upload slot, so bounded by --max-uploads), phones' reads go first.
    let result = crate::jobs::in_background(move || {
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
    .ok_or_else(|| ApiError::internal(&"the push's thread ended without an answer"))??;
    drop(admitted);
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
