//! A push: a file for one source of one directory, read, checked and stored as a whole or
//! not at all. The HTTP handlers, the `import` command and `--demo` all come through here.

use crate::domain::ApiKey;
use crate::ingest::{self, IngestError, IngestOptions, Mapping, Report};
use crate::phone::{NumberRules, Region};
pub use crate::store::Quota;
use crate::store::{Store, StoreError};
use serde::Serialize;

/// The server-wide rules a push is read under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub default_region: Option<Region>,
    pub max_extension_digits: usize,
    pub max_rows: usize,
    pub max_field_chars: usize,
    /// Numbers kept per contact (pushes and pulled sources); more are left out with a warning.
    pub max_numbers: usize,
    /// An unknown well-formed key creates its directory on first push (sync.blue behaviour).
    pub open_registration: bool,
    /// What one directory may hold.
    pub quota: Quota,
}

/// What the pushed bytes are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    #[default]
    Csv,
    Json,
}

#[derive(Clone, Debug)]
pub struct PushRequest<'a> {
    pub key: &'a ApiKey,
    pub source: &'a str,
    pub body: &'a [u8],
    pub format: InputFormat,
    /// Columns named by the pusher (`?map=`).
    pub map: Option<&'a Mapping>,
    /// Store even if the directory's shrink guard would refuse.
    pub force: bool,
    /// `?region=`; wins over the directory's and the server's region.
    pub region: Option<Region>,
    /// Store a file that yields no contact (it empties the source).
    pub allow_empty: bool,
    pub dry_run: bool,
}

/// The answer to a push, as JSON.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PushResult {
    pub directory: String,
    pub source: String,
    pub version: i64,
    pub contacts: usize,
    pub numbers: usize,
    pub changed: bool,
    pub dry_run: bool,
    #[serde(flatten)]
    pub report: Report,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("a source name consists of 1 to 64 letters, digits, `-` and `_`")]
    BadSourceName,
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("the file yields no contact that can be stored; nothing was changed (push with ?allow_empty=true to empty the source on purpose)")]
    NoContacts { report: Box<Report> },
    #[error("the push would shrink source `{source_name}` from {before} to {after} contacts, more than this directory allows ({max_percent}%); push with ?force=true if that is intended")]
    Shrink {
        source_name: String,
        before: usize,
        after: usize,
        max_percent: u8,
    },
    #[error("no directory has this key, and this server creates directories only on request (--no-open-registration); create it with `phonedir directory create KEY` on the server, then push again")]
    Closed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn valid_source_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn push(store: &Store, limits: &Limits, req: &PushRequest) -> Result<PushResult, PushError> {
    let started = std::time::Instant::now();
    let result = push_with_progress(store, limits, req, &mut |_, _| {});
    let outcome = crate::metrics::Outcome::of(&result);
    crate::metrics::global().source_run("push", outcome, started.elapsed());
    result
}

/// As `push`, telling `progress(bytes_read, bytes_total)` how far reading has come.
pub fn push_with_progress(
    store: &Store,
    limits: &Limits,
    req: &PushRequest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<PushResult, PushError> {
    if !valid_source_name(req.source) {
        return Err(PushError::BadSourceName);
    }
    let existing = store.directory(req.key)?;
    if existing.is_none() && !limits.open_registration {
        return Err(PushError::Closed);
    }
    let region = req.region.or_else(|| {
        existing
            .as_ref()
            .and_then(|d| d.settings.region)
            .or(limits.default_region)
    });
    let opts = IngestOptions {
        rules: NumberRules {
            region,
            max_extension_digits: limits.max_extension_digits,
        },
        max_rows: limits.max_rows,
        max_field_chars: limits.max_field_chars,
        max_numbers: limits.max_numbers,
        map: req.map,
    };
    let parsed = match req.format {
        InputFormat::Csv => ingest::parse_csv_with_progress(req.body, &opts, progress)?,
        InputFormat::Json => ingest::parse_json(req.body, &opts)?,
    };
    if parsed.contacts.is_empty() && !req.allow_empty {
        return Err(PushError::NoContacts {
            report: Box::new(parsed.report),
        });
    }
    let numbers = parsed.contacts.iter().map(|c| c.numbers.len()).sum();
    let mut result = PushResult {
        directory: req.key.to_string(),
        source: req.source.to_owned(),
        version: existing.as_ref().map_or(0, |d| d.version),
        contacts: parsed.contacts.len(),
        numbers,
        changed: false,
        dry_run: req.dry_run,
        report: parsed.report,
    };
    if let (Some(dir), false) = (&existing, req.force) {
        if let Some(max_percent) = dir.settings.max_shrink_percent {
            let before = store
                .sources(req.key)?
                .into_iter()
                .find(|s| s.name == req.source)
                .map_or(0, |s| s.contacts);
            let after = result.contacts;
            if after < before && (before - after) * 100 > before * usize::from(max_percent) {
                return Err(PushError::Shrink {
                    source_name: req.source.to_owned(),
                    before,
                    after,
                    max_percent,
                });
            }
        }
    }
    if req.dry_run {
        return Ok(result);
    }
    let outcome = store.replace_source(
        req.key,
        req.source,
        "push",
        &parsed.contacts,
        limits.open_registration,
    )?;
    result.version = outcome.version;
    result.changed = outcome.changed;
    Ok(result)
}
