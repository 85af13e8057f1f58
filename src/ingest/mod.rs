//! Ingest: input of any shape becomes domain contacts plus a report of what was read and
//! what was left out, row by row. Nothing here touches the store; a caller decides whether
//! the result is stored.

pub mod assemble;
mod columns;
mod csv;
pub mod field;
mod json;
mod mapping;
mod text;

pub use self::assemble::Row;
pub use self::columns::Role;
pub use self::csv::{parse_csv, parse_csv_with_progress};
pub use self::json::parse_json;
pub use self::mapping::{MapError, Mapping, FIELDS as MAP_FIELDS};

use crate::domain::Contact;
use crate::phone::NumberRules;
use serde::Serialize;

/// A file that cannot be read as a contact list at all. It is refused whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not text (it contains binary data near byte {offset}); push a CSV file")]
    NotText { offset: usize },
    #[error("no recognizable columns: phonedir needs a name column and a number column")]
    NoColumns {
        expected: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error("line {line}: {message}")]
    Malformed { line: u64, message: String },
    #[error("the file has more than {max} rows; split it or raise the limit (--max-rows)")]
    TooManyRows { max: usize },
    #[error("the map names the column `{column}`, which the file does not have")]
    MappedColumnMissing { column: String, found: Vec<String> },
    #[error("the JSON cannot be read at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
}

/// One row-level problem: where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub line: u64,
    pub column: String,
    pub value: String,
    pub message: String,
}

/// What the reader understood of a file, returned with every push.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub vocabulary: String,
    pub encoding: String,
    pub delimiter: String,
    pub columns_used: Vec<String>,
    pub columns_ignored: Vec<String>,
    pub rows: usize,
    pub warnings: Vec<Warning>,
}

#[derive(Debug)]
pub struct Parsed {
    pub contacts: Vec<Contact>,
    pub report: Report,
}

#[derive(Clone, Copy, Debug)]
pub struct IngestOptions<'a> {
    pub rules: NumberRules,
    pub max_rows: usize,
    /// Longer cells are left out with a warning.
    pub max_field_chars: usize,
    /// Numbers kept per contact; more are left out with a warning.
    pub max_numbers: usize,
    /// Columns named by the pusher (`?map=`), over the vocabularies.
    pub map: Option<&'a Mapping>,
}

impl Default for IngestOptions<'_> {
    fn default() -> Self {
        IngestOptions {
            rules: NumberRules::default(),
            max_rows: 200_000,
            max_field_chars: 1_000,
            max_numbers: 100,
            map: None,
        }
    }
}

/// What the readers' tests read with: German national numbers.
#[cfg(test)]
pub(crate) fn german_options() -> IngestOptions<'static> {
    IngestOptions {
        rules: NumberRules {
            region: "DE".parse().ok(),
            max_extension_digits: 6,
        },
        ..Default::default()
    }
}
