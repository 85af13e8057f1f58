//! The actix adapter of `access::Gate`: which address a request comes from, and what the key
//! it presents opens. Reading URLs take any key of the directory (`read`), pushes a push key
//! or the directory key (`push_target`), and the management API only the directory key, as
//! `Authorization: Bearer KEY` or `?apikey=KEY` (the EasyConnect convention) matching the
//! path (`Authorized`). A wrong key learns nothing about other keys: the management API
//! answers the same whether or not the directory in the path exists.

use super::error::ApiError;
use super::AppState;
use crate::access::{client_address, Denied, PushTarget};
use crate::domain::{ApiKey, Scope};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use std::net::{IpAddr, Ipv4Addr};

/// The address a request came from (see `access::client_address`), set by `client_mw`.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// Headers by which a proxy says where a request came from. From anyone but a trusted proxy
/// they are removed before any handler (or actix's `connection_info`, which builds the
/// soft-key links of paged phone books) can believe them.
const FORWARDING: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Middleware: decides the client address once per request and drops forwarding headers
/// that do not come from a trusted proxy.
pub async fn client_mw(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let trusted = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.trusted_proxies.clone())
        .unwrap_or_default();
    let joined = |name: &str| {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let client = if trusted.iter().any(|c| c.contains(peer)) {
        client_address(
            peer,
            &trusted,
            joined("forwarded").as_deref(),
            joined("x-forwarded-for").as_deref(),
        )
    } else {
        let headers = req.headers_mut();
        for h in FORWARDING {
            headers.remove(h);
        }
        client_address(peer, &[], None, None)
    };
    req.extensions_mut().insert(ClientAddr(client));
    next.call(req).await
}

pub fn client(req: &HttpRequest) -> IpAddr {
    req.extensions()
        .get::<ClientAddr>()
        .map(|c| c.0)
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The directory a reading URL's key opens (any scope reads), by its directory key.
pub async fn read(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    presented: &str,
) -> Result<ApiKey, ApiError> {
    Ok(open(req, state, presented, Scope::Read).await??.directory)
}

/// `Gate::open` from memory when it can, else on the blocking pool; the outer error is a
/// fault of ours, the inner one the gate's answer.
pub async fn open(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    presented: &str,
    need: Scope,
) -> Result<Result<crate::domain::Access, Denied>, ApiError> {
    let client = client(req);
    if let Some(done) = state.gate.open_cached(client, presented, need) {
        return Ok(done);
    }
    let (gate, presented) = (state.gate.clone(), presented.to_owned());
    web::block(move || gate.open(client, &presented, need))
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// Where a push to `/contacts/{presented}` goes: a directory its push or directory key
/// opens, or (open registration) a new one; call `Registration::made` once it was made.
pub async fn push_target(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    presented: &str,
) -> Result<PushTarget, ApiError> {
    let (gate, client, presented) = (state.gate.clone(), client(req), presented.to_owned());
    let target = web::block(move || gate.open_for_push(client, &presented))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match target {
        // On a server that creates directories only on request, say how to get one.
        Err(Denied::Unknown) if !state.limits.open_registration => Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            crate::push::PushError::Closed.to_string(),
        )),
        other => Ok(other?),
    }
}

/// The directory key from the path `{key}`, proven by the request's credentials.
pub struct Authorized(pub ApiKey);

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authorize(&req).await })
    }
}

async fn authorize(req: &HttpRequest) -> Result<Authorized, ApiError> {
    let key = ApiKey::parse(req.match_info().get("key").unwrap_or(""))?;
    let Some(given) = presented(req) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "send the directory key as `Authorization: Bearer KEY` or `?apikey=KEY`",
        ));
    };
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::internal(&"the application state is missing"));
    };
    let wrong = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "this key does not grant access to this directory",
        )
    };
    match open(req, state, &given, Scope::Admin).await? {
        Ok(access) if same(given.as_bytes(), key.as_str().as_bytes()) => {
            Ok(Authorized(access.directory))
        }
        Ok(_) => {
            state.gate.failed(client(req));
            Err(wrong())
        }
        Err(Denied::Unknown | Denied::Malformed(_)) => Err(wrong()),
        Err(e) => Err(e.into()),
    }
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
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn credentials_come_from_bearer_or_apikey_only() {
        let req = |uri: &str, auth: Option<&str>| {
            let mut r = TestRequest::get().uri(uri);
            if let Some(a) = auth {
                r = r.insert_header((header::AUTHORIZATION, a));
            }
            r.to_http_request()
        };
        assert_eq!(
            presented(&req("/x", Some("Bearer ACME0123456789"))).as_deref(),
            Some("ACME0123456789")
        );
        assert_eq!(
            presented(&req("/x?apikey=ACME0123456789", None)).as_deref(),
            Some("ACME0123456789")
        );
        assert_eq!(presented(&req("/x", None)), None);
        // Another scheme is no credential at all.
        assert_eq!(presented(&req("/x", Some("Basic QUNNRTo="))), None);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
