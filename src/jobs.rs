//! One bounded runner for background work: syncs of pulled sources today, the PBX targets
//! of tomorrow. Whoever submits, scheduler or API, the same limits hold:
//!
//! - at most `workers` jobs run at once, on the runner's own threads (never the HTTP
//!   server's workers or its blocking pool, so a flood of jobs cannot slow a phone down);
//! - at most `per_directory` of them belong to one directory, and a free worker takes the
//!   oldest job of the directory served least recently: one directory's endless sources
//!   cannot starve the others;
//! - at most `max_queued` jobs wait; a job of the same directory and name is never queued
//!   twice;
//! - every job has a wall-clock deadline and a cancellation token (`Ctx`), which its work
//!   checks at every request it makes; `cancel` stops a queued or running job (a deleted
//!   source);
//! - a panic in a job is caught and logged; the worker goes on with the next job;
//! - the workers run at a lower CPU priority (nice 10) than the request workers, and on
//!   every CPU but one (see `lower_priority`).

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct RunnerConfig {
    /// Jobs running at once, over all directories.
    pub workers: usize,
    /// Jobs of one directory running at once.
    pub per_directory: usize,
    /// Jobs waiting for a worker; more are refused.
    pub max_queued: usize,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            workers: 4,
            per_directory: 1,
            max_queued: 10_000,
        }
    }
}

/// A piece of work for one directory.
pub struct Job {
    /// The directory it works for (its key): the unit of fairness.
    pub directory: String,
    /// Unique within the directory while queued or running, e.g. `source:crm`.
    pub name: String,
    /// Wall-clock time the job may take from the moment it starts running.
    pub deadline: Duration,
    pub work: Box<dyn FnOnce(&Ctx) + Send>,
}

/// Why a job should stop now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Cancelled,
    Deadline,
}

/// What a running job checks: its deadline and whether it was cancelled.
#[derive(Clone, Debug)]
pub struct Ctx {
    cancelled: Arc<AtomicBool>,
    deadline: Instant,
    limit: Duration,
}

impl Ctx {
    /// A context for work outside the runner (tests, the command line).
    pub fn unbounded() -> Ctx {
        Ctx::new(
            Arc::new(AtomicBool::new(false)),
            Duration::from_secs(365 * 86_400),
        )
    }

    fn new(cancelled: Arc<AtomicBool>, limit: Duration) -> Ctx {
        Ctx {
            cancelled,
            deadline: Instant::now() + limit,
            limit,
        }
    }

    /// The whole time the job was given.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn check(&self) -> Result<(), Stop> {
        if self.cancelled.load(Ordering::SeqCst) {
            Err(Stop::Cancelled)
        } else if self.remaining().is_zero() {
            Err(Stop::Deadline)
        } else {
            Ok(())
        }
    }

    /// Sleeps `d` unless the job is cancelled or would pass its deadline meanwhile.
    pub fn sleep(&self, d: Duration) -> Result<(), Stop> {
        if d > self.remaining() {
            return Err(Stop::Deadline);
        }
        let until = Instant::now() + d;
        loop {
            self.check()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("this job is queued or running already")]
    Duplicate,
    #[error("too many jobs are waiting; try again later")]
    QueueFull,
}

struct Queued {
    job: Job,
    cancelled: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Running jobs by directory, with their tokens.
    running: HashMap<String, Vec<(String, Arc<AtomicBool>)>>,
    /// When each directory was last given a worker (a counter), for round-robin.
    served: HashMap<String, u64>,
    tick: u64,
}

impl State {
    fn running_in(&self, dir: &str) -> usize {
        self.running.get(dir).map_or(0, Vec::len)
    }

    fn active(&self, dir: &str, name: &str) -> bool {
        self.queue
            .iter()
            .any(|q| q.job.directory == dir && q.job.name == name)
            || self
                .running
                .get(dir)
                .is_some_and(|r| r.iter().any(|(n, _)| n == name))
    }

    /// The next job a free worker takes: cancelled ones first (they end at once), then the
    /// oldest job of the eligible directory served least recently.
    fn take(&mut self, per_directory: usize) -> Option<Queued> {
        if let Some(i) = self
            .queue
            .iter()
            .position(|q| q.cancelled.load(Ordering::SeqCst))
        {
            return self.queue.remove(i);
        }
        let mut best: Option<(usize, u64)> = None;
        for (i, q) in self.queue.iter().enumerate() {
            let dir = &q.job.directory;
            if self.running_in(dir) >= per_directory {
                continue;
            }
            let served = self.served.get(dir).copied().unwrap_or(0);
            if best.is_none_or(|(_, s)| served < s) {
                best = Some((i, served));
            }
        }
        let (i, _) = best?;
        self.queue.remove(i)
    }
}

struct Shared {
    cfg: RunnerConfig,
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The runner; cheap to clone, all clones submit to the same workers.
#[derive(Clone)]
pub struct Runner {
    shared: Arc<Shared>,
}

impl Runner {
    /// Starts `cfg.workers` threads that run submitted jobs until the process ends.
    pub fn start(cfg: RunnerConfig) -> std::io::Result<Runner> {
        let cfg = RunnerConfig {
            workers: cfg.workers.max(1),
            per_directory: cfg.per_directory.max(1),
            max_queued: cfg.max_queued.max(1),
        };
        let shared = Arc::new(Shared {
            cfg,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        for i in 0..cfg.workers {
            let s = shared.clone();
            std::thread::Builder::new()
                .name(format!("job-{i}"))
                .spawn(move || work(&s))?;
        }
        Ok(Runner { shared })
    }

    /// Queues a job; it runs when a worker is free and its directory has room.
    pub fn submit(&self, job: Job) -> Result<(), SubmitError> {
        let mut st = self.shared.lock();
        if st.active(&job.directory, &job.name) {
            return Err(SubmitError::Duplicate);
        }
        if st.queue.len() >= self.shared.cfg.max_queued {
            return Err(SubmitError::QueueFull);
        }
        st.queue.push_back(Queued {
            job,
            cancelled: Arc::new(AtomicBool::new(false)),
        });
        drop(st);
        self.shared.wake.notify_all();
        Ok(())
    }

    /// Cancels the job `name` of `directory`, queued or running; false if there is none.
    /// A queued job still runs, at once and with its context cancelled, so it can clean up.
    pub fn cancel(&self, directory: &str, name: &str) -> bool {
        self.cancel_where(directory, |n| n == name) > 0
    }

    /// Cancels every job of a directory (a deleted directory); answers how many.
    pub fn cancel_directory(&self, directory: &str) -> usize {
        self.cancel_where(directory, |_| true)
    }

    fn cancel_where(&self, directory: &str, matches: impl Fn(&str) -> bool) -> usize {
        let st = self.shared.lock();
        let mut n = 0;
        for q in &st.queue {
            if q.job.directory == directory && matches(&q.job.name) {
                q.cancelled.store(true, Ordering::SeqCst);
                n += 1;
            }
        }
        for (name, token) in st.running.get(directory).into_iter().flatten() {
            if matches(name) {
                token.store(true, Ordering::SeqCst);
                n += 1;
            }
        }
        drop(st);
        self.shared.wake.notify_all();
        n
    }

    /// Whether the job is queued or running.
    pub fn is_active(&self, directory: &str, name: &str) -> bool {
        self.shared.lock().active(directory, name)
    }

    /// (queued, running) jobs.
    pub fn load(&self) -> (usize, usize) {
        let st = self.shared.lock();
        (st.queue.len(), st.running.values().map(Vec::len).sum())
    }
}

/// Makes the calling thread background work, which yields the CPU to requests: a phone
/// waiting for its book goes first. Only threads of their own call this (the runner's,
/// pushes', the checkpointer's, malloc's trimmer): there is no way back for an unprivileged
/// process.
///
/// - Nice 10 (on Linux a thread id names just this thread): requests get the larger share.
/// - It leaves one CPU to the requests (when the process may use two or more). A lower
///   priority alone does not keep a request from waiting: a woken request thread waited up
///   to a scheduler tick (4 ms at 250 Hz) while background threads held every CPU, at nice
///   10 and even in SCHED_IDLE (`perf sched timehist` while six big JSON answers were
///   parsed: 3.5-4.6 ms; another tenant's read p99 5-7x its idle p99). On a CPU that
///   background work never takes, a request finds room.
pub fn lower_priority() {
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
    leave_a_cpu_to_requests();
}

fn leave_a_cpu_to_requests() {
    use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
    let Ok(mut cpus) = sched_getaffinity(None) else {
        return;
    };
    if cpus.count() < 2 {
        return;
    }
    if let Some(first) = (0..CpuSet::MAX_CPU).find(|&i| cpus.is_set(i)) {
        cpus.unset(first);
        if let Err(e) = sched_setaffinity(None, &cpus) {
            tracing::debug!(error = %e, "background work may run on every CPU");
        }
    }
}

/// Runs `f` on a new thread at lower priority and answers its result (None if the thread
/// could not start or `f` panicked). For CPU-heavy work a request waits for, such as reading
/// a pushed file; the caller bounds how many run at once.
pub async fn in_background<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("background".into())
        .spawn(move || {
            lower_priority();
            let _ = tx.send(f());
        })
        .ok()?;
    rx.await.ok()
}

fn work(shared: &Shared) {
    lower_priority();
    loop {
        let mut st = shared.lock();
        let q = loop {
            if let Some(q) = st.take(shared.cfg.per_directory) {
                break q;
            }
            st = shared.wake.wait(st).unwrap_or_else(|p| p.into_inner());
        };
        let Queued { job, cancelled } = q;
        let Job {
            directory,
            name,
            deadline,
            work,
        } = job;
        st.tick += 1;
        let tick = st.tick;
        st.served.insert(directory.clone(), tick);
        st.running
            .entry(directory.clone())
            .or_default()
            .push((name.clone(), cancelled.clone()));
        drop(st);

        let ctx = Ctx::new(cancelled.clone(), deadline);
        if catch_unwind(AssertUnwindSafe(|| work(&ctx))).is_err() {
            tracing::error!(job = name, "a background job panicked; the runner goes on");
        }

        let mut st = shared.lock();
        if let Some(r) = st.running.get_mut(&directory) {
            if let Some(i) = r.iter().position(|(_, t)| Arc::ptr_eq(t, &cancelled)) {
                r.swap_remove(i);
            }
            if r.is_empty() {
                st.running.remove(&directory);
            }
        }
        if !st.queue.iter().any(|q| q.job.directory == directory) && st.running_in(&directory) == 0
        {
            // Bounded by the directories with work, not by every directory ever served.
            st.served.remove(&directory);
        }
        drop(st);
        shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn job(dir: &str, name: &str, f: impl FnOnce(&Ctx) + Send + 'static) -> Job {
        Job {
            directory: dir.into(),
            name: name.into(),
            deadline: Duration::from_secs(30),
            work: Box::new(f),
        }
    }

    #[test]
    fn one_directory_cannot_starve_another() {
        let r = Runner::start(RunnerConfig {
            workers: 2,
            per_directory: 1,
            max_queued: 100,
        })
        .unwrap();
        // Directory A: endless jobs that only stop when cancelled.
        for i in 0..5 {
            r.submit(job("A", &format!("s{i}"), |ctx| {
                while ctx.check().is_ok() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }))
            .unwrap();
        }
        let (tx, rx) = mpsc::channel();
        r.submit(job("B", "s", move |_| tx.send(()).unwrap()))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(5))
            .expect("B ran while A's jobs were endless");
        // B's worker is free again once its bookkeeping is done; A never takes it.
        let t = Instant::now();
        while r.load().1 != 1 {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "A holds one worker, not both"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(r.load(), (4, 1), "A's other jobs wait while one runs");
        assert_eq!(
            r.submit(job("A", "s3", |_| {})),
            Err(SubmitError::Duplicate)
        );
        assert_eq!(r.cancel_directory("A"), 5);
        let t = Instant::now();
        while r.load() != (0, 0) {
            assert!(t.elapsed() < Duration::from_secs(5), "{:?}", r.load());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_panicking_job_leaves_the_runner_working() {
        let r = Runner::start(RunnerConfig {
            workers: 1,
            ..Default::default()
        })
        .unwrap();
        r.submit(job("A", "boom", |_| panic!("a bug in a sync")))
            .unwrap();
        let (tx, rx) = mpsc::channel();
        r.submit(job("A", "next", move |_| tx.send(()).unwrap()))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(5))
            .expect("ran after the panic");
    }

    #[test]
    fn deadline_and_queue_bound() {
        let r = Runner::start(RunnerConfig {
            workers: 1,
            per_directory: 1,
            max_queued: 1,
        })
        .unwrap();
        let (tx, rx) = mpsc::channel();
        let (started_tx, started) = mpsc::channel();
        let (go, go_rx) = mpsc::channel::<()>();
        r.submit(Job {
            deadline: Duration::from_millis(300),
            ..job("A", "slow", move |ctx| {
                started_tx.send(()).unwrap();
                // Busy until the queue was tried, however late this test's thread runs on
                // a loaded machine; then its deadline ends it.
                let _ = go_rx.recv();
                tx.send(ctx.sleep(Duration::from_secs(10))).unwrap()
            })
        })
        .unwrap();
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        // The worker is busy: one job may wait, the next is refused.
        assert_eq!(r.submit(job("B", "x", |_| {})), Ok(()));
        assert_eq!(r.submit(job("C", "y", |_| {})), Err(SubmitError::QueueFull));
        go.send(()).unwrap();
        let t = Instant::now();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            Err(Stop::Deadline)
        );
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
