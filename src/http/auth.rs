//! Who may manage a directory: whoever presents its key, as `Authorization: Bearer KEY` or
//! `?apikey=KEY` (the EasyConnect convention). A wrong key learns nothing about other keys:
//! the answer is the same whether or not the directory in the path exists.

use super::error::ApiError;
use crate::domain::ApiKey;
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The directory key from the path `{key}`, proven by the request's credentials.
pub struct Authorized(pub ApiKey);

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req))
    }
}

fn authorize(req: &HttpRequest) -> Result<Authorized, ApiError> {
    let key = ApiKey::parse(req.match_info().get("key").unwrap_or(""))?;
    let Some(given) = presented(req) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "send the directory key as `Authorization: Bearer KEY` or `?apikey=KEY`",
        ));
    };
    if !same(given.as_bytes(), key.as_str().as_bytes()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this key does not grant access to this directory",
        ));
    }
    Ok(Authorized(key))
}

fn presented(req: &HttpRequest) -> Option<String> {
    if let Some(v) = req.headers().get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    req.query_string()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("apikey"))
        .map(|(_, v)| v.to_owned())
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(uri: &str, auth: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::get().uri(uri).param("key", "ACME0123456789");
        if let Some(a) = auth {
            r = r.insert_header((header::AUTHORIZATION, a));
        }
        r.to_http_request()
    }

    #[test]
    fn bearer_or_apikey_must_be_the_path_key() {
        assert!(authorize(&req("/x", Some("Bearer ACME0123456789"))).is_ok());
        assert!(authorize(&req("/x?apikey=ACME0123456789", None)).is_ok());
        let e = authorize(&req("/x", None)).err().unwrap();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let e = authorize(&req("/x", Some("Bearer OTHER012345678")))
            .err()
            .unwrap();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        // Another scheme is no credential at all.
        let e = authorize(&req("/x", Some("Basic QUNNRTo="))).err().unwrap();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
    }
}
