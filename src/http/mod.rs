//! The HTTP(S) face: routes, TLS, access log. Handlers parse a request, call one function
//! and map its result; all error mapping lives in `error`.

mod api;
mod auth;
pub mod cache;
mod conditional;
pub mod error;
mod keys;
mod params;
mod phonebook;
mod receive;
mod sources;
pub mod tls;
mod upload;

use crate::access::{Gate, GateConfig};
use crate::book::Books;
use crate::domain::cidr::Cidr;
use crate::domain::{mask_key, ApiKey};
use crate::push::{self, Limits, PushError, PushRequest};
use crate::sources::{scheduler, secret, Syncer};
use crate::store::{Store, StoreError};
use actix_web::middleware::{from_fn, Condition, Logger, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use error::ApiError;
use std::path::PathBuf;
use std::sync::Arc;

/// What every request handler may read.
pub struct AppState {
    pub store: Arc<Store>,
    /// The merged, indexed book of each directory in use (the read model).
    pub books: Arc<Books>,
    /// Rendered phone books.
    pub cache: cache::BookCache,
    /// Runs and manages pulled sources (graph, carddav, rest).
    pub syncer: Arc<Syncer>,
    pub limits: Limits,
    pub max_upload_bytes: usize,
    /// One line per request (keys masked); off for benchmarks or when a proxy logs.
    pub access_log: bool,
    /// What a presented key opens, throttled per client address.
    pub gate: Arc<Gate>,
    /// Peers whose `Forwarded`/`X-Forwarded-*` headers are believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<Cidr>,
}

pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub https: Option<String>,
    pub http: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub limits: Limits,
    pub max_upload_bytes: usize,
    pub demo: bool,
    /// Bound of the rendered-book cache, in bytes.
    pub cache_bytes: usize,
    /// Bound of the merged, indexed books kept in memory, in bytes.
    pub book_cache_bytes: usize,
    pub access_log: bool,
    /// Unknown or wrong keys one client address may present per minute; 0 = no limit.
    pub key_failures_per_minute: u32,
    /// Directories one client address may create per hour over the network; 0 = no limit.
    pub registration_limit: u32,
    pub trusted_proxies: Vec<Cidr>,
    /// Private networks pulled sources may reach (`--source-allow`); none by default.
    pub source_allow: Vec<Cidr>,
    /// The LDAP listeners for desk phones (off unless given).
    pub ldap: crate::ldap::LdapConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("neither --https, --http, --ldap nor --ldaps gives an address to listen on")]
    NoListener,
    #[error(transparent)]
    Ldap(#[from] crate::ldap::LdapError),
    #[error("loading the demo directory failed: {0}")]
    Demo(#[from] PushError),
    #[error("source secrets: {0}")]
    Secret(#[from] secret::SecretError),
    #[error("the server stopped: {0}")]
    Run(std::io::Error),
}

/// The key of the directory `--demo` fills, the vendor's own demo key.
pub const DEMO_KEY: &str = "DEMOabcABC0123";
const DEMO_CSV: &[u8] = include_bytes!("../../sample-data/contacts.csv");

pub async fn serve(cfg: ServerConfig) -> Result<(), ServeError> {
    if cfg.https.is_none() && cfg.http.is_none() && !cfg.ldap.enabled() {
        return Err(ServeError::NoListener);
    }
    let store = Arc::new(Store::open(&cfg.data_dir)?);
    tracing::info!(database = %store.path().display(), "store open");
    if cfg.demo {
        load_demo(&store, &cfg.limits)?;
    }
    let sealer = secret::Sealer::load(&cfg.data_dir)?;
    let syncer =
        Arc::new(Syncer::new(store.clone(), sealer, cfg.limits).allowing(cfg.source_allow.clone()));
    scheduler::start(syncer.clone()).map_err(ServeError::Run)?;
    let books = Arc::new(Books::new(
        store.clone(),
        cfg.book_cache_bytes,
        busy_slots(),
    ));
    let gate = Arc::new(Gate::new(
        store.clone(),
        &GateConfig {
            key_failures_per_minute: cfg.key_failures_per_minute,
            registrations_per_hour: cfg.registration_limit,
            open_registration: cfg.limits.open_registration,
        },
    ));
    // One certificate for HTTPS, LDAPS and StartTLS.
    let tls = if cfg.https.is_some() || cfg.ldap.enabled() {
        let tls = tls::load(
            &cfg.data_dir,
            cfg.tls_cert.as_deref(),
            cfg.tls_key.as_deref(),
        )?;
        tracing::info!(
            certificate = %tls.cert_path.display(),
            generated = tls.generated,
            "TLS certificate SHA-256 fingerprint {}",
            tls.fingerprint
        );
        Some(tls.config)
    } else {
        None
    };
    if let Some(tls) = tls.as_ref().filter(|_| cfg.ldap.enabled()) {
        start_ldap(
            &cfg,
            store.clone(),
            books.clone(),
            gate.clone(),
            tls.clone(),
        )
        .await?;
    }
    let state = web::Data::new(AppState {
        store,
        books,
        cache: cache::BookCache::new(cfg.cache_bytes),
        syncer,
        limits: cfg.limits,
        max_upload_bytes: cfg.max_upload_bytes,
        access_log: cfg.access_log,
        gate,
        trusted_proxies: cfg.trusted_proxies.clone(),
    });
    let mut server = HttpServer::new(move || app(state.clone())).shutdown_timeout(5);
    if let Some(addr) = &cfg.http {
        server = server.bind(addr).map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
    }
    if let (Some(addr), Some(tls)) = (&cfg.https, tls) {
        server = server
            .bind_rustls_0_23(addr, tls)
            .map_err(|source| ServeError::Bind {
                addr: addr.clone(),
                source,
            })?;
    }
    for (addr, scheme) in server.addrs_with_scheme() {
        tracing::info!("listening on {scheme}://{addr}");
    }
    server.run().await.map_err(ServeError::Run)
}

/// The LDAP listeners, on this runtime beside the HTTP server. The demo's fixed ports are
/// a convenience: when they are taken, the demo runs without LDAP.
async fn start_ldap(
    cfg: &ServerConfig,
    store: Arc<Store>,
    books: Arc<Books>,
    gate: Arc<Gate>,
    tls: rustls::ServerConfig,
) -> Result<(), ServeError> {
    let ctx = Arc::new(crate::ldap::session::Ctx {
        store,
        books,
        gate,
        numbers: crate::ldap::search::NumberDefaults {
            region: cfg.limits.default_region,
            max_extension_digits: cfg.limits.max_extension_digits,
        },
        max_hits: cfg.ldap.max_hits,
    });
    match crate::ldap::start(&cfg.ldap, ctx, Arc::new(tls), busy_slots(), cfg.access_log).await {
        Ok(listening) => {
            for (scheme, addr) in listening {
                tracing::info!("listening on {scheme}://{addr}");
            }
            Ok(())
        }
        Err(e) if cfg.ldap.best_effort => {
            tracing::warn!("{e}; LDAP is off (give --ldap ADDR and --ldaps ADDR to choose ports)");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Book builds and whole-book renders at once: two per core keeps every core busy while a
/// burst of big first renders cannot take all of them and all memory.
pub fn busy_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

fn load_demo(store: &Store, limits: &Limits) -> Result<(), ServeError> {
    let key = ApiKey::parse(DEMO_KEY).map_err(|_| StoreError::UnknownDirectory)?;
    if store.directory(&key)?.is_some() {
        return Ok(());
    }
    let demo_limits = Limits {
        open_registration: true,
        ..*limits
    };
    let result = push::push(
        store,
        &demo_limits,
        &PushRequest {
            key: &key,
            source: "push",
            body: DEMO_CSV,
            format: Default::default(),
            map: None,
            force: false,
            region: "DE".parse().ok(),
            allow_empty: false,
            dry_run: false,
        },
    )?;
    tracing::info!(
        contacts = result.contacts,
        "demo directory loaded: try /contacts/{DEMO_KEY}/yealink/v1"
    );
    Ok(())
}

/// The application with every route; the server builds one per worker.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let access_log = state.access_log;
    App::new()
        .app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                format!("the query string cannot be read: {e}"),
            )
            .into()
        }))
        // Innermost first: the client address is known before any handler runs, and the
        // access log sees the normalized path (`/contacts//KEY` is `/contacts/KEY` there).
        .wrap(from_fn(auth::client_mw))
        .wrap(Condition::new(
            access_log,
            Logger::new("%{request}xi %s %b %Dms \"%{agent}xi\"")
                .custom_request_replace("request", masked_request_line)
                .custom_request_replace("agent", |req| {
                    masked_text(
                        req.headers()
                            .get(actix_web::http::header::USER_AGENT)
                            .map_or(&b"-"[..], |v| v.as_bytes()),
                        false,
                    )
                }),
        ))
        .wrap(NormalizePath::new(TrailingSlash::Trim))
        .route("/healthz", web::get().to(healthz))
        .configure(keys::directory_routes)
        .configure(phonebook::routes)
        .configure(api::routes)
        .default_service(web::to(not_found))
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "no such URL; phone books live at /contacts/{KEY}, /contacts/{KEY}/yealink/v1, /snom/v1, /gigaset/v1",
    ))
}

/// Phones carry a key in the URL (`/contacts/KEY`, and the management API's
/// `/api/v1/directories/KEY/keys/OTHER`), scripts in `?apikey=`; the access log must hold
/// none of them, whatever the path looks like.
fn masked_request_line(req: &actix_web::dev::ServiceRequest) -> String {
    format!("{} {}", req.method(), mask_url(req.request()))
}

fn mask_url(req: &HttpRequest) -> String {
    let path = masked_text(req.path().as_bytes(), false);
    match req.query_string() {
        "" => path,
        q => format!("{path}?{}", masked_text(q.as_bytes(), true)),
    }
}

/// The text percent-decoded (and `+` as a space in a query), with every run of 14 or more
/// letters and digits masked as a key (`ACME**********`), and control characters as `?`,
/// so nobody can write lines of their own into the log.
fn masked_text(raw: &[u8], query: bool) -> String {
    let plus_decoded: Vec<u8>;
    let raw = if query {
        plus_decoded = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        &plus_decoded[..]
    } else {
        raw
    };
    let decoded: Vec<u8> = percent_encoding::percent_decode(raw).collect();
    let text = String::from_utf8_lossy(&decoded);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= ApiKey::LEN {
            out.push_str(&mask_key(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(if c.is_control() { '?' } else { c });
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn access_log_masks_keys_in_paths_and_queries() {
        let req = TestRequest::get()
            .uri("/contacts/ACME0123456789/yealink/v1?q=anna&apikey=ACME0123456789")
            .to_http_request();
        assert_eq!(
            mask_url(&req),
            "/contacts/ACME**********/yealink/v1?q=anna&apikey=ACME**********"
        );
        let req = TestRequest::get()
            .uri("/api/v1/directories/ACME0123456789/sources/crm")
            .to_http_request();
        assert_eq!(
            mask_url(&req),
            "/api/v1/directories/ACME**********/sources/crm"
        );
        // Anywhere, however written: doubled slashes, other segments, percent-encoded,
        // other parameters, longer runs.
        for (uri, want) in [
            ("/contacts//ACME0123456789/x", "/contacts//ACME**********/x"),
            (
                "/api/v1/directories/ACME0123456789/keys/Kt4wQ9zLm2Rx7B",
                "/api/v1/directories/ACME**********/keys/Kt4w**********",
            ),
            ("/x/%41CME0123456789", "/x/ACME**********"),
            (
                "/x?token=Kt4w%51%39zLm2Rx7B&q=a+b",
                "/x?token=Kt4w**********&q=a b",
            ),
            ("/x/ACME0123456789.xml", "/x/ACME**********.xml"),
            ("/x?a=%0aforged", "/x?a=?forged"),
        ] {
            let req = TestRequest::get().uri(uri).to_http_request();
            assert_eq!(mask_url(&req), want, "{uri}");
        }
    }
}
