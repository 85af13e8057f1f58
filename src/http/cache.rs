//! Rendered phone books, kept per (directory, version, view, query) so a phone polling an
//! unchanged book costs a map lookup and a reference count. Bodies are `Bytes`, shared with
//! the response without copying, and gzipped once when stored. The cache is bounded in
//! bytes and forgets the least recently used books first; a new version is a new key, so
//! nothing stale is ever served.

use crate::lru::Lru;
use actix_web::web::Bytes;
use std::io::Write;
use std::sync::{Arc, Mutex};

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
    /// The body gzipped, when that is smaller.
    pub gzip: Option<Bytes>,
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
        let gzip = gzip(&body).filter(|z| z.len() < body.len());
        // A header carries ASCII only; a notice with `ß` in it would be dropped unseen.
        let notice = notice.map(|n| deunicode::deunicode(&n));
        Cached {
            etag,
            gzip_etag,
            version,
            content_type,
            notice,
            body,
            gzip,
        }
    }

    fn size(&self) -> usize {
        self.body.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
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
    inner: Mutex<Lru<CacheKey, Arc<Cached>>>,
}

impl BookCache {
    pub fn new(max_bytes: usize) -> BookCache {
        BookCache {
            inner: Mutex::new(Lru::new(max_bytes)),
        }
    }

    pub fn get(&self, key: &CacheKey) -> Option<Arc<Cached>> {
        let hit = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key);
        if hit.is_some() {
            crate::metrics::global().cache_hit();
        }
        hit
    }

    /// Stores a body just rendered: each insert is a render the cache could not spare.
    pub fn insert(&self, key: CacheKey, value: Arc<Cached>) {
        crate::metrics::global().cache_miss();
        let size = value.size() + key.query.len();
        let mut lru = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Older versions of the same view can never be asked for again.
        lru.retain(|k| {
            !(k.directory_id == key.directory_id
                && k.version < key.version
                && k.view == key.view
                && k.query == key.query)
        });
        lru.insert(key, value, size);
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (usize, usize) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).usage()
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
    }

    #[test]
    fn gzip_is_kept_when_smaller_and_decodes_to_the_body() {
        let e = entry(1000);
        let z = e.gzip.clone().expect("repetitive body compresses");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out.as_bytes(), &e.body[..]);
        assert!(
            Cached::new("e".into(), "z".into(), 1, "t", None, "x".into())
                .gzip
                .is_none()
        );
    }
}
