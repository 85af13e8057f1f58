//! A record as a remote system delivers it, turned into a contact by the same number rules
//! pushes use. Every kind of source ends here.

use crate::domain::{composed_name, Contact, NumberType};
use crate::phone::NumberRules;

#[derive(Clone, Debug, Default)]
pub struct Raw {
    pub id: String,
    pub display_name: String,
    pub given_name: String,
    pub family_name: String,
    pub company: String,
    pub department: String,
    pub position: String,
    pub email: String,
    pub numbers: Vec<(NumberType, String)>,
}

/// What was left out of a sync, for the log.
#[derive(Debug, Default)]
pub struct Tally {
    pub no_name_or_number: usize,
    pub bad_numbers: usize,
}

/// The contact, or None when it has no name or no number a phone could dial.
pub fn build(raw: Raw, rules: &NumberRules, tally: &mut Tally) -> Option<Contact> {
    let mut c = Contact {
        external_id: raw.id,
        given_name: raw.given_name.trim().to_owned(),
        family_name: raw.family_name.trim().to_owned(),
        company: raw.company.trim().to_owned(),
        department: raw.department.trim().to_owned(),
        position: raw.position.trim().to_owned(),
        email: raw.email.trim().to_owned(),
        ..Default::default()
    };
    c.display_name = match raw.display_name.trim() {
        "" => composed_name(&c.given_name, "", &c.family_name, &c.company),
        name => name.to_owned(),
    };
    for (kind, value) in raw.numbers {
        if value.trim().is_empty() {
            continue;
        }
        match rules.parse(&value, kind) {
            Ok(n) => c.add_number(n),
            Err(e) => {
                tally.bad_numbers += 1;
                tracing::debug!(error = %e, "number left out");
            }
        }
    }
    if c.display_name.is_empty() || c.numbers.is_empty() {
        tally.no_name_or_number += 1;
        return None;
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_name_from_parts_and_drops_entries_without_numbers() {
        let rules = NumberRules {
            region: "DE".parse().ok(),
            max_extension_digits: 4,
        };
        let mut t = Tally::default();
        let c = build(
            Raw {
                given_name: "Anna".into(),
                family_name: "Schmidt".into(),
                numbers: vec![
                    (NumberType::Work, "030 1234567".into()),
                    (NumberType::Mobile, "call me".into()),
                    (NumberType::Work, "42".into()),
                ],
                ..Default::default()
            },
            &rules,
            &mut t,
        )
        .unwrap();
        assert_eq!(c.display_name, "Anna Schmidt");
        let v: Vec<String> = c.numbers.iter().map(|n| n.to_string()).collect();
        assert_eq!(v, vec!["WORK:+49301234567", "EXTENSION:42"]);
        assert_eq!(t.bad_numbers, 1);
        assert!(build(
            Raw {
                display_name: "Nobody".into(),
                ..Default::default()
            },
            &rules,
            &mut t
        )
        .is_none());
    }
}
