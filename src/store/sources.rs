//! Pulled sources: their settings, schedule, sync status and incremental state.
//!
//! A sync writes its contacts only through `finish_sync`, after a complete fetch, in one
//! transaction with its state; a failed sync only records why, so the last good contacts stay.

use super::{directory_row, replace, Directory, PushOutcome, Result, Store, StoreError, Tx};
use crate::domain::{ApiKey, Contact, SourceWarnings};
use rusqlite::{params, OptionalExtension, Transaction};

/// A source as the scheduler and the management API see it. `config` is the stored JSON
/// with sealed secrets; None for push sources.
#[derive(Clone, Debug)]
pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub priority: i64,
    pub interval_s: i64,
    pub config: Option<String>,
    pub status: String,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub next_run: Option<i64>,
    pub failures: i64,
    pub sync_state: Option<String>,
    pub contacts: usize,
    /// What the last good sync could not use.
    pub warnings: SourceWarnings,
}

/// How a sync ended, for `finish_sync`.
pub enum SyncResult<'a> {
    /// The complete new contact list, the state to resume from, and what the records lost.
    Contacts(&'a [Contact], Option<String>, &'a SourceWarnings),
    /// The remote says nothing changed since the stored state.
    Unchanged,
}

const COLUMNS: &str = "s.name, s.kind, s.priority, s.interval_s, s.config, s.status,
    s.last_success, s.last_error, s.next_run, s.failures, s.sync_state,
    s.contact_count, s.warnings";

fn row(r: &rusqlite::Row) -> rusqlite::Result<SourceRow> {
    Ok(SourceRow {
        name: r.get(0)?,
        kind: r.get(1)?,
        priority: r.get(2)?,
        interval_s: r.get(3)?,
        config: r.get(4)?,
        status: r.get(5)?,
        last_success: r.get(6)?,
        last_error: r.get(7)?,
        next_run: r.get(8)?,
        failures: r.get(9)?,
        sync_state: r.get(10)?,
        contacts: usize::try_from(r.get::<_, i64>(11)?).unwrap_or(0),
        warnings: warnings(r.get(12)?),
    })
}

/// The stored warnings column; an unreadable one reads as none (it is only a report).
pub(super) fn warnings(column: Option<String>) -> SourceWarnings {
    column
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

fn known_dir(tx: &Tx, key: &ApiKey) -> Result<Directory> {
    directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)
}

fn source_id(tx: &Transaction, dir: &Directory, name: &str) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT id FROM sources WHERE directory_id = ?1 AND name = ?2",
            params![dir.id, name],
            |r| r.get(0),
        )
        .optional()?)
}

/// The settings of a source to create or replace.
pub struct SourceSettings<'a> {
    pub kind: &'a str,
    pub priority: i64,
    pub interval_s: i64,
    pub config: Option<&'a str>,
    pub next_run: Option<i64>,
}

impl Store {
    pub fn source(&self, key: &ApiKey, name: &str) -> Result<Option<SourceRow>> {
        self.read(|tx| {
            let dir = known_dir(tx, key)?;
            let sql = format!(
                "SELECT {COLUMNS} FROM sources s WHERE s.directory_id = ?1 AND s.name = ?2"
            );
            Ok(tx.query_row(&sql, params![dir.id, name], row).optional()?)
        })
    }

    /// Every source of the directory, by name.
    pub fn source_rows(&self, key: &ApiKey) -> Result<Vec<SourceRow>> {
        self.read(|tx| {
            let dir = known_dir(tx, key)?;
            let sql = format!(
                "SELECT {COLUMNS} FROM sources s WHERE s.directory_id = ?1 ORDER BY s.name"
            );
            let mut st = tx.prepare(&sql)?;
            let rows = st.query_map([dir.id], row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Creates or replaces a pulled source's settings. Its contacts stay until the next
    /// successful sync; the incremental state is dropped, so that sync is a full one.
    pub fn put_source(&self, key: &ApiKey, name: &str, s: &SourceSettings) -> Result<bool> {
        self.write_growing(|tx| {
            let dir = known_dir(tx, key)?;
            let existed = source_id(tx, &dir, name)?.is_some();
            if !existed {
                replace::check_new_source(tx, &dir, &self.quota)?;
            }
            tx.execute(
                "INSERT INTO sources (directory_id, name, kind, priority, interval_s, config,
                                      next_run, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'never_synced')
                 ON CONFLICT (directory_id, name) DO UPDATE SET
                    kind = excluded.kind, priority = excluded.priority,
                    interval_s = excluded.interval_s, config = excluded.config,
                    next_run = excluded.next_run, sync_state = NULL, failures = 0,
                    status = CASE WHEN sources.status = 'syncing' THEN 'syncing'
                                  WHEN sources.last_success IS NULL THEN 'never_synced'
                                  ELSE sources.status END",
                params![
                    dir.id,
                    name,
                    s.kind,
                    s.priority,
                    s.interval_s,
                    s.config,
                    s.next_run
                ],
            )?;
            // The priority decides merged fields, so the book may have changed.
            super::bump_version(tx, dir.id)?;
            Ok(existed)
        })
    }

    /// Removes a source and its contacts.
    pub fn delete_source(&self, key: &ApiKey, name: &str) -> Result<bool> {
        self.write(|tx| {
            let dir = known_dir(tx, key)?;
            let n = tx.execute(
                "DELETE FROM sources WHERE directory_id = ?1 AND name = ?2",
                params![dir.id, name],
            )?;
            if n > 0 {
                super::bump_version(tx, dir.id)?;
            }
            Ok(n > 0)
        })
    }

    /// Pulled sources whose next run is due, as (directory key, source name).
    pub fn due_sources(&self, now: i64) -> Result<Vec<(ApiKey, String)>> {
        self.read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT d.key, s.name FROM sources s JOIN directories d ON s.directory_id = d.id
                  WHERE s.config IS NOT NULL AND s.next_run IS NOT NULL AND s.next_run <= ?1
                    AND s.status <> 'syncing'
                  ORDER BY s.next_run",
            )?;
            let rows = st.query_map([now], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            let mut out = Vec::new();
            for r in rows {
                let (sealed, name) = r?;
                // The column holds the sealed directory key (see migration 004).
                out.push((super::keys::unseal_key(tx.keys, &sealed)?, name));
            }
            Ok(out)
        })
    }

    /// Marks a source as syncing; false if it is syncing already (one sync at a time).
    pub fn begin_sync(&self, key: &ApiKey, name: &str) -> Result<bool> {
        self.write(|tx| {
            let dir = known_dir(tx, key)?;
            let n = tx.execute(
                "UPDATE sources SET status = 'syncing',
                        last_attempt = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                  WHERE directory_id = ?1 AND name = ?2 AND status <> 'syncing'
                    AND config IS NOT NULL",
                params![dir.id, name],
            )?;
            Ok(n > 0)
        })
    }

    /// Records a successful sync and stores its contacts with the state they came with.
    pub fn finish_sync(
        &self,
        key: &ApiKey,
        name: &str,
        result: SyncResult,
        next_run: Option<i64>,
    ) -> Result<Option<PushOutcome>> {
        let found = self.write(|tx| {
            let dir = known_dir(tx, key)?;
            let Some(id) = source_id(tx, &dir, name)? else {
                // Deleted while it synced: nothing to store.
                return Ok(None);
            };
            tx.execute(
                "UPDATE sources SET next_run = ?2 WHERE id = ?1",
                params![id, next_run],
            )?;
            if let SyncResult::Unchanged = result {
                tx.execute(
                    "UPDATE sources SET status = 'ok', last_error = NULL, failures = 0,
                            last_success = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                      WHERE id = ?1",
                    [id],
                )?;
            }
            Ok(Some((dir, id)))
        })?;
        let (Some((dir, id)), SyncResult::Contacts(contacts, state, warnings)) = (found, result)
        else {
            return Ok(None);
        };
        let warnings = (!warnings.is_empty())
            .then(|| serde_json::to_string(warnings).ok())
            .flatten();
        // The state and the warnings go in the same transaction as the contacts they
        // describe.
        let outcome = self.replace_contacts(&dir, id, contacts, &|tx| {
            tx.execute(
                "UPDATE sources SET sync_state = ?2, warnings = ?3 WHERE id = ?1",
                params![id, state, warnings],
            )?;
            Ok(())
        })?;
        Ok(Some(outcome))
    }

    /// Records a failed sync; the contacts of the last good sync stay untouched.
    pub fn fail_sync(
        &self,
        key: &ApiKey,
        name: &str,
        error: &str,
        next_run: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| {
            let dir = known_dir(tx, key)?;
            tx.execute(
                "UPDATE sources SET status = 'error', last_error = ?3, next_run = ?4,
                        failures = failures + 1
                  WHERE directory_id = ?1 AND name = ?2",
                params![dir.id, name, error, next_run],
            )?;
            Ok(())
        })
    }

    /// After a restart no sync is running: a `syncing` left by a stop or a crash becomes an
    /// error and is backed off like a failure, never rerun at start (if the sync itself
    /// brought the process down, rerunning it at once would do so again on every start).
    pub fn back_off_interrupted_syncs(&self, now: i64) -> Result<usize> {
        self.write(|tx| {
            let mut st = tx.prepare(
                "SELECT id, interval_s, failures FROM sources WHERE status = 'syncing'",
            )?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, interval, failures) in &rows {
                let wait = crate::sources::backoff(u64::try_from(*interval).unwrap_or(0), failures + 1)
                    .as_secs()
                    .max(INTERRUPTED_MIN_WAIT_S);
                let next = (*interval > 0).then(|| now + i64::try_from(wait).unwrap_or(i64::MAX / 2));
                tx.execute(
                    "UPDATE sources SET status = 'error', failures = failures + 1, next_run = ?2,
                            last_error = 'the server stopped during this sync (it may have been the cause); it is retried later, not at start'
                      WHERE id = ?1",
                    params![id, next],
                )?;
            }
            Ok(rows.len())
        })
    }
}

/// The least wait before an interrupted sync runs again.
const INTERRUPTED_MIN_WAIT_S: u64 = 300;
