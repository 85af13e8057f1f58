//! The book's indexes, built once per version: words of names for search as you type, and
//! numbers for caller-ID lookup. Both are flat sorted arrays (a few bytes per word or
//! number, no allocation per entry), searched by binary search, so a lookup or a search
//! costs about the same in a book of 100,000 as in one of 1,000.

use crate::domain::text::{fold, fold_german, fold_into, has_german_letters};
use crate::domain::Contact;
use crate::render::split_name;

/// Which name field a word came from.
pub type Fields = u8;
pub const DISPLAY: Fields = 1;
pub const GIVEN: Fields = 2;
pub const FAMILY: Fields = 4;
pub const COMPANY: Fields = 8;
/// The given and family name as phones that want them apart see them (`render::split_name`:
/// a contact known only by its display name has it as the family name).
pub const SPLIT_GIVEN: Fields = 16;
pub const SPLIT_FAMILY: Fields = 32;
/// What a phone's search box searches: every name and the company.
pub const ANY_NAME: Fields = DISPLAY | GIVEN | FAMILY | COMPANY;

/// Every word of every name, folded (`Müller` → `muller`, and `mueller` beside it), sorted.
///
/// Laid out for search as you type in big books: the distinct words back to back in order
/// (a prefix's words are one stretch of memory), each with its entries in book order and the
/// fields it occurs in. A search skips a word of other fields (the company everyone shares)
/// and a word whose first entry lies beyond what it wants without touching its entries, and
/// stops early in a word thousands of entries have.
#[derive(Default)]
pub struct Names {
    /// The distinct words, sorted, back to back.
    text: String,
    /// One per distinct word, in word order.
    runs: Vec<Run>,
    /// (entry, fields) of every occurrence: each run's stretch, in entry order.
    entries: Vec<(u32, Fields)>,
}

#[derive(Clone, Copy)]
struct Run {
    /// The word: `text[at..at + len]`.
    at: u32,
    len: u16,
    /// Every field the word occurs in.
    fields: Fields,
    /// Its occurrences: `entries[start..start + count]`.
    start: u32,
    count: u32,
    /// The first (smallest) entry it occurs in.
    first: u32,
}

impl Names {
    pub fn build(contacts: &[Contact]) -> Names {
        // (word, fields, entry) of every occurrence, words back to back in `all`.
        let mut all = String::new();
        let mut words: Vec<(u32, u16, Fields, u32)> = Vec::with_capacity(contacts.len() * 6);
        let mut scratch: Vec<(String, Fields)> = Vec::new();
        for (i, c) in contacts.iter().enumerate() {
            words_of(c, &mut scratch);
            for (w, fields) in &scratch {
                // A word longer than any name field a phone sends is cut: the index stays
                // small, and a prefix of it still finds it.
                let w = &w[..w.len().min(255)];
                words.push((
                    u32::try_from(all.len()).unwrap_or(u32::MAX),
                    w.len() as u16,
                    *fields,
                    i as u32,
                ));
                all.push_str(w);
            }
        }
        let word = |at: u32, len: u16| {
            all.get(at as usize..at as usize + len as usize)
                .unwrap_or("")
        };
        words.sort_unstable_by(|a, b| word(a.0, a.1).cmp(word(b.0, b.1)).then(a.3.cmp(&b.3)));
        let mut names = Names {
            text: String::new(),
            runs: Vec::new(),
            entries: Vec::with_capacity(words.len()),
        };
        for (i, &(at, len, fields, entry)) in words.iter().enumerate() {
            let w = word(at, len);
            names.entries.push((entry, fields));
            match names.runs.last_mut() {
                Some(r)
                    if names
                        .text
                        .get(r.at as usize..r.at as usize + r.len as usize)
                        == Some(w) =>
                {
                    r.count += 1;
                    r.fields |= fields;
                }
                _ => {
                    names.runs.push(Run {
                        at: u32::try_from(names.text.len()).unwrap_or(u32::MAX),
                        len,
                        fields,
                        start: i as u32,
                        count: 1,
                        first: entry,
                    });
                    names.text.push_str(w);
                }
            }
        }
        names.text.shrink_to_fit();
        names.runs.shrink_to_fit();
        names
    }

    fn run_word(&self, r: &Run) -> &str {
        let at = r.at as usize;
        self.text.get(at..at + r.len as usize).unwrap_or("")
    }

    /// Entries (book positions, ascending, below `below`) with a word in one of `fields`
    /// that starts with `prefix` (already folded, one word).
    pub fn with_prefix(&self, prefix: &str, fields: Fields, below: u32) -> Vec<u32> {
        if prefix.is_empty() {
            return Vec::new();
        }
        // The words with this prefix are one stretch of the sorted runs, found by two binary
        // searches: a first letter has thousands of words in a big book, and most of them
        // are skipped by their first entry without reading the word.
        let first = self.runs.partition_point(|r| self.run_word(r) < prefix);
        let rest = &self.runs[first..];
        let len = rest.partition_point(|r| self.run_word(r).starts_with(prefix));
        let mut out: Vec<u32> = Vec::new();
        let mut runs = 0;
        for r in rest[..len]
            .iter()
            .filter(|r| r.fields & fields != 0 && r.first < below)
        {
            runs += 1;
            let at = r.start as usize;
            let run = self.entries.get(at..at + r.count as usize).unwrap_or(&[]);
            // A run is in entry order: what follows `below` is not wanted.
            out.extend(
                run.iter()
                    .take_while(|(e, _)| *e < below)
                    .filter(|(_, f)| f & fields != 0)
                    .map(|(e, _)| *e),
            );
        }
        // One word's entries are ascending and distinct already (a whole name typed).
        if runs > 1 {
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Entries where every word of `typed` starts a word of the given fields, in the plain
    /// folding or the German one (`Mül`, `mul` and `mue` all find `Müller`).
    ///
    /// Only the longest word typed is looked up in the index; the entries it finds are
    /// checked for the other words one by one, so the cost follows the fewest hits of one
    /// word, not the most.
    ///
    /// Only entries below `below` are looked at (`u32::MAX`: all of them).
    pub fn search(
        &self,
        contacts: &[Contact],
        typed: &str,
        fields: Fields,
        below: u32,
    ) -> Vec<u32> {
        let Some(terms) = Terms::new(typed) else {
            return Vec::new();
        };
        let (p, g) = &terms.0[0];
        let mut hits = self.with_prefix(p, fields, below);
        if g != p {
            hits = union(&hits, &self.with_prefix(g, fields, below));
        }
        if terms.0.len() > 1 {
            super::warm(contacts, &hits, true, false);
            let mut buf = String::new();
            hits.retain(|&i| {
                contacts
                    .get(i as usize)
                    .is_some_and(|c| terms.match_rest(c, fields, &mut buf))
            });
        }
        hits
    }

    pub fn bytes(&self) -> usize {
        self.text.capacity()
            + self.runs.capacity() * std::mem::size_of::<Run>()
            + self.entries.capacity() * std::mem::size_of::<(u32, Fields)>()
    }
}

/// Each name field a search looks in, with its value.
fn name_fields(c: &Contact) -> [(Fields, &str); 6] {
    let (split_given, split_family) = split_name(c);
    [
        (DISPLAY, c.display_name.as_str()),
        (GIVEN, c.given_name.as_str()),
        (FAMILY, c.family_name.as_str()),
        (COMPANY, c.company.as_str()),
        (SPLIT_GIVEN, split_given),
        (SPLIT_FAMILY, split_family),
    ]
}

/// Every word of a contact's names with the fields it appears in, plain and German-folded:
/// what the index holds for it (`Terms::match_from` checks a candidate by the same rule).
fn words_of(c: &Contact, out: &mut Vec<(String, Fields)>) {
    out.clear();
    for (field, value) in name_fields(c) {
        if value.is_empty() {
            continue;
        }
        for folded in [fold(value), fold_german(value)] {
            for w in folded.split(' ').filter(|w| !w.is_empty()) {
                match out.iter_mut().find(|(s, _)| s == w) {
                    Some((_, f)) => *f |= field,
                    None => out.push((w.to_owned(), field)),
                }
            }
        }
    }
}

/// What was typed into one name field, folded once to check many candidates by the rule of
/// `Names::search` without the index (a Gigaset's first name on the hits of its last name).
pub struct Typed {
    terms: Option<Terms>,
    fields: Fields,
    /// The fold of the field being checked, reused from candidate to candidate.
    buf: String,
}

impl Typed {
    pub fn new(typed: &str, fields: Fields) -> Typed {
        Typed {
            terms: Terms::new(typed.trim().trim_end_matches('*')),
            fields,
            buf: String::new(),
        }
    }

    /// Whether every word typed starts a word of the contact's fields. Nothing typed matches.
    pub fn matches(&mut self, c: &Contact) -> bool {
        match &self.terms {
            None => true,
            Some(t) => t.match_from(0, c, self.fields, &mut self.buf),
        }
    }
}

/// A typed search term as (plain, German) folded word pairs, longest first.
struct Terms(Vec<(String, String)>);

impl Terms {
    fn new(typed: &str) -> Option<Terms> {
        let plain = fold(typed);
        let german = fold_german(typed);
        let mut pairs: Vec<(String, String)> = plain
            .split(' ')
            .zip(german.split(' '))
            .filter(|(p, _)| !p.is_empty())
            .map(|(p, g)| (p.to_owned(), g.to_owned()))
            .collect();
        pairs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        (!pairs.is_empty()).then_some(Terms(pairs))
    }

    /// Whether every term but the first starts a word of the contact's `fields`.
    fn match_rest(&self, c: &Contact, fields: Fields, buf: &mut String) -> bool {
        self.match_from(1, c, fields, buf)
    }

    /// The rule of `words_of` for a few candidates, without building their words: each
    /// field is folded into one reused buffer (German-folded too when it has an umlaut or
    /// `ß`), so checking a hit allocates nothing.
    fn match_from(&self, from: usize, c: &Contact, fields: Fields, buf: &mut String) -> bool {
        let values = name_fields(c);
        self.0[from..].iter().all(|(p, g)| {
            values.iter().any(|(f, value)| {
                let starts = |buf: &String| {
                    buf.split(' ')
                        .any(|w| w.starts_with(p.as_str()) || w.starts_with(g.as_str()))
                };
                f & fields != 0
                    && !value.is_empty()
                    && ({
                        fold_into(buf, value, false);
                        starts(buf)
                    } || has_german_letters(value) && {
                        fold_into(buf, value, true);
                        starts(buf)
                    })
            })
        })
    }
}

/// Entries in both ascending lists, ascending.
pub fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Entries in either ascending list, ascending, without repeats: a merge, since a phone's
/// first letter finds thousands of names in a big book.
pub fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Where a number sits in the book: (entry, position in its `numbers`).
pub type Slot = (u32, u16);

/// Every stored number, by its whole value and by its last digits.
#[derive(Default)]
pub struct Numbers {
    /// (hash of (is extension, value), slot), sorted.
    exact: Vec<(u64, Slot)>,
    /// (last `SUFFIX` digits as a number, slot) of external numbers, sorted.
    suffix: Vec<(u32, Slot)>,
}

/// Digits of the bucket a trailing-digits match is looked up in; the shortest trailing
/// match the lookup accepts (`book::lookup::MIN_SUFFIX_DIGITS`) is as long.
pub const SUFFIX: usize = 7;

impl Numbers {
    pub fn build(contacts: &[Contact]) -> Numbers {
        let mut exact = Vec::new();
        let mut suffix = Vec::new();
        for (i, c) in contacts.iter().enumerate() {
            for (j, n) in c.numbers.iter().enumerate().take(usize::from(u16::MAX)) {
                let slot = (i as u32, j as u16);
                exact.push((exact_key(n.is_extension(), &n.value), slot));
                if !n.is_extension() {
                    if let Some(k) = suffix_key(&n.value) {
                        suffix.push((k, slot));
                    }
                }
            }
        }
        exact.sort_unstable();
        suffix.sort_unstable();
        exact.shrink_to_fit();
        suffix.shrink_to_fit();
        Numbers { exact, suffix }
    }

    /// Slots whose number may be exactly this one (the caller compares), in book order.
    pub fn exact(&self, extension: bool, value: &str) -> impl Iterator<Item = Slot> + '_ {
        let k = exact_key(extension, value);
        let start = self.exact.partition_point(|(h, _)| *h < k);
        self.exact[start..]
            .iter()
            .take_while(move |(h, _)| *h == k)
            .map(|(_, s)| *s)
    }

    /// Slots of external numbers that may end with `digits` (at least `SUFFIX` of them; the
    /// caller compares), in book order.
    pub fn ending_with(&self, digits: &str) -> impl Iterator<Item = Slot> + '_ {
        let k = suffix_key(digits);
        let start = k.map_or(self.suffix.len(), |k| {
            self.suffix.partition_point(|(h, _)| *h < k)
        });
        self.suffix[start..]
            .iter()
            .take_while(move |(h, _)| Some(*h) == k)
            .map(|(_, s)| *s)
    }

    pub fn bytes(&self) -> usize {
        self.exact.capacity() * std::mem::size_of::<(u64, Slot)>()
            + self.suffix.capacity() * std::mem::size_of::<(u32, Slot)>()
    }
}

fn exact_key(extension: bool, value: &str) -> u64 {
    // FNV-1a: stable and quick for short keys.
    let mut h: u64 = if extension {
        0x84222325cbf29ce4
    } else {
        0xcbf29ce484222325
    };
    for b in value.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// The last `SUFFIX` digits of a number as one integer; None with fewer digits.
fn suffix_key(value: &str) -> Option<u32> {
    let digits: Vec<u8> = value
        .bytes()
        .rev()
        .filter(u8::is_ascii_digit)
        .take(SUFFIX)
        .collect();
    if digits.len() < SUFFIX {
        return None;
    }
    Some(
        digits
            .iter()
            .rev()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(display: &str, given: &str, family: &str, company: &str) -> Contact {
        Contact {
            display_name: display.into(),
            given_name: given.into(),
            family_name: family.into(),
            company: company.into(),
            ..Default::default()
        }
    }

    #[test]
    fn word_prefixes_in_every_spelling_and_field() {
        let book = vec![
            c("Jörg Müller", "Jörg", "Müller", "Bäckerei Groß"),
            c("Müller-Lüdenscheidt", "", "", ""),
            c("Anna Schmidt", "Anna", "Schmidt", "ACME"),
        ];
        let n = Names::build(&book);
        for q in ["mul", "mue", "MÜLL", "Müll"] {
            assert_eq!(n.search(&book, q, ANY_NAME, u32::MAX), vec![0, 1], "{q}");
        }
        assert_eq!(n.search(&book, "lud", ANY_NAME, u32::MAX), vec![1]);
        assert_eq!(
            n.search(&book, "ller", ANY_NAME, u32::MAX),
            Vec::<u32>::new()
        );
        assert_eq!(n.search(&book, "baeckerei", ANY_NAME, u32::MAX), vec![0]);
        assert_eq!(n.search(&book, "gross", ANY_NAME, u32::MAX), vec![0]);
        assert_eq!(n.search(&book, "anna sch", ANY_NAME, u32::MAX), vec![2]);
        assert_eq!(n.search(&book, "sch anna", ANY_NAME, u32::MAX), vec![2]);
        // Every word typed, in either folding, in any field the search looks at.
        for q in ["mueller joerg", "jorg mue", "mul baeck", "groß jö"] {
            assert_eq!(n.search(&book, q, ANY_NAME, u32::MAX), vec![0], "{q}");
        }
        assert!(n
            .search(&book, "mueller acme", ANY_NAME, u32::MAX)
            .is_empty());
        assert!(n
            .search(&book, "anna acme", FAMILY | GIVEN, u32::MAX)
            .is_empty());
        let mut names = Typed::new("jö MÜ", SPLIT_GIVEN | SPLIT_FAMILY);
        assert!(names.matches(&book[0]));
        assert!(!names.matches(&book[1]));
        assert!(
            names.matches(&book[0]),
            "the reused buffer holds nothing over"
        );
        assert!(!Typed::new("jö gross", SPLIT_GIVEN | SPLIT_FAMILY).matches(&book[0]));
        assert!(
            Typed::new(" * ", SPLIT_GIVEN).matches(&book[1]),
            "nothing typed"
        );
        assert_eq!(
            n.search(&book, "anna mul", ANY_NAME, u32::MAX),
            Vec::<u32>::new()
        );
        // Fields: the company is no family name; a display-only entry's split family name
        // is its display name.
        assert_eq!(n.search(&book, "acme", FAMILY, u32::MAX), Vec::<u32>::new());
        assert_eq!(n.search(&book, "lud", SPLIT_FAMILY, u32::MAX), vec![1]);
        assert_eq!(n.search(&book, "jorg", SPLIT_GIVEN, u32::MAX), vec![0]);
    }

    #[test]
    fn a_search_below_a_bound_sees_only_the_first_entries() {
        let book: Vec<Contact> = (0..10)
            .map(|i| c(&format!("Anna {i}"), "Anna", &format!("N{i}"), "ACME"))
            .collect();
        let n = Names::build(&book);
        assert_eq!(n.search(&book, "an", ANY_NAME, 3), vec![0, 1, 2]);
        assert_eq!(n.search(&book, "an", ANY_NAME, u32::MAX).len(), 10);
        assert_eq!(n.search(&book, "anna n", ANY_NAME, 2), vec![0, 1]);
        // A word only the company has is skipped for name fields, whatever its size.
        assert!(n
            .search(&book, "acme", DISPLAY | FAMILY, u32::MAX)
            .is_empty());
        assert_eq!(n.search(&book, "acme", COMPANY, 4), vec![0, 1, 2, 3]);
    }

    #[test]
    fn numbers_by_value_and_by_trailing_digits() {
        use crate::domain::{NumberType, PhoneNumber};
        let mut a = c("A", "", "", "");
        a.numbers = vec![
            PhoneNumber {
                kind: NumberType::Work,
                value: "+492311234567".into(),
            },
            PhoneNumber {
                kind: NumberType::Extension,
                value: "42".into(),
            },
        ];
        let idx = Numbers::build(&[a]);
        assert_eq!(
            idx.exact(false, "+492311234567").collect::<Vec<_>>(),
            vec![(0, 0)]
        );
        assert_eq!(idx.exact(true, "42").collect::<Vec<_>>(), vec![(0, 1)]);
        assert_eq!(idx.exact(false, "42").count(), 0);
        assert_eq!(
            idx.ending_with("2311234567").collect::<Vec<_>>(),
            vec![(0, 0)]
        );
        assert_eq!(idx.ending_with("1234568").count(), 0);
        assert_eq!(idx.ending_with("4567").count(), 0);
    }
}
