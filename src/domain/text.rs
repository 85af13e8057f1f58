//! Folding text for sorting and matching the way people expect: case, accents and
//! punctuation do not count, and German umlauts match both their plain and their
//! transliterated spelling (`Müller` sorts as `muller`, and `mueller` finds it).

use deunicode::deunicode_char;
use std::borrow::Cow;

/// True for a character every output can carry: XML 1.0's `Char` production without the
/// C0 controls, DEL and the C1 controls (U+0080–U+009F). Phones show one line per field, and
/// a PBX puts the name on a display that may read escape sequences, so no control passes.
pub fn is_carriable(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{7E}'
        | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// `s` as every output can carry it: a run of tabs and line breaks becomes one space (one
/// line per field on a phone), other characters that are not `is_carriable` are removed. Also answers how
/// many were removed, for a warning.
pub fn carriable(s: &str) -> (Cow<'_, str>, usize) {
    if s.chars().all(is_carriable) {
        return (Cow::Borrowed(s), 0);
    }
    let mut removed = 0;
    let mut out = String::with_capacity(s.len());
    let mut in_break = false;
    for c in s.chars() {
        let is_break = matches!(c, '\t' | '\n' | '\r');
        if is_carriable(c) {
            out.push(c);
        } else if is_break && !in_break {
            // One space for a run of them: `\r\n` is one line break.
            out.push(' ');
        } else if !is_break {
            removed += 1;
        }
        in_break = is_break;
    }
    (Cow::Owned(out), removed)
}

/// Lower-case ASCII letters and digits, words separated by one space.
/// `Zoë O'Brien & Partner` → `zoe obrien partner`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(&mut out, s, false);
    out
}

/// `fold` into `out` (cleared first); with `german`, as `fold_german` folds.
fn fold_into(out: &mut String, s: &str, german: bool) {
    out.clear();
    let mut pending_space = false;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece = match c {
            'ä' | 'Ä' if german => "ae",
            'ö' | 'Ö' if german => "oe",
            'ü' | 'Ü' if german => "ue",
            'ß' if german => "ss",
            c if c.is_ascii() => &*c.encode_utf8(&mut buf),
            c => deunicode_char(c).unwrap_or(""),
        };
        push_ascii(out, &mut pending_space, piece);
    }
}

/// Whether `fold_german` can differ from `fold` for `s`.
pub fn has_german_letters(s: &str) -> bool {
    s.contains(['ä', 'Ä', 'ö', 'Ö', 'ü', 'Ü', 'ß'])
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
    let mut out = String::with_capacity(s.len() + 4);
    fold_into(&mut out, s, true);
    out
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
    fn folds_german_letters_as_germans_write_them() {
        assert_eq!(fold_german("Jürgen Weiß-Öztürk"), "juergen weiss oeztuerk");
        assert_eq!(fold_german("Zoë Ärger"), "zoe aerger");
        let mut buf = String::from("left over");
        fold_into(&mut buf, "Müller", false);
        assert_eq!(buf, "muller");
        assert!(has_german_letters("Müller") && !has_german_letters("Zoë"));
    }

    #[test]
    fn counts_read_correctly() {
        assert_eq!(count(1, "number", "numbers"), "1 number");
        assert_eq!(count(0, "entry", "entries"), "0 entries");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
    }

    #[test]
    fn only_carriable_characters_remain() {
        assert_eq!(carriable("Anna"), (Cow::Borrowed("Anna"), 0));
        let (t, n) = carriable("A\u{1b}[2Jnna\u{fffe} \u{85}Schmidt\u{7f}\u{0}");
        assert_eq!((t.as_ref(), n), ("A[2Jnna Schmidt", 5));
        assert_eq!(carriable("Head of\r\nSales\tX").0, "Head of Sales X");
        assert_eq!(carriable("Zoë 🙂 \u{e000}").1, 0);
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
