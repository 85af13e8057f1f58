//! The book: the read model every reader reads. The merged directory at one version, built
//! once from a consistent snapshot of the store and shared (`Arc`) by every phone format,
//! the caller-ID lookup, the search, the status endpoint, and the CardDAV, LDAP and PBX
//! front ends. It carries:
//!
//! - the contacts, merged across sources (`domain::merge`) and sorted as phones show them,
//!   each with its stable `ContactId`;
//! - indexes for search as you type (word prefixes of names) and for lookup by number in
//!   every shape a PBX sends (`index`, `lookup`);
//! - what it costs phones (device warnings) and each contact's ETag, computed once, when a
//!   reader first asks.
//!
//! `Books` keeps the latest book of the directories in use, bounded in bytes, and records
//! each version's changes in the store's change log (`changes`).
//!
//! Data flows one way: store → book → readers. The book never writes contacts; it reads the
//! store, and writes only the change log it derives.

mod books;
pub mod changes;
pub mod index;
pub mod lookup;

pub use books::{BookError, Books};
pub use changes::{Change, Changes};

use crate::domain::merge::{merge, Sourced};
use crate::domain::search::Query;
use crate::domain::text::sort_key;
use crate::domain::{Contact, ContactId};
use crate::phone::NumberRules;
use crate::render::{vcard, DeviceWarning, Presenter};
use crate::store::Directory;
use index::{Fields, Names, Numbers};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A directory's merged book at one version.
pub struct Book {
    pub directory: Directory,
    /// Merged and sorted as phones show them; every `id` is set and unique.
    pub contacts: Vec<Contact>,
    names: Names,
    numbers: Numbers,
    /// (id, position in `contacts`), sorted by id.
    by_id: Vec<(ContactId, u32)>,
    warnings: OnceLock<Vec<DeviceWarning>>,
    etags: OnceLock<Vec<u64>>,
    /// What readers derive from this version once and keep with it (see `derived`).
    derived: Mutex<HashMap<&'static str, Arc<dyn Any + Send + Sync>>>,
    bytes: usize,
}

impl Book {
    /// Builds the book of `directory` from every source's entries (as the store holds them:
    /// ordered by name within each source, then by the order the source gave them).
    pub fn build(directory: Directory, mut entries: Vec<Sourced>) -> Book {
        assign_ids(&mut entries);
        let mut contacts = merge(entries);
        let mut by_id: Vec<(ContactId, u32)> = Vec::with_capacity(contacts.len());
        let mut seen = std::collections::HashSet::with_capacity(contacts.len());
        for (i, c) in contacts.iter_mut().enumerate() {
            while !seen.insert(c.id) {
                c.id = c.id.rehashed();
            }
            by_id.push((c.id, i as u32));
        }
        by_id.sort_unstable();
        let names = Names::build(&contacts);
        let numbers = Numbers::build(&contacts);
        let bytes = contacts.iter().map(contact_bytes).sum::<usize>()
            + names.bytes()
            + numbers.bytes()
            + by_id.capacity() * std::mem::size_of::<(ContactId, u32)>()
            // The ETags, once asked for.
            + contacts.len() * 8
            + std::mem::size_of::<Book>();
        Book {
            directory,
            contacts,
            names,
            numbers,
            by_id,
            warnings: OnceLock::new(),
            etags: OnceLock::new(),
            derived: Mutex::new(HashMap::new()),
            bytes,
        }
    }

    pub fn version(&self) -> i64 {
        self.directory.version
    }

    /// The title phones show.
    pub fn title(&self) -> &str {
        self.directory.title()
    }

    /// What this book costs in memory, roughly: the bound of `Books` counts this.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn all(&self) -> Vec<&Contact> {
        self.contacts.iter().collect()
    }

    /// The contact with this id.
    pub fn get(&self, id: ContactId) -> Option<&Contact> {
        self.position(id).map(|i| &self.contacts[i])
    }

    fn position(&self, id: ContactId) -> Option<usize> {
        let i = self.by_id.binary_search_by_key(&id, |(k, _)| *k).ok()?;
        Some(self.by_id[i].1 as usize)
    }

    /// What a phone's search box finds, in book order: every word typed starts a word of a
    /// name or the company (case, accents and German transliteration ignored), or the
    /// digits typed appear in a number.
    pub fn search(&self, q: &Query) -> Vec<&Contact> {
        let mut hits: Vec<u32> = if q.words().is_empty() {
            Vec::new()
        } else {
            self.names.search(q.words(), index::ANY_NAME, u32::MAX)
        };
        if let Some(d) = q.digits() {
            // Digits may sit anywhere in a number, so they are looked for in every number;
            // a scan of the numbers only, no names, no allocation per contact.
            for (i, c) in self.contacts.iter().enumerate() {
                if c.numbers
                    .iter()
                    .any(|n| n.value.trim_start_matches('+').contains(d))
                {
                    hits.push(i as u32);
                }
            }
            hits.sort_unstable();
            hits.dedup();
        }
        warm(&self.contacts, &hits);
        hits.into_iter()
            .map(|i| &self.contacts[i as usize])
            .collect()
    }

    /// Entries whose name fields (`index::SPLIT_FAMILY`, …) have a word starting with what
    /// was typed (`Mül*`: a trailing `*` is the phone's wildcard).
    pub fn with_prefix(&self, typed: &str, fields: Fields) -> Vec<u32> {
        self.with_prefix_below(typed, fields, u32::MAX)
    }

    /// The same among the first `below` entries only: a reader that wants the first few
    /// hits in book order asks for a part of the book at a time, and the cost follows what
    /// it wants, not how many entries a first letter finds in a big book.
    pub fn with_prefix_below(&self, typed: &str, fields: Fields, below: u32) -> Vec<u32> {
        self.names
            .search(typed.trim().trim_end_matches('*'), fields, below)
    }

    /// What was typed into a name field (`Mül*` as in `with_prefix`), to check the hits of
    /// another field's search by the same rule.
    pub fn typed(&self, typed: &str, fields: Fields) -> index::Typed<'_> {
        self.names.typed(typed.trim().trim_end_matches('*'), fields)
    }

    /// The numbers in the book that are the calling number, best first, at most `limit`
    /// (see `lookup::by_number`).
    pub fn lookup(
        &self,
        raw: &str,
        rules: &NumberRules,
        outside_prefix: &str,
        limit: usize,
    ) -> Vec<lookup::Hit<'_>> {
        lookup::by_number(
            &self.contacts,
            &self.numbers,
            raw,
            rules,
            outside_prefix,
            limit,
        )
    }

    /// The position of a contact of this book (for hits that come back as references).
    pub fn index_of(&self, c: &Contact) -> Option<usize> {
        self.position(c.id)
    }

    /// A value a reader derives from this version (an order, a total), made once by `make`
    /// and kept with the book, so it lives and goes with the version. `name` tells values
    /// apart; one name always holds one type.
    pub fn derived<T: Any + Send + Sync>(
        &self,
        name: &'static str,
        make: impl FnOnce(&Book) -> T,
    ) -> Option<Arc<T>> {
        let mut d = self.derived.lock().unwrap_or_else(|p| p.into_inner());
        let v = d
            .entry(name)
            .or_insert_with(|| Arc::new(make(self)) as Arc<dyn Any + Send + Sync>)
            .clone();
        v.downcast::<T>().ok()
    }

    /// Positions in the order of family name, then given name (as `render::split_name`
    /// gives them, folded): how DECT handsets list a book. `.0` the positions in that
    /// order, `.1` each position's rank in it.
    pub fn by_family_name(&self) -> Option<Arc<(Vec<u32>, Vec<u32>)>> {
        self.derived("by_family_name", |b| {
            let mut order: Vec<u32> = (0..b.contacts.len() as u32).collect();
            order.sort_by_cached_key(|i| {
                let (given, family) = crate::render::split_name(&b.contacts[*i as usize]);
                (sort_key(family), sort_key(given), *i)
            });
            let mut rank = vec![0u32; order.len()];
            for (r, i) in order.iter().enumerate() {
                rank[*i as usize] = r as u32;
            }
            (order, rank)
        })
    }

    /// What every whole-book format cuts from this book, computed once per version.
    pub fn device_warnings(&self) -> &[DeviceWarning] {
        self.warnings
            .get_or_init(|| crate::render::device_warnings(self.title(), &self.all()))
    }

    /// How address books (vCard, CardDAV) write this book's numbers: E.164 unless the
    /// directory asks otherwise, since address books travel to smartphones.
    pub fn address_book_presenter(&self) -> Presenter {
        let s = &self.directory.settings;
        Presenter {
            shape: s.address_book_numbers.unwrap_or_default(),
            region: s.region,
            outside_prefix: Default::default(),
        }
    }

    /// The ETag of one contact: a hash of its vCard 3.0 as address books get it, so it
    /// changes exactly when those bytes do.
    pub fn etag(&self, position: usize) -> u64 {
        self.etags().get(position).copied().unwrap_or(0)
    }

    /// Every contact's ETag, in book order; computed once per version.
    pub fn etags(&self) -> &[u64] {
        self.etags.get_or_init(|| {
            let p = self.address_book_presenter();
            let mut buf = String::new();
            self.contacts
                .iter()
                .map(|c| {
                    buf.clear();
                    vcard::card(&mut buf, c, &p, vcard::Version::V3);
                    let d = ring::digest::digest(&ring::digest::SHA256, buf.as_bytes());
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&d.as_ref()[..8]);
                    u64::from_be_bytes(b)
                })
                .collect()
        })
    }
}

/// Gives every entry its id: from (source, the source's id) or (source, the folded name),
/// the n-th of equal ones in a source numbered in the order the store holds them.
fn assign_ids(entries: &mut [Sourced]) {
    let mut seen: HashMap<(String, bool, String), usize> = HashMap::new();
    for e in entries.iter_mut() {
        let c = &mut e.contact;
        let named = c.external_id.is_empty();
        let identity = if named {
            sort_key(&c.display_name)
        } else {
            c.external_id.clone()
        };
        let n = seen
            .entry((e.source.clone(), named, identity.clone()))
            .or_insert(0);
        let (ext, key) = if named {
            ("", identity.as_str())
        } else {
            (identity.as_str(), "")
        };
        c.id = ContactId::derive(&e.source, ext, key, *n);
        *n += 1;
    }
}

/// What one heap block of `capacity` bytes costs the allocator: glibc's malloc adds an
/// 8-byte header, rounds up to 16 and gives at least 32. A contact is a dozen small strings,
/// so counting capacities alone undercounts a book by half (measured: a 64 MiB bound held
/// 110 MiB).
fn heap(capacity: usize) -> usize {
    if capacity == 0 {
        0
    } else {
        ((capacity + 8 + 15) & !15).max(32)
    }
}

/// Heap and inline bytes of one contact, for the cache's bound.
fn contact_bytes(c: &Contact) -> usize {
    std::mem::size_of::<Contact>()
        + [
            &c.external_id,
            &c.display_name,
            &c.given_name,
            &c.family_name,
            &c.company,
            &c.department,
            &c.position,
            &c.email,
            &c.group,
        ]
        .iter()
        .map(|s| heap(s.capacity()))
        .sum::<usize>()
        + heap(c.numbers.capacity() * std::mem::size_of::<crate::domain::PhoneNumber>())
        + c.numbers
            .iter()
            .map(|n| heap(n.value.capacity()))
            .sum::<usize>()
        + heap(c.sources.capacity() * std::mem::size_of::<String>())
        + c.sources.iter().map(|s| heap(s.capacity())).sum::<usize>()
}

/// Reads the parts of many hits a reader is about to render one after the other: their
/// display names and numbers, level by level for all of them at once. In a big book the
/// entries lie far apart in memory and each level (the entry, its name's and numbers'
/// bytes, each number's digits) is a cache miss that depends on the one before; read hit
/// after hit, the misses come one at a time, read here level by level they overlap. In
/// 100,000 contacts this was about half the cost of rendering a search's answer
/// (benches/core.rs, `yealink_search`). Candidates checked for more words typed need none
/// of this: the name index checks them by their words' positions (`index::Typed`).
pub(crate) fn warm(contacts: &[Contact], at: &[u32]) {
    use std::hint::black_box;
    let entries = at.iter().filter_map(|&i| contacts.get(i as usize));
    // The entries themselves: a few hundred bytes each, so only the lines these fields are on.
    for c in entries.clone() {
        black_box((c.display_name.as_ptr(), c.numbers.as_ptr()));
    }
    for c in entries.clone() {
        black_box(c.display_name.as_bytes().first().copied());
        black_box(c.numbers.first().map(|n| n.value.as_ptr()));
    }
    for c in entries {
        for n in &c.numbers {
            black_box(n.value.as_bytes().first().copied());
        }
    }
}

#[cfg(test)]
mod tests;
