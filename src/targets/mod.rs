//! Targets: readers that write. A target pushes the book into a PBX's own contact store
//! (innovaphone, EasyConnect, 3CX, Placetel, FRITZ!Box), so caller names show on every phone
//! behind it. Managed like sources (`PUT/GET/DELETE …/targets/NAME`, secrets sealed), run
//! as jobs of the shared runner (`crate::jobs`) after each new directory version
//! (debounced), every `interval_s`, and on demand.
//!
//! A run reads the book (`Books`), what phonedir holds in the target (`store`'s mapping) and,
//! where the kind can, what the target holds now; `plan` decides what to write; `run`
//! writes it and records each write as the PBX confirms it. Data flows one way: the book
//! is read, never written.

mod client;
mod digest;
mod easyconnect;
pub mod entry;
mod fritzbox;
mod innovaphone;
mod kind;
mod placetel;
pub mod plan;
mod run;
pub mod scheduler;
pub mod spec;
mod threecx;

use crate::book::{BookError, Books};
use crate::domain::ApiKey;
use crate::jobs::{Ctx, Job, Runner, SubmitError};
use crate::push::{valid_source_name, Limits};
use crate::secret::Sealer;
use crate::sources::net::{Http, NetPolicy};
use crate::sources::spec::{SealedSettings, SpecError};
use crate::sources::{now, rfc3339};
use crate::store::{Store, StoreError, TargetRow, TargetSettings, Trigger};
use serde_json::{json, Value};
use spec::TargetConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Writes the PBX confirmed (creates, updates, deletes, uploads), counted on the metrics
/// page by the target's kind.
fn count_writes(kind: &'static str, n: u64) {
    crate::metrics::global().target_writes(kind, crate::metrics::Outcome::Ok, n);
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("a target name consists of 1 to 64 letters, digits, `-` and `_`")]
    BadName,
    #[error("this directory has no target of this name")]
    Unknown,
    #[error("a run of this target is going on; its result shows in the status")]
    Busy,
    #[error("the server is busy with other runs; the run was not started, try again in a minute")]
    Overloaded,
    #[error("{0}")]
    Invalid(String),
    /// The run could not be done; the sentence says why (credentials, an unreachable PBX).
    #[error("{0}")]
    Failed(String),
    /// The planned run writes nothing: the book shrank too much.
    #[error("{reason}")]
    Refused { reason: String, plan: Value },
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Book(#[from] BookError),
}

/// Why a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Its interval (or a retry) came round: reconcile everything.
    Scheduled,
    /// A new directory version: write what changed since the last run.
    Changed,
    /// Asked for through the API: everything.
    Demand,
}

impl From<Trigger> for Why {
    fn from(t: Trigger) -> Why {
        match t {
            Trigger::Scheduled => Why::Scheduled,
            Trigger::Changed => Why::Changed,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub why: Why,
    /// Plan only: answer the plan, write nothing.
    pub dry_run: bool,
    /// Write even though the book shrank more than `max_delete_percent`.
    pub force: bool,
}

/// How a run ended, for whoever waits for it.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The target's status afterwards (`status_json`).
    pub status: Value,
    /// The plan (a dry run's) or the plan that was carried out, with each failure.
    pub plan: Value,
    /// Why the run stopped before its end (credentials, deadline, an unreachable PBX).
    pub stopped: Option<String>,
}

pub type Receiver = tokio::sync::oneshot::Receiver<Result<Outcome, TargetError>>;
type Waiter = tokio::sync::oneshot::Sender<Result<Outcome, TargetError>>;

pub struct Targets {
    store: Arc<Store>,
    books: Arc<Books>,
    sealer: Sealer,
    http: Http,
    runner: Runner,
    limits: Limits,
    timeout: Duration,
    /// Requests waiting for a run they did not start, by (directory key, target name).
    waiters: Mutex<HashMap<(String, String), Vec<Waiter>>>,
}

/// The runner's name for a target's run.
fn job_name(target: &str) -> String {
    format!("target:{target}")
}

impl Targets {
    /// Targets reach public addresses and the private networks in `allow`
    /// (`--source-allow`): a PBX on the LAN needs its range there.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<Store>,
        books: Arc<Books>,
        sealer: Sealer,
        runner: Runner,
        limits: Limits,
        sync: crate::sources::SyncLimits,
        allow: Vec<crate::domain::cidr::Cidr>,
    ) -> Targets {
        Targets {
            store,
            books,
            sealer,
            http: Http::with_policy(NetPolicy::allowing(allow))
                .with_max_body(sync.max_response_bytes),
            runner,
            limits,
            timeout: sync.timeout,
            waiters: Mutex::default(),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Creates or replaces a target from API JSON; answers whether it is new. Pointed at
    /// another kind, PBX or phone book, it forgets what it held (and stops a run going on).
    pub fn put(&self, key: &ApiKey, name: &str, body: &[u8]) -> Result<bool, TargetError> {
        if !valid_source_name(name) {
            return Err(TargetError::BadName);
        }
        let mut cfg = TargetConfig::parse(body)?;
        let dir = self
            .store
            .directory(key)?
            .ok_or(StoreError::UnknownDirectory)?;
        if cfg.numbers.needs_region()
            && dir.settings.region.is_none()
            && self.limits.default_region.is_none()
        {
            return Err(TargetError::Invalid(format!(
                "`numbers` is {}, which writes numbers as dialled inside one country, and the directory has no region; set the directory's region (PUT …/settings) first",
                cfg.numbers
            )));
        }
        let existing = self.store.target(key, name)?;
        let previous = existing
            .as_ref()
            .and_then(|row| TargetConfig::unsealed(&row.config, &self.sealer).ok());
        cfg.keep_secrets_from(previous.as_ref())?;
        let reset = previous
            .as_ref()
            .is_none_or(|p| p.spec.store_identity() != cfg.spec.store_identity());
        let stored = cfg.sealed(&self.sealer)?;
        let debounce = i64::try_from(cfg.debounce_s).unwrap_or(0);
        self.store.put_target(
            key,
            name,
            &TargetSettings {
                kind: cfg.spec.kind(),
                config: &stored,
                interval_s: i64::try_from(cfg.interval_s).unwrap_or(i64::MAX),
                debounce_s: debounce,
                // A new or changed target runs once it was left alone for its debounce
                // (time for a dry run first), then after changes and at its interval.
                next_run: Some(now() + debounce),
                reset: existing.is_some() && reset,
            },
        )?;
        if existing.is_some() && reset {
            self.runner.cancel(key.as_str(), &job_name(name));
        }
        Ok(existing.is_none())
    }

    /// The target's settings (secrets masked), status and last dry run.
    pub fn get(&self, key: &ApiKey, name: &str) -> Result<TargetDetail, TargetError> {
        let row = self.store.target(key, name)?.ok_or(TargetError::Unknown)?;
        let settings = TargetConfig::unsealed(&row.config, &self.sealer)
            .map(|c| c.masked())
            .unwrap_or_else(|e| json!({"kind": row.kind, "unreadable": e.to_string()}));
        let dry: Value = row
            .dry_run
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null);
        Ok(TargetDetail {
            name: row.name.clone(),
            settings,
            status: target_status(&row),
            last_dry_run: dry,
        })
    }

    /// Removes the target and stops its run; the PBX's entries stay as they are.
    pub fn delete(&self, key: &ApiKey, name: &str) -> Result<bool, TargetError> {
        let gone = self.store.delete_target(key, name)?;
        self.runner.cancel(key.as_str(), &job_name(name));
        Ok(gone)
    }

    /// Starts a run as a job of the runner; the receiver gets how it ended. A run asked for
    /// while one goes on gets that one's result (a dry run is refused instead: its plan
    /// would be of a target in the middle of being written).
    pub fn start(
        self: &Arc<Self>,
        key: &ApiKey,
        name: &str,
        req: Request,
    ) -> Result<Receiver, TargetError> {
        let row = self.store.target(key, name)?.ok_or(TargetError::Unknown)?;
        if !req.dry_run && !self.store.begin_run(key, name)? {
            return self.join(key, name);
        }
        if req.dry_run && row.status == "running" {
            return Err(TargetError::Busy);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let me = self.clone();
        let (k, n) = (key.clone(), name.to_owned());
        let id = row.id;
        let job = Job {
            directory: key.as_str().to_owned(),
            // A dry run writes nothing: it never keeps a run of the target from starting.
            name: if req.dry_run {
                format!("target-plan:{name}")
            } else {
                job_name(name)
            },
            deadline: self.timeout,
            work: Box::new(move |ctx: &Ctx| {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    me.run(&k, row, req, ctx)
                }))
                .unwrap_or_else(|_| {
                    tracing::error!(target = n, "a target run panicked");
                    let why =
                        "the run stopped on an internal error; the server log has the details";
                    if !req.dry_run {
                        let _ = me.store.finish_run(
                            id,
                            &crate::store::RunEnd {
                                error: Some(why),
                                next_run: Some(now() + 3600),
                                synced_version: None,
                                book_contacts: None,
                                last_run: "{}",
                                snapshot_hash: None,
                            },
                        );
                    }
                    Err(TargetError::Failed(why.into()))
                });
                if !req.dry_run {
                    me.notify_waiters(&k, &n, &result);
                }
                let _ = tx.send(result);
            }),
        };
        match self.submit(job) {
            Ok(()) => Ok(rx),
            Err(e) => {
                let why = match e {
                    SubmitError::Duplicate => TargetError::Busy,
                    SubmitError::QueueFull => TargetError::Overloaded,
                };
                if !req.dry_run {
                    self.store.finish_run(
                        id,
                        &crate::store::RunEnd {
                            error: Some(&why.to_string()),
                            next_run: Some(now() + 60),
                            synced_version: None,
                            book_contacts: None,
                            last_run: "{}",
                            snapshot_hash: None,
                        },
                    )?;
                }
                Err(why)
            }
        }
    }

    /// Submits a run. A run that just answered its waiter may still be leaving the runner
    /// (its bookkeeping after the work): a duplicate is tried again for a moment before it
    /// counts as a run going on.
    fn submit(&self, job: Job) -> Result<(), SubmitError> {
        for _ in 0..100 {
            if !self.runner.is_active(&job.directory, &job.name) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.runner.submit(job)
    }

    /// A receiver for the result of the run going on now.
    fn join(&self, key: &ApiKey, name: &str) -> Result<Receiver, TargetError> {
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if !self.runner.is_active(key.as_str(), &job_name(name)) {
            return Err(TargetError::Busy);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        waiters
            .entry((key.as_str().to_owned(), name.to_owned()))
            .or_default()
            .push(tx);
        Ok(rx)
    }

    fn notify_waiters(&self, key: &ApiKey, name: &str, result: &Result<Outcome, TargetError>) {
        let taken = self
            .waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(key.as_str().to_owned(), name.to_owned()));
        for w in taken.into_iter().flatten() {
            let _ = w.send(match result {
                Ok(o) => Ok(o.clone()),
                Err(e) => Err(TargetError::Failed(e.to_string())),
            });
        }
    }
}

/// A target's status as the API shows it: how its last run went and what it did.
/// A target's status as the API and the admin overview show it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TargetStatus {
    pub name: String,
    /// `innovaphone`, `easyconnect`, `3cx`, `placetel` or `fritzbox`.
    pub kind: String,
    /// `ok`, `error`, `never_run` or `running`.
    pub status: String,
    /// RFC 3339, UTC.
    pub last_success: Option<String>,
    /// Why the last run failed, as a sentence.
    pub last_error: Option<String>,
    /// When it runs next (RFC 3339, UTC).
    pub next_run: Option<String>,
    /// Seconds between full comparisons with the PBX.
    pub interval_s: i64,
    /// Seconds after a new directory version before the changes are written.
    pub debounce_s: i64,
    /// Writes sent to the PBX since the target was set up.
    pub writes: i64,
    /// The last run's counts: created, updated, deleted, skipped, unchanged.
    #[schema(value_type = Option<Object>)]
    pub counts: Option<Value>,
    /// The last run: its counts, what it skipped and why, when it ended.
    #[schema(value_type = Option<Object>)]
    pub last_run: Option<Value>,
}

/// `GET …/targets/{name}`: the settings with secrets masked, the status, the last dry run.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TargetDetail {
    pub name: String,
    #[schema(value_type = Object)]
    pub settings: Value,
    pub status: TargetStatus,
    /// The plan of the last `?dry_run=true` with `at`, when it was made; or null.
    #[schema(value_type = Option<Object>)]
    pub last_dry_run: Value,
}

pub fn target_status(row: &TargetRow) -> TargetStatus {
    let last_run: Option<Value> = row
        .last_run
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .filter(|v: &Value| v.as_object().is_some_and(|o| !o.is_empty()));
    TargetStatus {
        name: row.name.clone(),
        kind: row.kind.clone(),
        status: row.status.clone(),
        last_success: row.last_success.clone(),
        last_error: row.last_error.clone(),
        next_run: row.next_run.map(rfc3339),
        interval_s: row.interval_s,
        debounce_s: row.debounce_s,
        writes: row.writes,
        counts: last_run.as_ref().and_then(|r| r.get("counts").cloned()),
        last_run,
    }
}

pub fn status_json(row: &TargetRow) -> Value {
    serde_json::to_value(target_status(row)).unwrap_or(Value::Null)
}
