//! Which version each directory is at, and which directory each presented key opens, kept
//! in memory so a phone whose book is cached costs no database query.
//!
//! A write of this process forgets only the directories it touched (their version moved,
//! their keys changed): one tenant writing all day must not send every other tenant's
//! phones to the database on each request. Writes of another process (a `phonedir import`
//! or `directory keys revoke` next to the running server) clear everything; they are
//! noticed through SQLite's `data_version`, checked at most every `RECHECK`, and told apart
//! from this process's own commits by the `foreign_writes` counter such a process moves
//! (`Store::with_guards` makes the server's store the one that does not).

use super::{connect, Result};
use crate::domain::Access;
use crate::secret::KeyHash;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

const RECHECK: Duration = Duration::from_millis(250);

/// Forget marks kept per directory before they are folded into one mark for all: enough
/// for the writes of a busy moment, bounded whatever happens.
const MAX_MARKS: usize = 1024;

pub struct Versions {
    /// key → (directory id, version); only directories that exist, so its size is bounded
    /// by the number of directories, whatever keys phones probe.
    map: RwLock<HashMap<String, (i64, i64)>>,
    /// HMAC of a presented key → what it opens; only keys that exist. Keyed by the hash, so
    /// the lookup compares hashes, never keys.
    access: RwLock<HashMap<KeyHash, Access>>,
    /// Moves on every forget. A reader takes it before its query (`epoch`) and may put
    /// what it read back (`remember`) only if its directory was not forgotten since: a
    /// reader that started before a write cannot bring back what the write made stale.
    epoch: AtomicU64,
    marks: Mutex<Marks>,
    /// When `data_version` was last asked, in milliseconds since `started`: read without a
    /// lock on every request, so phones on all workers do not queue for the watcher.
    checked_ms: AtomicU64,
    started: Instant,
    watch: Mutex<Watch>,
}

/// When (in `epoch` ticks) each directory, or everything, was last forgotten.
#[derive(Default)]
struct Marks {
    all: u64,
    directories: HashMap<i64, u64>,
}

impl Marks {
    /// Whether what a reader read of `directory` since `epoch` is still current.
    fn fresh(&self, directory: i64, epoch: u64) -> bool {
        self.all <= epoch
            && self
                .directories
                .get(&directory)
                .is_none_or(|&at| at <= epoch)
    }
}

struct Watch {
    conn: Connection,
    data_version: i64,
    /// Another process's count of its writes (`FOREIGN_WRITES`).
    foreign: Option<String>,
}

/// The `server_meta` row a process other than the server moves with each of its writes.
pub(super) const FOREIGN_WRITES: &str = "foreign_writes";

impl Versions {
    pub fn open(path: &Path) -> Result<Versions> {
        let conn = connect(path)?;
        let data_version = data_version(&conn)?;
        let foreign = foreign_writes(&conn)?;
        Ok(Versions {
            map: RwLock::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            marks: Mutex::new(Marks::default()),
            checked_ms: AtomicU64::new(0),
            started: Instant::now(),
            watch: Mutex::new(Watch {
                conn,
                data_version,
                foreign,
            }),
        })
    }

    pub fn get(&self, key: &str) -> Result<Option<(i64, i64)>> {
        self.notice_other_writers()?;
        Ok(self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied())
    }

    /// Taken before a read, handed to `remember` after it.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn remember(&self, key: &str, id: i64, version: i64, epoch: u64) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if self.marks().fresh(id, epoch) {
            map.insert(key.to_owned(), (id, version));
        }
    }

    pub fn get_access(&self, hash: &KeyHash) -> Result<Option<Access>> {
        self.notice_other_writers()?;
        Ok(self
            .access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned())
    }

    pub fn remember_access(&self, hash: KeyHash, access: Access, epoch: u64) {
        let mut map = self.access.write().unwrap_or_else(|p| p.into_inner());
        if self.marks().fresh(access.directory_id, epoch) {
            map.insert(hash, access);
        }
    }

    /// After a write of this process: forgets the directories it touched, and nothing else.
    pub fn forget(&self, directories: &[i64]) {
        if directories.is_empty() {
            return;
        }
        // In the order `remember` and `remember_access` take them: map, access, marks.
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        let mut marks = self.marks();
        let at = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        for &d in directories {
            marks.directories.insert(d, at);
        }
        if marks.directories.len() > MAX_MARKS {
            // Readers that started before now may not remember anything: conservative,
            // and nothing in the maps needs to go.
            marks.all = at;
            marks.directories.clear();
        }
        map.retain(|_, (id, _)| !directories.contains(id));
        access.retain(|_, a| !directories.contains(&a.directory_id));
    }

    pub fn forget_all(&self) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        let mut marks = self.marks();
        marks.all = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        marks.directories.clear();
        map.clear();
        access.clear();
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notice_other_writers(&self) -> Result<()> {
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.checked_ms.load(Ordering::Relaxed);
        let due = now_ms.saturating_sub(last) >= RECHECK.as_millis() as u64;
        // One request checks; the others go on with what the map says.
        if !due
            || self
                .checked_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let mut w = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        let now = data_version(&w.conn)?;
        if now == w.data_version {
            return Ok(());
        }
        w.data_version = now;
        // Someone committed: this process's writer (already forgotten what it touched), or
        // another process, which counts its writes.
        let foreign = foreign_writes(&w.conn)?;
        if foreign != w.foreign {
            w.foreign = foreign;
            self.forget_all();
        }
        Ok(())
    }
}

/// Changes whenever another connection, of this process or another, commits.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

fn foreign_writes(conn: &Connection) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT value FROM server_meta WHERE name = ?1",
            [FOREIGN_WRITES],
            |r| r.get(0),
        )
        .optional()?)
}
