//! One list out of many sources: entries for the same person are folded into one.
//!
//! Two entries are the same person when their names match (case, accents, German
//! transliteration and "Family, Given" order ignored) and they share evidence: a number or
//! an e-mail address. A number that several differently named people carry (a switchboard,
//! a team line) is no evidence, so colleagues behind one main number stay apart.
//!
//! In a folded entry one source wins: the one with the lower priority, between equal
//! priorities the one whose name sorts first (`crm` before `push`). Its name is the entry's
//! name — display, given and family name together, even where it left one empty, so no
//! phone shows `Weiss, Juergen` while another shows `Weiß`/`Jürgen`. Every other field is the
//! winner's where it has one and the next source's where it has not; numbers and sources are
//! unioned. Only entries of different sources are folded: two entries in one source are two
//! entries because that source says so.

use super::text::{fold_german, sort_key};
use super::Contact;
use std::collections::{HashMap, HashSet};

/// One entry as a source delivered it, with the source's merge rank.
#[derive(Clone, Debug)]
pub struct Sourced {
    pub contact: Contact,
    pub source: String,
    /// Lower wins conflicts.
    pub priority: i64,
}

/// Folds the entries of all sources into one list, sorted as phones show it.
pub fn merge(mut entries: Vec<Sourced>) -> Vec<Contact> {
    if entries.windows(2).all(|w| w[0].source == w[1].source) {
        // One source: nothing to fold, and the caller's order stands.
        return entries
            .into_iter()
            .map(|e| {
                let mut c = e.contact;
                c.sources = vec![e.source];
                c
            })
            .collect();
    }
    // The winner of a cluster is its first member: order by priority, then source name.
    entries.sort_by(|a, b| {
        (a.priority, &a.source)
            .cmp(&(b.priority, &b.source))
            .then_with(|| sort_key(&a.contact.display_name).cmp(&sort_key(&b.contact.display_name)))
    });
    let names: Vec<Vec<String>> = entries.iter().map(|e| name_keys(&e.contact)).collect();
    let evidence = evidence_index(&entries, &names);

    let source_ids: Vec<usize> = {
        let mut names: Vec<&str> = entries.iter().map(|e| e.source.as_str()).collect();
        names.dedup();
        entries
            .iter()
            .map(|e| names.iter().position(|n| *n == e.source).unwrap_or(0))
            .collect()
    };
    let mut sets = UnionFind::new(&source_ids);
    for members in evidence.values() {
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                if names_match(&names[a], &names[b]) {
                    sets.union(a, b);
                }
            }
        }
    }

    let mut clusters: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..entries.len() {
        clusters.entry(sets.find(i)).or_default().push(i);
    }
    let mut roots: Vec<usize> = clusters.keys().copied().collect();
    roots.sort_by_key(|r| clusters[r][0]);
    let mut out: Vec<Contact> = roots
        .iter()
        .map(|r| fold_cluster(&entries, &clusters[r]))
        .collect();
    out.sort_by(|a, b| {
        sort_key(&a.display_name)
            .cmp(&sort_key(&b.display_name))
            .then_with(|| a.display_name.cmp(&b.display_name))
    });
    out
}

/// The ways a contact's name can be written, each folded to sorted words, so
/// `Weiss, Juergen` and `Jürgen Weiß` give the same key.
fn name_keys(c: &Contact) -> Vec<String> {
    let mut keys = vec![name_key(&c.display_name)];
    if !c.given_name.is_empty() || !c.family_name.is_empty() {
        keys.push(name_key(&format!("{} {}", c.given_name, c.family_name)));
    }
    keys.retain(|k| !k.is_empty());
    keys.dedup();
    keys
}

fn name_key(name: &str) -> String {
    // `fold_german` spells ü as ue; a source that dropped the dots (`Jurgen`) must still
    // match, so the transliteration's e is dropped again on both sides.
    let folded = fold_german(name)
        .replace("ae", "a")
        .replace("oe", "o")
        .replace("ue", "u");
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

fn names_match(a: &[String], b: &[String]) -> bool {
    a.iter().any(|k| b.contains(k))
}

/// Evidence (a number, an e-mail address) → the entries that carry it. Numbers carried by
/// differently named people are switchboards and left out.
fn evidence_index(entries: &[Sourced], names: &[Vec<String>]) -> HashMap<String, Vec<usize>> {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let mut seen = HashSet::new();
        for n in &e.contact.numbers {
            let k = format!("tel:{}", n.value);
            if seen.insert(k.clone()) {
                index.entry(k).or_default().push(i);
            }
        }
        let mail = e.contact.email.trim().to_lowercase();
        if !mail.is_empty() {
            index.entry(format!("mail:{mail}")).or_default().push(i);
        }
    }
    index.retain(|k, members| {
        !k.starts_with("tel:")
            || members
                .iter()
                .all(|&m| names_match(&names[m], &names[members[0]]))
    });
    index
}

fn fold_cluster(entries: &[Sourced], members: &[usize]) -> Contact {
    let mut out = entries[members[0]].contact.clone();
    out.sources = vec![entries[members[0]].source.clone()];
    for &m in &members[1..] {
        let c = &entries[m].contact;
        // Not the names: they stay the winner's, all three, so they are one person's
        // spelling (see the module's comment).
        for (field, value) in [
            (&mut out.external_id, &c.external_id),
            (&mut out.company, &c.company),
            (&mut out.department, &c.department),
            (&mut out.position, &c.position),
            (&mut out.email, &c.email),
            (&mut out.group, &c.group),
        ] {
            if field.is_empty() {
                field.clone_from(value);
            }
        }
        for n in &c.numbers {
            // The same number under another type is still one number: the winner's type.
            if !out.numbers.iter().any(|o| o.value == n.value) {
                out.numbers.push(n.clone());
            }
        }
        if !out.sources.contains(&entries[m].source) {
            out.sources.push(entries[m].source.clone());
        }
    }
    out
}

/// Clusters of entries; each root knows its cluster's sources, so a cluster never holds
/// two entries of one source.
struct UnionFind {
    parent: Vec<usize>,
    sources: Vec<Vec<usize>>,
}

impl UnionFind {
    fn new(source_of: &[usize]) -> Self {
        UnionFind {
            parent: (0..source_of.len()).collect(),
            sources: source_of.iter().map(|s| vec![*s]).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Keeps the smaller index as root, so a cluster's root is its best-ranked member.
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb
            || self.sources[ra]
                .iter()
                .any(|s| self.sources[rb].contains(s))
        {
            return;
        }
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        self.parent[hi] = lo;
        let moved = std::mem::take(&mut self.sources[hi]);
        self.sources[lo].extend(moved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NumberType, PhoneNumber};

    fn n(kind: NumberType, v: &str) -> PhoneNumber {
        PhoneNumber {
            kind,
            value: v.into(),
        }
    }

    fn e(source: &str, priority: i64, name: &str, numbers: Vec<PhoneNumber>) -> Sourced {
        Sourced {
            contact: Contact {
                display_name: name.into(),
                numbers,
                ..Default::default()
            },
            source: source.into(),
            priority,
        }
    }

    #[test]
    fn same_person_in_two_sources_becomes_one_entry_with_all_numbers() {
        let mut crm = e(
            "crm",
            20,
            "Weiss, Juergen",
            vec![
                n(NumberType::Work, "+4923111"),
                n(NumberType::Home, "+4923199"),
            ],
        );
        crm.contact.company = "Old Name GmbH".into();
        let mut m365 = e(
            "m365",
            10,
            "Jürgen Weiß",
            vec![
                n(NumberType::Work, "+4923111"),
                n(NumberType::Mobile, "+4917022"),
            ],
        );
        m365.contact.company = "ACME".into();
        crm.contact.department = "Sales".into();
        let out = merge(vec![crm, m365]);
        assert_eq!(out.len(), 1, "{out:#?}");
        let c = &out[0];
        assert_eq!(c.display_name, "Jürgen Weiß", "priority 10 wins the name");
        assert_eq!(c.company, "ACME", "priority 10 wins conflicts");
        assert_eq!(
            c.department, "Sales",
            "gaps are filled from the other source"
        );
        let values: Vec<&str> = c.numbers.iter().map(|n| n.value.as_str()).collect();
        assert_eq!(values, vec!["+4923111", "+4917022", "+4923199"]);
        assert_eq!(c.sources, vec!["m365", "crm"]);
    }

    #[test]
    fn the_name_comes_whole_from_the_winning_source() {
        // The CSV knows only a display name, the CardDAV server the split names.
        let csv = e(
            "push",
            100,
            "Weiss, Juergen",
            vec![n(NumberType::Work, "+4923111")],
        );
        let mut dav = e(
            "dav",
            100,
            "Jürgen Weiß",
            vec![n(NumberType::Work, "+4923111")],
        );
        dav.contact.given_name = "Jürgen".into();
        dav.contact.family_name = "Weiß".into();
        // Equal priorities: `dav` sorts before `push` and wins, with all its names.
        let out = merge(vec![csv.clone(), dav.clone()]);
        assert_eq!(out.len(), 1);
        let names = |c: &Contact| {
            (
                c.display_name.clone(),
                c.given_name.clone(),
                c.family_name.clone(),
            )
        };
        assert_eq!(
            names(&out[0]),
            ("Jürgen Weiß".into(), "Jürgen".into(), "Weiß".into())
        );
        // A better priority makes the CSV win: its display name, and no given or family
        // name from the other source mixed in.
        let mut csv = csv;
        csv.priority = 10;
        let out = merge(vec![csv, dav]);
        assert_eq!(
            names(&out[0]),
            ("Weiss, Juergen".into(), String::new(), String::new())
        );
    }

    #[test]
    fn a_shared_switchboard_number_does_not_fold_two_people() {
        let out = merge(vec![
            e(
                "a",
                1,
                "Anna Schmidt",
                vec![
                    n(NumberType::Work, "+49230"),
                    n(NumberType::Extension, "11"),
                ],
            ),
            e("a", 1, "Bernd Meier", vec![n(NumberType::Work, "+49230")]),
            e("b", 2, "Bernd Meier", vec![n(NumberType::Work, "+49230")]),
        ]);
        let names: Vec<&str> = out.iter().map(|c| c.display_name.as_str()).collect();
        assert_eq!(names, vec!["Anna Schmidt", "Bernd Meier", "Bernd Meier"]);
    }

    #[test]
    fn same_name_without_shared_evidence_stays_apart_and_email_is_evidence() {
        let mut a = e("a", 1, "Max Muster", vec![n(NumberType::Work, "+491")]);
        let mut b = e("b", 1, "MUSTER, max", vec![n(NumberType::Work, "+492")]);
        assert_eq!(merge(vec![a.clone(), b.clone()]).len(), 2);
        a.contact.email = "Max@Example.com".into();
        b.contact.email = "max@example.com ".into();
        let out = merge(vec![a, b]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].numbers.len(), 2);
    }

    #[test]
    fn entries_of_one_source_are_never_folded_together() {
        let one = |src: &str| e(src, 1, "Max Muster", vec![n(NumberType::Work, "+491")]);
        assert_eq!(merge(vec![one("a"), one("a")]).len(), 2);
        // With a second source, its entry joins one of them, not both.
        let out = merge(vec![one("a"), one("a"), one("b")]);
        assert_eq!(out.len(), 2);
        assert_eq!(out.iter().filter(|c| c.sources.len() == 2).count(), 1);
    }

    #[test]
    fn given_and_family_names_match_a_differently_written_display_name() {
        let mut a = e("a", 1, "Dr. J. Weiß", vec![n(NumberType::Work, "+491")]);
        a.contact.given_name = "Jurgen".into();
        a.contact.family_name = "Weiss".into();
        let b = e("b", 2, "Juergen Weiss", vec![n(NumberType::Mobile, "+491")]);
        let out = merge(vec![b, a]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].numbers, vec![n(NumberType::Work, "+491")]);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::domain::{NumberType, PhoneNumber};

    /// `cargo test --release --lib merge_timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn merge_timing() {
        let n = 100_000;
        let entries: Vec<Sourced> = (0..n)
            .map(|i| Sourced {
                contact: Contact {
                    display_name: format!("Person {} Müller", i % (n / 2)),
                    email: format!("p{}@example.com", i % (n / 2)),
                    numbers: vec![
                        PhoneNumber {
                            kind: NumberType::Work,
                            value: format!("+49231{:07}", i % (n / 2)),
                        },
                        PhoneNumber {
                            kind: NumberType::Work,
                            value: "+492310".into(),
                        },
                    ],
                    ..Default::default()
                },
                source: if i < n / 2 { "a".into() } else { "b".into() },
                priority: 1,
            })
            .collect();
        let t = std::time::Instant::now();
        let out = merge(entries);
        eprintln!("merged {n} entries into {} in {:?}", out.len(), t.elapsed());
        assert_eq!(out.len(), n / 2);
    }
}
