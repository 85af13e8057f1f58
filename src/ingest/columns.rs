//! Column vocabularies: which header names mean which contact field. A vocabulary is chosen
//! per file from its header (the one that recognises most columns); new exporters slot in
//! as another entry of `VOCABULARIES`. Headers are compared folded, so case, accents,
//! punctuation and `_`/`-` do not matter (`E-Mail-Adresse` = `e mail adresse`).

use super::mapping::Mapping as ExplicitMap;
use super::IngestError;
use crate::domain::{text::fold, NumberType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    InternalId,
    DisplayName,
    GivenName,
    MiddleName,
    FamilyName,
    Company,
    Department,
    Position,
    Email,
    Group,
    /// Google's `Labels` / `Group Membership`: ` ::: `-joined, system labels start with `*`.
    Labels,
    /// A cell of numbers, each `TYPE:number` or of the column's type.
    Phone(NumberType),
    /// Google's `Phone N - Label`: the type of the number in `Phone N - Value`.
    PhoneLabel(u8),
    PhoneValue(u8),
    /// A column the vocabulary knows and deliberately does not use (birthday, notes).
    Known,
}

impl Role {
    fn is_name(self) -> bool {
        matches!(
            self,
            Role::DisplayName
                | Role::GivenName
                | Role::FamilyName
                | Role::Company
                | Role::MiddleName
        )
    }

    fn is_number(self) -> bool {
        matches!(self, Role::Phone(_) | Role::PhoneValue(_))
    }
}

pub struct Vocabulary {
    pub name: &'static str,
    /// Maps a folded header (`phone work`) to its role.
    role: fn(&str) -> Option<Role>,
}

use NumberType::{Extension, Fax, Home, Mobile, Other, Pager, Work};

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
            "phone" => Role::Phone(Work),
            "birthday" => Role::Known,
            _ => {
                let t = h.strip_prefix("phone ")?;
                Role::Phone(NumberType::from_alias(t)?)
            }
        })
    },
};

/// Outlook's "Export to a file" (CSV, Windows values), English UI.
const OUTLOOK: Vocabulary = Vocabulary {
    name: "outlook",
    role: |h| {
        Some(match h {
            "first name" => Role::GivenName,
            "middle name" => Role::MiddleName,
            "last name" => Role::FamilyName,
            "company" => Role::Company,
            "department" => Role::Department,
            "job title" => Role::Position,
            "business phone" | "business phone 2" | "company main phone" | "primary phone"
            | "assistant s phone" | "callback" | "isdn" => Role::Phone(Work),
            "home phone" | "home phone 2" => Role::Phone(Home),
            "mobile phone" | "car phone" | "radio phone" => Role::Phone(Mobile),
            "business fax" | "home fax" | "other fax" => Role::Phone(Fax),
            "pager" => Role::Phone(Pager),
            "other phone" | "tty tdd phone" => Role::Phone(Other),
            "e mail address" => Role::Email,
            "categories" => Role::Group,
            "title"
            | "suffix"
            | "e mail type"
            | "e mail display name"
            | "e mail 2 address"
            | "e mail 3 address"
            | "notes"
            | "birthday"
            | "business street"
            | "business city"
            | "business postal code"
            | "business country region"
            | "home street"
            | "home city"
            | "home postal code"
            | "home country region"
            | "web page" => Role::Known,
            _ => return None,
        })
    },
};

/// Outlook's export with a German UI.
const OUTLOOK_DE: Vocabulary = Vocabulary {
    name: "outlook-de",
    role: |h| {
        Some(match h {
            "vorname" => Role::GivenName,
            "weitere vornamen" => Role::MiddleName,
            "nachname" => Role::FamilyName,
            "firma" => Role::Company,
            "abteilung" => Role::Department,
            "position" => Role::Position,
            "telefon geschaftlich"
            | "telefon geschaftlich 2"
            | "telefon firma"
            | "haupttelefon"
            | "telefon assistent"
            | "ruckmeldung"
            | "isdn" => Role::Phone(Work),
            "telefon privat" | "telefon privat 2" => Role::Phone(Home),
            "mobiltelefon" | "mobiltelefon 2" | "autotelefon" | "funktelefon" => {
                Role::Phone(Mobile)
            }
            "fax geschaftlich" | "fax privat" | "weiteres fax" => Role::Phone(Fax),
            "pager" => Role::Phone(Pager),
            "weiteres telefon" | "telefon fur horbehinderte" => Role::Phone(Other),
            "e mail adresse" => Role::Email,
            "kategorien" => Role::Group,
            "anrede"
            | "suffix"
            | "e mail typ"
            | "e mail angezeigter name"
            | "e mail 2 adresse"
            | "e mail 3 adresse"
            | "notizen"
            | "geburtstag"
            | "strasse geschaftlich"
            | "ort geschaftlich"
            | "postleitzahl geschaftlich"
            | "land region geschaftlich"
            | "webseite" => Role::Known,
            _ => return None,
        })
    },
};

/// Google Contacts export, current (`First Name`, `Phone 1 - Label`) and older
/// (`Given Name`, `Phone 1 - Type`) layouts.
const GOOGLE: Vocabulary = Vocabulary {
    name: "google",
    role: |h| {
        Some(match h {
            "name" => Role::DisplayName,
            "first name" | "given name" => Role::GivenName,
            "middle name" | "additional name" => Role::MiddleName,
            "last name" | "family name" => Role::FamilyName,
            "organization name" | "organization 1 name" => Role::Company,
            "organization title" | "organization 1 title" => Role::Position,
            "organization department" | "organization 1 department" => Role::Department,
            "labels" | "group membership" => Role::Labels,
            "e mail 1 value" => Role::Email,
            "nickname" | "notes" | "birthday" | "name prefix" | "name suffix" | "file as"
            | "yomi name" | "e mail 1 label" | "e mail 1 type" => Role::Known,
            _ => {
                let rest = h.strip_prefix("phone ")?;
                let (n, what) = rest.split_once(' ')?;
                let n: u8 = n.parse().ok()?;
                match what {
                    "label" | "type" => Role::PhoneLabel(n),
                    "value" => Role::PhoneValue(n),
                    _ => return None,
                }
            }
        })
    },
};

/// Hand-made sheets, in English and German, as people name their columns.
const GENERIC: Vocabulary = Vocabulary {
    name: "generic",
    role: |h| {
        Some(match h {
            "id" | "nr" | "kundennummer" | "contact id" => Role::InternalId,
            "name" | "anzeigename" | "display name" | "full name" | "kontakt" | "contact" => {
                Role::DisplayName
            }
            "vorname" | "first name" | "firstname" | "given name" => Role::GivenName,
            "nachname" | "last name" | "lastname" | "surname" | "family name" => Role::FamilyName,
            "firma" | "company" | "unternehmen" | "organisation" | "organization" => Role::Company,
            "abteilung" | "department" => Role::Department,
            "position" | "funktion" | "title" | "job title" => Role::Position,
            "e mail" | "email" | "mail" | "e mail adresse" | "email address" => Role::Email,
            "gruppe" | "group" | "kategorie" | "category" => Role::Group,
            "telefon"
            | "tel"
            | "phone"
            | "telephone"
            | "rufnummer"
            | "nummer"
            | "number"
            | "telefonnummer"
            | "telefon geschaftlich"
            | "tel geschaftlich"
            | "business phone"
            | "work"
            | "buro"
            | "office"
            | "dienstlich" => Role::Phone(Work),
            "mobil" | "handy" | "mobile" | "mobilnummer" | "mobiltelefon" | "cell"
            | "mobile phone" => Role::Phone(Mobile),
            "privat" | "tel privat" | "telefon privat" | "home" | "home phone" => Role::Phone(Home),
            "fax" | "telefax" | "fax geschaftlich" => Role::Phone(Fax),
            "pager" => Role::Phone(Pager),
            "extension" | "durchwahl" | "nebenstelle" | "intern" | "ext" | "interne nummer" => {
                Role::Phone(Extension)
            }
            "sonstige" | "weitere nummer" | "other" | "other phone" => Role::Phone(Other),
            "notiz" | "notizen" | "notes" | "bemerkung" | "strasse" | "ort" | "plz" | "street"
            | "city" | "zip" | "geburtstag" | "birthday" => Role::Known,
            _ => return None,
        })
    },
};

const VOCABULARIES: &[Vocabulary] = &[SYNCBLUE, OUTLOOK, OUTLOOK_DE, GOOGLE, GENERIC];

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
    pub vocabulary: String,
    pub roles: Vec<Option<Role>>,
}

/// Picks the vocabulary that recognises most columns and can yield a name and a number.
/// Columns named in an explicit map take the map's role, whatever the vocabulary says.
pub fn detect(headers: &[String], map: Option<&ExplicitMap>) -> Result<Mapping, IngestError> {
    let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
    let mapped: Vec<Option<Role>> = folded
        .iter()
        .map(|h| map.and_then(|m| m.role_of(h)))
        .collect();
    if let Some(m) = map {
        m.check_columns(&folded, headers)?;
    }
    let mut best: Option<(usize, Mapping)> = None;
    for vocabulary in VOCABULARIES {
        let roles: Vec<Option<Role>> = folded
            .iter()
            .zip(&mapped)
            .map(|(h, m)| m.or_else(|| (vocabulary.role)(h)))
            .collect();
        let has_name = roles.iter().flatten().any(|r| r.is_name());
        let has_number = roles.iter().flatten().any(|r| r.is_number());
        if !has_name || !has_number {
            continue;
        }
        let score = roles
            .iter()
            .zip(&mapped)
            .filter(|(r, m)| r.is_some() && m.is_none())
            .count();
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            let name = match (map.is_some(), score) {
                (false, _) => vocabulary.name.to_owned(),
                (true, 0) => "map".to_owned(),
                (true, _) => format!("{}+map", vocabulary.name),
            };
            best = Some((
                score,
                Mapping {
                    vocabulary: name,
                    roles,
                },
            ));
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

    fn vocab(s: &str) -> String {
        detect(&heads(s), None).unwrap().vocabulary
    }

    #[test]
    fn recognises_both_syncblue_layouts_in_any_case_and_order() {
        let m = detect(
            &heads("\u{feff}EMAIL, Phone ,Display_Name,internal_id"),
            None,
        )
        .unwrap();
        assert_eq!(m.vocabulary, "sync.blue");
        assert_eq!(
            m.roles,
            vec![
                Some(Role::Email),
                Some(Role::Phone(Work)),
                Some(Role::DisplayName),
                Some(Role::InternalId)
            ]
        );
        let m = detect(
            &heads("given_name,phone_mobile,phone_fax,birthday,notes"),
            None,
        )
        .unwrap();
        assert_eq!(
            m.roles,
            vec![
                Some(Role::GivenName),
                Some(Role::Phone(Mobile)),
                Some(Role::Phone(Fax)),
                Some(Role::Known),
                None
            ]
        );
    }

    #[test]
    fn recognises_each_exporter() {
        assert_eq!(
            vocab("First Name,Last Name,Company,Business Phone,Mobile Phone,E-mail Address"),
            "outlook"
        );
        assert_eq!(
            vocab("Vorname,Nachname,Firma,Telefon geschäftlich,Mobiltelefon,E-Mail-Adresse"),
            "outlook-de"
        );
        assert_eq!(
            vocab("First Name,Last Name,Phone 1 - Label,Phone 1 - Value"),
            "google"
        );
        assert_eq!(
            vocab("Given Name,Family Name,Phone 1 - Type,Phone 1 - Value"),
            "google"
        );
        assert_eq!(vocab("Name,Telefon,Handy,Durchwahl,E-Mail"), "generic");
        assert_eq!(vocab("NAME,TEL.,MOBIL"), "generic");
    }

    #[test]
    fn names_expected_and_found_columns_when_nothing_fits() {
        match detect(&heads("foo,bar"), None) {
            Err(IngestError::NoColumns { found, expected }) => {
                assert_eq!(found, vec!["foo", "bar"]);
                assert!(expected.contains(&"display_name"));
            }
            other => panic!("{:?}", other.map(|m| m.vocabulary)),
        }
    }
}
