//! What the library tells the process about the memory a run is going to
//! use; the binary decides what that changes (`src/main.rs`: huge pages).
//!
//! A large description touches hundreds of megabytes in 4 KiB pages, each
//! faulted in and zeroed by the kernel on first use: a sixth of the CPU time
//! of a 1,000-app build. Huge pages (2 MiB) would take that away, but a
//! seed-sized run would zero whole 2 MiB pages for a few kilobytes each (about
//! 1 ms of a 3 ms `check`): so they are asked for only once the description
//! turns out large, before most of its memory is touched.

use std::sync::OnceLock;

/// How many files a folder import lists for the description to count as
/// large: a tenth of a megabyte of text or more, tens of megabytes of memory.
pub const LARGE_FOLDER: usize = 256;

/// What [`large`] runs: set once, by the binary.
static ON_LARGE: OnceLock<fn()> = OnceLock::new();

/// Sets what [`large`] runs (the first setting holds).
pub fn on_large(hook: fn()) {
    let _ = ON_LARGE.set(hook);
}

/// Says that this run works on a large description: the hook set by
/// [`on_large`] runs (the hook makes its work once per process where that
/// matters); nothing happens without one (the tests, the benchmarks).
pub fn large() {
    if let Some(hook) = ON_LARGE.get() {
        hook();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::host::MemHost;

    thread_local! {
        /// The hook's calls on this thread (tests run side by side).
        static CALLS: Cell<usize> = const { Cell::new(0) };
    }

    fn count() {
        CALLS.with(|calls| calls.set(calls.get() + 1));
    }

    /// Loads a description importing a folder of `files` files; the hook's calls.
    fn calls_loading(files: usize) -> usize {
        on_large(count);
        let mut host = MemHost::new();
        host.insert("homelab.kdl", "homelab \"lab\"\nimport \"apps/\"\n");
        for i in 0..files {
            host.insert(format!("apps/{i:05}.kdl"), format!("app \"a{i}\"\n"));
        }
        let before = CALLS.with(Cell::get);
        let loaded = crate::load::load(&host, "homelab.kdl", &mut crate::source::SourceMap::new(), &mut Vec::new());
        assert_eq!(loaded.files.len(), files + 1);
        CALLS.with(Cell::get) - before
    }

    /// A folder import of `LARGE_FOLDER` files says the run is large, before
    /// the files are read; one file fewer does not.
    #[test]
    fn a_large_folder_import_says_so() {
        assert_eq!(calls_loading(LARGE_FOLDER), 1);
        assert_eq!(calls_loading(LARGE_FOLDER - 1), 0);
    }
}
