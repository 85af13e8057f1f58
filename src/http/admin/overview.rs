//! The overview: the directory's name, version and counts, a light for every source and
//! every target (each is one `Light`), and the device warnings.

use super::{blocking, page, Nav, Rejected, Signed};
use crate::http::api::{directory_status, DirectoryStatus};
use crate::http::AppState;
use crate::store::SourceSummary;
use crate::targets::TargetStatus;
use actix_web::{web, HttpResponse};
use askama::Template;

/// One row of the status list: a source or a target, with a green, amber or red light.
pub struct Light {
    /// `green`, `amber` or `red`: the CSS class and the word a screen reader says.
    pub color: &'static str,
    /// `source` or `target`.
    pub what: &'static str,
    pub name: String,
    pub kind: String,
    pub status: String,
    /// Contacts a source holds; for a target, the entries it wrote in its last run.
    pub contacts: usize,
    pub last_success: String,
    pub last_error: Option<String>,
    pub next_run: String,
    /// What the last good sync could not use: how many, and the first of them in words.
    pub warning_count: usize,
    pub warnings: Vec<String>,
    /// Whether "sync now" applies (a pulled source, a target).
    pub syncable: bool,
}

/// Green: the last run worked. Amber: not run yet, or running. Red: the last run failed
/// (its contacts from the last good run are still served).
pub fn light(status: &str) -> &'static str {
    match status {
        "ok" => "green",
        "error" => "red",
        _ => "amber",
    }
}

fn source_light(s: &SourceSummary) -> Light {
    Light {
        color: light(&s.status),
        what: "source",
        name: s.name.clone(),
        kind: s.kind.clone(),
        status: s.status.replace('_', " "),
        contacts: s.contacts,
        last_success: s.last_success.clone().unwrap_or_else(|| "never".into()),
        last_error: s.last_error.clone(),
        next_run: s.next_run.clone().unwrap_or_else(|| {
            if s.kind == "push" {
                "on push"
            } else {
                "on demand"
            }
            .into()
        }),
        warning_count: s.warnings.count,
        warnings: s
            .warnings
            .first
            .iter()
            .map(|w| format!("{} {} `{}`: {}", w.record, w.field, w.value, w.message))
            .collect(),
        syncable: s.kind != "push",
    }
}

/// Every light of the status, in the order the status lists them.
pub fn lights(status: &DirectoryStatus) -> Vec<Light> {
    let sources = status.sources.iter().map(source_light);
    sources
        .chain(status.targets.iter().map(target_light))
        .collect()
}

pub fn target_light(t: &TargetStatus) -> Light {
    let counts = t.counts.as_ref();
    let count = |k: &str| {
        counts
            .and_then(|c| c.get(k))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    Light {
        color: light(&t.status),
        what: "target",
        name: t.name.clone(),
        kind: t.kind.clone(),
        status: t.status.replace('_', " "),
        contacts: usize::try_from(count("created") + count("updated") + count("unchanged"))
            .unwrap_or(usize::MAX),
        last_success: t.last_success.clone().unwrap_or_else(|| "never".into()),
        last_error: t.last_error.clone(),
        next_run: t
            .next_run
            .clone()
            .unwrap_or_else(|| "after the next change".into()),
        warning_count: 0,
        warnings: Vec::new(),
        syncable: true,
    }
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct Overview {
    n: Nav,
    s: DirectoryStatus,
    lights: Vec<Light>,
    red: usize,
    /// Where "sync now" and "write now" go back to: here (the overview).
    back: &'static str,
}

pub async fn show(mut me: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Rejected> {
    let (st, key) = (state.clone(), me.access.directory.clone());
    let s = blocking(move || directory_status(&st, &key)).await?;
    let lights = lights(&s);
    let red = lights.iter().filter(|l| l.color == "red").count();
    Ok(page(&Overview {
        n: me.nav("overview"),
        s,
        lights,
        red,
        back: "",
    }))
}
