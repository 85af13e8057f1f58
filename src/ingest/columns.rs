//! Column vocabularies: which header names mean which contact field. A vocabulary is chosen
//! per file from its header; new exporters slot in as another entry of `VOCABULARIES`.

use super::IngestError;
use crate::domain::{text::fold, NumberType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    InternalId,
    DisplayName,
    GivenName,
    FamilyName,
    Company,
    Department,
    Position,
    Email,
    Group,
    /// A cell of numbers, each `TYPE:number` or of the column's type.
    Phone(NumberType),
    /// A column the vocabulary knows and deliberately does not use (birthday, notes).
    Known,
}

impl Role {
    fn is_name(self) -> bool {
        matches!(
            self,
            Role::DisplayName | Role::GivenName | Role::FamilyName | Role::Company
        )
    }
}

pub struct Vocabulary {
    pub name: &'static str,
    /// Maps a folded header (`phone work`) to its role.
    role: fn(&str) -> Option<Role>,
}

/// The sync.blue directory CSV (`phone` cells of `TYPE:+49…`) and its account CSV
/// (`phone_work`, `phone_mobile`, … with several numbers per cell).
const SYNCBLUE: Vocabulary = Vocabulary {
    name: "sync.blue",
    role: |h| {
        Some(match h {
            "internal id" => Role::InternalId,
            "display name" => Role::DisplayName,
            "given name" => Role::GivenName,
            "family name" => Role::FamilyName,
            "company" => Role::Company,
            "department" => Role::Department,
            "position" => Role::Position,
            "email" => Role::Email,
            "group" | "category" => Role::Group,
            "phone" => Role::Phone(NumberType::Work),
            "birthday" => Role::Known,
            _ => {
                let t = h.strip_prefix("phone ")?;
                Role::Phone(NumberType::from_alias(t)?)
            }
        })
    },
};

const VOCABULARIES: &[Vocabulary] = &[SYNCBLUE];

/// What the header names list for a person who must fix a file.
pub const EXPECTED: &[&str] = &[
    "display_name",
    "given_name",
    "family_name",
    "company",
    "phone (cells like WORK:+4923648873040)",
    "phone_work",
    "phone_mobile",
    "phone_home",
    "phone_fax",
    "email",
    "internal_id",
];

/// The header, folded: `E-Mail Address` and ` e_mail address ` are the same column.
pub fn fold_header(h: &str) -> String {
    fold(h.trim_start_matches('\u{feff}'))
}

pub struct Mapping {
    pub vocabulary: &'static Vocabulary,
    pub roles: Vec<Option<Role>>,
}

/// Picks the vocabulary that recognises most columns and can yield a name and a number.
pub fn detect(headers: &[String]) -> Result<Mapping, IngestError> {
    let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
    let mut best: Option<(usize, Mapping)> = None;
    for vocabulary in VOCABULARIES {
        let roles: Vec<Option<Role>> = folded.iter().map(|h| (vocabulary.role)(h)).collect();
        let has_name = roles.iter().flatten().any(|r| r.is_name());
        let has_number = roles.iter().flatten().any(|r| matches!(r, Role::Phone(_)));
        if !has_name || !has_number {
            continue;
        }
        let score = roles.iter().flatten().count();
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, Mapping { vocabulary, roles }));
        }
    }
    best.map(|(_, m)| m).ok_or_else(|| IngestError::NoColumns {
        expected: EXPECTED.to_vec(),
        found: headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(s: &str) -> Vec<String> {
        s.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn recognises_both_syncblue_layouts_in_any_case_and_order() {
        let m = detect(&heads("\u{feff}EMAIL, Phone ,Display_Name,internal_id")).unwrap();
        assert_eq!(m.vocabulary.name, "sync.blue");
        assert_eq!(
            m.roles,
            vec![
                Some(Role::Email),
                Some(Role::Phone(NumberType::Work)),
                Some(Role::DisplayName),
                Some(Role::InternalId)
            ]
        );
        let m = detect(&heads("given_name,phone_mobile,phone_fax,birthday,notes")).unwrap();
        assert_eq!(
            m.roles,
            vec![
                Some(Role::GivenName),
                Some(Role::Phone(NumberType::Mobile)),
                Some(Role::Phone(NumberType::Fax)),
                Some(Role::Known),
                None
            ]
        );
    }

    #[test]
    fn names_expected_and_found_columns_when_nothing_fits() {
        match detect(&heads("foo,bar")) {
            Err(IngestError::NoColumns { found, expected }) => {
                assert_eq!(found, vec!["foo", "bar"]);
                assert!(expected.contains(&"display_name"));
            }
            other => panic!("{:?}", other.map(|m| m.vocabulary.name)),
        }
    }
}
