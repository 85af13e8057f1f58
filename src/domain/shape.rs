//! Number shapes as settings: how a directory (or one URL) wants stored numbers written for
//! its phones. Parsed once, at the edge (settings JSON, URL parameters, CLI flags); the
//! presenter in `render::shape` applies them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The `numbers=` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `+4923648873040`, as stored.
    #[default]
    E164,
    /// `004923648873040`: digits only, for phones and PBXs that cannot dial `+`.
    Intl00,
    /// `023648873040` for numbers of the region; numbers of other countries stay E.164.
    National,
    /// National for numbers of the region, `00`-international for the rest: digits only.
    Auto,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShapeError {
    #[error("numbers is `{0}`; use e164, intl00, national or auto")]
    Shape(String),
    #[error("outside_prefix is `{0}`; use up to 4 digits (for example 0)")]
    OutsidePrefix(String),
    #[error("{0}")]
    Region(String),
    #[error("numbers={0} writes numbers as they are dialled inside one country, and neither the URL nor the directory names it; add &region=DE (your country) or set the directory's region")]
    NeedsRegion(&'static str),
}

impl Shape {
    pub const NAMES: [&'static str; 4] = ["e164", "intl00", "national", "auto"];

    pub fn name(self) -> &'static str {
        match self {
            Shape::E164 => "e164",
            Shape::Intl00 => "intl00",
            Shape::National => "national",
            Shape::Auto => "auto",
        }
    }

    /// National and auto write home numbers without their country code, so they need to
    /// know which country is home.
    pub fn needs_region(self) -> bool {
        matches!(self, Shape::National | Shape::Auto)
    }
}

impl FromStr for Shape {
    type Err = ShapeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "e164" => Shape::E164,
            "intl00" => Shape::Intl00,
            "national" => Shape::National,
            "auto" => Shape::Auto,
            _ => return Err(ShapeError::Shape(s.to_owned())),
        })
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Digits a PBX needs for an outside line (`0`): up to four digits, possibly none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OutsidePrefix(String);

impl OutsidePrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for OutsidePrefix {
    type Err = ShapeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = s.trim();
        if p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ShapeError::OutsidePrefix(s.to_owned()));
        }
        Ok(OutsidePrefix(p.to_owned()))
    }
}

impl fmt::Display for OutsidePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serialized as the text people write (`"national"`, `"0"`), read through `FromStr` so the
/// error names the value and the accepted ones.
macro_rules! serde_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_as_text!(Shape, OutsidePrefix);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_read_back_their_names_and_bad_values_are_named() {
        for n in Shape::NAMES {
            assert_eq!(n.parse::<Shape>().map(Shape::name), Ok(n));
        }
        assert!("roman"
            .parse::<Shape>()
            .unwrap_err()
            .to_string()
            .contains("roman"));
    }

    #[test]
    fn outside_prefix_takes_up_to_four_digits() {
        assert_eq!("0".parse::<OutsidePrefix>().unwrap().as_str(), "0");
        assert!("".parse::<OutsidePrefix>().unwrap().is_empty());
        assert!("0a".parse::<OutsidePrefix>().is_err());
        assert!("00000".parse::<OutsidePrefix>().is_err());
    }
}
