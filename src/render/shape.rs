//! Number shapes: how a stored number (E.164 or an extension) is written for one phone.
//! Phones behind a PBX and phones that compare caller IDs literally need the number in the
//! shape the line delivers it: `+4923648873040`, `004923648873040`, `023648873040`, with an
//! outside-line prefix `0023648873040`. Extensions are always written as dialled.

use crate::domain::{DirectorySettings, PhoneNumber};
use crate::phone::Region;

/// The `numbers=` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

impl std::str::FromStr for Shape {
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

/// Reads an outside-line prefix: up to four digits; empty means none.
pub fn outside_prefix(s: &str) -> Result<String, ShapeError> {
    let p = s.trim();
    if p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShapeError::OutsidePrefix(s.to_owned()));
    }
    Ok(p.to_owned())
}

/// How numbers are written for one request.
#[derive(Clone, Debug, Default)]
pub struct Presenter {
    pub shape: Shape,
    /// The directory's country, for `national` and `auto`.
    pub region: Option<Region>,
    /// Dialled before every external number, never before an extension.
    pub outside_prefix: String,
}

/// The request's own `numbers`, `outside_prefix` and `region` parameters, each one optional.
#[derive(Clone, Debug, Default)]
pub struct ShapeParams<'a> {
    pub numbers: Option<&'a str>,
    pub outside_prefix: Option<&'a str>,
    pub region: Option<&'a str>,
}

impl Presenter {
    /// The presenter for a request: URL parameters win over the directory's settings,
    /// which win over the server's default region. Bad parameters are refused with a
    /// message that names them, never silently ignored.
    pub fn resolve(
        url: &ShapeParams<'_>,
        settings: Option<&DirectorySettings>,
        default_region: Option<Region>,
    ) -> Result<Presenter, ShapeError> {
        let pick = |u: Option<&'_ str>, s: Option<&'_ String>| -> Option<String> {
            u.map(str::to_owned).or_else(|| s.cloned())
        };
        let shape = match pick(url.numbers, settings.and_then(|s| s.numbers.as_ref())) {
            Some(s) if !s.trim().is_empty() => s.parse()?,
            _ => Shape::E164,
        };
        let outside_prefix = match pick(
            url.outside_prefix,
            settings.and_then(|s| s.outside_prefix.as_ref()),
        ) {
            Some(p) => outside_prefix(&p)?,
            None => String::new(),
        };
        let region = match pick(url.region, settings.and_then(|s| s.region.as_ref())) {
            Some(r) if !r.trim().is_empty() => Some(
                r.parse::<Region>()
                    .map_err(|e| ShapeError::Region(e.to_string()))?,
            ),
            _ => default_region,
        };
        Ok(Presenter {
            shape,
            region,
            outside_prefix,
        })
    }

    pub fn show(&self, n: &PhoneNumber) -> String {
        if n.is_extension() {
            return n.value.clone();
        }
        let digits = n.value.trim_start_matches('+');
        let home = self
            .region
            .filter(|r| crate::phone::calling_code(&n.value) == Some(r.calling_code()));
        let shaped = match (self.shape, home) {
            (Shape::E164, _) | (Shape::National, None) => n.value.clone(),
            (Shape::Intl00, _) | (Shape::Auto, None) => format!("00{digits}"),
            (Shape::National | Shape::Auto, Some(_)) => {
                national(&n.value).unwrap_or_else(|| format!("00{digits}"))
            }
        };
        if self.outside_prefix.is_empty() {
            return shaped;
        }
        // A dial string cannot carry `+` after digits: behind an outside-line prefix the
        // international form is written with `00`.
        match shaped.strip_prefix('+') {
            Some(rest) => format!("{}00{rest}", self.outside_prefix),
            None => format!("{}{shaped}", self.outside_prefix),
        }
    }
}

/// The number as dialled inside its own country, digits only (`023648873040`). Only home
/// numbers get here, one country's patterns, so the crate's formatter is cheap.
fn national(e164: &str) -> Option<String> {
    let n = phonenumber::parse(None, e164).ok()?;
    let text = n.format().mode(phonenumber::Mode::National).to_string();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NumberType;

    fn n(kind: NumberType, v: &str) -> PhoneNumber {
        PhoneNumber {
            kind,
            value: v.into(),
        }
    }

    fn p(shape: &str, prefix: &str) -> Presenter {
        Presenter::resolve(
            &ShapeParams {
                numbers: Some(shape),
                outside_prefix: Some(prefix),
                region: Some("DE"),
            },
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn every_shape_for_national_foreign_and_extension_numbers() {
        let de = n(NumberType::Work, "+4923648873040");
        let at = n(NumberType::Mobile, "+436641234567");
        let ext = n(NumberType::Extension, "42");
        let cases = [
            ("e164", "", ["+4923648873040", "+436641234567", "42"]),
            ("intl00", "", ["004923648873040", "00436641234567", "42"]),
            ("national", "", ["023648873040", "+436641234567", "42"]),
            ("auto", "", ["023648873040", "00436641234567", "42"]),
            ("e164", "0", ["0004923648873040", "000436641234567", "42"]),
            ("intl00", "0", ["0004923648873040", "000436641234567", "42"]),
            ("national", "0", ["0023648873040", "000436641234567", "42"]),
            ("auto", "0", ["0023648873040", "000436641234567", "42"]),
        ];
        for (shape, prefix, want) in cases {
            let pr = p(shape, prefix);
            let got = [pr.show(&de), pr.show(&at), pr.show(&ext)];
            assert_eq!(got, want, "numbers={shape} outside_prefix={prefix}");
        }
    }

    #[test]
    fn every_shape_the_settings_accept_is_one_we_render() {
        for name in crate::domain::NUMBER_SHAPES {
            assert!(name.parse::<Shape>().is_ok(), "{name}");
        }
    }

    #[test]
    fn national_keeps_the_leading_zero_of_italian_numbers() {
        let it = n(NumberType::Work, "+390612345678");
        let pr = Presenter::resolve(
            &ShapeParams {
                numbers: Some("national"),
                region: Some("IT"),
                ..Default::default()
            },
            None,
            None,
        )
        .unwrap();
        assert_eq!(pr.show(&it), "0612345678");
    }

    #[test]
    fn url_wins_over_settings_and_bad_values_are_named() {
        let s = DirectorySettings {
            numbers: Some("national".into()),
            region: Some("DE".into()),
            outside_prefix: Some("0".into()),
            ..Default::default()
        };
        let from_settings = Presenter::resolve(&ShapeParams::default(), Some(&s), None).unwrap();
        assert_eq!(from_settings.shape, Shape::National);
        assert_eq!(from_settings.outside_prefix, "0");
        let url = ShapeParams {
            numbers: Some("e164"),
            outside_prefix: Some(""),
            ..Default::default()
        };
        let overridden = Presenter::resolve(&url, Some(&s), None).unwrap();
        assert_eq!(overridden.shape, Shape::E164);
        assert_eq!(overridden.outside_prefix, "");
        let bad = |u: ShapeParams| Presenter::resolve(&u, None, None).unwrap_err().to_string();
        assert!(bad(ShapeParams {
            numbers: Some("roman"),
            ..Default::default()
        })
        .contains("roman"));
        assert!(bad(ShapeParams {
            outside_prefix: Some("0a"),
            ..Default::default()
        })
        .contains("0a"));
        assert!(bad(ShapeParams {
            region: Some("XX"),
            ..Default::default()
        })
        .contains("XX"));
    }
}
