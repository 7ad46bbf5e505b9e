//! Keys found by their hash: the output checks look up and group thousands
//! of identities (an object's, a name an object uses) made of several
//! strings. Sorted by their whole value, most comparisons walk strings that
//! start alike (`apps/v1`, a namespace, `app-1…`) before they differ; sorted
//! by a 64-bit hash first, a comparison is one integer, and whole keys are
//! compared only where two hashes are equal (the same key, or, rarely, two
//! keys that collide). Each key comes with a value (where it was found).
//! The hash is `std`'s with its fixed keys: the same in every run, and
//! nothing that is written depends on it (the groups found are put back in
//! the keys' own order).

use std::hash::{DefaultHasher, Hash, Hasher};

/// Keys with their hashes and a value each (where the key was found),
/// sorted by hash, then key, then value.
pub(super) struct HashIndex<K, V = ()> {
    entries: Vec<(u64, K, V)>,
}

/// The hash of a key (the same key, the same hash, in every run).
fn hash_of<K: Hash>(key: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
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
