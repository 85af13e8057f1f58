//! A directory's own settings: what its phones see and how its pushes are read. Every field
//! is optional; an unset field falls back to the server's flags. Parsed once into types
//! (`Region`, `Shape`, `OutsidePrefix`) where they enter — the settings API, the CLI, the
//! database — so no reader validates a string again.

use super::phone::Region;
use super::{OutsidePrefix, Shape};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "RawSettings")]
pub struct DirectorySettings {
    /// The title phones show above the book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Country for national numbers in pushes and lookups (`DE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// How numbers are written for phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Shape>,
    /// Digits a PBX needs for an outside line (`0`), put before every external number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_prefix: Option<OutsidePrefix>,
    /// How address books (vCard, CardDAV) write numbers; unset is E.164, since address books
    /// travel to smartphones. `numbers` and `outside_prefix` do not apply to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_book_numbers: Option<Shape>,
    /// Refuse a push that would shrink a source by more than this share (percent) unless
    /// `?force=true`: an export that lost half its rows must not wipe half the book.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_shrink_percent: Option<u8>,
}

/// The settings as JSON carries them, before their values are checked: a body of the wrong
/// shape (an unknown field, a number where text belongs) is a malformed request, a value
/// that is not acceptable (region `XX`) is an unprocessable one.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub numbers: Option<String>,
    #[serde(default)]
    pub outside_prefix: Option<String>,
    #[serde(default)]
    pub address_book_numbers: Option<String>,
    #[serde(default)]
    pub max_shrink_percent: Option<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{0}")]
    Region(String),
    #[error("{0}")]
    Shape(#[from] super::ShapeError),
    #[error("max_shrink_percent is {0}; use 0 to 100")]
    Shrink(u8),
    #[error("name has {0} characters; use at most 64")]
    Name(usize),
    #[error("{field} is {shape}, which writes numbers as they are dialled inside one country, and no region says which country; set the region too (for example DE)")]
    NeedsRegion { field: &'static str, shape: Shape },
}

impl TryFrom<RawSettings> for DirectorySettings {
    type Error = SettingsError;

    fn try_from(raw: RawSettings) -> Result<Self, SettingsError> {
        if let Some(n) = &raw.name {
            let len = n.chars().count();
            if len > 64 {
                return Err(SettingsError::Name(len));
            }
        }
        if let Some(s) = raw.max_shrink_percent {
            if s > 100 {
                return Err(SettingsError::Shrink(s));
            }
        }
        let region = raw
            .region
            .as_deref()
            .map(str::parse::<Region>)
            .transpose()
            .map_err(|e| SettingsError::Region(e.to_string()))?;
        let numbers = raw.numbers.as_deref().map(str::parse).transpose()?;
        let address_book_numbers = raw
            .address_book_numbers
            .as_deref()
            .map(str::parse)
            .transpose()?;
        let outside_prefix = match raw
            .outside_prefix
            .as_deref()
            .map(str::parse::<OutsidePrefix>)
        {
            // An empty prefix is no prefix.
            Some(Ok(p)) if p.is_empty() => {
                return Err(super::ShapeError::OutsidePrefix(String::new()).into())
            }
            other => other.transpose()?,
        };
        Ok(DirectorySettings {
            name: raw.name,
            region,
            numbers,
            outside_prefix,
            address_book_numbers,
            max_shrink_percent: raw.max_shrink_percent,
        })
    }
}

impl DirectorySettings {
    /// National and auto shapes need a home country: the directory's region, else the
    /// server's default region. Without one they would silently write E.164, so settings
    /// that ask for them without a region are refused.
    pub fn check_region(&self, default_region: Option<Region>) -> Result<(), SettingsError> {
        if self.region.or(default_region).is_some() {
            return Ok(());
        }
        for (field, shape) in [
            ("numbers", self.numbers),
            ("address_book_numbers", self.address_book_numbers),
        ] {
            if let Some(shape) = shape.filter(|s| s.needs_region()) {
                return Err(SettingsError::NeedsRegion { field, shape });
            }
        }
        Ok(())
    }

    /// Fields set in `other` replace ours; the rest stay.
    pub fn merge(&mut self, other: DirectorySettings) {
        macro_rules! take {
            ($($f:ident),*) => {$( if other.$f.is_some() { self.$f = other.$f; } )*};
        }
        take!(
            name,
            region,
            numbers,
            outside_prefix,
            address_book_numbers,
            max_shrink_percent
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<DirectorySettings, String> {
        let raw: RawSettings = serde_json::from_str(json).map_err(|e| format!("shape: {e}"))?;
        DirectorySettings::try_from(raw).map_err(|e| e.to_string())
    }

    #[test]
    fn validates_every_field() {
        let ok = parse(
            r#"{"name":"ACME","region":"DE","numbers":"national","outside_prefix":"0","max_shrink_percent":50}"#,
        )
        .unwrap();
        assert_eq!(ok.numbers, Some(Shape::National));
        assert_eq!(ok.region.map(|r| r.to_string()).as_deref(), Some("DE"));
        assert!(parse(r#"{"region":"XX"}"#).unwrap_err().contains("XX"));
        assert!(parse(r#"{"numbers":"roman"}"#)
            .unwrap_err()
            .contains("e164"));
        assert!(parse(r#"{"outside_prefix":"0a"}"#)
            .unwrap_err()
            .contains("digits"));
        assert!(parse(r#"{"max_shrink_percent":101}"#)
            .unwrap_err()
            .contains("0 to 100"));
        assert!(parse(&format!(r#"{{"name":"{}"}}"#, "x".repeat(65)))
            .unwrap_err()
            .contains("64"));
    }

    #[test]
    fn national_and_auto_need_a_region() {
        for json in [
            r#"{"numbers":"national"}"#,
            r#"{"numbers":"auto","outside_prefix":"0"}"#,
            r#"{"address_book_numbers":"national"}"#,
        ] {
            let s = parse(json).unwrap();
            let e = s.check_region(None).unwrap_err().to_string();
            assert!(e.contains("set the region"), "{json}: {e}");
            assert!(s.check_region("DE".parse().ok()).is_ok(), "{json}");
        }
        for json in [
            r#"{"numbers":"national","region":"DE"}"#,
            r#"{"numbers":"intl00"}"#,
            r#"{}"#,
        ] {
            assert!(parse(json).unwrap().check_region(None).is_ok(), "{json}");
        }
    }

    #[test]
    fn json_refuses_unknown_fields_and_merge_keeps_unset_ones() {
        assert!(parse(r#"{"regoin":"DE"}"#)
            .unwrap_err()
            .starts_with("shape"));
        let mut s = parse(r#"{"region":"DE"}"#).unwrap();
        s.merge(DirectorySettings {
            outside_prefix: Some("0".parse().unwrap()),
            ..Default::default()
        });
        assert_eq!(s.region.map(|r| r.to_string()).as_deref(), Some("DE"));
        assert_eq!(s.outside_prefix.as_ref().map(|p| p.as_str()), Some("0"));
    }

    #[test]
    fn stored_settings_read_back_as_written() {
        let s =
            parse(r#"{"name":"A","region":"AT","numbers":"auto","outside_prefix":"0"}"#).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<DirectorySettings>(&json).unwrap(), s);
    }
}
