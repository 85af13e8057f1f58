//! Whole-book formats: the CSV contract, snom tbook and DECT, Gigaset's central book,
//! Grandstream, Fanvil, Fritz!Box and vCard. Their only options are a search term (`q`)
//! and the number shape; vCard also takes its `version`.

use super::{common, Ask, View, SHAPE_PARAMS};
use crate::http::conditional::respond;
use crate::http::error::ApiError;
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
    ($($name:ident => $format:expr),* $(,)?) => {$(
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
    csv => Format::Csv,
    snom_tbook => Format::SnomTbook,
    snom_dect => Format::SnomDect,
    gigaset_central => Format::GigasetCentral,
    grandstream => Format::Grandstream,
    fanvil => Format::Fanvil,
    fritzbox => Format::FritzBox,
}

/// `?version=3.0` (the default) or `4.0`.
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
