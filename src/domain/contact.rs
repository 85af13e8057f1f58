use super::{ContactId, NumberType, PhoneNumber};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One entry of a phone book. Text fields are empty when a source does not know them;
/// `display_name` is never empty (ingest builds it from the other names or the company).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// The stable id the book gives the entry (see `ContactId`); empty until then, and left
    /// out of the JSON so a source's content hash does not depend on it.
    #[serde(default, skip_serializing_if = "ContactId::is_empty")]
    pub id: ContactId,
    /// The pushing system's own id (`internal_id`), if it gave one.
    #[serde(default)]
    pub external_id: String,
    pub display_name: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub email: String,
    /// A grouping phones can show as folders (`group`/`category` column); empty if none.
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub numbers: Vec<PhoneNumber>,
    /// The sources this entry came from, best priority first; filled when a book is merged.
    /// Left out of the JSON when empty so a source's content hash does not depend on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// The numbers of one contact while it is built: a number it has already (same type and
/// value) is folded in constant time, and no more than `cap` are kept, so a record with
/// 80,000 numbers costs a set lookup each, not a scan of all the others.
#[derive(Debug)]
pub struct NumberSet {
    seen: HashSet<PhoneNumber>,
    cap: usize,
    /// Numbers left out because the contact had `cap` already.
    pub over_cap: usize,
}

impl NumberSet {
    pub fn new(cap: usize) -> NumberSet {
        NumberSet {
            seen: HashSet::new(),
            cap,
            over_cap: 0,
        }
    }

    /// Adds `n` to `numbers` unless it is there already; false if it was left out for the cap.
    pub fn add(&mut self, numbers: &mut Vec<PhoneNumber>, n: PhoneNumber) -> bool {
        if self.seen.contains(&n) {
            return true;
        }
        if numbers.len() >= self.cap {
            self.over_cap += 1;
            return false;
        }
        self.seen.insert(n.clone());
        numbers.push(n);
        true
    }
}

impl Contact {
    /// The numbers in the order a phone with few slots should show them: desk numbers
    /// before mobile, home and the rest, fax last (a phone cannot call a fax usefully).
    /// Within a type the source's order stays.
    pub fn numbers_by_preference(&self) -> Vec<&PhoneNumber> {
        self.by_preference().collect()
    }

    /// The same order without a Vec, for readers that render a search answer per request:
    /// one pass over the (few) numbers per type.
    pub fn by_preference(&self) -> impl Iterator<Item = &PhoneNumber> + '_ {
        (0..=MAX_DIAL_RANK).flat_map(move |rank| {
            self.numbers
                .iter()
                .filter(move |n| dial_rank(n.kind) == rank)
        })
    }

    pub fn first_of(&self, kind: NumberType) -> Option<&PhoneNumber> {
        self.numbers.iter().find(|n| n.kind == kind)
    }
}

/// The name a phone shows for an entry its source gave no display name: given, middle and
/// family name, else the company; empty when there is none of them.
pub fn composed_name(given: &str, middle: &str, family: &str, company: &str) -> String {
    let person = [given, middle, family]
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if person.is_empty() {
        company.trim().to_owned()
    } else {
        person
    }
}

/// The last rank `dial_rank` gives.
const MAX_DIAL_RANK: u8 = 6;

/// The documented Yealink/Gigaset slot order: WORK, EXTENSION, MOBILE, HOME, OTHER, PAGER, FAX.
pub fn dial_rank(t: NumberType) -> u8 {
    match t {
        NumberType::Work => 0,
        NumberType::Extension => 1,
        NumberType::Mobile => 2,
        NumberType::Home => 3,
        NumberType::Other => 4,
        NumberType::Pager => 5,
        NumberType::Fax => MAX_DIAL_RANK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(kind: NumberType, v: &str) -> PhoneNumber {
        PhoneNumber {
            kind,
            value: v.into(),
        }
    }

    #[test]
    fn preference_order_puts_fax_last_and_keeps_source_order_within_a_type() {
        let c = Contact {
            display_name: "X".into(),
            numbers: vec![
                n(NumberType::Fax, "+491"),
                n(NumberType::Mobile, "+492"),
                n(NumberType::Work, "+493"),
                n(NumberType::Work, "+494"),
                n(NumberType::Extension, "42"),
            ],
            ..Default::default()
        };
        let order: Vec<&str> = c
            .numbers_by_preference()
            .iter()
            .map(|n| n.value.as_str())
            .collect();
        assert_eq!(order, vec!["+493", "+494", "42", "+492", "+491"]);
    }

    #[test]
    fn number_set_skips_duplicates_and_keeps_the_cap() {
        let mut c = Contact::default();
        let mut set = NumberSet::new(2);
        assert!(set.add(&mut c.numbers, n(NumberType::Work, "+491")));
        assert!(set.add(&mut c.numbers, n(NumberType::Work, "+491")));
        assert!(set.add(&mut c.numbers, n(NumberType::Mobile, "+491")));
        assert!(!set.add(&mut c.numbers, n(NumberType::Home, "+491")));
        assert_eq!((c.numbers.len(), set.over_cap), (2, 1));
    }
}
