//! Folding text for sorting and matching the way people expect: case, accents and
//! punctuation do not count, and German umlauts match both their plain and their
//! transliterated spelling (`Müller` sorts as `muller`, and `mueller` finds it).

use deunicode::deunicode_char;

/// Lower-case ASCII letters and digits, words separated by one space.
/// `Zoë O'Brien & Partner` → `zoe obrien partner`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece = if c.is_ascii() {
            &*c.encode_utf8(&mut buf)
        } else {
            deunicode_char(c).unwrap_or("")
        };
        push_ascii(&mut out, &mut pending_space, piece);
    }
    out
}

fn push_ascii(out: &mut String, pending_space: &mut bool, s: &str) {
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if *pending_space && !out.is_empty() {
                out.push(' ');
            }
            *pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else if c.is_whitespace() || matches!(c, ',' | '/' | '-' | '_' | '&' | '+') {
            *pending_space = true;
        }
        // Other punctuation (apostrophes, dots) vanishes without splitting the word.
    }
}

/// The key a phone book is sorted by: the folded name, so `Émile` sorts with `Emile` and
/// `müller` with `Muller`, and a name in any case lands in one place.
pub fn sort_key(display_name: &str) -> String {
    fold(display_name)
}

/// The German transliteration of a folded-away umlaut (`ü` → `ue`), for matching
/// `mueller` against `Müller` as well as `muller`.
pub fn fold_german(s: &str) -> String {
    let mut t = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            'ä' | 'Ä' => t.push_str("ae"),
            'ö' | 'Ö' => t.push_str("oe"),
            'ü' | 'Ü' => t.push_str("ue"),
            'ß' => t.push_str("ss"),
            _ => t.push(c),
        }
    }
    fold(&t)
}

/// `1 number`, `2 numbers`: a count with its noun, as a person writes it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("Zoë O'Brien & Partner"), "zoe obrien partner");
        assert_eq!(fold("Émile Zola"), "emile zola");
        assert_eq!(fold("Jürgen Weiß"), "jurgen weiss");
        assert_eq!(fold("  MÜLLER,  Jörg "), "muller jorg");
    }

    #[test]
    fn counts_read_correctly() {
        assert_eq!(count(1, "number", "numbers"), "1 number");
        assert_eq!(count(0, "entry", "entries"), "0 entries");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
    }

    #[test]
    fn german_transliteration() {
        assert_eq!(fold_german("Jürgen Weiß"), "juergen weiss");
        assert_eq!(fold_german("Öztürk"), "oeztuerk");
    }

    #[test]
    fn sorts_like_a_person() {
        let mut names = vec!["zeta", "Émile", "Anna", "müller", "Muller", "Ölberg", "bob"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            vec!["Anna", "bob", "Émile", "müller", "Muller", "Ölberg", "zeta"]
        );
    }
}
