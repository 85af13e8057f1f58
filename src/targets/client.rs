//! Talking to a PBX within a run: the sources' `Http` (private-network policy, size limits,
//! 429/503 with `Retry-After`, the job's deadline and cancellation) plus what writing needs
//! on top: Bearer or Digest credentials, a few retries of 500/502/504 honouring
//! `Retry-After`, and every answer classified into what the run does next.

use super::digest::Challenge;
use crate::jobs::Ctx;
use crate::sources::net::{origin, Http, Reply};
use std::time::Duration;

/// What went wrong with one request, by what the run does about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// 401/403: the credentials; the run stops with this sentence.
    #[error("{0}")]
    Auth(String),
    /// The entry is not there (any more).
    #[error("the PBX has no such entry")]
    NotFound,
    /// The PBX refused this one entry; nothing was written, the run goes on.
    #[error("{0}")]
    Entry(String),
    /// No usable answer (lost connection, server error): the write may or may not have
    /// happened; the run goes on.
    #[error("{0}")]
    Unsure(String),
    /// The run cannot go on (deadline, cancellation, a PBX that stopped answering).
    #[error("{0}")]
    Stop(String),
}

pub enum Auth {
    None,
    Bearer(String),
    Digest { user: String, password: String },
}

/// Server errors and lost connections in a row after which a run stops.
const MAX_TROUBLE: u32 = 5;
/// Tries of a request answered 500, 502 or 504.
const SERVER_ERROR_TRIES: u32 = 3;
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

pub struct Client {
    http: Http,
    ctx: Ctx,
    pub auth: Auth,
    challenge: Option<Challenge>,
    trouble: u32,
    /// What the administrator should check when the credentials are refused.
    hint: &'static str,
    /// SOAP (TR-064): a 500 carrying a UPnP fault is an answer, not a server in trouble.
    pub soap: bool,
    /// POST may be sent again after a 500/502/504 (a whole-file upload). Otherwise a POST
    /// creates: the server may have done it before it failed, so it is not repeated; the
    /// create stays pending and the next run looks for it first.
    pub repeat_post: bool,
}

impl Client {
    pub fn new(http: &Http, ctx: &Ctx, auth: Auth, hint: &'static str) -> Client {
        Client {
            http: http.bounded(ctx),
            ctx: ctx.clone(),
            auth,
            challenge: None,
            trouble: 0,
            hint,
            soap: false,
            repeat_post: false,
        }
    }

    /// Why the run must stop now, if it must.
    fn stopped(&self) -> Option<RemoteError> {
        self.ctx.check().err().map(|s| {
            RemoteError::Stop(match s {
                crate::jobs::Stop::Cancelled => {
                    "the run was stopped: its target was deleted or changed".to_owned()
                }
                crate::jobs::Stop::Deadline => format!(
                    "the run took longer than the limit of {} s (--sync-timeout) and was stopped; what was written is recorded, the next run goes on from there",
                    self.ctx.limit().as_secs()
                ),
            })
        })
    }

    /// Sends one request; any HTTP status is an answer (see `expect`). Digest challenges
    /// are answered, 500/502/504 retried.
    pub fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, RemoteError> {
        let mut digest_rounds = 0;
        let mut tries = 0;
        loop {
            if let Some(stop) = self.stopped() {
                return Err(stop);
            }
            let mut all: Vec<(&str, String)> =
                headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
            match &self.auth {
                Auth::None => {}
                Auth::Bearer(t) => all.push(("Authorization", format!("Bearer {t}"))),
                Auth::Digest { user, password } => {
                    if let Some(ch) = &mut self.challenge {
                        all.push((
                            "Authorization",
                            ch.authorization(method, &request_uri(url), user, password),
                        ));
                    }
                }
            }
            let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = match self.http.send(method, url, &refs, body) {
                Ok(r) => r,
                Err(e) => {
                    if let Some(stop) = self.stopped() {
                        return Err(stop);
                    }
                    return Err(self.troubled(e.0));
                }
            };
            if reply.status == 401 && matches!(self.auth, Auth::Digest { .. }) && digest_rounds < 2
            {
                // The first 401 of a request is answered (no challenge yet, or the kept one
                // expired); a second one only if the server says the nonce was stale — else
                // the password is wrong.
                if let Some(ch) = reply.header("www-authenticate").and_then(Challenge::parse) {
                    if digest_rounds == 0 || ch.stale {
                        self.challenge = Some(ch);
                        digest_rounds += 1;
                        continue;
                    }
                }
            }
            if self.soap && reply.status == 500 && reply.body.contains("UPnPError") {
                self.trouble = 0;
                return Ok(reply);
            }
            if matches!(reply.status, 500 | 502 | 504) {
                tries += 1;
                if tries < SERVER_ERROR_TRIES && (method != "POST" || self.repeat_post) {
                    let wait = reply
                        .header("retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs)
                        .unwrap_or(Duration::from_secs(1 << tries))
                        .min(MAX_RETRY_AFTER);
                    if self.ctx.sleep(wait).is_err() {
                        return Err(self.stopped().unwrap_or_else(|| {
                            RemoteError::Stop("the run has no time left to wait for the PBX".into())
                        }));
                    }
                    continue;
                }
                let why = format!(
                    "{} answered HTTP {} (a server error){}",
                    origin(url),
                    reply.status,
                    if tries > 1 {
                        format!(" {tries} times")
                    } else {
                        String::new()
                    }
                );
                return match self.troubled(why) {
                    RemoteError::Stop(s) => Err(RemoteError::Stop(s)),
                    _ => Ok(reply),
                };
            }
            if reply.status == 429 || reply.status == 503 {
                let why = format!("{} kept answering HTTP {}", origin(url), reply.status);
                if let RemoteError::Stop(s) = self.troubled(why) {
                    return Err(RemoteError::Stop(s));
                }
                return Ok(reply);
            }
            self.trouble = 0;
            return Ok(reply);
        }
    }

    /// Counts a failure that may pass; too many in a row stop the run.
    fn troubled(&mut self, why: String) -> RemoteError {
        self.trouble += 1;
        if self.trouble >= MAX_TROUBLE {
            RemoteError::Stop(format!(
                "{why}; after {MAX_TROUBLE} such failures in a row the run stops, the next one goes on from what was written"
            ))
        } else {
            RemoteError::Unsure(why)
        }
    }

    /// A 2xx answer, or the error it stands for. `what` says what was asked ("creating
    /// Anna Schmidt").
    pub fn expect(&self, url: &str, reply: Reply, what: &str) -> Result<Reply, RemoteError> {
        let at = origin(url);
        match reply.status {
            200..=299 => Ok(reply),
            401 | 403 => Err(RemoteError::Auth(format!(
                "{at} refused phonedir's credentials (HTTP {}) while {what}; check {}",
                reply.status, self.hint
            ))),
            404 | 410 => Err(RemoteError::NotFound),
            408 | 429 | 500..=599 => Err(RemoteError::Unsure(format!(
                "{at} answered HTTP {} while {what}",
                reply.status
            ))),
            s => Err(RemoteError::Entry(format!(
                "{at} refused {what} (HTTP {s}){}",
                said(&reply.body)
            ))),
        }
    }
}

/// The PBX's own words about an error, short and printable: `: "…"`, or nothing.
fn said(body: &str) -> String {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let text = v
        .as_ref()
        .and_then(|v| {
            ["/error/message", "/message", "/error", "/detail", "/title"]
                .iter()
                .find_map(|p| v.pointer(p).and_then(|m| m.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| body.to_owned());
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        String::new()
    } else {
        format!(": \"{clean}\"")
    }
}

/// The path and query of a URL as a request line carries them (what Digest signs).
fn request_uri(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => "/".to_owned(),
    }
}

/// Percent-encodes one path segment (an id that goes into a URL).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_words_are_short_and_printable() {
        assert_eq!(
            said(r#"{"error":{"code":"x","message":"Name\ntoo long"}}"#),
            ": \"Name too long\""
        );
        assert_eq!(said(""), "");
        assert_eq!(said(&"a".repeat(500)).len(), 204);
        assert_eq!(request_uri("http://h/a/b?op=csv&x=1"), "/a/b?op=csv&x=1");
        assert_eq!(
            segment("cn=Anna Schmidt,o=x/y"),
            "cn%3DAnna%20Schmidt%2Co%3Dx%2Fy"
        );
    }
}
