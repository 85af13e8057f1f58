//! The change log: which contacts a directory's book added, changed and removed since a
//! version. CardDAV sync tokens and the PBX targets' incremental runs are answered from it.
//!
//! Each built book is logged (`Books::logged`): its members and their ETags are compared
//! with the last logged book, and what differs is recorded at the new version. Removed
//! contacts stay as tombstones for at least `KEEP_DAYS` days and `KEEP_VERSIONS` versions;
//! "since V" is answered exactly for every logged version still kept, and refused with a
//! distinct error for an older or unknown one.

use crate::domain::ContactId;
use serde::Serialize;

/// Tombstones and logged versions are kept at least this many days …
pub const KEEP_DAYS: i64 = 90;
/// … and at least for this many versions back.
pub const KEEP_VERSIONS: i64 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// In the book now and not at "since" as far as the log knows: a contact that left
    /// and came back after "since" is added too (readers treat added and changed alike:
    /// fetch the contact).
    Added,
    Changed,
    Removed,
}

/// What happened to the book between two versions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Changes {
    pub since: i64,
    /// The version these changes lead to.
    pub version: i64,
    pub added: Vec<ContactId>,
    pub changed: Vec<ContactId>,
    pub removed: Vec<ContactId>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    pub fn push(&mut self, id: ContactId, change: Change) {
        match change {
            Change::Added => self.added.push(id),
            Change::Changed => self.changed.push(id),
            Change::Removed => self.removed.push(id),
        }
    }
}

/// Why "since V" has no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangesError {
    #[error("version {since} is older than the change log, which goes back to version {oldest}; fetch the whole book again")]
    TooOld { since: i64, oldest: i64 },
    #[error("version {since} was never handed out for this directory (its book is at version {current}); fetch the whole book again")]
    Unknown { since: i64, current: i64 },
}
