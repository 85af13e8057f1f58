//! Finding contacts the way a person types on a phone: by the start of any word of a name
//! (case, accents and German transliteration ignored, words in any order) or by digits of a
//! number. The book answers it from its index (`book::index`); `matches` is the same rule
//! for one contact.

use super::text::{fold, fold_german};
use super::Contact;

/// A search term from a phone. `None` for an empty term or Yealink's unreplaced
/// `#SEARCH` placeholder, which mean "list everything".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// The term as typed, trimmed.
    text: String,
    /// For a term of digits and separators: its digits without leading zeros, which may
    /// appear anywhere in a stored number (`0231 1234567` finds `+492311234567`).
    digits: Option<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Option<Query> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("#SEARCH") {
            return None;
        }
        let is_number = raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '/' | '(' | ')' | '.'));
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let digits = (is_number && digits.len() >= 2)
            .then(|| digits.trim_start_matches('0').to_owned())
            .filter(|d| !d.is_empty());
        if fold(raw).is_empty() && digits.is_none() {
            return None;
        }
        Some(Query {
            text: raw.to_owned(),
            digits,
        })
    }

    /// The words to find at the start of name words (folded by the searcher).
    pub fn words(&self) -> &str {
        &self.text
    }

    pub fn digits(&self) -> Option<&str> {
        self.digits.as_deref()
    }

    /// The canonical form for cache keys: two terms that search alike are one.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            fold(&self.text),
            fold_german(&self.text),
            self.digits.as_deref().unwrap_or("")
        )
    }

    pub fn matches(&self, c: &Contact) -> bool {
        if let Some(d) = &self.digits {
            if c.numbers
                .iter()
                .any(|n| n.value.trim_start_matches('+').contains(d.as_str()))
            {
                return true;
            }
        }
        let names = [
            c.display_name.as_str(),
            &c.given_name,
            &c.family_name,
            &c.company,
        ];
        let mut words: Vec<String> = Vec::new();
        for n in names {
            for f in [fold(n), fold_german(n)] {
                words.extend(f.split(' ').filter(|w| !w.is_empty()).map(str::to_owned));
            }
        }
        let (plain, german) = (fold(&self.text), fold_german(&self.text));
        !plain.is_empty()
            && plain
                .split(' ')
                .zip(german.split(' '))
                .all(|(p, g)| words.iter().any(|w| w.starts_with(p) || w.starts_with(g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NumberType, PhoneNumber};

    fn muller() -> Contact {
        Contact {
            display_name: "Jörg Müller".into(),
            given_name: "Jörg".into(),
            family_name: "Müller".into(),
            company: "Bäckerei Groß".into(),
            numbers: vec![PhoneNumber {
                kind: NumberType::Work,
                value: "+492311234567".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn finds_names_in_every_spelling() {
        for q in [
            "muller",
            "mueller",
            "MÜLLER",
            "Müll",
            "jorg",
            "joerg",
            "gross",
            "baeckerei",
            "muller jorg",
        ] {
            assert!(Query::parse(q).unwrap().matches(&muller()), "{q}");
        }
        assert!(!Query::parse("schmidt").unwrap().matches(&muller()));
        // Word starts, not any substring.
        assert!(!Query::parse("ller").unwrap().matches(&muller()));
    }

    #[test]
    fn finds_numbers_by_partial_digits_in_any_shape() {
        for q in ["1234567", "0231 1234567", "+49231", "4923112"] {
            assert!(Query::parse(q).unwrap().matches(&muller()), "{q}");
        }
        assert!(!Query::parse("7654321").unwrap().matches(&muller()));
    }

    #[test]
    fn empty_and_placeholder_list_everything() {
        assert!(Query::parse("").is_none());
        assert!(Query::parse("#SEARCH").is_none());
        assert!(Query::parse("  ").is_none());
    }
}
