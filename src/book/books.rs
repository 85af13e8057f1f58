//! The books in use: the newest book of each directory readers ask for, built once per
//! version (one builder per directory at a time; the others wait for its result), kept
//! while memory allows (least recently used go first), and logged in the change log when a
//! reader needs to know what changed.

use super::changes::{Change, Changes, ChangesError, KEEP_DAYS, KEEP_VERSIONS};
use super::Book;
use crate::domain::ApiKey;
use crate::lru::Lru;
use crate::store::{Retention, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Changes(#[from] ChangesError),
    #[error("the server is busy building other phone books; try again in a few seconds")]
    Busy,
}

pub struct Books {
    store: Arc<Store>,
    max_bytes: usize,
    cache: Mutex<Lru<i64, Arc<Book>>>,
    /// One lock per directory whose book is being built, so a burst of requests after a
    /// push builds it once.
    building: Mutex<HashMap<i64, Arc<Mutex<()>>>>,
    slots: Slots,
    retention: Retention,
    /// Newest logged (version, logged at) per directory id, as far as this process knows;
    /// bounded by the number of directories.
    logged: Mutex<HashMap<i64, (i64, i64)>>,
}

/// How long a request waits for a build or render slot before it is told to come back.
const SLOT_WAIT: Duration = Duration::from_secs(30);

impl Books {
    /// `max_bytes` bounds the books kept; `max_busy` the builds and whole-book renders that
    /// run at once (the rest wait their turn, so many big books cannot take every core and
    /// all memory at once).
    pub fn new(store: Arc<Store>, max_bytes: usize, max_busy: usize) -> Books {
        Books {
            store,
            max_bytes,
            cache: Mutex::new(Lru::new(max_bytes)),
            building: Mutex::new(HashMap::new()),
            slots: Slots::new(max_busy.max(1)),
            retention: Retention {
                min_versions: KEEP_VERSIONS,
                min_seconds: KEEP_DAYS * 86_400,
            },
            logged: Mutex::new(HashMap::new()),
        }
    }

    /// For tests: a change log that keeps less.
    pub fn with_retention(mut self, retention: Retention) -> Books {
        self.retention = retention;
        self
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The newest book of the directory with this key; None for an unknown key.
    pub fn get(&self, key: &ApiKey) -> Result<Option<Arc<Book>>, BookError> {
        let Some((id, version)) = self.store.version(key)? else {
            return Ok(None);
        };
        if let Some(b) = self.cached_at(id, version) {
            return Ok(Some(b));
        }
        let gate = {
            let mut b = self.building.lock().unwrap_or_else(|p| p.into_inner());
            b.entry(id).or_default().clone()
        };
        let built = {
            let _one_builder = gate.lock().unwrap_or_else(|p| p.into_inner());
            // Whoever held the gate before us may have built it.
            match self.cached_at(id, version) {
                Some(b) => Ok(Some(b)),
                None => self.build(key),
            }
        };
        {
            let mut b = self.building.lock().unwrap_or_else(|p| p.into_inner());
            // Ours and the map's: nobody else waits on this gate.
            if Arc::strong_count(&gate) <= 2 {
                b.remove(&id);
            }
        }
        built
    }

    /// The newest book if it is in memory and its version known without a database query:
    /// the path a caller-ID lookup takes on every call. None means "ask `get`".
    pub fn cached(&self, key: &ApiKey) -> Result<Option<Arc<Book>>, BookError> {
        Ok(self
            .store
            .cached_version(key)?
            .and_then(|(id, version)| self.cached_at(id, version)))
    }

    fn build(&self, key: &ApiKey) -> Result<Option<Arc<Book>>, BookError> {
        let _slot = self.busy()?;
        let Some(snap) = self.store.snapshot(key)? else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let book = Arc::new(Book::build(snap.directory, snap.entries));
        crate::metrics::global().book_built(started.elapsed());
        tracing::info!(
            directory = %key.masked(),
            version = book.version(),
            contacts = book.contacts.len(),
            bytes = book.bytes(),
            ms = started.elapsed().as_millis() as u64,
            "book built"
        );
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let id = book.directory.id;
        // A slower builder must not put back an older version than the one cached.
        let newer_cached = cache.get(&id).filter(|c| c.version() > book.version());
        match newer_cached {
            Some(c) => Ok(Some(c)),
            None => {
                let (max, bytes) = (self.max_bytes, book.bytes());
                if bytes > max {
                    // Not keeping it would rebuild it on every request; kept alone, it costs
                    // the bound's worth of memory once. The operator should know.
                    tracing::warn!(
                        directory = %key.masked(),
                        bytes,
                        "this directory's book is larger than --book-cache-bytes ({max}); \
                         it is kept alone, every other book is dropped: raise the bound"
                    );
                    cache.retain(|_| false);
                    cache.insert_oversized(id, book.clone(), bytes);
                } else {
                    cache.insert(id, book.clone(), bytes);
                }
                Ok(Some(book))
            }
        }
    }

    fn cached_at(&self, id: i64, version: i64) -> Option<Arc<Book>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(&id).filter(|b| b.version() >= version)
    }

    /// A slot for building a book or rendering a whole one; held until dropped.
    pub fn busy(&self) -> Result<SlotGuard<'_>, BookError> {
        self.slots.take(SLOT_WAIT).ok_or(BookError::Busy)
    }

    /// Logs `book` in the change log unless it (or a newer book) is logged already; answers
    /// the newest logged version.
    pub fn logged(&self, book: &Book) -> Result<i64, BookError> {
        Ok(self.logged_at(book)?.0)
    }

    /// As `logged`, with when that version was logged (Unix seconds). A version logged
    /// before is answered from memory: a CardDAV client asks for the sync token of an
    /// unchanged book every few minutes, and that must not cost a write transaction.
    pub fn logged_at(&self, book: &Book) -> Result<(i64, i64), BookError> {
        let id = book.directory.id;
        let known = |m: &HashMap<i64, (i64, i64)>| m.get(&id).copied();
        let memo = known(&self.logged.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(l) = memo.filter(|(v, _)| *v >= book.version()) {
            return Ok(l);
        }
        let members: Vec<_> = book
            .contacts
            .iter()
            .zip(book.etags())
            .map(|(c, e)| (c.id, *e))
            .collect();
        let l = self
            .store
            .log_book(id, book.version(), &members, now(), self.retention)?;
        let mut memo = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        let e = memo.entry(id).or_insert(l);
        if e.0 < l.0 {
            *e = l;
        }
        Ok(l)
    }

    /// The newest book and what changed in it since version `since` (which must be a version
    /// this directory's log handed out and still keeps, or 0 for a reader that has nothing
    /// yet). The changes lead exactly to the book's version. None for an unknown key.
    pub fn changes(
        &self,
        key: &ApiKey,
        since: i64,
    ) -> Result<Option<(Arc<Book>, Changes)>, BookError> {
        // A newer version logged between our reads means another round; versions are
        // logged in order, so this ends when no write comes in between.
        for _ in 0..8 {
            let Some(book) = self.get(key)? else {
                return Ok(None);
            };
            self.logged(&book)?;
            if since == 0 {
                // A reader that has nothing: everything in the book is new to it.
                return Ok(Some((
                    book.clone(),
                    Changes {
                        since,
                        version: book.version(),
                        added: book.contacts.iter().map(|c| c.id).collect(),
                        ..Default::default()
                    },
                )));
            }
            let log = self.store.log_since(book.directory.id, since)?;
            if log.latest != Some(book.version()) {
                continue;
            }
            if !log.since_kept {
                let oldest = log.oldest.unwrap_or(book.version());
                return Err(if since < oldest {
                    ChangesError::TooOld { since, oldest }
                } else {
                    ChangesError::Unknown {
                        since,
                        current: book.version(),
                    }
                }
                .into());
            }
            let mut changes = Changes {
                since,
                version: book.version(),
                ..Default::default()
            };
            for row in log.rows {
                let change = if row.removed {
                    Change::Removed
                } else if row.added > since {
                    Change::Added
                } else {
                    Change::Changed
                };
                changes.push(row.id, change);
            }
            return Ok(Some((book, changes)));
        }
        Err(BookError::Busy)
    }

    /// (books, bytes) held now.
    pub fn usage(&self) -> (usize, usize) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).usage()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A counting semaphore: at most `max` holders at once.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

pub struct SlotGuard<'a>(&'a Slots);

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            free: Mutex::new(max),
            freed: Condvar::new(),
        }
    }

    fn take(&self, wait: Duration) -> Option<SlotGuard<'_>> {
        let free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let (mut free, timeout) = self
            .freed
            .wait_timeout_while(free, wait, |f| *f == 0)
            .unwrap_or_else(|p| p.into_inner());
        if timeout.timed_out() && *free == 0 {
            return None;
        }
        *free -= 1;
        Some(SlotGuard(self))
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}
