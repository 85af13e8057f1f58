//! Reading a pushed file: `multipart/form-data` with a field `file` (what `curl -F` sends),
//! or the file itself as the body (`text/csv`, `application/json`).
//!
//! Every byte of the body counts, whatever part or header it is in: the whole body may be
//! the file limit plus a small envelope for the form's boundaries and part headers, a form
//! has at most `MAX_PARTS` parts, and the body must keep coming: after a grace period each
//! second must have brought `min_rate` bytes on average, or the upload is cut off (408), so
//! a client that stops sending holds neither its connection nor its buffer.

use super::error::ApiError;
use crate::push::InputFormat;
use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest};
use futures_util::{Stream, StreamExt};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Room for a form's boundaries and part headers beyond the file itself.
const ENVELOPE: u64 = 16 * 1024;
/// Parts one form may have (`file` plus a few a client may add).
const MAX_PARTS: usize = 16;
/// Bytes of a form's other fields kept as text (the admin page's source, region, column
/// map, CSRF token); longer ones are refused.
const MAX_FIELD_TEXT: usize = 4096;

/// A form as read: the file, its name, and the other fields as text.
pub struct Form {
    pub file: Vec<u8>,
    pub filename: String,
    pub fields: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// The file (`--max-upload-bytes`).
    pub max_bytes: usize,
    /// Time every upload has before the rate counts (`--upload-timeout`).
    pub grace: Duration,
    /// Bytes per second an upload must average after that (`--upload-min-rate`).
    pub min_rate: u64,
}

/// Why the guarded body stream ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    TooLarge,
    TooSlow,
}

/// The request body, cut off when it grows past `limit` bytes or falls behind the rate.
fn guarded(
    payload: web::Payload,
    limit: u64,
    limits: UploadLimits,
    cut: Rc<Cell<Option<Cut>>>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> {
    let start = Instant::now();
    futures_util::stream::unfold(
        (payload, 0u64, false),
        move |(mut payload, received, done)| {
            let cut = cut.clone();
            async move {
                if done {
                    return None;
                }
                let earned =
                    Duration::from_secs_f64(received as f64 / limits.min_rate.max(1) as f64);
                let left =
                    (start + limits.grace + earned).saturating_duration_since(Instant::now());
                match actix_web::rt::time::timeout(left, payload.next()).await {
                    Err(_) => {
                        cut.set(Some(Cut::TooSlow));
                        let e = std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the upload is too slow",
                        );
                        Some((Err(PayloadError::Io(e)), (payload, received, true)))
                    }
                    Ok(None) => None,
                    Ok(Some(Err(e))) => Some((Err(e), (payload, received, true))),
                    Ok(Some(Ok(chunk))) => {
                        let received = received + chunk.len() as u64;
                        if received > limit {
                            cut.set(Some(Cut::TooLarge));
                            Some((Err(PayloadError::Overflow), (payload, received, true)))
                        } else {
                            Some((Ok(chunk), (payload, received, false)))
                        }
                    }
                }
            }
        },
    )
    // The form reader may ask again after the end.
    .fuse()
}

/// Refuses a body that says it is larger than the limits allow, before reading it.
fn check_declared(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64 + ENVELOPE) {
        return Err(too_large(limit));
    }
    Ok(())
}

/// The guard's reason beats the reader's view of the broken stream.
fn guarded_result<T>(
    cut: Option<Cut>,
    limits: &UploadLimits,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match cut {
        Some(Cut::TooLarge) => Err(too_large(limits.max_bytes)),
        Some(Cut::TooSlow) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload came too slowly (less than {} bytes per second after {} s, --upload-min-rate); nothing was changed",
                limits.min_rate,
                limits.grace.as_secs()
            ),
        )),
        None => result,
    }
}

/// A `multipart/form-data` form of a web page (the admin page's upload): the file and the
/// other fields, under the same limits as a push.
pub async fn read_page_form(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &UploadLimits,
) -> Result<Form, ApiError> {
    let limit = limits.max_bytes;
    check_declared(req, limit)?;
    let cut = Rc::new(Cell::new(None));
    let body = guarded(payload, limit as u64 + ENVELOPE, *limits, cut.clone());
    let result = read_form(req, body, limit).await;
    guarded_result(cut.get(), limits, result)
}

pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &UploadLimits,
) -> Result<(Vec<u8>, InputFormat), ApiError> {
    let limit = limits.max_bytes;
    check_declared(req, limit)?;
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = mime.split(';').next().unwrap_or("").trim().to_owned();
    let cut = Rc::new(Cell::new(None));
    let body = guarded(payload, limit as u64 + ENVELOPE, *limits, cut.clone());
    let result = match essence.as_str() {
        "multipart/form-data" => read_form(req, body, limit).await.map(|form| {
            let json = form.filename.to_ascii_lowercase().ends_with(".json");
            (form.file, if json { InputFormat::Json } else { InputFormat::Csv })
        }),
        "text/csv" | "text/plain" | "application/csv" | "application/octet-stream"
        | "text/comma-separated-values" | "application/vnd.ms-excel" => {
            collect(body, limit).await.map(|b| (b, InputFormat::Csv))
        }
        "application/json" => collect(body, limit).await.map(|b| (b, InputFormat::Json)),
        "" => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request has no Content-Type; push the file as a form (curl -F 'file=@contacts.csv' URL) or as text/csv",
        )),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{other} is not a way to push a file; push it as a form (curl -F 'file=@contacts.csv' URL), as text/csv or as application/json"),
        )),
    };
    guarded_result(cut.get(), limits, result)
}

/// The `file` field's bytes and file name, and the other fields as text (each up to
/// `MAX_FIELD_TEXT` bytes). Every field is read (a cut-off form is refused whole); their
/// bytes count against the body limit all the same.
async fn read_form(
    req: &HttpRequest,
    body: impl Stream<Item = Result<Bytes, PayloadError>> + 'static,
    limit: usize,
) -> Result<Form, ApiError> {
    let mut form = Multipart::new(req.headers(), body);
    let mut file = None;
    let mut others = Vec::new();
    let mut fields = Vec::new();
    let mut parts = 0;
    // Every field is read to its end, so a cut-off upload is refused rather than half
    // stored. A field must be dropped before the form yields the next one.
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the form has more than {MAX_PARTS} fields; push the file as the field `file` alone"),
            ));
        }
        let name = field
            .name()
            .unwrap_or("")
            .chars()
            .take(64)
            .collect::<String>();
        let keep = name == "file" && file.is_none();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("")
            .to_owned();
        let mut buf = Vec::new();
        let mut text = Some(Vec::new());
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_form)?;
            if keep {
                if buf.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                buf.extend_from_slice(&chunk);
            } else if let Some(t) = text.as_mut() {
                if t.len() + chunk.len() > MAX_FIELD_TEXT {
                    text = None;
                } else {
                    t.extend_from_slice(&chunk);
                }
            }
        }
        if keep {
            file = Some((buf, filename));
        } else {
            if let Some(t) = text {
                fields.push((name.clone(), String::from_utf8_lossy(&t).into_owned()));
            }
            others.push(name);
        }
    }
    if let Some((file, filename)) = file {
        return Ok(Form {
            file,
            filename,
            fields,
        });
    }
    let fields = others;
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        format!(
            "the form has no field named `file` (found: {}); push with curl -F 'file=@contacts.csv' URL",
            if fields.is_empty() { "none".to_owned() } else { fields.join(", ") }
        ),
    ))
}

async fn collect(
    body: impl Stream<Item = Result<Bytes, PayloadError>>,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut body = std::pin::pin!(body);
    let mut buf = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the upload broke off: {e}"),
            )
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

fn bad_form(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("the form data cannot be read ({e}); nothing was changed"),
    )
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the upload is larger than this server accepts ({limit} bytes for the file, --max-upload-bytes, every part of a form counted); nothing was changed"),
    )
}
