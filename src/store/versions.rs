//! Which version each directory is at, and which directory each presented key opens, kept
//! in memory so a phone whose book is cached costs no database query. Every write of this
//! process clears both; writes of another process (a `phonedir import` or `directory keys
//! revoke` next to the running server) are noticed through SQLite's `data_version`, checked
//! at most every `RECHECK`.

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

pub struct Versions {
    /// key → (directory id, version); only directories that exist, so its size is bounded
    /// by the number of directories, whatever keys phones probe.
    map: RwLock<HashMap<String, (i64, i64)>>,
    /// HMAC of a presented key → what it opens; only keys that exist. Keyed by the hash, so
    /// the lookup compares hashes, never keys.
    access: RwLock<HashMap<KeyHash, Access>>,
    /// Moves on every `forget_all`, so a reader that started before a write cannot put
    /// the version it read back after the write cleared the map.
    epoch: AtomicU64,
    /// When `data_version` was last asked, in milliseconds since `started`: read without a
    /// lock on every request, so phones on all workers do not queue for the watcher.
    checked_ms: AtomicU64,
    started: Instant,
    watch: Mutex<Watch>,
}

struct Watch {
    conn: Connection,
    data_version: i64,
}

impl Versions {
    pub fn open(path: &Path) -> Result<Versions> {
        let conn = connect(path)?;
        let data_version = data_version(&conn)?;
        Ok(Versions {
            map: RwLock::new(HashMap::new()),
            access: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            checked_ms: AtomicU64::new(0),
            started: Instant::now(),
            watch: Mutex::new(Watch { conn, data_version }),
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
        if self.epoch.load(Ordering::SeqCst) == epoch {
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
        if self.epoch.load(Ordering::SeqCst) == epoch {
            map.insert(hash, access);
        }
    }

    pub fn forget_all(&self) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let mut access = self.access.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::SeqCst);
        map.clear();
        access.clear();
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
        if now != w.data_version {
            w.data_version = now;
            self.forget_all();
        }
        Ok(())
    }
}

/// Changes whenever another connection, of this process or another, commits.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
