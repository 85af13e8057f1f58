//! Talking to remote systems: one blocking HTTP client with timeouts, a size limit, and
//! bounded retries that honour `Retry-After` on 429/503 (exponential backoff without it).

use super::SyncError;
use std::io::Read;
use std::time::Duration;

/// Largest answer read (a multiget of a big address book is a few MB).
const MAX_BODY: u64 = 64 * 1024 * 1024;
const ATTEMPTS: u32 = 5;
/// A `Retry-After` longer than this ends the sync instead; the scheduler retries later.
const MAX_WAIT: Duration = Duration::from_secs(120);

pub struct Http {
    agent: ureq::Agent,
    /// First backoff step when a 429/503 carries no `Retry-After`.
    pub backoff: Duration,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Http {
    pub fn new() -> Http {
        Http {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(Duration::from_secs(120))
                .user_agent(concat!("phonedir/", env!("CARGO_PKG_VERSION")))
                .redirects(5)
                .build(),
            backoff: Duration::from_secs(1),
        }
    }

    /// Sends a request built by `make` (again on each retry); any HTTP status is a reply,
    /// only 429/503 are retried.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, SyncError> {
        let mut wait = self.backoff;
        for attempt in 1..=ATTEMPTS {
            let mut req = self.agent.request(method, url);
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
                    return Err(SyncError::new(format!(
                        "cannot reach {}: {}",
                        origin(url),
                        t.message()
                            .map_or_else(|| t.kind().to_string(), str::to_owned)
                    )))
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
                std::thread::sleep(delay);
                wait = (wait * 2).min(MAX_WAIT);
                continue;
            }
            let mut text = String::new();
            resp.into_reader()
                .take(MAX_BODY)
                .read_to_string(&mut text)
                .map_err(|e| {
                    SyncError::new(format!("reading the answer of {} failed: {e}", origin(url)))
                })?;
            return Ok(Reply { status, body: text });
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
    }
}
