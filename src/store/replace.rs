//! Replacing a source's contacts without holding the writer for long, within the
//! directory's quota.
//!
//! A replacement used to be one transaction: delete every old row (with the numbers their
//! foreign keys cascade to), insert every new one. For a 100,000-contact source that held
//! the one writer lock for 4-5 s, growing with the source and with the WAL a busy server
//! cannot checkpoint (see `space`), while every other directory's push waited. Now the new
//! contacts are written as a new generation in chunks of `CHUNK`, each its own short
//! transaction, the generation is switched in one small transaction (readers see the old
//! book until then, the new one after), and the old rows are deleted in chunks. Between two
//! chunks other writers get their turn.

use super::{bump_version, Directory, PushOutcome, Result, Store, StoreError};
use crate::domain::{text::sort_key, Contact};
use rusqlite::{params, Transaction};

/// Contacts written per transaction.
const CHUNK: usize = 2_000;

/// Per-directory limits, so one tenant cannot fill the server (`--max-sources`,
/// `--max-contacts`, `--max-directory-bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub sources: usize,
    pub contacts: usize,
    /// Stored text of all contacts and their numbers, in bytes.
    pub bytes: u64,
}

impl Quota {
    /// No limit: the command line acts for the operator.
    pub const NONE: Quota = Quota {
        sources: usize::MAX,
        contacts: usize::MAX,
        bytes: u64::MAX,
    };
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            sources: 20,
            contacts: 250_000,
            bytes: 256 * 1024 * 1024,
        }
    }
}

/// The bytes a contact takes in the quota: its text and its numbers.
pub fn contact_bytes(c: &Contact) -> u64 {
    let text = [
        &c.external_id,
        &c.display_name,
        &c.given_name,
        &c.family_name,
        &c.company,
        &c.department,
        &c.position,
        &c.email,
        &c.group,
    ]
    .iter()
    .map(|s| s.len())
    .sum::<usize>();
    let numbers = c
        .numbers
        .iter()
        .map(|n| n.kind.as_str().len() + n.value.len())
        .sum::<usize>();
    (text + numbers) as u64
}

/// Refuses a new source beyond the directory's quota; call before inserting it.
pub fn check_new_source(tx: &Transaction, dir: &Directory, quota: &Quota) -> Result<()> {
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM sources WHERE directory_id = ?1",
        [dir.id],
        |r| r.get(0),
    )?;
    if usize::try_from(n).unwrap_or(usize::MAX) >= quota.sources {
        return Err(StoreError::Quota(format!(
            "this directory has {n} sources, as many as it may have (--max-sources); delete one first"
        )));
    }
    Ok(())
}

/// What happens in the transaction that makes the new contacts the source's.
pub type OnSwitch<'a> = &'a dyn Fn(&Transaction) -> Result<()>;

impl Store {
    /// Replaces every contact of source `source_id` (of `dir`) with `contacts`. Unchanged
    /// contents (same hash) leave the contacts and the directory version alone. `on_switch`
    /// runs in the transaction that switches (or, unchanged, marks the source synced).
    pub(super) fn replace_contacts(
        &self,
        dir: &Directory,
        source_id: i64,
        contacts: &[Contact],
        on_switch: OnSwitch,
    ) -> Result<PushOutcome> {
        let hash = super::content_hash(contacts);
        let numbers: usize = contacts.iter().map(|c| c.numbers.len()).sum();
        let bytes: u64 = contacts.iter().map(contact_bytes).sum();
        let unchanged = PushOutcome {
            version: dir.version,
            contacts: contacts.len(),
            numbers,
            changed: false,
        };
        // 1. Check and claim a generation (or mark an unchanged source synced).
        let generation = self.write_growing(|tx| {
            let old_hash: String = tx.query_row(
                "SELECT content_hash FROM sources WHERE id = ?1",
                [source_id],
                |r| r.get(0),
            )?;
            if old_hash == hash {
                mark_synced(tx, source_id)?;
                on_switch(tx)?;
                return Ok(None);
            }
            let (others, other_bytes): (i64, i64) = tx.query_row(
                "SELECT coalesce(sum(contact_count), 0), coalesce(sum(stored_bytes), 0)
                   FROM sources WHERE directory_id = ?1 AND id <> ?2",
                params![dir.id, source_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let total = usize::try_from(others).unwrap_or(0) + contacts.len();
            if total > self.quota.contacts {
                return Err(StoreError::Quota(format!(
                    "this directory would hold {total} contacts, more than the {} it may hold (--max-contacts); nothing was changed",
                    self.quota.contacts
                )));
            }
            let total_bytes = u64::try_from(other_bytes).unwrap_or(0) + bytes;
            if total_bytes > self.quota.bytes {
                return Err(StoreError::Quota(format!(
                    "this directory would hold {} of contact data, more than the {} it may hold (--max-directory-bytes); nothing was changed",
                    super::space::human(total_bytes),
                    super::space::human(self.quota.bytes)
                )));
            }
            Ok(Some(tx.query_row(
                "UPDATE sources SET last_generation = max(last_generation, generation) + 1
                  WHERE id = ?1 RETURNING last_generation",
                [source_id],
                |r| r.get::<_, i64>(0),
            )?))
        })?;
        let Some(generation) = generation else {
            return Ok(unchanged);
        };
        // 2. The new rows, invisible to readers, a chunk per transaction.
        let staged = (|| {
            for chunk in contacts.chunks(CHUNK) {
                self.let_others_write();
                self.write_growing(|tx| insert_contacts(tx, source_id, generation, chunk))?;
            }
            // 3. The switch: readers see the new generation from this commit on.
            self.write(|tx| {
                let n = tx.execute(
                    "UPDATE sources SET generation = ?2, content_hash = ?3, contact_count = ?4,
                            stored_bytes = ?5
                      WHERE id = ?1 AND generation < ?2",
                    params![
                        source_id,
                        generation,
                        hash,
                        contacts.len() as i64,
                        i64::try_from(bytes).unwrap_or(i64::MAX)
                    ],
                )?;
                mark_synced(tx, source_id)?;
                on_switch(tx)?;
                // 0: a later replacement of the same source switched first and wins.
                let version = if n > 0 {
                    bump_version(tx, dir.id)?
                } else {
                    dir.version
                };
                Ok(version)
            })
        })();
        // 4. The rows no reader sees any more: the old generations, or ours if we failed.
        self.delete_stale(source_id, staged.is_err().then_some(generation));
        let version = staged?;
        Ok(PushOutcome {
            version,
            contacts: contacts.len(),
            numbers,
            changed: true,
        })
    }

    /// Deletes, a chunk per transaction, the rows of `source_id` older than its current
    /// generation, and those of `failed` (a replacement that did not switch). Rows of a
    /// newer generation belong to a replacement still running and stay.
    fn delete_stale(&self, source_id: i64, failed: Option<i64>) {
        loop {
            self.let_others_write();
            let deleted = self.write(|tx| {
                Ok(tx.execute(
                    "DELETE FROM contacts WHERE id IN (
                        SELECT c.id FROM contacts c JOIN sources s ON c.source_id = s.id
                         WHERE s.id = ?1
                           AND (c.generation < s.generation OR c.generation = ?3)
                         LIMIT ?2)",
                    params![source_id, CHUNK as i64, failed.unwrap_or(-1)],
                )?)
            });
            match deleted {
                Ok(n) if n > 0 => continue,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "stale contacts stay until the next replacement");
                    return;
                }
            }
        }
    }

    /// At start: rows a stopped replacement left behind (staged, never switched) or did not
    /// get to delete. Nothing is being written yet, so every row off its source's current
    /// generation is stale.
    pub fn delete_orphans(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.write(|tx| {
                Ok(tx.execute(
                    "DELETE FROM contacts WHERE id IN (
                        SELECT c.id FROM contacts c JOIN sources s ON c.source_id = s.id
                         WHERE c.generation <> s.generation LIMIT ?1)",
                    [CHUNK as i64],
                )?)
            })?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }
}

fn mark_synced(tx: &Transaction, source_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE sources SET last_success = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                            status = 'ok', last_error = NULL, failures = 0
          WHERE id = ?1",
        [source_id],
    )?;
    Ok(())
}

fn insert_contacts(
    tx: &Transaction,
    source_id: i64,
    generation: i64,
    contacts: &[Contact],
) -> Result<()> {
    let mut c_st = tx.prepare_cached(
        "INSERT INTO contacts (source_id, external_id, display_name, given_name, family_name,
                               company, department, position, email, group_name, sort_key,
                               generation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut n_st = tx.prepare_cached(
        "INSERT INTO numbers (contact_id, position, type, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for c in contacts {
        c_st.execute(params![
            source_id,
            c.external_id,
            c.display_name,
            c.given_name,
            c.family_name,
            c.company,
            c.department,
            c.position,
            c.email,
            c.group,
            sort_key(&c.display_name),
            generation,
        ])?;
        let id = tx.last_insert_rowid();
        for (pos, n) in c.numbers.iter().enumerate() {
            n_st.execute(params![id, pos as i64, n.kind.as_str(), n.value])?;
        }
    }
    Ok(())
}
