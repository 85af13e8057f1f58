//! `POST`/`PUT /contacts/{KEY}`: a file (form, raw CSV or JSON) replaces one source.

use super::error::{ApiError, ErrorBody};
use super::params::Params;
use super::{auth, upload, AppState, UploadSlot};
use crate::access::{PushTarget, Registration};
use crate::domain::ApiKey;
use crate::ingest::Mapping;
use crate::phone::Region;
use crate::push::{self, PushRequest};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// What a push's URL may carry.
const ACCEPTED: [&str; 6] = ["source", "region", "map", "allow_empty", "dry_run", "force"];

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PushQuery {
    /// The source this file replaces (default `push`); other sources stay.
    source: Option<String>,
    /// Country for national numbers (`DE`); else the directory's, else the server's.
    region: Option<String>,
    /// Explicit columns: `display_name:Kontakt,phone.work:Rufnummer`.
    map: Option<String>,
    /// Store a file with no usable contact (it empties the source).
    #[param(value_type = Option<bool>)]
    allow_empty: bool,
    /// Read and report, store nothing.
    #[param(value_type = Option<bool>)]
    dry_run: bool,
    /// Store even if the shrink guard would refuse.
    #[param(value_type = Option<bool>)]
    force: bool,
}

/// A push as a form, what `curl -F file=@contacts.csv` sends.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PushForm {
    /// The file: CSV (any layout the README lists), or JSON when its name ends in `.json`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
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
    /// The directory key, whichever key the push came with.
    key: ApiKey,
    /// For a push that creates its directory: counted against `--registration-limit` only
    /// if the directory is made (see `Registration::made`).
    registration: Option<Registration>,
    /// One of the `--max-uploads` slots, given back when the push ends.
    _slot: UploadSlot,
}

/// Everything decided before a byte of the body is read, in one place: the key (a push key
/// or the directory key; an unknown one is a new directory under open registration, within
/// the address's registration limit), the free-disk floor, and a slot among the concurrent
/// uploads. A refused push costs its headers only.
async fn admit(
    req: &HttpRequest,
    presented: &str,
    state: &web::Data<AppState>,
) -> Result<Admitted, ApiError> {
    let (key, registration) = match auth::push_target(req, state, presented).await? {
        PushTarget::Existing(access) => (access.directory, None),
        PushTarget::New(key, registration) => (key, Some(registration)),
    };
    let st = state.clone();
    web::block(move || st.store.check_free_space())
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let slot = state.uploads.take().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is receiving as many uploads as it takes at once (--max-uploads); try again in a moment",
        )
    })?;
    Ok(Admitted {
        key,
        registration,
        _slot: slot,
    })
}

/// Replaces one source of the directory with the file's contacts, or (open registration)
/// creates the directory; answers what was understood, with every row-level problem.
#[utoipa::path(method(post, put), path = "/contacts/{key}", tag = "push",
    params(("key" = String, Path, description = "A push key or the directory key"), PushQuery),
    request_body(content(
        (PushForm = "multipart/form-data"),
        (String = "text/csv"),
        (Vec<crate::domain::Contact> = "application/json"),
    )),
    responses(
        (status = 200, body = crate::push::PushResult),
        (status = 400, body = ErrorBody, description = "A malformed key, parameter or form"),
        (status = 403, body = ErrorBody, description = "A read key, or open registration is off"),
        (status = 409, body = ErrorBody, description = "Refused by the shrink guard"),
        (status = 413, body = ErrorBody, description = "Too large, or too many rows"),
        (status = 415, body = ErrorBody, description = "Not a form, CSV or JSON"),
        (status = 422, body = ErrorBody, description = "Not a contact list, or no usable contact; `details` has the lines"),
        (status = 429, body = ErrorBody, description = "Too many wrong keys or new directories from this address"),
    ))]
pub async fn push_file(
    req: HttpRequest,
    key: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let presented = key.into_inner();
    let mut admitted = admit(&req, &presented, &state).await?;
    let query = PushQuery::parse(req.query_string())?;
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
    let mut result = crate::jobs::in_background(move || {
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
    // Counted against --registration-limit only if a directory was made; any other way out
    // of this function gives the registration back.
    if let Some(r) = admitted.registration.take().filter(|_| !result.dry_run) {
        r.made();
    }
    drop(admitted);
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
