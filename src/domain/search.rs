//! Finding contacts the way a person types on a phone: by any part of a name (case, accents
//! and German transliteration ignored) or by digits of a number.

use super::text::{fold, fold_german};
use super::{Contact, PhoneNumber};

/// A search term from a phone. `None` for an empty term or Yealink's unreplaced
/// `#SEARCH` placeholder, which mean "list everything".
#[derive(Clone, Debug)]
pub struct Query {
    folded: String,
    german: String,
    digits: Option<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Option<Query> {
        let raw = raw.trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("#SEARCH") {
            return None;
        }
        let folded = fold(raw);
        let is_number = raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '/' | '(' | ')' | '.'));
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let digits = (is_number && digits.len() >= 2)
            .then(|| digits.trim_start_matches('0').to_owned())
            .filter(|d| !d.is_empty());
        if folded.is_empty() && digits.is_none() {
            return None;
        }
        Some(Query {
            german: fold_german(raw),
            folded,
            digits,
        })
    }

    pub fn matches(&self, c: &Contact) -> bool {
        if let Some(d) = &self.digits {
            if c.numbers.iter().any(|n| digits_of(n).contains(d.as_str())) {
                return true;
            }
        }
        if self.folded.is_empty() {
            return false;
        }
        let names = [
            c.display_name.as_str(),
            &c.given_name,
            &c.family_name,
            &c.company,
        ]
        .join(" ");
        fold(&names).contains(&self.folded) || fold_german(&names).contains(&self.german)
    }
}

fn digits_of(n: &PhoneNumber) -> &str {
    n.value.trim_start_matches('+')
}

/// True when a name field starts with the typed prefix (Gigaset's `ln=Mül*`), compared
/// folded and transliterated, at the start of any word.
pub fn prefix_matches(field: &str, typed: &str) -> bool {
    let typed = typed.trim().trim_end_matches('*');
    if typed.is_empty() {
        return true;
    }
    let (f, t) = (fold(field), fold(typed));
    let (fg, tg) = (fold_german(field), fold_german(typed));
    word_prefix(&f, &t) || word_prefix(&fg, &tg)
}

fn word_prefix(hay: &str, prefix: &str) -> bool {
    !prefix.is_empty() && (hay.starts_with(prefix) || hay.contains(&format!(" {prefix}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NumberType;

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
        ] {
            assert!(Query::parse(q).unwrap().matches(&muller()), "{q}");
        }
        assert!(!Query::parse("schmidt").unwrap().matches(&muller()));
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

    #[test]
    fn prefixes_match_at_word_starts() {
        assert!(prefix_matches("Müller", "Mül*"));
        assert!(prefix_matches("Müller", "mue"));
        assert!(prefix_matches("Müller-Lüdenscheidt", "lud"));
        assert!(!prefix_matches("Müller", "ller"));
        assert!(prefix_matches("Müller", "*"));
    }
}
