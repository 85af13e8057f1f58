//! Keys and directories over the network: `POST /api/v1/directories` makes a directory with a
//! key the server chooses; `…/{KEY}/keys` makes, lists and revokes the read and push keys
//! that phones and scripts get instead of the directory key. All but the first take
//! `Authorized` (the directory key).

use super::auth::{self, Authorized};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::domain::{ApiKey, Scope};
use crate::sources::rfc3339;
use crate::store::{KeyInfo, KeyRef};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// Longest label of a key (where the phone stands, what the script does).
const MAX_LABEL: usize = 100;

pub fn directory_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/directories", web::post().to(create_directory));
}

/// Under `/api/v1/directories/{key}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/keys", web::post().to(create))
        .route("/keys", web::get().to(list))
        .route("/keys/{other}", web::delete().to(revoke));
}

/// The answer to `POST /api/v1/directories`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewDirectory {
    /// The new directory key: the one time it is shown.
    key: String,
    /// Always `directory`.
    scope: &'static str,
    message: &'static str,
    /// Where to push files.
    push: String,
    /// Where to make read and push keys.
    keys: String,
    /// Where to set the name and region.
    settings: String,
}

/// A new directory, its key chosen by the server. Counts against the address's
/// `--registration-limit`; refused without open registration.
#[utoipa::path(post, path = "/api/v1/directories", tag = "keys",
    responses(
        (status = 201, body = NewDirectory),
        (status = 400, body = ErrorBody, description = "A body or parameters were sent"),
        (status = 403, body = ErrorBody, description = "The server does not create directories on request"),
        (status = 429, body = ErrorBody, description = "This address created too many directories lately"),
    ))]
async fn create_directory(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let text = std::str::from_utf8(&body).unwrap_or("?").trim();
    if !(text.is_empty() || text == "{}") || !req.query_string().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "send no body: the server chooses the key; set the name and region afterwards with PUT …/settings",
        ));
    }
    let client = auth::client(&req);
    let key = crate::secret::new_api_key().map_err(|e| ApiError::internal(&e))?;
    let registration = state.gate.may_register(client, &key)?;
    let st = state.clone();
    let k = key.clone();
    web::block(move || st.store.create_directory(&k))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    registration.made();
    tracing::info!(directory = %key.masked(), "directory created");
    let base = format!("/api/v1/directories/{key}");
    Ok(HttpResponse::Created()
        .insert_header(("Location", base.clone()))
        .json(NewDirectory {
            key: key.as_str().to_owned(),
            scope: Scope::Admin.as_str(),
            message: "keep this key to yourself: it manages the directory. Give phones read keys (POST …/keys with {\"scope\": \"read\"}) and scripts push keys",
            push: format!("/contacts/{key}"),
            keys: format!("{base}/keys"),
            settings: format!("{base}/settings"),
        }))
}

/// A key to make.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// `read` (phones, address books) or `push` (scripts that push files).
    scope: String,
    /// Where the phone stands, what the script does (up to 100 characters).
    #[serde(default)]
    label: String,
}

/// A read or push key as listings show it; `key` is the whole key only in the answer that
/// made it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: i64,
    /// `pQ7x**********` in listings; the whole key once, when it is made.
    pub key: String,
    pub scope: &'static str,
    pub label: String,
    pub created: String,
    pub last_used: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Makes a read or push key; the answer is the only time it is shown.
#[utoipa::path(post, path = "/api/v1/directories/{key}/keys", operation_id = "create_key", tag = "keys",
    params(("key" = String, Path, description = "The directory key")),
    request_body = NewKey,
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 201, body = KeyView, description = "The new key, shown this once"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The directory holds as many keys as it may"),
        (status = 422, body = ErrorBody, description = "Another scope, or a label that is too long"),
    ))]
async fn create(
    auth: Authorized,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let new: NewKey = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("send {{\"scope\": \"read\" or \"push\", \"label\": \"…\"}}: {e}"),
        )
    })?;
    let scope = match Scope::from_name(new.scope.trim()) {
        Some(s @ (Scope::Read | Scope::Push)) => s,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "scope is `{}`; use read (phones, address books) or push (scripts that push files); a directory has one directory key",
                    new.scope
                ),
            ))
        }
    };
    let label = new.label.trim().to_owned();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("label is up to {MAX_LABEL} characters of text on one line"),
        ));
    }
    let st = state.clone();
    let (key, info) = web::block(move || st.store.create_key(&auth.0, scope, &label))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    tracing::info!(key = %key.masked(), scope = %scope, "key created");
    let mut v = key_view(&info);
    v.key = key.as_str().to_owned();
    Ok(HttpResponse::Created().json(v))
}

/// The directory's read and push keys, masked.
#[utoipa::path(get, path = "/api/v1/directories/{key}/keys", operation_id = "list_keys", tag = "keys",
    params(("key" = String, Path, description = "The directory key")),
    security(("directory_key" = []), ("apikey" = [])),
    responses((status = 200, body = KeyList), (status = 403, body = ErrorBody)))]
async fn list(auth: Authorized, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let keys = web::block(move || st.store.keys(&auth.0))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let keys = keys.iter().map(key_view).collect();
    Ok(HttpResponse::Ok().json(KeyList { keys }))
}

/// Revokes a read or push key at once. `{other}` is the key itself or its `id` from the
/// listing.
#[utoipa::path(delete, path = "/api/v1/directories/{key}/keys/{other}", operation_id = "revoke_key", tag = "keys",
    params(("key" = String, Path, description = "The directory key"),
        ("other" = String, Path, description = "The key to revoke, or its id from the listing")),
    security(("directory_key" = []), ("apikey" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "The directory has no such key"),
        (status = 422, body = ErrorBody, description = "The directory key cannot be revoked"),
    ))]
async fn revoke(
    auth: Authorized,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let other = req.match_info().get("other").unwrap_or("");
    let which = match (ApiKey::parse(other), other.parse::<i64>()) {
        (Ok(k), _) => KeyRef::Key(k),
        (_, Ok(id)) => KeyRef::Id(id),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "name the key to revoke by the key itself or by its id from GET …/keys",
            ))
        }
    };
    let st = state.clone();
    let gone = web::block(move || st.store.revoke_key(&auth.0, &which))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    if gone {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this directory has no such key; GET …/keys lists its keys",
        ))
    }
}

pub fn key_view(k: &KeyInfo) -> KeyView {
    KeyView {
        id: k.id,
        key: format!("{}**********", k.hint),
        scope: k.scope.as_str(),
        label: k.label.clone(),
        created: k.created.clone(),
        last_used: k.last_used.map(rfc3339),
    }
}
