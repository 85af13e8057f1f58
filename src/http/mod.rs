//! The HTTP(S) face: routes, TLS, access log. Handlers parse a request, call one function
//! and map its result; all error mapping lives in `error`.

pub mod admin;
pub(crate) mod api;
mod assets;
pub(crate) mod auth;
pub mod cache;
mod conditional;
pub mod error;
mod keys;
pub mod metrics;
pub mod openapi;
mod params;
mod phonebook;
pub mod process;
mod receive;
mod shield;
mod sources;
mod targets;
pub mod tls;
mod upload;

use crate::access::{Gate, GateConfig};
use crate::book::Books;
use crate::domain::cidr::Cidr;
use crate::domain::{mask_key, ApiKey};
use crate::jobs::{Runner, RunnerConfig};
use crate::push::{self, Limits, PushError, PushRequest};
use crate::sources::{scheduler, secret, SyncLimits, Syncer};
use crate::store::{DiskFloor, Store, StoreError};
use actix_web::middleware::{
    from_fn, Condition, DefaultHeaders, Logger, NormalizePath, TrailingSlash,
};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use error::ApiError;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
pub use upload::UploadLimits;

/// What every request handler may read.
pub struct AppState {
    pub store: Arc<Store>,
    /// The merged, indexed book of each directory in use (the read model).
    pub books: Arc<Books>,
    /// Rendered phone books.
    pub cache: cache::BookCache,
    /// Runs and manages pulled sources (graph, carddav, rest).
    pub syncer: Arc<Syncer>,
    /// Runs and manages targets (PBXs the book is written into).
    pub targets: Arc<crate::targets::Targets>,
    pub limits: Limits,
    pub upload: UploadLimits,
    /// Uploads being received now, at most `--max-uploads`.
    pub uploads: UploadSlots,
    /// One line per request (keys masked); off for benchmarks or when a proxy logs.
    pub access_log: bool,
    /// What a presented key opens, throttled per client address.
    pub gate: Arc<Gate>,
    /// Peers whose `Forwarded`/`X-Forwarded-*` headers are believed (`--trusted-proxy`).
    pub trusted_proxies: Vec<Cidr>,
    /// `/metrics` has a listener of its own (`--metrics ADDR`), not the public one.
    pub metrics_separate: bool,
    /// Signed-in sessions of the admin pages (memory only).
    pub admin: admin::Sessions,
}

/// A counter of concurrent uploads with a cap.
pub struct UploadSlots {
    taken: Arc<AtomicUsize>,
    max: usize,
}

impl UploadSlots {
    pub fn new(max: usize) -> UploadSlots {
        UploadSlots {
            taken: Arc::new(AtomicUsize::new(0)),
            max: max.max(1),
        }
    }

    /// A slot, or None when all are taken.
    pub fn take(&self) -> Option<UploadSlot> {
        let max = self.max;
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| UploadSlot(self.taken.clone()))
    }
}

/// Gives its slot back when dropped, however the upload ended.
pub struct UploadSlot(Arc<AtomicUsize>);

impl Drop for UploadSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Bounds on connections, so idle or slow clients cannot exhaust file descriptors.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Open connections over all workers (`--max-connections`).
    pub max_connections: usize,
    /// Time a client has to send a request's headers (`--client-request-timeout`).
    pub request_timeout: Duration,
    /// An idle keep-alive connection is closed after this long.
    pub keep_alive: Duration,
    /// Most uploads received at once (`--max-uploads`).
    pub max_uploads: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            request_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(30),
            max_uploads: 16,
        }
    }
}

pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub https: Option<String>,
    pub http: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// What a generated certificate must be and name (without `tls_cert`).
    pub self_signed: tls::SelfSigned,
    pub limits: Limits,
    pub upload: UploadLimits,
    pub connections: ConnectionLimits,
    pub runner: RunnerConfig,
    pub sync: SyncLimits,
    /// Writes are refused (507) when the data directory's disk has less free space.
    pub min_free_disk: DiskFloor,
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
    /// `--metrics ADDR`: serve `/metrics` there instead of on the public listeners.
    pub metrics: Option<String>,
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
    #[error(transparent)]
    Process(#[from] process::ProcessError),
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
    std::fs::create_dir_all(&cfg.data_dir).map_err(|source| StoreError::Io {
        path: cfg.data_dir.display().to_string(),
        source,
    })?;
    // Before anything touches the database or the certificates: a second server must not
    // reset our syncs.
    let _lock = process::lock_data_dir(&cfg.data_dir)?;
    if let Some(n) = process::raise_fd_limit() {
        tracing::info!(open_files = n, "open-files limit");
    }
    // Before the database is made: a mistyped --tls-cert path ends the start cleanly.
    // One certificate for HTTPS, LDAPS and StartTLS.
    let tls = if cfg.https.is_some() || cfg.ldap.enabled() {
        let want = tls::SelfSigned {
            listen: [&cfg.https, &cfg.ldap.plain, &cfg.ldap.tls]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            ..cfg.self_signed.clone()
        };
        let tls = tls::load(
            &cfg.data_dir,
            cfg.tls_cert.as_deref(),
            cfg.tls_key.as_deref(),
            &want,
        )?;
        if let Some(why) = &tls.generated {
            tracing::info!(
                certificate = %tls.cert_path.display(),
                "generated a self-signed certificate, since {why}"
            );
        }
        tracing::info!(
            certificate = %tls.cert_path.display(),
            expires = tls.expires.as_deref().unwrap_or("(yours)"),
            "TLS certificate SHA-256 fingerprint {}",
            tls.fingerprint
        );
        Some(tls.config)
    } else {
        None
    };
    let store =
        Arc::new(Store::open(&cfg.data_dir)?.with_guards(cfg.limits.quota, cfg.min_free_disk)?);
    tracing::info!(database = %store.path().display(), "store open");
    if cfg.demo {
        load_demo(&store, &cfg.limits)?;
    }
    let sealer = secret::Sealer::load(&cfg.data_dir)?;
    let runner = Runner::start(cfg.runner).map_err(ServeError::Run)?;
    let syncer = Arc::new(
        Syncer::new(store.clone(), sealer, cfg.limits, runner.clone(), cfg.sync)
            .allowing(cfg.source_allow.clone()),
    );
    scheduler::start(syncer.clone()).map_err(ServeError::Run)?;
    let books = Arc::new(Books::new(
        store.clone(),
        cfg.book_cache_bytes,
        busy_slots(),
    ));
    let targets = Arc::new(crate::targets::Targets::new(
        store.clone(),
        books.clone(),
        secret::Sealer::load(&cfg.data_dir)?,
        runner.clone(),
        cfg.limits,
        cfg.sync,
        cfg.source_allow.clone(),
    ));
    crate::targets::scheduler::start(targets.clone()).map_err(ServeError::Run)?;
    let gate = Arc::new(Gate::new(
        store.clone(),
        &GateConfig {
            key_failures_per_minute: cfg.key_failures_per_minute,
            registrations_per_hour: cfg.registration_limit,
            open_registration: cfg.limits.open_registration,
        },
    ));
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
        targets,
        limits: cfg.limits,
        upload: cfg.upload,
        uploads: UploadSlots::new(cfg.connections.max_uploads),
        access_log: cfg.access_log,
        gate,
        trusted_proxies: cfg.trusted_proxies.clone(),
        metrics_separate: cfg.metrics.is_some(),
        admin: admin::Sessions::default(),
    });
    let conn = cfg.connections;
    let workers = request_workers();
    let mut server = HttpServer::new(move || app(state.clone()))
        .workers(workers)
        // actix counts connections per worker.
        .max_connections((conn.max_connections / workers).max(1))
        .max_connection_rate((conn.max_connections / workers).clamp(16, 256))
        .client_request_timeout(conn.request_timeout)
        .client_disconnect_timeout(Duration::from_secs(2))
        .keep_alive(conn.keep_alive)
        .shutdown_timeout(5);
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
    // Bound before the public listeners say they listen: whoever waits for that line finds
    // the metrics listening too.
    if let Some(addr) = &cfg.metrics {
        let listener = metrics::listener(addr).map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
        actix_web::rt::spawn(listener);
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

/// Threads that answer HTTP requests: one per core (the process's allocator gives each its
/// own heap, see `tame_malloc` in main).
pub fn request_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
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
    // The sample numbers are German: with the region set, `numbers=national` and `auto`
    // work on the demo as they would on a real directory.
    store.set_settings(
        &key,
        &crate::domain::DirectorySettings {
            region: "DE".parse().ok(),
            ..Default::default()
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
    let metrics_separate = state.metrics_separate;
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
        // A panic in a handler answers 500; the worker and every other request go on.
        .wrap(shield::CatchPanic)
        // Browsers must take every answer, errors included, for what its Content-Type
        // says, never sniff a pushed CSV into HTML.
        .wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
        // Outermost: counts every answer, a panic turned into a 500 included.
        .wrap(from_fn(metrics::count))
        .configure(|c| routes(c, metrics_separate))
        .default_service(web::to(not_found))
}

/// Every route the server answers, in one table (`app` mounts it; the OpenAPI document is
/// checked against it).
pub fn routes(cfg: &mut web::ServiceConfig, metrics_separate: bool) {
    cfg.route("/healthz", web::get().to(healthz))
        .configure(keys::directory_routes)
        .configure(phonebook::routes)
        .configure(api::routes)
        .configure(|c| metrics::routes(c, metrics_separate))
        .configure(openapi::routes)
        .configure(admin::routes)
        .configure(crate::dav::routes);
}

/// `200 ok` once requests are served.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = String, content_type = "text/plain")))]
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
