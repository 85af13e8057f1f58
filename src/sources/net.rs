//! Talking to remote systems: one blocking HTTP client with timeouts, a size limit per
//! answer, and bounded retries that honour `Retry-After` on 429/503 (exponential backoff
//! without it). Within a job (`Http::bounded`) every request also obeys the job's deadline
//! and cancellation: a request never outlives the sync that made it.

use super::stream::{self, Kept, Pointer, Records};
use super::SyncError;
use crate::jobs::{Ctx, Stop};
use serde_json::Value;
use std::io::Read;
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
    /// First backoff step when a 429/503 carries no `Retry-After`.
    pub backoff: Duration,
    max_body: u64,
    job: Option<Ctx>,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// A JSON answer read as a stream (`Http::send_json`).
pub struct JsonReply {
    pub status: u16,
    /// For a 2xx answer: the values kept besides the records.
    pub kept: Kept,
    /// For any other status: the answer, if it was JSON.
    pub error: Value,
}

impl Http {
    pub fn new() -> Http {
        Http {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(REQUEST_TIMEOUT)
                .user_agent(concat!("phonedir/", env!("CARGO_PKG_VERSION")))
                .redirects(5)
                .build(),
            backoff: Duration::from_secs(1),
            max_body: DEFAULT_MAX_BODY,
            job: None,
        }
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
                    self.check()?;
                    let why = t
                        .message()
                        .map_or_else(|| t.kind().to_string(), str::to_owned);
                    return Err(SyncError::new(format!(
                        "cannot reach {}: {}",
                        origin(url),
                        scrub(&why, url)
                    )));
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

/// A transport message without the URL's path, query or credentials (an `apikey=` or a
/// `user:password@` would otherwise land in the status and the log).
fn scrub(message: &str, url: &str) -> String {
    let mut m = message.replace(url, &origin(url));
    if let Some((_, query)) = url.split_once('?') {
        m = m.replace(query, "…");
    }
    if let Some(at) = url.find('@') {
        let start = url.find("://").map_or(0, |i| i + 3);
        if start < at {
            m = m.replace(&url[start..at], "…");
        }
    }
    m
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
    SyncError::new(format!("reading the answer of {} failed: {e}", origin(url)))
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
        let url = "https://u:pw@pbx.example/x?apikey=SECRET";
        let m = scrub(&format!("Bad URL {url} (apikey=SECRET)"), url);
        assert!(!m.contains("SECRET") && !m.contains("pw"), "{m}");
    }
}
