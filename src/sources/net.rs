//! Talking to remote systems: one blocking HTTP client with timeouts, a size limit per
//! answer, and bounded retries that honour `Retry-After` on 429/503 (exponential backoff
//! without it). Within a job (`Http::bounded`) every request also obeys the job's deadline
//! and cancellation: a request never outlives the sync that made it.
//!
//! Every connection, the first and each after a redirect, goes through `NetPolicy`: the host
//! is resolved here and addresses outside the public internet (loopback, private,
//! link-local and cloud metadata, unique-local, multicast, reserved) are refused unless the
//! operator admits them (`--source-allow`). The check is on the resolved address, so no
//! spelling of a host (`127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, `localhost`,
//! a name that resolves to 10.0.0.1) gets past it, and what is checked is what is connected to.
//! Targets that write into PBXs use the same `Http` and get the same rule.

use super::stream::{self, Kept, Pointer, Records};
use super::SyncError;
use crate::domain::cidr::{canonical, Cidr};
use crate::jobs::{Ctx, Stop};
use serde_json::Value;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Largest answer read by default (`--max-response-bytes`).
pub const DEFAULT_MAX_BODY: u64 = 32 * 1024 * 1024;
/// An error answer is read only this far: its sentence is in the first bytes.
const MAX_ERROR_BODY: u64 = 64 * 1024;
const ATTEMPTS: u32 = 5;
/// A `Retry-After` longer than this ends the sync instead; the scheduler retries later.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// One request's time limit, also within a job with more time left.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    policy: Arc<NetPolicy>,
    /// Certificates trusted besides the public roots (a source's `ca_cert`).
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Whether ureq follows redirects (CardDAV follows them itself, keeping the method).
    follow: bool,
    /// First backoff step when a 429/503 carries no `Retry-After`.
    pub backoff: Duration,
    max_body: u64,
    job: Option<Ctx>,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    /// The answer's headers that callers act on (`KEPT_HEADERS`), names in lower case.
    pub headers: Vec<(&'static str, String)>,
}

/// Headers a `Reply` keeps: a Digest challenge, a wait asked for, where a created thing is.
const KEPT_HEADERS: [&str; 4] = [
    "www-authenticate",
    "retry-after",
    "location",
    "content-type",
];

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A JSON answer read as a stream (`Http::send_json`).
pub struct JsonReply {
    pub status: u16,
    /// For a 2xx answer: the values kept besides the records.
    pub kept: Kept,
    /// For any other status: the answer, if it was JSON.
    pub error: Value,
}

/// Which addresses outside the public internet pulled sources may reach.
#[derive(Clone, Debug, Default)]
pub struct NetPolicy {
    allow: Vec<Cidr>,
}

impl NetPolicy {
    /// Public addresses, and those in `allow` (`--source-allow`).
    pub fn allowing(allow: Vec<Cidr>) -> NetPolicy {
        NetPolicy { allow }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|c| c.contains(ip)) || not_public(ip).is_none()
    }

    /// The resolver ureq calls for every connection (and the LDAP source before it
    /// connects): the addresses of `host:port` this policy permits, or an error naming why
    /// there are none (`refusal` turns it into a sentence).
    pub fn resolve(&self, netloc: &str) -> std::io::Result<Vec<SocketAddr>> {
        let all: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        let permitted: Vec<SocketAddr> = all
            .iter()
            .copied()
            .filter(|a| self.permits(a.ip()))
            .collect();
        match all.first() {
            Some(first) if permitted.is_empty() => Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                Refused {
                    host: host_of(netloc).to_owned(),
                    literal: host_of(netloc).parse::<IpAddr>().is_ok(),
                    what: not_public(canonical(first.ip())).unwrap_or("reserved"),
                },
            )),
            _ => Ok(permitted),
        }
    }
}

/// `host` of `host:port` or `[v6]:port`, without brackets.
fn host_of(netloc: &str) -> &str {
    let host = netloc.rsplit_once(':').map_or(netloc, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A connection the policy refused.
#[derive(Debug, thiserror::Error)]
#[error("{what} address")]
struct Refused {
    /// The host connected to: the configured one, or where a redirect pointed.
    host: String,
    /// The URL named an address, not a host name.
    literal: bool,
    what: &'static str,
}

/// What kind of address outside the public internet this is, if it is one. IPv4 addresses
/// inside IPv6 (NAT64, 6to4, IPv4-compatible) are judged by the IPv4 address.
pub fn not_public(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                Some("private-network")
            } else if v4.is_link_local() {
                // 169.254.169.254 is where clouds answer with their instance's credentials.
                Some("link-local (cloud metadata)")
            } else if v4.is_multicast() {
                Some("multicast")
            } else if o[0] == 0
                || o[0] >= 240
                || (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
            {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                not_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() || (s[..6] == [0; 6]) {
                // ::, and the deprecated IPv4-compatible ::a.b.c.d.
                Some("reserved")
            } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                embedded(s[6], s[7])
            } else if s[0] == 0x2002 {
                embedded(s[1], s[2])
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("unique-local")
            } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
                Some("link-local")
            } else if (s[0] & 0xff00) == 0xff00 {
                Some("multicast")
            } else if (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] < 0x0200))
                || s[..4] == [0x0100, 0, 0, 0]
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
            {
                // Documentation, Teredo and other protocol ranges, discard, local NAT64.
                Some("reserved")
            } else {
                None
            }
        }
    }
}

impl Http {
    /// A client that reaches public addresses only.
    pub fn new() -> Http {
        Http::with_policy(NetPolicy::default())
    }

    pub fn with_policy(policy: NetPolicy) -> Http {
        let policy = Arc::new(policy);
        Http {
            agent: agent(&policy, None, true),
            policy,
            tls: None,
            follow: true,
            backoff: Duration::from_secs(1),
            max_body: DEFAULT_MAX_BODY,
            job: None,
        }
    }

    /// Which addresses this client may reach: other protocols (LDAP) check theirs with it.
    pub fn policy(&self) -> &NetPolicy {
        &self.policy
    }

    /// The same client trusting the certificates of `ca_pem` (a source's `ca_cert`: the PEM
    /// of an internal CA) besides the public roots. Certificates are always verified.
    pub fn trusting(&self, ca_pem: Option<&str>) -> Result<Http, SyncError> {
        let Some(pem) = ca_pem.filter(|p| !p.trim().is_empty()) else {
            return Ok(self.clone());
        };
        let tls = client_tls(Some(pem)).map_err(SyncError::new)?;
        Ok(Http {
            agent: agent(&self.policy, Some(tls.clone()), self.follow),
            tls: Some(tls),
            ..self.clone()
        })
    }

    /// The same client, but redirects come back as answers: for protocols that must keep
    /// the method and credentials across a redirect (WebDAV's PROPFIND), which ureq would
    /// turn into a GET without them.
    pub fn manual_redirects(&self) -> Http {
        Http {
            agent: agent(&self.policy, self.tls.clone(), false),
            follow: false,
            ..self.clone()
        }
    }

    /// The TLS settings this client verifies servers with, for other protocols (LDAPS).
    pub fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, SyncError> {
        match &self.tls {
            Some(t) => Ok(t.clone()),
            None => client_tls(None).map_err(SyncError::new),
        }
    }

    /// The time a request of this client may take now: the job's time left, at most the
    /// limit of one request; an error once the job is cancelled or past its deadline.
    pub fn request_time(&self) -> Result<Duration, SyncError> {
        self.check()
    }

    /// The limit on the size of one answer.
    pub fn max_body(&self) -> u64 {
        self.max_body
    }

    /// The same client with another limit on the size of one answer.
    pub fn with_max_body(mut self, bytes: u64) -> Http {
        self.max_body = bytes.max(1);
        self
    }

    /// The client as one job uses it: every request checks the job's deadline and
    /// cancellation first and is given no more time than the job has left.
    pub fn bounded(&self, ctx: &Ctx) -> Http {
        Http {
            job: Some(ctx.clone()),
            ..self.clone()
        }
    }

    fn check(&self) -> Result<Duration, SyncError> {
        match &self.job {
            None => Ok(REQUEST_TIMEOUT),
            Some(ctx) => ctx
                .check()
                .map(|()| ctx.remaining().min(REQUEST_TIMEOUT))
                .map_err(|s| stopped(s, ctx)),
        }
    }

    fn wait(&self, d: Duration) -> Result<(), SyncError> {
        match &self.job {
            None => {
                std::thread::sleep(d);
                Ok(())
            }
            Some(ctx) => ctx.sleep(d).map_err(|s| stopped(s, ctx)),
        }
    }

    /// Sends a request (again on each retry); any HTTP status is a reply, only 429/503 are
    /// retried. The answer is read whole, up to the size limit.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, SyncError> {
        let resp = self.open(method, url, headers, body)?;
        let status = resp.status();
        let kept = KEPT_HEADERS
            .iter()
            .filter_map(|k| resp.header(k).map(|v| (*k, v.to_owned())))
            .collect();
        let limit = if (200..300).contains(&status) {
            self.max_body
        } else {
            MAX_ERROR_BODY
        };
        let mut bytes = Vec::new();
        let n = resp
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| read_failed(url, &e))?;
        if n as u64 > limit {
            if limit == MAX_ERROR_BODY {
                bytes.truncate(MAX_ERROR_BODY as usize);
            } else {
                return Err(too_large(url, limit));
            }
        }
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            headers: kept,
        })
    }

    /// A GET whose JSON answer is read as a stream: `each` gets the records one by one (see
    /// `stream`), the values at `keep` are kept; memory follows the largest record.
    pub fn send_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        records: Records,
        keep: &[Pointer],
        each: &mut dyn FnMut(Value) -> Result<(), String>,
    ) -> Result<JsonReply, SyncError> {
        let resp = self.open("GET", url, headers, None)?;
        let status = resp.status();
        if !(200..300).contains(&status) {
            let mut bytes = Vec::new();
            let _ = resp
                .into_reader()
                .take(MAX_ERROR_BODY)
                .read_to_end(&mut bytes);
            return Ok(JsonReply {
                status,
                kept: Kept::default(),
                error: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            });
        }
        let mut reader = Capped {
            inner: resp.into_reader(),
            left: self.max_body,
        };
        // A record's own refusal (too many contacts) is the sentence, not a JSON error.
        let mut refused = None;
        let mut each = |v: Value| each(v).inspect_err(|why| refused = Some(why.clone()));
        let kept = stream::read(&mut reader, records, keep, &mut each).map_err(|e| {
            if let Some(why) = refused.take() {
                SyncError::new(why)
            } else if reader.left == 0 {
                too_large(url, self.max_body)
            } else if e.is_io() {
                read_failed(url, &e)
            } else {
                SyncError::new(format!("the answer of {} is not JSON: {e}", origin(url)))
            }
        })?;
        Ok(JsonReply {
            status,
            kept,
            error: Value::Null,
        })
    }

    fn open(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<ureq::Response, SyncError> {
        let mut wait = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let timeout = self.check()?;
            let mut req = self.agent.request(method, url).timeout(timeout);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            let result = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            let resp = match result {
                Ok(r) => r,
                Err(ureq::Error::Status(_, r)) => r,
                Err(ureq::Error::Transport(t)) => {
                    // A deadline or cancellation is the reason if there is one.
                    self.check()?;
                    return Err(transport_error(url, &t));
                }
            };
            let status = resp.status();
            if (status == 429 || status == 503) && attempt < ATTEMPTS {
                let delay = resp
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(wait);
                if delay > MAX_WAIT {
                    return Err(SyncError::new(format!(
                        "{} asks to wait {} s before the next request (HTTP {status}); the next sync will try again",
                        origin(url),
                        delay.as_secs()
                    )));
                }
                tracing::info!(status, wait_s = delay.as_secs_f32(), "throttled; waiting");
                self.wait(delay)?;
                wait = (wait * 2).min(MAX_WAIT);
                continue;
            }
            return Ok(resp);
        }
        Err(SyncError::new(format!(
            "{} kept answering 429/503 (too many requests) after {ATTEMPTS} attempts",
            origin(url)
        )))
    }
}

/// A failed connection as a sentence that tells the user what to check but not how it failed
/// (refused, timed out, TLS): that difference would map a network for whoever sets the URL.
/// The operator's log has the detail.
fn transport_error(url: &str, t: &ureq::Transport) -> SyncError {
    let target = origin(url);
    let mut cause = std::error::Error::source(t);
    while let Some(e) = cause {
        if let Some(r) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| refusal(url, io))
        {
            return r;
        }
        cause = e.source();
    }
    tracing::warn!(
        origin = %target,
        kind = %t.kind(),
        error = t.message().unwrap_or(""),
        cause = std::error::Error::source(t).map(ToString::to_string).unwrap_or_default(),
        "cannot reach a source"
    );
    SyncError::new(format!(
        "cannot reach {target}; check the URL, that the server is up and reachable from the internet, and that its certificate is valid"
    ))
}

fn agent(
    policy: &Arc<NetPolicy>,
    tls: Option<Arc<rustls::ClientConfig>>,
    follow: bool,
) -> ureq::Agent {
    let policy = policy.clone();
    let mut b = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("phonedir/", env!("CARGO_PKG_VERSION")))
        .redirects(if follow { 5 } else { 0 })
        // Never an Authorization header to where a redirect points (ureq's default;
        // said here because it is what keeps credentials at their origin).
        .redirect_auth_headers(ureq::RedirectAuthHeaders::Never)
        .resolver(move |netloc: &str| policy.resolve(netloc));
    if let Some(t) = tls {
        b = b.tls_config(t);
    }
    b.build()
}

/// TLS for connections to sources: the public roots, plus the certificates of `ca_pem` if
/// given. Errors are sentences about the PEM.
pub fn client_tls(ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = ca_pem {
        for der in ca_certificates(pem)? {
            roots
                .add(der)
                .map_err(|e| format!("`ca_cert` holds a certificate that cannot be used: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The certificates of a PEM text (`-----BEGIN CERTIFICATE-----` blocks); an error sentence
/// when there is none or one is damaged.
pub fn ca_certificates(
    pem: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`ca_cert` is not a readable PEM certificate ({e})"))?;
    if certs.is_empty() {
        return Err("`ca_cert` holds no certificate; paste the CA's PEM, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----".into());
    }
    Ok(certs)
}

/// The sentence for a connection the policy refused (`NetPolicy::resolve`'s error), naming
/// the host and whether a redirect led there; None for any other error.
pub fn refusal(url: &str, e: &std::io::Error) -> Option<SyncError> {
    let r = e.get_ref()?.downcast_ref::<Refused>()?;
    let target = origin(url);
    let configured = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()));
    // The refused host, and whether a redirect led there.
    let place = if configured.as_deref() == Some(r.host.as_str()) {
        target
    } else {
        format!("{} (where {target} redirects)", r.host)
    };
    Some(SyncError::new(format!(
        "{place} {} {} address; phonedir reaches such addresses only where the operator allows them (--source-allow)",
        if r.literal { "is a" } else { "resolves to a" },
        r.what
    )))
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

/// A reader that fails once more than `left` bytes were asked of it.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.left = 0;
            return Err(std::io::Error::other("the answer is too large"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn stopped(s: Stop, ctx: &Ctx) -> SyncError {
    match s {
        Stop::Cancelled => SyncError::new("the sync was stopped: its source was deleted or changed"),
        Stop::Deadline => SyncError::new(format!(
            "the sync took longer than the limit of {} s (--sync-timeout) and was stopped; nothing was changed",
            ctx.limit().as_secs()
        )),
    }
}

fn too_large(url: &str, limit: u64) -> SyncError {
    SyncError::new(format!(
        "the answer of {} is larger than {limit} bytes (--max-response-bytes); nothing was changed",
        origin(url)
    ))
}

fn read_failed(url: &str, e: &dyn std::fmt::Display) -> SyncError {
    // How it broke off is for the operator's log: the sentence tells no network detail.
    tracing::warn!(origin = %origin(url), error = %e, "reading an answer failed");
    SyncError::new(format!(
        "the answer of {} broke off; the next sync will try again",
        origin(url)
    ))
}

/// `https://host:port` of a URL, for messages: never the path or query (they may hold keys).
pub fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    let host = &url[..end];
    // Credentials in the authority (`user:pw@host`) stay out of messages too.
    match host[after_scheme..].rfind('@') {
        Some(at) => format!(
            "{}{}",
            &host[..after_scheme],
            &host[after_scheme + at + 1..]
        ),
        None => host.to_owned(),
    }
}

/// `/v1.0/users/delta` of a URL, for messages: no host details, never the query (it may
/// hold a key or a token).
pub fn path_of(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let path = url[after..].find('/').map_or("/", |i| &url[after + i..]);
    path.split(['?', '#']).next().unwrap_or(path).to_owned()
}

/// `%C3%BC` (marker `%`) or quoted-printable's `=C3=BC` (marker `=`) → bytes; a marker not
/// followed by two hex digits stays as it is.
pub fn unescape_hex(s: &str, marker: u8) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (m, Some(h), Some(l)) if m == marker => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Whether two URLs have the same scheme, host and port: credentials for one are sent to the
/// other only then. Unparseable URLs share nothing.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin().is_tuple() && a.origin() == b.origin(),
        _ => false,
    }
}

pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes a query value.
pub fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_origin() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(
            origin("https://u:p@dav.example:8443/a/b?apikey=x"),
            "https://dav.example:8443"
        );
        assert_eq!(encode_query("a b&c"), "a%20b%26c");
    }

    #[test]
    fn credentials_stay_at_their_origin() {
        assert!(same_origin(
            "https://a.example/x?p=1",
            "https://A.example:443/y"
        ));
        assert!(same_origin(
            "http://127.1:8080/a",
            "http://127.0.0.1:8080/b"
        ));
        assert!(!same_origin("https://a.example/x", "http://a.example/x"));
        assert!(!same_origin(
            "https://a.example/x",
            "https://a.example:8443/x"
        ));
        assert!(!same_origin(
            "https://a.example/x",
            "https://evil.example/x"
        ));
        assert!(!same_origin("not a url", "not a url"));
    }

    #[test]
    fn only_public_addresses_unless_allowed() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(not_public(ip(s)).is_some(), "{s}");
            assert!(!NetPolicy::default().permits(ip(s)), "{s}");
        }
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "2a00:1450:4001::1",
            "64:ff9b::808:808",
        ] {
            assert!(not_public(ip(s)).is_none(), "{s}");
        }
        let p = NetPolicy::allowing(Cidr::parse_list("10.0.0.0/8,fd00::/8").unwrap());
        assert!(p.permits(ip("10.9.8.7")) && p.permits(ip("::ffff:10.9.8.7")));
        assert!(p.permits(ip("fd00::5")));
        assert!(!p.permits(ip("192.168.1.1")));
        // What the resolver says about a refused host.
        let e = NetPolicy::default().resolve("127.0.0.1:80").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(NetPolicy::default().resolve("[::1]:80").is_err());
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("example.com:443"), "example.com");
    }
}
