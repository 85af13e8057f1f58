//! Rendered phone books, kept per (directory, version, view, query) so a phone polling an
//! unchanged book costs a map lookup and a reference count. Bodies are `Bytes`, shared with
//! the response without copying, and gzipped once, when the first phone that takes gzip
//! asks. The cache is bounded in bytes and forgets the least recently used books first; a
//! new version is a new key, so nothing stale is ever served.

use crate::lru::Lru;
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub directory_id: i64,
    pub version: i64,
    pub view: &'static str,
    /// `phonebook::Ask::key`: everything else that shapes the body, canonical.
    pub query: String,
}

#[derive(Debug)]
pub struct Cached {
    pub etag: String,
    /// The ETag of the gzipped body, another byte sequence.
    pub gzip_etag: String,
    pub version: i64,
    pub content_type: &'static str,
    pub notice: Option<String>,
    pub body: Bytes,
    /// The body gzipped, when that is smaller; made when first asked for (`BookCache::gzip`):
    /// many phones do not take gzip, and a search is rendered for one request.
    gzip: OnceLock<Option<Bytes>>,
}

impl Cached {
    pub fn new(
        etag: String,
        gzip_etag: String,
        version: i64,
        content_type: &'static str,
        notice: Option<String>,
        body: String,
    ) -> Cached {
        // A rendered String keeps the capacity it grew to (up to twice its length), and
        // `Bytes` would keep all of it: the cache's bound counts bytes, so hold only those.
        let mut body = body;
        body.shrink_to_fit();
        let body = Bytes::from(body);
        // A header carries ASCII only; a notice with `ß` in it would be dropped unseen.
        let notice = notice.map(|n| deunicode::deunicode(&n));
        Cached {
            etag,
            gzip_etag,
            version,
            content_type,
            notice,
            body,
            gzip: OnceLock::new(),
        }
    }

    /// Whether the gzipped body is made (or known not to be worth it).
    pub fn gzip_made(&self) -> bool {
        self.gzip.get().is_some()
    }

    /// What it costs in the cache, apart from a gzipped body made later (`BookCache::gzip`
    /// counts that when it is made).
    fn size(&self) -> usize {
        self.body.len()
            + self.etag.len()
            + self.gzip_etag.len()
            + self.notice.as_ref().map_or(0, String::len)
            + 160
    }
}

/// Bodies above this size are compressed at the fastest level: a 100,000-contact book is
/// gzipped in a fraction of the time for a few percent more bytes, and its first render is
/// what a phone waits for after every change.
const FAST_GZIP_ABOVE: usize = 256 * 1024;

fn gzip(body: &[u8]) -> Option<Bytes> {
    let level = if body.len() > FAST_GZIP_ABOVE {
        flate2::Compression::fast()
    } else {
        flate2::Compression::default()
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    enc.write_all(body).ok()?;
    let mut z = enc.finish().ok()?;
    z.shrink_to_fit();
    Some(Bytes::from(z))
}

pub struct BookCache {
    inner: Mutex<Inner>,
}

struct Inner {
    lru: Lru<CacheKey, Arc<Cached>>,
    /// The newest version stored of each directory with bodies here: older versions'
    /// bodies are swept when a newer one first comes (see `insert`).
    newest: HashMap<i64, i64>,
}

/// Directories whose newest version is remembered; beyond, the memory starts again (an
/// older body then waits for the least-recently-used rule instead of the sweep).
const NEWEST_TRACKED: usize = 100_000;

impl BookCache {
    pub fn new(max_bytes: usize) -> BookCache {
        BookCache {
            inner: Mutex::new(Inner {
                lru: Lru::new(max_bytes),
                newest: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &CacheKey) -> Option<Arc<Cached>> {
        let hit = self.lock().lru.get(key);
        if hit.is_some() {
            crate::metrics::global().cache_hit();
        }
        hit
    }

    /// Stores a body just rendered: each insert is a render the cache could not spare.
    pub fn insert(&self, key: CacheKey, value: Arc<Cached>) {
        crate::metrics::global().cache_miss();
        let size = value.size() + key.query.len();
        let mut guard = self.lock();
        let inner = &mut *guard;
        // Bodies of a directory's older versions can never be asked for again (readers ask
        // for the version they find current). They are swept once, when a newer version is
        // first stored: a sweep reads every entry, and at each insert (a search answer is
        // one) that was tens of microseconds in a cache of many small answers.
        if inner.newest.len() >= NEWEST_TRACKED && !inner.newest.contains_key(&key.directory_id) {
            inner.newest.clear();
        }
        let newest = inner.newest.entry(key.directory_id).or_insert(key.version);
        if *newest < key.version {
            *newest = key.version;
            let (directory, version) = (key.directory_id, key.version);
            inner
                .lru
                .retain(|k| !(k.directory_id == directory && k.version < version));
        }
        inner.lru.insert(key, value, size);
    }

    /// The gzipped body of `value` (stored under `key`, or not kept), when that is smaller
    /// than the body: compressed once, by the first caller, which also counts its bytes
    /// against the cache's bound. CPU work: call it off the request threads unless
    /// `gzip_made`.
    pub fn gzip(&self, key: &CacheKey, value: &Cached) -> Option<Bytes> {
        let mut made = None;
        let z = value.gzip.get_or_init(|| {
            let z = gzip(&value.body).filter(|z| z.len() < value.body.len());
            made = z.as_ref().map(Bytes::len);
            z
        });
        if let Some(extra) = made {
            self.lock().lru.grow(key, extra);
        }
        z.clone()
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (usize, usize) {
        self.lock().lru.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dir: i64, version: i64) -> CacheKey {
        CacheKey {
            directory_id: dir,
            version,
            view: "yealink",
            query: String::new(),
        }
    }

    fn entry(n: usize) -> Arc<Cached> {
        Arc::new(Cached::new(
            "\"e\"".into(),
            "\"e-gz\"".into(),
            1,
            "text/xml",
            None,
            "<x/>".repeat(n),
        ))
    }

    #[test]
    fn stays_within_its_bound_dropping_the_least_recently_used() {
        let one = entry(1000).size();
        let cache = BookCache::new(one * 3);
        for d in 0..3 {
            cache.insert(key(d, 1), entry(1000));
        }
        assert!(cache.get(&key(0, 1)).is_some());
        cache.insert(key(3, 1), entry(1000));
        assert!(cache.get(&key(1, 1)).is_none(), "least recently used goes");
        assert!(cache.get(&key(0, 1)).is_some());
        assert!(cache.get(&key(3, 1)).is_some());
        let (n, bytes) = cache.usage();
        assert_eq!(n, 3);
        assert!(bytes <= one * 3);
    }

    #[test]
    fn a_new_version_replaces_the_old_one() {
        let cache = BookCache::new(1 << 20);
        cache.insert(key(1, 1), entry(10));
        cache.insert(key(1, 2), entry(10));
        assert!(cache.get(&key(1, 1)).is_none());
        assert_eq!(cache.usage().0, 1);
        // Every view of the older version goes, other directories' bodies stay, and a
        // body of the older version stored late (a reader that raced the push) is kept
        // until the next version or the bound.
        let search = |dir, version, q: &str| CacheKey {
            query: q.into(),
            ..key(dir, version)
        };
        cache.insert(search(1, 2, "q=a"), entry(10));
        cache.insert(search(2, 1, "q=a"), entry(10));
        cache.insert(search(1, 3, "q=b"), entry(10));
        assert!(cache.get(&key(1, 2)).is_none());
        assert!(cache.get(&search(1, 2, "q=a")).is_none());
        assert!(cache.get(&search(2, 1, "q=a")).is_some());
        cache.insert(search(1, 2, "q=c"), entry(10));
        assert!(cache.get(&search(1, 2, "q=c")).is_some());
        assert_eq!(cache.usage().0, 3);
    }

    #[test]
    fn gzip_is_made_when_asked_kept_when_smaller_and_decodes_to_the_body() {
        let cache = BookCache::new(1 << 20);
        let e = entry(1000);
        cache.insert(key(1, 1), e.clone());
        let before = cache.usage().1;
        assert!(
            !e.gzip_made(),
            "nothing is compressed until a phone takes gzip"
        );
        let z = cache
            .gzip(&key(1, 1), &e)
            .expect("repetitive body compresses");
        assert!(e.gzip_made());
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out.as_bytes(), &e.body[..]);
        // Counted once against the bound, however often asked.
        assert_eq!(cache.usage().1, before + z.len());
        assert_eq!(cache.gzip(&key(1, 1), &e), Some(z.clone()));
        assert_eq!(cache.usage().1, before + z.len());
        let tiny = Cached::new("e".into(), "z".into(), 1, "t", None, "x".into());
        assert!(cache.gzip(&key(2, 1), &tiny).is_none());
    }

    #[test]
    fn a_gzip_made_later_counts_against_the_bound() {
        let one = entry(1000).size();
        let cache = BookCache::new(one * 2 + 10);
        let (a, b) = (entry(1000), entry(1000));
        cache.insert(key(1, 1), a.clone());
        cache.insert(key(2, 1), b.clone());
        assert_eq!(cache.usage().0, 2);
        // The second's gzip does not fit beside both: the least recently used goes.
        cache.gzip(&key(2, 1), &b).expect("compresses");
        assert!(cache.get(&key(1, 1)).is_none());
        assert!(cache.get(&key(2, 1)).is_some());
        assert!(cache.usage().1 <= one * 2 + 10);
    }
}
