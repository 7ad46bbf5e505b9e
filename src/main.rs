//! The `homelabc` binary: parse the command line, run, map the status to an exit code.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{mi_malloc, mi_realloc, mi_zalloc};
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
            // SAFETY: `ptr` is a live mimalloc block and `new_size` non-zero (the caller's
            // contract); the block it moves to is word-aligned as `plain` needs.
            unsafe { mi_realloc(ptr.cast::<c_void>(), new_size).cast() }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

fn main() -> std::process::ExitCode {
    homelabc::cli::main()
}
