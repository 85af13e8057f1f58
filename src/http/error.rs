//! Every error of every layer becomes one JSON answer here, and only here:
//! `{"error": "<a sentence a person can act on>", "details": [...]}`.

use crate::access::Denied;
use crate::book::BookError;
use crate::domain::KeyError;
use crate::ingest::IngestError;
use crate::push::PushError;
use crate::render::{RenderError, ShapeError};
use crate::sources::SourceError;
use crate::store::StoreError;
use crate::targets::TargetError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};
use std::fmt;

/// The body of every error answer: one sentence to act on, and what it is about.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do, as a sentence.
    pub error: String,
    /// Where (lines, columns, fields), when the error is about the request's content.
    pub details: Vec<Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub details: Vec<Value>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// The methods a URL takes, for the `Allow` header of a 405.
    allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A method this URL does not take (`DELETE /contacts/KEY`): 405 naming the ones it does.
    pub fn method_not_allowed(method: &actix_web::http::Method, allow: &'static str) -> Self {
        let mut e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("this URL does not take {method}; it takes {allow}"),
        );
        if *method == actix_web::http::Method::DELETE {
            e.message
                .push_str(" (a directory is deleted on the server: phonedir directory delete KEY)");
        }
        e.allow = Some(allow);
        e
    }

    pub fn with_details(mut self, details: Vec<Value>) -> Self {
        self.details = details;
        self
    }

    /// For faults of ours: the log gets the cause, the client a sentence without internals.
    pub fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details",
        )
    }

    pub fn unknown_directory() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "no directory has this key")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        // Also on answers that bypass the app's default headers (an error from a middleware).
        resp.insert_header(("X-Content-Type-Options", "nosniff"));
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header(("WWW-Authenticate", "Bearer realm=\"phonedir\""));
        }
        match (self.retry_after, self.status) {
            (Some(s), _) => {
                resp.insert_header(("Retry-After", s.to_string()));
            }
            // A server-wide limit was reached (renders, uploads, syncs): it frees up soon.
            (None, StatusCode::SERVICE_UNAVAILABLE) => {
                resp.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        if let Some(allow) = self.allow {
            resp.insert_header((actix_web::http::header::ALLOW, allow));
        }
        resp.json(ErrorBody {
            error: self.message.clone(),
            details: self.details.clone(),
        })
    }
}

/// A URL whose other methods answer 405 with `Allow: allow`, rather than the 404 of an
/// unknown URL: the path is right, the method is not.
pub fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    actix_web::web::resource(path).default_service(actix_web::web::to(
        move |req: actix_web::HttpRequest| async move {
            Err::<HttpResponse, _>(ApiError::method_not_allowed(req.method(), allow))
        },
    ))
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("this is not a directory key: {e}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownDirectory => ApiError::unknown_directory(),
            StoreError::DirectoryExists
            | StoreError::SourceKind { .. }
            | StoreError::KeyTaken
            | StoreError::TooManyKeys => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            StoreError::DirectoryKey => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            StoreError::Quota(_) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            StoreError::DiskFull { .. } => ApiError::new(StatusCode::INSUFFICIENT_STORAGE, e.to_string()),
            StoreError::Sqlite(ref s)
                if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "the server's disk is full; nothing was stored. Phones can still read every book; the operator must free space",
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<BookError> for ApiError {
    fn from(e: BookError) -> Self {
        match e {
            BookError::Store(s) => s.into(),
            BookError::Changes(c) => ApiError::new(StatusCode::GONE, c.to_string()),
            BookError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()).with_retry_after(5)
            }
        }
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        let message = e.to_string();
        match e {
            Denied::Throttled(r) | Denied::RegistrationLimit(r) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).with_retry_after(r.0)
            }
            Denied::Malformed(k) => k.into(),
            Denied::Store(s) => s.into(),
            Denied::Unknown => ApiError::unknown_directory(),
            Denied::Scope { .. } | Denied::RegistrationClosed | Denied::Retired => {
                ApiError::new(StatusCode::FORBIDDEN, message)
            }
            Denied::Guessable(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message),
        }
    }
}

impl From<RenderError> for ApiError {
    fn from(e: RenderError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<ShapeError> for ApiError {
    fn from(e: ShapeError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let details = match &e {
            IngestError::NoColumns { expected, found } => {
                vec![json!({"expected_columns": expected, "found_columns": found})]
            }
            IngestError::Malformed { line, .. } => vec![json!({ "line": line })],
            IngestError::Json { line, column, .. } => {
                vec![json!({ "line": line, "column": column })]
            }
            IngestError::MappedColumnMissing { found, .. } => {
                vec![json!({ "found_columns": found })]
            }
            _ => Vec::new(),
        };
        let status = match e {
            IngestError::TooManyRows { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = match &e {
            IngestError::NoColumns { expected, found } => format!(
                "no recognizable columns: expected a name column and a number column such as {}; found {}",
                expected[..6].join(", "),
                if found.is_empty() { "none".to_owned() } else { found.join(", ") }
            ),
            other => other.to_string(),
        };
        ApiError::new(status, message).with_details(details)
    }
}

impl From<PushError> for ApiError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Ingest(e) => e.into(),
            PushError::Store(e) => e.into(),
            PushError::BadSourceName => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
            PushError::Closed => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            PushError::Shrink { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            PushError::NoContacts { ref report } => {
                let details = report
                    .warnings
                    .iter()
                    .filter_map(|w| serde_json::to_value(w).ok())
                    .collect();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).with_details(details)
            }
        }
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> Self {
        let status = match e {
            SourceError::BadName | SourceError::Spec(crate::sources::spec::SpecError::Shape(_)) => {
                StatusCode::BAD_REQUEST
            }
            SourceError::UnknownSource => StatusCode::NOT_FOUND,
            SourceError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            SourceError::Busy | SourceError::KindChange { .. } => StatusCode::CONFLICT,
            SourceError::NotPulled(_) | SourceError::Spec(_) => StatusCode::UNPROCESSABLE_ENTITY,
            SourceError::Store(s) => return s.into(),
        };
        ApiError::new(status, e.to_string())
    }
}

/// The CardDAV front end answers in its own dialect: XML bodies naming the RFC
/// precondition (`need-privileges`, `valid-sync-token`, …) and, for missing or wrong
/// credentials, the Basic challenge Thunderbird, Evolution and Apple clients wait for.
impl ResponseError for crate::dav::DavError {
    fn status_code(&self) -> StatusCode {
        use crate::dav::{DavError, Precondition};
        match self {
            DavError::Unauthorized => StatusCode::UNAUTHORIZED,
            DavError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            DavError::NotFound => StatusCode::NOT_FOUND,
            DavError::Forbidden {
                precondition: Precondition::NumberOfMatchesWithinLimits,
                ..
            } => StatusCode::INSUFFICIENT_STORAGE,
            DavError::Forbidden { .. } => StatusCode::FORBIDDEN,
            DavError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DavError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DavError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            DavError::Book(BookError::Changes(_)) => StatusCode::FORBIDDEN,
            DavError::Book(BookError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
            DavError::Book(BookError::Store(StoreError::UnknownDirectory)) => StatusCode::NOT_FOUND,
            DavError::Book(BookError::Store(_)) | DavError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        use crate::dav::DavError;
        let status = self.status_code();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "CardDAV request failed");
            "internal error; the server log has the details".to_owned()
        } else {
            self.to_string()
        };
        let mut resp = HttpResponse::build(status);
        match self {
            DavError::Unauthorized => {
                resp.insert_header(("WWW-Authenticate", "Basic realm=\"phonedir\""));
            }
            DavError::Throttled(secs) => {
                resp.insert_header(("Retry-After", secs.to_string()));
            }
            DavError::MethodNotAllowed(_) => {
                resp.insert_header(("Allow", crate::dav::ALLOW));
            }
            DavError::Book(BookError::Busy) => {
                resp.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        resp.content_type(crate::dav::write::CONTENT_TYPE)
            .body(crate::dav::write::error_body(self.precondition(), &message))
    }
}

impl From<TargetError> for ApiError {
    fn from(e: TargetError) -> Self {
        let status = match &e {
            TargetError::BadName | TargetError::Spec(crate::sources::spec::SpecError::Shape(_)) => {
                StatusCode::BAD_REQUEST
            }
            TargetError::Unknown => StatusCode::NOT_FOUND,
            TargetError::Busy => StatusCode::CONFLICT,
            TargetError::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            TargetError::Invalid(_) | TargetError::Spec(_) => StatusCode::UNPROCESSABLE_ENTITY,
            TargetError::Failed(_) => StatusCode::BAD_GATEWAY,
            TargetError::Refused { plan, .. } => {
                return ApiError::new(StatusCode::CONFLICT, e.to_string())
                    .with_details(vec![json!({ "plan": plan })])
            }
            TargetError::Store(_) | TargetError::Book(_) => {
                return match e {
                    TargetError::Store(s) => s.into(),
                    TargetError::Book(b) => b.into(),
                    _ => ApiError::internal(&e),
                }
            }
        };
        ApiError::new(status, e.to_string())
    }
}
