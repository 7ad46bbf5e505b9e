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

/// How many files a description has for it to count as large (however they
/// are imported): a tenth of a megabyte of text or more, tens of megabytes of
/// memory. The loader says so as soon as it knows, before it parses them.
pub const LARGE_FILES: usize = 256;

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

    /// Loads a description importing `folders` folders of `files` files
    /// each, and `singles` files one by one; the hook's calls.
    fn calls_loading(folders: usize, files: usize, singles: usize) -> usize {
        on_large(count);
        let mut host = MemHost::new();
        let mut root = String::from("homelab \"lab\"\n");
        for f in 0..folders {
            root.push_str(&format!("import \"apps{f}/\"\n"));
            for i in 0..files {
                host.insert(format!("apps{f}/{i:05}.kdl"), format!("app \"a{f}-{i}\"\n"));
            }
        }
        for i in 0..singles {
            root.push_str(&format!("import \"one/{i}.kdl\"\n"));
            host.insert(format!("one/{i}.kdl"), format!("app \"s{i}\"\n"));
        }
        host.insert("homelab.kdl", root);
        let before = CALLS.with(Cell::get);
        let loaded = crate::load::load(&host, "homelab.kdl", &mut crate::source::SourceMap::new(), &mut Vec::new());
        assert_eq!(loaded.files.len(), 1 + folders * files + singles);
        CALLS.with(Cell::get) - before
    }

    /// A description of `LARGE_FILES` files is said to be large, once,
    /// however its files are imported (one folder, several, one by one);
    /// one file fewer is not.
    #[test]
    fn a_large_description_says_so_once() {
        assert_eq!(calls_loading(1, LARGE_FILES, 0), 1);
        assert_eq!(calls_loading(1, LARGE_FILES - 2, 0), 0, "the root and one folder");
        assert_eq!(calls_loading(2, LARGE_FILES / 2, 0), 1);
        assert_eq!(calls_loading(0, 0, LARGE_FILES), 1);
        assert_eq!(calls_loading(0, 0, LARGE_FILES - 2), 0);
        assert_eq!(calls_loading(3, LARGE_FILES, 0), 1, "once");
    }
}
