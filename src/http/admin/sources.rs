//! Pulled sources: add one (settings as the API takes them, in JSON), edit it with its
//! secrets masked (`********` keeps the stored secret, as in the API), delete it, sync it now.
//! All through `Syncer` and the store, like the API's routes.

use super::overview::light;
use super::put::{self, put, Named};
use super::{blocking, name_of, page, page_with, see_other, Nav, Rejected, Signed, RUN_WAIT};
use crate::domain::{ApiKey, Scope};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::sources::{source_status, SourceError, SourceStatus};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

/// Settings to start from, per kind (the README has every field).
const EXAMPLES: [(&str, &str); 5] = [
    (
        "carddav",
        "{\n  \"kind\": \"carddav\",\n  \"url\": \"https://cloud.example/remote.php/dav/addressbooks/users/anna/contacts/\",\n  \"username\": \"anna\",\n  \"password\": \"app-password\",\n  \"interval_s\": 3600,\n  \"priority\": 20\n}",
    ),
    (
        "graph",
        "{\n  \"kind\": \"graph\",\n  \"tenant_id\": \"…\",\n  \"client_id\": \"…\",\n  \"client_secret\": \"…\",\n  \"mode\": \"users\",\n  \"priority\": 10\n}",
    ),
    (
        "rest",
        "{\n  \"kind\": \"rest\",\n  \"preset\": \"easyconnect\",\n  \"url\": \"https://pbx.example/ACME/contacts/contact?search=\",\n  \"secret\": \"EASYCONNECT-KEY\"\n}",
    ),
    (
        "google",
        "{\n  \"kind\": \"google\",\n  \"client_id\": \"…\",\n  \"client_secret\": \"…\",\n  \"refresh_token\": \"…\",\n  \"mode\": \"contacts\"\n}",
    ),
    (
        "ldap",
        "{\n  \"kind\": \"ldap\",\n  \"url\": \"ldaps://dc1.corp.example:636\",\n  \"bind_dn\": \"CN=phonedir,OU=Service,DC=corp,DC=example\",\n  \"password\": \"…\",\n  \"base\": \"OU=Staff,DC=corp,DC=example\",\n  \"schema\": \"ad\"\n}",
    ),
];

/// Pulled sources for the add and edit forms (`put`), through `Syncer` like the API.
pub struct Sources;

impl Named for Sources {
    const WHAT: &'static str = "source";

    fn exists(st: &AppState, key: &ApiKey, name: &str) -> Result<bool, ApiError> {
        Ok(st.store.source(key, name)?.is_some())
    }

    fn put(st: &AppState, key: &ApiKey, name: &str, settings: &[u8]) -> Result<(), ApiError> {
        st.syncer
            .put(key, name, settings)
            .map(drop)
            .map_err(source_error)
    }
}

pub struct Row {
    pub s: SourceStatus,
    pub color: &'static str,
}

#[derive(Template)]
#[template(path = "admin/sources.html")]
struct SourcesPage {
    n: Nav,
    rows: Vec<Row>,
    error: Option<String>,
    name: String,
    settings: String,
    examples: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "admin/source.html")]
struct SourcePage {
    n: Nav,
    name: String,
    row: Row,
    settings: String,
    error: Option<String>,
    pulled: bool,
}

fn source_error(e: SourceError) -> ApiError {
    e.into()
}

async fn rows(state: &web::Data<AppState>, me: &Signed) -> Result<Vec<Row>, Rejected> {
    let (st, key) = (state.clone(), me.access.directory.clone());
    let rows = blocking(move || Ok(st.store.source_rows(&key)?)).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let s = source_status(r);
            Row {
                color: light(&s.status),
                s,
            }
        })
        .collect())
}

pub async fn list(mut me: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Admin)?;
    let rows = rows(&state, &me).await?;
    Ok(page(&SourcesPage {
        n: me.nav("sources"),
        rows,
        error: None,
        name: String::new(),
        settings: EXAMPLES[0].1.to_owned(),
        examples: EXAMPLES.to_vec(),
    }))
}

pub async fn add(
    body: web::Bytes,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let name = f.text("name").unwrap_or_default();
    let settings = f.get("settings").unwrap_or("").to_owned();
    match put::<Sources>(&state, &me, put::Form::Add, &name, &settings).await? {
        Ok(()) => {
            me.flash(
                &state,
                true,
                format!("source `{name}` added; it syncs at once if it has an interval"),
                None,
            );
            Ok(see_other(&format!("/admin/sources/{name}")))
        }
        Err(e) => {
            let rows = rows(&state, &me).await?;
            Ok(page_with(
                e.status,
                &SourcesPage {
                    n: me.nav("sources"),
                    rows,
                    error: Some(e.message),
                    name,
                    settings,
                    examples: EXAMPLES.to_vec(),
                },
            ))
        }
    }
}

async fn detail(
    state: &web::Data<AppState>,
    me: &Signed,
    name: &str,
) -> Result<(Row, String, bool), Rejected> {
    let (st, key, n) = (state.clone(), me.access.directory.clone(), name.to_owned());
    let (row, settings) = blocking(move || {
        let v = st.syncer.get(&key, &n).map_err(source_error)?;
        let row = st
            .store
            .source(&key, &n)?
            .ok_or_else(|| source_error(SourceError::UnknownSource))?;
        Ok((row, v))
    })
    .await?;
    let s = source_status(&row);
    let pulled = s.kind != "push";
    let text = serde_json::to_string_pretty(&settings["settings"]).unwrap_or_default();
    Ok((
        Row {
            color: light(&s.status),
            s,
        },
        text,
        pulled,
    ))
}

pub async fn edit(
    req: HttpRequest,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Admin)?;
    let name = name_of(&req);
    let (row, settings, pulled) = detail(&state, &me, &name).await?;
    Ok(page(&SourcePage {
        n: me.nav("sources"),
        name,
        row,
        settings,
        error: None,
        pulled,
    }))
}

pub async fn save(
    req: HttpRequest,
    body: web::Bytes,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let name = name_of(&req);
    let settings = f.get("settings").unwrap_or("").to_owned();
    match put::<Sources>(&state, &me, put::Form::Edit, &name, &settings).await? {
        Ok(()) => {
            me.flash(&state, true, format!("source `{name}` saved"), None);
            Ok(see_other(&format!("/admin/sources/{name}")))
        }
        Err(e) => {
            let (row, _, pulled) = detail(&state, &me, &name).await?;
            Ok(page_with(
                e.status,
                &SourcePage {
                    n: me.nav("sources"),
                    name,
                    row,
                    settings,
                    error: Some(e.message),
                    pulled,
                },
            ))
        }
    }
}

pub async fn delete(
    req: HttpRequest,
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.form(Scope::Admin, &body)?;
    let name = name_of(&req);
    let (st, key, n) = (state.clone(), me.access.directory.clone(), name.clone());
    let gone = blocking(move || Ok(st.store.delete_source(&key, &n)?)).await?;
    if gone {
        me.flash(
            &state,
            true,
            format!("source `{name}` and its contacts were removed"),
            None,
        );
    } else {
        me.flash(&state, false, format!("there is no source `{name}`"), None);
    }
    Ok(see_other("/admin/sources"))
}

/// Runs a sync now and waits up to `RUN_WAIT` for it; the page it goes back to shows the
/// light.
pub async fn sync(
    req: HttpRequest,
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let name = name_of(&req);
    let back = match f.get("back") {
        Some("source") => format!("/admin/sources/{name}"),
        _ => "/admin".to_owned(),
    };
    let (st, key, n) = (state.clone(), me.access.directory.clone(), name.clone());
    // Started on the job runner like the API's "sync now"; waiting holds no thread.
    let outcome = match web::block(move || st.syncer.start(&key, &n)).await? {
        Ok(o) => o,
        Err(e) => {
            me.flash(&state, false, source_error(e).message, None);
            return Ok(see_other(&back));
        }
    };
    match actix_web::rt::time::timeout(RUN_WAIT, outcome).await {
        Err(_) => me.flash(
            &state,
            true,
            format!("the sync of `{name}` goes on; its light shows the result when it ends"),
            None,
        ),
        Ok(Err(_)) => me.flash(
            &state,
            false,
            format!("the sync of `{name}` ended without an answer; the server log has the details"),
            None,
        ),
        Ok(Ok(Ok(row))) if row.status == "error" => me.flash(
            &state,
            false,
            format!(
                "the sync of `{name}` failed, the contacts of the last good sync are kept: {}",
                row.last_error.unwrap_or_default()
            ),
            None,
        ),
        Ok(Ok(Ok(row))) => me.flash(
            &state,
            true,
            format!("`{name}` synced: {} contacts", row.contacts),
            None,
        ),
        Ok(Ok(Err(e))) => me.flash(&state, false, source_error(e).message, None),
    }
    Ok(see_other(&back))
}
