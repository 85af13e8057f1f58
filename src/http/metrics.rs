//! `/metrics` (Prometheus text format) and the middleware that counts every request by its
//! matched route pattern. With `--metrics ADDR` the numbers are served on a listener of their
//! own instead, and the public one answers `/metrics` with 404 like any unknown URL.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use std::time::Instant;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// On the public listener, unless `--metrics` gives them a listener of their own.
pub fn routes(cfg: &mut web::ServiceConfig, separate: bool) {
    if !separate {
        cfg.route("/metrics", web::get().to(metrics));
    }
}

/// Prometheus metrics (text format); with `--metrics ADDR` on that listener only.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::metrics::global().render())
}

/// Counts the request under its route pattern (`/contacts/{key}/yealink/v1`: the pattern,
/// never the path, so no key becomes a label), method and status.
pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let route = res.request().match_pattern();
    crate::metrics::global().request(
        route.as_deref(),
        method.as_str(),
        res.status().as_u16(),
        started.elapsed(),
    );
    Ok(res)
}

/// The separate listener of `--metrics ADDR`: plain HTTP, `/metrics` only.
pub fn listener(addr: &str) -> std::io::Result<actix_web::dev::Server> {
    let server = actix_web::HttpServer::new(|| {
        actix_web::App::new()
            .route("/metrics", web::get().to(metrics))
            .default_service(web::to(|| async {
                HttpResponse::NotFound()
                    .content_type("text/plain")
                    .body("this listener serves /metrics only\n")
            }))
    })
    .workers(1)
    .shutdown_timeout(1)
    .bind(addr)?;
    for a in server.addrs() {
        tracing::info!("metrics on http://{a}/metrics");
    }
    Ok(server.run())
}
