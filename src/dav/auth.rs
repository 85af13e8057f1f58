//! Who may read an address book: whoever sends a key of its directory as the HTTP Basic
//! password (the user name is free; clients insist on one). `directory_for` is the one
//! place that decides, so read keys and the wrong-key throttle plug in here.

use super::DavError;
use crate::access::Denied;
use crate::domain::{ApiKey, Scope};
use crate::http::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use base64::Engine;
use std::net::IpAddr;

#[derive(Debug, thiserror::Error)]
pub enum DavAuthError {
    /// No credentials, or a password that is no key of any directory: both get the same
    /// challenge, so a wrong key learns nothing.
    #[error("no key of a directory")]
    Wrong,
    #[error("throttled for {0} seconds")]
    Throttled(u64),
    #[error("{0}")]
    Internal(String),
}

impl From<DavAuthError> for DavError {
    fn from(e: DavAuthError) -> Self {
        match e {
            DavAuthError::Wrong => DavError::Unauthorized,
            DavAuthError::Throttled(s) => DavError::Throttled(s),
            DavAuthError::Internal(m) => DavError::Internal(m),
        }
    }
}

/// The password of a request's `Authorization: Basic`; None without one. A client that put
/// the key into the user name and left the password empty is read the way it was meant.
pub fn basic_password(req: &HttpRequest) -> Option<String> {
    let v = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (user, password) = s.split_once(':').unwrap_or((&s, ""));
    Some(if password.is_empty() { user } else { password }.to_owned())
}

/// The directory (by its directory key) that `password` opens for reading: any key of the
/// directory (its read keys, push keys or the directory key) through the gate, so wrong
/// passwords count towards the same per-address throttle as wrong keys in URLs.
pub async fn directory_for(
    state: &web::Data<AppState>,
    password: &str,
    client: IpAddr,
) -> Result<ApiKey, DavAuthError> {
    let answer = match state.gate.open_cached(client, password, Scope::Read) {
        Some(done) => done,
        None => {
            let (gate, presented) = (state.gate.clone(), password.to_owned());
            web::block(move || gate.open(client, &presented, Scope::Read))
                .await
                .map_err(|e| DavAuthError::Internal(e.to_string()))?
        }
    };
    match answer {
        Ok(access) => Ok(access.directory),
        Err(Denied::Throttled(r)) => Err(DavAuthError::Throttled(r.0)),
        Err(Denied::Store(e)) => Err(DavAuthError::Internal(e.to_string())),
        // Unknown, malformed, revoked: one challenge for all, a wrong key learns nothing.
        Err(_) => Err(DavAuthError::Wrong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(auth: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::AUTHORIZATION, auth))
            .to_http_request()
    }

    #[test]
    fn the_password_is_read_from_basic_only() {
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            basic_password(&with(&format!("Basic {}", b("anna:ACME0123456789")))).as_deref(),
            Some("ACME0123456789")
        );
        // Colons after the first belong to the password.
        assert_eq!(
            basic_password(&with(&format!("basic {}", b("u:a:b")))).as_deref(),
            Some("a:b")
        );
        assert_eq!(
            basic_password(&with(&format!("Basic {}", b("ACME0123456789:")))).as_deref(),
            Some("ACME0123456789")
        );
        assert_eq!(basic_password(&with("Bearer ACME0123456789")), None);
        assert_eq!(basic_password(&with("Basic !!!")), None);
        assert_eq!(
            basic_password(&TestRequest::default().to_http_request()),
            None
        );
    }
}
