//! Reading a pushed file: `multipart/form-data` with a field `file` (what `curl -F` sends),
//! or the file itself as the body (`text/csv`, `application/json`), never more than the
//! configured limit.

use super::error::ApiError;
use crate::push::InputFormat;
use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(Vec<u8>, InputFormat), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(too_large(limit));
    }
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = mime.split(';').next().unwrap_or("").trim().to_owned();
    match essence.as_str() {
        "multipart/form-data" => {
            let (bytes, filename) = read_form(req, payload, limit).await?;
            let json = filename.to_ascii_lowercase().ends_with(".json");
            Ok((bytes, if json { InputFormat::Json } else { InputFormat::Csv }))
        }
        "text/csv" | "text/plain" | "application/csv" | "application/octet-stream"
        | "text/comma-separated-values" | "application/vnd.ms-excel" => {
            Ok((collect(payload, limit).await?, InputFormat::Csv))
        }
        "application/json" => Ok((collect(payload, limit).await?, InputFormat::Json)),
        "" => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request has no Content-Type; push the file as a form (curl -F 'file=@contacts.csv' URL) or as text/csv",
        )),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{other} is not a way to push a file; push it as a form (curl -F 'file=@contacts.csv' URL), as text/csv or as application/json"),
        )),
    }
}

/// The `file` field's bytes and file name.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(Vec<u8>, String), ApiError> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut file = None;
    let mut others = Vec::new();
    // Every field is read to its end, so a cut-off upload is refused rather than half
    // stored. A field must be dropped before the form yields the next one.
    while let Some(field) = form.next().await {
        let mut field = field.map_err(bad_form)?;
        let name = field.name().unwrap_or("").to_owned();
        let keep = name == "file" && file.is_none();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("")
            .to_owned();
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad_form)?;
            if keep {
                if buf.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                buf.extend_from_slice(&chunk);
            }
        }
        if keep {
            file = Some((buf, filename));
        } else {
            others.push(name);
        }
    }
    if let Some(found) = file {
        return Ok(found);
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

async fn collect(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = payload.next().await {
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
        format!("the file is larger than this server accepts ({limit} bytes, --max-upload-bytes); nothing was changed"),
    )
}
