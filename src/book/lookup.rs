//! Reverse lookup: which contact does a calling number belong to. The number may arrive
//! in any shape a PBX or base station delivers (`+49…`, `0049…`, `0231…`, an extension).

use super::index::{Numbers, SUFFIX};
use crate::domain::{Contact, NumberType, PhoneNumber};
use crate::phone::NumberRules;

#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub contact: &'a Contact,
    pub number: &'a PhoneNumber,
    /// True for the same E.164 number or extension; false for a match on trailing digits.
    pub exact: bool,
}

/// Fewest trailing digits that identify a number when the caller's shape cannot be read.
pub const MIN_SUFFIX_DIGITS: usize = SUFFIX;

/// Every stored number that is the calling number, exact matches first; trailing-digit
/// matches only when nothing matched exactly, the closest (fewest unmatched leading digits)
/// first. Ties keep the order of `contacts`, so the first hit is the same on every call.
///
/// A PBX that needs `outside_prefix` for outside lines often delivers callers with it
/// (`0023648873040`); such a number is read without the prefix first, then as it is.
///
/// `index` is `contacts`' number index; each call costs a few binary searches, whatever the
/// size of the book, plus the hits: at most `limit` of them, since a company's switchboard
/// number may be on thousands of contacts and a PBX wants one name.
pub fn by_number<'a>(
    contacts: &'a [Contact],
    index: &Numbers,
    raw: &str,
    rules: &NumberRules,
    outside_prefix: &str,
    limit: usize,
) -> Vec<Hit<'a>> {
    let raw = raw.trim();
    let mut shapes = Vec::with_capacity(2);
    if !outside_prefix.is_empty() {
        if let Some(rest) = raw.strip_prefix(outside_prefix) {
            shapes.push(rest);
        }
    }
    shapes.push(raw);
    for shape in &shapes {
        let exact = exact(contacts, index, shape, rules, limit);
        if !exact.is_empty() {
            return exact;
        }
    }
    shapes
        .iter()
        .map(|shape| by_suffix(contacts, index, shape, limit))
        .find(|hits| !hits.is_empty())
        .unwrap_or_default()
}

fn at(contacts: &[Contact], (entry, number): (u32, u16)) -> Option<(&Contact, &PhoneNumber)> {
    let c = contacts.get(entry as usize)?;
    Some((c, c.numbers.get(usize::from(number))?))
}

fn exact<'a>(
    contacts: &'a [Contact],
    index: &Numbers,
    raw: &str,
    rules: &NumberRules,
    limit: usize,
) -> Vec<Hit<'a>> {
    let stored_as = |extension: bool, value: &str| -> Vec<Hit<'a>> {
        index
            .exact(extension, value)
            .filter_map(|slot| at(contacts, slot))
            .filter(|(_, n)| n.value == value && n.is_extension() == extension)
            .map(|(contact, number)| Hit {
                contact,
                number,
                exact: true,
            })
            .take(limit)
            .collect()
    };
    // Nearly every caller ID comes as E.164, `00…` or national, in digits and separators:
    // such a one is looked up as the number `parse` reads first, without the metadata's
    // patterns (a stored number is valid, so that reading is what `parse` gives). Only when
    // it is not stored so is it read, which may still find it (`+49 (0)…`).
    if let Some(e164) = rules.first_reading(raw) {
        let hits = stored_as(false, &e164);
        if !hits.is_empty() {
            return hits;
        }
    }
    let Ok(wanted) = rules.parse(raw, NumberType::Work) else {
        return Vec::new();
    };
    stored_as(wanted.is_extension(), &wanted.value)
}

fn by_suffix<'a>(
    contacts: &'a [Contact],
    index: &Numbers,
    raw: &str,
    limit: usize,
) -> Vec<Hit<'a>> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let tail = digits.trim_start_matches('0');
    if tail.len() < MIN_SUFFIX_DIGITS {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = index
        .ending_with(tail)
        .filter_map(|slot| at(contacts, slot))
        .filter(|(_, n)| !n.is_extension() && n.value.ends_with(tail))
        .map(|(contact, number)| Hit {
            contact,
            number,
            exact: false,
        })
        .collect();
    // Stable: equally close hits keep book order.
    hits.sort_by_key(|h| h.number.value.len());
    hits.truncate(limit);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // Not stored in this shape: read by the metadata, not only looked up as it is.
            "+4902311234567",
            "+49 231 1234567",
        ] {
            let hits = by_number(&b, &Numbers::build(&b), q, &de, "", usize::MAX);
            assert_eq!(names(&hits), vec!["Anna"], "{q}");
            assert!(hits[0].exact);
        }
        assert_eq!(
            names(&by_number(
                &b,
                &Numbers::build(&b),
                "42",
                &de,
                "",
                usize::MAX
            )),
            vec!["Ben"]
        );
        assert!(by_number(&b, &Numbers::build(&b), "43", &de, "", usize::MAX).is_empty());
        // Without a region a national number still matches on its trailing digits.
        let hits = by_number(
            &b,
            &Numbers::build(&b),
            "0231 1234567",
            &NumberRules::default(),
            "",
            usize::MAX,
        );
        assert_eq!(names(&hits), vec!["Anna"]);
        assert!(!hits[0].exact);
    }

    #[test]
    fn outside_prefix_is_read_first_and_the_closest_partial_wins() {
        let de = NumberRules {
            region: Some("DE".parse().unwrap()),
            ..Default::default()
        };
        let b = book();
        for q in ["00231 1234567", "0004923112345 67", "042"] {
            let hits = by_number(&b, &Numbers::build(&b), q, &de, "0", usize::MAX);
            assert!(!hits.is_empty() && hits[0].exact, "{q}");
        }
        assert_eq!(
            names(&by_number(
                &b,
                &Numbers::build(&b),
                "042",
                &de,
                "0",
                usize::MAX
            )),
            vec!["Ben"]
        );
        // Without the prefix setting a prefixed number is no exact match.
        assert!(by_number(
            &b,
            &Numbers::build(&b),
            "00231 1234567",
            &de,
            "",
            usize::MAX
        )
        .iter()
        .all(|h| !h.exact));
        let mut two = book();
        two.insert(
            0,
            Contact {
                display_name: "Long".into(),
                numbers: vec![PhoneNumber {
                    kind: NumberType::Work,
                    value: "+4912311234567".into(),
                }],
                ..Default::default()
            },
        );
        let hits = by_number(
            &two,
            &Numbers::build(&two),
            "2311234567",
            &NumberRules::default(),
            "",
            usize::MAX,
        );
        assert_eq!(names(&hits), vec!["Anna", "Long"]);
        assert_eq!(
            by_number(
                &two,
                &Numbers::build(&two),
                "2311234567",
                &NumberRules::default(),
                "",
                1,
            )[0]
            .contact
            .display_name,
            "Anna"
        );
    }

    #[test]
    fn a_shared_switchboard_number_answers_at_most_the_limit_in_book_order() {
        let de = NumberRules {
            region: Some("DE".parse().unwrap()),
            ..Default::default()
        };
        let b: Vec<Contact> = (0..500)
            .map(|i| Contact {
                display_name: format!("Person {i:03}"),
                numbers: vec![PhoneNumber {
                    kind: NumberType::Work,
                    value: "+492311234567".into(),
                }],
                ..Default::default()
            })
            .collect();
        let index = Numbers::build(&b);
        let all = by_number(&b, &index, "0231 1234567", &de, "", usize::MAX);
        assert_eq!(all.len(), 500);
        let first = by_number(&b, &index, "0231 1234567", &de, "", 1);
        assert_eq!(names(&first), vec!["Person 000"]);
        let few = by_number(&b, &index, "2311234567", &NumberRules::default(), "", 3);
        assert_eq!(names(&few), vec!["Person 000", "Person 001", "Person 002"]);
    }
}
