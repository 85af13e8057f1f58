//! Reverse lookup: which contact does a calling number belong to. The number may arrive
//! in any shape a PBX or base station delivers (`+49…`, `0049…`, `0231…`, an extension).

use crate::domain::{Contact, PhoneNumber};
use crate::phone::NumberRules;

#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub contact: &'a Contact,
    pub number: &'a PhoneNumber,
    /// True for the same E.164 number or extension; false for a match on trailing digits.
    pub exact: bool,
}

/// Fewest trailing digits that identify a number when the caller's shape cannot be read.
const MIN_SUFFIX_DIGITS: usize = 7;

/// Every stored number that is the calling number, exact matches first; trailing-digit
/// matches only when nothing matched exactly. Order within each group follows `contacts`.
pub fn by_number<'a>(contacts: &'a [Contact], raw: &str, rules: &NumberRules) -> Vec<Hit<'a>> {
    let all = || {
        contacts
            .iter()
            .flat_map(|c| c.numbers.iter().map(move |n| (c, n)))
    };
    if let Ok(wanted) = rules.parse(raw, crate::domain::NumberType::Work) {
        let exact: Vec<Hit> = all()
            .filter(|(_, n)| n.value == wanted.value && n.is_extension() == wanted.is_extension())
            .map(|(contact, number)| Hit {
                contact,
                number,
                exact: true,
            })
            .collect();
        if !exact.is_empty() || wanted.is_extension() {
            return exact;
        }
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let tail = digits.trim_start_matches('0');
    if tail.len() < MIN_SUFFIX_DIGITS {
        return Vec::new();
    }
    all()
        .filter(|(_, n)| !n.is_extension() && n.value.ends_with(tail))
        .map(|(contact, number)| Hit {
            contact,
            number,
            exact: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NumberType;

    fn book() -> Vec<Contact> {
        let c = |name: &str, kind, v: &str| Contact {
            display_name: name.into(),
            numbers: vec![PhoneNumber {
                kind,
                value: v.into(),
            }],
            ..Default::default()
        };
        vec![
            c("Anna", NumberType::Work, "+492311234567"),
            c("Ben", NumberType::Extension, "42"),
            c("Cleo", NumberType::Mobile, "+4915112345678"),
        ]
    }

    fn names(hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| h.contact.display_name.clone())
            .collect()
    }

    #[test]
    fn finds_a_number_in_every_shape() {
        let de = NumberRules {
            region: Some("DE".parse().unwrap()),
            ..Default::default()
        };
        let b = book();
        for q in [
            "+492311234567",
            "00492311234567",
            "0231 1234567",
            "0231/123 45 67",
        ] {
            let hits = by_number(&b, q, &de);
            assert_eq!(names(&hits), vec!["Anna"], "{q}");
            assert!(hits[0].exact);
        }
        assert_eq!(names(&by_number(&b, "42", &de)), vec!["Ben"]);
        assert!(by_number(&b, "43", &de).is_empty());
        // Without a region a national number still matches on its trailing digits.
        let hits = by_number(&b, "0231 1234567", &NumberRules::default());
        assert_eq!(names(&hits), vec!["Anna"]);
        assert!(!hits[0].exact);
    }
}
