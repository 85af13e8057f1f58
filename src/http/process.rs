//! What `serve` claims from the operating system before it listens: the data directory,
//! alone (a second server on the same files would reset the first one's running syncs and
//! fight over the writer), and as many file descriptors as the system allows (every
//! connection is one).

use std::fs::File;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("another phonedir server is running on the data directory {0} (it holds phonedir.lock); stop it first or give another --data-dir")]
    Locked(String),
    #[error("cannot create the lock file {path}: {source}")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
}

/// Held for the life of the server: the lock goes with the process, also when it crashes.
pub struct DataDirLock {
    _file: File,
}

/// Takes `DATA_DIR/phonedir.lock` (an exclusive `flock`), or says who holds it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, ProcessError> {
    let path = data_dir.join("phonedir.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ProcessError::LockFile {
            path: path.display().to_string(),
            source,
        })?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            Err(ProcessError::Locked(data_dir.display().to_string()))
        }
        Err(e) => Err(ProcessError::LockFile {
            path: path.display().to_string(),
            source: e.into(),
        }),
    }
}

/// Raises the soft limit on open files to the hard limit; answers the limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        let raised = Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, "cannot raise the open-files limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_data_dir(dir.path()).unwrap();
        assert!(matches!(
            lock_data_dir(dir.path()),
            Err(ProcessError::Locked(_))
        ));
        drop(first);
        assert!(lock_data_dir(dir.path()).is_ok());
    }

    #[test]
    fn fd_limit_is_the_hard_limit() {
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        assert_eq!(raise_fd_limit(), hard);
    }
}
