//! Pulled sources: a directory fetches contacts from Microsoft 365 (`graph`), CardDAV
//! (`carddav`), Google Contacts (`google`), LDAP directories such as Active Directory and
//! OpenLDAP (`ldap`) and JSON APIs (`rest`) itself, on a schedule or on demand.
//!
//! A sync fetches everything first and stores it in one transaction only when the fetch was
//! complete; a failure is recorded as a sentence in the source's status and leaves the last
//! good contacts in place. Every sync, scheduled or asked for through the API, runs as a job
//! of the shared runner (`crate::jobs`), under its deadline and cancellation.

pub mod build;
pub mod carddav;
mod google;
mod graph;
pub mod ldap;
pub mod net;
mod rest;
pub mod scheduler;
pub use crate::secret;
pub mod spec;
pub mod stream;
pub mod vcard;
pub mod xml;

use crate::domain::{ApiKey, Contact, SourceWarnings};
use crate::jobs::{Ctx, Job, Runner, SubmitError};
use crate::phone::NumberRules;
use crate::push::{valid_source_name, Limits};
use crate::store::{SourceRow, SourceSettings, Store, StoreError, SyncResult};
use build::RecordRules;
use net::Http;
use secret::Sealer;
use serde_json::{json, Value};
use spec::{SealedSettings, SourceConfig, Spec, SpecError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a sync failed, as a sentence for the status; never holds a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SyncError(pub String);

impl SyncError {
    pub fn new(s: impl Into<String>) -> Self {
        SyncError(s.into())
    }
}

/// What a kind's fetch found.
pub enum Fetched {
    Contacts {
        contacts: Vec<Contact>,
        state: Option<String>,
        /// What the records lost on the way (kept with the status).
        warnings: SourceWarnings,
    },
    Unchanged,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("a source name consists of 1 to 64 letters, digits, `-` and `_`")]
    BadName,
    #[error("this directory has no source of this name")]
    UnknownSource,
    #[error("`{0}` is a push source: it is filled by pushing CSV files, not synced")]
    NotPulled(String),
    #[error("a sync of this source is running; its result shows in the status")]
    Busy,
    #[error(
        "the server is busy with other syncs; the sync was not started, try again in a minute"
    )]
    Overloaded,
    #[error("a source `{name}` of kind {kind} exists; delete it first to reuse the name for another kind")]
    KindChange { name: String, kind: String },
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A begun sync: the source is marked `syncing` until `Syncer::run` ends it.
pub struct Ticket {
    key: ApiKey,
    row: SourceRow,
}

/// How long a sync may take and how much one answer may weigh.
#[derive(Clone, Copy, Debug)]
pub struct SyncLimits {
    /// Wall-clock time of one sync, all its requests and pages included (`--sync-timeout`).
    pub timeout: Duration,
    /// Largest answer of a remote system (`--max-response-bytes`).
    pub max_response_bytes: u64,
}

impl Default for SyncLimits {
    fn default() -> Self {
        SyncLimits {
            timeout: Duration::from_secs(900),
            max_response_bytes: net::DEFAULT_MAX_BODY,
        }
    }
}

/// The result of a started sync: the source's status once it ended.
pub type Outcome = tokio::sync::oneshot::Receiver<Result<SourceRow, SourceError>>;

/// Runs syncs; shared by the API and the scheduler.
pub struct Syncer {
    pub store: Arc<Store>,
    sealer: Sealer,
    http: Http,
    limits: Limits,
    runner: Runner,
    timeout: Duration,
    /// Requests waiting for a sync they did not start (one was running already), by
    /// (directory key, source name).
    waiters: std::sync::Mutex<std::collections::HashMap<(String, String), Vec<Waiter>>>,
}

type Waiter = tokio::sync::oneshot::Sender<Result<SourceRow, SourceError>>;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Syncer {
    pub fn new(
        store: Arc<Store>,
        sealer: Sealer,
        limits: Limits,
        runner: Runner,
        sync: SyncLimits,
    ) -> Syncer {
        Syncer {
            store,
            sealer,
            http: Http::new().with_max_body(sync.max_response_bytes),
            limits,
            runner,
            timeout: sync.timeout,
            waiters: Default::default(),
        }
    }

    /// Lets pulled sources reach the private networks in `allow` (`--source-allow`); without
    /// it they reach public addresses only.
    pub fn allowing(mut self, allow: Vec<crate::domain::cidr::Cidr>) -> Syncer {
        let max_body = self.http.max_body();
        self.http = Http::with_policy(net::NetPolicy::allowing(allow)).with_max_body(max_body);
        self
    }

    /// Creates or replaces a source from API JSON; answers its masked settings and whether
    /// it is new.
    pub fn put(&self, key: &ApiKey, name: &str, body: &[u8]) -> Result<(Value, bool), SourceError> {
        if !valid_source_name(name) {
            return Err(SourceError::BadName);
        }
        let mut cfg = SourceConfig::parse(body)?;
        let existing = self.store.source(key, name)?;
        if let Some(row) = &existing {
            if row.kind != cfg.spec.kind() && (row.kind == "push") != (cfg.spec.kind() == "push") {
                return Err(SourceError::KindChange {
                    name: name.to_owned(),
                    kind: row.kind.clone(),
                });
            }
        }
        let previous = existing
            .as_ref()
            .and_then(|row| row.config.as_deref())
            .and_then(|c| SourceConfig::unsealed(c, &self.sealer).ok());
        cfg.keep_secrets_from(previous.as_ref())?;
        let is_push = matches!(cfg.spec, Spec::Push {});
        let stored = if is_push {
            None
        } else {
            Some(cfg.sealed(&self.sealer)?)
        };
        let interval = if is_push { 0 } else { cfg.interval_s };
        // A new or changed pulled source syncs at once (if scheduled), then at its interval.
        let next_run = (interval > 0).then(now);
        self.store.put_source(
            key,
            name,
            &SourceSettings {
                kind: cfg.spec.kind(),
                priority: cfg.priority,
                interval_s: i64::try_from(interval).unwrap_or(i64::MAX),
                config: stored.as_deref(),
                next_run,
            },
        )?;
        Ok((cfg.masked(), existing.is_none()))
    }

    /// The source's settings (secrets masked) and status.
    pub fn get(&self, key: &ApiKey, name: &str) -> Result<Value, SourceError> {
        let row = self
            .store
            .source(key, name)?
            .ok_or(SourceError::UnknownSource)?;
        let settings = match row.config.as_deref() {
            None => json!({"kind": "push", "priority": row.priority}),
            Some(c) => SourceConfig::unsealed(c, &self.sealer)
                .map(|c| c.masked())
                // Without the key the settings still show, minus the secret.
                .unwrap_or_else(|e| json!({"kind": row.kind, "unreadable": e.to_string()})),
        };
        Ok(serde_json::to_value(SourceDetail {
            name: row.name.clone(),
            settings,
            status: source_status(&row),
        })
        .unwrap_or(Value::Null))
    }

    /// Starts a sync as a job of the runner; the receiver gets the source's status when it
    /// ends. The source says `syncing` from now on, also while the job waits for a worker.
    /// When a sync of the source runs already (the scheduler's, another request's), the
    /// receiver gets that sync's result instead.
    pub fn start(self: &Arc<Self>, key: &ApiKey, name: &str) -> Result<Outcome, SourceError> {
        let ticket = match self.begin(key, name) {
            Err(SourceError::Busy) => return self.join(key, name),
            other => other?,
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let me = self.clone();
        let (k, n) = (key.clone(), name.to_owned());
        let job = Job {
            directory: key.as_str().to_owned(),
            name: job_name(name),
            deadline: self.timeout,
            work: Box::new(move |ctx: &Ctx| {
                let run =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| me.run(ticket, ctx)));
                let result = run.unwrap_or_else(|_| {
                    // A bug, not the source: say so, and try again after a while, not now.
                    tracing::error!(source = n, "a sync panicked");
                    let why =
                        "the sync stopped on an internal error; the server log has the details";
                    me.store.fail_sync(&k, &n, why, Some(now() + 3600))?;
                    Err(SourceError::Store(crate::store::StoreError::Corrupt(
                        why.to_owned(),
                    )))
                });
                me.notify_waiters(&k, &n);
                let _ = tx.send(result);
            }),
        };
        // The source is ours now (`begin` marked it), so a job of its name still in the
        // runner is the last sync, which has told its result and is being cleaned up: a
        // moment's wait, not a refusal (a sync asked for right after another one ended).
        let cleanup = std::time::Instant::now();
        while self.runner.is_active(key.as_str(), &job_name(name))
            && cleanup.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        match self.runner.submit(job) {
            Ok(()) => Ok(rx),
            Err(e) => {
                let why = match e {
                    SubmitError::Duplicate => SourceError::Busy,
                    SubmitError::QueueFull => SourceError::Overloaded,
                };
                let retry = now() + 60;
                self.store
                    .fail_sync(key, name, &why.to_string(), Some(retry))?;
                Err(why)
            }
        }
    }

    /// A receiver for the result of the sync of the source that is running now.
    fn join(&self, key: &ApiKey, name: &str) -> Result<Outcome, SourceError> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if !self.runner.is_active(key.as_str(), &job_name(name)) {
            return Err(SourceError::Busy);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        waiters
            .entry((key.as_str().to_owned(), name.to_owned()))
            .or_default()
            .push(tx);
        Ok(rx)
    }

    /// Tells the requests that joined a sync how it ended: the source's status now.
    fn notify_waiters(&self, key: &ApiKey, name: &str) {
        let taken = self
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(key.as_str().to_owned(), name.to_owned()));
        for w in taken.into_iter().flatten() {
            let row = self.store.source(key, name);
            let _ = w.send(match row {
                Ok(Some(r)) => Ok(r),
                Ok(None) => Err(SourceError::UnknownSource),
                Err(e) => Err(e.into()),
            });
        }
    }

    /// Stops a queued or running sync of the source (it was deleted).
    pub fn cancel(&self, key: &ApiKey, name: &str) -> bool {
        self.runner.cancel(key.as_str(), &job_name(name))
    }

    /// Marks the source as syncing (one sync at a time); `run` does the work.
    fn begin(&self, key: &ApiKey, name: &str) -> Result<Ticket, SourceError> {
        let row = self
            .store
            .source(key, name)?
            .ok_or(SourceError::UnknownSource)?;
        if row.config.is_none() {
            return Err(SourceError::NotPulled(name.to_owned()));
        }
        if !self.store.begin_sync(key, name)? {
            return Err(SourceError::Busy);
        }
        Ok(Ticket {
            key: key.clone(),
            row,
        })
    }

    /// Does the sync a `begin` marked, within the job's deadline and cancellation.
    fn run(&self, ticket: Ticket, ctx: &Ctx) -> Result<SourceRow, SourceError> {
        let Ticket { key, row } = ticket;
        let (key, name) = (&key, row.name.as_str());
        let stored = row.config.clone().unwrap_or_default();
        let started = std::time::Instant::now();
        let result = SourceConfig::unsealed(&stored, &self.sealer)
            .map_err(|e| SyncError::new(e.to_string()))
            .and_then(|cfg| {
                let fetched = self.fetch(key, &cfg, row.sync_state.as_deref(), ctx)?;
                if let Fetched::Contacts { contacts, .. } = &fetched {
                    if contacts.is_empty() && row.contacts > 0 && !cfg.allow_empty {
                        return Err(SyncError::new(format!(
                            "the source answered no contacts at all where it had {}; taken for a fault, the last good contacts are kept (set \"allow_empty\": true if it is really empty now)",
                            row.contacts
                        )));
                    }
                }
                Ok((cfg, fetched))
            });
        let interval = u64::try_from(row.interval_s).unwrap_or(0);
        match result {
            Ok((_, fetched)) => {
                let next = (interval > 0).then(|| now() + secs(with_jitter(interval)));
                let r = match &fetched {
                    Fetched::Contacts {
                        contacts,
                        state,
                        warnings,
                    } => SyncResult::Contacts(contacts, state.clone(), warnings),
                    Fetched::Unchanged => SyncResult::Unchanged,
                };
                let outcome = self.store.finish_sync(key, name, r, next);
                if let Err(e) = outcome {
                    let _ = self.store.fail_sync(key, name, &e.to_string(), next);
                    return Err(e.into());
                }
                tracing::info!(
                    source = name,
                    kind = row.kind,
                    ms = started.elapsed().as_millis() as u64,
                    "sync finished"
                );
                crate::metrics::global().source_run(
                    &row.kind,
                    crate::metrics::Outcome::Ok,
                    started.elapsed(),
                );
            }
            Err(e) => {
                let next = (interval > 0).then(|| now() + secs(backoff(interval, row.failures)));
                tracing::warn!(source = name, kind = row.kind, error = %e, "sync failed");
                crate::metrics::global().source_run(
                    &row.kind,
                    crate::metrics::Outcome::Failed,
                    started.elapsed(),
                );
                self.store.fail_sync(key, name, &e.0, next)?;
            }
        }
        self.store
            .source(key, name)?
            .ok_or(SourceError::UnknownSource)
    }

    fn fetch(
        &self,
        key: &ApiKey,
        cfg: &SourceConfig,
        state: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Fetched, SyncError> {
        let http = self.http.bounded(ctx).trusting(cfg.ca_cert.as_deref())?;
        let dir_region = self
            .store
            .directory(key)
            .ok()
            .flatten()
            .and_then(|d| d.settings.region);
        let rules = RecordRules {
            numbers: NumberRules {
                region: cfg.region().or(dir_region).or(self.limits.default_region),
                max_extension_digits: self.limits.max_extension_digits,
            },
            max_field_chars: self.limits.max_field_chars,
            max_numbers: self.limits.max_numbers,
            max_contacts: self.limits.quota.contacts,
        };
        match &cfg.spec {
            Spec::Push {} => Err(SyncError::new("a push source is not synced")),
            Spec::Carddav(c) => carddav::fetch(&http, c, state, &rules),
            Spec::Rest(r) => {
                let r = r.resolved().map_err(|e| SyncError::new(e.to_string()))?;
                rest::fetch(&http, &r, &rules)
            }
            Spec::Graph(g) => graph::fetch(&http, g, state, &rules),
            Spec::Google(g) => google::fetch(&http, g, state, &rules),
            Spec::Ldap(l) => ldap::fetch(&http, l, &rules),
        }
    }
}

/// The runner's name for a source's sync job.
fn job_name(source: &str) -> String {
    format!("source:{source}")
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The interval plus up to 10 % random delay, so many sources do not all run at once.
fn with_jitter(interval_s: u64) -> Duration {
    let mut b = [0u8; 4];
    let r = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map(|_| u32::from_le_bytes(b))
        .unwrap_or(0);
    let spread = interval_s / 10;
    let extra = if spread == 0 {
        0
    } else {
        u64::from(r) % spread
    };
    Duration::from_secs(interval_s + extra)
}

/// After `failures` failed syncs in a row: 1, 2, 4, … minutes, never later than the interval.
pub fn backoff(interval_s: u64, failures: i64) -> Duration {
    let step = 60u64.saturating_mul(1u64 << failures.clamp(0, 16));
    Duration::from_secs(step.min(interval_s.max(60)))
}

/// A source's status as the API shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SourceStatus {
    pub name: String,
    /// `push`, `graph`, `carddav`, `rest`, `google` or `ldap`.
    pub kind: String,
    /// `ok`, `error`, `never_synced` or `syncing`.
    pub status: String,
    /// Lower wins merge conflicts.
    pub priority: i64,
    /// Seconds between scheduled syncs; 0 = only on demand.
    pub interval_s: i64,
    pub contacts: usize,
    /// RFC 3339, UTC.
    pub last_success: Option<String>,
    /// Why the last sync failed, as a sentence.
    pub last_error: Option<String>,
    /// When the scheduler runs it next (RFC 3339, UTC).
    pub next_run: Option<String>,
    /// What the last good sync could not use (a number it cannot read, a record without
    /// a name), counted, with the first of them.
    pub warnings: crate::domain::SourceWarnings,
}

/// A source's settings (secrets masked) and status: `GET …/sources/{name}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SourceDetail {
    pub name: String,
    #[schema(value_type = spec::SourceSettingsSchema)]
    pub settings: Value,
    pub status: SourceStatus,
}

pub fn source_status(row: &SourceRow) -> SourceStatus {
    SourceStatus {
        name: row.name.clone(),
        kind: row.kind.clone(),
        status: row.status.clone(),
        priority: row.priority,
        interval_s: row.interval_s,
        contacts: row.contacts,
        last_success: row.last_success.clone(),
        last_error: row.last_error.clone(),
        next_run: row.next_run.map(rfc3339),
        warnings: row.warnings.clone(),
    }
}

pub fn status_json(row: &SourceRow) -> Value {
    serde_json::to_value(source_status(row)).unwrap_or(Value::Null)
}

/// Unix seconds as `2026-11-23T04:25:17Z`.
pub fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_jitter_and_backoff() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_407_917), "2026-11-23T04:25:17Z");
        for _ in 0..20 {
            let j = with_jitter(3600).as_secs();
            assert!((3600..3960).contains(&j), "{j}");
        }
        assert_eq!(backoff(3600, 0).as_secs(), 60);
        assert_eq!(backoff(3600, 2).as_secs(), 240);
        assert_eq!(backoff(3600, 10).as_secs(), 3600);
        assert_eq!(backoff(0, 3).as_secs(), 60);
    }
}
