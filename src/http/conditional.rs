//! The one way a phone book is answered: 404 for an unknown key, 304 when the phone's copy
//! is current, else the rendered body from the render cache (or rendered from the book and
//! cached), gzipped when the phone takes it.
//!
//! The path phones take every few minutes costs no thread hop and no database query: the
//! directory's version is in memory (`Store::cached_version`) and so is the body.

use super::cache::{CacheKey, Cached};
use super::error::ApiError;
use super::phonebook::Ask;
use super::AppState;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

pub async fn respond(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    key: &str,
    ask: Ask,
) -> Result<HttpResponse, ApiError> {
    // Any key of the directory reads it; from here on it is known by its directory key.
    // Views with links back here carry the path (and so the key the phone used) in their
    // key: a read key's holder is never served a body cached for the directory key.
    let key = super::auth::read(req, state, key).await?;
    let view_key = ask.key();
    let gzip = accepts_gzip(req);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let salt = *state.store.salt();

    if let Some((id, version)) = state.store.cached_version(&key)? {
        let tag = Tag::new(&salt, id, version, &view_key);
        if let Some(h) = &if_none_match {
            if tag.matches(h) {
                return Ok(not_modified(&tag, gzip));
            }
        }
        let ck = CacheKey {
            directory_id: id,
            version,
            view: ask.tag(),
            query: view_key.clone(),
        };
        if let Some(hit) = state.cache.get(&ck) {
            let z = gzipped(state, &ck, &hit, gzip).await?;
            return Ok(send(&hit, z));
        }
    }

    let st = state.clone();
    let outcome = web::block(move || -> Result<Outcome, ApiError> {
        let book = st
            .books
            .get(&key)?
            .ok_or_else(ApiError::unknown_directory)?;
        let d = &book.directory;
        ask.check(&d.settings, &st.limits)?;
        let tag = Tag::new(&salt, d.id, d.version, &view_key);
        if if_none_match.as_deref().is_some_and(|h| tag.matches(h)) {
            return Ok(Outcome::NotModified(tag));
        }
        let rendered = {
            let _slot = st.books.busy()?;
            ask.render(&book, &st.limits)?
        };
        let cached = Arc::new(Cached::new(
            tag.identity.clone(),
            tag.gzip.clone(),
            d.version,
            rendered.content_type,
            rendered.notice,
            rendered.body,
        ));
        let ck = CacheKey {
            directory_id: d.id,
            version: d.version,
            view: ask.tag(),
            query: view_key,
        };
        st.cache.insert(ck.clone(), cached.clone());
        let z = gzip.then(|| st.cache.gzip(&ck, &cached)).flatten();
        Ok(Outcome::Body(cached, z))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(match outcome {
        Outcome::NotModified(tag) => not_modified(&tag, gzip),
        Outcome::Body(c, z) => send(&c, z),
    })
}

enum Outcome {
    NotModified(Tag),
    /// The body, and its gzipped bytes for a phone that takes gzip.
    Body(Arc<Cached>, Option<Bytes>),
}

/// The gzipped body for a phone that takes gzip, None to send the body as it is. The first
/// phone to ask has it compressed, off the request threads: a whole book is megabytes.
async fn gzipped(
    state: &web::Data<AppState>,
    key: &CacheKey,
    c: &Arc<Cached>,
    gzip: bool,
) -> Result<Option<Bytes>, ApiError> {
    if !gzip {
        return Ok(None);
    }
    if c.gzip_made() {
        return Ok(state.cache.gzip(key, c));
    }
    let (st, key, c) = (state.clone(), key.clone(), c.clone());
    web::block(move || st.cache.gzip(&key, &c))
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// The strong ETags of one rendering of one directory version, as sent plainly and gzipped
/// (two different byte sequences, so two tags). A salted hash: it tells nothing about the
/// directory's internal id or its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub identity: String,
    pub gzip: String,
}

impl Tag {
    pub fn new(salt: &[u8], directory_id: i64, version: i64, view_key: &str) -> Tag {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(salt);
        ctx.update(&directory_id.to_le_bytes());
        ctx.update(&version.to_le_bytes());
        ctx.update(view_key.as_bytes());
        let d = ctx.finish();
        let mut h = String::with_capacity(24);
        for b in &d.as_ref()[..12] {
            use std::fmt::Write;
            let _ = write!(h, "{b:02x}");
        }
        Tag {
            identity: format!("\"{h}\""),
            gzip: format!("\"{h}-gz\""),
        }
    }

    /// `If-None-Match` names either variant (or `*`): the phone's copy is current.
    pub fn matches(&self, header: &str) -> bool {
        header.split(',').map(str::trim).any(|t| {
            let t = t.strip_prefix("W/").unwrap_or(t);
            t == "*" || t == self.identity || t == self.gzip
        })
    }
}

fn not_modified(tag: &Tag, gzip: bool) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((
            header::ETAG,
            if gzip {
                tag.gzip.clone()
            } else {
                tag.identity.clone()
            },
        ))
        .finish()
}

/// The cached body as it is (a reference count, no copy), or gzipped (`z`).
fn send(c: &Cached, z: Option<Bytes>) -> HttpResponse {
    let mut resp = HttpResponse::Ok();
    resp.content_type(c.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("X-Phonedir-Version", c.version.to_string()));
    if let Some(n) = &c.notice {
        resp.insert_header(("X-Phonedir-Notice", n.clone()));
    }
    match z {
        Some(z) => resp
            .insert_header((header::ETAG, c.gzip_etag.clone()))
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(z),
        None => resp
            .insert_header((header::ETAG, c.etag.clone()))
            .body(c.body.clone()),
    }
}

/// `Accept-Encoding` names gzip with a quality above zero.
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_differ_by_version_view_and_encoding_and_match_lists() {
        let a = Tag::new(b"salt", 1, 2, "csv|");
        assert_ne!(a, Tag::new(b"salt", 1, 3, "csv|"));
        assert_ne!(a, Tag::new(b"salt", 1, 2, "yealink|"));
        assert_ne!(a, Tag::new(b"salt", 2, 2, "csv|"));
        assert_ne!(a, Tag::new(b"pepper", 1, 2, "csv|"));
        assert_ne!(a.identity, a.gzip);
        assert!(a.matches(&format!("\"x\", {}", a.identity)));
        assert!(a.matches(&format!("W/{}", a.gzip)));
        assert!(a.matches("*"));
        assert!(!a.matches("\"other\""));
        // Opaque: neither id nor version shows.
        assert!(!a.identity.contains("1-2"));
    }

    #[test]
    fn gzip_only_when_accepted() {
        use actix_web::test::TestRequest;
        let with = |v: &str| {
            accepts_gzip(
                &TestRequest::get()
                    .insert_header((header::ACCEPT_ENCODING, v))
                    .to_http_request(),
            )
        };
        assert!(with("gzip, deflate"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&TestRequest::get().to_http_request()));
    }
}
