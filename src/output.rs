//! The output tree (SPEC §4): files by relative path, their sha256 hashes and
//! the `homelab.lock` that lists them.
//!
//! An [`OutputTree`] is built in memory, sealed with its lock, then written to
//! the output folder by [`write`] (in `output/disk.rs`), which refuses folders
//! holding files the lock does not list and swaps the new tree in atomically.
//! Paths are logical: `/`-separated, relative, without `.` or `..`.

mod disk;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

pub use disk::{
    DirLock, Leftover, Listed, OldTree, Pause, WriteError, WriteOptions, WriteOutcome, flushes_on_this_thread, holds,
    holds_locked, listed, pending, read_locked, read_tree, write, write_locked, write_read,
};

/// The name of the lock at the root of the output folder.
pub const LOCK_FILE: &str = "homelab.lock";

/// The first line of every lock.
const LOCK_HEADER: &str = "# homelab.lock — written by homelabc; every file below is owned by it.";

/// The line of the lock that says how its files' digests are written.
const LOCK_DIGESTS: &str = "digests: sha256 of each file, in base64\n";

/// A file's sha256, as the lock gives it.
pub(crate) type FileDigest = [u8; 32];

/// Standard base64 with padding (RFC 4648 §4), the lock's digests.
const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Files of the output tree by relative path (`/`-separated), in sorted order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputTree {
    files: BTreeMap<String, Vec<u8>>,
    /// Every folder that holds a file, at any depth (derived from `files`:
    /// a path found here is a folder, so neither it nor a folder above it
    /// can be a file).
    folders: BTreeSet<String>,
}

/// A path that [`OutputTree::insert`] refuses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub problem: PathProblem,
}

/// What is wrong with a path of the output tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// The path is empty.
    Empty,
    /// The path starts with `/`.
    Absolute,
    /// A segment is `.` or `..`.
    DotSegment,
    /// Two slashes in a row, or a trailing slash.
    EmptySegment,
    /// The path holds a backslash.
    Backslash,
    /// The path holds a NUL or another control character (the lock is line-based).
    ControlCharacter,
    /// The path is `homelab.lock`, which only [`OutputTree::seal`] writes.
    Reserved,
    /// A file is already at this path.
    Duplicate,
    /// The path and `other` would make one name both a file and a folder.
    Clash {
        /// The existing file or folder it clashes with.
        other: String,
    },
}

impl OutputTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; refuses paths that are absolute, empty, contain `..`, `.`
    /// or empty segments, a backslash, a NUL (or another control character),
    /// that would make a file and a folder share a name, or that are
    /// [`LOCK_FILE`]; refuses a second file at one path.
    pub fn insert(&mut self, path: &str, contents: impl Into<Vec<u8>>) -> Result<(), PathError> {
        if path == LOCK_FILE {
            return Err(PathError { path: path.to_string(), problem: PathProblem::Reserved });
        }
        self.insert_any(path, contents.into())
    }

    /// The tree of `files`, or the first refusal: what inserting them one by
    /// one in this order ([`OutputTree::insert`]) makes or refuses.
    ///
    /// A tree of thousands of files is built at once instead: the paths are
    /// sorted, and a path given twice or a folder that is also a file found by
    /// reading them in order; the maps are then built from their sorted
    /// entries. Only where that finds a problem are the files inserted one by
    /// one, to refuse the first of them as the insertion would.
    pub fn from_files(mut files: Vec<(String, Vec<u8>)>) -> Result<OutputTree, PathError> {
        // The files' order by path: numbers sorted, not the files (a large
        // tree's list is not copied).
        let mut order: Vec<usize> = (0..files.len()).collect();
        let each_sound = files.iter().all(|(path, _)| path != LOCK_FILE && check_path(path).is_ok());
        let folders = each_sound
            .then(|| {
                order.sort_unstable_by(|&a, &b| files[a].0.cmp(&files[b].0));
                let paths: Vec<&str> = order.iter().map(|&i| files[i].0.as_str()).collect();
                sorted_folders(&paths)
            })
            .flatten();
        let Some(folders) = folders else {
            let mut tree = OutputTree::new();
            for (path, contents) in files {
                tree.insert(&path, contents)?;
            }
            return Ok(tree);
        };
        permute(&mut files, order);
        Ok(OutputTree { files: files.into_iter().collect(), folders: folders.into_iter().collect() })
    }

    /// Adds a file at any valid path, the lock included (for trees read from disk).
    pub(crate) fn insert_any(&mut self, path: &str, contents: Vec<u8>) -> Result<(), PathError> {
        let refuse = |problem| Err(PathError { path: path.to_string(), problem });
        if let Err(problem) = check_path(path) {
            return refuse(problem);
        }
        // The folders above the path that are new: those below the deepest
        // one known (a known folder's own folders are known).
        let known = path.rmatch_indices('/').map(|(i, _)| i).find(|&i| self.folders.contains(&path[..i]));
        let new_folders = || path.match_indices('/').map(|(i, _)| i).filter(move |&i| known.is_none_or(|k| i > k));
        // A file may not sit where a folder of this path would be (the
        // folders already known, and those above them, hold no file)...
        for i in new_folders() {
            if self.files.contains_key(&path[..i]) {
                return refuse(PathProblem::Clash { other: path[..i].to_string() });
            }
        }
        // ...nor may this path be a folder of a file already in the tree.
        if self.folders.contains(path) {
            let folder = format!("{path}/");
            let other = self.files.range(folder.clone()..).next().map(|(k, _)| k.clone()).unwrap_or(folder);
            return refuse(PathProblem::Clash { other });
        }
        // A path in the tree already has its folders known: none is new, and
        // nothing was changed before it is refused.
        let std::collections::btree_map::Entry::Vacant(slot) = self.files.entry(path.to_string()) else {
            return refuse(PathProblem::Duplicate);
        };
        slot.insert(contents);
        self.folders.extend(new_folders().map(|i| path[..i].to_string()));
        Ok(())
    }

    /// The contents of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Every file, in sorted path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, c)| (p.as_str(), c.as_slice()))
    }

    /// Every folder that holds a file, at any depth, in sorted path order (a
    /// folder before what it holds).
    pub fn folders(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.folders.iter().map(String::as_str)
    }

    /// The number of files (the lock included once sealed).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the tree holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Adds `homelab.lock` (replacing any earlier one): the compiler version,
    /// the tree digest and the sha256 of every other file. The text is
    /// deterministic, LF-terminated and YAML-shaped (see [`OutputTree::seal_clusters`]).
    pub fn seal(self, compiler_version: &str) -> OutputTree {
        self.seal_clusters(compiler_version, &[])
    }

    /// [`OutputTree::seal`] for a tree of several clusters, whose names the
    /// lock lists (`clusters: a b`), so that a reader of the tree knows which
    /// folders are a cluster's ([`crate::layout::cluster_of`]).
    ///
    /// Under `files:` come the files at the root, then each folder that holds
    /// files (`apps/web/:`) with its files' names below it; each file's
    /// sha256 is written in base64 (44 characters, as go.sum and Nix's lock
    /// files write digests). A folder's path is written once rather than on
    /// each of its files: at 10,000 apps the lock is 7 MiB instead of 10.5.
    pub fn seal_clusters(mut self, compiler_version: &str, clusters: &[&str]) -> OutputTree {
        self.files.remove(LOCK_FILE);
        let hashes = self.file_hashes();
        // The tree's digest and the lines of its files are each a walk over
        // every file: a large tree makes them at once.
        let (digest, files) = crate::par::both(hashes.len(), || tree_digest(&hashes), || lock_files(&hashes));
        let mut text = format!("{LOCK_HEADER}\ncompiler: homelabc {compiler_version}\n");
        if !clusters.is_empty() {
            let _ = writeln!(text, "clusters: {}", clusters.join(" "));
        }
        let _ = writeln!(text, "tree: {digest}");
        text.push_str(LOCK_DIGESTS);
        text.push_str(&files);
        self.files.insert(LOCK_FILE.to_string(), text.into_bytes());
        self
    }

    /// The tree digest, `sha256:<hex>`: the sha256 over the sorted
    /// `path\0<hex sha256 of the file>\n` lines of every file but the lock.
    pub fn digest(&self) -> String {
        tree_digest(&self.file_hashes())
    }

    /// The sha256 of every file but the lock, in path order, hashed in parallel.
    fn file_hashes(&self) -> Vec<(&str, FileDigest)> {
        let files: Vec<(&str, &[u8])> = self
            .files
            .iter()
            .filter(|(p, _)| p.as_str() != LOCK_FILE)
            .map(|(p, c)| (p.as_str(), c.as_slice()))
            .collect();
        crate::par::map(&files, |(path, contents)| (*path, Sha256::digest(contents).into()))
    }
}

/// The `files:` section of a lock: each file's base64 digest under its folder.
fn lock_files(hashes: &[(&str, FileDigest)]) -> String {
    // About 80 bytes a file: a line of its own, and its folder's now and then.
    let mut text = String::with_capacity(16 + 80 * hashes.len());
    text.push_str(if hashes.is_empty() { "files: {}\n" } else { "files:\n" });
    // The files in path order mostly come a folder at a time (a folder's
    // subfolders sort among its files): one lookup for each such run.
    fn split(path: &str) -> (&str, &str) {
        path.rsplit_once('/').unwrap_or(("", path))
    }
    let mut folders: BTreeMap<&str, Vec<(&str, &FileDigest)>> = BTreeMap::new();
    for run in hashes.chunk_by(|(a, _), (b, _)| split(a).0 == split(b).0) {
        let files = run.iter().map(|(path, digest)| (split(path).1, digest));
        folders.entry(split(run[0].0).0).or_default().extend(files);
    }
    for (folder, files) in &folders {
        let indent = if folder.is_empty() {
            "  "
        } else {
            text.push_str("  ");
            push_lock_key(&mut text, folder, "/");
            text.push_str(":\n");
            "    "
        };
        for (name, digest) in files {
            text.push_str(indent);
            push_lock_key(&mut text, name, "");
            text.push_str(": ");
            BASE64.encode_string(digest, &mut text);
            text.push('\n');
        }
    }
    text
}

/// The digest over `path\0hash\n` lines (see [`OutputTree::digest`]).
fn tree_digest(hashes: &[(&str, FileDigest)]) -> String {
    let mut hasher = Sha256::new();
    let mut hash_hex = [0; 64];
    for (path, hash) in hashes {
        hasher.update(path.as_bytes());
        hasher.update(b"\0");
        hex_into(hash, &mut hash_hex);
        hasher.update(hash_hex);
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex(&hasher.finalize().into()))
}

/// The clusters a tree's lock lists (empty for a tree of one cluster).
pub fn lock_clusters(tree: &OutputTree) -> Vec<String> {
    tree.get(LOCK_FILE).map(lock_clusters_of).unwrap_or_default()
}

/// The clusters the text of a lock lists (see [`lock_clusters`]).
pub fn lock_clusters_of(lock: &[u8]) -> Vec<String> {
    let Ok(lock) = std::str::from_utf8(lock) else { return Vec::new() };
    let line = lock.lines().take_while(|l| *l != "files:").find_map(|l| l.strip_prefix("clusters: "));
    line.map(|l| l.split_whitespace().map(str::to_string).collect()).unwrap_or_default()
}

/// Reads the lock of a folder: the set of files it lists (`None` when there
/// is no lock, when it is not a regular file, or when it does not parse).
pub fn read_lock(dir: &Path) -> io::Result<Option<BTreeSet<String>>> {
    let path = dir.join(LOCK_FILE);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(parse_lock(&std::fs::read(&path)?)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The files a lock lists, or `None` when the text is not a lock.
fn parse_lock(bytes: &[u8]) -> Option<BTreeSet<String>> {
    parse_lock_hashes(bytes).map(BTreeMap::into_keys).map(Iterator::collect)
}

/// The files a lock lists with the sha256 it gives each, or `None` when the
/// text is not a lock. Besides the entries [`OutputTree::seal_clusters`]
/// writes, the entries of a lock written before files were listed by folder
/// (each file by its whole path at the root of `files:`, its digest `sha256:`
/// and hex) are read, so that a tree an older homelabc wrote is still owned.
fn parse_lock_hashes(bytes: &[u8]) -> Option<BTreeMap<String, FileDigest>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut listed = None::<BTreeMap<String, FileDigest>>;
    let mut folder = None::<String>;
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let Some(files) = &mut listed else {
            if line == "files:" || line == "files: {}" {
                listed = Some(BTreeMap::new());
            } else {
                line.split_once(": ")?;
            }
            continue;
        };
        let (path, digest) = if let Some(entry) = line.strip_prefix("    ").filter(|e| !e.starts_with(' ')) {
            let (name, digest) = entry.rsplit_once(": ")?;
            let name = lock_key_text(name)?;
            if name.contains('/') {
                return None;
            }
            (format!("{}{name}", folder.as_deref()?), digest)
        } else if let Some(entry) = line.strip_prefix("  ").filter(|e| !e.starts_with(' ')) {
            if let Some(key) = entry.strip_suffix(':') {
                let key = lock_key_text(key)?;
                folder = Some(key).filter(|k| k.ends_with('/') && k.len() > 1);
                folder.as_ref()?;
                continue;
            }
            folder = None;
            let (path, digest) = entry.rsplit_once(": ")?;
            (lock_key_text(path)?, digest)
        } else {
            return None;
        };
        let digest = parse_digest(digest)?;
        if check_path(&path).is_err() || path == LOCK_FILE || files.insert(path, digest).is_some() {
            return None;
        }
    }
    listed
}

/// A key of the lock as it was written by [`push_lock_key`].
fn lock_key_text(key: &str) -> Option<String> {
    if key.starts_with('"') { serde_json::from_str::<String>(key).ok() } else { Some(key.to_string()) }
}

/// A file's digest in the lock: base64, or `sha256:` and lowercase hex (an older lock).
fn parse_digest(text: &str) -> Option<FileDigest> {
    let mut digest = FileDigest::default();
    if let Some(hex) = text.strip_prefix("sha256:") {
        if hex.len() != 64 {
            return None;
        }
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let nibble = |b: u8| match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            };
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        return Some(digest);
    }
    if text.len() != 44 {
        return None;
    }
    BASE64.decode(text).ok()?.try_into().ok()
}

/// Puts `items[order[k]]` at `k` for every `k`, in place: each cycle of the
/// permutation is followed once, `order` marking the places done.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Every folder of some sorted paths, sorted, unless a path is given twice
/// or is also a folder (`None`).
fn sorted_folders(paths: &[&str]) -> Option<Vec<String>> {
    if paths.windows(2).any(|pair| pair[0] == pair[1]) {
        return None;
    }
    // The folders of each path's folder, once for a run of paths in one
    // folder (sorted paths of one folder are not always next to each other:
    // `a/b-c` sorts between `a/b` and `a/b/d`, hence the sort below).
    let mut folders: Vec<&str> = Vec::new();
    let mut last = None;
    for path in paths {
        let folder = path.rsplit_once('/').map(|(folder, _)| folder);
        if folder == last {
            continue;
        }
        last = folder;
        if let Some(folder) = folder {
            folders.extend(folder.match_indices('/').map(|(i, _)| &folder[..i]));
            folders.push(folder);
        }
    }
    folders.sort_unstable();
    folders.dedup();
    // No folder is a file: the two sorted lists share nothing.
    let (mut f, mut p) = (folders.iter().peekable(), paths.iter().peekable());
    while let (Some(folder), Some(path)) = (f.peek(), p.peek()) {
        match folder.cmp(path) {
            std::cmp::Ordering::Less => _ = f.next(),
            std::cmp::Ordering::Greater => _ = p.next(),
            std::cmp::Ordering::Equal => return None,
        }
    }
    Some(folders.into_iter().map(str::to_string).collect())
}

/// Checks the shape of one logical path: what is wrong with it, if anything,
/// the first of [`PathProblem`]'s kinds that applies (of the segments, the
/// first bad one's).
///
/// One pass over the bytes, one over the segments: every path of a tree
/// comes here. A backslash and an ASCII control character are single bytes,
/// never part of a longer character's UTF-8; the other control characters
/// (U+0080 to U+009F) are looked for only in a path that is not ASCII.
fn check_path(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    let (mut backslash, mut control, mut ascii) = (false, false, true);
    // The first segment that is empty, `.` or `..`: segments are read in the
    // same pass, a `/` at a time.
    let mut segment_problem = None;
    let mut segment = |segment: &[u8]| {
        if segment_problem.is_none() {
            segment_problem = match segment {
                b"" => Some(PathProblem::EmptySegment),
                b"." | b".." => Some(PathProblem::DotSegment),
                _ => None,
            };
        }
    };
    let bytes = path.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' => {
                segment(&bytes[start..i]);
                start = i + 1;
            }
            b'\\' => backslash = true,
            0..0x20 | 0x7f => control = true,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    segment(&bytes[start..]);
    if backslash {
        Err(PathProblem::Backslash)
    } else if control || (!ascii && path.chars().any(char::is_control)) {
        Err(PathProblem::ControlCharacter)
    } else {
        segment_problem.map_or(Ok(()), Err)
    }
}

/// Appends `path` and `suffix` (a folder's `/`) as a key of the lock: bare
/// when they make a plain YAML scalar, else double-quoted (JSON string
/// syntax, which YAML reads the same way).
fn push_lock_key(out: &mut String, path: &str, suffix: &str) {
    let plain = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b'+');
    let first = path.bytes().chain(suffix.bytes()).next();
    if first.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
        && path.bytes().chain(suffix.bytes()).all(plain)
    {
        out.push_str(path);
        out.push_str(suffix);
    } else {
        out.push_str(&serde_json::Value::from(format!("{path}{suffix}")).to_string());
    }
}

/// The lowercase hex sha256 of some bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes).into())
}

/// A digest in lowercase hex.
fn hex(digest: &FileDigest) -> String {
    let mut out = [0; 64];
    hex_into(digest, &mut out);
    out.iter().copied().map(char::from).collect()
}

/// The lowercase hex digits.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A digest in lowercase hex, written into `out` (no string made for each of
/// a tree's files; [`hex`] makes one of it).
fn hex_into(digest: &FileDigest, out: &mut [u8; 64]) {
    for (b, pair) in digest.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = HEX_DIGITS[usize::from(b >> 4)];
        pair[1] = HEX_DIGITS[usize::from(b & 0xf)];
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid output path `{}`: ", self.path)?;
        match &self.problem {
            PathProblem::Empty => f.write_str("it is empty"),
            PathProblem::Absolute => f.write_str("it is absolute"),
            PathProblem::DotSegment => f.write_str("it has a `.` or `..` segment"),
            PathProblem::EmptySegment => f.write_str("it has an empty segment"),
            PathProblem::Backslash => f.write_str("it holds a backslash"),
            PathProblem::ControlCharacter => f.write_str("it holds a NUL or another control character"),
            PathProblem::Reserved => write!(f, "`{LOCK_FILE}` is reserved for the lock"),
            PathProblem::Duplicate => f.write_str("a file is already there"),
            PathProblem::Clash { other } => write!(f, "`{other}` would make one name both a file and a folder"),
        }
    }
}

impl std::error::Error for PathError {}
