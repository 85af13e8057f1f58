//! What the server counts for Prometheus: requests by route and status, the render cache,
//! book builds, pushes and syncs by source kind, target writes. Rendered as the Prometheus
//! text exposition format (0.0.4) by `render`; `http::metrics` serves it.
//!
//! Label values are never taken from a request or a customer: routes are the matched route
//! patterns (`/contacts/{key}/yealink/v1`, never a key), kinds and methods come from fixed
//! lists (anything else is `other`), so no key, directory or source name can reach a label
//! and the number of series is bounded by the code, not by the traffic.
//!
//! One registry per process (`global`): the points that count live in layers that know
//! nothing of HTTP (the store's book builds, pushes, the sync runner), and threading a handle
//! through each of them would only add a parameter to every constructor.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

/// Upper bounds (seconds) of the duration histograms' buckets: a cached phone book is
/// answered in well under a millisecond, a big sync may take minutes.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
];

/// Most route patterns counted apart; the app has a few dozen, this only guards the bound.
const MAX_ROUTES: usize = 256;

/// Source kinds a label may name (pushes are kind `push`).
const SOURCE_KINDS: [&str; 6] = ["push", "graph", "carddav", "rest", "google", "ldap"];

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND", "REPORT",
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    /// Count per bucket (not cumulative; summed when rendered), then +Inf.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let i = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += seconds;
    }
}

/// How a push, sync or target write ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }

    pub fn of<T, E>(r: &Result<T, E>) -> Outcome {
        if r.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Failed
        }
    }
}

#[derive(Default)]
struct Inner {
    /// Interned route patterns; a request's route is its index here.
    routes: Vec<String>,
    requests: BTreeMap<(usize, &'static str, u16), u64>,
    request_seconds: BTreeMap<usize, Histogram>,
    source_runs: BTreeMap<(&'static str, Outcome), u64>,
    source_seconds: BTreeMap<&'static str, Histogram>,
    target_writes: BTreeMap<(&'static str, Outcome), u64>,
    book_build_seconds: Histogram,
}

pub struct Metrics {
    inner: Mutex<Inner>,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's registry.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            inner: Mutex::new(Inner::default()),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request. `route` is the matched route pattern (None: no route matched).
    pub fn request(&self, route: Option<&str>, method: &str, status: u16, took: Duration) {
        let method = METHODS
            .iter()
            .find(|m| m.eq_ignore_ascii_case(method))
            .copied()
            .unwrap_or("other");
        let mut m = self.lock();
        let route = route.unwrap_or("unmatched");
        let i = match m.routes.iter().position(|r| r == route) {
            Some(i) => i,
            None if m.routes.len() < MAX_ROUTES => {
                m.routes.push(route.to_owned());
                m.routes.len() - 1
            }
            None => match m.routes.iter().position(|r| r == "other") {
                Some(i) => i,
                None => {
                    // The last slot is given to `other` for good.
                    let last = m.routes.len() - 1;
                    m.routes[last] = "other".to_owned();
                    last
                }
            },
        };
        *m.requests.entry((i, method, status)).or_default() += 1;
        m.request_seconds
            .entry(i)
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// A phone book answered from the render cache.
    pub fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// A phone book rendered because the render cache did not hold it.
    pub fn cache_miss(&self) {
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
    }

    /// A book built (merged and indexed) from the database.
    pub fn book_built(&self, took: Duration) {
        self.lock().book_build_seconds.observe(took.as_secs_f64());
    }

    /// A push (kind `push`) or a pulled source's sync ended.
    pub fn source_run(&self, kind: &str, outcome: Outcome, took: Duration) {
        let kind = SOURCE_KINDS
            .iter()
            .find(|k| **k == kind)
            .copied()
            .unwrap_or("other");
        let mut m = self.lock();
        *m.source_runs.entry((kind, outcome)).or_default() += 1;
        m.source_seconds
            .entry(kind)
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// A target wrote (or failed to write) the book into a PBX; `kind` is the target's kind
    /// as the code names it, never anything a customer typed.
    pub fn target_write(&self, kind: &'static str, outcome: Outcome) {
        self.target_writes(kind, outcome, 1);
    }

    /// `n` writes (creates, updates, deletes, uploads) the PBX confirmed or refused.
    pub fn target_writes(&self, kind: &'static str, outcome: Outcome, n: u64) {
        *self
            .lock()
            .target_writes
            .entry((kind, outcome))
            .or_default() += n;
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::with_capacity(4096);
        let route = |i: &usize| m.routes.get(*i).map_or("other", String::as_str);

        header(
            &mut out,
            "phonedir_http_requests_total",
            "counter",
            "Requests answered, by matched route pattern, method and status.",
        );
        for ((r, method, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "phonedir_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route(r))
            );
        }
        header(
            &mut out,
            "phonedir_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer, by matched route pattern.",
        );
        for (r, h) in &m.request_seconds {
            histogram(
                &mut out,
                "phonedir_http_request_duration_seconds",
                &format!("route=\"{}\"", escape(route(r))),
                h,
            );
        }

        header(
            &mut out,
            "phonedir_render_cache_hits_total",
            "counter",
            "Phone books answered from the render cache.",
        );
        let _ = writeln!(
            out,
            "phonedir_render_cache_hits_total {}",
            self.cache_hits.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "phonedir_render_cache_misses_total",
            "counter",
            "Phone books rendered because the render cache did not hold them.",
        );
        let _ = writeln!(
            out,
            "phonedir_render_cache_misses_total {}",
            self.cache_misses.load(Ordering::Relaxed)
        );

        header(
            &mut out,
            "phonedir_book_build_duration_seconds",
            "histogram",
            "Books built (merged and indexed) from the database, and how long each took; the count is the number of builds.",
        );
        histogram(
            &mut out,
            "phonedir_book_build_duration_seconds",
            "",
            &m.book_build_seconds,
        );

        header(
            &mut out,
            "phonedir_source_runs_total",
            "counter",
            "Pushes (kind push) and syncs of pulled sources, by source kind and outcome.",
        );
        for ((kind, outcome), n) in &m.source_runs {
            let _ = writeln!(
                out,
                "phonedir_source_runs_total{{kind=\"{kind}\",outcome=\"{}\"}} {n}",
                outcome.as_str()
            );
        }
        header(
            &mut out,
            "phonedir_source_run_duration_seconds",
            "histogram",
            "How long pushes and syncs took, by source kind.",
        );
        for (kind, h) in &m.source_seconds {
            histogram(
                &mut out,
                "phonedir_source_run_duration_seconds",
                &format!("kind=\"{kind}\""),
                h,
            );
        }

        header(
            &mut out,
            "phonedir_target_writes_total",
            "counter",
            "Writes of a book into a PBX's contact store, by target kind and outcome.",
        );
        for ((kind, outcome), n) in &m.target_writes {
            let _ = writeln!(
                out,
                "phonedir_target_writes_total{{kind=\"{}\",outcome=\"{}\"}} {n}",
                escape(kind),
                outcome.as_str()
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0;
    for (i, bound) in BUCKETS.iter().enumerate() {
        cumulative += h.counts[i];
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
        );
    }
    cumulative += h.counts[BUCKETS.len()];
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
    );
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.sum);
    let _ = writeln!(out, "{name}_count{braces} {cumulative}");
}

/// A label value as the text format writes it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_with_bounded_labels() {
        let m = Metrics::new();
        let ms = Duration::from_millis(3);
        m.request(Some("/contacts/{key}/yealink/v1"), "GET", 200, ms);
        m.request(Some("/contacts/{key}/yealink/v1"), "get", 200, ms);
        m.request(None, "BREW", 404, ms);
        m.cache_hit();
        m.cache_miss();
        m.book_built(ms);
        m.source_run("graph", Outcome::Failed, ms);
        m.source_run("anything a customer typed", Outcome::Ok, ms);
        m.target_write("innovaphone", Outcome::Ok);
        let text = m.render();
        assert!(text.contains(
            "phonedir_http_requests_total{route=\"/contacts/{key}/yealink/v1\",method=\"GET\",status=\"200\"} 2"
        ), "{text}");
        assert!(text.contains(
            "phonedir_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1"
        ));
        assert!(text.contains("phonedir_render_cache_hits_total 1"));
        assert!(text.contains("phonedir_book_build_duration_seconds_count 1"));
        assert!(text.contains("phonedir_book_build_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("phonedir_source_runs_total{kind=\"graph\",outcome=\"failed\"} 1"));
        assert!(text.contains("phonedir_source_runs_total{kind=\"other\",outcome=\"ok\"} 1"));
        assert!(!text.contains("customer"));
        assert!(text.contains(
            "phonedir_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 1"
        ));
        assert!(
            text.contains("phonedir_target_writes_total{kind=\"innovaphone\",outcome=\"ok\"} 1")
        );
    }

    #[test]
    fn routes_stay_bounded() {
        let m = Metrics::new();
        for i in 0..(MAX_ROUTES + 50) {
            m.request(Some(&format!("/r{i}")), "GET", 200, Duration::ZERO);
        }
        let text = m.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("phonedir_http_requests_total{"))
            .count();
        assert_eq!(series, MAX_ROUTES);
        assert!(text.contains("route=\"other\""));
    }
}
