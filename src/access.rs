//! Who may do what with a presented key, for every front end alike (the HTTP routes now, the
//! CardDAV server's Basic password and the LDAP server's bind password later): `Gate::open`
//! maps a key to the directory and scope it opens (`Store::resolve`), refuses what the scope
//! does not allow, and throttles a client address that keeps presenting unknown or wrong keys.
//! Nothing here knows HTTP; `http::auth` is the actix adapter.

use crate::domain::cidr::{canonical, Cidr};
use crate::domain::{Access, ApiKey, Guessable, KeyError, Scope};
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keys that are published (the `--demo` directory's, printed in the README): whoever
/// presents one may read, never more, whatever its scope in the store.
pub const PUBLISHED_KEYS: &[&str] = &["DEMOabcABC0123"];

/// Seconds a client should wait before it tries again (the `Retry-After` header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Why a presented key opens nothing (here).
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    #[error("too many requests with unknown or wrong keys came from this address; wait {} seconds", .0.0)]
    Throttled(RetryAfter),
    #[error(transparent)]
    Malformed(#[from] KeyError),
    #[error("no directory has this key")]
    Unknown,
    #[error("{}", scope_sentence(*.have, *.need))]
    Scope { have: Scope, need: Scope },
    #[error(transparent)]
    Guessable(#[from] Guessable),
    #[error("this address has created as many directories as this server allows in an hour; wait {} seconds", .0.0)]
    RegistrationLimit(RetryAfter),
    #[error("this server does not create directories on request; ask its operator for one")]
    RegistrationClosed,
    #[error("this key was revoked, or its directory deleted; ask the directory's administrator for a current key")]
    Retired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn scope_sentence(have: Scope, need: Scope) -> String {
    let what = match need {
        Scope::Read => "read this directory",
        Scope::Push => "push to this directory; use a push key or the directory key",
        Scope::Admin => "manage this directory; the management API takes only the directory key",
    };
    format!("a {} key cannot {what}", have.as_str())
}

/// Where a push goes: a directory the key opens, or a new one (open registration), with the
/// registration it took.
#[derive(Debug)]
pub enum PushTarget {
    Existing(Access),
    New(ApiKey, Registration),
}

/// One of an address's registrations, taken before its directory is made. Dropped without
/// `made` (the push was refused, the upload broke off, a dry run), it is given back, so only
/// directories that exist count against `--registration-limit`, whichever way a request ends.
#[derive(Debug)]
pub struct Registration {
    limit: Arc<RateLimit>,
    client: IpAddr,
    made: bool,
}

impl Registration {
    /// The directory was made: the registration stays counted.
    pub fn made(mut self) {
        self.made = true;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.made {
            self.limit.give_back(self.client);
        }
    }
}

pub struct GateConfig {
    /// Unknown or wrong keys one client address may present per minute; 0 = no limit.
    pub key_failures_per_minute: u32,
    /// Directories one client address may create per hour; 0 = no limit.
    pub registrations_per_hour: u32,
    /// Whether an unknown well-formed key creates a directory on first push.
    pub open_registration: bool,
}

/// The one place that decides what a presented key may do.
pub struct Gate {
    store: Arc<Store>,
    failures: RateLimit,
    registrations: Arc<RateLimit>,
    open_registration: bool,
}

impl Gate {
    pub fn new(store: Arc<Store>, cfg: &GateConfig) -> Gate {
        Gate {
            store,
            failures: RateLimit::new(cfg.key_failures_per_minute, Duration::from_secs(60)),
            registrations: Arc::new(RateLimit::new(
                cfg.registrations_per_hour,
                Duration::from_secs(3600),
            )),
            open_registration: cfg.open_registration,
        }
    }

    pub fn open_registration(&self) -> bool {
        self.open_registration
    }

    /// What `presented` opens for `client`, if it allows `need`. May read the database.
    pub fn open(&self, client: IpAddr, presented: &str, need: Scope) -> Result<Access, Denied> {
        self.failures.check(client).map_err(Denied::Throttled)?;
        let key = self.parse(client, presented)?;
        let found = self.store.resolve(&key)?;
        self.decide(client, &key, found, need)
    }

    /// As `open`, from memory only: None when the key must be looked up in the database
    /// (then call `open` where blocking is fine).
    pub fn open_cached(
        &self,
        client: IpAddr,
        presented: &str,
        need: Scope,
    ) -> Option<Result<Access, Denied>> {
        if let Err(r) = self.failures.check(client) {
            return Some(Err(Denied::Throttled(r)));
        }
        let key = match self.parse(client, presented) {
            Ok(k) => k,
            Err(e) => return Some(Err(e)),
        };
        match self.store.resolve_cached(&key) {
            Ok(Some(found)) => Some(self.decide(client, &key, Some(found), need)),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Where a push with `presented` goes. An unknown key is a new directory when open
    /// registration is on, the key is not guessable and the address has not created too
    /// many directories lately; that takes one of the address's registrations (see
    /// `Registration`).
    pub fn open_for_push(&self, client: IpAddr, presented: &str) -> Result<PushTarget, Denied> {
        self.failures.check(client).map_err(Denied::Throttled)?;
        let key = self.parse(client, presented)?;
        match self.store.resolve(&key)? {
            Some(found) => Ok(PushTarget::Existing(self.decide(
                client,
                &key,
                Some(found),
                Scope::Push,
            )?)),
            None if self.open_registration => {
                if self.store.retired(&key)? {
                    self.failures.record(client);
                    return Err(Denied::Retired);
                }
                let registration = self.may_register(client, &key)?;
                Ok(PushTarget::New(key, registration))
            }
            None => self
                .decide(client, &key, None, Scope::Push)
                .map(PushTarget::Existing),
        }
    }

    /// Checks a new directory's key (not guessable) and takes one of the address's
    /// registrations (refused beyond the limit) before a directory is created over the
    /// network. Taken at once, not after the creation: else a burst of concurrent requests
    /// would all pass the check before the first was counted.
    pub fn may_register(&self, client: IpAddr, key: &ApiKey) -> Result<Registration, Denied> {
        if !self.open_registration {
            return Err(Denied::RegistrationClosed);
        }
        if let Some(g) = key.guessable() {
            return Err(g.into());
        }
        self.registrations
            .take(client)
            .map_err(Denied::RegistrationLimit)?;
        Ok(Registration {
            limit: self.registrations.clone(),
            client,
            made: false,
        })
    }

    /// Counts a request whose key was refused for a reason only the caller knows (the
    /// management API's path names another directory than the key opens).
    pub fn failed(&self, client: IpAddr) {
        self.failures.record(client);
    }

    fn parse(&self, client: IpAddr, presented: &str) -> Result<ApiKey, Denied> {
        ApiKey::parse(presented).map_err(|e| {
            self.failures.record(client);
            Denied::Malformed(e)
        })
    }

    fn decide(
        &self,
        client: IpAddr,
        key: &ApiKey,
        found: Option<Access>,
        need: Scope,
    ) -> Result<Access, Denied> {
        let Some(mut access) = found else {
            self.failures.record(client);
            return Err(Denied::Unknown);
        };
        if PUBLISHED_KEYS.contains(&key.as_str()) {
            access.scope = access.scope.min(Scope::Read);
        }
        if !access.scope.allows(need) {
            self.failures.record(client);
            return Err(Denied::Scope {
                have: access.scope,
                need,
            });
        }
        self.store.key_used(access.key_id);
        Ok(access)
    }
}

/// The address a request came from. `peer` is the connection's; when it is one of the
/// `trusted` proxies, the `Forwarded` (RFC 7239) or else `X-Forwarded-For` chain is walked
/// from the right, past every trusted proxy, to the first address that is not one. Without
/// trusted proxies the headers count for nothing: anyone can send them.
pub fn client_address(
    peer: IpAddr,
    trusted: &[Cidr],
    forwarded: Option<&str>,
    x_forwarded_for: Option<&str>,
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer = canonical(peer);
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<Option<IpAddr>> = match (forwarded, x_forwarded_for) {
        (Some(f), _) => f.split(',').map(forwarded_for).collect(),
        (None, Some(x)) => x.split(',').map(|h| h.trim().parse().ok()).collect(),
        (None, None) => Vec::new(),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            // `unknown`, an obfuscated name or garbage: the last proxy is all we know.
            None => return client,
            Some(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    return client;
                }
            }
        }
    }
    client
}

/// The address in one `Forwarded` element's `for=` parameter.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
    })?;
    let v = value.trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    // `192.0.2.43:47011`
    v.split(':').next()?.parse().ok()
}

/// A bounded per-client rate: at most `limit` events per `period`, as a bucket that leaks
/// `limit` per `period`. Clients are addresses; IPv6 ones by their /64, which one customer
/// usually has whole.
///
/// Wrong keys are counted after the fact (`check`, then `record` once the key turned out
/// wrong), so concurrent requests can overshoot the limit by how many are in flight; every
/// one of them is counted, and the wait grows with them. Registrations are taken before
/// (`take`), so they cannot overshoot.
#[derive(Debug)]
pub struct RateLimit {
    limit: u32,
    period: Duration,
    started: Instant,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    /// How many clients have a bucket: while none has, `check` takes no lock.
    tracked: AtomicUsize,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: f64,
    at: Duration,
}

/// Clients tracked at most; beyond it, those that have cooled down most go first.
const MAX_TRACKED: usize = 100_000;

impl RateLimit {
    /// `limit` 0: no limit.
    pub fn new(limit: u32, period: Duration) -> RateLimit {
        RateLimit {
            limit,
            period,
            started: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// Ok while the client is below the limit; else how long until it is again.
    pub fn check(&self, client: IpAddr) -> Result<(), RetryAfter> {
        if self.limit == 0 || self.tracked.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let now = self.started.elapsed();
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = buckets.get(&bucket_of(client)) else {
            return Ok(());
        };
        self.room(self.level(b, now))
    }

    /// Ok if a bucket at `level` has room for one more event; else how long until it has:
    /// until it leaked below the last free place.
    fn room(&self, level: f64) -> Result<(), RetryAfter> {
        let last_free = f64::from(self.limit) - 1.0;
        if level <= last_free {
            return Ok(());
        }
        let wait = (level - last_free) / self.rate();
        Err(RetryAfter(wait.ceil().max(1.0) as u64))
    }

    /// Counts one event of the client.
    pub fn record(&self, client: IpAddr) {
        let _ = self.add(client, false);
    }

    /// Takes one event if the client is below the limit, in one step.
    pub fn take(&self, client: IpAddr) -> Result<(), RetryAfter> {
        self.add(client, true)
    }

    /// One more event in the client's bucket; with `only_if_room`, none unless it has room.
    fn add(&self, client: IpAddr, only_if_room: bool) -> Result<(), RetryAfter> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = self.started.elapsed();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(bucket_of(client)).or_insert(Bucket {
            level: 0.0,
            at: now,
        });
        let level = self.level(b, now);
        if only_if_room {
            self.room(level)?;
        }
        *b = Bucket {
            level: level + 1.0,
            at: now,
        };
        if buckets.len() > MAX_TRACKED {
            self.prune(&mut buckets, now);
        }
        self.tracked.store(buckets.len(), Ordering::Relaxed);
        Ok(())
    }

    /// Undoes one `take`.
    pub fn give_back(&self, client: IpAddr) {
        let now = self.started.elapsed();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(&bucket_of(client)) {
            let level = self.level(b, now);
            *b = Bucket {
                level: (level - 1.0).max(0.0),
                at: now,
            };
        }
    }

    /// Events per second the bucket leaks.
    fn rate(&self) -> f64 {
        f64::from(self.limit) / self.period.as_secs_f64()
    }

    fn level(&self, b: &Bucket, now: Duration) -> f64 {
        (b.level - now.saturating_sub(b.at).as_secs_f64() * self.rate()).max(0.0)
    }

    fn prune(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Duration) {
        buckets.retain(|_, b| self.level(b, now) > 0.0);
        if buckets.len() > MAX_TRACKED / 2 {
            let mut levels: Vec<f64> = buckets.values().map(|b| self.level(b, now)).collect();
            levels.sort_by(f64::total_cmp);
            let cut = levels[levels.len() - MAX_TRACKED / 2];
            buckets.retain(|_, b| self.level(b, now) >= cut);
        }
    }
}

fn bucket_of(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_over_the_limit_waits_and_others_do_not() {
        let r = RateLimit::new(3, Duration::from_secs(60));
        let (a, b) = (ip("203.0.113.7"), ip("198.51.100.1"));
        for _ in 0..3 {
            assert_eq!(r.check(a), Ok(()));
            r.record(a);
        }
        let RetryAfter(wait) = r.check(a).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(r.check(b), Ok(()));
        // One /64 is one client; another /64 is another.
        r.record(ip("2001:db8:1:2::1"));
        r.record(ip("2001:db8:1:2::ffff"));
        r.record(ip("2001:db8:1:2:aaaa::1"));
        assert!(r.check(ip("2001:db8:1:2::42")).is_err());
        assert!(r.check(ip("2001:db8:1:3::1")).is_ok());
        // IPv4 written as IPv6 is the same client.
        assert!(r.check(ip("::ffff:203.0.113.7")).is_err());
        assert!(RateLimit::new(0, Duration::from_secs(60)).check(a).is_ok());
    }

    #[test]
    fn taking_is_one_step_and_can_be_undone() {
        let r = RateLimit::new(2, Duration::from_secs(3600));
        let a = ip("203.0.113.7");
        assert!(r.take(a).is_ok());
        assert!(r.take(a).is_ok());
        assert!(r.take(a).is_err());
        r.give_back(a);
        assert!(r.take(a).is_ok());
        assert!(r.take(a).is_err());
        // Many threads at once take no more than the limit.
        let r = std::sync::Arc::new(RateLimit::new(10, Duration::from_secs(3600)));
        let taken: usize = (0..8)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || (0..50).filter(|_| r.take(a).is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(taken, 10);
    }

    #[test]
    fn the_bucket_leaks() {
        let r = RateLimit::new(2, Duration::from_millis(200));
        let a = ip("203.0.113.7");
        r.record(a);
        r.record(a);
        assert!(r.check(a).is_err());
        std::thread::sleep(Duration::from_millis(150));
        assert!(r.check(a).is_ok(), "one place free after half the period");
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxy = Cidr::parse_list("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.5");
        let xff = Some("198.51.100.9, 10.1.1.1");
        assert_eq!(client_address(peer, &[], None, xff), peer);
        assert_eq!(
            client_address(ip("203.0.113.1"), &proxy, None, xff),
            ip("203.0.113.1")
        );
        assert_eq!(client_address(peer, &proxy, None, xff), ip("198.51.100.9"));
        // A client cannot hide behind a forged entry left of the real one.
        assert_eq!(
            client_address(peer, &proxy, None, Some("127.0.0.1, 198.51.100.9")),
            ip("198.51.100.9")
        );
        assert_eq!(client_address(peer, &proxy, None, Some("garbage")), peer);
        let fwd = Some(r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#);
        assert_eq!(
            client_address(peer, &proxy, fwd, xff),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_address(peer, &proxy, Some("for=192.0.2.43:47011"), None),
            ip("192.0.2.43")
        );
        assert_eq!(
            client_address(peer, &proxy, Some("for=unknown"), None),
            peer
        );
    }
}
