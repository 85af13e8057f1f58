//! Number shapes: how a stored number (E.164 or an extension) is written for one phone.
//! Phones behind a PBX and phones that compare caller IDs literally need the number in the
//! shape the line delivers it: `+4923648873040`, `004923648873040`, `023648873040`, with an
//! outside-line prefix `0023648873040`. Extensions are always written as dialled.

use crate::domain::phone::Region;
use crate::domain::{DirectorySettings, OutsidePrefix, PhoneNumber, Shape, ShapeError};

/// How numbers are written for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Presenter {
    pub shape: Shape,
    /// The directory's country, for `national` and `auto`.
    pub region: Option<Region>,
    /// Dialled before every external number, never before an extension.
    pub outside_prefix: OutsidePrefix,
}

/// A request's own `numbers`, `outside_prefix` and `region` (URL parameters or CLI flags),
/// each one optional, already parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ShapeParams {
    pub numbers: Option<Shape>,
    pub outside_prefix: Option<OutsidePrefix>,
    pub region: Option<Region>,
}

impl ShapeParams {
    /// Reads the three values as a URL or the CLI gives them. An empty `numbers` means the
    /// default shape and an empty `outside_prefix` no prefix, whatever the directory says;
    /// an empty `region` is no region given.
    pub fn parse(
        numbers: Option<&str>,
        outside_prefix: Option<&str>,
        region: Option<&str>,
    ) -> Result<ShapeParams, ShapeError> {
        Ok(ShapeParams {
            numbers: numbers
                .map(|n| {
                    if n.trim().is_empty() {
                        Ok(Shape::E164)
                    } else {
                        n.parse()
                    }
                })
                .transpose()?,
            outside_prefix: outside_prefix.map(str::parse).transpose()?,
            region: region
                .filter(|r| !r.trim().is_empty())
                .map(|r| {
                    r.parse::<Region>()
                        .map_err(|e| ShapeError::Region(e.to_string()))
                })
                .transpose()?,
        })
    }
}

impl Presenter {
    /// The presenter for a request: its own parameters win over the directory's settings,
    /// which win over the server's default region.
    pub fn resolve(
        url: &ShapeParams,
        settings: Option<&DirectorySettings>,
        default_region: Option<Region>,
    ) -> Presenter {
        Presenter {
            shape: url
                .numbers
                .or_else(|| settings.and_then(|s| s.numbers))
                .unwrap_or_default(),
            outside_prefix: url
                .outside_prefix
                .clone()
                .or_else(|| settings.and_then(|s| s.outside_prefix.clone()))
                .unwrap_or_default(),
            region: url
                .region
                .or_else(|| settings.and_then(|s| s.region))
                .or(default_region),
        }
    }

    pub fn show(&self, n: &PhoneNumber) -> String {
        self.shown(n).to_string()
    }

    /// The number as `show` writes it, written straight into a renderer's output: readers
    /// that answer searches write many numbers per request and need no String for each.
    pub fn shown<'a>(&'a self, n: &'a PhoneNumber) -> Shown<'a> {
        Shown(Some((self, n)))
    }
}

/// A number in its shape (`Presenter::shown`), or nothing (`Shown::default()`, an empty slot).
#[derive(Clone, Copy, Default)]
pub struct Shown<'a>(Option<(&'a Presenter, &'a PhoneNumber)>);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f)
    }
}

/// Templates write a number straight into the body through this, not through `Display`'s
/// formatting machinery: a Yealink search answer writes three numbers per hit.
impl askama::FastWritable for Shown<'_> {
    fn write_into(
        &self,
        dest: &mut dyn std::fmt::Write,
        _: &dyn askama::Values,
    ) -> askama::Result<()> {
        Ok(self.write_to(dest)?)
    }
}

impl Shown<'_> {
    /// An empty slot: a stored number is never written as nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The one rule both ways of writing a number follow.
    fn write_to(&self, f: &mut dyn std::fmt::Write) -> std::fmt::Result {
        let Some((p, n)) = self.0 else {
            return Ok(());
        };
        if n.is_extension() {
            return f.write_str(&n.value);
        }
        let digits = n.value.trim_start_matches('+');
        // Only the shapes that write home numbers nationally ask for the country.
        let home = || {
            p.region
                .is_some_and(|r| crate::phone::calling_code(&n.value) == Some(r.calling_code()))
        };
        let national_digits;
        // The shape as (whether `00` goes before it, the digits or E.164 to write).
        let (intl, rest): (bool, &str) = match p.shape {
            Shape::E164 => (false, &n.value),
            Shape::Intl00 => (true, digits),
            Shape::National | Shape::Auto if home() => match national(&n.value) {
                Some(d) => {
                    national_digits = d;
                    (false, &national_digits)
                }
                None => (true, digits),
            },
            Shape::National => (false, &n.value),
            Shape::Auto => (true, digits),
        };
        f.write_str(p.outside_prefix.as_str())?;
        // A dial string cannot carry `+` after digits: behind an outside-line prefix the
        // international form is written with `00`.
        let rest = match rest.strip_prefix('+') {
            Some(after) if !p.outside_prefix.is_empty() => {
                f.write_str("00")?;
                after
            }
            _ if intl => {
                f.write_str("00")?;
                rest
            }
            _ => rest,
        };
        f.write_str(rest)
    }
}

/// The number as dialled inside its own country, digits only (`023648873040`). Only home
/// numbers get here, one country's patterns, so the crate's formatter is cheap.
pub fn national(e164: &str) -> Option<String> {
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
            &ShapeParams::parse(Some(shape), Some(prefix), Some("DE")).unwrap(),
            None,
            None,
        )
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
            // Templates write it without `Display`: the same bytes.
            for (n, want) in [&de, &at, &ext].into_iter().zip(&want) {
                let mut fast = String::new();
                askama::FastWritable::write_into(&pr.shown(n), &mut fast, &())
                    .expect("a String takes every write");
                assert_eq!(&fast, want);
            }
        }
    }

    #[test]
    fn national_keeps_the_leading_zero_of_italian_numbers() {
        let it = n(NumberType::Work, "+390612345678");
        let pr = Presenter::resolve(
            &ShapeParams::parse(Some("national"), None, Some("IT")).unwrap(),
            None,
            None,
        );
        assert_eq!(pr.show(&it), "0612345678");
    }

    #[test]
    fn url_wins_over_settings_and_bad_values_are_named() {
        let s = DirectorySettings {
            numbers: Some(Shape::National),
            region: "DE".parse().ok(),
            outside_prefix: "0".parse().ok(),
            ..Default::default()
        };
        let from_settings = Presenter::resolve(&ShapeParams::default(), Some(&s), None);
        assert_eq!(from_settings.shape, Shape::National);
        assert_eq!(from_settings.outside_prefix.as_str(), "0");
        let url = ShapeParams::parse(Some("e164"), Some(""), None).unwrap();
        let overridden = Presenter::resolve(&url, Some(&s), None);
        assert_eq!(overridden.shape, Shape::E164);
        assert_eq!(overridden.outside_prefix.as_str(), "");
        let bad = |n, o, r| ShapeParams::parse(n, o, r).unwrap_err().to_string();
        assert!(bad(Some("roman"), None, None).contains("roman"));
        assert!(bad(None, Some("0a"), None).contains("0a"));
        assert!(bad(None, None, Some("XX")).contains("XX"));
    }
}
