//! The `homelabc` binary: parse the command line, run, map the status to an exit code.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{mi_free, mi_good_size, mi_malloc, mi_realloc, mi_usable_size, mi_zalloc};
use mimalloc::MiMalloc;

/// mimalloc instead of the system allocator: a build allocates millions of
/// small strings and maps, from several threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked as `malloc` is where that is enough. `mimalloc::MiMalloc`
/// asks `mi_malloc_aligned` for every allocation, whose fast path only takes
/// small blocks: every block over 1 KiB (a rendered document starts at 2 KiB)
/// went through its over-allocating path, a twentieth of the instructions of
/// a `check`. Every block `mi_malloc` gives is word-aligned (its sizes are
/// whole words, its pages aligned), as the blocks of `malloc` are aligned for
/// any type that fits in them: an alignment of a word at most, and no more
/// than the size (as Rust's `System` allocator asks of `malloc`), needs
/// nothing else; a larger one goes to `MiMalloc` (the change proposed to the
/// crate itself in purpleprotocol/mimalloc_rust#170).
struct Allocator;

/// The alignment every block of `mi_malloc` has (a word).
const WORD: usize = std::mem::size_of::<usize>();

/// Whether `mi_malloc` of the size of `layout` is aligned as `layout` asks.
fn plain(align: usize, size: usize) -> bool {
    align <= WORD && align <= size
}

// SAFETY: every method keeps `GlobalAlloc`'s contract by giving each request
// to mimalloc: the plain functions only where their blocks have the alignment
// asked for (`plain`), `MiMalloc`'s aligned ones otherwise; `mi_free` frees
// blocks of either.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            // SAFETY: a non-zero size (`GlobalAlloc::alloc`'s contract, and `plain`).
            unsafe { mi_malloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { mi_zalloc(layout.size()).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from mimalloc (the caller's contract); `mi_free` takes any of its blocks.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            if new_size < layout.size() {
                // SAFETY: `ptr` is a live mimalloc block of `layout.size()` bytes and
                // `new_size` non-zero, smaller (the caller's contract, and this test).
                let moved = unsafe { shrink(ptr, new_size) };
                if !moved.is_null() {
                    return moved;
                }
            }
            // SAFETY: `ptr` is a live mimalloc block and `new_size` non-zero (the caller's
            // contract); the block it moves to is word-aligned as `plain` needs.
            unsafe { mi_realloc(ptr.cast::<c_void>(), new_size).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

/// A shrinking `realloc` that moves the block to one of the size asked for.
///
/// `mi_realloc` keeps a block for any smaller size that wastes at most half
/// of it: a `shrink_to_fit` gave nothing back. A rendered document is written
/// into 2 KiB and shrunk to its length, so a document of 1.1 KiB kept 2 KiB
/// for the rest of the build, and every text of a large tree kept a third
/// more than it holds (the peak of a 100,000-app build ~230 MiB higher).
/// Here the block moves whenever a smaller one would do (`mi_good_size`
/// rounds to mimalloc's size classes, an eighth apart): a copy of what the
/// caller keeps, which is what a shrink asks for.
///
/// Returns the new block, or null (nothing done) where none is smaller or
/// none could be had: `mi_realloc` then keeps the block, as before.
///
/// # Safety
///
/// `ptr` is a live block of mimalloc's holding at least `new_size` bytes,
/// and `new_size` is non-zero and has a word's alignment at most (`plain`).
unsafe fn shrink(ptr: *mut u8, new_size: usize) -> *mut u8 {
    // SAFETY: `ptr` is a live mimalloc block (the contract above).
    let usable = unsafe { mi_usable_size(ptr.cast::<c_void>()) };
    // SAFETY: `mi_good_size` only computes.
    if unsafe { mi_good_size(new_size) } >= usable {
        return std::ptr::null_mut();
    }
    // SAFETY: a non-zero size (the contract above).
    let moved = unsafe { mi_malloc(new_size) }.cast::<u8>();
    if !moved.is_null() {
        // SAFETY: two distinct live blocks, each of at least `new_size` bytes;
        // `ptr` is not used after it is freed.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr, moved, new_size);
            mi_free(ptr.cast::<c_void>());
        }
    }
    moved
}

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    homelabc::heap::on_large(huge_pages);
    let status = homelabc::cli::main();
    end(status)
}

/// Ends the process with `status` as soon as what it printed is flushed,
/// and nothing else. What a command made is not freed (`cli::left_to_exit`):
/// the kernel takes the memory back at once. The C library's exit would
/// first run mimalloc's exit handler, which walks every page of the heap to
/// collect what is free in it (about 1% of a 1,000-app `build --check`, more
/// at the end of a larger build, whose heap is larger) and, until purging was
/// turned off for it, handed every page freed during the run back one
/// `madvise` per 64 KiB (3-5% of a large build). Standard output is the one
/// buffer to flush (Rust's standard error is not buffered); files the command
/// wrote are written and closed already.
#[cfg(unix)]
fn end(status: homelabc::cli::ExitStatus) -> std::process::ExitCode {
    use std::io::Write as _;
    // As at the end of `main`, a failure to flush (a closed pipe) is not reported.
    let _ = std::io::stdout().flush();
    // SAFETY: `_exit` ends the process as `exit` does, without its handlers:
    // none is needed (the flushed output and the files written are the
    // process's only effects, and its threads were joined).
    unsafe { libc::_exit(i32::from(status.code())) }
}

/// [`end`] elsewhere: the exit code, returned from `main`.
#[cfg(not(unix))]
fn end(status: homelabc::cli::ExitStatus) -> std::process::ExitCode {
    status.into()
}

/// Asks the kernel for transparent huge pages on the heap, once: mimalloc's
/// arena (the mapping that holds a fresh block, 1 GiB reserved) is marked
/// `MADV_HUGEPAGE`, and what is touched of it from then on comes in 2 MiB
/// pages, one fault and one zeroing each instead of 512 (the machines'
/// default, `madvise`, gives them only where asked). Built with mimalloc's
/// `no_thp`, so that seed-sized runs keep small pages; called when the
/// description turns out large (`homelabc::heap`). A build of 1,000 apps is
/// 9-12% faster. Nothing happens where the mapping cannot be found.
#[cfg(target_os = "linux")]
fn huge_pages() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let probe = Box::new(0u64);
        let at = std::ptr::from_ref::<u64>(&probe) as usize;
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return };
        let Some((start, end)) = maps.lines().filter_map(mapping).find(|&(start, end)| start <= at && at < end) else {
            return;
        };
        // SAFETY: advice on a mapping of this process changes how its pages
        // are backed, never its contents; a refusal leaves it as it was.
        unsafe { libc::madvise(start as *mut c_void, end - start, libc::MADV_HUGEPAGE) };
    });
}

/// The address range a line of `/proc/self/maps` starts with (`start-end ...`, hexadecimal).
#[cfg(target_os = "linux")]
fn mapping(line: &str) -> Option<(usize, usize)> {
    let (start, end) = line.split(' ').next()?.split_once('-')?;
    Some((usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The usable size of the block holding `bytes`.
    fn block(bytes: &[u8]) -> usize {
        // SAFETY: the pointer of a live allocation of the global allocator (mimalloc's).
        unsafe { mi_usable_size(bytes.as_ptr().cast::<c_void>()) }
    }

    /// A document written into 2 KiB and shrunk to its 1,100 bytes keeps
    /// them, in a block of the size class of 1,100 (mimalloc kept 2 KiB).
    #[test]
    fn a_shrunk_buffer_moves_to_a_block_of_its_size() {
        let mut text: Vec<u8> = Vec::with_capacity(2048);
        text.extend((0..1100u32).map(|i| (i % 251) as u8));
        text.shrink_to_fit();
        assert_eq!(text.capacity(), 1100);
        // SAFETY: `mi_good_size` only computes.
        assert_eq!(block(&text), unsafe { mi_good_size(1100) });
        assert!(text.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8), "the bytes kept");
    }

    /// A shrink within a size class stays where it is; one by a third moves
    /// (mimalloc kept those); growing, shrinking and growing again keep
    /// every byte, from a word to a few pages.
    #[test]
    fn shrinks_and_growths_keep_the_bytes() {
        let mut bytes: Vec<u8> = Vec::with_capacity(1000);
        bytes.extend(std::iter::repeat_n(7u8, 999));
        let at = bytes.as_ptr();
        bytes.shrink_to_fit();
        assert_eq!(bytes.as_ptr(), at, "999 bytes fit the block of 1,000: not moved");
        for len in [1usize, 8, 9, 100, 4096, 70_000, 33, 5000, 2] {
            let room = len + len / 2 + 1;
            let mut v: Vec<u64> = Vec::with_capacity(room);
            v.extend((0..len as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            v.shrink_to_fit();
            assert!(block(as_bytes(&v)) < room * 8, "{len}: moved to a smaller block");
            assert!(v.iter().enumerate().all(|(i, &x)| x == (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)), "{len}");
            v.extend(std::iter::repeat_n(1, len));
            assert_eq!(v.len(), len * 2);
        }
    }

    /// The heap's mapping is found and marked for huge pages (Linux reports
    /// them as `hg` in the mapping's `VmFlags`).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_heap_is_marked_for_huge_pages() {
        huge_pages();
        let probe = Box::new(0u64);
        let at = std::ptr::from_ref::<u64>(&probe) as usize;
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let ours =
            smaps.split_inclusive('\n').skip_while(|line| mapping(line).is_none_or(|(s, e)| !(s <= at && at < e)));
        let flags = ours.take(40).find(|line| line.starts_with("VmFlags:")).expect("the heap's mapping and its flags");
        // A kernel without transparent huge pages refuses the advice.
        if std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            assert!(flags.split_whitespace().any(|flag| flag == "hg"), "{flags}");
        }
        assert_eq!(mapping("7f00a000-7f00c000 rw-p 00000000 00:00 0"), Some((0x7f00_a000, 0x7f00_c000)));
    }

    /// The bytes of a slice of words.
    fn as_bytes(words: &[u64]) -> &[u8] {
        // SAFETY: any initialized `u64`s are bytes; the length in bytes is the slice's.
        unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), std::mem::size_of_val(words)) }
    }
}
