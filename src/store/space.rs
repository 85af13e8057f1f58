//! The disk under the data directory: a floor of free space under which writes are refused
//! (reads go on), and checkpoints of the write-ahead log outside the writer's lock.
//!
//! Why the checkpoints: with phones reading all the time, SQLite's automatic checkpoint
//! (run by the committing writer, inside its transaction's lock) rarely finds a moment
//! without readers, so the WAL grows by the full size of every replacement (measured:
//! +18 MB per replaced 100,000-contact source, 224 MB after twelve), and when a checkpoint
//! finally runs it copies all of it while every other tenant's write waits. Here the writer
//! never checkpoints; a thread of its own does, every few seconds, without blocking anyone.

use super::{connect, Result, StoreError};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Free space the data directory's file system must keep (`--min-free-disk`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DiskFloor {
    Bytes(u64),
    /// A share of the file system's size, in percent.
    Percent(f64),
}

impl Default for DiskFloor {
    fn default() -> Self {
        DiskFloor::Bytes(1 << 30)
    }
}

impl FromStr for DiskFloor {
    type Err = String;

    /// `1GiB`, `500MiB`, `2GB`, `1073741824`, `5%`, `0` (no floor).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if (0.0..100.0).contains(&v) => Ok(DiskFloor::Percent(v)),
                _ => Err(format!("`{s}` is not a percentage between 0 and 100")),
            };
        }
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{s}` is not a size like 1GiB, 500MiB or 5%"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            "t" | "tb" => 1_000_000_000_000,
            "tib" => 1 << 40,
            _ => return Err(format!("`{s}` is not a size like 1GiB, 500MiB or 5%")),
        };
        Ok(DiskFloor::Bytes(n.saturating_mul(mult)))
    }
}

impl std::fmt::Display for DiskFloor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskFloor::Bytes(b) => write!(f, "{}", human(*b)),
            DiskFloor::Percent(p) => write!(f, "{p}% of the disk"),
        }
    }
}

pub fn human(b: u64) -> String {
    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;
    if b >= GIB {
        format!("{:.1} GiB", b as f64 / GIB as f64)
    } else {
        format!("{:.1} MiB", b as f64 / MIB as f64)
    }
}

/// Free bytes for unprivileged writers, and the file system's size.
fn space(dir: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some((
        s.f_bavail.saturating_mul(s.f_frsize),
        s.f_blocks.saturating_mul(s.f_frsize),
    ))
}

/// Ok when `dir`'s file system has more free space than `floor`.
pub fn check(dir: &Path, floor: DiskFloor) -> Result<()> {
    if floor == DiskFloor::Bytes(0) {
        return Ok(());
    }
    // When the file system cannot tell, writes go on; SQLite's own full-disk error remains.
    let Some((free, size)) = space(dir) else {
        return Ok(());
    };
    let min = match floor {
        DiskFloor::Bytes(b) => b,
        DiskFloor::Percent(p) => (size as f64 * p / 100.0) as u64,
    };
    if free < min {
        return Err(StoreError::DiskFull {
            free: human(free),
            floor: floor.to_string(),
        });
    }
    Ok(())
}

/// How often the checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// Starts the thread that checkpoints the WAL of `db` (PASSIVE: it copies what no reader
/// needs any more and never waits for, nor blocks, readers or the writer).
pub fn start_checkpointer(db: PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("checkpoint".into())
        .spawn(move || {
            // Copying a big replacement's pages into the database is background work: the
            // phones' reads go first.
            crate::jobs::lower_priority();
            let conn = match connect(&db) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "checkpointer cannot open the database");
                    return;
                }
            };
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the checkpointer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_read_like_people_write_them() {
        assert_eq!("1GiB".parse(), Ok(DiskFloor::Bytes(1 << 30)));
        assert_eq!("500 MiB".parse(), Ok(DiskFloor::Bytes(500 << 20)));
        assert_eq!("5%".parse(), Ok(DiskFloor::Percent(5.0)));
        assert_eq!("0".parse(), Ok(DiskFloor::Bytes(0)));
        assert!("lots".parse::<DiskFloor>().is_err());
        assert!("120%".parse::<DiskFloor>().is_err());
    }

    #[test]
    fn a_floor_above_the_free_space_refuses() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check(dir.path(), DiskFloor::Bytes(0)).is_ok());
        assert!(check(dir.path(), DiskFloor::Bytes(1)).is_ok());
        assert!(matches!(
            check(dir.path(), DiskFloor::Bytes(u64::MAX)),
            Err(StoreError::DiskFull { .. })
        ));
    }
}
