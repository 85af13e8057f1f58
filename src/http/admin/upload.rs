//! Upload a file: first a dry run that shows what was understood (layout, columns used and
//! ignored, every warning with its line), then "store", which pushes the same bytes with the
//! same choices through `push::push`, the path every push takes. The previewed file waits in
//! the session (bounded, see `session`), so "store" sends no file again.

use super::session::Pending;
use super::{page, page_with, see_other, Form, Nav, Rejected, Signed};
use crate::domain::Scope;
use crate::http::error::ApiError;
use crate::http::{upload, AppState};
use crate::ingest::{Mapping, Report};
use crate::phone::Region;
use crate::push::{self, InputFormat, PushRequest, PushResult};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use std::time::Instant;

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

pub async fn preview(
    req: HttpRequest,
    payload: web::Payload,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Push)?;
    // Admitted as a push is: an upload slot, the free-disk floor, then the body under the
    // push's limits (size, parts, rate).
    let _slot = state.uploads.take().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is receiving as many uploads as it takes at once; try again in a moment",
        )
    })?;
    let st = state.clone();
    web::block(move || st.store.check_free_space())
        .await?
        .map_err(ApiError::from)?;
    let sent = upload::read_page_form(&req, payload, &state.upload).await?;
    let f = Form(sent.fields);
    me.check(&f)?;
    let f = &f;
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
    let (file_name, body) = (sent.filename, sent.file);
    if body.is_empty() {
        return Ok(again(
            &mut me,
            StatusCode::BAD_REQUEST,
            "choose a file (CSV or JSON) to upload".into(),
            Vec::new(),
        ));
    }
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
    // Reading a big file is seconds of CPU: a thread of its own at a lower priority, as for
    // pushes.
    let r = crate::jobs::in_background(move || {
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
    .ok_or_else(|| ApiError::internal(&"the push's thread ended without an answer"))?;
    Ok(r?)
}

pub async fn store(
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.form(Scope::Push, &body)?;
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
