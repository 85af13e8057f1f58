//! The CardDAV server: every directory as one read-only address book, for smartphones, mail
//! clients and desk phones (RFC 6352 over RFC 4918, with RFC 6578 sync and RFC 6764
//! discovery). A front end over the book, like the phone formats: it reads `book::Books`
//! and never the store's contacts.
//!
//! - `xml`: request bodies → typed requests (bounded; no book, no HTTP);
//! - `carddav`: the resources, their properties and the reports, over one book;
//! - `query`: `addressbook-query` filters over a book's contacts;
//! - `write`: multistatus and error bodies;
//! - `auth`: which directory a Basic password opens;
//! - `http`: the actix adapter (routes, methods, bodies, streaming answers).
//!
//! URL layout (the book's URL carries a public id of the directory, never a key, so keys
//! stay out of URLs, logs and client configurations):
//!
//! ```text
//! /.well-known/carddav                  301 → /dav/ (no credentials asked)
//! /dav/                                  current-user-principal
//! /dav/principals/{id}/                  the principal: addressbook-home-set
//! /dav/books/{id}/                       the home set: exactly one address book
//! /dav/books/{id}/contacts/              the address book
//! /dav/books/{id}/contacts/{contact}.vcf one card
//! ```
//!
//! Errors of this front end are `DavError`; `http::error` maps them to answers with XML
//! bodies and the `WWW-Authenticate: Basic` challenge that CardDAV clients wait for.

pub mod auth;
pub mod carddav;
mod http;
pub mod query;
pub mod write;
pub mod xml;

pub use http::{routes, ALLOW};

use crate::book::BookError;

#[derive(Debug, thiserror::Error)]
pub enum DavError {
    #[error("this address book needs a key of its directory as the password (HTTP Basic; any user name)")]
    Unauthorized,
    #[error("too many requests with wrong keys came from this address; wait {0} seconds")]
    Throttled(u64),
    #[error("no such address book or card")]
    NotFound,
    #[error("{why}")]
    Forbidden {
        precondition: Precondition,
        why: String,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than {limit} bytes, the most this address book takes")]
    TooLarge { limit: usize },
    #[error("{0} is not a method this read-only address book answers")]
    MethodNotAllowed(String),
    #[error(transparent)]
    Book(#[from] BookError),
    #[error("{0}")]
    Internal(String),
}

impl DavError {
    pub fn forbidden(precondition: Precondition, why: impl Into<String>) -> DavError {
        DavError::Forbidden {
            precondition,
            why: why.into(),
        }
    }

    /// The RFC precondition this error names in its body, if any.
    pub fn precondition(&self) -> Option<Precondition> {
        match self {
            DavError::Forbidden { precondition, .. } => Some(*precondition),
            DavError::Book(BookError::Changes(_)) => Some(Precondition::ValidSyncToken),
            _ => None,
        }
    }
}

impl From<xml::XmlError> for DavError {
    fn from(e: xml::XmlError) -> Self {
        match e {
            xml::XmlError::Unsupported { precondition, why } => {
                DavError::Forbidden { precondition, why }
            }
            other => DavError::BadRequest(other.to_string()),
        }
    }
}

/// Preconditions of WebDAV, CardDAV and sync (RFC 4918 §16, RFC 3744 §7.1.1, RFC 6352 §8,
/// RFC 6578 §3) that an error body names, so clients can act: DAVx5 and Evolution take
/// `need-privileges` as "read-only", and `valid-sync-token` as "sync again from scratch".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    NeedPrivileges,
    ValidSyncToken,
    SupportedReport,
    SupportedAddressData,
    SupportedFilter,
    SupportedCollation,
    NumberOfMatchesWithinLimits,
}

impl Precondition {
    /// The element, with a prefix `write::ERROR_HEAD` declares.
    pub fn element(self) -> &'static str {
        match self {
            Precondition::NeedPrivileges => "<D:need-privileges/>",
            Precondition::ValidSyncToken => "<D:valid-sync-token/>",
            Precondition::SupportedReport => "<D:supported-report/>",
            Precondition::SupportedAddressData => "<C:supported-address-data/>",
            Precondition::SupportedFilter => "<C:supported-filter/>",
            Precondition::SupportedCollation => "<C:supported-collation/>",
            Precondition::NumberOfMatchesWithinLimits => "<D:number-of-matches-within-limits/>",
        }
    }
}
