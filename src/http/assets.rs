//! Files the admin pages and the API explorer load, embedded in the binary: nothing is
//! fetched from anywhere at run time, and a page works without the internet.

use actix_web::http::header;
use actix_web::HttpResponse;

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The admin pages' style sheet and the few lines of script that copy a URL.
pub const ADMIN: &[Asset] = &[
    Asset {
        name: "admin.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/admin/admin.css"),
    },
    Asset {
        name: "copy.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/admin/copy.js"),
    },
];

/// swagger-ui (vendored, see assets/swagger-ui/README.md) and its starter.
pub const DOCS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "api-docs.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/swagger-ui/api-docs.js"),
    },
    Asset {
        name: "swagger-ui-bundle.js.LICENSE.txt",
        content_type: TEXT,
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt"),
    },
    Asset {
        name: "LICENSE",
        content_type: TEXT,
        bytes: include_bytes!("../../assets/swagger-ui/LICENSE"),
    },
];

/// The file `name` of `set`, or 404. Assets change only with the binary, so browsers may
/// keep them for a day.
pub fn serve(set: &[Asset], name: &str) -> HttpResponse {
    match set.iter().find(|a| a.name == name) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(a.bytes),
        None => HttpResponse::NotFound()
            .content_type(TEXT)
            .body("no such file\n"),
    }
}
