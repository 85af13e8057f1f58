//! snom: the minibrowser directory (`SnomIPPhoneDirectory`; the whole book, or screens of 20
//! with `?page=` and Search/Previous/Next soft keys; the search page is in `search`).

use super::{common, link_params, origin, searched, sibling, Ask, View, SHAPE_PARAMS};
use crate::book::Book;
use crate::domain::search::Query;
use crate::http::conditional::respond;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::AppState;
use crate::render::paging::PageRequest;
use crate::render::{snom, Format, Presenter, RenderError, Rendered, ShapeParams};
use actix_web::{web, HttpRequest, HttpResponse};

const ACCEPTED: [&str; 5] = [
    "q",
    "page",
    SHAPE_PARAMS[0],
    SHAPE_PARAMS[1],
    SHAPE_PARAMS[2],
];

/// `SnomIPPhoneDirectory`, one entry per number; with `page` screens of 20 with soft keys.
#[utoipa::path(method(get, head), path = "/contacts/{key}/snom/v1", operation_id = "snom", tag = "phone books",
    params(super::KeyParam, super::SearchQuery,
        ("page" = Option<usize>, Query, description = "A screen of 20 with Search/Previous/Next soft keys, from 1"),
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
    let page = params.positive("page")?;
    params.finish(&ACCEPTED)?;
    // Without `page` the whole book, as snom phones and the contract have always had it.
    let view = match page {
        None => View::Whole(Format::Snom, q),
        Some(page) => View::SnomPage(Screen {
            q,
            page,
            here: format!("{}{}", origin(&req), req.path()),
        }),
    };
    respond(&req, &state, &key, Ask { view, shape }).await
}

/// One screen of the minibrowser directory.
pub struct Screen {
    q: Option<Query>,
    page: usize,
    /// The absolute URL of `/snom/v1` as the phone called it, for the soft keys.
    here: String,
}

impl Screen {
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.here,
            self.page,
            self.q.as_ref().map_or_else(String::new, Query::key)
        )
    }

    pub fn render(
        &self,
        book: &Book,
        p: &Presenter,
        shape: &ShapeParams,
    ) -> Result<Rendered, RenderError> {
        let hits = searched(book, &self.q);
        let again = link_params(shape, self.q.as_ref());
        let link = |n: usize| format!("{}?{again}page={n}", self.here);
        let search = format!(
            "{}?{}",
            sibling(&self.here, "search"),
            link_params(shape, None)
        );
        let search = search.trim_end_matches(['&', '?']).to_owned();
        snom::directory_page(
            book.title(),
            &hits,
            p,
            &PageRequest {
                page: self.page,
                link: &link,
            },
            search,
        )
    }
}
