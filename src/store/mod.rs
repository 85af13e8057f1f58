//! SQLite persistence, the only place with SQL.
//!
//! One writer connection (SQLite allows one writer at a time anyway) and a small pool of
//! readers. WAL mode lets readers go on during a push and see either the old or the new
//! book, never half of it: each read runs in one transaction, each push in one other.

mod changes;
mod keys;
mod pool;
mod replace;
mod sources;
mod space;
mod targets;
mod versions;

use crate::domain::merge::Sourced;
use crate::domain::{ApiKey, Contact, DirectorySettings, NumberType, PhoneNumber};
use crate::secret::{Keyring, SecretError};
pub use changes::{LogRead, LogRow, Retention};
pub use keys::{KeyInfo, KeyRef, MAX_KEYS};
use pool::Pool;
pub use replace::Quota;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
pub use sources::{SourceRow, SourceSettings, SyncResult};
pub use space::DiskFloor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
pub use targets::{EntryRow, RunEnd, TargetRow, TargetSettings, Trigger, MAX_TARGETS};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_pull_sources.sql"),
    include_str!("migrations/003_book.sql"),
    include_str!("migrations/004_keys.sql"),
    include_str!("migrations/005_isolation.sql"),
    include_str!("migrations/006_targets.sql"),
    // 006 (targets, issue 14) goes here when both are merged.
    include_str!("migrations/007_source_warnings.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot use the data directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the database was written by a newer phonedir (schema version {found}; this one knows up to {known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("no directory has this key")]
    UnknownDirectory,
    #[error("a directory with this key exists already")]
    DirectoryExists,
    #[error(
        "the source `{name}` is a {kind} source, synced by phonedir; push to another source name"
    )]
    SourceKind { name: String, kind: String },
    #[error("a stored value cannot be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("the secret key in use is not the one this database was written with; start with the data directory's own secret.key, or the PHONEDIR_SECRET_KEY it was written with")]
    WrongSecretKey,
    #[error("this key is in use already; choose another")]
    KeyTaken,
    #[error("a directory holds at most {MAX_KEYS} keys; revoke the ones no longer used")]
    TooManyKeys,
    #[error("the directory key cannot be revoked, only the read and push keys made with it; delete the directory to end it")]
    DirectoryKey,
    /// A per-directory limit; the sentence names it.
    #[error("{0}")]
    Quota(String),
    #[error("the server's disk is almost full ({free} free, it keeps {floor}); nothing was stored. Phones can still read every book; the operator must free space")]
    DiskFull { free: String, floor: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone, Debug)]
pub struct Directory {
    pub id: i64,
    pub key: ApiKey,
    pub settings: DirectorySettings,
    pub version: i64,
}

impl Directory {
    /// The title phones show.
    pub fn title(&self) -> &str {
        self.settings.name.as_deref().unwrap_or("")
    }
}

/// One source of a directory, as the status view shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SourceSummary {
    pub name: String,
    pub kind: String,
    pub contacts: usize,
    pub last_success: Option<String>,
    /// `ok`, `error`, `never_synced` or `syncing`.
    pub status: String,
    /// Why the last sync failed, as a sentence; None after a success.
    pub last_error: Option<String>,
    pub priority: i64,
    /// When the scheduler runs it next (UTC, RFC 3339); None for push and on-demand sources.
    pub next_run: Option<String>,
    /// What the last good sync of a pulled source could not use.
    pub warnings: crate::domain::SourceWarnings,
}

/// A directory at one version with every source's entries as stored, not yet merged: what
/// the book (`book::Book`) is built from.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub directory: Directory,
    /// Each source's entries, ordered by name, then in the order the source gave them.
    pub entries: Vec<Sourced>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushOutcome {
    pub version: i64,
    pub contacts: usize,
    pub numbers: usize,
    /// False when the source already held exactly these contacts.
    pub changed: bool,
}

#[derive(Clone, Debug)]
pub struct DirectorySummary {
    pub directory: Directory,
    pub sources: usize,
    pub contacts: usize,
}

pub struct Store {
    path: PathBuf,
    /// Random bytes of this database, mixed into ETags so they tell nothing about ids.
    salt: [u8; 16],
    writer: Mutex<Connection>,
    readers: Pool,
    versions: versions::Versions,
    keys: Keyring,
    uses: keys::Uses,
    quota: Quota,
    floor: DiskFloor,
    /// Writers waiting for the writer connection.
    waiting: std::sync::atomic::AtomicUsize,
    /// Whether this process's writes move the `foreign_writes` counter, by which a running
    /// server tells them from its own (see `versions`): true but in the server.
    announce_writes: bool,
}

/// A transaction, with the keyring that finding a directory by its key needs (directories
/// are found by the hash of their key). Derefs to the rusqlite transaction.
pub(crate) struct Tx<'a> {
    tx: Transaction<'a>,
    keys: &'a Keyring,
    /// Directories whose version or keys this write changed: what the versions in memory
    /// forget once it is committed.
    touched: std::cell::RefCell<Vec<i64>>,
}

impl Tx<'_> {
    fn new<'a>(tx: Transaction<'a>, keys: &'a Keyring) -> Tx<'a> {
        Tx {
            tx,
            keys,
            touched: Default::default(),
        }
    }

    /// Notes that the directory's version or keys change with this transaction.
    pub(crate) fn touch(&self, directory_id: i64) {
        let mut t = self.touched.borrow_mut();
        if !t.contains(&directory_id) {
            t.push(directory_id);
        }
    }
}

impl<'a> std::ops::Deref for Tx<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.tx
    }
}

impl Store {
    /// Opens (or creates) `phonedir.sqlite3` in `data_dir` and brings its schema up to date.
    /// The data directory and the database are made the owner's only (0700/0600): they hold
    /// every customer's contacts.
    pub fn open(data_dir: &Path) -> Result<Store> {
        let io = |source| StoreError::Io {
            path: data_dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let path = data_dir.join("phonedir.sqlite3");
        owner_only(data_dir, 0o700);
        create_owner_only(&path).map_err(io)?;
        let mut writer = connect(&path)?;
        migrate(&mut writer)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut f = path.clone().into_os_string();
            f.push(suffix);
            owner_only(Path::new(&f), 0o600);
        }
        let keys = keys::open_keyring(&mut writer, data_dir)?;
        let salt = salt(&writer)?;
        Ok(Store {
            salt,
            readers: Pool::new(path.clone()),
            versions: versions::Versions::open(&path)?,
            path,
            writer: Mutex::new(writer),
            keys,
            uses: keys::Uses::default(),
            quota: Quota::NONE,
            floor: DiskFloor::Bytes(0),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            announce_writes: true,
        })
    }

    /// The store as the server runs it: directories within `quota`, writes refused under
    /// the free-disk `floor`, the WAL checkpointed by a thread of its own (not by the
    /// writer, inside its lock), what a stopped replacement left behind cleared, and its
    /// writes not announced as another process's.
    pub fn with_guards(mut self, quota: Quota, floor: DiskFloor) -> Result<Store> {
        self.quota = quota;
        self.floor = floor;
        self.announce_writes = false;
        self.writer
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .pragma_update(None, "wal_autocheckpoint", 0)?;
        space::start_checkpointer(self.path.clone());
        let n = self.delete_orphans()?;
        if n > 0 {
            tracing::info!(
                contacts = n,
                "removed contacts an interrupted push left behind"
            );
        }
        Ok(self)
    }

    /// Refuses (507) when the disk has less free space than the floor.
    pub fn check_free_space(&self) -> Result<()> {
        let dir = self.path.parent().unwrap_or(&self.path);
        space::check(dir, self.floor)
    }

    /// A write that adds data: refused under the free-disk floor.
    fn write_growing<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        self.check_free_space()?;
        self.write(f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn salt(&self) -> &[u8; 16] {
        &self.salt
    }

    fn write<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_writer();
        let tx = Tx::new(
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
            &self.keys,
        );
        let out = f(&tx)?;
        // Keys' last use rides along with writes that happen anyway (see keys::Uses).
        let flushed = self.uses.flush(&tx)?;
        if self.announce_writes {
            tx.execute(
                "INSERT INTO server_meta (name, value) VALUES (?1, '1')
                 ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                [versions::FOREIGN_WRITES],
            )?;
        }
        let touched = tx.touched.take();
        tx.tx.commit()?;
        self.uses.flushed(flushed);
        // Before the caller answers: a request after this write sees the new version.
        self.versions.forget(&touched);
        Ok(out)
    }

    /// The writer connection, counted among the waiting until it is ours.
    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let conn = self.writer.lock();
        self.waiting
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        conn.unwrap_or_else(|p| p.into_inner())
    }

    /// Between two chunks of a long write: lets writers that wait go first. The lock is not
    /// fair; without this the chunked writer takes it again before a waiting one wakes.
    fn let_others_write(&self) {
        for _ in 0..200 {
            if self.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// A write of derived data (the change log) that changes no directory's contents, so
    /// the versions in memory stay.
    fn write_log<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_writer();
        let tx = Tx::new(
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
            &self.keys,
        );
        let out = f(&tx)?;
        tx.tx.commit()?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let mut conn = self.readers.get()?;
        let tx = Tx::new(conn.transaction()?, &self.keys);
        let out = f(&tx)?;
        tx.tx.finish()?;
        Ok(out)
    }

    /// (directory id, version) of a directory if it is in memory: what a phone's
    /// conditional request and the book cache need, without a database query.
    pub fn cached_version(&self, key: &ApiKey) -> Result<Option<(i64, i64)>> {
        self.versions.get(key.as_str())
    }

    /// (directory id, version), from memory or else from the database.
    pub fn version(&self, key: &ApiKey) -> Result<Option<(i64, i64)>> {
        if let Some(v) = self.cached_version(key)? {
            return Ok(Some(v));
        }
        Ok(self.directory(key)?.map(|d| (d.id, d.version)))
    }

    pub fn directory(&self, key: &ApiKey) -> Result<Option<Directory>> {
        let epoch = self.versions.epoch();
        let dir = self.read(|tx| directory_row(tx, key))?;
        if let Some(d) = &dir {
            self.versions.remember(key.as_str(), d.id, d.version, epoch);
        }
        Ok(dir)
    }

    pub fn create_directory(&self, key: &ApiKey) -> Result<Directory> {
        self.write_growing(|tx| {
            if directory_row(tx, key)?.is_some() {
                return Err(StoreError::DirectoryExists);
            }
            insert_directory(tx, key)
        })
    }

    pub fn delete_directory(&self, key: &ApiKey) -> Result<bool> {
        self.write(|tx| {
            let Some(dir) = directory_row(tx, key)? else {
                return Ok(false);
            };
            keys::retire(tx, dir.id, None)?;
            tx.touch(dir.id);
            Ok(tx.execute("DELETE FROM directories WHERE id = ?1", [dir.id])? > 0)
        })
    }

    pub fn list_directories(&self) -> Result<Vec<DirectorySummary>> {
        self.read(|tx| {
            let mut st = tx.prepare(
                "SELECT d.id, d.key, d.settings, d.version,
                        (SELECT count(*) FROM sources s WHERE s.directory_id = d.id),
                        (SELECT coalesce(sum(s.contact_count), 0) FROM sources s
                          WHERE s.directory_id = d.id)
                   FROM directories d ORDER BY d.key",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    directory_from_row(r, tx.keys, None)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (directory, sources, contacts) = row?;
                out.push(DirectorySummary {
                    directory,
                    sources: usize::try_from(sources).unwrap_or(0),
                    contacts: usize::try_from(contacts).unwrap_or(0),
                });
            }
            Ok(out)
        })
    }

    /// Replaces the directory's settings. Phones see the change at once: the version moves,
    /// so every cached book and ETag is renewed.
    pub fn set_settings(&self, key: &ApiKey, settings: &DirectorySettings) -> Result<Directory> {
        let json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_growing(|tx| {
            let dir = directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)?;
            tx.execute(
                "UPDATE directories SET settings = ?2 WHERE id = ?1",
                params![dir.id, json],
            )?;
            bump_version(tx, dir.id)?;
            directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)
        })
    }

    /// The directory's sources with their sizes, by name.
    pub fn sources(&self, key: &ApiKey) -> Result<Vec<SourceSummary>> {
        self.read(|tx| {
            let dir = directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)?;
            let mut st = tx.prepare_cached(
                "SELECT s.name, s.kind, s.last_success,
                        s.contact_count, s.status, s.last_error, s.priority,
                        strftime('%Y-%m-%dT%H:%M:%SZ', s.next_run, 'unixepoch'), s.warnings
                   FROM sources s WHERE s.directory_id = ?1 ORDER BY s.name",
            )?;
            let rows = st.query_map([dir.id], |r| {
                Ok(SourceSummary {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    last_success: r.get(2)?,
                    contacts: usize::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                    status: r.get(4)?,
                    last_error: r.get(5)?,
                    priority: r.get(6)?,
                    next_run: r.get(7)?,
                    warnings: sources::warnings(r.get(8)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Replaces every contact of one source in one transaction. With `create`, an unknown
    /// directory is created first (open registration); otherwise it is an error.
    pub fn replace_source(
        &self,
        key: &ApiKey,
        source: &str,
        kind: &str,
        contacts: &[Contact],
        create: bool,
    ) -> Result<PushOutcome> {
        let (dir, source_id) = self.write_growing(|tx| {
            let dir = match directory_row(tx, key)? {
                Some(d) => d,
                None if create => insert_directory(tx, key)?,
                None => return Err(StoreError::UnknownDirectory),
            };
            let existing: Option<(i64, String)> = tx
                .query_row(
                    "SELECT id, kind FROM sources WHERE directory_id = ?1 AND name = ?2",
                    params![dir.id, source],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (source_id, stored_kind) = match existing {
                Some(found) => found,
                None => {
                    replace::check_new_source(tx, &dir, &self.quota)?;
                    tx.execute(
                        "INSERT INTO sources (directory_id, name, kind) VALUES (?1, ?2, ?3)",
                        params![dir.id, source, kind],
                    )?;
                    (tx.last_insert_rowid(), kind.to_owned())
                }
            };
            // A push must not overwrite what a pulled source synced (nor the reverse).
            if stored_kind != kind {
                return Err(StoreError::SourceKind {
                    name: source.to_owned(),
                    kind: stored_kind,
                });
            }
            Ok((dir, source_id))
        })?;
        self.replace_contacts(&dir, source_id, contacts, &|_| Ok(()))
    }

    /// The directory and every source's entries, read as one consistent snapshot.
    pub fn snapshot(&self, key: &ApiKey) -> Result<Option<Snapshot>> {
        let epoch = self.versions.epoch();
        let snap = self.read(|tx| {
            let Some(directory) = directory_row(tx, key)? else {
                return Ok(None);
            };
            let entries = load_entries(tx, directory.id)?;
            Ok(Some(Snapshot { directory, entries }))
        })?;
        if let Some(s) = &snap {
            let d = &s.directory;
            self.versions.remember(key.as_str(), d.id, d.version, epoch);
        }
        Ok(snap)
    }
}

/// Creates the database file readable by its owner only, before SQLite does: SQLite gives
/// its WAL and shared-memory files the mode of the database file.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop)
}

/// Narrows an existing file's or directory's mode (data directories of older versions were
/// created with the umask's). A failure is logged, not fatal: the operator may have chosen
/// the permissions on purpose (a directory owned by root, say).
fn owner_only(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o777 == mode {
            return;
        }
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            tracing::warn!(path = %path.display(), error = %e, "cannot make this readable by its owner only");
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // FULL: a push that answered 200 survives a power cut; pushes are rare, reads are not
    // affected. No memory map: every page a book's build touched stayed in the process's
    // resident memory (250 MB of 460 with 1,000 directories read) for a first build of a
    // 100,000-contact book that took 0.6 s without it. The WAL
    // file shrinks back to 64 MiB when it restarts after a checkpoint, so one big
    // replacement does not keep its size on disk.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA journal_size_limit = 67108864;",
    )?;
    Ok(conn)
}

/// The database's ETag salt, made on first use and kept.
fn salt(conn: &Connection) -> Result<[u8; 16]> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = 'etag_salt'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(v) = stored.filter(|v| v.len() == 16) {
        let mut s = [0u8; 16];
        s.copy_from_slice(&v);
        return Ok(s);
    }
    let mut s = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut s)
        .map_err(|_| StoreError::Corrupt("no random numbers for the ETag salt".into()))?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (name, value) VALUES ('etag_salt', ?1)",
        [&s[..]],
    )?;
    Ok(s)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// A directory from `id, key, settings, version`; `key` is the directory key when the caller
/// found the row by it, else it is unsealed from the row.
fn directory_from_row(
    r: &rusqlite::Row,
    keys: &Keyring,
    key: Option<&ApiKey>,
) -> rusqlite::Result<Directory> {
    let key = match key {
        Some(k) => k.clone(),
        None => keys::unseal_key(keys, &r.get::<_, String>(1)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
        })?,
    };
    Ok(Directory {
        id: r.get(0)?,
        key,
        settings: serde_json::from_str(&r.get::<_, String>(2)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        version: r.get(3)?,
    })
}

/// The directory whose directory key this is. Read and push keys find nothing here: only
/// `Store::resolve` maps them to their directory, so no path can treat them as more.
fn directory_row(tx: &Tx, key: &ApiKey) -> Result<Option<Directory>> {
    let hash = tx.keys.hash(key);
    Ok(tx
        .query_row(
            "SELECT d.id, d.key, d.settings, d.version
               FROM api_keys k JOIN directories d ON d.id = k.directory_id
              WHERE k.hash = ?1 AND k.scope = 'directory'",
            [&hash[..]],
            |r| directory_from_row(r, tx.keys, Some(key)),
        )
        .optional()?)
}

fn insert_directory(tx: &Tx, key: &ApiKey) -> Result<Directory> {
    // A read or push key of another directory must not become a directory key.
    if keys::key_exists(tx, key)? {
        return Err(StoreError::DirectoryExists);
    }
    tx.execute(
        "INSERT INTO directories (key) VALUES (?1)",
        [tx.keys.seal(key.as_str())?],
    )?;
    let id = tx.last_insert_rowid();
    keys::insert_key_row(tx, id, key, crate::domain::Scope::Admin, "")?;
    directory_row(tx, key)?.ok_or(StoreError::UnknownDirectory)
}

fn bump_version(tx: &Tx, directory_id: i64) -> Result<i64> {
    tx.touch(directory_id);
    Ok(tx.query_row(
        "UPDATE directories
            SET version = version + 1,
                updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
          WHERE id = ?1 RETURNING version",
        [directory_id],
        |r| r.get(0),
    )?)
}

fn load_entries(tx: &Transaction, directory_id: i64) -> Result<Vec<Sourced>> {
    let mut st = tx.prepare_cached(
        "SELECT c.id, c.external_id, c.display_name, c.given_name, c.family_name, c.company,
                c.department, c.position, c.email, c.group_name, s.name, s.priority
           FROM contacts c JOIN sources s ON c.source_id = s.id
          WHERE s.directory_id = ?1 AND c.generation = s.generation
          ORDER BY s.name, c.sort_key, c.display_name, c.id",
    )?;
    let mut ids = Vec::new();
    let mut contacts = Vec::new();
    let rows = st.query_map([directory_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Contact {
                id: Default::default(),
                external_id: r.get(1)?,
                display_name: r.get(2)?,
                given_name: r.get(3)?,
                family_name: r.get(4)?,
                company: r.get(5)?,
                department: r.get(6)?,
                position: r.get(7)?,
                email: r.get(8)?,
                group: r.get(9)?,
                numbers: Vec::new(),
                sources: Vec::new(),
            },
            r.get::<_, String>(10)?,
            r.get::<_, i64>(11)?,
        ))
    })?;
    for row in rows {
        let (id, c, source, priority) = row?;
        ids.push(id);
        contacts.push(Sourced {
            contact: c,
            source,
            priority,
        });
    }
    let index: std::collections::HashMap<i64, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    // Without ORDER BY first: SQLite visits each contact's numbers by the primary key
    // (contact, position), and sorting all numbers of a big directory in a temporary B-tree
    // cost more than the query. Positions are read along; should they ever come out of
    // order, the numbers are read again, sorted by SQL.
    for sorted in [false, true] {
        let sql = if sorted {
            "SELECT n.contact_id, n.position, n.type, n.value
               FROM numbers n JOIN contacts c ON n.contact_id = c.id
                              JOIN sources s ON c.source_id = s.id
              WHERE s.directory_id = ?1 AND c.generation = s.generation
              ORDER BY n.contact_id, n.position"
        } else {
            "SELECT n.contact_id, n.position, n.type, n.value
               FROM numbers n JOIN contacts c ON n.contact_id = c.id
                              JOIN sources s ON c.source_id = s.id
              WHERE s.directory_id = ?1 AND c.generation = s.generation"
        };
        let mut st = tx.prepare_cached(sql)?;
        let mut last = vec![-1i64; contacts.len()];
        let mut in_order = true;
        let mut rows = st.query([directory_id])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let kind: String = r.get(2)?;
            let kind = NumberType::from_alias(&kind).ok_or(StoreError::Corrupt(kind))?;
            if let Some(&i) = index.get(&id) {
                let position: i64 = r.get(1)?;
                in_order &= position > last[i];
                last[i] = position;
                contacts[i].contact.numbers.push(PhoneNumber {
                    kind,
                    value: r.get(3)?,
                });
            }
        }
        if in_order {
            break;
        }
        for c in &mut contacts {
            c.contact.numbers.clear();
        }
    }
    Ok(contacts)
}

fn content_hash(contacts: &[Contact]) -> String {
    let bytes = serde_json::to_vec(contacts).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
