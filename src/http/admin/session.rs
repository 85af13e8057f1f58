//! Signed-in sessions of the admin pages, in memory only: a restart signs everyone out.
//!
//! A session holds the key its owner signed in with (never sent back to the browser, never
//! in a URL) and is checked through the gate again on every request, so a revoked key or a
//! deleted directory ends it at once. The browser holds only a random id in an `HttpOnly`,
//! `SameSite=Strict` cookie (`Secure` over HTTPS). Bounded: sessions end after 30 idle
//! minutes and 12 hours in all, at most `MAX_SESSIONS` live at once and `MAX_PER_DIRECTORY`
//! per directory (the longest idle goes first), and previewed uploads waiting for "store" share `MAX_PENDING_BYTES`.

use crate::ingest::Mapping;
use crate::phone::Region;
use crate::push::InputFormat;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const MAX_SESSIONS: usize = 1_000;
/// Sessions of one directory: a published or leaked key cannot push every other directory's
/// administrators out by signing in over and over.
pub const MAX_PER_DIRECTORY: usize = 16;
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
    directory_id: i64,
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

    /// A new session for `key` of the directory `directory_id`; answers its id. Makes room
    /// by ending expired sessions and, if still full, the one idle longest (of the directory,
    /// when it has as many as it may).
    pub fn create(&self, key: &str, directory_id: i64) -> Result<String, ring::error::Unspecified> {
        let id = token()?;
        let csrf = token()?;
        let now = Instant::now();
        let mut m = self.lock();
        m.retain(|_, s| !s.expired(now));
        let oldest = |m: &HashMap<String, Session>, only: Option<i64>| {
            m.iter()
                .filter(|(_, s)| only.is_none_or(|d| s.directory_id == d))
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone())
        };
        while m
            .values()
            .filter(|s| s.directory_id == directory_id)
            .count()
            >= MAX_PER_DIRECTORY
        {
            match oldest(&m, Some(directory_id)) {
                Some(k) => m.remove(&k),
                None => break,
            };
        }
        while m.len() >= MAX_SESSIONS {
            match oldest(&m, None) {
                Some(k) => m.remove(&k),
                None => break,
            };
        }
        m.insert(
            id.clone(),
            Session {
                key: key.to_owned(),
                directory_id,
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
        let first = s.create("ACMEq7Rt2xK9pL", 1).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(
            s.with(&first, |x| x.key.clone()).as_deref(),
            Some("ACMEq7Rt2xK9pL")
        );
        // One directory's sign-ins push out only its own sessions.
        let other = s.create("Kt4wQ9zLm2Rx7B", 2).unwrap();
        for _ in 0..MAX_PER_DIRECTORY {
            s.create("ACMEq7Rt2xK9pL", 1).unwrap();
        }
        assert_eq!(s.len(), MAX_PER_DIRECTORY + 1);
        assert!(s.with(&first, |_| ()).is_none());
        assert!(s.with(&other, |_| ()).is_some());
        // Many directories: the one idle longest makes room.
        let before_others = s.create("Kt4wQ9zLm2Rx7B", 3).unwrap();
        for d in 0..MAX_SESSIONS as i64 {
            s.create("ACMEq7Rt2xK9pL", 100 + d).unwrap();
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(s.with(&before_others, |_| ()).is_none());
        let id = s.create("ACMEq7Rt2xK9pL", 1).unwrap();
        s.end(&id);
        assert!(s.with(&id, |_| ()).is_none());
        assert!(s.with("not a session", |_| ()).is_none());
    }

    #[test]
    fn previews_share_a_byte_budget() {
        let s = Sessions::default();
        let (a, b) = (s.create("k", 1).unwrap(), s.create("k", 2).unwrap());
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
