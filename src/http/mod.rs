//! The HTTP(S) face: routes, TLS, access log. Handlers parse a request, call one function
//! and map its result; all error mapping lives in `error`.

mod api;
mod auth;
pub mod cache;
mod conditional;
pub mod error;
mod params;
mod phonebook;
pub mod process;
mod receive;
mod shield;
mod sources;
pub mod tls;
mod upload;

use crate::book::Books;
use crate::domain::{mask_key, ApiKey};
use crate::jobs::{Runner, RunnerConfig};
use crate::push::{self, Limits, PushError, PushRequest};
use crate::sources::{scheduler, secret, SyncLimits, Syncer};
use crate::store::{DiskFloor, Store, StoreError};
use actix_web::middleware::{Condition, DefaultHeaders, Logger, NormalizePath, TrailingSlash};
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
    pub limits: Limits,
    pub upload: UploadLimits,
    /// Uploads being received now, at most `--max-uploads`.
    pub uploads: UploadSlots,
    /// One line per request (keys masked); off for benchmarks or when a proxy logs.
    pub access_log: bool,
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
    #[error("neither --https nor --http gives an address to listen on")]
    NoListener,
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
    if cfg.https.is_none() && cfg.http.is_none() {
        return Err(ServeError::NoListener);
    }
    std::fs::create_dir_all(&cfg.data_dir).map_err(|source| StoreError::Io {
        path: cfg.data_dir.display().to_string(),
        source,
    })?;
    // Before anything touches the database: a second server must not reset our syncs.
    let _lock = process::lock_data_dir(&cfg.data_dir)?;
    if let Some(n) = process::raise_fd_limit() {
        tracing::info!(open_files = n, "open-files limit");
    }
    let store =
        Arc::new(Store::open(&cfg.data_dir)?.with_guards(cfg.limits.quota, cfg.min_free_disk)?);
    tracing::info!(database = %store.path().display(), "store open");
    if cfg.demo {
        load_demo(&store, &cfg.limits)?;
    }
    let sealer = secret::Sealer::load(&cfg.data_dir)?;
    let runner = Runner::start(cfg.runner).map_err(ServeError::Run)?;
    let syncer = Arc::new(Syncer::new(
        store.clone(),
        sealer,
        cfg.limits,
        runner,
        cfg.sync,
    ));
    scheduler::start(syncer.clone()).map_err(ServeError::Run)?;
    let books = Arc::new(Books::new(
        store.clone(),
        cfg.book_cache_bytes,
        busy_slots(),
    ));
    let state = web::Data::new(AppState {
        store,
        books,
        cache: cache::BookCache::new(cfg.cache_bytes),
        syncer,
        limits: cfg.limits,
        upload: cfg.upload,
        uploads: UploadSlots::new(cfg.connections.max_uploads),
        access_log: cfg.access_log,
    });
    let conn = cfg.connections;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
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
    if let Some(addr) = &cfg.https {
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
        server = server
            .bind_rustls_0_23(addr, tls.config)
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
        .wrap(NormalizePath::new(TrailingSlash::Trim))
        // Browsers must take every answer for what its Content-Type says, never sniff a
        // pushed CSV into HTML.
        .wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
        .wrap(Condition::new(
            access_log,
            Logger::new("%{request}xi %s %b %Dms \"%{User-Agent}i\"")
                .custom_request_replace("request", masked_request_line),
        ))
        .wrap(shield::CatchPanic)
        .route("/healthz", web::get().to(healthz))
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

/// Phones carry the directory key in the URL (`/contacts/KEY`, and the management API's
/// `/api/v1/directories/KEY`); the access log must not.
fn masked_request_line(req: &actix_web::dev::ServiceRequest) -> String {
    format!("{} {}", req.method(), mask_url(req.request()))
}

fn mask_url(req: &HttpRequest) -> String {
    let mut segments: Vec<String> = Vec::new();
    let mut after_contacts = false;
    for seg in req.path().split('/') {
        if after_contacts && !seg.is_empty() {
            segments.push(mask_key(seg));
            after_contacts = false;
        } else {
            after_contacts = seg == "contacts" || seg == "directories";
            segments.push(seg.to_owned());
        }
    }
    let path = segments.join("/");
    let query: Vec<String> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("apikey") => format!("{k}={}", mask_key(v)),
            _ => p.to_owned(),
        })
        .collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
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
    }
}
