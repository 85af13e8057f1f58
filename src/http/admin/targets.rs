//! Targets, the PBXs the book is written into: the list with their lights, add one (settings
//! as the API takes them, in JSON), edit it with its secrets masked (`********` keeps the
//! stored secret, as in the API), delete it, see what a run would write (a dry run's plan)
//! and write now. All through `Targets`, like the API's routes (src/http/targets.rs).

use super::overview::{target_light, Light};
use super::put::{self, put, Named};
use super::{blocking, name_of, page, page_with, see_other, Nav, Rejected, Signed, RUN_WAIT};
use crate::book::Book;
use crate::domain::{ApiKey, ContactId, Scope};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::targets::{target_status, Request, TargetDetail, TargetError, TargetStatus, Why};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::Value;
use std::sync::Arc;

/// Settings to start from, per kind: the examples of docs/targets.md, which has every field.
const EXAMPLES: [(&str, &str); 5] = [
    (
        "innovaphone",
        "{\n  \"kind\": \"innovaphone\",\n  \"url\": \"https://pbx.example/example.com/contacts\",\n  \"username\": \"phonedir\",\n  \"password\": \"…\",\n  \"phonebook\": \"Company\"\n}",
    ),
    (
        "easyconnect",
        "{\n  \"kind\": \"easyconnect\",\n  \"url\": \"https://pbx.example/example.com/easyconnect\",\n  \"apikey\": \"…\",\n  \"dbsid\": \"4\"\n}",
    ),
    (
        "3cx",
        "{\n  \"kind\": \"3cx\",\n  \"url\": \"https://pbx.example\",\n  \"client_id\": \"phonedir\",\n  \"client_secret\": \"…\"\n}",
    ),
    ("placetel", "{\n  \"kind\": \"placetel\",\n  \"token\": \"…\"\n}"),
    (
        "fritzbox",
        "{\n  \"kind\": \"fritzbox\",\n  \"url\": \"http://192.168.178.1:49000\",\n  \"username\": \"phonedir\",\n  \"password\": \"…\",\n  \"phonebook\": \"Firma\"\n}",
    ),
];

/// Targets for the add and edit forms (`put`), through `Targets` like the API.
struct Targets;

impl Named for Targets {
    const WHAT: &'static str = "target";

    fn exists(st: &AppState, key: &ApiKey, name: &str) -> Result<bool, ApiError> {
        Ok(st.store.target(key, name)?.is_some())
    }

    fn put(st: &AppState, key: &ApiKey, name: &str, settings: &[u8]) -> Result<(), ApiError> {
        Ok(st.targets.put(key, name, settings).map(drop)?)
    }
}

/// Entries a list of the plan or the last run shows at most; the counts are always whole.
const SHOWN: usize = 200;

#[derive(Template)]
#[template(path = "admin/targets.html")]
struct TargetsPage {
    n: Nav,
    lights: Vec<Light>,
    /// Where "write now" goes back to: this page.
    back: &'static str,
    error: Option<String>,
    name: String,
    settings: String,
    examples: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "admin/target.html")]
struct TargetPage {
    n: Nav,
    name: String,
    l: Light,
    t: TargetStatus,
    settings: String,
    error: Option<String>,
    last_run: Option<Run>,
    plan: Option<Plan>,
}

/// A contact named in a plan or a run: its id, its name in the book (when it is still
/// there), and what is done to it or why not.
pub struct Item {
    pub contact: String,
    pub name: Option<String>,
    pub what: String,
}

/// One list of a plan or run: every entry counted, the first `SHOWN` listed.
pub struct Part {
    /// `create`, `update`, …: the element ids of the page.
    pub key: &'static str,
    pub title: &'static str,
    pub total: usize,
    pub items: Vec<Item>,
}

impl Part {
    pub fn more(&self) -> usize {
        self.total.saturating_sub(self.items.len())
    }
}

/// A dry run's plan as the page shows it.
pub struct Plan {
    /// When it was made (absent for a refused plan, which is made now).
    pub at: Option<String>,
    /// Why it writes nothing at all (the shrink guard), for a refused plan.
    pub refused: Option<String>,
    pub unchanged: u64,
    pub parts: Vec<Part>,
}

/// The last run as the page shows it.
pub struct Run {
    pub at: String,
    pub mode: String,
    pub version: Option<u64>,
    pub counts: Vec<(&'static str, u64)>,
    pub stopped: Option<String>,
    pub parts: Vec<Part>,
}

/// The counts of a run, in the order the page lists them.
const COUNTS: [&str; 7] = [
    "created",
    "updated",
    "deleted",
    "skipped",
    "failed",
    "unchanged",
    "warnings",
];

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The list `key` of a plan or run; `what` says what is done to one entry. `total` counts
/// entries the stored list left out (a run keeps only the first few).
fn part(
    v: &Value,
    key: &'static str,
    title: &'static str,
    total: Option<u64>,
    book: Option<&Book>,
    what: impl Fn(&Value) -> String,
) -> Part {
    let all = v
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let items = all
        .iter()
        .take(SHOWN)
        .map(|e| {
            let contact = text(e, "contact");
            let name = ContactId::parse(&contact)
                .and_then(|id| book.and_then(|b| b.get(id)))
                .map(|c| c.display_name.clone());
            Item {
                contact,
                name,
                what: what(e),
            }
        })
        .collect();
    Part {
        key,
        title,
        total: usize::try_from(total.unwrap_or(0))
            .unwrap_or(usize::MAX)
            .max(all.len()),
        items,
    }
}

/// What an update changes, field by field: `Business: +49 231 1 → +492311`.
fn changes(e: &Value) -> String {
    let mut out: Vec<String> = e
        .get("changes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(field, c)| {
                    let (from, to) = (text(c, "from"), text(c, "to"));
                    let shown = |s: &str| {
                        if s.is_empty() {
                            "—".to_owned()
                        } else {
                            s.to_owned()
                        }
                    };
                    format!("{field}: {} → {}", shown(&from), shown(&to))
                })
                .collect()
        })
        .unwrap_or_default();
    if e.get("adopted").and_then(Value::as_bool) == Some(true) {
        out.insert(0, "adopted (an entry already in the PBX)".into());
    }
    format!("entry {}: {}", text(e, "remote_id"), out.join("; "))
}

fn plan_view(v: &Value, refused: Option<String>, book: Option<&Book>) -> Plan {
    Plan {
        at: v.get("at").and_then(Value::as_str).map(str::to_owned),
        refused,
        unchanged: v.get("unchanged").and_then(Value::as_u64).unwrap_or(0),
        parts: vec![
            part(v, "create", "Create", None, book, |e| {
                format!("a new entry “{}”", text(e, "name"))
            }),
            part(v, "update", "Update", None, book, changes),
            part(v, "delete", "Delete", None, book, |e| {
                format!("entry {}", text(e, "remote_id"))
            }),
            part(v, "skipped", "Skipped", None, book, |e| text(e, "reason")),
            part(v, "warnings", "Warnings", None, book, |e| {
                text(e, "warning")
            }),
        ],
    }
}

fn run_view(v: &Value, book: Option<&Book>) -> Option<Run> {
    let at = v.get("at")?.as_str()?.to_owned();
    let counts = v.get("counts");
    let count = |k: &str| counts.and_then(|c| c.get(k)).and_then(Value::as_u64);
    Some(Run {
        at,
        mode: text(v, "mode"),
        version: v.get("version").and_then(Value::as_u64),
        counts: COUNTS
            .iter()
            .filter_map(|k| count(k).map(|n| (*k, n)))
            .collect(),
        stopped: v.get("stopped").and_then(Value::as_str).map(str::to_owned),
        parts: vec![
            part(v, "failures", "Failed", count("failed"), book, |e| {
                text(e, "error")
            }),
            part(v, "skipped", "Skipped", count("skipped"), book, |e| {
                text(e, "reason")
            }),
        ],
    })
}

async fn lights(state: &web::Data<AppState>, me: &Signed) -> Result<Vec<Light>, Rejected> {
    let (st, key) = (state.clone(), me.access.directory.clone());
    let rows = blocking(move || Ok(st.store.target_rows(&key)?)).await?;
    Ok(rows
        .iter()
        .map(|r| target_light(&target_status(r)))
        .collect())
}

fn list_page(
    me: &mut Signed,
    lights: Vec<Light>,
    error: Option<String>,
    name: String,
    settings: String,
) -> TargetsPage {
    TargetsPage {
        n: me.nav("targets"),
        lights,
        back: "targets",
        error,
        name,
        settings,
        examples: EXAMPLES.to_vec(),
    }
}

pub async fn list(mut me: Signed, state: web::Data<AppState>) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Admin)?;
    let lights = lights(&state, &me).await?;
    let first = EXAMPLES[0].1.to_owned();
    Ok(page(&list_page(
        &mut me,
        lights,
        None,
        String::new(),
        first,
    )))
}

pub async fn add(
    body: web::Bytes,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let name = f.text("name").unwrap_or_default();
    let settings = f.get("settings").unwrap_or("").to_owned();
    match put::<Targets>(&state, &me, put::Form::Add, &name, &settings).await? {
        Ok(()) => {
            me.flash(
                &state,
                true,
                format!(
                    "target `{name}` added; make a plan to see what it would write — it writes by itself after its debounce"
                ),
                None,
            );
            Ok(see_other(&format!("/admin/targets/{name}")))
        }
        Err(e) => {
            let lights = lights(&state, &me).await?;
            Ok(page_with(
                e.status,
                &list_page(&mut me, lights, Some(e.message), name, settings),
            ))
        }
    }
}

/// The target's settings (masked), status and last plan, and the book to name contacts by.
async fn detail(
    state: &web::Data<AppState>,
    me: &Signed,
    name: &str,
) -> Result<(TargetDetail, Option<Arc<Book>>), Rejected> {
    let (st, key, n) = (state.clone(), me.access.directory.clone(), name.to_owned());
    blocking(move || {
        let d = st.targets.get(&key, &n)?;
        // Names only: a book that cannot be read leaves the page with contact ids.
        let book = st.books.get(&key).ok().flatten();
        Ok((d, book))
    })
    .await
}

/// The target's page; `settings` and `error` are a refused form's, `refused` a plan the
/// shrink guard refused (shown instead of the last stored one).
async fn target_page(
    state: &web::Data<AppState>,
    me: &mut Signed,
    name: String,
    settings: Option<String>,
    error: Option<String>,
    refused: Option<(String, Value)>,
) -> Result<TargetPage, Rejected> {
    let (d, book) = detail(state, me, &name).await?;
    let book = book.as_deref();
    let plan = match refused {
        Some((why, plan)) => Some(plan_view(&plan, Some(why), book)),
        None => (!d.last_dry_run.is_null()).then(|| plan_view(&d.last_dry_run, None, book)),
    };
    Ok(TargetPage {
        n: me.nav("targets"),
        l: target_light(&d.status),
        last_run: d.status.last_run.as_ref().and_then(|r| run_view(r, book)),
        t: d.status,
        settings: settings
            .unwrap_or_else(|| serde_json::to_string_pretty(&d.settings).unwrap_or_default()),
        name,
        error,
        plan,
    })
}

pub async fn edit(
    req: HttpRequest,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.need(Scope::Admin)?;
    let p = target_page(&state, &mut me, name_of(&req), None, None, None).await?;
    Ok(page(&p))
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
    match put::<Targets>(&state, &me, put::Form::Edit, &name, &settings).await? {
        Ok(()) => {
            me.flash(&state, true, format!("target `{name}` saved"), None);
            Ok(see_other(&format!("/admin/targets/{name}")))
        }
        Err(e) => {
            let p =
                target_page(&state, &mut me, name, Some(settings), Some(e.message), None).await?;
            Ok(page_with(e.status, &p))
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
    if blocking(move || Ok(st.targets.delete(&key, &n)?)).await? {
        me.flash(
            &state,
            true,
            format!("target `{name}` removed; the entries it wrote stay in the PBX"),
            None,
        );
    } else {
        me.flash(&state, false, format!("there is no target `{name}`"), None);
    }
    Ok(see_other("/admin/targets"))
}

/// Starts a run of the target on the job runner, as the API's `POST …/targets/{name}/sync`;
/// `Ok(Err(_))` is a run that could not start (one goes on, the server is busy).
async fn start(
    state: &web::Data<AppState>,
    me: &Signed,
    name: &str,
    dry_run: bool,
    force: bool,
) -> Result<Result<crate::targets::Receiver, TargetError>, Rejected> {
    let (st, key, n) = (state.clone(), me.access.directory.clone(), name.to_owned());
    let run = Request {
        why: Why::Demand,
        dry_run,
        force,
    };
    match web::block(move || st.targets.start(&key, &n, run)).await? {
        // No such target: a page of its own, not a note on a page that is not there.
        Err(TargetError::Unknown) => Err(ApiError::from(TargetError::Unknown).into()),
        started => Ok(started),
    }
}

/// "Plan (dry run)": what a run would write, writing nothing. The plan is kept with the
/// target, so its page shows it; a plan the shrink guard refuses is shown at once.
pub async fn plan(
    req: HttpRequest,
    body: web::Bytes,
    mut me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    me.form(Scope::Admin, &body)?;
    let name = name_of(&req);
    let back = format!("/admin/targets/{name}");
    let outcome = match start(&state, &me, &name, true, false).await? {
        Ok(o) => o,
        Err(e) => {
            me.flash(&state, false, ApiError::from(e).message, None);
            return Ok(see_other(&back));
        }
    };
    let (ok, message) = match actix_web::rt::time::timeout(RUN_WAIT, outcome).await {
        Err(_) => (
            true,
            "the plan is being made (the PBX is read first); reload this page to see it".into(),
        ),
        Ok(Err(_)) => (
            false,
            format!("the plan of `{name}` ended without an answer; the server log has the details"),
        ),
        Ok(Ok(Err(TargetError::Refused { reason, plan }))) => {
            let p = target_page(&state, &mut me, name, None, None, Some((reason, plan))).await?;
            return Ok(page_with(StatusCode::CONFLICT, &p));
        }
        Ok(Ok(Err(e))) => (false, format!("no plan: {}", ApiError::from(e).message)),
        Ok(Ok(Ok(_))) => (true, "the plan is below; nothing was written".into()),
    };
    me.flash(&state, ok, message, None);
    Ok(see_other(&back))
}

/// "Write now": starts a run and waits up to `RUN_WAIT` for it; the page it goes back to (the
/// overview, or the target's page with `back=target`) shows the light. `force` writes although
/// the book shrank more than the target's `max_delete_percent`.
pub async fn sync(
    req: HttpRequest,
    body: web::Bytes,
    me: Signed,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Rejected> {
    let f = me.form(Scope::Admin, &body)?;
    let name = name_of(&req);
    let back = match f.get("back") {
        Some("target") => format!("/admin/targets/{name}"),
        Some("targets") => "/admin/targets".to_owned(),
        _ => "/admin".to_owned(),
    };
    let outcome = match start(&state, &me, &name, false, f.checked("force")).await? {
        Ok(o) => o,
        Err(e) => {
            me.flash(&state, false, ApiError::from(e).message, None);
            return Ok(see_other(&back));
        }
    };
    let (ok, message) = match actix_web::rt::time::timeout(RUN_WAIT, outcome).await {
        Err(_) => (
            true,
            format!("target `{name}` is being written; its light shows the result when it ends"),
        ),
        Ok(Err(_)) => (
            false,
            format!("the run of `{name}` ended without an answer; the server log has the details"),
        ),
        Ok(Ok(Err(e))) => (false, ApiError::from(e).message),
        Ok(Ok(Ok(o))) => match o.stopped {
            Some(why) => (
                false,
                format!("the run of `{name}` stopped; what was written is recorded: {why}"),
            ),
            None => {
                let c = &o.status["counts"];
                let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
                (
                    n("failed") == 0,
                    format!(
                        "target `{name}` written: {} created, {} updated, {} deleted, {} failed, {} skipped, {} unchanged",
                        n("created"),
                        n("updated"),
                        n("deleted"),
                        n("failed"),
                        n("skipped"),
                        n("unchanged")
                    ),
                )
            }
        },
    };
    me.flash(&state, ok, message, None);
    Ok(see_other(&back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::spec::TargetConfig;

    /// Every example on the page is settings the API takes, one per kind.
    #[test]
    fn examples_parse_and_cover_every_kind() {
        let mut kinds = Vec::new();
        for (kind, text) in EXAMPLES {
            let cfg = TargetConfig::parse(text.as_bytes())
                .unwrap_or_else(|e| panic!("{kind}: {e}: {text}"));
            assert_eq!(cfg.spec.kind(), kind);
            kinds.push(kind);
        }
        kinds.sort_unstable();
        assert_eq!(
            kinds,
            ["3cx", "easyconnect", "fritzbox", "innovaphone", "placetel"]
        );
    }

    #[test]
    fn a_plan_lists_each_part_and_counts_what_it_leaves_out() {
        let creates: Vec<Value> = (0..SHOWN + 5)
            .map(|i| serde_json::json!({"contact": format!("{i:016x}"), "name": format!("P{i}")}))
            .collect();
        let v = serde_json::json!({
            "create": creates,
            "update": [{"contact": "00000000000000aa", "remote_id": "17",
                        "changes": {"Business": {"from": "+49 231 1", "to": "+492311"}},
                        "adopted": true}],
            "delete": [], "skipped": [{"contact": "00000000000000bb", "reason": "two entries"}],
            "unchanged": 3, "warnings": [], "at": "2026-01-01T00:00:00Z",
        });
        let p = plan_view(&v, None, None);
        assert_eq!(p.unchanged, 3);
        assert_eq!(p.at.as_deref(), Some("2026-01-01T00:00:00Z"));
        let create = &p.parts[0];
        assert_eq!((create.total, create.items.len()), (SHOWN + 5, SHOWN));
        assert_eq!(create.more(), 5);
        let update = &p.parts[1].items[0].what;
        assert!(update.contains("adopted"), "{update}");
        assert!(update.contains("Business: +49 231 1 → +492311"), "{update}");
        assert_eq!(p.parts[3].items[0].what, "two entries");
    }

    #[test]
    fn a_run_counts_skipped_entries_its_status_left_out() {
        let v = serde_json::json!({
            "at": "2026-01-01T00:00:00Z", "mode": "full", "version": 4,
            "counts": {"created": 2, "updated": 0, "deleted": 0, "skipped": 30, "failed": 0,
                       "unchanged": 1, "warnings": 0},
            "failures": [], "skipped": [{"contact": "00000000000000bb", "reason": "r"}],
            "stopped": null,
        });
        let r = run_view(&v, None).expect("a run");
        assert_eq!(r.counts[0], ("created", 2));
        assert_eq!(r.parts[1].total, 30);
        assert_eq!(r.parts[1].items.len(), 1);
        assert!(r.stopped.is_none());
        // A run that failed as a whole has no counts, only its time (the error is the
        // target's last error).
        let failed = run_view(&serde_json::json!({"at": "t", "error": "x"}), None).unwrap();
        assert!(failed.counts.is_empty());
    }
}
