//! Keys found by their hash: the output checks look up and group thousands
//! of identities (an object's, a name an object uses) made of several
//! strings. Sorted by their whole value, most comparisons walk strings that
//! start alike (`apps/v1`, a namespace, `app-1…`) before they differ; sorted
//! by a 64-bit hash first, a comparison is one integer, and whole keys are
//! compared only where two hashes are equal (the same key, or, rarely, two
//! keys that collide). Each key comes with a value (where it was found).
//! The hash ([`WordHasher`]) is the same in every run and on every machine,
//! and nothing that is written depends on it (the groups found are put back
//! in the keys' own order).

use std::hash::{Hash, Hasher};

/// Keys with their hashes and a value each (where the key was found),
/// sorted by hash, then key, then value.
pub(super) struct HashIndex<K, V = ()> {
    entries: Vec<(u64, K, V)>,
}

/// The hash of a key (the same key, the same hash, in every run).
fn hash_of<K: Hash>(key: &K) -> u64 {
    let mut hasher = WordHasher(0);
    key.hash(&mut hasher);
    hasher.finish()
}

/// A hash that takes its input eight bytes at a time, each word mixed in by
/// a multiplication and a shift: a few instructions a word,
/// where `std`'s SipHash spent most of the time of the clash check on the
/// keys' short strings. Not made to resist chosen collisions, which cost a
/// comparison of whole keys each, never a wrong answer.
struct WordHasher(u64);

/// An odd constant with its bits spread (2^64 over the golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl WordHasher {
    /// Takes in a word: xored into the state, multiplied by an odd constant
    /// and the high half shifted onto the low one. Each step can be undone,
    /// so keys that differ in one word never meet.
    fn word(&mut self, word: u64) {
        let mixed = (self.0 ^ word).wrapping_mul(MULTIPLIER);
        self.0 = mixed ^ (mixed >> 32);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first: with it, the words (the last padded with zeros)
        // tell every two inputs apart.
        self.word(bytes.len() as u64);
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.word(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.word(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<K: Hash + Ord, V: Ord> HashIndex<K, V> {
    /// The index of `entries`, each key kept as often as it is given.
    pub(super) fn new(entries: impl IntoIterator<Item = (K, V)>) -> HashIndex<K, V> {
        let mut entries: Vec<(u64, K, V)> =
            entries.into_iter().map(|(key, value)| (hash_of(&key), key, value)).collect();
        entries.sort_unstable();
        HashIndex { entries }
    }

    /// Whether `key` is one of the keys.
    pub(super) fn contains(&self, key: &K) -> bool {
        let hash = hash_of(key);
        let start = self.entries.partition_point(|(h, _, _)| *h < hash);
        self.entries[start..].iter().take_while(|(h, _, _)| *h == hash).any(|(_, k, _)| k == key)
    }

    /// Each key given more than once, with its values in their order; the
    /// keys in their own order.
    pub(super) fn repeated(&self) -> Vec<(&K, Vec<&V>)> {
        let mut runs: Vec<(&K, Vec<&V>)> = (self.entries)
            .chunk_by(|a, b| (a.0, &a.1) == (b.0, &b.1))
            .filter(|run| run.len() > 1)
            .map(|run| (&run[0].1, run.iter().map(|(_, _, v)| v).collect()))
            .collect();
        runs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash is spread well enough on the names a build has: 100,000
    /// app names and object identities give as many hashes; a string and
    /// one a byte longer, or padded with the zero bytes the last word is
    /// padded with, hash apart.
    #[test]
    fn names_alike_hash_apart() {
        for (a, b) in [("app-100", "app-1008"), ("app-100", "app-100\0"), ("", "\0"), ("abcdefgh", "abcdefgh\0")] {
            assert_ne!(hash_of(&a.as_bytes()), hash_of(&b.as_bytes()), "{a:?} {b:?}");
            assert_ne!(hash_of(&a), hash_of(&b), "{a:?} {b:?}");
        }
        let mut hashes: Vec<u64> = (0..50_000)
            .flat_map(|i| {
                [hash_of(&format!("app-{i}")), hash_of(&("apps/v1", "Deployment", format!("ns-{}", i % 7), i))]
            })
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 100_000);
    }

    #[test]
    fn finds_the_keys_given_and_no_other() {
        let keys = ["a", "b", "app-1", "app-10", ""];
        let index = HashIndex::new(keys.iter().map(|k| (k.to_string(), ())));
        for key in keys {
            assert!(index.contains(&key.to_string()), "{key}");
        }
        for key in ["c", "app-", "app-100", " "] {
            assert!(!index.contains(&key.to_string()), "{key}");
        }
    }

    #[test]
    fn groups_repeated_keys_in_their_order_whatever_the_order_given() {
        // Each key with where it was given.
        let given = [("c", 0), ("a", 1), ("b", 2), ("a", 3), ("c", 4), ("c", 5), ("d", 6)];
        let mut reversed = given;
        reversed.reverse();
        for keys in [given, reversed] {
            let index = HashIndex::new(keys);
            let runs: Vec<(&str, Vec<i32>)> =
                index.repeated().into_iter().map(|(k, at)| (*k, at.into_iter().copied().collect())).collect();
            assert_eq!(runs, vec![("a", vec![1, 3]), ("c", vec![0, 4, 5])]);
        }
    }

    /// Keys whose hashes are equal are still told apart by their value.
    #[test]
    fn keys_of_one_hash_are_compared_whole() {
        /// A key whose hash ignores its value: every key collides.
        #[derive(PartialEq, Eq, PartialOrd, Ord, Debug, Clone, Copy)]
        struct Colliding(u8);
        impl Hash for Colliding {
            fn hash<H: Hasher>(&self, state: &mut H) {
                state.write_u8(0);
            }
        }
        let index = HashIndex::new([Colliding(2), Colliding(1), Colliding(2), Colliding(3)].map(|k| (k, ())));
        assert!(index.contains(&Colliding(1)) && index.contains(&Colliding(3)));
        assert!(!index.contains(&Colliding(4)));
        let runs: Vec<(Colliding, usize)> = index.repeated().into_iter().map(|(k, at)| (*k, at.len())).collect();
        assert_eq!(runs, vec![(Colliding(2), 2)]);
    }
}
