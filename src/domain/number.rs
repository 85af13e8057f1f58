use serde::{Deserialize, Serialize};
use std::fmt;

/// What a number is for. `Extension` is an internal PBX number that is dialled as it is and
/// never has a country code; every other type holds an E.164 number.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum NumberType {
    Work,
    Home,
    Mobile,
    Fax,
    Pager,
    Other,
    Extension,
}

impl NumberType {
    pub const ALL: [NumberType; 7] = [
        NumberType::Work,
        NumberType::Home,
        NumberType::Mobile,
        NumberType::Fax,
        NumberType::Pager,
        NumberType::Other,
        NumberType::Extension,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Work => "WORK",
            NumberType::Home => "HOME",
            NumberType::Mobile => "MOBILE",
            NumberType::Fax => "FAX",
            NumberType::Pager => "PAGER",
            NumberType::Other => "OTHER",
            NumberType::Extension => "EXTENSION",
        }
    }

    /// A label for people, as phones show it next to a name.
    pub fn label(self) -> &'static str {
        match self {
            NumberType::Work => "Work",
            NumberType::Home => "Home",
            NumberType::Mobile => "Mobile",
            NumberType::Fax => "Fax",
            NumberType::Pager => "Pager",
            NumberType::Other => "Other",
            NumberType::Extension => "Extension",
        }
    }

    /// Reads a type name or one of the aliases that exporters and people write.
    /// Case, spaces, dashes and underscores do not matter (`Work Fax` = `WORK_FAX`).
    pub fn from_alias(s: &str) -> Option<NumberType> {
        let k: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
            .flat_map(char::to_uppercase)
            .collect();
        Some(match k.as_str() {
            "WORK" | "BUSINESS" | "OFFICE" | "VOICE" | "MAIN" | "COMPANY" | "COMPANYMAIN"
            | "WORKPHONE" | "BUSINESSPHONE" | "DIENSTLICH" | "GESCHAEFTLICH" | "GESCHÄFTLICH"
            | "BUERO" | "BÜRO" | "TEL" | "PHONE" | "TELEFON" => NumberType::Work,
            "HOME" | "PRIVATE" | "PRIVAT" | "HOMEPHONE" | "RESIDENCE" => NumberType::Home,
            "MOBILE" | "CELL" | "CELLULAR" | "MOBIL" | "HANDY" | "MOBILEPHONE" | "CELLPHONE"
            | "IPHONE" => NumberType::Mobile,
            "FAX" | "WORKFAX" | "BUSINESSFAX" | "HOMEFAX" | "FAXWORK" | "FAXHOME" | "TELEFAX"
            | "OTHERFAX" => NumberType::Fax,
            "PAGER" | "BEEPER" => NumberType::Pager,
            "OTHER" | "OTHERPHONE" | "SONSTIGE" | "ANDERE" => NumberType::Other,
            "EXT" | "EXTENSION" | "INTERNAL" | "INTERN" | "DURCHWAHL" | "NEBENSTELLE" => {
                NumberType::Extension
            }
            _ => return None,
        })
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed number as stored: `value` is E.164 (`+4923648873040`) for every type but
/// `Extension`, where it is the digits as dialled inside the PBX (`42`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhoneNumber {
    #[serde(rename = "type")]
    pub kind: NumberType,
    #[serde(rename = "number")]
    pub value: String,
}

impl PhoneNumber {
    pub fn is_extension(&self) -> bool {
        self.kind == NumberType::Extension
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_types() {
        assert_eq!(NumberType::from_alias("cell"), Some(NumberType::Mobile));
        assert_eq!(NumberType::from_alias("Business"), Some(NumberType::Work));
        assert_eq!(NumberType::from_alias("office"), Some(NumberType::Work));
        assert_eq!(NumberType::from_alias("Work Fax"), Some(NumberType::Fax));
        assert_eq!(NumberType::from_alias("EXT"), Some(NumberType::Extension));
        assert_eq!(NumberType::from_alias("Handy"), Some(NumberType::Mobile));
        assert_eq!(NumberType::from_alias("spaceship"), None);
    }

    #[test]
    fn every_type_reads_back_its_own_name() {
        for t in NumberType::ALL {
            assert_eq!(NumberType::from_alias(t.as_str()), Some(t));
        }
    }
}
