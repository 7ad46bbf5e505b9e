//! Data parallelism for the big, independent loops of a build (parsing files,
//! rendering objects, hashing files), on scoped threads of the standard
//! library.
//!
//! **Architecture Invariant:** results come back in input order, so a
//! parallel loop gives byte-identical output to a sequential one; small inputs
//! (a seed-sized homelab) run on the calling thread.

use std::num::NonZeroUsize;

/// Below this many items a loop runs on the calling thread: spawning costs
/// more than it saves.
const MIN_PARALLEL: usize = 512;

/// The most threads a loop uses.
const MAX_THREADS: usize = 8;

/// `items.iter().map(f).collect()`, split over the machine's cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let Some(chunk) = chunk_size(items.len()) else { return items.iter().map(f).collect() };
    let f = &f;
    std::thread::scope(|scope| {
        join(items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect())
    })
}

/// `items.iter_mut().for_each(f)`, split over the machine's cores: the items
/// change where they are, nothing is moved or collected.
pub fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let Some(chunk) = chunk_size(items.len()) else { return items.iter_mut().for_each(f) };
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            items.chunks_mut(chunk).map(|part| scope.spawn(move || part.iter_mut().for_each(f))).collect();
        // A worker's panic goes on in the caller, as in `join`.
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// `items.into_iter().map(f).collect()`, split over the machine's cores: the
/// items are moved into the workers, so dropping them is parallel too.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let Some(chunk) = chunk_size(items.len()) else { return items.into_iter().map(f).collect() };
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut rest = items;
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let f = &f;
    std::thread::scope(|scope| {
        join(parts.into_iter().map(|part| scope.spawn(move || part.into_iter().map(f).collect::<Vec<R>>())).collect())
    })
}

/// The items per worker, or `None` when a loop of `len` items should stay on
/// the calling thread (one core, or too few items to pay for spawning).
fn chunk_size(len: usize) -> Option<usize> {
    if len < MIN_PARALLEL {
        return None;
    }
    let threads = threads();
    (threads >= 2).then(|| len.div_ceil(threads))
}

/// The threads a loop may use: the cores this process may run on (asked
/// once: the standard library reads the cgroup's CPU quota from files to know).
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(MAX_THREADS))
}

/// The workers' results in spawn order; a worker's panic goes on in the caller.
/// The first worker's vector takes the others' items, grown once to hold
/// them all: results can be most of a build's memory.
fn join<R>(handles: Vec<std::thread::ScopedJoinHandle<'_, Vec<R>>>) -> Vec<R> {
    let parts: Vec<Vec<R>> = handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect();
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut parts = parts.into_iter();
    let mut out = parts.next().unwrap_or_default();
    out.reserve_exact(total - out.len());
    for part in parts {
        out.extend(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_input_order_small_and_large() {
        for n in [0, 1, 7, MIN_PARALLEL - 1, MIN_PARALLEL, 10_000] {
            let items: Vec<usize> = (0..n).collect();
            let doubled: Vec<usize> = items.iter().map(|i| i * 2).collect();
            assert_eq!(map(&items, |i| i * 2), doubled);
            let mut changed = items.clone();
            for_each_mut(&mut changed, |i| *i *= 2);
            assert_eq!(changed, doubled);
            assert_eq!(map_owned(items, |i| i * 2), doubled);
        }
    }
}
