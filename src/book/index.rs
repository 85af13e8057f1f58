//! The book's indexes, built once per version: words of names for search as you type, and
//! numbers for caller-ID lookup. Both are flat sorted arrays (a few bytes per word or
//! number, no allocation per entry), searched by binary search, so a lookup or a search
//! costs about the same in a book of 100,000 as in one of 1,000.

use crate::domain::text::{fold, fold_german};
use crate::domain::Contact;
use crate::render::split_name;
use std::ops::Range;

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
    /// Each entry's occurrences (positions in `entries`, ascending): entry `e`'s are
    /// `by_entry[entry_at[e]..entry_at[e + 1]]`. The other words typed are checked on what
    /// the first one found with these: a few integers per entry, where reading and folding
    /// four names of an entry far away in a big book was half of a two-word search.
    by_entry: Vec<u32>,
    entry_at: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Run {
    /// The word's first bytes (`head`): a search compares these, and reads the word from
    /// `text` (a cache miss in a big book) only where they are equal.
    head: u64,
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
            ..Names::default()
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
                        head: head(w),
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
        // Entry by entry, by a count of each entry's occurrences (a counting sort).
        let mut at = vec![0u32; contacts.len() + 1];
        for &(e, _) in &names.entries {
            if let Some(n) = at.get_mut(e as usize + 1) {
                *n += 1;
            }
        }
        for i in 1..at.len() {
            at[i] += at[i - 1];
        }
        let mut next = at.clone();
        names.by_entry = vec![0; names.entries.len()];
        for (pos, &(e, _)) in names.entries.iter().enumerate() {
            if let Some(n) = next.get_mut(e as usize) {
                if let Some(slot) = names.by_entry.get_mut(*n as usize) {
                    *slot = pos as u32;
                }
                *n += 1;
            }
        }
        names.entry_at = at;
        names
    }

    fn run_word(&self, r: &Run) -> &str {
        let at = r.at as usize;
        self.text.get(at..at + r.len as usize).unwrap_or("")
    }

    /// The runs of the words that start with `prefix`: one stretch of the sorted runs, found
    /// by two binary searches.
    fn runs_with_prefix(&self, prefix: &str) -> &[Run] {
        if prefix.is_empty() {
            return &[];
        }
        let ph = head(prefix);
        let first = self.runs.partition_point(|r| match r.head.cmp(&ph) {
            std::cmp::Ordering::Equal => self.run_word(r) < prefix,
            other => other.is_lt(),
        });
        let rest = &self.runs[first..];
        // A word starts with the prefix when its head does, and beyond eight bytes when its
        // text does (no folded word holds a zero byte, so a short head never passes).
        let mask = match prefix.len() {
            n @ 1..=7 => !(u64::MAX >> (8 * n)),
            _ => u64::MAX,
        };
        let starts = |r: &Run| {
            r.head & mask == ph & mask
                && (prefix.len() <= 8 || self.run_word(r).starts_with(prefix))
        };
        // The words with a prefix are few when a whole name is typed: their end is found in
        // doubling steps from the first, not by a search over every word that follows.
        let mut bound = 1;
        while bound < rest.len() && starts(&rest[bound]) {
            bound *= 2;
        }
        let lo = bound / 2;
        let len = lo + rest[lo..bound.min(rest.len())].partition_point(starts);
        &rest[..len]
    }

    /// Where the occurrences of the words that start with `prefix` lie in `entries`: their
    /// runs are adjacent, and so are their stretches.
    fn span(&self, prefix: &str) -> Range<u32> {
        let runs = self.runs_with_prefix(prefix);
        match (runs.first(), runs.last()) {
            (Some(first), Some(last)) => first.start..last.start + last.count,
            _ => 0..0,
        }
    }

    /// Entries (book positions, ascending, below `below`) with a word in one of `fields`
    /// that starts with `prefix` (already folded, one word).
    pub fn with_prefix(&self, prefix: &str, fields: Fields, below: u32) -> Vec<u32> {
        // A first letter has thousands of words in a big book: most of them are skipped by
        // their first entry without reading the word.
        let mut out: Vec<u32> = Vec::new();
        let mut runs = 0;
        for r in self
            .runs_with_prefix(prefix)
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
    /// checked for the other words one by one (`Typed`), so the cost follows the fewest hits
    /// of one word, not the most.
    ///
    /// Only entries below `below` are looked at (`u32::MAX`: all of them).
    pub fn search(&self, typed: &str, fields: Fields, below: u32) -> Vec<u32> {
        let Some(terms) = Terms::new(typed) else {
            return Vec::new();
        };
        let rest = self.typed_terms(&terms.rest, fields);
        if rest.finds_nothing() {
            return Vec::new();
        }
        let (p, g) = &terms.first;
        let mut hits = self.with_prefix(p, fields, below);
        if g != p {
            hits = union(&hits, &self.with_prefix(g, fields, below));
        }
        rest.retain(&mut hits);
        hits
    }

    /// What was typed into one name field, to check the entries another field's search
    /// found (a Gigaset's first name on the hits of its last name) by the rule of `search`.
    pub fn typed(&self, typed: &str, fields: Fields) -> Typed<'_> {
        let terms = Terms::new(typed);
        let all = terms
            .iter()
            .flat_map(|t| std::iter::once(&t.first).chain(&t.rest));
        self.typed_terms(all, fields)
    }

    fn typed_terms<'t>(
        &self,
        terms: impl IntoIterator<Item = &'t (String, String)>,
        fields: Fields,
    ) -> Typed<'_> {
        Typed {
            names: self,
            spans: terms
                .into_iter()
                .map(|(p, g)| [self.span(p), if g != p { self.span(g) } else { 0..0 }])
                .collect(),
            fields,
        }
    }

    /// Entry `e`'s occurrences (positions in `entries`).
    fn occurrences(&self, e: u32) -> &[u32] {
        let e = e as usize;
        match (self.entry_at.get(e), self.entry_at.get(e + 1)) {
            (Some(&a), Some(&b)) => self.by_entry.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    pub fn bytes(&self) -> usize {
        self.text.capacity()
            + self.runs.capacity() * std::mem::size_of::<Run>()
            + self.entries.capacity() * std::mem::size_of::<(u32, Fields)>()
            + (self.by_entry.capacity() + self.entry_at.capacity()) * std::mem::size_of::<u32>()
    }
}

/// A word's first eight bytes as one number (zero-padded, big-endian): as folded words hold
/// no zero byte, two heads that differ order as their words do.
fn head(w: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = w.len().min(8);
    b[..n].copy_from_slice(&w.as_bytes()[..n]);
    u64::from_be_bytes(b)
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

/// Words typed, each with where the occurrences of the words it starts lie in the index:
/// an entry has them all when each has an occurrence of the entry in its span, in one of the
/// fields looked in. Nothing typed: every entry has it.
pub struct Typed<'a> {
    names: &'a Names,
    /// Per word typed, the spans of its plain and its German folding.
    spans: Vec<[Range<u32>; 2]>,
    fields: Fields,
}

impl Typed<'_> {
    /// Whether every word typed starts a word of entry `e`'s fields.
    pub fn matches(&self, e: u32) -> bool {
        let of = self.names.occurrences(e);
        self.spans.iter().all(|spans| {
            of.iter().any(|pos| {
                spans.iter().any(|s| s.contains(pos))
                    && self
                        .names
                        .entries
                        .get(*pos as usize)
                        .is_some_and(|(_, f)| f & self.fields != 0)
            })
        })
    }

    /// A word typed that starts no word of the book: no entry has them all.
    fn finds_nothing(&self) -> bool {
        self.spans.iter().any(|s| s.iter().all(Range::is_empty))
    }

    /// Keeps the entries that have every word typed. Their occurrences are read all at
    /// once before they are checked: in a big book each is a cache miss, and read together
    /// these overlap instead of coming one at a time.
    pub fn retain(&self, hits: &mut Vec<u32>) {
        if self.spans.is_empty() {
            return;
        }
        for &e in hits.iter() {
            std::hint::black_box(self.names.occurrences(e).first());
        }
        hits.retain(|&e| self.matches(e));
    }
}

/// A typed search term as (plain, German) folded word pairs: the longest word, looked up
/// in the index, and the others, checked on its hits.
struct Terms {
    first: (String, String),
    rest: Vec<(String, String)>,
}

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
        let mut pairs = pairs.into_iter();
        Some(Terms {
            first: pairs.next()?,
            rest: pairs.collect(),
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
            assert_eq!(n.search(q, ANY_NAME, u32::MAX), vec![0, 1], "{q}");
        }
        assert_eq!(n.search("lud", ANY_NAME, u32::MAX), vec![1]);
        assert_eq!(n.search("ller", ANY_NAME, u32::MAX), Vec::<u32>::new());
        assert_eq!(n.search("baeckerei", ANY_NAME, u32::MAX), vec![0]);
        assert_eq!(n.search("gross", ANY_NAME, u32::MAX), vec![0]);
        assert_eq!(n.search("anna sch", ANY_NAME, u32::MAX), vec![2]);
        assert_eq!(n.search("sch anna", ANY_NAME, u32::MAX), vec![2]);
        // Every word typed, in either folding, in any field the search looks at.
        for q in ["mueller joerg", "jorg mue", "mul baeck", "groß jö"] {
            assert_eq!(n.search(q, ANY_NAME, u32::MAX), vec![0], "{q}");
        }
        assert!(n.search("mueller acme", ANY_NAME, u32::MAX).is_empty());
        assert!(n.search("anna acme", FAMILY | GIVEN, u32::MAX).is_empty());
        let names = n.typed("jö MÜ", SPLIT_GIVEN | SPLIT_FAMILY);
        assert!(names.matches(0));
        assert!(!names.matches(1));
        assert!(!n.typed("jö gross", SPLIT_GIVEN | SPLIT_FAMILY).matches(0));
        assert!(n.typed(" ", SPLIT_GIVEN).matches(1), "nothing typed");
        assert!(!n.typed("jö", SPLIT_GIVEN).matches(7), "no such entry");
        assert_eq!(n.search("anna mul", ANY_NAME, u32::MAX), Vec::<u32>::new());
        // Fields: the company is no family name; a display-only entry's split family name
        // is its display name.
        assert_eq!(n.search("acme", FAMILY, u32::MAX), Vec::<u32>::new());
        assert_eq!(n.search("lud", SPLIT_FAMILY, u32::MAX), vec![1]);
        assert_eq!(n.search("jorg", SPLIT_GIVEN, u32::MAX), vec![0]);
    }

    #[test]
    fn a_search_below_a_bound_sees_only_the_first_entries() {
        let book: Vec<Contact> = (0..10)
            .map(|i| c(&format!("Anna {i}"), "Anna", &format!("N{i}"), "ACME"))
            .collect();
        let n = Names::build(&book);
        assert_eq!(n.search("an", ANY_NAME, 3), vec![0, 1, 2]);
        assert_eq!(n.search("an", ANY_NAME, u32::MAX).len(), 10);
        assert_eq!(n.search("anna n", ANY_NAME, 2), vec![0, 1]);
        // A word only the company has is skipped for name fields, whatever its size.
        assert!(n.search("acme", DISPLAY | FAMILY, u32::MAX).is_empty());
        assert_eq!(n.search("acme", COMPANY, 4), vec![0, 1, 2, 3]);
    }

    /// Whatever is typed, a search finds exactly the entries where every word typed starts
    /// a word of `words_of` in the fields looked in: the index's first word and the
    /// occurrence check of the others agree with the definition, read off each entry.
    #[test]
    fn searches_find_what_the_definition_says() {
        let given = ["Jörg", "Anna", "Änne", "Jo", "", "Straße"];
        let family = [
            "Müller",
            "Mueller",
            "Schmidt",
            "Schmitt-Groß",
            "",
            "Gernoderstein",
            "Gernodersteiner",
        ];
        let company = ["ACME", "Bäckereibetrieb Groß", "", "Jo & Co"];
        let book: Vec<Contact> = (0..6 * 7 * 4)
            .map(|i| {
                let (g, f) = (given[i % 6], family[(i / 6) % 7]);
                let display = if i % 7 == 0 {
                    String::new()
                } else {
                    format!("{g} {f}").trim().to_owned()
                };
                c(&display, g, f, company[(i / 42) % 4])
            })
            .collect();
        let n = Names::build(&book);
        let words: Vec<Vec<(String, Fields)>> = book
            .iter()
            .map(|c| {
                let mut w = Vec::new();
                words_of(c, &mut w);
                w
            })
            .collect();
        let typed = [
            "m",
            "mü",
            "mue",
            "schm",
            "gro",
            "j",
            "jo",
            "anna",
            "ä",
            "ae",
            "strass",
            "co",
            "x",
            "gernoder",
            "gernoders",
            "gernodersteine",
            "gernoderx",
            "gernodera",
            "bäckereib",
            "baeckereibetrieb",
        ];
        for fields in [ANY_NAME, SPLIT_GIVEN, SPLIT_FAMILY, COMPANY, FAMILY | GIVEN] {
            for a in typed {
                for b in ["", " j", " m", " ä", " gro", " acme", " zz"] {
                    let q = format!("{a}{b}");
                    let terms = Terms::new(&q).expect("something typed");
                    let want: Vec<u32> = (0..book.len() as u32)
                        .filter(|&e| {
                            std::iter::once(&terms.first)
                                .chain(&terms.rest)
                                .all(|(p, g)| {
                                    words[e as usize].iter().any(|(w, f)| {
                                        f & fields != 0 && (w.starts_with(p) || w.starts_with(g))
                                    })
                                })
                        })
                        .collect();
                    assert_eq!(n.search(&q, fields, u32::MAX), want, "{q} in {fields}");
                    let t = n.typed(&q, fields);
                    let checked: Vec<u32> =
                        (0..book.len() as u32).filter(|&e| t.matches(e)).collect();
                    assert_eq!(checked, want, "{q} checked in {fields}");
                }
            }
        }
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
