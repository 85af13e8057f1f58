//! Search pages for phones whose directory has no search box of its own: snom's
//! `SnomIPPhoneInput` (`/snom/search`) and Cisco's `CiscoIPPhoneInput` (`/cisco/search`). The
//! phone asks for a name or number and opens the first screen of the directory with it,
//! keeping the number-shape parameters the page was called with.

use super::{link_params, origin, shape, sibling, Ask, View, SHAPE_PARAMS};
use crate::book::Book;
use crate::http::conditional::respond;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::render::{cisco, snom, RenderError, Rendered, ShapeParams};
use actix_web::{web, HttpRequest, HttpResponse};

/// Whose search page.
#[derive(Clone, Copy, Debug)]
pub enum Phone {
    Snom,
    Cisco,
}

pub struct SearchPage {
    phone: Phone,
    /// The absolute URL of the search page as the phone called it.
    here: String,
}

/// The snom minibrowser's search page, which sends the typed term to the first screen.
#[utoipa::path(method(get, head), path = "/contacts/{key}/snom/search", operation_id = "snom_search", tag = "phone books",
    params(super::KeyParam, super::ShapeQuery),
    responses((status = 200, body = String, content_type = "text/xml"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn snom(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    page(req, key, state, Phone::Snom).await
}

/// The Cisco search page (`CiscoIPPhoneInput`), which sends the typed term to the first
/// screen of `/cisco/v1`.
#[utoipa::path(method(get, head), path = "/contacts/{key}/cisco/search", operation_id = "cisco_search", tag = "phone books",
    params(super::KeyParam, super::ShapeQuery),
    responses((status = 200, body = String, content_type = "text/xml"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn cisco(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    page(req, key, state, Phone::Cisco).await
}

async fn page(
    req: HttpRequest,
    key: web::Path<String>,
    state: web::Data<AppState>,
    phone: Phone,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let shape = shape(&mut params)?;
    params.finish(&SHAPE_PARAMS)?;
    let view = View::Search(SearchPage {
        phone,
        here: format!("{}{}", origin(&req), req.path()),
    });
    respond(&req, &state, &key, Ask { view, shape }).await
}

impl SearchPage {
    pub fn tag(&self) -> &'static str {
        match self.phone {
            Phone::Snom => "snom-search",
            Phone::Cisco => "cisco-search",
        }
    }

    pub fn key(&self) -> String {
        self.here.clone()
    }

    pub fn render(&self, book: &Book, shape: &ShapeParams) -> Result<Rendered, RenderError> {
        let first = format!(
            "{}?{}page=1",
            sibling(&self.here, "v1"),
            link_params(shape, None)
        );
        match self.phone {
            // snom puts what was typed in place of the token.
            Phone::Snom => snom::search_page(book.title(), &format!("{first}&q=__Q__")),
            // Cisco adds `&q=…` itself.
            Phone::Cisco => cisco::search_page(book.title(), &first),
        }
    }
}
