//! Targets: PBX contact stores the book is written into. Their settings, schedule and run
//! status, and one row per contact a target holds: the mapping to the PBX's own id and what
//! was last written there (`targets` decides what to write; this only keeps it).
//!
//! A run records each write here as soon as the PBX confirmed it, in its own small
//! transaction, so a run stopped at any point (crash, deadline, kill -9) leaves a mapping
//! that says exactly what the PBX holds — and, for a create whose answer never came, a row
//! without remote id that makes the next run look before it creates again.

use super::changes::{id_from_sql, id_sql};
use super::{directory_row, Directory, Result, Store, StoreError, Tx};
use crate::domain::{ApiKey, ContactId};
use rusqlite::{params, OptionalExtension};

/// Targets one directory may have.
pub const MAX_TARGETS: usize = 20;

/// A target as the scheduler, the runs and the management API see it. `config` is the
/// stored JSON with sealed secrets.
#[derive(Clone, Debug)]
pub struct TargetRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub config: String,
    pub interval_s: i64,
    pub debounce_s: i64,
    /// `ok`, `error`, `never_run` or `running`.
    pub status: String,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub next_run: Option<i64>,
    pub failures: i64,
    pub seen_version: Option<i64>,
    pub synced_version: Option<i64>,
    pub book_contacts: Option<i64>,
    pub last_run: Option<String>,
    pub dry_run: Option<String>,
    pub snapshot_hash: Option<String>,
    pub writes: i64,
}

/// The settings of a target to create or replace.
pub struct TargetSettings<'a> {
    pub kind: &'a str,
    pub config: &'a str,
    pub interval_s: i64,
    pub debounce_s: i64,
    pub next_run: Option<i64>,
    /// Forget what the target holds (it points at another PBX or phone book now).
    pub reset: bool,
}

/// One contact a target holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub contact: ContactId,
    /// None: a create was sent and its answer not stored.
    pub remote_id: Option<String>,
    /// `created` or `adopted`.
    pub origin: String,
    pub fingerprint: String,
    /// The entry as last written (JSON in the target's field names).
    pub payload: String,
    /// Unix seconds of the write; for a pending create, when it was sent.
    pub written_at: i64,
}

/// How a run ended, for `finish_run`.
pub struct RunEnd<'a> {
    /// None: success; Some: why it failed.
    pub error: Option<&'a str>,
    pub next_run: Option<i64>,
    /// The book version now written completely (a complete run without failures).
    pub synced_version: Option<i64>,
    /// The book's size, after a run that wrote it.
    pub book_contacts: Option<i64>,
    pub last_run: &'a str,
    /// Snapshot kinds: the hash of the file the PBX accepted in this run.
    pub snapshot_hash: Option<&'a str>,
}

/// Why the scheduler starts a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Its reconciling interval (or a retry after a failure) came round.
    Scheduled,
    /// The directory has a newer version and was quiet for the target's debounce.
    Changed,
}

const COLUMNS: &str = "t.id, t.name, t.kind, t.config, t.interval_s, t.debounce_s, t.status,
    t.last_success, t.last_error, t.next_run, t.failures, t.seen_version, t.synced_version,
    t.book_contacts, t.last_run, t.dry_run, t.snapshot_hash, t.writes";

fn row(r: &rusqlite::Row) -> rusqlite::Result<TargetRow> {
    Ok(TargetRow {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        config: r.get(3)?,
        interval_s: r.get(4)?,
        debounce_s: r.get(5)?,
        status: r.get(6)?,
        last_success: r.get(7)?,
        last_error: r.get(8)?,
        next_run: r.get(9)?,
        failures: r.get(10)?,
        seen_version: r.get(11)?,
        synced_version: r.get(12)?,
        book_contacts: r.get(13)?,
        last_run: r.get(14)?,
        dry_run: r.get(15)?,
        snapshot_hash: r.get(16)?,
        writes: r.get(17)?,
    })
}

fn known_dir(tx: &Tx, key: &ApiKey) -> Result<Directory> {
    directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)
}

impl Store {
    pub fn target(&self, key: &ApiKey, name: &str) -> Result<Option<TargetRow>> {
        self.read(|tx| {
            let dir = known_dir(tx, key)?;
            let sql = format!(
                "SELECT {COLUMNS} FROM targets t WHERE t.directory_id = ?1 AND t.name = ?2"
            );
            Ok(tx.query_row(&sql, params![dir.id, name], row).optional()?)
        })
    }

    /// Every target of the directory, by name.
    pub fn target_rows(&self, key: &ApiKey) -> Result<Vec<TargetRow>> {
        self.read(|tx| {
            let dir = known_dir(tx, key)?;
            let sql = format!(
                "SELECT {COLUMNS} FROM targets t WHERE t.directory_id = ?1 ORDER BY t.name"
            );
            let mut st = tx.prepare(&sql)?;
            let rows = st.query_map([dir.id], row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Creates or replaces a target's settings; answers whether it existed. The directory's
    /// current version counts as seen: the first run comes at `next_run`.
    pub fn put_target(&self, key: &ApiKey, name: &str, s: &TargetSettings) -> Result<bool> {
        self.write_growing(|tx| {
            let dir = known_dir(tx, key)?;
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM targets WHERE directory_id = ?1 AND name = ?2",
                    params![dir.id, name],
                    |r| r.get(0),
                )
                .optional()?;
            if existing.is_none() {
                let n: i64 = tx.query_row(
                    "SELECT count(*) FROM targets WHERE directory_id = ?1",
                    [dir.id],
                    |r| r.get(0),
                )?;
                if usize::try_from(n).unwrap_or(usize::MAX) >= MAX_TARGETS {
                    return Err(StoreError::Quota(format!(
                        "this directory has {n} targets, as many as it may have; delete one first"
                    )));
                }
            }
            tx.execute(
                "INSERT INTO targets (directory_id, name, kind, config, interval_s, debounce_s,
                                      next_run, seen_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (directory_id, name) DO UPDATE SET
                    kind = excluded.kind, config = excluded.config,
                    interval_s = excluded.interval_s, debounce_s = excluded.debounce_s,
                    next_run = excluded.next_run, seen_version = excluded.seen_version,
                    failures = 0",
                params![
                    dir.id,
                    name,
                    s.kind,
                    s.config,
                    s.interval_s,
                    s.debounce_s,
                    s.next_run,
                    dir.version
                ],
            )?;
            if let (Some(id), true) = (existing, s.reset) {
                tx.execute("DELETE FROM target_entries WHERE target_id = ?1", [id])?;
                tx.execute(
                    "UPDATE targets SET synced_version = NULL, book_contacts = NULL,
                            snapshot_hash = NULL, last_success = NULL,
                            status = CASE WHEN status = 'running' THEN status ELSE 'never_run' END
                      WHERE id = ?1",
                    [id],
                )?;
            }
            Ok(existing.is_some())
        })
    }

    /// Removes a target and what it knows of the PBX (the PBX's entries stay).
    pub fn delete_target(&self, key: &ApiKey, name: &str) -> Result<bool> {
        self.write(|tx| {
            let dir = known_dir(tx, key)?;
            let n = tx.execute(
                "DELETE FROM targets WHERE directory_id = ?1 AND name = ?2",
                params![dir.id, name],
            )?;
            Ok(n > 0)
        })
    }

    /// Marks a target as running (one run at a time) and the version it starts from as
    /// seen; false if it runs already.
    pub fn begin_run(&self, key: &ApiKey, name: &str) -> Result<bool> {
        self.write_log(|tx| {
            let dir = known_dir(tx, key)?;
            let n = tx.execute(
                "UPDATE targets SET status = 'running', seen_version = ?3,
                        last_attempt = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                  WHERE directory_id = ?1 AND name = ?2 AND status <> 'running'",
                params![dir.id, name, dir.version],
            )?;
            Ok(n > 0)
        })
    }

    /// Ends a run begun with `begin_run`: its status, schedule and counts.
    pub fn finish_run(&self, target_id: i64, end: &RunEnd) -> Result<()> {
        self.write_log(|tx| {
            match end.error {
                None => tx.execute(
                    "UPDATE targets SET status = 'ok', last_error = NULL, failures = 0,
                            last_success = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                      WHERE id = ?1",
                    [target_id],
                )?,
                Some(e) => tx.execute(
                    "UPDATE targets SET status = 'error', last_error = ?2,
                            failures = failures + 1
                      WHERE id = ?1",
                    params![target_id, e],
                )?,
            };
            tx.execute(
                "UPDATE targets SET next_run = ?2, last_run = ?3,
                        synced_version = coalesce(?4, synced_version),
                        book_contacts = coalesce(?5, book_contacts),
                        snapshot_hash = coalesce(?6, snapshot_hash)
                  WHERE id = ?1",
                params![
                    target_id,
                    end.next_run,
                    end.last_run,
                    end.synced_version,
                    end.book_contacts,
                    end.snapshot_hash
                ],
            )?;
            Ok(())
        })
    }

    /// Keeps the plan of the last dry run, for `GET …/targets/NAME`.
    pub fn save_dry_run(&self, target_id: i64, plan: &str) -> Result<()> {
        self.write_log(|tx| {
            tx.execute(
                "UPDATE targets SET dry_run = ?2 WHERE id = ?1",
                params![target_id, plan],
            )?;
            Ok(())
        })
    }

    /// What the target holds, by contact id.
    pub fn target_entries(&self, target_id: i64) -> Result<Vec<EntryRow>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT contact_id, remote_id, origin, fingerprint, payload, written_at
                   FROM target_entries WHERE target_id = ?1 ORDER BY contact_id",
            )?;
            let rows = st.query_map([target_id], |r| {
                Ok(EntryRow {
                    contact: id_from_sql(r.get(0)?),
                    remote_id: r.get(1)?,
                    origin: r.get(2)?,
                    fingerprint: r.get(3)?,
                    payload: r.get(4)?,
                    written_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Records entries (one write confirmed by the PBX, or an intent before a create) and
    /// forgets others, in one transaction; `writes` counts the PBX writes they stand for.
    pub fn record_entries(
        &self,
        target_id: i64,
        put: &[EntryRow],
        forget: &[ContactId],
        writes: i64,
    ) -> Result<()> {
        self.write_log(|tx| {
            let exists: Option<i64> = tx
                .query_row("SELECT id FROM targets WHERE id = ?1", [target_id], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_none() {
                // Deleted while it ran: nothing to remember.
                return Ok(());
            }
            for e in put {
                tx.execute(
                    "INSERT INTO target_entries
                        (target_id, contact_id, remote_id, origin, fingerprint, payload, written_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (target_id, contact_id) DO UPDATE SET
                        remote_id = excluded.remote_id, origin = excluded.origin,
                        fingerprint = excluded.fingerprint, payload = excluded.payload,
                        written_at = excluded.written_at",
                    params![
                        target_id,
                        id_sql(e.contact),
                        e.remote_id,
                        e.origin,
                        e.fingerprint,
                        e.payload,
                        e.written_at
                    ],
                )?;
            }
            for c in forget {
                tx.execute(
                    "DELETE FROM target_entries WHERE target_id = ?1 AND contact_id = ?2",
                    params![target_id, id_sql(*c)],
                )?;
            }
            if writes > 0 {
                tx.execute(
                    "UPDATE targets SET writes = writes + ?2 WHERE id = ?1",
                    params![target_id, writes],
                )?;
            }
            Ok(())
        })
    }

    /// Targets to run now, as (directory key, target name, why).
    pub fn due_targets(&self, now: i64) -> Result<Vec<(ApiKey, String, Trigger)>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT d.key, t.name, t.next_run IS NOT NULL AND t.next_run <= ?1
                   FROM targets t JOIN directories d ON d.id = t.directory_id
                  WHERE t.status <> 'running'
                    AND ((t.next_run IS NOT NULL AND t.next_run <= ?1)
                         OR (t.failures = 0 AND d.version <> coalesce(t.seen_version, -1)
                             AND CAST(strftime('%s', d.updated_at) AS INTEGER) + t.debounce_s <= ?1))
                  ORDER BY t.id",
            )?;
            let rows = st.query_map([now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (sealed, name, scheduled): (String, String, bool) = r?;
                let trigger = if scheduled {
                    Trigger::Scheduled
                } else {
                    Trigger::Changed
                };
                // The column holds the sealed directory key (see migration 004).
                out.push((super::keys::unseal_key(tx.keys, &sealed)?, name, trigger));
            }
            Ok(out)
        })
    }

    /// After a restart no run is going on: a `running` left by a stop or a crash becomes an
    /// error, retried after `wait_s` (not at once: the run may have brought the process down).
    pub fn back_off_interrupted_runs(&self, now: i64, wait_s: i64) -> Result<usize> {
        self.write_log(|tx| {
            let n = tx.execute(
                "UPDATE targets SET status = 'error', failures = failures + 1, next_run = ?1,
                        last_error = 'the server stopped during this run (it may have been the cause); it is retried later, not at start; what was written is known'
                  WHERE status = 'running'",
                [now.saturating_add(wait_s)],
            )?;
            Ok(n)
        })
    }
}
