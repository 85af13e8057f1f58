//! The book's change log in SQL (see `book::changes` for what it means): the members of the
//! last logged book with their ETags, tombstones, and the logged versions.

use super::{Result, Store};
use crate::domain::ContactId;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashMap;

/// One row of the log as "since V" reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub id: ContactId,
    /// Version at which it last appeared in the book.
    pub added: i64,
    pub changed: i64,
    pub removed: bool,
}

/// What the log holds after a version, read in one snapshot.
#[derive(Clone, Debug, Default)]
pub struct LogRead {
    /// The newest logged version; None when nothing was logged yet.
    pub latest: Option<i64>,
    /// The oldest logged version still kept.
    pub oldest: Option<i64>,
    /// Whether `since` is a logged version still kept.
    pub since_kept: bool,
    /// Rows that changed after `since`, by id.
    pub rows: Vec<LogRow>,
}

/// How long the log keeps what it no longer needs for the newest version.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub min_versions: i64,
    pub min_seconds: i64,
}

pub(super) fn id_sql(id: ContactId) -> i64 {
    id.as_u64() as i64
}

pub(super) fn id_from_sql(v: i64) -> ContactId {
    ContactId::from_u64(v as u64)
}

impl Store {
    /// Logs the book of `version`: `members` are its (id, ETag) pairs. Does nothing when this
    /// or a newer version is logged already (another thread was first), so versions are
    /// logged in order. Answers the newest logged version and when it was logged.
    pub fn log_book(
        &self,
        directory_id: i64,
        version: i64,
        members: &[(ContactId, u64)],
        now: i64,
        keep: Retention,
    ) -> Result<(i64, i64)> {
        self.write_log(|tx| {
            let latest: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT version, logged_at FROM book_versions WHERE directory_id = ?1
                      ORDER BY version DESC LIMIT 1",
                    [directory_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some(l) = latest.filter(|(l, _)| *l >= version) {
                return Ok(l);
            }
            apply(tx, directory_id, version, members, now)?;
            tx.execute(
                "INSERT INTO book_versions (directory_id, version, logged_at) VALUES (?1, ?2, ?3)",
                params![directory_id, version, now],
            )?;
            prune(tx, directory_id, version, now, keep)?;
            Ok((version, now))
        })
    }

    /// The log after `since`, read as one snapshot.
    pub fn log_since(&self, directory_id: i64, since: i64) -> Result<LogRead> {
        self.read(|tx| {
            let (latest, oldest): (Option<i64>, Option<i64>) = tx.query_row(
                "SELECT max(version), min(version) FROM book_versions WHERE directory_id = ?1",
                [directory_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let since_kept = tx
                .query_row(
                    "SELECT 1 FROM book_versions WHERE directory_id = ?1 AND version = ?2",
                    params![directory_id, since],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            let mut rows = Vec::new();
            if since_kept {
                let mut st = tx.prepare_cached(
                    "SELECT contact_id, added, changed, removed IS NOT NULL FROM book_entries
                      WHERE directory_id = ?1 AND changed > ?2 ORDER BY contact_id",
                )?;
                let it = st.query_map(params![directory_id, since], |r| {
                    Ok(LogRow {
                        id: id_from_sql(r.get(0)?),
                        added: r.get(1)?,
                        changed: r.get(2)?,
                        removed: r.get(3)?,
                    })
                })?;
                for row in it {
                    rows.push(row?);
                }
            }
            Ok(LogRead {
                latest,
                oldest,
                since_kept,
                rows,
            })
        })
    }
}

/// Brings the entries in line with the new book: new members are added (or revived from a
/// tombstone), members with another ETag changed, members no longer in the book removed.
fn apply(
    tx: &Transaction,
    directory_id: i64,
    version: i64,
    members: &[(ContactId, u64)],
    now: i64,
) -> Result<()> {
    let mut known: HashMap<i64, (i64, bool)> = HashMap::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT contact_id, etag, removed IS NOT NULL FROM book_entries WHERE directory_id = ?1",
        )?;
        let rows = st.query_map([directory_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?;
        for row in rows {
            let (id, etag, removed) = row?;
            known.insert(id, (etag, removed));
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO book_entries (directory_id, contact_id, etag, added, changed)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    let mut revive = tx.prepare_cached(
        "UPDATE book_entries SET etag = ?3, added = ?4, changed = ?4, removed = NULL,
                                 removed_at = NULL
          WHERE directory_id = ?1 AND contact_id = ?2",
    )?;
    let mut change = tx.prepare_cached(
        "UPDATE book_entries SET etag = ?3, changed = ?4 WHERE directory_id = ?1 AND contact_id = ?2",
    )?;
    let mut in_book = std::collections::HashSet::with_capacity(members.len());
    for (id, etag) in members {
        let (id, etag) = (id_sql(*id), *etag as i64);
        in_book.insert(id);
        match known.get(&id) {
            None => {
                insert.execute(params![directory_id, id, etag, version])?;
            }
            Some((_, true)) => {
                revive.execute(params![directory_id, id, etag, version])?;
            }
            Some((old, false)) if *old != etag => {
                change.execute(params![directory_id, id, etag, version])?;
            }
            Some(_) => {}
        }
    }
    let mut remove = tx.prepare_cached(
        "UPDATE book_entries SET removed = ?3, changed = ?3, removed_at = ?4
          WHERE directory_id = ?1 AND contact_id = ?2",
    )?;
    for (id, (_, removed)) in &known {
        if !removed && !in_book.contains(id) {
            remove.execute(params![directory_id, id, version, now])?;
        }
    }
    Ok(())
}

/// Forgets logged versions (and the tombstones only they needed) that are both more than
/// `min_versions` versions and more than `min_seconds` old.
fn prune(
    tx: &Transaction,
    directory_id: i64,
    version: i64,
    now: i64,
    keep: Retention,
) -> Result<()> {
    let gone = tx.execute(
        "DELETE FROM book_versions
          WHERE directory_id = ?1 AND version < ?2 AND logged_at <= ?3",
        params![
            directory_id,
            version.saturating_sub(keep.min_versions),
            now.saturating_sub(keep.min_seconds)
        ],
    )?;
    if gone > 0 {
        // A tombstone removed at or before the oldest kept version tells no kept version
        // anything: "since oldest" only needs removals after it.
        tx.execute(
            "DELETE FROM book_entries
              WHERE directory_id = ?1 AND removed IS NOT NULL
                AND removed <= (SELECT min(version) FROM book_versions WHERE directory_id = ?1)",
            [directory_id],
        )?;
    }
    Ok(())
}
