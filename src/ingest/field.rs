//! The rules every text field obeys, whatever brought it (CSV, JSON push, vCard, Graph,
//! REST): no character an output cannot carry, and no longer than `--max-field-chars`.
//! Pushes report what these rules changed as row warnings; pulled sources count it.

use crate::domain::text::carriable;
use std::borrow::Cow;

/// What `clean` did to a field.
#[derive(Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// The value to store; `removed` characters no output can carry were taken out.
    Kept { value: Cow<'a, str>, removed: usize },
    /// Longer than the limit (in characters, after cleaning): left out whole.
    TooLong { chars: usize },
}

pub fn clean(value: &str, max_chars: usize) -> Field<'_> {
    let (value, removed) = carriable(value);
    // A byte count at or under the limit needs no character count (1 char ≥ 1 byte).
    if value.len() > max_chars {
        let chars = value.chars().count();
        if chars > max_chars {
            return Field::TooLong { chars };
        }
    }
    Field::Kept { value, removed }
}

/// The warning sentence for a field that was cleaned.
pub fn removed_message(removed: usize) -> String {
    format!(
        "{removed} control or non-XML character{} removed (phones cannot show them, and they would break every XML phone book)",
        if removed == 1 { " was" } else { "s were" }
    )
}

pub fn too_long_message(chars: usize, max: usize) -> String {
    format!("the cell has {chars} characters, more than the limit of {max}; it was left out")
}

pub fn too_many_numbers_message(max: usize, left_out: usize) -> String {
    format!("the contact has more than {max} numbers; {left_out} more were left out (--max-numbers-per-contact)")
}

/// The first 40 characters of a value, for a warning.
pub fn excerpt(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        head + "…"
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_then_measures() {
        assert_eq!(
            clean("Anna\u{1b}[31m", 10),
            Field::Kept {
                value: Cow::Owned("Anna[31m".into()),
                removed: 1
            }
        );
        assert_eq!(
            clean("ääää", 4),
            Field::Kept {
                value: "ääää".into(),
                removed: 0
            }
        );
        assert_eq!(clean("ääääa", 4), Field::TooLong { chars: 5 });
        assert_eq!(excerpt(&"x".repeat(50)).chars().count(), 41);
    }
}
