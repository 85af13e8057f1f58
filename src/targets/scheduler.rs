//! Starts due target runs: once a second, every target whose interval (or retry) came
//! round, and every target whose directory has a newer version than its last run started
//! from and has been quiet for the target's `debounce_s`, is handed to the runner.

use super::{Request, TargetError, Targets};
use crate::sources::now;
use std::sync::Arc;
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);
/// An interrupted run is retried after this long, never at start.
const INTERRUPTED_WAIT_S: i64 = 300;

pub fn start(targets: Arc<Targets>) -> std::io::Result<()> {
    match targets
        .store()
        .back_off_interrupted_runs(now(), INTERRUPTED_WAIT_S)
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            targets = n,
            "target runs interrupted by the last stop are retried later, not at start"
        ),
        Err(e) => tracing::error!(error = %e, "cannot back off interrupted target runs"),
    }
    std::thread::Builder::new()
        .name("targets".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let due = match targets.store().due_targets(now()) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "the target scheduler cannot read the targets");
                    continue;
                }
            };
            for (key, name, trigger) in due {
                let req = Request {
                    why: trigger.into(),
                    dry_run: false,
                    force: false,
                };
                match targets.start(&key, &name, req) {
                    Ok(_) | Err(TargetError::Busy | TargetError::Unknown) => {}
                    Err(e) => {
                        tracing::debug!(target = name, error = %e, "scheduled target run not started")
                    }
                }
            }
        })
        .map(|_| ())
}
