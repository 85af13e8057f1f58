//! Keys and directories over the network: `POST /api/v1/directories` makes a directory with a
//! key the server chooses; `…/{KEY}/keys` makes, lists and revokes the read and push keys
//! that phones and scripts get instead of the directory key. All but the first take
//! `Authorized` (the directory key).

use super::auth::{self, Authorized};
use super::error::ApiError;
use super::AppState;
use crate::domain::{ApiKey, Scope};
use crate::sources::rfc3339;
use crate::store::{KeyInfo, KeyRef};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

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

/// A new directory, its key chosen by the server. Counts against the address's
/// `--registration-limit`; refused without open registration.
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
        .json(json!({
            "key": key.as_str(),
            "scope": Scope::Admin.as_str(),
            "message": "keep this key to yourself: it manages the directory. Give phones read keys (POST …/keys with {\"scope\": \"read\"}) and scripts push keys",
            "push": format!("/contacts/{key}"),
            "keys": format!("{base}/keys"),
            "settings": format!("{base}/settings"),
        })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    scope: String,
    #[serde(default)]
    label: String,
}

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
    let mut v = key_json(&info);
    v["key"] = key.as_str().into();
    Ok(HttpResponse::Created().json(v))
}

async fn list(auth: Authorized, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let keys = web::block(move || st.store.keys(&auth.0))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let list: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "keys": list })))
}

/// `{other}` is the key itself or its `id` from the listing.
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

fn key_json(k: &KeyInfo) -> Value {
    json!({
        "id": k.id,
        "key": format!("{}**********", k.hint),
        "scope": k.scope.as_str(),
        "label": k.label,
        "created": k.created,
        "last_used": k.last_used.map(rfc3339),
    })
}
