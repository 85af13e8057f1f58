//! Runs due syncs in the background: one thread looks for sources whose next run has come
//! and starts each on its own thread, a few at a time. Next runs (interval plus jitter,
//! backoff after failures) are set by `Syncer::sync`.

use super::{now, Syncer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Syncs running at once; more wait for the next tick.
const MAX_RUNNING: usize = 4;
const TICK: Duration = Duration::from_secs(1);

pub fn start(syncer: Arc<Syncer>) -> std::io::Result<()> {
    match syncer.store.reset_interrupted_syncs() {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            sources = n,
            "syncs interrupted by the last stop will be retried"
        ),
        Err(e) => tracing::error!(error = %e, "cannot reset interrupted syncs"),
    }
    let running = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let due = match syncer.store.due_sources(now()) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "scheduler cannot read the sources");
                    continue;
                }
            };
            for (key, name) in due {
                if running.load(Ordering::SeqCst) >= MAX_RUNNING {
                    break;
                }
                running.fetch_add(1, Ordering::SeqCst);
                let (s, r) = (syncer.clone(), running.clone());
                let spawned = std::thread::Builder::new()
                    .name("sync".into())
                    .spawn(move || {
                        if let Err(e) = s.sync(&key, &name) {
                            tracing::debug!(source = name, error = %e, "scheduled sync not run");
                        }
                        r.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    running.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })
        .map(|_| ())
}
