//! The output tree on disk: reading a folder back, and writing a new tree
//! atomically (SPEC §4).
//!
//! [`write`] checks the folder first (no links, no file the lock does not
//! list, none of the description's own files), writes nothing when the tree on
//! disk is already byte-identical, and otherwise makes the whole new tree in
//! a fresh sibling folder and swaps it in, so that a crash leaves the old tree
//! or the new one at DIR, never a mix. It writes, deletes and follows nothing
//! outside DIR and its own siblings named `.<name>.homelabc-new-<pid>` and
//! `.<name>.homelabc-old-<pid>`.
//!
//! Only the files that changed are written: on Unix, a file of DIR that the
//! lock lists, byte for byte the new tree's, with the mode and owner a write
//! would give it, is hard-linked into the sibling folder instead ([`build`]).
//! A link adds a name and changes no byte, so the old tree stays whole until
//! the swap, and removing it afterwards leaves the file to DIR. Nothing is
//! ever written through a link: every other file is created afresh. Where a
//! link fails (another device, a file system without links), the rest of the
//! tree is written.
//!
//! Durability costs a constant number of flushes, not one per file: the new
//! tree is written without flushing, its file system is flushed once
//! (`syncfs` on Linux; elsewhere each file written and each folder is synced),
//! then the swap is made and the parent folder flushed. A crash before the
//! swap leaves the old tree; after it, the new tree, which was durable before
//! the swap.
//!
//! Writers of one DIR take turns: [`DirLock`] is an exclusive lock on DIR's
//! parent folder (no file is created for it), held from before the tree on
//! disk is read until the swap is done, so that a build never removes another
//! build's sibling folder and the result is always one whole tree.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::{FileDigest, LOCK_FILE, OutputTree, PathError, parse_lock, parse_lock_hashes, sha256_hex};

/// How [`write`] treats the output folder.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Adopt a folder holding files the lock does not list: they are replaced
    /// or removed like any other file of the folder.
    pub force: bool,
    /// Test hook: writing the temporary tree fails after this many files.
    #[doc(hidden)]
    pub fail_after_files: Option<usize>,
    /// Test hook: swap with two renames, as where `renameat2` is missing.
    #[doc(hidden)]
    pub portable_swap: bool,
    /// Files and folders the output may never hold or replace: the
    /// description's folder and every file it reads.
    pub protect: Vec<PathBuf>,
    /// Test hook: removing the old tree after the swap fails.
    #[doc(hidden)]
    pub fail_remove_old: bool,
    /// Test hook (the kill test): at this point the writer creates the file
    /// `.1` of the path and sleeps until it is killed.
    #[doc(hidden)]
    pub pause: Option<(Pause, PathBuf)>,
}

/// Where the [`WriteOptions::pause`] test hook stops.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// After half of the new tree's files are written.
    MidWrite,
    /// After the new tree is written and flushed, before the swap.
    BeforeSwap,
    /// After the swap, before the old tree is removed.
    AfterSwap,
}

/// What [`write`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The tree on disk already was the new tree: nothing was written.
    Unchanged,
    /// The new tree replaced the old one. Each list is sorted.
    Written {
        /// Files that were not on disk.
        added: Vec<String>,
        /// Files whose contents changed.
        changed: Vec<String>,
        /// Files that are no longer in the tree.
        removed: Vec<String>,
        /// The old tree, when it could not be removed after the swap.
        leftover: Option<Leftover>,
    },
}

/// An old tree left beside DIR because it could not be removed after the
/// swap: the caller warns about it. A `.gitignore` of `*` is written into it
/// first, so that a `git add -A` of the work tree does not commit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// Where it is.
    pub path: PathBuf,
    /// Why it could not be removed.
    pub error: String,
    /// Whether its `.gitignore` could be written.
    pub ignored: bool,
}

/// Why [`write`] or [`read_tree`] refused or failed. Paths inside DIR are relative to it.
#[derive(Debug)]
pub enum WriteError {
    /// Files in DIR that its lock does not list, sorted.
    StrayFiles(Vec<String>),
    /// A symbolic link: DIR itself, or a path below it.
    Symlink(String),
    /// DIR exists and is not a folder.
    NotADirectory(PathBuf),
    /// The file system failed at `path`.
    Io {
        /// Where it failed.
        path: PathBuf,
        /// The error of the file system.
        error: io::Error,
    },
    /// A name on disk that is not a valid path of a tree.
    InvalidPath(PathError),
    /// DIR is, or holds, a file or folder of the description (`protected`).
    Protected {
        /// DIR.
        dir: PathBuf,
        /// The description's file or folder at or below it.
        protected: PathBuf,
    },
}

/// Something found below DIR.
#[derive(Debug)]
enum Entry {
    /// A regular file with a UTF-8 name, and its bytes.
    File(Vec<u8>),
    /// A regular file with a UTF-8 name whose bytes are those of the new
    /// tree's file at its path: compared as it was read, then dropped. With
    /// what it was as it was read, where the writer may link it ([`Seen`]).
    Same(Option<Seen>),
    /// Anything else that is not a folder: a fifo, a socket, a device.
    Special,
    /// A name (or a folder name above it) that is not UTF-8; shown lossily.
    BadName,
}

/// Everything found below DIR by relative path (folders are implied).
type Found = BTreeMap<String, Entry>;

/// Reads every regular file below DIR (not following links) into a tree; an
/// absent DIR is an empty tree.
pub fn read_tree(dir: &Path) -> Result<OutputTree, WriteError> {
    let mut tree = OutputTree::new();
    for (path, entry) in load(&normalized(dir), None)?.unwrap_or_default() {
        let problem = match entry {
            Entry::File(bytes) => {
                tree.insert_any(&path, bytes).map_err(WriteError::InvalidPath)?;
                continue;
            }
            Entry::Same(_) => unreachable!("nothing is compared without a new tree"),
            Entry::Special => "not a regular file",
            Entry::BadName => "the name is not UTF-8",
        };
        return Err(WriteError::Io { path: path.into(), error: io::Error::new(io::ErrorKind::InvalidData, problem) });
    }
    Ok(tree)
}

/// What writing `tree` to DIR would change, computed as [`write`] does but
/// writing nothing (for `build --check`). Stray files count as removed.
pub fn pending(dir: &Path, tree: &OutputTree) -> Result<WriteOutcome, WriteError> {
    let found = load(&normalized(dir), Some(tree))?;
    if found.as_ref().is_some_and(|found| same(found, tree)) {
        return Ok(WriteOutcome::Unchanged);
    }
    Ok(changes(found.as_ref(), tree))
}

/// Writes the tree to DIR atomically, taking DIR's [`DirLock`] (waiting for
/// it silently). `tree` is normally sealed: without a lock in it, a later
/// write will see every file of DIR as stray.
pub fn write(dir: &Path, tree: &OutputTree, options: &WriteOptions) -> Result<WriteOutcome, WriteError> {
    let lock = DirLock::acquire(dir, &mut || {})?;
    write_locked(&lock, tree, options)
}

/// [`write`] under a lock the caller holds.
pub fn write_locked(lock: &DirLock, tree: &OutputTree, options: &WriteOptions) -> Result<WriteOutcome, WriteError> {
    let old = read_locked(lock, tree, options)?;
    write_read(lock, old, tree, options)
}

/// DIR as one build reads it, once, under its [`DirLock`]: the data-loss
/// plan and the writer share it. Each file is compared with the new tree's
/// file at its path as it is read, and only the bytes of the files that
/// differ (or that the new tree no longer has) are kept.
#[derive(Debug)]
pub struct OldTree {
    found: Option<Found>,
}

impl OldTree {
    /// Whether DIR existed.
    pub fn exists(&self) -> bool {
        self.found.is_some()
    }

    /// Whether DIR holds exactly the new tree it was read against, byte for byte.
    pub fn unchanged(&self, tree: &OutputTree) -> bool {
        self.found.as_ref().is_some_and(|found| same(found, tree))
    }

    /// The regular files of DIR that differ from the new tree or that it no
    /// longer has, with their bytes, in path order.
    pub fn differing(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.found.iter().flatten().filter_map(|(path, entry)| match entry {
            Entry::File(bytes) => Some((path.as_str(), bytes.as_slice())),
            _ => None,
        })
    }

    /// Whether the file at `path` of DIR is byte-identical to the new tree's.
    pub fn same_at(&self, path: &str) -> bool {
        self.found.as_ref().is_some_and(|found| matches!(found.get(path), Some(Entry::Same(_))))
    }

    /// Every regular file of DIR with its bytes, in path order: the files that
    /// were the same as `tree`'s (the tree this was read against) with its bytes.
    pub fn files<'a>(&'a self, tree: &'a OutputTree) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.found.iter().flatten().filter_map(move |(path, entry)| match entry {
            Entry::File(bytes) => Some((path.as_str(), bytes.as_slice())),
            Entry::Same(_) => tree.get(path).map(|bytes| (path.as_str(), bytes)),
            Entry::Special | Entry::BadName => None,
        })
    }
}

/// The lock a remembered build ([`crate::memo`]) expects at DIR, as
/// [`listed`] found it there.
#[derive(Debug)]
pub struct Listed {
    lock: Vec<u8>,
}

/// DIR's `homelab.lock`, when DIR is a folder (not a link) and the lock's hex
/// sha256 is `lock_sha`: the first, cheap look of a remembered build (which
/// knows the lock of the tree it would make, not the tree), saying no at
/// once to a DIR gone or holding another tree. A writer reads it under the
/// [`DirLock`] it then checks the rest with ([`holds_locked`]).
pub fn listed(dir: &Path, lock_sha: &str) -> Option<Listed> {
    let dir = normalized(dir);
    if !fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir()) {
        return None;
    }
    let (lock, _) = read_file(&dir.join(LOCK_FILE), false).ok()?;
    (sha256_hex(&lock) == lock_sha).then_some(Listed { lock })
}

/// Whether DIR holds exactly the tree of the lock [`listed`] found there:
/// that lock, every file it lists with the sha256 it gives, and nothing else.
/// Every other file is read and hashed on every core and none is kept.
/// Anything a write would refuse or report (a link, a file that is not
/// regular, a name that is not UTF-8, an error) makes it `false`: the caller
/// compiles, and the write says what it is.
pub fn holds(dir: &Path, listed: &Listed) -> bool {
    let dir = normalized(dir);
    if !fs::symlink_metadata(&dir).is_ok_and(|meta| meta.is_dir()) {
        return false;
    }
    let (mut others, mut files) = (Found::new(), Vec::new());
    if scan(&dir, "", true, &mut others, &mut files).is_err() || !others.is_empty() {
        return false;
    }
    let Some(hashes) = parse_lock_hashes(&listed.lock) else { return false };
    // The lock is still there; its bytes are the ones `listed` read.
    let Some(lock) = files.iter().position(|(path, _)| path == LOCK_FILE) else { return false };
    files.swap_remove(lock);
    if files.len() != hashes.len() || !files.iter().all(|(path, _)| hashes.contains_key(path)) {
        return false;
    }
    let same =
        crate::par::map(&files, |(path, native)| hash_file(native).is_ok_and(|hash| hashes.get(path) == Some(&hash)));
    same.into_iter().all(|same| same)
}

/// [`holds`] under a lock the caller holds (and held when it read `listed`);
/// when DIR holds the tree, the siblings a killed build left are removed, as
/// a write that finds DIR unchanged does.
pub fn holds_locked(lock: &DirLock, listed: &Listed) -> bool {
    let Ok(siblings) = Siblings::of(&lock.dir) else { return false };
    let holds = holds(&siblings.dir, listed);
    if holds && lock.held() {
        siblings.remove_stale();
    }
    holds
}

/// Reads DIR once for a write of `tree` under `lock` (refusing first a DIR
/// that is or holds the description, [`WriteOptions::protect`]).
pub fn read_locked(lock: &DirLock, tree: &OutputTree, options: &WriteOptions) -> Result<OldTree, WriteError> {
    let dir = Siblings::of(&lock.dir)?.dir;
    if let Some(protected) = protected_inside(&dir, &options.protect) {
        return Err(WriteError::Protected { dir, protected });
    }
    Ok(OldTree { found: load(&dir, Some(tree))? })
}

/// [`write`] under a lock the caller holds, of DIR as [`read_locked`] read it
/// (so that the caller can plan the change first, and say that it waits).
pub fn write_read(
    lock: &DirLock,
    old: OldTree,
    tree: &OutputTree,
    options: &WriteOptions,
) -> Result<WriteOutcome, WriteError> {
    let siblings = Siblings::of(&lock.dir)?;
    let found = old.found;
    let mut unlisted = Vec::new();
    if let Some(found) = &found {
        unlisted = strays(found, tree);
        if !unlisted.is_empty() && !options.force {
            return Err(WriteError::StrayFiles(unlisted));
        }
        if same(found, tree) {
            if lock.held() {
                siblings.remove_stale();
            }
            return Ok(WriteOutcome::Unchanged);
        }
    }
    let outcome = changes(found.as_ref(), tree);
    let existed = found.is_some();
    // The old bytes are not needed any more: free them before writing, and
    // keep what the links need. Only files the lock on disk lists are linked:
    // a build wrote them, and made them durable before its swap.
    let links: Links = found
        .into_iter()
        .flatten()
        .filter_map(|(path, entry)| match entry {
            Entry::Same(Some(seen)) if unlisted.binary_search(&path).is_err() => Some((path, seen)),
            _ => None,
        })
        .collect();
    fs::create_dir_all(&siblings.parent).map_err(io_at(&siblings.parent))?;
    // Without the lock (a file system that has none), a sibling may be another
    // writer's: they are left to a later write that holds it.
    if lock.held() {
        siblings.remove_stale();
    }
    let written = build(&siblings.new, tree, &siblings.dir, &links, options)
        .and_then(|()| pause(options, Pause::BeforeSwap))
        .and_then(|()| swap(&siblings, existed, options));
    match written {
        Err(error) => {
            // Before the swap `new` holds the new tree; after an exchange, the old
            // one. DIR holds a whole tree either way, so `new` can go.
            let _ = fs::remove_dir_all(&siblings.new);
            Err(error)
        }
        Ok(leftover) => Ok(match outcome {
            WriteOutcome::Written { added, changed, removed, .. } => {
                WriteOutcome::Written { added, changed, removed, leftover }
            }
            unchanged => unchanged,
        }),
    }
}

/// The test hook of [`WriteOptions::pause`]: says where it stopped, then waits to be killed.
fn pause(options: &WriteOptions, here: Pause) -> Result<(), WriteError> {
    if let Some((at, marker)) = &options.pause
        && *at == here
    {
        fs::write(marker, format!("{here:?}")).map_err(io_at(marker))?;
        loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    Ok(())
}

/// An exclusive lock on the folder that holds DIR, for one writer at a time.
/// It is an advisory lock on the folder itself (`flock`, through std's
/// `File::lock`): nothing is created for it and the kernel releases it when
/// the process ends, however it ends. Where folders cannot be locked, the
/// writer goes on without it and leaves other writers' siblings alone.
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    file: Option<fs::File>,
}

impl DirLock {
    /// Locks the folder that holds DIR (creating it if needed), calling
    /// `waiting` once before it blocks because another process holds it.
    pub fn acquire(dir: &Path, waiting: &mut dyn FnMut()) -> Result<DirLock, WriteError> {
        let siblings = Siblings::of(dir)?;
        fs::create_dir_all(&siblings.parent).map_err(io_at(&siblings.parent))?;
        let Ok(file) = fs::File::open(&siblings.parent) else {
            return Ok(DirLock { dir: siblings.dir, file: None });
        };
        let locked = match file.try_lock() {
            Ok(()) => true,
            Err(fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock().map_err(io_at(&siblings.parent))?;
                true
            }
            Err(fs::TryLockError::Error(_)) => false,
        };
        Ok(DirLock { dir: siblings.dir, file: locked.then_some(file) })
    }

    /// The folder that is locked (DIR's parent).
    pub fn folder(dir: &Path) -> PathBuf {
        Siblings::of(dir).map(|s| s.parent).unwrap_or_else(|_| dir.to_path_buf())
    }

    /// Whether the lock is held (false where folders cannot be locked).
    pub fn held(&self) -> bool {
        self.file.is_some()
    }
}

/// The first protected path at or below DIR, compared as real paths (links
/// resolved, `..` applied) so that no spelling of DIR can hide one.
fn protected_inside(dir: &Path, protect: &[PathBuf]) -> Option<PathBuf> {
    let dir = real_path(dir)?;
    protect.iter().find(|p| real_path(p).is_some_and(|p| p.starts_with(&dir))).cloned()
}

/// The real, absolute path of `path`: its longest existing prefix
/// canonicalized, the rest appended with `.` and `..` applied.
fn real_path(path: &Path) -> Option<PathBuf> {
    // The working directory decides only which folders are compared, never what is written.
    let absolute = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    let base = loop {
        match existing.canonicalize() {
            Ok(real) => break real,
            Err(_) => {
                rest.push(existing.file_name()?.to_os_string());
                existing = existing.parent()?;
            }
        }
    };
    let mut real = base;
    for part in rest.iter().rev() {
        match part.to_str() {
            Some("..") => {
                real.pop();
            }
            Some(".") => {}
            _ => real.push(part),
        }
    }
    Some(real)
}

/// DIR's path with its own name last, so that a trailing `/` cannot make
/// `lstat` follow a link at DIR. Paths without a name (`.`) stay as they are.
fn normalized(dir: &Path) -> PathBuf {
    match dir.file_name() {
        Some(name) => dir.parent().unwrap_or(Path::new("")).join(name),
        None => dir.to_path_buf(),
    }
}

/// Reads DIR: `None` when it does not exist. Refuses links anywhere. With
/// `against`, a file whose bytes are that tree's at its path is [`Entry::Same`].
fn load(dir: &Path, against: Option<&OutputTree>) -> Result<Option<Found>, WriteError> {
    match fs::symlink_metadata(dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(WriteError::Io { path: dir.to_path_buf(), error }),
        Ok(meta) if meta.file_type().is_symlink() => return Err(WriteError::Symlink(dir.display().to_string())),
        Ok(meta) if !meta.is_dir() => return Err(WriteError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {}
    }
    let mut found = Found::new();
    let mut files = Vec::new();
    scan(dir, "", true, &mut found, &mut files)?;
    // Reading is most of the time of a rebuild: the files are read (and
    // compared) on every core, then listed in path order.
    let read = crate::par::map(&files, |(path, native)| {
        let new = against.and_then(|tree| tree.get(path));
        let (bytes, seen) = read_file(native, new.is_some()).map_err(io_at(Path::new(path)))?;
        Ok(match new {
            Some(new) if new == bytes.as_slice() => Entry::Same(seen),
            _ => Entry::File(bytes),
        })
    });
    for ((path, _), entry) in files.into_iter().zip(read) {
        found.insert(path, entry?);
    }
    Ok(Some(found))
}

/// Walks the folder `here` (at `rel` below DIR) without following links:
/// anything but a regular file with a UTF-8 name goes into `found`, the
/// regular files into `files` (by path, with their native path) to be read.
fn scan(
    here: &Path,
    rel: &str,
    utf8: bool,
    found: &mut Found,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), WriteError> {
    let shown = |rel: &str| if rel.is_empty() { here.to_path_buf() } else { PathBuf::from(rel) };
    let entries = fs::read_dir(here).map_err(io_at(&shown(rel)))?;
    for entry in entries {
        let entry = entry.map_err(io_at(&shown(rel)))?;
        let name = entry.file_name();
        let utf8 = utf8 && name.to_str().is_some();
        let path = match rel {
            "" => name.to_string_lossy().into_owned(),
            _ => format!("{rel}/{}", name.to_string_lossy()),
        };
        let kind = entry.file_type().map_err(io_at(Path::new(&path)))?;
        let found_entry = if kind.is_symlink() {
            return Err(WriteError::Symlink(path));
        } else if kind.is_dir() {
            scan(&entry.path(), &path, utf8, found, files)?;
            continue;
        } else if !utf8 {
            Entry::BadName
        } else if kind.is_file() {
            files.push((path, entry.path()));
            continue;
        } else {
            Entry::Special
        };
        found.insert(path, found_entry);
    }
    Ok(())
}

/// Reads a regular file, refusing (on Linux) a link swapped in since the scan;
/// with `seen`, also what the file was before it was read ([`Seen`]), so that a
/// change while or after it is read shows.
fn read_file(path: &Path, seen: bool) -> io::Result<(Vec<u8>, Option<Seen>)> {
    let mut file = open_file(path)?;
    let seen = if seen { Seen::of(&file.metadata()?) } else { None };
    let mut bytes = Vec::with_capacity(seen.map_or(0, |s| usize::try_from(s.len).unwrap_or(0)));
    read_blocks(&mut file, |block| bytes.extend_from_slice(block))?;
    Ok((bytes, seen))
}

/// The sha256 of a regular file of DIR (refusing a link, as [`read_file`]),
/// read in blocks and kept nowhere.
fn hash_file(path: &Path) -> io::Result<FileDigest> {
    let mut file = open_file(path)?;
    let mut hasher = Sha256::new();
    read_blocks(&mut file, |block| hasher.update(block))?;
    Ok(hasher.finalize().into())
}

/// Opens a file of DIR to read it, refusing (on Linux) a link swapped in since the scan.
fn open_file(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)
}

/// Reads a file to its end in blocks, giving each to `take`: two reads for a
/// file of DIR (`read_to_end` also asks for the file's size and position
/// first, two more system calls per file of a tree of tens of thousands).
/// The block is the thread's, zeroed once: zeroing 64 KiB for each file was
/// a tenth of a no-op rebuild.
fn read_blocks(file: &mut fs::File, mut take: impl FnMut(&[u8])) -> io::Result<()> {
    thread_local! {
        static BLOCK: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0; 64 * 1024].into());
    }
    BLOCK.with_borrow_mut(|block| {
        loop {
            match file.read(block) {
                Ok(0) => return Ok(()),
                Ok(n) => take(&block[..n]),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    })
}

/// A file of DIR as it was before it was read: which file it is, its length,
/// time of change, mode and owner. The writer links a file of the old tree
/// into the new one only when the link still shows the same ([`link_same`]):
/// the same inode, unchanged since its bytes were found to be the new tree's.
/// Hard links are used on Unix only; elsewhere every file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    mode: u32,
    uid: u32,
}

impl Seen {
    /// What `meta` says of a regular file (`None` off Unix, or for anything else).
    fn of(meta: &fs::Metadata) -> Option<Seen> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            meta.is_file().then(|| Seen {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                mode: meta.mode(),
                uid: meta.uid(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// Whether the file is as the writer would make it: mode 0644 (what
    /// [`write_file`] sets) and owned by `uid`, the owner of the files the
    /// writer creates. Any other file is written, so that a link never gives
    /// the new tree a mode or owner a write would not.
    fn as_written(&self, uid: u32) -> bool {
        self.mode & 0o7777 == FILE_MODE && self.uid == uid
    }
}

/// The files below DIR that its lock does not list (all of them without a
/// valid lock, the unparsable lock included), sorted.
fn strays(found: &Found, tree: &OutputTree) -> Vec<String> {
    let listed = match found.get(LOCK_FILE) {
        Some(Entry::File(bytes)) => parse_lock(bytes),
        // The lock on disk is the new tree's, byte for byte.
        Some(Entry::Same(_)) => tree.get(LOCK_FILE).and_then(parse_lock),
        _ => None,
    };
    let owned = |path: &str, entry: &Entry| match &listed {
        Some(listed) => !matches!(entry, Entry::BadName) && (path == LOCK_FILE || listed.contains(path)),
        None => false,
    };
    found.iter().filter(|(path, entry)| !owned(path, entry)).map(|(path, _)| path.clone()).collect()
}

/// Whether the files below DIR are exactly the tree, byte for byte (every
/// one found [`Entry::Same`] as it was read against the tree).
fn same(found: &Found, tree: &OutputTree) -> bool {
    found.len() == tree.len()
        && found.iter().zip(tree.files()).all(|((p, e), (q, c))| {
            p == q
                && match e {
                    Entry::Same(_) => true,
                    Entry::File(b) => b == c,
                    _ => false,
                }
        })
}

/// The files added, changed and removed by writing `tree` over `found`.
fn changes(found: Option<&Found>, tree: &OutputTree) -> WriteOutcome {
    let empty = Found::new();
    let found = found.unwrap_or(&empty);
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for (path, contents) in tree.files() {
        match found.get(path) {
            None => added.push(path.to_string()),
            Some(Entry::Same(_)) => {}
            Some(Entry::File(bytes)) if bytes == contents => {}
            Some(_) => changed.push(path.to_string()),
        }
    }
    let removed = found.keys().filter(|p| tree.get(p).is_none()).cloned().collect();
    WriteOutcome::Written { added, changed, removed, leftover: None }
}

/// DIR and the sibling folders a write uses.
struct Siblings {
    /// DIR, normalized.
    dir: PathBuf,
    /// The folder that holds DIR (`.` for a bare name).
    parent: PathBuf,
    /// `.<name>.homelabc-`: the start of every sibling's name.
    prefix: String,
    /// `.<name>.homelabc-new-<pid>`: where the new tree is written.
    new: PathBuf,
    /// `.<name>.homelabc-old-<pid>`: where the old tree goes in a portable swap.
    old: PathBuf,
}

impl Siblings {
    /// The siblings of DIR; refuses a DIR without a UTF-8 name (`.`, `..`, `/`).
    fn of(dir: &Path) -> Result<Siblings, WriteError> {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            let error = io::Error::new(io::ErrorKind::InvalidInput, "the output folder must end in a UTF-8 name");
            return Err(WriteError::Io { path: dir.to_path_buf(), error });
        };
        let base = dir.parent().unwrap_or(Path::new(""));
        let parent = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base.to_path_buf() };
        let prefix = format!(".{name}.homelabc-");
        let pid = std::process::id();
        Ok(Siblings {
            dir: base.join(name),
            new: base.join(format!("{prefix}new-{pid}")),
            old: base.join(format!("{prefix}old-{pid}")),
            parent,
            prefix,
        })
    }

    /// Whether a name in the parent folder is a sibling left by an earlier write.
    fn is_sibling(&self, name: &str) -> bool {
        let pid =
            name.strip_prefix(&self.prefix).and_then(|r| r.strip_prefix("new-").or_else(|| r.strip_prefix("old-")));
        pid.is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Removes the sibling folders a crashed write left behind. Best effort:
    /// one that cannot be removed harms nothing and is tried again next time.
    fn remove_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.parent) else { return };
        for entry in entries.flatten() {
            let ours = entry.file_name().to_str().is_some_and(|n| self.is_sibling(n));
            if ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// The files of the old tree that the new one may share by a hard link: byte
/// for byte the new tree's, listed by the lock on disk, with what they were
/// as they were read.
type Links = BTreeMap<String, Seen>;

/// Makes the whole tree in the fresh folder `root`, then makes it durable
/// with one flush of its file system ([`flush_tree`]). Each folder is created
/// once. A file of the old tree (in `dir`, DIR) that is the new tree's and
/// as the writer would make it (in `links`) is hard-linked instead of written;
/// at the first link that fails (a file system without links, another
/// device, too many links), the rest are written. The test hooks of
/// [`WriteOptions`] fail or pause it part-way.
fn build(root: &Path, tree: &OutputTree, dir: &Path, links: &Links, options: &WriteOptions) -> Result<(), WriteError> {
    make_dir(root).map_err(io_at(root))?;
    // The owner of what the writer creates: that of the folder just made.
    let owner = owner_of(root).map_err(io_at(root))?;
    // Every folder first, in path order (a folder before what it holds)...
    for folder in tree.folders() {
        let folder = native(root, folder);
        make_dir(&folder).map_err(io_at(&folder))?;
    }
    // ...then the files, on every core: each is a few system calls, and the
    // kernel creates files in several folders at once. A file is linked from
    // DIR where it is unchanged, until a link fails.
    let linking = AtomicBool::new(owner.is_some() && !links.is_empty());
    let files: Vec<(usize, &str, &[u8])> =
        tree.files().enumerate().map(|(i, (path, contents))| (i, path, contents)).collect();
    let made = crate::par::map_calls(&files, |&(i, path, contents)| {
        let file = native(root, path);
        if options.fail_after_files.is_some_and(|n| i >= n) {
            return Err(WriteError::Io { path: file, error: io::Error::other("injected failure (test hook)") });
        }
        if i == files.len() / 2 {
            pause(options, Pause::MidWrite)?;
        }
        let linked = links
            .get(path)
            .filter(|seen| linking.load(Ordering::Relaxed) && owner.is_some_and(|uid| seen.as_written(uid)));
        if let Some(seen) = linked {
            match link_same(&native(dir, path), &file, seen) {
                Ok(true) => return Ok(None),
                // Not the file that was read any more: it is written.
                Ok(false) => {}
                Err(_) => linking.store(false, Ordering::Relaxed),
            }
        }
        write_file(&file, contents).map_err(io_at(&file))?;
        Ok(Some(file))
    });
    // The first failure in path order, as one file after the other would meet it.
    let mut written = Vec::with_capacity(made.len());
    for file in made {
        written.extend(file?);
    }
    let folders: Vec<PathBuf> = tree.folders().rev().map(|f| native(root, f)).chain([root.to_path_buf()]).collect();
    flush_tree(root, &written, &folders)
}

/// Links the old tree's file `from` at `to`, when the link is still the file
/// `seen` describes (the same inode, length, time of change, mode and owner);
/// `Ok(false)`, the link removed, when it is not. The file is shared with DIR
/// from then on, so nothing ever writes through it: the writer creates every
/// other file afresh (`create_new`).
///
/// A file changed in place within the clock tick it was read in keeps its time
/// of change and is not caught; DIR is homelabc's alone (SPEC §4) and its
/// writers take turns ([`DirLock`]).
fn link_same(from: &Path, to: &Path, seen: &Seen) -> io::Result<bool> {
    fs::hard_link(from, to)?;
    let linked = fs::symlink_metadata(to).map(|meta| Seen::of(&meta));
    if matches!(linked, Ok(Some(now)) if now == *seen) {
        return Ok(true);
    }
    // `to` holds the link, whatever it is: it goes before the file is written.
    fs::remove_file(to)?;
    linked.map(|_| false)
}

/// The owner of `path` on Unix; `None` elsewhere, where nothing is linked.
fn owner_of(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    return Ok(Some(std::os::unix::fs::MetadataExt::uid(&fs::metadata(path)?)));
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Makes the files written (`files`, not those linked) and the folders made
/// below `root` durable. On Linux, one `syncfs` of the file system that holds
/// them; elsewhere, an `fsync` of every file written and every folder (a
/// linked file's data was flushed by the build that wrote it, before its swap).
fn flush_tree(root: &Path, files: &[PathBuf], folders: &[PathBuf]) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    {
        let _ = (files, folders);
        let dir = fs::File::open(root).map_err(io_at(root))?;
        count_flush();
        // SAFETY: a valid descriptor, open for the duration of the call.
        if unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) } != 0 {
            return Err(WriteError::Io { path: root.to_path_buf(), error: io::Error::last_os_error() });
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        for file in files {
            count_flush();
            fs::File::open(file).and_then(|f| f.sync_all()).map_err(io_at(file))?;
        }
        for folder in folders {
            sync_dir(folder).map_err(io_at(folder))?;
        }
        Ok(())
    }
}

thread_local! {
    /// Flushes made by writes on this thread (see [`flushes_on_this_thread`]).
    static FLUSHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count_flush() {
    FLUSHES.with(|n| n.set(n.get() + 1));
}

/// How many flushes (`syncfs`, `fsync`) writes made on this thread so far:
/// the tests hold the writer to a constant number per write.
#[doc(hidden)]
pub fn flushes_on_this_thread() -> usize {
    FLUSHES.with(std::cell::Cell::get)
}

/// Puts the new tree (at `new`) in DIR's place, then deletes the old tree;
/// the old tree when it could not be deleted.
fn swap(s: &Siblings, existed: bool, options: &WriteOptions) -> Result<Option<Leftover>, WriteError> {
    let leftover = if !existed {
        fs::rename(&s.new, &s.dir).map_err(io_at(&s.dir))?;
        None
    } else if !options.portable_swap && exchange(&s.new, &s.dir).map_err(io_at(&s.dir))? {
        Some(&s.new)
    } else {
        // Between these two renames there is no DIR: a crash here leaves the
        // old tree at `old`, and the next write writes DIR afresh.
        fs::rename(&s.dir, &s.old).map_err(io_at(&s.dir))?;
        if let Err(error) = fs::rename(&s.new, &s.dir) {
            let _ = fs::rename(&s.old, &s.dir);
            return Err(WriteError::Io { path: s.dir.clone(), error });
        }
        Some(&s.old)
    };
    // The swap is done and DIR holds the new tree whatever follows, so neither
    // syncing the parent nor deleting the old tree can fail the write. An old
    // tree that cannot be deleted is git-ignored first, reported, and removed
    // by the next write.
    let _ = sync_dir(&s.parent);
    pause(options, Pause::AfterSwap)?;
    let Some(old) = leftover else { return Ok(None) };
    let ignored = ignore(old).is_ok();
    let removed = if options.fail_remove_old {
        Err(io::Error::other("injected failure (test hook)"))
    } else {
        fs::remove_dir_all(old)
    };
    Ok(removed.err().map(|error| Leftover { path: old.clone(), error: error.to_string(), ignored }))
}

/// Writes a `.gitignore` of `*` into an old tree left beside DIR. A file of
/// that name there may be a link to DIR's own: it is removed, never written
/// through.
fn ignore(old: &Path) -> io::Result<()> {
    let path = old.join(".gitignore");
    match fs::remove_file(&path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    write_file(&path, b"# an old tree homelabc could not remove\n*\n")
}

/// Swaps two folders atomically with `renameat2(RENAME_EXCHANGE)`; `false`
/// when the kernel or the file system cannot (EINVAL, ENOSYS).
///
/// This is why `libc` is a dependency on Linux: std has no exchange, and it is
/// the only way to replace a non-empty folder without a moment when DIR is
/// missing. The raw syscall is used rather than glibc's wrapper so that musl
/// and glibc before 2.28 work too.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are NUL-terminated strings that outlive the call;
    // AT_FDCWD resolves relative paths as std's `rename` does.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS) => Ok(false),
        _ => Err(error),
    }
}

/// Elsewhere there is no atomic exchange: the caller falls back to two renames.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// The mode of every folder the writer creates.
const DIR_MODE: u32 = 0o755;

/// The mode of every file the writer creates.
const FILE_MODE: u32 = 0o644;

/// Creates a new folder with mode 0755, whatever the umask: asked for at its
/// creation, and set again only when the umask takes some of its bits.
fn make_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::DirBuilderExt::mode(&mut fs::DirBuilder::new(), DIR_MODE).create(path)?;
        if !umask_keeps_modes() {
            fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(DIR_MODE))?;
        }
    }
    #[cfg(not(unix))]
    fs::create_dir(path)?;
    Ok(())
}

/// Creates a new file with mode 0644, whatever the umask (as [`make_dir`]),
/// and writes it; the tree is flushed once, as a whole ([`flush_tree`]).
fn write_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    if !umask_keeps_modes() {
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(FILE_MODE))?;
    }
    file.write_all(contents)
}

/// Whether the process's umask leaves the writer's modes whole, so that a
/// file or folder created with its mode has it without a `chmod` (two system
/// calls of the four a small file costs). Read once, from the kernel's own
/// report (`/proc/self/status`, Linux 4.7 on): `umask(2)` can only be read by
/// changing it, which another thread creating a file at that moment would
/// see. Where it cannot be read, the modes are set after every creation.
fn umask_keeps_modes() -> bool {
    static KEEPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KEEPS.get_or_init(|| umask().is_some_and(|mask| mask & (DIR_MODE | FILE_MODE) == 0))
}

/// The process's umask, where the system reports it.
fn umask() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        umask_in(&status)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The `Umask:` line of a `/proc/<pid>/status` text (octal).
fn umask_in(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|line| line.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

/// Syncs a folder's entries to disk (where folders can be opened: unix).
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        count_flush();
        fs::File::open(path)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A logical path below `root` as a native path, one segment at a time.
fn native(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, segment| p.join(segment))
}

/// Wraps an error of the file system with the path it happened at.
fn io_at(path: &Path) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |error| WriteError::Io { path, error }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::StrayFiles(paths) => {
                let shown: Vec<String> = paths.iter().take(10).map(|p| format!("`{p}`")).collect();
                let more = if paths.len() > 10 { format!(" and {} more", paths.len() - 10) } else { String::new() };
                write!(
                    f,
                    "the folder holds files that homelabc did not write (its `{LOCK_FILE}` does not list them): \
                     {}{more}; move them away, or pass --force to adopt the folder",
                    shown.join(", ")
                )
            }
            WriteError::Symlink(path) => {
                write!(f, "`{path}` is a symbolic link; homelabc never follows links in its output folder")
            }
            WriteError::NotADirectory(path) => write!(f, "`{}` is not a folder", path.display()),
            WriteError::Io { path, error } => write!(f, "cannot access `{}`: {error}", path.display()),
            WriteError::InvalidPath(error) => error.fmt(f),
            WriteError::Protected { dir, protected } => write!(
                f,
                "the output folder `{}` would replace `{}`, which the description reads; homelabc never writes over \
                 its own sources (even with --force): choose an output folder beside them, such as `deploy`",
                dir.display(),
                protected.display()
            ),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io { error, .. } => Some(error),
            WriteError::InvalidPath(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_umask_is_read_from_the_status_text() {
        let status = "Name:\thomelabc\nUmask:\t0022\nState:\tR (running)\n";
        assert_eq!(umask_in(status), Some(0o022));
        assert_eq!(umask_in("Name:\tx\nUmask:\t0077\n"), Some(0o077));
        // Kernels before 4.7 have no such line; a line that is not octal is no umask.
        assert_eq!(umask_in("Name:\tx\nState:\tR\n"), None);
        assert_eq!(umask_in("Umask:\t0089\n"), None);
    }
}
