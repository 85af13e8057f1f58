//! The add and edit forms of pulled sources and of targets: a name and settings as the API
//! takes them (JSON, `********` keeps a stored secret), put through the function the API's
//! `PUT` uses, so the rules are the same.

use super::{Rejected, Signed};
use crate::domain::ApiKey;
use crate::http::error::ApiError;
use crate::http::AppState;
use actix_web::http::StatusCode;
use actix_web::web;

/// Sources or targets, as the forms see them.
pub trait Named: 'static {
    /// `source` or `target`, for the sentences.
    const WHAT: &'static str;
    fn exists(st: &AppState, key: &ApiKey, name: &str) -> Result<bool, ApiError>;
    /// Creates or replaces it, as the API's `PUT`.
    fn put(st: &AppState, key: &ApiKey, name: &str, settings: &[u8]) -> Result<(), ApiError>;
}

/// Whether the form adds (a name in use is refused: the API's `PUT` would replace it) or
/// edits (a name no longer in use, deleted meanwhile, is not made again).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Add,
    Edit,
}

/// Puts the settings; `Ok(Err(e))` is a refusal the form shows with what was typed, `Err`
/// a page of its own (an edited one that is gone: 404).
pub async fn put<T: Named>(
    state: &web::Data<AppState>,
    me: &Signed,
    form: Form,
    name: &str,
    settings: &str,
) -> Result<Result<(), ApiError>, Rejected> {
    let (st, key, n, s) = (
        state.clone(),
        me.access.directory.clone(),
        name.to_owned(),
        settings.to_owned(),
    );
    let done = web::block(move || {
        match (form, T::exists(&st, &key, &n)?) {
            (Form::Add, true) => {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "a {} `{n}` exists already; edit it, or choose another name",
                        T::WHAT
                    ),
                )))
            }
            (Form::Edit, false) => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("there is no {} `{n}` (any more)", T::WHAT),
                ))
            }
            _ => {}
        }
        Ok(T::put(&st, &key, &n, s.as_bytes()))
    })
    .await??;
    Ok(done)
}
