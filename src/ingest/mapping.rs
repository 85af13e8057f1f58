//! An explicit column mapping given with a push, for files no vocabulary knows:
//! `?map=display_name:Kontakt,phone.work:Rufnummer,phone.mobile:Handy`.
//!
//! Each entry is `FIELD:COLUMN`; entries are separated by `,`; the column name is compared
//! like every header (case, accents and punctuation ignored). Columns the map does not name
//! are still recognised by the vocabularies.

use super::columns::{fold_header, Role};
use super::IngestError;
use crate::domain::NumberType;
use std::str::FromStr;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// (role, folded column, column as written)
    entries: Vec<(Role, String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MapError {
    #[error("map entry `{0}` is not FIELD:COLUMN (for example display_name:Kontakt)")]
    Syntax(String),
    #[error("`{0}` is not a field a map can fill; use one of {fields}", fields = FIELDS.join(", "))]
    Field(String),
}

pub const FIELDS: [&str; 19] = [
    "internal_id",
    "display_name",
    "given_name",
    "middle_name",
    "family_name",
    "company",
    "department",
    "position",
    "email",
    "group",
    "phone",
    "phone.work",
    "phone.home",
    "phone.mobile",
    "phone.fax",
    "phone.pager",
    "phone.other",
    "phone.extension",
    "ignore",
];

fn role(field: &str) -> Option<Role> {
    Some(match field {
        "internal_id" => Role::InternalId,
        "display_name" => Role::DisplayName,
        "given_name" => Role::GivenName,
        "middle_name" => Role::MiddleName,
        "family_name" => Role::FamilyName,
        "company" => Role::Company,
        "department" => Role::Department,
        "position" => Role::Position,
        "email" => Role::Email,
        "group" => Role::Group,
        "phone" => Role::Phone(NumberType::Work),
        "ignore" => Role::Known,
        _ => Role::Phone(NumberType::from_alias(field.strip_prefix("phone.")?)?),
    })
}

impl FromStr for Mapping {
    type Err = MapError;

    fn from_str(s: &str) -> Result<Self, MapError> {
        let mut entries = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (field, column) = entry
                .split_once(':')
                .filter(|(f, c)| !f.trim().is_empty() && !c.trim().is_empty())
                .ok_or_else(|| MapError::Syntax(entry.to_owned()))?;
            let field = field.trim().to_ascii_lowercase();
            let role = role(&field).ok_or(MapError::Field(field))?;
            entries.push((role, fold_header(column), column.trim().to_owned()));
        }
        if entries.is_empty() {
            return Err(MapError::Syntax(s.to_owned()));
        }
        Ok(Mapping { entries })
    }
}

impl Mapping {
    pub fn role_of(&self, folded_header: &str) -> Option<Role> {
        self.entries
            .iter()
            .find(|(_, c, _)| c == folded_header)
            .map(|(r, _, _)| *r)
    }

    /// Every column the map names must be in the file.
    pub fn check_columns(&self, folded: &[String], headers: &[String]) -> Result<(), IngestError> {
        for (_, c, written) in &self.entries {
            if !folded.contains(c) {
                return Err(IngestError::MappedColumnMissing {
                    column: written.clone(),
                    found: headers.iter().map(|h| h.trim().to_owned()).collect(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_columns() {
        let m: Mapping = "display_name:Kontakt, phone.work:Rufnummer,phone.mobile:Handy Nr."
            .parse()
            .unwrap();
        assert_eq!(m.role_of("kontakt"), Some(Role::DisplayName));
        assert_eq!(m.role_of("rufnummer"), Some(Role::Phone(NumberType::Work)));
        assert_eq!(m.role_of("handy nr"), Some(Role::Phone(NumberType::Mobile)));
        assert_eq!(m.role_of("other"), None);
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            "display_name".parse::<Mapping>(),
            Err(MapError::Syntax("display_name".into()))
        );
        let e = "shoe_size:Schuhe".parse::<Mapping>().unwrap_err();
        assert!(e.to_string().contains("phone.mobile"), "{e}");
    }
}
