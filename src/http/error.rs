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
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Value};
use std::fmt;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub details: Vec<Value>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
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
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header(("WWW-Authenticate", "Bearer realm=\"phonedir\""));
        }
        if let Some(s) = self.retry_after {
            resp.insert_header(("Retry-After", s.to_string()));
        }
        resp.json(json!({
            "error": self.message,
            "details": self.details,
        }))
    }
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
            SourceError::Busy | SourceError::KindChange { .. } => StatusCode::CONFLICT,
            SourceError::NotPulled(_) | SourceError::Spec(_) => StatusCode::UNPROCESSABLE_ENTITY,
            SourceError::Store(s) => return s.into(),
        };
        ApiError::new(status, e.to_string())
    }
}
