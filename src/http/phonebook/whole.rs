//! Whole-book formats: the CSV contract, snom tbook and DECT, Gigaset's central book,
//! Grandstream, Fanvil, Fritz!Box and vCard. Their only options are a search term (`q`)
//! and the number shape; vCard also takes its `version`.

use super::{common, Ask, View, SHAPE_PARAMS};
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::{KeyParam, SearchQuery, ShapeQuery};
use crate::http::conditional::respond;
use crate::http::error::ApiError;
#[allow(unused_imports)]
use crate::http::error::ErrorBody;
use crate::http::params::Params;
use crate::http::AppState;
use crate::render::Format;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

const ACCEPTED: [&str; 4] = ["q", SHAPE_PARAMS[0], SHAPE_PARAMS[1], SHAPE_PARAMS[2]];

async fn whole(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let (q, shape) = common(&mut params)?;
    params.finish(&ACCEPTED)?;
    let ask = Ask {
        view: View::Whole(format, q),
        shape,
    };
    respond(&req, &state, &key, ask).await
}

macro_rules! handlers {
    ($($(#[$doc:meta])* $name:ident => $format:expr),* $(,)?) => {$(
        $(#[$doc])*
        pub async fn $name(
            req: HttpRequest,
            key: web::Path<String>,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            whole(req, key, state, $format).await
        }
    )*};
}

handlers! {
    /// The sync.blue CSV contract: `internal_id,display_name,family_name,given_name,phone,email`.
    #[utoipa::path(method(get, head), path = "/contacts/{key}", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/csv"),
            (status = 304, description = "Not modified (If-None-Match)"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
    csv => Format::Csv,
    /// snom "Remote XML Directory": tbook 2.0, `complete="true"`.
    #[utoipa::path(method(get, head, post), path = "/contacts/{key}/snom/tbook", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    snom_tbook => Format::SnomTbook,
    /// snom M300/M700/M900 DECT: `IPPhoneDirectory` with `Telephone`/`Office`/`Mobile`.
    #[utoipa::path(method(get, head), path = "/contacts/{key}/snom/dect", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    snom_dect => Format::SnomDect,
    /// Gigaset N610/N670/N870 central phone book (2000 entries, names cut to 32 characters).
    #[utoipa::path(method(get, head), path = "/contacts/{key}/gigaset/central", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    gigaset_central => Format::GigasetCentral,
    /// Grandstream `AddressBook`.
    #[utoipa::path(method(get, head), path = "/contacts/{key}/grandstream/v1", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    grandstream => Format::Grandstream,
    /// Grandstream `AddressBook` where the phones look for it: they append `/phonebook.xml`
    /// to the configured server path.
    #[utoipa::path(method(get, head), path = "/contacts/{key}/grandstream/v1/phonebook.xml", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    grandstream_xml => Format::Grandstream,
    /// Fanvil `FanvilIPPhoneDirectory`.
    #[utoipa::path(method(get, head), path = "/contacts/{key}/fanvil/v1", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    fanvil => Format::Fanvil,
    /// AVM Fritz!Box `phonebooks` import file (2000 contacts, 9 numbers each).
    #[utoipa::path(method(get, head), path = "/contacts/{key}/fritzbox/v1", tag = "phone books",
        params(KeyParam, SearchQuery, ShapeQuery),
        responses((status = 200, body = String, content_type = "text/xml"),
            (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
    fritzbox => Format::FritzBox,
}

/// Every contact as one `.vcf`: `?version=3.0` (the default) or `4.0`.
#[utoipa::path(method(get, head), path = "/contacts/{key}/vcard", tag = "phone books",
    params(KeyParam, SearchQuery, ShapeQuery,
        ("version" = Option<String>, Query, description = "`3.0` (default) or `4.0`")),
    responses((status = 200, body = String, content_type = "text/vcard"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn vcard(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let format = match params.take("version")?.as_deref().map(str::trim) {
        None | Some("" | "3" | "3.0") => Format::Vcard3,
        Some("4" | "4.0") => Format::Vcard4,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("version is `{other}`; use 3.0 or 4.0"),
            ))
        }
    };
    let (q, shape) = common(&mut params)?;
    let mut accepted = ACCEPTED.to_vec();
    accepted.push("version");
    params.finish(&accepted)?;
    let ask = Ask {
        view: View::Whole(format, q),
        shape,
    };
    respond(&req, &state, &key, ask).await
}
