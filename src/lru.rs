//! A map bounded in bytes that forgets its least recently used entries first: the one
//! eviction policy of the book cache (`book::Books`) and the render cache (`http::cache`).
//! Not thread-safe by itself; its owners keep it behind a mutex held for map operations only.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

pub struct Lru<K, V> {
    max_bytes: usize,
    entries: HashMap<K, Slot<V>>,
    /// use tick → key, oldest first
    order: BTreeMap<u64, K>,
    bytes: usize,
    tick: u64,
}

struct Slot<V> {
    value: V,
    size: usize,
    used: u64,
}

impl<K: Clone + Eq + Hash, V: Clone> Lru<K, V> {
    pub fn new(max_bytes: usize) -> Self {
        Lru {
            max_bytes,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            bytes: 0,
            tick: 0,
        }
    }

    pub fn get(&mut self, key: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        let slot = self.entries.get_mut(key)?;
        let old = std::mem::replace(&mut slot.used, tick);
        let value = slot.value.clone();
        self.order.remove(&old);
        self.order.insert(tick, key.clone());
        Some(value)
    }

    /// Stores `value`, which costs `size` bytes, replacing what `key` held; then forgets the
    /// least recently used entries until the bound holds. A value larger than the whole
    /// bound is not kept.
    pub fn insert(&mut self, key: K, value: V, size: usize) {
        self.remove(&key);
        if size > self.max_bytes {
            return;
        }
        self.tick += 1;
        let tick = self.tick;
        self.order.insert(tick, key.clone());
        self.entries.insert(
            key,
            Slot {
                value,
                size,
                used: tick,
            },
        );
        self.bytes += size;
        self.evict();
    }

    /// Counts `extra` more bytes for what `key` holds (a value that grew after it was
    /// stored), then forgets the least recently used entries until the bound holds, this
    /// one too if it must. Nothing for a key not held.
    pub fn grow(&mut self, key: &K, extra: usize) {
        if let Some(s) = self.entries.get_mut(key) {
            s.size += extra;
            self.bytes += extra;
            self.evict();
        }
    }

    fn evict(&mut self) {
        while self.bytes > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(s) = self.entries.remove(&oldest) {
                self.bytes -= s.size;
            }
        }
    }

    /// Stores a value larger than the whole bound, for an owner that would rather hold one
    /// oversized entry than none (the book cache: a book not kept is rebuilt per request).
    /// The next insert forgets it first, as the least recently used.
    pub fn insert_oversized(&mut self, key: K, value: V, size: usize) {
        self.remove(&key);
        self.tick += 1;
        let tick = self.tick;
        self.order.insert(tick, key.clone());
        self.entries.insert(
            key,
            Slot {
                value,
                size,
                used: tick,
            },
        );
        self.bytes += size;
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let s = self.entries.remove(key)?;
        self.order.remove(&s.used);
        self.bytes -= s.size;
        Some(s.value)
    }

    /// Forgets every entry `stale` says so of.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        let gone: Vec<K> = self.entries.keys().filter(|k| !keep(k)).cloned().collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// (entries, bytes) held now.
    pub fn usage(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_bound_dropping_the_least_recently_used() {
        let mut lru = Lru::new(30);
        for k in 0..3 {
            lru.insert(k, k, 10);
        }
        assert_eq!(lru.get(&0), Some(0));
        lru.insert(3, 3, 10);
        assert_eq!(lru.get(&1), None, "least recently used goes");
        assert_eq!(lru.get(&0), Some(0));
        assert_eq!(lru.get(&3), Some(3));
        assert_eq!(lru.usage(), (3, 30));
        lru.insert(4, 4, 31);
        assert_eq!(lru.get(&4), None, "larger than the bound: not kept");
        lru.insert(0, 0, 5);
        assert_eq!(
            lru.usage(),
            (3, 25),
            "a replaced entry's size is given back"
        );
        lru.retain(|k| *k != 0);
        assert_eq!(lru.usage(), (2, 20));
        lru.insert_oversized(9, 9, 100);
        assert_eq!(lru.get(&9), Some(9));
        lru.insert(10, 10, 10);
        assert_eq!(lru.get(&9), None, "the oversized entry goes first");
    }
}
