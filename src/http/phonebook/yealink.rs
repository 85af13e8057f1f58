//! Yealink: `YealinkIPPhoneBook` (Menu/Unit), `?style=directory` for `YealinkIPPhoneDirectory`,
//! `?group_by=group|company|source` for one Menu per folder, `?q=#SEARCH` to search.

use super::{common, Ask, View, SHAPE_PARAMS};
use crate::http::conditional::respond;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::render::yealink::GroupBy;
use crate::render::Format;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

const ACCEPTED: [&str; 6] = [
    "q",
    "style",
    "group_by",
    SHAPE_PARAMS[0],
    SHAPE_PARAMS[1],
    SHAPE_PARAMS[2],
];

/// `YealinkIPPhoneBook` (Menu/Unit, up to 3 numbers per Unit), or with `style=directory`
/// `YealinkIPPhoneDirectory`.
#[utoipa::path(method(get, head), path = "/contacts/{key}/yealink/v1", operation_id = "yealink", tag = "phone books",
    params(super::KeyParam, super::SearchQuery,
        ("style" = Option<String>, Query, description = "`book` (default) or `directory`"),
        ("group_by" = Option<String>, Query, description = "One Menu per `group`, `company` or `source`"),
        super::ShapeQuery),
    responses((status = 200, body = String, content_type = "text/xml"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn book(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let (q, shape) = common(&mut params)?;
    let directory_style = match params.take("style")?.as_deref().map(str::trim) {
        None | Some("" | "book") => false,
        Some("directory") => true,
        Some(other) => return Err(bad(format!("style is `{other}`; use book or directory"))),
    };
    let group_by = match params.take("group_by")?.filter(|g| !g.trim().is_empty()) {
        None => None,
        Some(g) => Some(
            GroupBy::from_name(&g)
                .ok_or_else(|| bad(format!("group_by is `{g}`; use group, company or source")))?,
        ),
    };
    params.finish(&ACCEPTED)?;
    let view = match (directory_style, group_by) {
        (true, Some(_)) => return Err(bad(
            "group_by makes Menus of the Menu/Unit book; style=directory has none: use one of them",
        )),
        (true, None) => View::Whole(Format::YealinkDirectory, q),
        (false, Some(by)) => View::YealinkGrouped(by, q),
        (false, None) => View::Whole(Format::Yealink, q),
    };
    respond(&req, &state, &key, Ask { view, shape }).await
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, m)
}
