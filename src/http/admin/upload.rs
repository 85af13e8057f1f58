//! Upload a file: first a dry run that shows what was understood (layout, columns used and
//! ignored, every warning with its line), then "store", which pushes the same bytes with the
//! same choices through `push::push`, the path every push takes. The previewed file waits in
//! the session (bounded, see `session`), so "store" sends no file again.

use super::session::Pending;
use super::{page, page_with, see_other, Form, Nav, Rejected, Signed};
use crate::domain::Scope;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::ingest::{Mapping, Report};
use crate::phone::Region;
use crate::push::{self, InputFormat, PushRequest, PushResult};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use std::time::Instant;

/// Most parts an upload form may have (it has seven).
const MAX_PARTS: usize = 16;
/// Longest text field of the form (the column map is the longest).
const MAX_FIELD: usize = 4096;

#[derive(Template)]
#[template(path = "admin/upload.html")]
struct Upload {
    n: Nav,
    error: Option<String>,
    problems: Vec<Problem>,
    source: String,
    region: String,
    map: String,
}

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct Preview {
    n: Nav,
    file_name: String,
    r: PushResult,
    report: Report,
}

/// A row-level problem as the page lists it.
pub struct Problem {
    pub line: String,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl Problem {
    /// From an error's `details` entry (`{"line", "column", "value", "message"}` or parts).
    fn from_detail(v: &serde_json::Value) -> Problem {
        let text = |k: &str| match &v[k] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut message = text("message");
        if message.is_empty() {
            // Column lists and the like.
            message = v.to_string();
        }
        Problem {
            line: text("line"),
            column: text("column"),
            value: text("value"),
            message,
        }
    }
}

pub async fn form(mut me: Signed) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Push)?;
    Ok(page(&Upload {
        n: me.nav("upload"),
        error: None,
        problems: Vec::new(),
        source: "push".into(),
        region: me
            .directory
            .settings
            .region
            .map(|r| r.code().to_owned())
            .unwrap_or_default(),
        map: String::new(),
    }))
}

/// The form's fields and its file.
struct Sent {
    fields: Form,
    file: Option<(String, Vec<u8>)>,
}

async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Sent, ApiError> {
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the form cannot be read ({e}); nothing was changed"),
        )
    };
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the file is larger than this server accepts ({limit} bytes); nothing was changed"
            ),
        )
    };
    let mut form = Multipart::new(req.headers(), payload);
    let mut fields = Vec::new();
    let mut file = None;
    let mut total = 0usize;
    let mut parts = 0;
    while let Some(field) = form.next().await {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "the form has too many fields",
            ));
        }
        let mut field = field.map_err(bad)?;
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let cap = if name == "file" { limit } else { MAX_FIELD };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            total += chunk.len();
            if buf.len() + chunk.len() > cap || total > limit + 64 * 1024 {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        if name == "file" {
            file = Some((file_name.unwrap_or_default(), buf));
        } else {
            fields.push((name, String::from_utf8_lossy(&buf).into_owned()));
        }
    }
    Ok(Sent {
        fields: Form(fields),
        file,
    })
}

pub async fn preview(
    req: HttpRequest,
    payload: web::Payload,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Push)?;
    let sent = read_form(&req, payload, state.max_upload_bytes).await?;
    me.check(&sent.fields)?;
    let f = &sent.fields;
    let source = f.text("source").unwrap_or_else(|| "push".into());
    let region_text = f.text("region").unwrap_or_default();
    let map_text = f.text("map").unwrap_or_default();
    let again = |me: &mut Signed, status: StatusCode, error: String, problems: Vec<Problem>| {
        page_with(
            status,
            &Upload {
                n: me.nav("upload"),
                error: Some(error),
                problems,
                source: source.clone(),
                region: region_text.clone(),
                map: map_text.clone(),
            },
        )
    };
    let region = match Some(region_text.as_str())
        .filter(|r| !r.is_empty())
        .map(str::parse::<Region>)
    {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            return Ok(again(
                &mut me,
                StatusCode::BAD_REQUEST,
                e.to_string(),
                Vec::new(),
            ))
        }
    };
    let map = match Some(map_text.as_str())
        .filter(|m| !m.is_empty())
        .map(str::parse::<Mapping>)
    {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            return Ok(again(
                &mut me,
                StatusCode::BAD_REQUEST,
                e.to_string(),
                Vec::new(),
            ))
        }
    };
    let Some((file_name, body)) = sent.file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(again(
            &mut me,
            StatusCode::BAD_REQUEST,
            "choose a file (CSV or JSON) to upload".into(),
            Vec::new(),
        ));
    };
    let format = if file_name.to_ascii_lowercase().ends_with(".json") {
        InputFormat::Json
    } else {
        InputFormat::Csv
    };
    let pending = Pending {
        body,
        format,
        file_name,
        source: source.clone(),
        region,
        map,
        allow_empty: f.checked("allow_empty"),
        force: f.checked("force"),
        created: Instant::now(),
    };
    match run(&state, &me, &pending, true).await {
        Ok(r) => {
            let file_name = pending.file_name.clone();
            if !state.admin.hold(&me.id, pending) {
                return Ok(again(
                    &mut me,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server holds as many previewed files as it may; try again in a few minutes".into(),
                    Vec::new(),
                ));
            }
            let report = r.report.clone();
            Ok(page(&Preview {
                n: me.nav("upload"),
                file_name,
                r,
                report,
            }))
        }
        Err(e) => {
            let problems = e.details.iter().map(Problem::from_detail).collect();
            Ok(again(&mut me, e.status, e.message, problems))
        }
    }
}

/// Pushes the previewed file: a dry run, or for real.
async fn run(
    state: &web::Data<AppState>,
    me: &Signed,
    p: &Pending,
    dry_run: bool,
) -> Result<PushResult, ApiError> {
    let (st, key, p) = (state.clone(), me.access.directory.clone(), p.clone());
    let r = web::block(move || {
        push::push(
            &st.store,
            &st.limits,
            &PushRequest {
                key: &key,
                source: &p.source,
                body: &p.body,
                format: p.format,
                map: p.map.as_ref(),
                force: p.force,
                region: p.region,
                allow_empty: p.allow_empty,
                dry_run,
            },
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(r?)
}

pub async fn store(
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Push)?;
    me.check(&Form::parse(&body))?;
    let pending = state.admin.with(&me.id, |s| s.pending.take()).flatten();
    let Some(p) = pending else {
        me.flash(
            &state,
            false,
            "there is no previewed file to store (it is kept for 15 minutes); upload it again",
            None,
        );
        return Ok(see_other("/admin/upload"));
    };
    match run(&state, &me, &p, false).await {
        Ok(r) => {
            tracing::info!(
                directory = %me.access.directory.masked(),
                source = %r.source,
                contacts = r.contacts,
                version = r.version,
                "admin upload stored"
            );
            let text = if r.changed {
                format!(
                    "stored {} contacts from {} as source `{}`; the directory is at version {}",
                    r.contacts, p.file_name, r.source, r.version
                )
            } else {
                format!(
                    "source `{}` already held exactly these {} contacts; nothing changed",
                    r.source, r.contacts
                )
            };
            me.flash(&state, true, text, None);
            Ok(see_other("/admin/book"))
        }
        Err(e) => {
            me.flash(&state, false, e.message, None);
            Ok(see_other("/admin/upload"))
        }
    }
}
