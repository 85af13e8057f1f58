//! What a pulled source delivered but could not be used (a number that is not one, a
//! record without a name), kept with the source's status so nothing is dropped silently.
//! Pushes answer their warnings directly (`ingest::Report`); a sync runs unattended, so its
//! warnings wait in the status for someone to read them.

use serde::{Deserialize, Serialize};

/// Warnings kept in full; past these only the count grows (a source with 80,000 broken
/// numbers must not store 80,000 sentences).
pub const SHOWN_WARNINGS: usize = 50;

/// One thing a sync left out or changed: which record, which field, what it held, and what
/// to do about it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordWarning {
    /// The record's id at the source (vCard UID, LDAP DN, Graph id, Google resource name),
    /// else its position (`#17`).
    pub record: String,
    /// The source's own name of the field (`TEL`, `telephoneNumber`, `mobilePhone`).
    pub field: String,
    pub value: String,
    /// Why, and what to do.
    pub message: String,
}

/// The warnings of one sync: how many, and the first `SHOWN_WARNINGS` of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceWarnings {
    pub count: usize,
    pub first: Vec<RecordWarning>,
}

impl SourceWarnings {
    pub fn push(&mut self, w: RecordWarning) {
        self.count += 1;
        if self.first.len() < SHOWN_WARNINGS {
            self.first.push(w);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_and_counts_all() {
        let mut w = SourceWarnings::default();
        for i in 0..120 {
            w.push(RecordWarning {
                record: format!("#{i}"),
                ..Default::default()
            });
        }
        assert_eq!((w.count, w.first.len()), (120, SHOWN_WARNINGS));
        assert_eq!(w.first[49].record, "#49");
    }
}
