//! One run of a target, inside a job of the runner: read the book (the whole of it, or what
//! changed since the last complete run), read the target where the kind can, plan, and
//! write the plan — recording each write as soon as the PBX confirmed it, so a run stopped
//! anywhere leaves a mapping that tells the truth. A create is recorded as an intent before
//! it is sent: if its answer never arrives, the next run looks for the entry first.

use super::client::{Auth, Client, RemoteError};
use super::entry::{Layout, Payload};
use super::kind::{self, Kind, Reading};
use super::plan::{self, Desired, Held, Input, Origin, Plan, RemoteEntry, Rules, Scope, View};
use super::spec::{TargetConfig, TargetSpec};
use super::{count_writes, status_json, Outcome, Request, TargetError, Targets, Why};
use crate::book::{Book, BookError};
use crate::domain::{ApiKey, ContactId};
use crate::jobs::Ctx;
use crate::phone::NumberRules;
use crate::render::{Presenter, ShapeParams};
use crate::sources::net::origin;
use crate::sources::spec::SealedSettings;
use crate::sources::{backoff, now, rfc3339};
use crate::store::{EntryRow, RunEnd, StoreError, TargetRow};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Failures and skipped entries kept in the status (all of them are in the run's answer).
const STATUS_LIST: usize = 20;

/// What a run did.
#[derive(Default)]
struct Report {
    created: usize,
    updated: usize,
    deleted: usize,
    failed: Vec<(ContactId, String)>,
}

enum Ended {
    /// A dry run's plan.
    Planned(Value),
    Ran(Box<Ran>),
}

struct Ran {
    plan: Plan,
    report: Report,
    version: i64,
    book_len: usize,
    snapshot_hash: Option<String>,
    changes_only: bool,
    /// Why it stopped before its end.
    stopped: Option<String>,
}

fn auth_of(spec: &TargetSpec) -> Auth {
    match spec {
        TargetSpec::Innovaphone(s) => Auth::Digest {
            user: s.username.clone(),
            password: s.password.clone(),
        },
        TargetSpec::Fritzbox(s) => Auth::Digest {
            user: s.username.clone(),
            password: s.password.clone(),
        },
        TargetSpec::Placetel(s) => Auth::Bearer(s.token.clone()),
        // The key goes in the query; 3CX fetches its token first.
        TargetSpec::Easyconnect(_) | TargetSpec::Threecx(_) => Auth::None,
    }
}

fn hint_of(spec: &TargetSpec) -> &'static str {
    match spec {
        TargetSpec::Innovaphone(_) => "`username` and `password`: the Contacts app's User and Password (HTTP Post) in the PBX Manager",
        TargetSpec::Fritzbox(_) => "`username` and `password`: a FRITZ!Box user allowed to change the box's settings",
        TargetSpec::Easyconnect(_) => "`apikey`: one of the API keys in the EasyConnect settings",
        TargetSpec::Threecx(_) => "`client_id` and `client_secret` of the 3CX API client (Admin Console → Integrations → API)",
        TargetSpec::Placetel(_) => "`token`: the Placetel API key (Integrations → Web API)",
    }
}

/// What the run does after a failed request.
enum Next {
    Failed(String),
    Stop(String),
}

fn next(e: RemoteError) -> Next {
    match e {
        RemoteError::Auth(s) | RemoteError::Stop(s) => Next::Stop(s),
        RemoteError::Entry(s) | RemoteError::Unsure(s) => Next::Failed(s),
        RemoteError::NotFound => Next::Failed("the PBX has no such entry".into()),
    }
}

/// A failure to read the target, for the whole run.
fn unreadable(e: RemoteError, url: &str) -> TargetError {
    TargetError::Failed(match e {
        RemoteError::NotFound => format!(
            "{} answered 404 (not found) when phonedir read the contacts; check `url`",
            origin(url)
        ),
        other => other.to_string(),
    })
}

fn entry_row(contact: ContactId, remote: Option<&str>, origin: Origin, p: &Payload) -> EntryRow {
    EntryRow {
        contact,
        remote_id: remote.map(str::to_owned),
        origin: origin.as_str().to_owned(),
        fingerprint: if remote.is_some() {
            p.fingerprint()
        } else {
            String::new()
        },
        payload: serde_json::to_string(p).unwrap_or_else(|_| "{}".into()),
        written_at: now(),
    }
}

impl Targets {
    /// Runs a target and records how it ended (a dry run records only its plan).
    pub(super) fn run(
        &self,
        key: &ApiKey,
        row: TargetRow,
        req: Request,
        ctx: &Ctx,
    ) -> Result<Outcome, TargetError> {
        let started = std::time::Instant::now();
        let ended = self.attempt(key, &row, req, ctx);
        let interval = u64::try_from(row.interval_s).unwrap_or(0);
        let retry = now()
            + i64::try_from(backoff(interval.max(3600), row.failures).as_secs()).unwrap_or(3600);
        match ended {
            Ok(Ended::Planned(plan)) => {
                // Kept with when it was made: a plan ages as the book and the PBX change.
                let mut kept = plan.clone();
                kept["at"] = rfc3339(now()).into();
                self.store.save_dry_run(row.id, &kept.to_string())?;
                Ok(Outcome {
                    status: self.status(key, &row.name)?,
                    plan,
                    stopped: None,
                })
            }
            Err(e) if req.dry_run => Err(e),
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(target = row.name, kind = row.kind, error = %why, "target run failed");
                let last = json!({"at": rfc3339(now()), "error": why});
                self.store.finish_run(
                    row.id,
                    &RunEnd {
                        error: Some(&why),
                        next_run: Some(retry),
                        synced_version: None,
                        book_contacts: None,
                        last_run: &last.to_string(),
                        snapshot_hash: None,
                    },
                )?;
                Err(e)
            }
            Ok(Ended::Ran(r)) => {
                let Ran {
                    plan,
                    report,
                    version,
                    book_len,
                    snapshot_hash,
                    changes_only,
                    stopped,
                } = *r;
                let failed = report.failed.len();
                let error = stopped.clone().or_else(|| {
                    report.failed.first().map(|(c, why)| {
                        format!(
                            "{failed} of {} writes failed (contact {c}: {why}); the next run tries them again",
                            plan.writes()
                        )
                    })
                });
                let next_run = match (&error, interval) {
                    (Some(_), _) => Some(retry),
                    (None, 0) => None,
                    (None, i) => Some(now() + i64::try_from(i).unwrap_or(i64::MAX / 2)),
                };
                let counts = json!({
                    "created": report.created,
                    "updated": report.updated,
                    "deleted": report.deleted,
                    "skipped": plan.skipped.len(),
                    "failed": failed,
                    "unchanged": plan.unchanged,
                    "warnings": plan.warnings.len(),
                });
                let failures: Vec<Value> = report
                    .failed
                    .iter()
                    .map(|(c, e)| json!({"contact": c.to_string(), "error": e}))
                    .collect();
                let last = json!({
                    "at": rfc3339(now()),
                    "version": version,
                    "mode": if changes_only { "changes" } else { "full" },
                    "counts": counts,
                    "failures": &failures[..failed.min(STATUS_LIST)],
                    "skipped": plan.skipped.iter().take(STATUS_LIST)
                        .map(|s| json!({"contact": s.contact.to_string(), "reason": s.reason}))
                        .collect::<Vec<_>>(),
                    "stopped": stopped,
                });
                self.store.finish_run(
                    row.id,
                    &RunEnd {
                        error: error.as_deref(),
                        next_run,
                        synced_version: error.is_none().then_some(version),
                        book_contacts: stopped
                            .is_none()
                            .then(|| i64::try_from(book_len).unwrap_or(i64::MAX)),
                        last_run: &last.to_string(),
                        snapshot_hash: snapshot_hash.as_deref(),
                    },
                )?;
                tracing::info!(
                    target = row.name,
                    kind = row.kind,
                    created = report.created,
                    updated = report.updated,
                    deleted = report.deleted,
                    failed,
                    ms = started.elapsed().as_millis() as u64,
                    "target run finished"
                );
                let mut executed = plan.to_json();
                executed["failures"] = failures.into();
                Ok(Outcome {
                    status: self.status(key, &row.name)?,
                    plan: executed,
                    stopped,
                })
            }
        }
    }

    fn status(&self, key: &ApiKey, name: &str) -> Result<Value, TargetError> {
        let row = self.store.target(key, name)?.ok_or(TargetError::Unknown)?;
        Ok(status_json(&row))
    }

    /// The newest book, logged in the change log (a version a later run may ask "since").
    fn book(&self, key: &ApiKey) -> Result<Arc<Book>, TargetError> {
        let book = self
            .books
            .get(key)?
            .ok_or(TargetError::Store(StoreError::UnknownDirectory))?;
        self.books.logged(&book)?;
        Ok(book)
    }

    fn attempt(
        &self,
        key: &ApiKey,
        row: &TargetRow,
        req: Request,
        ctx: &Ctx,
    ) -> Result<Ended, TargetError> {
        let cfg = TargetConfig::unsealed(&row.config, &self.sealer)
            .map_err(|e| TargetError::Failed(e.to_string()))?;
        if let Some(s) = cfg.missing_secret() {
            return Err(TargetError::Failed(format!(
                "no `{s}` is set; PUT the target's settings with it"
            )));
        }
        let held: Vec<Held> = self
            .store
            .target_entries(row.id)?
            .into_iter()
            .map(|e| Held {
                contact: e.contact,
                remote_id: e.remote_id,
                origin: Origin::parse(&e.origin),
                fingerprint: e.fingerprint,
                payload: serde_json::from_str(&e.payload).unwrap_or_default(),
                since: e.written_at,
            })
            .collect();
        let pending = held
            .iter()
            .any(|h| h.remote_id.is_none() && h.origin != Origin::Undecided);
        let undecided = held.iter().any(|h| h.origin == Origin::Undecided);
        let first_run = row.last_success.is_none();
        let url = cfg.spec.url().to_owned();
        let client = Client::new(&self.http, ctx, auth_of(&cfg.spec), hint_of(&cfg.spec));
        let mut kind = kind::open(&cfg.spec, client);
        let reading = kind.reading();

        // After a new version, only what changed since the last complete run — unless the
        // run must read the target anyway (first run, an interrupted create).
        let mut changes = None;
        let incremental = req.why == Why::Changed
            && !req.dry_run
            && !first_run
            && !pending
            && reading != Reading::Nothing;
        let book = match row.synced_version.filter(|_| incremental) {
            Some(since) => match self.books.changes(key, since) {
                Ok(Some((book, ch))) => {
                    changes = Some(ch);
                    book
                }
                Ok(None) => return Err(TargetError::Store(StoreError::UnknownDirectory)),
                // The log no longer reaches back: everything, then.
                Err(BookError::Changes(_)) => self.book(key)?,
                Err(e) => return Err(e.into()),
            },
            None => self.book(key)?,
        };

        let shape = ShapeParams::parse(Some(cfg.numbers.name()), Some(""), None)
            .map_err(|e| TargetError::Invalid(e.to_string()))?;
        let presenter = Presenter::resolve(
            &shape,
            Some(&book.directory.settings),
            self.limits.default_region,
        );
        let layout = kind.layout();
        let in_scope: Vec<&crate::domain::Contact> = match &changes {
            None => book.contacts.iter().collect(),
            Some(ch) => ch
                .added
                .iter()
                .chain(&ch.changed)
                .filter_map(|id| book.get(*id))
                .collect(),
        };
        let desired: Vec<Desired> = in_scope
            .iter()
            .map(|c| {
                let (payload, warnings) = layout.payload(c, &presenter, &kind.extra(c.id));
                Desired {
                    contact: c.id,
                    name: c.display_name.clone(),
                    payload,
                    warnings,
                }
            })
            .collect();

        let remote: Vec<RemoteEntry> = match (&changes, reading) {
            (Some(_), _) | (None, Reading::Nothing) => Vec::new(),
            (None, Reading::List) => kind.list().map_err(|e| unreadable(e, &url))?,
            (None, Reading::Search) => search_all(kind.as_mut(), layout, &desired, &held)
                .map_err(|e| unreadable(e, &url))?,
        };
        let view = match (&changes, reading) {
            (Some(_), _) | (None, Reading::Nothing) => View::Trusted,
            (None, Reading::List) => View::Complete(&remote),
            (None, Reading::Search) => View::Partial(&remote),
        };
        let owned: HashSet<String> = held.iter().filter_map(|h| h.remote_id.clone()).collect();
        let candidates = if (first_run || undecided) && cfg.adopt && !matches!(view, View::Trusted)
        {
            let rules = NumberRules {
                region: presenter.region,
                max_extension_digits: self.limits.max_extension_digits,
            };
            candidates(&book, layout, &desired, &remote, &owned, &rules)
        } else {
            HashMap::new()
        };
        let scope = match &changes {
            Some(ch) => Scope::Changes {
                removed: &ch.removed,
                untouched: book.contacts.len().saturating_sub(desired.len()),
            },
            None => Scope::Book,
        };
        let planned = plan::plan(&Input {
            desired: &desired,
            held: &held,
            view,
            scope,
            candidates: &candidates,
            rules: Rules {
                first_run,
                adopt: cfg.adopt,
                delete: cfg.delete,
                max_delete_percent: cfg.max_delete_percent,
                last_book: row.book_contacts.and_then(|n| usize::try_from(n).ok()),
                book_len: book.contacts.len(),
                force: req.force,
                now: now(),
            },
        });
        let plan = match planned {
            Ok(p) => p,
            Err(refused) => {
                return Err(TargetError::Refused {
                    reason: refused.reason,
                    plan: refused.plan.to_json(),
                })
            }
        };
        if req.dry_run {
            return Ok(Ended::Planned(plan.to_json()));
        }

        let mut ran = Ran {
            plan: Plan::default(),
            report: Report::default(),
            version: book.version(),
            book_len: book.contacts.len(),
            snapshot_hash: None,
            changes_only: changes.is_some(),
            stopped: None,
        };
        if reading == Reading::Nothing {
            self.upload(
                kind.as_mut(),
                cfg.spec.kind(),
                row,
                &plan,
                &desired,
                &held,
                &mut ran,
            )?;
        } else {
            let mut w = Writer {
                targets: self,
                target_id: row.id,
                kind: kind.as_mut(),
                kind_name: cfg.spec.kind(),
                layout,
                owned,
                report: Report::default(),
            };
            ran.stopped = w.write(&plan)?;
            ran.report = w.report;
        }
        ran.plan = plan;
        Ok(Ended::Ran(Box::new(ran)))
    }

    /// Whole-file kinds: renders what the target should hold and sends it, unless it is the
    /// file the PBX accepted last. All or nothing: the mapping changes only with an upload
    /// the PBX confirmed.
    #[allow(clippy::too_many_arguments)]
    fn upload(
        &self,
        kind: &mut dyn Kind,
        kind_name: &'static str,
        row: &TargetRow,
        plan: &Plan,
        desired: &[Desired],
        held: &[Held],
        ran: &mut Ran,
    ) -> Result<(), TargetError> {
        let wanted: HashSet<ContactId> = desired.iter().map(|d| d.contact).collect();
        let deleted: HashSet<ContactId> = plan.delete.iter().map(|d| d.contact).collect();
        let mut rows: Vec<(ContactId, &Payload)> =
            desired.iter().map(|d| (d.contact, &d.payload)).collect();
        // `delete: never`: what was written for contacts that left stays in the file.
        rows.extend(
            held.iter()
                .filter(|h| !wanted.contains(&h.contact) && !deleted.contains(&h.contact))
                .map(|h| (h.contact, &h.payload)),
        );
        let file = kind.render(&rows).ok_or_else(|| {
            TargetError::Failed("the phone book file could not be written".into())
        })?;
        let hash: String = ring::digest::digest(&ring::digest::SHA256, &file)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let same = row.snapshot_hash.as_deref() == Some(hash.as_str());
        if !same {
            if let Err(e) = kind.upload(&file) {
                ran.stopped = Some(match e {
                    RemoteError::NotFound => "the PBX answered 404 (not found) to the upload; check `url` (the Contacts app's URL) and `phonebook`".into(),
                    other => other.to_string(),
                });
                return Ok(());
            }
            count_writes(kind_name, 1);
            ran.snapshot_hash = Some(hash);
        }
        let put: Vec<EntryRow> = plan
            .create
            .iter()
            .map(|c| (c.contact, &c.payload))
            .chain(plan.update.iter().map(|u| (u.contact, &u.payload)))
            .map(|(c, p)| entry_row(c, Some(&c.to_string()), Origin::Created, p))
            .collect();
        let forget: Vec<ContactId> = plan
            .delete
            .iter()
            .map(|d| d.contact)
            .chain(plan.forget.iter().copied())
            .collect();
        self.store
            .record_entries(row.id, &put, &forget, i64::from(!same))?;
        ran.report.created = plan.create.len();
        ran.report.updated = plan.update.len();
        ran.report.deleted = plan.delete.len();
        Ok(())
    }
}

/// Searches the target for every contact of the run (kinds that cannot list), and for the
/// entries of interrupted creates whose contact left.
fn search_all(
    kind: &mut dyn Kind,
    layout: &Layout,
    desired: &[Desired],
    held: &[Held],
) -> Result<Vec<RemoteEntry>, RemoteError> {
    let mut names: Vec<String> = desired.iter().map(|d| layout.name_of(&d.payload)).collect();
    names.extend(
        held.iter()
            .filter(|h| h.remote_id.is_none())
            .map(|h| layout.name_of(&h.payload)),
    );
    let mut asked = HashSet::new();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        if name.is_empty() || !asked.insert(name.clone()) {
            continue;
        }
        for e in kind.search(&name)? {
            if seen.insert(e.id.clone()) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// For each entry of the target phonedir does not hold: the contacts it matches by number
/// (in any shape the PBX wrote it) or e-mail, else by exact name.
fn candidates(
    book: &Book,
    layout: &Layout,
    desired: &[Desired],
    remote: &[RemoteEntry],
    owned: &HashSet<String>,
    rules: &NumberRules,
) -> HashMap<String, Vec<ContactId>> {
    let mut by_email: HashMap<String, Vec<ContactId>> = HashMap::new();
    let mut by_name: HashMap<String, Vec<ContactId>> = HashMap::new();
    for c in &book.contacts {
        if !c.email.trim().is_empty() {
            by_email
                .entry(c.email.trim().to_lowercase())
                .or_default()
                .push(c.id);
        }
        by_name
            .entry(c.display_name.trim().to_owned())
            .or_default()
            .push(c.id);
    }
    for d in desired {
        let shown = layout.name_of(&d.payload);
        let ids = by_name.entry(shown).or_default();
        if !ids.contains(&d.contact) {
            ids.push(d.contact);
        }
    }
    let mut out = HashMap::new();
    for r in remote {
        if r.marker.is_some() || owned.contains(&r.id) {
            continue;
        }
        let mut ids: Vec<ContactId> = Vec::new();
        for (_, n) in &r.payload.numbers {
            for hit in book.lookup(n, rules, "", usize::MAX) {
                if hit.exact && !ids.contains(&hit.contact.id) {
                    ids.push(hit.contact.id);
                }
            }
        }
        let email = layout.email_of(&r.payload).to_lowercase();
        for id in by_email.get(&email).into_iter().flatten() {
            if !email.is_empty() && !ids.contains(id) {
                ids.push(*id);
            }
        }
        if ids.is_empty() {
            if let Some(named) = by_name.get(&layout.name_of(&r.payload)) {
                ids.extend(named);
            }
        }
        ids.sort();
        out.insert(r.id.clone(), ids);
    }
    out
}

/// Carries out a plan entry by entry (kinds that write one entry at a time).
struct Writer<'a> {
    targets: &'a Targets,
    target_id: i64,
    kind: &'a mut dyn Kind,
    /// The kind as the metrics page names it.
    kind_name: &'static str,
    layout: &'a Layout,
    /// Remote ids phonedir holds, growing as entries are created.
    owned: HashSet<String>,
    report: Report,
}

impl Writer<'_> {
    fn record(
        &self,
        put: &[EntryRow],
        forget: &[ContactId],
        writes: i64,
    ) -> Result<(), TargetError> {
        self.targets
            .store
            .record_entries(self.target_id, put, forget, writes)?;
        count_writes(self.kind_name, u64::try_from(writes).unwrap_or(0));
        Ok(())
    }

    /// Writes the plan; answers why it stopped early, if it did.
    fn write(&mut self, plan: &Plan) -> Result<Option<String>, TargetError> {
        let links: Vec<EntryRow> = plan
            .link
            .iter()
            .map(|l| entry_row(l.contact, Some(&l.remote_id), l.origin, &l.payload))
            .collect();
        let mut links = links;
        links.extend(plan.undecided.iter().map(|c| EntryRow {
            contact: *c,
            remote_id: None,
            origin: Origin::Undecided.as_str().to_owned(),
            fingerprint: String::new(),
            payload: "{}".into(),
            written_at: now(),
        }));
        if !links.is_empty() || !plan.forget.is_empty() {
            self.record(&links, &plan.forget, 0)?;
            self.owned
                .extend(plan.link.iter().map(|l| l.remote_id.clone()));
        }
        for c in &plan.create {
            if let Some(stop) = self.create(c.contact, &c.payload)? {
                return Ok(Some(stop));
            }
        }
        for u in &plan.update {
            match self.kind.update(&u.remote_id, &u.payload) {
                Ok(()) => {
                    self.record(
                        &[entry_row(
                            u.contact,
                            Some(&u.remote_id),
                            u.origin,
                            &u.payload,
                        )],
                        &[],
                        1,
                    )?;
                    self.report.updated += 1;
                }
                // Deleted in the PBX since it was read: made anew.
                Err(RemoteError::NotFound) => {
                    self.record(&[], &[u.contact], 0)?;
                    if let Some(stop) = self.create(u.contact, &u.payload)? {
                        return Ok(Some(stop));
                    }
                }
                Err(e) => match next(e) {
                    Next::Failed(why) => self.report.failed.push((u.contact, why)),
                    Next::Stop(why) => return Ok(Some(why)),
                },
            }
        }
        for d in &plan.delete {
            match self.kind.delete(&d.remote_id) {
                Ok(()) => {
                    self.record(&[], &[d.contact], 1)?;
                    self.report.deleted += 1;
                }
                Err(RemoteError::NotFound) => self.record(&[], &[d.contact], 0)?,
                Err(e) => match next(e) {
                    Next::Failed(why) => self.report.failed.push((d.contact, why)),
                    Next::Stop(why) => return Ok(Some(why)),
                },
            }
        }
        Ok(None)
    }

    /// Creates one entry: the intent first, the id once the PBX gave it.
    fn create(&mut self, contact: ContactId, p: &Payload) -> Result<Option<String>, TargetError> {
        self.record(&[entry_row(contact, None, Origin::Created, p)], &[], 0)?;
        match self.kind.create(p) {
            Ok(Some(id)) => {
                self.record(&[entry_row(contact, Some(&id), Origin::Created, p)], &[], 1)?;
                self.owned.insert(id);
                self.report.created += 1;
            }
            Ok(None) => {
                count_writes(self.kind_name, 1);
                self.report.created += 1;
                // The PBX did not say its id: the one new entry that looks exactly like it.
                let found: Vec<RemoteEntry> = match self.kind.search(&self.layout.name_of(p)) {
                    Ok(found) => found,
                    Err(e) => match next(e) {
                        Next::Failed(_) => Vec::new(),
                        Next::Stop(why) => return Ok(Some(why)),
                    },
                };
                let like: Vec<&RemoteEntry> = found
                    .iter()
                    .filter(|r| !self.owned.contains(&r.id) && p.changes_from(&r.payload).is_empty())
                    .collect();
                match like.as_slice() {
                    [r] => {
                        self.targets.store.record_entries(
                            self.target_id,
                            &[entry_row(contact, Some(&r.id), Origin::Created, p)],
                            &[],
                            1,
                        )?;
                        self.owned.insert(r.id.clone());
                    }
                    more => self.report.failed.push((
                        contact,
                        format!(
                            "created, but the PBX did not answer the new entry's id and a search found {} entries like it; the next run looks again before it creates anything",
                            more.len()
                        ),
                    )),
                }
            }
            Err(RemoteError::Entry(why)) => {
                // Refused: nothing was created, nothing is pending.
                self.record(&[], &[contact], 0)?;
                self.report.failed.push((contact, why));
            }
            Err(e) => match next(e) {
                Next::Failed(why) => self.report.failed.push((
                    contact,
                    format!("{why}; whether it was created is unknown, the next run looks before it creates it again"),
                )),
                Next::Stop(why) => return Ok(Some(why)),
            },
        }
        Ok(None)
    }
}
