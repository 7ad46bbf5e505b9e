//! Data parallelism for the big, independent loops of a build (parsing files,
//! rendering objects, hashing files), on the threads of one pool (rayon's
//! global pool, as many threads as cores): started once, at the first loop
//! that is large enough, and kept. A build runs about twenty such loops; a
//! thread started for each (as this module did with scoped threads) cost its
//! start, and its allocator heap began empty each time, in fresh pages.
//!
//! A loop's items are handed out in blocks, each worker taking the next
//! block when it is done with one (the pool's threads, the calling thread
//! among them when it is one): a worker slowed down, by another thread of the
//! build ([`both`]) or another process on its core, leaves the rest of the
//! items to the others instead of holding up the loop with a fixed share.
//!
//! **Architecture Invariant:** results come back in input order, so a
//! parallel loop gives byte-identical output to a sequential one; small inputs
//! (a seed-sized homelab) run on the calling thread, and never start the pool.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

/// Below this many items a loop runs on the calling thread: handing the items
/// to the pool (and starting it, the first time) costs more than it saves.
const MIN_PARALLEL: usize = 512;

/// Below this many items a loop of system calls runs on the calling thread:
/// an item that creates a file costs tens of microseconds, mostly in the
/// kernel, which works on several at once ([`map_calls`]).
const MIN_PARALLEL_CALLS: usize = 64;

/// The most threads a loop uses.
const MAX_THREADS: usize = 8;

/// How many blocks each worker takes on average: enough that the workers
/// end together, few enough that taking one costs nothing beside its items.
const BLOCKS_PER_WORKER: usize = 16;

/// `items.iter().map(f).collect()`, split over the machine's cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    spread(items.iter(), items.len(), MIN_PARALLEL, f)
}

/// [`map`] for items that are each a few system calls (the files of a tree
/// being written): split from far fewer items than a loop of computation.
pub fn map_calls<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    spread(items.iter(), items.len(), MIN_PARALLEL_CALLS, f)
}

/// [`map`] for a few items each worth a loop (the backends of a build): on
/// the pool, an item at a time, when `work` (how many things they work on
/// together, such as a model's declarations) pays for it. An item that loops
/// over [`map`] itself shares its blocks with the workers done with theirs.
pub fn map_tasks<T: Sync, R: Send>(work: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if workers(work, MIN_PARALLEL).is_none() {
        return items.iter().map(f).collect();
    }
    spread(items.iter(), items.len(), 2, f)
}

/// `items.iter_mut().for_each(f)`, split over the machine's cores: the items
/// change where they are, nothing is moved or collected.
pub fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let len = items.len();
    spread(items.iter_mut(), len, MIN_PARALLEL, f);
}

/// `items.into_iter().map(f).collect()`, split over the machine's cores: the
/// items are moved into the workers, so dropping them is parallel too.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let len = items.len();
    spread(items.into_iter(), len, MIN_PARALLEL, f)
}

/// `(a(), b())`, the two at once on the pool, when `len` (how many things
/// they work on) pays for it and there are two cores; otherwise `a`, then
/// `b`, here. For two phases that read the same data and write nothing the
/// other reads (the checks and the dependency graph; the two halves of the
/// inventory). A panic in either goes on in the caller.
pub fn both<A: Send, B: Send>(len: usize, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if workers(len, MIN_PARALLEL).is_none() {
        let a = a();
        return (a, b());
    }
    pool();
    rayon::join(a, b)
}

/// The stack of each thread of the pool: a main thread's on Linux. What runs
/// there (a half of [`both`], the share of a loop) ran on the calling thread
/// before the pool; none of it should overflow where it did not.
const STACK: usize = 8 << 20;

/// Gives the global pool [`threads`] threads, before its first use. Where it
/// was started already (by another library of the process), it is used as it is.
fn pool() {
    static POOL: std::sync::Once = std::sync::Once::new();
    POOL.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads()).stack_size(STACK).build_global();
    });
}

/// `items.map(f).collect()` for the `len` items of `items`: blocks of them
/// are taken in turn by the workers, each block's results written in its
/// place of the one list of results.
fn spread<I, R>(items: I, len: usize, min: usize, f: impl Fn(I::Item) -> R + Sync) -> Vec<R>
where
    I: Iterator + Send,
    I::Item: Send,
    R: Send,
{
    let Some(workers) = workers(len, min) else { return items.map(f).collect() };
    let size = len.div_ceil(workers * BLOCKS_PER_WORKER);
    // Results can be most of a build's memory: one list, made once, each
    // block writing its own part of it (no second list to gather them in).
    let mut out: Vec<Option<R>> = std::iter::repeat_with(|| None).take(len).collect();
    {
        // The items not taken yet, and the places of their results.
        let source = Mutex::new((items, out.chunks_mut(size)));
        let take = || {
            let mut source = source.lock().unwrap_or_else(PoisonError::into_inner);
            let block: Vec<I::Item> = source.0.by_ref().take(size).collect();
            let places = source.1.next()?;
            (!block.is_empty()).then_some((block, places))
        };
        let work = || {
            while let Some((block, places)) = take() {
                for (item, place) in block.into_iter().zip(places) {
                    *place = Some(f(item));
                }
            }
        };
        // One worker a thread of the pool: the thread the scope runs on (the
        // calling thread, inside the pool) and one job for each other. A job
        // that starts when the blocks are gone ends at once.
        pool();
        rayon::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(|_| work());
            }
            work();
        });
        // What held the items (a moved vector's buffer) goes here, before the
        // results are unwrapped.
    }
    // In place: a result and its `Option` have the same size where the
    // result has a niche (a vector, a string, a box).
    out.into_iter().map_while(std::convert::identity).collect()
}

/// The workers of a loop of `len` items (the calling thread among them), or
/// `None` when it should stay on the calling thread (one core, or fewer than
/// `min` items: too few to pay for a thread).
fn workers(len: usize, min: usize) -> Option<usize> {
    let threads = threads();
    (len >= min && threads >= 2).then_some(threads)
}

/// The threads a loop may use: the cores this process may run on (asked
/// once: the standard library reads the cgroup's CPU quota from files to know).
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get).min(MAX_THREADS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_input_order_small_and_large() {
        for n in [0, 1, 7, MIN_PARALLEL_CALLS - 1, MIN_PARALLEL_CALLS, MIN_PARALLEL - 1, MIN_PARALLEL, 10_000] {
            let items: Vec<usize> = (0..n).collect();
            let doubled: Vec<usize> = items.iter().map(|i| i * 2).collect();
            assert_eq!(map(&items, |i| i * 2), doubled);
            assert_eq!(map_calls(&items, |i| i * 2), doubled);
            let mut changed = items.clone();
            for_each_mut(&mut changed, |i| *i *= 2);
            assert_eq!(changed, doubled);
            assert_eq!(map_owned(items, |i| i * 2), doubled);
        }
    }

    #[test]
    fn tasks_run_on_the_pool_only_when_their_work_pays_for_it() {
        // A few items (a build's backends): in input order either way; on the
        // calling thread for a small model, on the pool's threads for a large one.
        let items: Vec<usize> = (0..19).collect();
        let small = map_tasks(MIN_PARALLEL - 1, &items, |&i| (i, rayon::current_thread_index()));
        assert_eq!(small, items.iter().map(|&i| (i, None)).collect::<Vec<_>>());
        let large = map_tasks(MIN_PARALLEL, &items, |&i| (i, rayon::current_thread_index()));
        assert_eq!(large.iter().map(|(i, _)| *i).collect::<Vec<_>>(), items, "in input order");
        if threads() >= 2 {
            assert!(large.iter().all(|(_, index)| index.is_some()), "{large:?}");
        }
    }

    #[test]
    fn both_gives_each_result_small_and_large() {
        for n in [0, MIN_PARALLEL - 1, MIN_PARALLEL, 10_000] {
            let items: Vec<usize> = (0..n).collect();
            let mut seen = Vec::new();
            let (sum, ()) = both(n, || items.iter().sum::<usize>(), || seen.push(items.len()));
            assert_eq!((sum, seen), (n * n.saturating_sub(1) / 2, vec![n]));
        }
    }

    #[test]
    #[should_panic(expected = "from the thread")]
    fn a_panic_in_both_goes_on_in_the_caller() {
        both(MIN_PARALLEL * 4, || panic!("from the thread"), || ());
    }

    #[test]
    fn a_slow_worker_leaves_its_share_to_the_others() {
        // The worker that takes the first block is slowed down (as by another
        // thread on its core): a fixed half of the items each would wait for
        // it; handed out in blocks, the other workers take what it has not
        // started. On a pool of its own: the global one is shared with the
        // other tests running, whose loops may keep its threads.
        if threads() < 2 {
            return;
        }
        let n = MIN_PARALLEL * 4;
        let items: Vec<usize> = (0..n).collect();
        let slow = std::sync::OnceLock::new();
        let own = rayon::ThreadPoolBuilder::new().num_threads(threads()).build().expect("a pool");
        let made = own.install(|| {
            map(&items, |&i| {
                let this = std::thread::current().id();
                if i == 0 {
                    slow.set(this).expect("item 0 is made once");
                }
                let here = slow.get() == Some(&this);
                if here {
                    // A block (64 items of 2,048) takes the slow worker 64 ms: it
                    // makes a quarter of them only if the other worker has not
                    // started within half a second.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                (i, here)
            })
        });
        assert_eq!(made.iter().map(|(i, _)| *i).collect::<Vec<_>>(), items, "in input order");
        let on_slow = made.iter().filter(|(_, here)| *here).count();
        assert!(on_slow > 0, "the slow worker made its first block");
        assert!(on_slow < n / 4, "the slow worker made {on_slow} of {n} items");
    }

    #[test]
    fn loops_run_on_the_threads_of_one_pool() {
        // Two large loops one after the other: every item of each is made on
        // a thread of the pool, not on threads started for the loop.
        if threads() < 2 {
            return;
        }
        let items: Vec<usize> = (0..MIN_PARALLEL * 4).collect();
        for _ in 0..2 {
            let made = map(&items, |_| rayon::current_thread_index());
            assert!(made.iter().all(|index| index.is_some_and(|i| i < threads())), "{made:?}");
        }
        assert_eq!(rayon::current_num_threads(), threads());
    }
}
