//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, derived by utoipa from the handlers'
//! own annotations and types (each `#[utoipa::path]` sits on its handler, each schema is the
//! type the handler answers with), and the interactive explorer at `/api/docs` (vendored
//! swagger-ui, see assets/swagger-ui/README.md).

use super::assets;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::LazyLock;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "phonedir",
        description = "An online contact directory server for IP phones and PBXs. Phone books and the caller-ID lookup take any key of a directory in the path (give phones read keys); pushes a push key or the directory key; the management API (`/api/v1/directories/{key}…`) only the directory key, as `Authorization: Bearer KEY` or `?apikey=KEY`. Every error is JSON `{\"error\", \"details\"}` (the lookup with `format=text` and the Gigaset protocol answer in their own way).",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        super::healthz,
        super::metrics::metrics,
        openapi_json,
        super::keys::create_directory,
        super::api::status,
        super::api::get_settings,
        super::api::put_settings,
        super::api::changes,
        super::keys::create,
        super::keys::list,
        super::keys::revoke,
        super::sources::list,
        super::sources::get,
        super::sources::put,
        super::sources::delete,
        super::sources::sync,
        super::targets::list,
        super::targets::get,
        super::targets::put,
        super::targets::delete,
        super::targets::sync,
        super::receive::push_file,
        super::phonebook::whole::csv,
        super::phonebook::yealink::book,
        super::phonebook::snom::book,
        super::phonebook::search::snom,
        super::phonebook::search::cisco,
        super::phonebook::whole::snom_tbook,
        super::phonebook::whole::snom_dect,
        super::phonebook::gigaset::online,
        super::phonebook::whole::gigaset_central,
        super::phonebook::cisco::book,
        super::phonebook::whole::grandstream,
        super::phonebook::whole::grandstream_xml,
        super::phonebook::whole::fanvil,
        super::phonebook::whole::fritzbox,
        super::phonebook::whole::vcard,
        super::phonebook::lookup::lookup,
    ),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Security, &UniqueOperations),
    tags(
        (name = "push", description = "Files in: CSV or JSON replaces one source"),
        (name = "phone books", description = "The book in each phone's format"),
        (name = "lookup", description = "Caller-ID lookup for PBXs"),
        (name = "directories", description = "Status, settings and the change log (directory key)"),
        (name = "keys", description = "New directories; read and push keys (directory key)"),
        (name = "sources", description = "Pulled sources (directory key)"),
        (name = "targets", description = "PBX contact stores the book is written into (directory key)"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The management API's two ways of sending the directory key.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "directory_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The directory key as `Authorization: Bearer KEY`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apikey",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "apikey",
                "The directory key as `?apikey=KEY` (the EasyConnect convention)",
            ))),
        );
    }
}

/// One handler that answers several methods (`GET` and `HEAD`, `POST` and `PUT`) is one
/// annotation, and utoipa gives each method the handler's name as `operationId`; OpenAPI
/// wants them unique, so all but the first get their method appended (`push_file_put`).
struct UniqueOperations;

impl Modify for UniqueOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::HashSet::new();
        for item in openapi.paths.paths.values_mut() {
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
                ("head", &mut item.head),
                ("options", &mut item.options),
                ("patch", &mut item.patch),
                ("trace", &mut item.trace),
            ] {
                if let Some(op) = op.as_mut() {
                    let id = op.operation_id.clone().unwrap_or_default();
                    if !seen.insert(id.clone()) {
                        let unique = format!("{id}_{method}");
                        seen.insert(unique.clone());
                        op.operation_id = Some(unique);
                    }
                }
            }
        }
    }
}

/// The document, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| {
        format!("{{\"error\": \"the OpenAPI document cannot be written: {e}\"}}")
    })
});

pub fn document() -> &'static str {
    &DOCUMENT
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/openapi.json", web::get().to(openapi_json))
        .route("/api/docs", web::get().to(explorer))
        // swagger-ui's bundle is 1.5 MB; gzipped a third of that.
        .service(
            web::resource("/api/docs/{file}")
                .wrap(actix_web::middleware::Compress::default())
                .route(web::get().to(docs_asset)),
        );
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(document())
}

/// What the explorer's page may load: its own script and style sheet, and requests to this
/// server; swagger-ui sets inline styles and data: images of its own.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

const EXPLORER: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>phonedir API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<noscript><p>The explorer needs JavaScript; the document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/api-docs.js"></script>
</body>
</html>
"#;

async fn explorer() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(EXPLORER)
}

async fn docs_asset(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("file").unwrap_or("");
    assets::serve(assets::DOCS, name)
}

// Schemas of the domain's own string types, which serialize as plain strings.

fn string(description: &str, pattern: Option<&str>) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description));
    if let Some(p) = pattern {
        b = b.pattern(Some(p));
    }
    let o: Object = b.build();
    RefOr::T(Schema::Object(o))
}

impl PartialSchema for crate::domain::ContactId {
    fn schema() -> RefOr<Schema> {
        string(
            "A contact's stable id: 16 hex digits",
            Some("^[0-9a-f]{16}$"),
        )
    }
}
impl ToSchema for crate::domain::ContactId {}

impl PartialSchema for crate::phone::Region {
    fn schema() -> RefOr<Schema> {
        string("A country as ISO 3166 code (`DE`)", Some("^[A-Za-z]{2}$"))
    }
}
impl ToSchema for crate::phone::Region {}

impl PartialSchema for crate::domain::Shape {
    fn schema() -> RefOr<Schema> {
        let o: Object = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("How numbers are written"))
            .enum_values(Some(crate::domain::Shape::NAMES))
            .build();
        RefOr::T(Schema::Object(o))
    }
}
impl ToSchema for crate::domain::Shape {}

impl PartialSchema for crate::domain::OutsidePrefix {
    fn schema() -> RefOr<Schema> {
        string(
            "Digits a PBX needs for an outside line (`0`)",
            Some("^[0-9]{0,4}$"),
        )
    }
}
impl ToSchema for crate::domain::OutsidePrefix {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every route pattern of the app, with its scopes' prefixes, read from the app's own
    /// route table (actix's resource map, which has no listing but prints as a tree).
    fn route_table(map: &actix_web::dev::ResourceMap) -> Vec<String> {
        let text = format!("{map:?}");
        // Each node prints as `ResourceMap { pattern: ResourceDef { … patterns: Single("…") …`
        // and its children inside `nodes: Some([…])`; walk the brackets to join prefixes.
        let mut out = Vec::new();
        let mut stack: Vec<(usize, String)> = Vec::new();
        let mut depth = 0usize;
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut last_leaf: Option<String> = None;
        while i < bytes.len() {
            if text[i..].starts_with("patterns: Single(\"") {
                let start = i + "patterns: Single(\"".len();
                let end = start + text[start..].find('"').unwrap_or(0);
                let pat = &text[start..end];
                let prefix = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
                last_leaf = Some(format!("{prefix}{pat}"));
                i = end;
                continue;
            }
            if text[i..].starts_with("nodes: Some([") {
                depth += 1;
                let full = last_leaf.take().unwrap_or_default();
                stack.push((depth, full));
                i += "nodes: Some([".len();
                continue;
            }
            if text[i..].starts_with("nodes: None") {
                if let Some(l) = last_leaf.take() {
                    out.push(l);
                }
                i += "nodes: None".len();
                continue;
            }
            match bytes[i] {
                b'[' => depth += 1,
                b']' => {
                    if stack.last().is_some_and(|(d, _)| *d == depth) {
                        stack.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            i += 1;
        }
        out
    }

    #[actix_web::test]
    async fn the_document_lists_every_route_the_app_answers() {
        // The app's own route table, mounted as `app` mounts it.
        let svc = actix_web::test::init_service(
            actix_web::App::new().configure(|c| crate::http::routes(c, false)),
        )
        .await;
        let req = actix_web::test::TestRequest::get()
            .uri("/no/such/route")
            .to_request();
        let resp = actix_web::test::call_service(&svc, req).await;
        let routes: BTreeSet<String> = route_table(resp.request().resource_map())
            .into_iter()
            .collect();
        // The table is read right: known routes of each kind are in it.
        for known in [
            "/healthz",
            "/contacts/{key}/yealink/v1",
            "/api/v1/directories/{key}/sources/{name}/sync",
            "/admin/signin",
        ] {
            assert!(routes.contains(known), "{known} not in {routes:?}");
        }
        let doc = ApiDoc::openapi();
        let documented: BTreeSet<String> = doc.paths.paths.keys().cloned().collect();
        // Pages for people and their files are not the API; CardDAV (the DAV root `/`,
        // `/dav…`, `/.well-known/carddav`) is described by its RFCs, not by OpenAPI.
        let not_api = |r: &str| {
            r.starts_with("/admin")
                || r.starts_with("/api/docs")
                || r == "/"
                || r.starts_with("/dav")
                || r.starts_with("/.well-known/")
                // The Gigaset URL with the base's parameters glued on without `?`: the same
                // operation as `/gigaset/v1`, for bases configured that way.
                || r == "/contacts/{key}/gigaset/{glued:v1.+}"
        };
        let missing: Vec<&String> = routes
            .iter()
            .filter(|r| !not_api(r) && !documented.contains(*r))
            .collect();
        assert!(
            missing.is_empty(),
            "routes the OpenAPI document lacks: {missing:?}"
        );
        let stale: Vec<&String> = documented.iter().filter(|d| !routes.contains(*d)).collect();
        assert!(
            stale.is_empty(),
            "documented routes the app lacks: {stale:?}"
        );
    }
}
