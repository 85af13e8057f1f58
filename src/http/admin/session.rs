//! Signed-in sessions of the admin pages, in memory only: a restart signs everyone out.
//!
//! A session holds the key its owner signed in with (never sent back to the browser, never
//! in a URL) and is checked through the gate again on every request, so a revoked key or a
//! deleted directory ends it at once. The browser holds only a random id in an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` over HTTPS). Bounded: sessions end after 30 idle
//! minutes and 12 hours in all, at most `MAX_SESSIONS` live at once (the longest idle goes
//! first), and previewed uploads waiting for "store" share `MAX_PENDING_BYTES`.

use crate::ingest::Mapping;
use crate::phone::Region;
use crate::push::InputFormat;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const MAX_SESSIONS: usize = 1_000;
pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Bytes of previewed files held for all sessions together.
pub const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;
/// How long a previewed file waits for "store".
pub const PENDING_FOR: Duration = Duration::from_secs(15 * 60);

/// The session cookie's name.
pub const COOKIE: &str = "phonedir_admin";
/// The sign-in form's own CSRF cookie (before there is a session).
pub const SIGNIN_COOKIE: &str = "phonedir_signin";

/// A file shown as a dry run, waiting for "store".
#[derive(Clone)]
pub struct Pending {
    pub body: Vec<u8>,
    pub format: InputFormat,
    pub file_name: String,
    pub source: String,
    pub region: Option<Region>,
    pub map: Option<Mapping>,
    pub allow_empty: bool,
    pub force: bool,
    pub created: Instant,
}

/// A note for the next page: what just happened.
#[derive(Clone, Debug)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
    /// A key just made: shown on the next page, once, and then forgotten.
    pub new_key: Option<String>,
}

pub struct Session {
    /// The key signed in with; checked through the gate on every request.
    pub key: String,
    pub csrf: String,
    created: Instant,
    seen: Instant,
    pub pending: Option<Pending>,
    pub flash: Option<Flash>,
}

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes as hex: a session id or a CSRF token.
pub fn token() -> Result<String, ring::error::Unspecified> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Compares tokens in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    crate::http::auth::same(a.as_bytes(), b.as_bytes())
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.seen) > IDLE || now.duration_since(self.created) > LIFETIME
    }
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session for `key`; answers its id. Makes room by ending expired sessions and,
    /// if still full, the one idle longest.
    pub fn create(&self, key: &str) -> Result<String, ring::error::Unspecified> {
        let id = token()?;
        let csrf = token()?;
        let now = Instant::now();
        let mut m = self.lock();
        m.retain(|_, s| !s.expired(now));
        while m.len() >= MAX_SESSIONS {
            let oldest = m.iter().min_by_key(|(_, s)| s.seen).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => m.remove(&k),
                None => break,
            };
        }
        m.insert(
            id.clone(),
            Session {
                key: key.to_owned(),
                csrf,
                created: now,
                seen: now,
                pending: None,
                flash: None,
            },
        );
        Ok(id)
    }

    /// Runs `f` on the live session `id` (marking it used); None if there is none.
    pub fn with<T>(&self, id: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        let now = Instant::now();
        let mut m = self.lock();
        let live = m.get(id).is_some_and(|s| !s.expired(now));
        if !live {
            m.remove(id);
            return None;
        }
        let s = m.get_mut(id)?;
        s.seen = now;
        if s.pending
            .as_ref()
            .is_some_and(|p| now.duration_since(p.created) > PENDING_FOR)
        {
            s.pending = None;
        }
        Some(f(s))
    }

    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Keeps `pending` for session `id` if the bytes held for all sessions allow it.
    pub fn hold(&self, id: &str, pending: Pending) -> bool {
        let now = Instant::now();
        let mut m = self.lock();
        let held: usize = m
            .iter()
            .filter(|(k, _)| k.as_str() != id)
            .filter_map(|(_, s)| s.pending.as_ref())
            .filter(|p| now.duration_since(p.created) <= PENDING_FOR)
            .map(|p| p.body.len())
            .sum();
        if held + pending.body.len() > MAX_PENDING_BYTES {
            return false;
        }
        match m.get_mut(id) {
            Some(s) => {
                s.pending = Some(pending);
                true
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_and_end() {
        let s = Sessions::default();
        let first = s.create("ACMEq7Rt2xK9pL").unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(
            s.with(&first, |x| x.key.clone()).as_deref(),
            Some("ACMEq7Rt2xK9pL")
        );
        for _ in 0..MAX_SESSIONS {
            s.create("ACMEq7Rt2xK9pL").unwrap();
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        // The one idle longest made room.
        assert!(s.with(&first, |_| ()).is_none());
        let id = s.create("ACMEq7Rt2xK9pL").unwrap();
        s.end(&id);
        assert!(s.with(&id, |_| ()).is_none());
        assert!(s.with("not a session", |_| ()).is_none());
    }

    #[test]
    fn previews_share_a_byte_budget() {
        let s = Sessions::default();
        let (a, b) = (s.create("k").unwrap(), s.create("k").unwrap());
        let file = |n: usize| Pending {
            body: vec![b'x'; n],
            format: InputFormat::Csv,
            file_name: "a.csv".into(),
            source: "push".into(),
            region: None,
            map: None,
            allow_empty: false,
            force: false,
            created: Instant::now(),
        };
        assert!(s.hold(&a, file(MAX_PENDING_BYTES - 10)));
        assert!(!s.hold(&b, file(11)));
        assert!(s.hold(&b, file(10)));
        // Replacing one's own preview does not count the old one.
        assert!(s.hold(&a, file(MAX_PENDING_BYTES - 10)));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
