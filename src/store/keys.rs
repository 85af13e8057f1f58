//! API keys: each directory's directory key and the read and push keys made with it, stored as
//! HMAC-SHA256 under the server's secret key and found by that hash (see `secret::Keyring`).
//! `resolve` answers which directory a presented key opens, and how far, from memory when it
//! can: phones present their key on every request.

use super::{directory_row, Result, Store, StoreError, Tx};
use crate::domain::{Access, ApiKey, Scope};
use crate::secret::Keyring;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

/// Read and push keys one directory may hold; each costs a row and, in use, a little memory.
pub const MAX_KEYS: usize = 1000;

/// A key as listings show it: never the key, only its first characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: i64,
    pub hint: String,
    pub scope: Scope,
    pub label: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// Unix seconds, to the minute.
    pub last_used: Option<i64>,
}

/// Which key to revoke: the key itself, or its id from the listing (for a key nobody has
/// written down).
#[derive(Clone, Debug)]
pub enum KeyRef {
    Key(ApiKey),
    Id(i64),
}

/// The keyring for this database: loaded (or, for a new database, created), checked against
/// the value the database was written with, and used once to move directory keys of older
/// versions from clear text to hash and seal.
pub(super) fn open_keyring(conn: &mut Connection, data_dir: &Path) -> Result<Keyring> {
    let check = key_check(conn)?;
    let keys = Keyring::load(data_dir, check.is_none())?;
    if let Some(c) = check {
        return if c == keys.check_value() {
            Ok(keys)
        } else {
            Err(StoreError::WrongSecretKey)
        };
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have done it since we looked.
    if key_check(&tx)?.is_none() {
        let clear: Vec<(i64, String)> = {
            let mut st =
                tx.prepare("SELECT id, key FROM directories WHERE key NOT LIKE 'sealed:%'")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, key) in &clear {
            let key = ApiKey::parse(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT INTO api_keys (directory_id, hash, scope, hint) VALUES (?1, ?2, 'directory', ?3)",
                params![id, &keys.hash(&key)[..], key.hint()],
            )?;
            tx.execute(
                "UPDATE directories SET key = ?2 WHERE id = ?1",
                params![id, keys.seal(key.as_str())?],
            )?;
        }
        tx.execute(
            "INSERT INTO server_meta (name, value) VALUES ('key_check', ?1)",
            [keys.check_value()],
        )?;
        if !clear.is_empty() {
            tracing::info!(
                directories = clear.len(),
                "directory keys are now stored hashed and sealed"
            );
        }
    }
    tx.commit()?;
    Ok(keys)
}

fn key_check(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM server_meta WHERE name = 'key_check'",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn unseal_key(keys: &Keyring, stored: &str) -> Result<ApiKey> {
    let plain = keys.open(stored)?;
    ApiKey::parse(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Whether the key opens a directory, or once did (revoked, or its directory deleted).
pub(super) fn key_exists(tx: &Tx, key: &ApiKey) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM api_keys WHERE hash = ?1
             UNION ALL SELECT 1 FROM retired_keys WHERE hash = ?1",
            [&tx.keys.hash(key)[..]],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Retires the keys of one directory (`key_id` None) or one key, before their rows go.
pub(super) fn retire(tx: &Tx, directory_id: i64, key_id: Option<i64>) -> Result<()> {
    tx.touch(directory_id);
    tx.execute(
        "INSERT OR IGNORE INTO retired_keys (hash)
         SELECT hash FROM api_keys WHERE directory_id = ?1 AND (?2 IS NULL OR id = ?2)",
        params![directory_id, key_id],
    )?;
    Ok(())
}

pub(super) fn insert_key_row(
    tx: &Tx,
    directory_id: i64,
    key: &ApiKey,
    scope: Scope,
    label: &str,
) -> Result<i64> {
    if key_exists(tx, key)? {
        return Err(StoreError::KeyTaken);
    }
    tx.touch(directory_id);
    tx.execute(
        "INSERT INTO api_keys (directory_id, hash, scope, hint, label) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            directory_id,
            &tx.keys.hash(key)[..],
            scope.as_str(),
            key.hint(),
            label
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn key_info(r: &rusqlite::Row) -> rusqlite::Result<KeyInfo> {
    let scope: String = r.get(2)?;
    Ok(KeyInfo {
        id: r.get(0)?,
        hint: r.get(1)?,
        scope: Scope::from_name(&scope).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("scope `{scope}`").into(),
            )
        })?,
        label: r.get(3)?,
        created: r.get(4)?,
        last_used: r.get(5)?,
    })
}

impl Store {
    /// What a presented key opens, from memory only: None when it is not known there (yet),
    /// and the caller may ask `resolve`, which reads the database.
    pub fn resolve_cached(&self, key: &ApiKey) -> Result<Option<Access>> {
        self.versions.get_access(&self.keys.hash(key))
    }

    /// What a presented key opens: its directory (by the directory key and id) and its
    /// scope; None for a key no directory has. Remembered until the next write, so a phone
    /// that polls costs one HMAC and a map lookup.
    pub fn resolve(&self, key: &ApiKey) -> Result<Option<Access>> {
        let hash = self.keys.hash(key);
        if let Some(a) = self.versions.get_access(&hash)? {
            return Ok(Some(a));
        }
        let epoch = self.versions.epoch();
        let found = self.read(|tx| {
            let row = tx
                .query_row(
                    "SELECT k.id, k.hash, k.scope, d.id, d.key, d.version
                       FROM api_keys k JOIN directories d ON d.id = k.directory_id
                      WHERE k.hash = ?1",
                    [&hash[..]],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, i64>(5)?,
                        ))
                    },
                )
                .optional()?;
            let Some((key_id, stored, scope, dir_id, sealed, version)) = row else {
                return Ok(None);
            };
            // The index found the row by hash; the comparison that decides takes the same
            // time wherever the hashes differ.
            if !tx.keys.verify(key, &stored) {
                return Ok(None);
            }
            let scope = Scope::from_name(&scope)
                .ok_or_else(|| StoreError::Corrupt(format!("scope `{scope}`")))?;
            let directory = if scope == Scope::Admin {
                key.clone()
            } else {
                unseal_key(tx.keys, &sealed)?
            };
            Ok(Some((
                Access {
                    directory,
                    directory_id: dir_id,
                    scope,
                    key_id,
                },
                version,
            )))
        })?;
        Ok(found.map(|(access, version)| {
            self.versions.remember_access(hash, access.clone(), epoch);
            self.versions.remember(
                access.directory.as_str(),
                access.directory_id,
                version,
                epoch,
            );
            access
        }))
    }

    /// Whether the key was revoked, or its directory deleted: it opens nothing and may not
    /// become a new directory.
    pub fn retired(&self, key: &ApiKey) -> Result<bool> {
        let hash = self.keys.hash(key);
        self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT 1 FROM retired_keys WHERE hash = ?1",
                    [&hash[..]],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
    }

    /// Notes that a key was just used (kept in memory, written with the next write).
    pub fn key_used(&self, key_id: i64) {
        self.uses.touch(key_id, unix_now());
    }

    /// Makes a new random key of `scope` for the directory; the key is in the answer and
    /// nowhere else.
    pub fn create_key(
        &self,
        directory: &ApiKey,
        scope: Scope,
        label: &str,
    ) -> Result<(ApiKey, KeyInfo)> {
        let key = crate::secret::new_api_key()?;
        let info = self.add_key(directory, &key, scope, label)?;
        Ok((key, info))
    }

    /// Adds a given key of `scope` (read or push) to the directory.
    pub fn add_key(
        &self,
        directory: &ApiKey,
        key: &ApiKey,
        scope: Scope,
        label: &str,
    ) -> Result<KeyInfo> {
        if scope == Scope::Admin {
            // One directory key per directory; it comes with the directory.
            return Err(StoreError::DirectoryExists);
        }
        self.write(|tx| {
            let dir = directory_row(tx, directory)?.ok_or(StoreError::UnknownDirectory)?;
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM api_keys WHERE directory_id = ?1 AND scope <> 'directory'",
                [dir.id],
                |r| r.get(0),
            )?;
            if usize::try_from(n).unwrap_or(usize::MAX) >= MAX_KEYS {
                return Err(StoreError::TooManyKeys);
            }
            let id = insert_key_row(tx, dir.id, key, scope, label)?;
            Ok(tx.query_row(
                "SELECT id, hint, scope, label, created_at, last_used FROM api_keys WHERE id = ?1",
                [id],
                key_info,
            )?)
        })
    }

    /// The directory's read and push keys, oldest first.
    pub fn keys(&self, directory: &ApiKey) -> Result<Vec<KeyInfo>> {
        let mut list = self.read(|tx| {
            let dir = directory_row(tx, directory)?.ok_or(StoreError::UnknownDirectory)?;
            let mut st = tx.prepare_cached(
                "SELECT id, hint, scope, label, created_at, last_used FROM api_keys
                  WHERE directory_id = ?1 AND scope <> 'directory' ORDER BY id",
            )?;
            let rows = st.query_map([dir.id], key_info)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        for k in &mut list {
            k.last_used = k.last_used.max(self.uses.seen(k.id));
        }
        Ok(list)
    }

    /// Revokes a read or push key of the directory at once; false if it has no such key.
    pub fn revoke_key(&self, directory: &ApiKey, which: &KeyRef) -> Result<bool> {
        let gone = self.write(|tx| {
            let dir = directory_row(tx, directory)?.ok_or(StoreError::UnknownDirectory)?;
            let row: Option<(i64, String)> = match which {
                KeyRef::Key(k) => tx
                    .query_row(
                        "SELECT id, scope FROM api_keys WHERE hash = ?1 AND directory_id = ?2",
                        params![&tx.keys.hash(k)[..], dir.id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
                KeyRef::Id(id) => tx
                    .query_row(
                        "SELECT id, scope FROM api_keys WHERE id = ?1 AND directory_id = ?2",
                        params![id, dir.id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?,
            };
            match row {
                None => Ok(None),
                Some((_, scope)) if scope == Scope::Admin.as_str() => Err(StoreError::DirectoryKey),
                Some((id, _)) => {
                    retire(tx, dir.id, Some(id))?;
                    tx.execute("DELETE FROM api_keys WHERE id = ?1", [id])?;
                    Ok(Some(id))
                }
            }
        })?;
        if let Some(id) = gone {
            self.uses.forget(id);
        }
        Ok(gone.is_some())
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// When keys were last used, to the minute. Writing that on every phone request would make
/// every read a write (and a write empties the in-memory caches), so it is kept here and
/// written along with the next write that happens anyway, or shown from here by `keys`.
#[derive(Default)]
pub(super) struct Uses {
    map: RwLock<HashMap<i64, Use>>,
}

struct Use {
    seen: AtomicI64,
    written: AtomicI64,
}

impl Uses {
    fn touch(&self, key_id: i64, now: i64) {
        let minute = now - now.rem_euclid(60);
        {
            let map = self.map.read().unwrap_or_else(|p| p.into_inner());
            if let Some(u) = map.get(&key_id) {
                u.seen.fetch_max(minute, Ordering::Relaxed);
                return;
            }
        }
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        map.entry(key_id)
            .or_insert_with(|| Use {
                seen: AtomicI64::new(0),
                written: AtomicI64::new(0),
            })
            .seen
            .fetch_max(minute, Ordering::Relaxed);
    }

    fn seen(&self, key_id: i64) -> Option<i64> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(&key_id)
            .map(|u| u.seen.load(Ordering::Relaxed))
            .filter(|t| *t > 0)
    }

    fn forget(&self, key_id: i64) {
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key_id);
    }

    /// Writes the uses not yet written, in the caller's transaction; `flushed` marks them
    /// once it committed.
    pub(super) fn flush(&self, tx: &Tx) -> Result<Vec<(i64, i64)>> {
        let pending: Vec<(i64, i64)> = {
            let map = self.map.read().unwrap_or_else(|p| p.into_inner());
            map.iter()
                .map(|(id, u)| {
                    (
                        *id,
                        u.seen.load(Ordering::Relaxed),
                        u.written.load(Ordering::Relaxed),
                    )
                })
                .filter(|(_, seen, written)| seen > written)
                .map(|(id, seen, _)| (id, seen))
                .collect()
        };
        if pending.is_empty() {
            return Ok(pending);
        }
        let mut st = tx.prepare_cached(
            "UPDATE api_keys SET last_used = max(coalesce(last_used, 0), ?2) WHERE id = ?1",
        )?;
        for (id, seen) in &pending {
            st.execute(params![id, seen])?;
        }
        Ok(pending)
    }

    pub(super) fn flushed(&self, done: Vec<(i64, i64)>) {
        if done.is_empty() {
            return;
        }
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        for (id, seen) in done {
            if let Some(u) = map.get(&id) {
                u.written.fetch_max(seen, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ApiKey {
        ApiKey::parse(s).unwrap()
    }

    #[test]
    fn keys_resolve_to_their_directory_and_scope_and_are_stored_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let admin = key("Kt4wQ9zLm2Rx7B");
        let d = store.create_directory(&admin).unwrap();
        let (read, info) = store
            .create_key(&admin, Scope::Read, "lobby phone")
            .unwrap();
        assert_eq!(
            (info.scope, info.label.as_str()),
            (Scope::Read, "lobby phone")
        );
        assert_eq!(info.hint, read.hint());
        let a = store.resolve(&read).unwrap().unwrap();
        assert_eq!(
            (a.directory.clone(), a.directory_id, a.scope),
            (admin.clone(), d.id, Scope::Read)
        );
        assert_eq!(store.resolve_cached(&read).unwrap(), Some(a.clone()));
        assert_eq!(store.resolve(&admin).unwrap().unwrap().scope, Scope::Admin);
        assert!(store.resolve(&key("Zq8pW3nVb6Tc1M")).unwrap().is_none());
        // A read key is no directory key: the store does not find the directory by it.
        assert!(store.directory(&read).unwrap().is_none());
        assert!(matches!(
            store.create_directory(&read),
            Err(StoreError::DirectoryExists)
        ));

        // Used keys show when; revoked ones open nothing at once.
        store.key_used(a.key_id);
        assert!(store.keys(&admin).unwrap()[0].last_used.is_some());
        assert!(matches!(
            store.revoke_key(&admin, &KeyRef::Key(admin.clone())),
            Err(StoreError::DirectoryKey)
        ));
        assert!(store
            .revoke_key(&admin, &KeyRef::Key(read.clone()))
            .unwrap());
        assert!(!store
            .revoke_key(&admin, &KeyRef::Key(read.clone()))
            .unwrap());
        assert!(store.resolve(&read).unwrap().is_none());
        assert!(store.keys(&admin).unwrap().is_empty());
        // Retired for good: it names no new directory either, nor does a deleted one's key.
        assert!(store.retired(&read).unwrap());
        assert!(matches!(
            store.create_directory(&read),
            Err(StoreError::DirectoryExists)
        ));
        assert!(!store.retired(&admin).unwrap());
        assert!(store.delete_directory(&admin).unwrap());
        assert!(store.retired(&admin).unwrap());
        assert!(matches!(
            store.create_directory(&admin),
            Err(StoreError::DirectoryExists)
        ));
        let store = Store::open(dir.path()).unwrap();

        // Neither the database nor its log holds a key in clear.
        drop(store);
        let mut bytes = std::fs::read(dir.path().join("phonedir.sqlite3")).unwrap();
        bytes.extend(std::fs::read(dir.path().join("phonedir.sqlite3-wal")).unwrap_or_default());
        for k in [&admin, &read] {
            assert!(
                !bytes.windows(14).any(|w| w == k.as_str().as_bytes()),
                "{k:?} in the database"
            );
        }
    }

    #[test]
    fn last_use_is_written_with_the_next_write_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let admin = key("Kt4wQ9zLm2Rx7B");
        let read;
        {
            let store = Store::open(dir.path()).unwrap();
            store.create_directory(&admin).unwrap();
            read = store.create_key(&admin, Scope::Read, "").unwrap().0;
            let a = store.resolve(&read).unwrap().unwrap();
            store.key_used(a.key_id);
            // Any write carries it.
            store.create_key(&admin, Scope::Push, "script").unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let list = store.keys(&admin).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].last_used.is_some(), "{list:?}");
        assert!(list[1].last_used.is_none());
        assert_eq!(list[1].scope, Scope::Push);
        let _ = read;
    }

    #[test]
    fn clear_keys_of_older_versions_are_moved_and_a_wrong_secret_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phonedir.sqlite3");
        {
            // A database as version 002 left it.
            let mut c = Connection::open(&path).unwrap();
            let tx = c.transaction().unwrap();
            for sql in &super::super::MIGRATIONS[..2] {
                tx.execute_batch(sql).unwrap();
            }
            tx.pragma_update(None, "user_version", 2).unwrap();
            tx.execute(
                "INSERT INTO directories (key) VALUES ('Kt4wQ9zLm2Rx7B')",
                [],
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let admin = key("Kt4wQ9zLm2Rx7B");
        assert!(store.directory(&admin).unwrap().is_some());
        assert_eq!(store.list_directories().unwrap()[0].directory.key, admin);
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(14).any(|w| w == admin.as_str().as_bytes()));

        std::fs::write(dir.path().join("secret.key"), "07".repeat(32)).unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::WrongSecretKey)
        ));
        std::fs::remove_file(dir.path().join("secret.key")).unwrap();
        let e = Store::open(dir.path()).err().unwrap().to_string();
        assert!(e.contains("secret.key") && e.contains("backup"), "{e}");
    }
}
