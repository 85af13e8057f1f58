//! `/contacts/{KEY}…`: the sync.blue URL contract (push, CSV) and every phone's dialect.
//!
//! One module per phone protocol turns its request into a typed `Ask` (which view, which
//! number shape); `conditional::respond` answers it from the book (ETag, 304, the render
//! cache, gzip); the renderers stay pure functions of (contacts, view, shape).

pub(super) mod cisco;
pub(super) mod gigaset;
pub(super) mod lookup;
pub(super) mod search;
pub(super) mod snom;
pub(super) mod whole;
pub(super) mod yealink;

use super::error::resource;
use super::params::Params;
use crate::book::Book;
use crate::domain::search::Query;
use crate::domain::{Contact, DirectorySettings};
use crate::phone::NumberRules;
use crate::push::Limits;
use crate::render::yealink::GroupBy;
use crate::render::{Format, Presenter, RenderError, Rendered, ShapeError, ShapeParams};
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    const READ: &str = "GET, HEAD";
    let push = super::receive::push_file;
    cfg.service(
        web::scope("/contacts/{key}")
            // First: a PBX asks on every call, and each resource before it is tried in turn
            // (`/gigaset/{glued}` with a regex).
            .service(resource("/lookup", READ).route(read().to(lookup::lookup)))
            .service(
                resource("", "GET, HEAD, POST, PUT")
                    .route(read().to(whole::csv))
                    .route(web::post().to(push))
                    .route(web::put().to(push)),
            )
            .service(resource("/yealink/v1", READ).route(read().to(yealink::book)))
            .service(resource("/snom/v1", READ).route(read().to(snom::book)))
            .service(
                resource("/snom/tbook", "GET, HEAD, POST")
                    .route(read().to(whole::snom_tbook))
                    .route(web::post().to(whole::snom_tbook)),
            )
            .service(resource("/snom/dect", READ).route(read().to(whole::snom_dect)))
            .service(resource("/snom/search", READ).route(read().to(search::snom)))
            .service(resource("/gigaset/v1", READ).route(read().to(gigaset::online)))
            // The base's parameters glued to the path, when the URL was set without its `?`.
            .service(resource("/gigaset/{glued:v1.+}", READ).route(read().to(gigaset::online)))
            .service(resource("/gigaset/central", READ).route(read().to(whole::gigaset_central)))
            .service(resource("/cisco/v1", READ).route(read().to(cisco::book)))
            .service(resource("/cisco/search", READ).route(read().to(search::cisco)))
            .service(resource("/grandstream/v1", READ).route(read().to(whole::grandstream)))
            // Grandstream phones append `/phonebook.xml` to the configured server path.
            .service(
                resource("/grandstream/v1/phonebook.xml", READ)
                    .route(read().to(whole::grandstream_xml)),
            )
            .service(resource("/fanvil/v1", READ).route(read().to(whole::fanvil)))
            .service(resource("/fritzbox/v1", READ).route(read().to(whole::fritzbox)))
            .service(resource("/vcard", READ).route(read().to(whole::vcard))),
    );
}

/// GET, and HEAD for clients that check a book before fetching it (actix sends the headers
/// of the GET answer without its body).
fn read() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// The parameters every phone-book URL takes for the number shape.
pub const SHAPE_PARAMS: [&str; 3] = ["numbers", "outside_prefix", "region"];

/// The OpenAPI document's words for the parameters the phone-book URLs share (the handlers
/// read them strictly with `Params`; the tests check each URL takes exactly the documented
/// ones).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct KeyParam {
    /// Any key of the directory; give phones read keys.
    key: String,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ShapeQuery {
    /// How numbers are written: `e164`, `intl00`, `national`, `auto`; else the directory's setting.
    numbers: Option<String>,
    /// Digits for an outside line, put before every external number (`0`).
    outside_prefix: Option<String>,
    /// Country for `national` and `auto` (`DE`).
    region: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchQuery {
    /// Entries where every word starts a word of the name or company, or digits of a number.
    q: Option<String>,
}

/// A phone-book request, parsed: what to show and how to write its numbers.
pub struct Ask {
    pub view: View,
    pub shape: ShapeParams,
}

/// What a phone asked for.
pub enum View {
    /// A whole-book format, optionally narrowed by a search term.
    Whole(Format, Option<Query>),
    /// Yealink's book with one Menu per group.
    YealinkGrouped(GroupBy, Option<Query>),
    /// snom's minibrowser, one screen at a time with soft keys that link back here.
    SnomPage(snom::Screen),
    /// A search page (snom, Cisco), which sends the typed term to the first screen.
    Search(search::SearchPage),
    /// Cisco's directory, one screen at a time with soft keys.
    Cisco(cisco::Screen),
    /// The Gigaset online-directory protocol, which answers its own queries.
    Gigaset(gigaset::Ask),
}

/// Where an answer's numbers come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ShapeSource {
    /// Phone books: the URL, else the directory's `numbers`, `outside_prefix`, `region`.
    Phone,
    /// The CSV, the data contract: E.164 unless its own URL asks otherwise.
    DataContract,
    /// vCard: the URL, else the directory's `address_book_numbers` (E.164 by default).
    AddressBook,
}

impl Ask {
    /// Names the view in ETags and cache keys.
    pub fn tag(&self) -> &'static str {
        match &self.view {
            View::Whole(f, _) => f.name(),
            View::YealinkGrouped(..) => "yealink-grouped",
            View::SnomPage(_) => "snom-page",
            View::Search(s) => s.tag(),
            View::Cisco(_) => "cisco",
            View::Gigaset(_) => "gigaset",
        }
    }

    /// Everything that changes the body, canonical: two requests with the same key get the
    /// same bytes, so unknown or reordered parameters cannot miss the render cache.
    pub fn key(&self) -> String {
        let view = match &self.view {
            View::Whole(_, q) => query_key(q),
            View::YealinkGrouped(by, q) => format!("{by:?}|{}", query_key(q)),
            View::SnomPage(s) => s.key(),
            View::Search(s) => s.key(),
            View::Cisco(s) => s.key(),
            View::Gigaset(g) => g.key(),
        };
        let s = &self.shape;
        format!(
            "{}|{view}|{}|{}|{}",
            self.tag(),
            s.numbers.map_or("", |n| n.name()),
            s.outside_prefix.as_ref().map_or("-", |p| p.as_str()),
            s.region.as_ref().map_or("", |r| r.code())
        )
    }

    fn shape_source(&self) -> ShapeSource {
        match &self.view {
            View::Whole(Format::Csv, _) => ShapeSource::DataContract,
            View::Whole(Format::Vcard3 | Format::Vcard4, _) => ShapeSource::AddressBook,
            _ => ShapeSource::Phone,
        }
    }

    /// How this answer writes numbers: its URL over the directory's settings over the
    /// server's default region.
    pub fn presenter(&self, settings: &DirectorySettings, limits: &Limits) -> Presenter {
        let applied = match self.shape_source() {
            ShapeSource::Phone => settings.clone(),
            ShapeSource::DataContract => DirectorySettings {
                region: settings.region,
                ..Default::default()
            },
            ShapeSource::AddressBook => DirectorySettings {
                region: settings.region,
                numbers: settings.address_book_numbers,
                ..Default::default()
            },
        };
        Presenter::resolve(&self.shape, Some(&applied), limits.default_region)
    }

    /// A URL that asks for a national shape needs a country, from the URL, the directory or
    /// the server: without one the numbers would silently stay E.164. (Settings are checked
    /// when they are made.)
    pub fn check(&self, settings: &DirectorySettings, limits: &Limits) -> Result<(), ShapeError> {
        match self.shape.numbers.filter(|n| n.needs_region()) {
            Some(n) if self.presenter(settings, limits).region.is_none() => {
                Err(ShapeError::NeedsRegion(n.name()))
            }
            _ => Ok(()),
        }
    }

    pub fn render(&self, book: &Book, limits: &Limits) -> Result<Rendered, RenderError> {
        let p = self.presenter(&book.directory.settings, limits);
        let title = book.title();
        match &self.view {
            View::Whole(format, q) => format.render(title, &searched(book, q), &p),
            View::YealinkGrouped(by, q) => {
                crate::render::yealink::grouped(title, &searched(book, q), &p, Some(*by))
            }
            View::SnomPage(s) => s.render(book, &p, &self.shape),
            View::Search(s) => s.render(book, &self.shape),
            View::Cisco(s) => s.render(book, &p, &self.shape),
            View::Gigaset(g) => {
                let rules = NumberRules {
                    region: p.region,
                    max_extension_digits: limits.max_extension_digits,
                };
                g.render(book, &rules, &p)
            }
        }
    }
}

/// The contacts a search term finds, or all of them.
fn searched<'a>(book: &'a Book, q: &Option<Query>) -> Vec<&'a Contact> {
    match q {
        None => book.all(),
        Some(q) => book.search(q),
    }
}

fn query_key(q: &Option<Query>) -> String {
    q.as_ref().map_or_else(String::new, Query::key)
}

/// The search term (`q`) and the shape parameters of a request.
fn common(params: &mut Params) -> Result<(Option<Query>, ShapeParams), super::error::ApiError> {
    let q = params.take("q")?.as_deref().and_then(Query::parse);
    Ok((q, shape(params)?))
}

fn shape(params: &mut Params) -> Result<ShapeParams, super::error::ApiError> {
    let numbers = params.take("numbers")?;
    let outside_prefix = params.take("outside_prefix")?;
    let region = params.take("region")?;
    Ok(ShapeParams::parse(
        numbers.as_deref(),
        outside_prefix.as_deref(),
        region.as_deref(),
    )?)
}

/// The query string that asks for the same shape (and search term) again, for the links
/// a phone follows: `numbers=…&outside_prefix=…&region=…&q=…&`, each part only if given.
fn link_params(shape: &ShapeParams, q: Option<&Query>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = shape.numbers {
        s.append_pair("numbers", n.name());
    }
    if let Some(p) = &shape.outside_prefix {
        s.append_pair("outside_prefix", p.as_str());
    }
    if let Some(r) = &shape.region {
        s.append_pair("region", r.code());
    }
    if let Some(q) = q {
        s.append_pair("q", q.words());
    }
    let mut out = s.finish();
    if !out.is_empty() {
        out.push('&');
    }
    out
}

/// `…/v1` ↔ `…/search`: the URL of a directory's other page (snom, Cisco).
fn sibling(here: &str, last: &str) -> String {
    match here.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{last}"),
        None => here.to_owned(),
    }
}

/// `scheme://host` of this request: soft-key links must be absolute, since phones follow
/// them as given.
fn origin(req: &actix_web::HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}
