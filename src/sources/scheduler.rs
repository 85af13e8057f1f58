//! Starts due syncs: once a second, every source whose next run has come is handed to the
//! runner (`crate::jobs`), which decides when it runs. Next runs (interval plus jitter,
//! backoff after failures) are set by `Syncer::run`.

use super::{now, SourceError, Syncer};
use std::sync::Arc;
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);

pub fn start(syncer: Arc<Syncer>) -> std::io::Result<()> {
    match syncer.store.back_off_interrupted_syncs(now()) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            sources = n,
            "syncs interrupted by the last stop are backed off, not rerun at start"
        ),
        Err(e) => tracing::error!(error = %e, "cannot back off interrupted syncs"),
    }
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
                match syncer.start(&key, &name) {
                    Ok(_) | Err(SourceError::Busy | SourceError::UnknownSource) => {}
                    Err(e) => {
                        tracing::debug!(source = name, error = %e, "scheduled sync not started")
                    }
                }
            }
        })
        .map(|_| ())
}
