//! A directory's own settings: what its phones see and how its pushes are read. Every field
//! is optional; an unset field falls back to the server's flags.

use crate::phone::Region;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    /// The title phones show above the book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Country for national numbers in pushes and lookups (`DE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// How numbers are written for phones: `e164`, `intl00`, `national` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<String>,
    /// Digits a PBX needs for an outside line (`0`), put before every external number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_prefix: Option<String>,
    /// Refuse a push that would shrink a source by more than this share (percent) unless
    /// `?force=true`: an export that lost half its rows must not wipe half the book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_shrink_percent: Option<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{0}")]
    Region(String),
    #[error("numbers is `{0}`; use e164, intl00, national or auto")]
    Numbers(String),
    #[error("outside_prefix is `{0}`; use up to 4 digits (for example 0)")]
    OutsidePrefix(String),
    #[error("max_shrink_percent is {0}; use 0 to 100")]
    Shrink(u8),
    #[error("name has {0} characters; use at most 64")]
    Name(usize),
}

pub const NUMBER_SHAPES: [&str; 4] = ["e164", "intl00", "national", "auto"];

impl DirectorySettings {
    /// Checks every field, so a stored setting is always one the server can use.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if let Some(n) = &self.name {
            let len = n.chars().count();
            if len > 64 {
                return Err(SettingsError::Name(len));
            }
        }
        if let Some(r) = &self.region {
            r.parse::<Region>()
                .map_err(|e| SettingsError::Region(e.to_string()))?;
        }
        if let Some(n) = &self.numbers {
            if !NUMBER_SHAPES.contains(&n.as_str()) {
                return Err(SettingsError::Numbers(n.clone()));
            }
        }
        if let Some(p) = &self.outside_prefix {
            if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SettingsError::OutsidePrefix(p.clone()));
            }
        }
        if let Some(s) = self.max_shrink_percent {
            if s > 100 {
                return Err(SettingsError::Shrink(s));
            }
        }
        Ok(())
    }

    pub fn region(&self) -> Option<Region> {
        self.region.as_deref().and_then(|r| r.parse().ok())
    }

    /// Fields set in `other` replace ours; the rest stay.
    pub fn merge(&mut self, other: DirectorySettings) {
        macro_rules! take {
            ($($f:ident),*) => {$( if other.$f.is_some() { self.$f = other.$f; } )*};
        }
        take!(name, region, numbers, outside_prefix, max_shrink_percent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_every_field() {
        let ok = DirectorySettings {
            name: Some("ACME".into()),
            region: Some("DE".into()),
            numbers: Some("national".into()),
            outside_prefix: Some("0".into()),
            max_shrink_percent: Some(50),
        };
        assert_eq!(ok.validate(), Ok(()));
        let bad = |f: fn(&mut DirectorySettings)| {
            let mut s = ok.clone();
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert!(bad(|s| s.region = Some("XX".into())).contains("XX"));
        assert!(bad(|s| s.numbers = Some("roman".into())).contains("e164"));
        assert!(bad(|s| s.outside_prefix = Some("0a".into())).contains("digits"));
        assert!(bad(|s| s.max_shrink_percent = Some(101)).contains("0 to 100"));
    }

    #[test]
    fn json_refuses_unknown_fields_and_merge_keeps_unset_ones() {
        assert!(serde_json::from_str::<DirectorySettings>(r#"{"regoin":"DE"}"#).is_err());
        let mut s: DirectorySettings = serde_json::from_str(r#"{"region":"DE"}"#).unwrap();
        s.merge(DirectorySettings {
            outside_prefix: Some("0".into()),
            ..Default::default()
        });
        assert_eq!(s.region.as_deref(), Some("DE"));
        assert_eq!(s.outside_prefix.as_deref(), Some("0"));
    }
}
