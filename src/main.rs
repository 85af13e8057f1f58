//! The `phonedir` command: `serve`, `directory`, `import`, `export`. Only argument parsing
//! and wiring live here.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use phonedir::book::Book;
use phonedir::domain::cidr::{Cidr, CidrError};
use phonedir::domain::text::count;
use phonedir::domain::{merge, ApiKey, DirectorySettings, RawSettings, Scope};
use phonedir::http::{self, ConnectionLimits, ServerConfig, UploadLimits};
use phonedir::ingest::Mapping;
use phonedir::jobs::RunnerConfig;
use phonedir::ldap::{self, LdapConfig};
use phonedir::phone::Region;
use phonedir::push::{self, InputFormat, Limits, PushRequest};
use phonedir::render::{Format, Presenter, ShapeParams};
use phonedir::sources::SyncLimits;
use phonedir::store::{DiskFloor, KeyRef, Quota, Store};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "phonedir",
    version,
    about = "Online contact directory server for IP phones and PBXs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve phone books over HTTPS (and plain HTTP if asked).
    Serve(Box<ServeArgs>),
    /// Create, list and delete directories.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Push a CSV file into a directory from the command line.
    Import(ImportArgs),
    /// Print a directory's phone book in one format.
    Export(ExportArgs),
}

#[derive(Args)]
struct DataDir {
    /// Where the database and generated certificates live.
    #[arg(long, env = "PHONEDIR_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(Args)]
struct ReadRules {
    /// Region for national numbers (`030 1234567`), e.g. DE.
    #[arg(long, env = "PHONEDIR_DEFAULT_REGION")]
    default_region: Option<Region>,
    /// Digit strings up to this length are internal extensions.
    #[arg(long, env = "PHONEDIR_MAX_EXTENSION_DIGITS", default_value_t = 6)]
    max_extension_digits: usize,
    /// Most rows one push may hold.
    #[arg(long, env = "PHONEDIR_MAX_ROWS", default_value_t = 200_000)]
    max_rows: usize,
    /// Longest cell read; longer ones are left out with a warning.
    #[arg(long, env = "PHONEDIR_MAX_FIELD_CHARS", default_value_t = 1_000)]
    max_field_chars: usize,
    /// Most numbers kept per contact; more are left out with a warning.
    #[arg(long, env = "PHONEDIR_MAX_NUMBERS_PER_CONTACT", default_value_t = 100)]
    max_numbers_per_contact: usize,
    /// Refuse pushes to unknown keys instead of creating the directory.
    #[arg(long, env = "PHONEDIR_NO_OPEN_REGISTRATION")]
    no_open_registration: bool,
}

impl ReadRules {
    fn limits(&self) -> Limits {
        Limits {
            default_region: self.default_region,
            max_extension_digits: self.max_extension_digits,
            max_rows: self.max_rows,
            max_field_chars: self.max_field_chars,
            max_numbers: self.max_numbers_per_contact,
            open_registration: !self.no_open_registration,
            // The command line acts for the operator; `serve` sets the tenants' quota.
            quota: Quota::NONE,
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
    /// HTTPS listener address; `off` for none.
    #[arg(long, env = "PHONEDIR_HTTPS", default_value = "0.0.0.0:8443")]
    https: String,
    /// Plain HTTP listener address, for legacy phones and local tests (off unless given).
    #[arg(long, env = "PHONEDIR_HTTP")]
    http: Option<String>,
    /// PEM certificate chain; without it a self-signed certificate is generated (RSA 2048,
    /// 825 days) and reused.
    #[arg(long, env = "PHONEDIR_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "PHONEDIR_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Key of the generated certificate: rsa (2048 bits, what every phone takes) or ecdsa.
    #[arg(long, env = "PHONEDIR_TLS_KEY_TYPE", default_value = "rsa")]
    tls_key_type: phonedir::http::tls::KeyType,
    /// A host name or address phones use to reach this server, for the generated
    /// certificate (repeat it, or separate with commas).
    #[arg(long, env = "PHONEDIR_TLS_HOSTNAME", value_delimiter = ',')]
    tls_hostname: Vec<String>,
    /// Largest accepted upload in bytes.
    #[arg(long, env = "PHONEDIR_MAX_UPLOAD_BYTES", default_value_t = 20 * 1024 * 1024)]
    max_upload_bytes: usize,
    /// No access log (one line per request, keys masked), e.g. behind a proxy that logs.
    #[arg(long, env = "PHONEDIR_NO_ACCESS_LOG")]
    no_access_log: bool,
    /// Memory for rendered phone books, in bytes (least recently used ones go first).
    /// A render from the book in memory is cheap (about 1.5 ms per 1,000 contacts), so this
    /// holds what phones fetch most, not every book.
    #[arg(long, env = "PHONEDIR_CACHE_BYTES", default_value_t = 16 * 1024 * 1024)]
    cache_bytes: usize,
    /// Memory for merged, indexed books (what searches, lookups and renders read), in bytes;
    /// least recently used ones go first and are rebuilt from the database when asked for.
    #[arg(long, env = "PHONEDIR_BOOK_CACHE_BYTES", default_value_t = 32 * 1024 * 1024)]
    book_cache_bytes: usize,
    /// Load the sample contacts into directory DEMOabcABC0123 if it does not exist yet
    /// (its key is published, so it is read-only over the network), and listen for LDAP
    /// on 3890 and LDAPS on 6360 unless --ldap/--ldaps say otherwise.
    #[arg(long, env = "PHONEDIR_DEMO")]
    demo: bool,
    /// Unknown or wrong keys one client address may present per minute before its requests
    /// with keys answer 429 until it cools down; 0 = no limit.
    #[arg(long, env = "PHONEDIR_KEY_FAILURES_PER_MINUTE", default_value_t = 20)]
    key_failures_per_minute: u32,
    /// Directories one client address may create per hour over the network (open
    /// registration, POST /api/v1/directories); 0 = no limit. The CLI is not limited.
    #[arg(long, env = "PHONEDIR_REGISTRATION_LIMIT", default_value_t = 10)]
    registration_limit: u32,
    /// Reverse proxies (CIDR,…) whose Forwarded / X-Forwarded-For headers name the client
    /// address; from anyone else those headers are ignored.
    #[arg(long, env = "PHONEDIR_TRUSTED_PROXY", value_parser = cidrs)]
    trusted_proxy: Option<CidrList>,
    /// Private networks (CIDR,…) pulled sources may reach, e.g. 10.0.0.0/8,192.168.0.0/16;
    /// without it only public addresses.
    #[arg(long, env = "PHONEDIR_SOURCE_ALLOW", value_parser = cidrs)]
    source_allow: Option<CidrList>,
    /// Serve Prometheus metrics on this address (plain HTTP, e.g. 127.0.0.1:9100) instead of
    /// at /metrics on the public listeners.
    #[arg(long, env = "PHONEDIR_METRICS")]
    metrics: Option<String>,
    /// Sources one directory may have.
    #[arg(long, env = "PHONEDIR_MAX_SOURCES", default_value_t = 20)]
    max_sources: usize,
    /// Contacts one directory may hold, over all its sources.
    #[arg(long, env = "PHONEDIR_MAX_CONTACTS", default_value_t = 250_000)]
    max_contacts: usize,
    /// Bytes of contact data one directory may hold.
    #[arg(long, env = "PHONEDIR_MAX_DIRECTORY_BYTES", default_value_t = 256 * 1024 * 1024)]
    max_directory_bytes: u64,
    /// Free disk space to keep: writes answer 507 below it, reads go on (1GiB, 500MiB, 5%, 0).
    #[arg(long, env = "PHONEDIR_MIN_FREE_DISK", default_value = "1GiB")]
    min_free_disk: DiskFloor,
    /// Syncs running at once over all directories.
    #[arg(long, env = "PHONEDIR_MAX_SYNCS", default_value_t = 4)]
    max_syncs: usize,
    /// Syncs of one directory running at once.
    #[arg(long, env = "PHONEDIR_MAX_SYNCS_PER_DIRECTORY", default_value_t = 1)]
    max_syncs_per_directory: usize,
    /// Seconds one sync may take, all its pages included.
    #[arg(long, env = "PHONEDIR_SYNC_TIMEOUT", default_value_t = 900)]
    sync_timeout: u64,
    /// Largest answer read from a remote system, in bytes.
    #[arg(long, env = "PHONEDIR_MAX_RESPONSE_BYTES", default_value_t = 32 * 1024 * 1024)]
    max_response_bytes: u64,
    /// Uploads received at once; more are answered 503.
    #[arg(long, env = "PHONEDIR_MAX_UPLOADS", default_value_t = 16)]
    max_uploads: usize,
    /// Seconds an upload may take before --upload-min-rate applies.
    #[arg(long, env = "PHONEDIR_UPLOAD_TIMEOUT", default_value_t = 30)]
    upload_timeout: u64,
    /// Bytes per second an upload must average after --upload-timeout.
    #[arg(long, env = "PHONEDIR_UPLOAD_MIN_RATE", default_value_t = 64 * 1024)]
    upload_min_rate: u64,
    /// Open connections over all workers.
    #[arg(long, env = "PHONEDIR_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "PHONEDIR_CLIENT_REQUEST_TIMEOUT", default_value_t = 10)]
    client_request_timeout: u64,
    /// LDAP listener (with StartTLS) for desk phones' directory search and caller lookup;
    /// off unless given; `off` for none.
    #[arg(long, env = "PHONEDIR_LDAP")]
    ldap: Option<String>,
    /// LDAPS listener (TLS with the server's certificate); off unless given; `off` for none.
    #[arg(long, env = "PHONEDIR_LDAPS")]
    ldaps: Option<String>,
    /// Most entries one LDAP search answers; a search that matches more gets these and
    /// sizeLimitExceeded.
    #[arg(long, env = "PHONEDIR_LDAP_MAX_HITS", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    ldap_max_hits: u32,
    /// Most LDAP connections at once; one client address may hold a quarter of them.
    #[arg(long, env = "PHONEDIR_LDAP_MAX_CONNECTIONS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    ldap_max_connections: u32,
    /// Seconds an LDAP connection may send nothing (or only part of a message) before it is
    /// closed.
    #[arg(long, env = "PHONEDIR_LDAP_IDLE_SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    ldap_idle_seconds: u64,
    #[command(flatten)]
    rules: ReadRules,
}

#[derive(Clone)]
struct CidrList(Vec<Cidr>);

fn cidrs(s: &str) -> Result<CidrList, CidrError> {
    Cidr::parse_list(s).map(CidrList)
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Create an empty directory (needed with --no-open-registration); without KEY the
    /// server chooses a random one and prints it.
    Create {
        key: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// List directories with their sizes.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Change a directory's settings; options left out keep their value.
    Set {
        key: String,
        /// Title phones show above the book.
        #[arg(long)]
        name: Option<String>,
        /// Country for national numbers, e.g. DE.
        #[arg(long)]
        region: Option<String>,
        /// How numbers are written for phones: e164, intl00, national or auto.
        #[arg(long)]
        numbers: Option<String>,
        /// Outside-line prefix of the PBX, e.g. 0.
        #[arg(long)]
        outside_prefix: Option<String>,
        /// How vCard and CardDAV write numbers: e164 (default), intl00, national or auto.
        #[arg(long)]
        address_book_numbers: Option<String>,
        /// Refuse pushes that shrink a source by more than this percentage.
        #[arg(long)]
        max_shrink_percent: Option<u8>,
        /// The server's --default-region, which national and auto shapes may rely on.
        #[arg(long, env = "PHONEDIR_DEFAULT_REGION", hide = true)]
        default_region: Option<Region>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete a directory and all its contacts (give its directory key).
    Delete {
        key: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Make, list and revoke a directory's read keys (for phones) and push keys (for scripts).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new key and print it (the only time it is shown).
    Create {
        /// Any key of the directory.
        key: String,
        /// read: phone books, lookup, CardDAV, LDAP; push: also pushes.
        #[arg(long, default_value = "read", value_parser = ["read", "push"])]
        scope: String,
        /// Where the key goes, e.g. "reception phones".
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the read and push keys (masked), with label and last use.
    List {
        key: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a key at once, named by the key itself or its id from `list`.
    Revoke {
        key: String,
        /// The key to revoke, or its id.
        other: String,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Args)]
struct ImportArgs {
    #[command(flatten)]
    data: DataDir,
    /// The directory's 14-character key.
    #[arg(long)]
    key: String,
    /// The CSV file.
    file: PathBuf,
    /// Source to replace.
    #[arg(long, default_value = "push")]
    source: String,
    /// Region for national numbers in this file.
    #[arg(long)]
    region: Option<Region>,
    /// Read and report, store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Store even if the file yields no contact (empties the source).
    #[arg(long)]
    allow_empty: bool,
    /// Store even if the directory's shrink guard would refuse.
    #[arg(long)]
    force: bool,
    /// Explicit columns, e.g. display_name:Kontakt,phone.work:Rufnummer (see README).
    #[arg(long)]
    map: Option<String>,
    #[command(flatten)]
    rules: ReadRules,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    data: DataDir,
    #[arg(long)]
    key: String,
    /// csv, yealink, yealink-directory, snom, snom-tbook, snom-dect, gigaset-central,
    /// grandstream, fanvil, fritzbox, vcard or vcard4.
    #[arg(long, default_value = "csv")]
    format: String,
    /// Number shape: e164, intl00, national or auto (default: the directory's setting).
    #[arg(long)]
    numbers: Option<String>,
    /// Outside-line prefix before external numbers (default: the directory's setting).
    #[arg(long)]
    outside_prefix: Option<String>,
    /// Home country for national shapes (default: the directory's setting).
    #[arg(long)]
    region: Option<String>,
}

/// Errors end the program with one line a person can act on: `anyhow`'s report (with a
/// backtrace when RUST_BACKTRACE is set) is for developers, not for an administrator.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli_words(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The server's messages name URL parameters (`push with ?region=GB`); on the command line
/// the same advice names the flags.
fn cli_words(message: &str) -> String {
    message
        .replace("push with ?allow_empty=true", "import with --allow-empty")
        .replace("push with ?force=true", "import with --force")
        .replace("push with ?region=", "import with --region ")
        .replace("?region=", "--region ")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // The server tells what it does; a command's output is its answer, and its log shows
    // only what went wrong (or what PHONEDIR_LOG asks for).
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("PHONEDIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // The HTTP client of pulled sources logs whole URLs at debug level, and a URL may carry
    // a source's API key (`?apikey=`): never below warn.
    if let Ok(d) = "ureq=warn".parse() {
        filter = filter.add_directive(d);
    }
    // The LDAP codec logs every malformed message and unknown control a client sends; the
    // server logs what matters itself, so a hostile client cannot flood the log.
    if let Ok(d) = "ldap3_proto=off".parse() {
        filter = filter.add_directive(d);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Directory { command } => directory(command),
        Command::Import(args) => import(args),
        Command::Export(args) => export(args),
    }
}

/// glibc gives every thread that allocates its own heap ("arena"), up to 8 per core, and
/// keeps what was freed in each; freed pages in the middle of a heap go back to the system
/// only when asked. Books are built and dropped on whichever blocking thread asked, so the
/// book and render caches' 64 MiB bounds held 91-102 MiB more than their bound after 1,000
/// directories were read (bench/run.sh); a trim every two seconds keeps the process near
/// its bounds.
///
/// Arenas: one per long-lived thread that allocates (request workers, the runner's jobs)
/// and two for the blocking pool and pushes, not more. Fewer made request workers share an
/// arena's lock with background threads, which hold it and then wait for their CPU (see
/// `jobs::lower_priority`): with two arenas another tenant's read p99 was 4-9x idle while
/// six big JSON answers were parsed, 1.0-2.3x with eight (bench/attacks.py), for a peak of
/// 134-136 MiB against 130 over 1,000 directories (bench/book.py's memory phase alone; 141
/// in whole bench/book.py runs).
/// `MALLOC_ARENA_MAX` in the environment wins.
///
/// A fixed mmap threshold keeps big short-lived blocks (a book's arrays while it is built,
/// whole rendered books) out of the heaps, where glibc's self-raising threshold put them
/// after the first was freed: they go back to the system when freed instead of leaving
/// holes (peak RSS over 1,000 directories 131-136 MiB against 136-139 before).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tame_malloc(job_workers: usize) {
    let workers = phonedir::http::request_workers();
    let arenas = i32::try_from(workers + job_workers + 2).unwrap_or(i32::MAX);
    // SAFETY: mallopt only sets an allocator parameter, before the server's threads start;
    // a refusal (0) leaves glibc's default. malloc_trim only releases free pages.
    unsafe {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
    let trim = std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| {
            phonedir::jobs::lower_priority();
            loop {
                std::thread::sleep(std::time::Duration::from_secs(2));
                // SAFETY: see above.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
    if let Err(e) = trim {
        tracing::warn!("memory freed by dropped books is not given back to the system: {e}");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tame_malloc(_job_workers: usize) {}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tame_malloc(args.max_syncs);
    let https = Some(args.https).filter(|a| !a.eq_ignore_ascii_case("off"));
    let off = |a: Option<String>| a.filter(|a| !a.eq_ignore_ascii_case("off"));
    // The demo listens for LDAP too, unless either listener is named.
    let demo_ldap = args.demo && args.ldap.is_none() && args.ldaps.is_none();
    let ldap = LdapConfig {
        plain: if demo_ldap {
            Some(ldap::server::DEMO_LDAP.to_owned())
        } else {
            off(args.ldap)
        },
        tls: if demo_ldap {
            Some(ldap::server::DEMO_LDAPS.to_owned())
        } else {
            off(args.ldaps)
        },
        max_hits: args.ldap_max_hits as usize,
        max_connections: args.ldap_max_connections as usize,
        idle_timeout: std::time::Duration::from_secs(args.ldap_idle_seconds),
        best_effort: demo_ldap,
    };
    let cfg = ServerConfig {
        data_dir: args.data.data_dir,
        https,
        http: args.http,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        self_signed: phonedir::http::tls::SelfSigned {
            key: args.tls_key_type,
            hostnames: args.tls_hostname,
            listen: Vec::new(),
        },
        limits: phonedir::push::Limits {
            quota: Quota {
                sources: args.max_sources,
                contacts: args.max_contacts,
                bytes: args.max_directory_bytes,
            },
            ..args.rules.limits()
        },
        upload: UploadLimits {
            max_bytes: args.max_upload_bytes,
            grace: Duration::from_secs(args.upload_timeout),
            min_rate: args.upload_min_rate,
        },
        connections: ConnectionLimits {
            max_connections: args.max_connections,
            request_timeout: Duration::from_secs(args.client_request_timeout),
            max_uploads: args.max_uploads,
            ..ConnectionLimits::default()
        },
        runner: RunnerConfig {
            workers: args.max_syncs,
            per_directory: args.max_syncs_per_directory,
            ..RunnerConfig::default()
        },
        sync: SyncLimits {
            timeout: Duration::from_secs(args.sync_timeout),
            max_response_bytes: args.max_response_bytes,
        },
        min_free_disk: args.min_free_disk,
        demo: args.demo,
        cache_bytes: args.cache_bytes,
        book_cache_bytes: args.book_cache_bytes,
        access_log: !args.no_access_log,
        key_failures_per_minute: args.key_failures_per_minute,
        registration_limit: args.registration_limit,
        trusted_proxies: args.trusted_proxy.map(|c| c.0).unwrap_or_default(),
        source_allow: args.source_allow.map(|c| c.0).unwrap_or_default(),
        metrics: args.metrics,
        ldap,
    };
    actix_web::rt::System::new().block_on(http::serve(cfg))?;
    Ok(())
}

fn key(s: &str) -> anyhow::Result<ApiKey> {
    ApiKey::parse(s).with_context(|| format!("`{s}` is not a directory key"))
}

/// The directory key of the directory that `s`, any of its keys, opens: the operator at the
/// command line may do everything.
fn directory_key(store: &Store, s: &str) -> anyhow::Result<ApiKey> {
    match store.resolve(&key(s)?)? {
        Some(access) => Ok(access.directory),
        None => bail!("no directory has the key {s}"),
    }
}

fn directory(command: DirectoryCommand) -> anyhow::Result<()> {
    match command {
        DirectoryCommand::Create { key: k, data } => {
            let store = Store::open(&data.data_dir)?;
            let k = match k {
                Some(k) => {
                    let k = key(&k)?;
                    if let Some(why) = k.guessable() {
                        eprintln!("warning: {why}");
                    }
                    k
                }
                None => phonedir::secret::new_api_key()?,
            };
            store.create_directory(&k)?;
            println!("created directory {k}");
            println!("keep this directory key to yourself; give phones a read key: phonedir directory keys create {k} --scope read");
        }
        DirectoryCommand::Keys { command } => keys(command)?,
        DirectoryCommand::List { data } => {
            let store = Store::open(&data.data_dir)?;
            // `contacts` is what phones see: the sources merged, the same person in two
            // sources once. `in sources` is the sum of the sources' own counts.
            println!(
                "{:<14}  {:>8}  {:>10}  {:>7}  {:>7}",
                "key", "contacts", "in sources", "sources", "version"
            );
            for d in store.list_directories()? {
                let merged = store
                    .snapshot(&d.directory.key)?
                    .map_or(0, |s| merge::merge(s.entries).len());
                println!(
                    "{:<14}  {:>8}  {:>10}  {:>7}  {:>7}",
                    d.directory.key, merged, d.contacts, d.sources, d.directory.version
                );
            }
        }
        DirectoryCommand::Set {
            key: k,
            name,
            region,
            numbers,
            outside_prefix,
            address_book_numbers,
            max_shrink_percent,
            default_region,
            data,
        } => {
            let store = Store::open(&data.data_dir)?;
            let k = directory_key(&store, &k)?;
            let Some(dir) = store.directory(&k)? else {
                bail!("no directory has the key {k}");
            };
            let mut settings = dir.settings;
            settings.merge(DirectorySettings::try_from(RawSettings {
                name,
                region,
                numbers,
                outside_prefix,
                address_book_numbers,
                max_shrink_percent,
            })?);
            settings.check_region(default_region)?;
            let dir = store.set_settings(&k, &settings)?;
            println!("{}", serde_json::to_string_pretty(&dir.settings)?);
        }
        DirectoryCommand::Delete { key: k, data } => {
            let store = Store::open(&data.data_dir)?;
            if !store.delete_directory(&key(&k)?)? {
                bail!("no directory has the key {k}");
            }
            println!("deleted directory {k}");
        }
    }
    Ok(())
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            key: k,
            scope,
            label,
            data,
        } => {
            let store = Store::open(&data.data_dir)?;
            let dir = directory_key(&store, &k)?;
            let scope = Scope::from_name(&scope).unwrap_or(Scope::Read);
            let (new, _) = store.create_key(&dir, scope, label.trim())?;
            println!("{new}");
            eprintln!("a {scope} key; it is shown only now");
        }
        KeysCommand::List { key: k, data } => {
            let store = Store::open(&data.data_dir)?;
            let dir = directory_key(&store, &k)?;
            println!(
                "{:>5}  {:<14}  {:<5}  {:<20}  {:<20}  label",
                "id", "key", "scope", "created", "last used"
            );
            for i in store.keys(&dir)? {
                println!(
                    "{:>5}  {:<14}  {:<5}  {:<20}  {:<20}  {}",
                    i.id,
                    format!("{}**********", i.hint),
                    i.scope,
                    i.created,
                    i.last_used
                        .map_or_else(|| "never".to_owned(), phonedir::sources::rfc3339),
                    i.label
                );
            }
        }
        KeysCommand::Revoke {
            key: k,
            other,
            data,
        } => {
            let store = Store::open(&data.data_dir)?;
            let dir = directory_key(&store, &k)?;
            let which = match (ApiKey::parse(&other), other.parse::<i64>()) {
                (Ok(o), _) => KeyRef::Key(o),
                (_, Ok(id)) => KeyRef::Id(id),
                _ => bail!("`{other}` is neither a key nor a key id from `directory keys list`"),
            };
            if !store.revoke_key(&dir, &which)? {
                bail!("the directory has no such key; `directory keys list` shows its keys");
            }
            println!("revoked");
        }
    }
    Ok(())
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.data.data_dir)?;
    let body = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    // Any key of an existing directory; an unknown one makes a new directory.
    let k = match store.resolve(&key(&args.key)?)? {
        Some(access) => access.directory,
        None => key(&args.key)?,
    };
    let map = args.map.as_deref().map(str::parse::<Mapping>).transpose()?;
    let json = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    // Drawn only on a terminal; a script's output stays clean.
    let bar = indicatif::ProgressBar::new(body.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("reading");
    let result = push::push_with_progress(
        &store,
        &args.rules.limits(),
        &PushRequest {
            key: &k,
            source: &args.source,
            body: &body,
            format: if json {
                InputFormat::Json
            } else {
                InputFormat::Csv
            },
            map: map.as_ref(),
            force: args.force,
            region: args.region,
            allow_empty: args.allow_empty,
            dry_run: args.dry_run,
        },
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            if done == total {
                bar.set_message("storing");
            }
        },
    );
    bar.finish_and_clear();
    let result = result?;
    let r = &result.report;
    println!(
        "{}: {} with {} from {} ({}, {}{})",
        args.file.display(),
        count(result.contacts, "contact", "contacts"),
        count(result.numbers, "number", "numbers"),
        count(r.rows, "row", "rows"),
        r.vocabulary,
        r.encoding,
        if r.delimiter.is_empty() {
            String::new()
        } else {
            format!(", {} delimited", r.delimiter)
        },
    );
    if result.dry_run {
        println!("dry run: nothing was stored");
    } else if result.changed {
        println!("directory {k} is now at version {}", result.version);
    } else {
        println!(
            "source `{}` already held exactly these contacts; nothing changed",
            result.source
        );
    }
    if !r.columns_used.is_empty() {
        println!("columns used: {}", r.columns_used.join(", "));
    }
    if !r.columns_ignored.is_empty() {
        println!("columns ignored: {}", r.columns_ignored.join(", "));
    }
    if !r.warnings.is_empty() {
        println!("{}:", count(r.warnings.len(), "problem", "problems"));
    }
    for w in &r.warnings {
        let place = if w.column.is_empty() {
            format!("line {}", w.line)
        } else {
            format!("line {}, column {}", w.line, w.column)
        };
        println!("  {place}: {}", cli_words(&w.message));
    }
    Ok(())
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    let Some(format) = Format::from_name(&args.format) else {
        bail!(
            "unknown format `{}`; use one of {}",
            args.format,
            Format::NAMES.join(", ")
        );
    };
    let store = Store::open(&args.data.data_dir)?;
    let Some(snap) = store.snapshot(&directory_key(&store, &args.key)?)? else {
        bail!("no directory has the key {}", args.key);
    };
    let book = Book::build(snap.directory, snap.entries);
    // As on the server: the options over the directory's settings; the CSV, being the data
    // contract, only changes when asked, and address books take their own setting.
    let s = &book.directory.settings;
    let applied = match format {
        Format::Csv => DirectorySettings {
            region: s.region,
            ..Default::default()
        },
        Format::Vcard3 | Format::Vcard4 => DirectorySettings {
            region: s.region,
            numbers: s.address_book_numbers,
            ..Default::default()
        },
        _ => s.clone(),
    };
    let params = ShapeParams::parse(
        args.numbers.as_deref(),
        args.outside_prefix.as_deref(),
        args.region.as_deref(),
    )?;
    let presenter = Presenter::resolve(&params, Some(&applied), None);
    if let Some(n) = params.numbers.filter(|n| n.needs_region()) {
        if presenter.region.is_none() {
            bail!(
                "--numbers {n} writes numbers as they are dialled inside one country, and neither --region nor the directory names it; add --region DE (your country)"
            );
        }
    }
    let r = format.render(book.title(), &book.all(), &presenter)?;
    print!("{}", r.body);
    if let Some(n) = r.notice {
        eprintln!("note: {n}");
    }
    Ok(())
}
