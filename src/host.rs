//! The compiler's only door to the file system: `trait Host`.
//!
//! Paths given to a host are logical: relative to the description's root
//! folder, `/`-separated, already normalized by [`normalize`]. [`FsHost`] reads a
//! real folder and refuses links that lead outside it; [`MemHost`] holds files
//! in memory for tests and for the property tests.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The root file of a description held in a folder.
pub const ROOT_FILE: &str = "homelab.kdl";

/// Read access to the files of a description, from several threads at once
/// (the files of a folder import are read on every core).
pub trait Host: Sync {
    /// The text of a file.
    fn read(&self, path: &str) -> io::Result<String>;
    /// Whether the path is a folder.
    fn is_dir(&self, path: &str) -> bool;
    /// Every `.kdl` file below a folder, recursively, as logical paths in sorted order.
    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>>;
}

/// Joins `rel` onto the folder of `base` (a logical file path) and normalizes the
/// result. Returns `None` when the result would leave the root.
pub fn resolve(base_file: &str, rel: &str) -> Option<String> {
    let dir = match base_file.rfind('/') {
        Some(i) => &base_file[..i],
        None => "",
    };
    if rel.starts_with('/') || rel.contains('\\') || rel.contains(':') && rel.contains("://") {
        return None;
    }
    normalize(&format!("{dir}/{rel}"))
}

/// Normalizes a logical path: removes `.` and empty segments, applies `..`.
/// Returns `None` when `..` would climb above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The largest file a description may read (its `.kdl` files and the files
/// they reference): the 100,000 apps of the benchmark's generator are about
/// 70 MiB of KDL together. A bound keeps memory bounded on any input.
pub const MAX_FILE_SIZE: u64 = 128 << 20;

/// Why a file is not text: its bytes are not UTF-8. Carried inside the
/// `io::Error` of [`Host::read`] (`InvalidData`), so that the loader can point
/// at the line of the first bad byte.
#[derive(Clone, Debug)]
pub struct NotUtf8 {
    /// Byte offset of the first byte that is not UTF-8.
    pub offset: usize,
    /// The text with every bad sequence replaced by U+FFFD (unchanged before `offset`).
    pub lossy: String,
}

impl std::fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = self.lossy.get(..self.offset).map_or(0, |t| t.matches('\n').count()) + 1;
        write!(f, "the file is not UTF-8 text (a byte on line {line} is not UTF-8)")
    }
}

impl std::error::Error for NotUtf8 {}

impl NotUtf8 {
    /// The `NotUtf8` an error of [`Host::read`] carries, if it does.
    pub fn of(error: &io::Error) -> Option<&NotUtf8> {
        error.get_ref().and_then(|e| e.downcast_ref::<NotUtf8>())
    }
}

/// Reads a regular file of at most [`MAX_FILE_SIZE`] bytes. Anything else (a
/// named pipe, a socket, a device) is refused without reading it: opening a
/// pipe for reading waits for a writer, and a device may never end. On Linux
/// the file is opened without blocking and checked through its descriptor,
/// so that nothing swapped in after a check can block the read.
fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    read_opened(options.open(path)?)
}

/// Why a file that is not a regular one is not read.
fn refuse(meta: &std::fs::Metadata) -> io::Error {
    let kind = |meta: &std::fs::Metadata| {
        let t = meta.file_type();
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if t.is_fifo() {
                return "a named pipe (FIFO)";
            } else if t.is_socket() {
                return "a socket";
            } else if t.is_block_device() || t.is_char_device() {
                return "a device";
            }
        }
        if t.is_dir() { "a folder" } else { "not a regular file" }
    };
    io::Error::new(io::ErrorKind::InvalidInput, format!("it is {}: homelabc reads regular files only", kind(meta)))
}

/// The bytes of a file [`read_regular`] opened (or [`FsHost`]'s quicker way
/// did): a regular file of at most [`MAX_FILE_SIZE`] bytes, checked through
/// its descriptor.
fn read_opened(file: std::fs::File) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {} MiB; homelabc reads files of at most {} MiB", meta.len() >> 20, MAX_FILE_SIZE >> 20),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "it grew past the largest file homelabc reads"));
    }
    Ok(bytes)
}

/// A host over a real folder.
#[derive(Clone, Debug)]
pub struct FsHost {
    root: PathBuf,
    /// The root's real path, resolved once (every file read checks against it).
    real_root: std::sync::OnceLock<PathBuf>,
    /// The root folder, opened once, for [`FsHost::read_beneath`] (`None`
    /// where it could not be opened).
    #[cfg(target_os = "linux")]
    root_dir: std::sync::OnceLock<Option<std::sync::Arc<std::os::fd::OwnedFd>>>,
}

impl FsHost {
    /// A host whose logical root is `root`.
    pub fn new(root: impl Into<PathBuf>) -> FsHost {
        FsHost {
            root: root.into(),
            real_root: std::sync::OnceLock::new(),
            #[cfg(target_os = "linux")]
            root_dir: std::sync::OnceLock::new(),
        }
    }

    /// The bytes of a file, read the quick way: the kernel resolves the path
    /// below the root folder and refuses any step (a link, `..`) that leaves
    /// it (`openat2` with `RESOLVE_BENEATH`), one system call where
    /// [`FsHost::real`] makes one per folder of the path. `None` whenever
    /// that way does not end in the file's bytes, for whatever reason (an
    /// absolute link, an older kernel, a missing file, a pipe): the careful
    /// way ([`FsHost::real`], [`read_regular`]) then reads it or says why not,
    /// so both ways give one answer.
    #[cfg(target_os = "linux")]
    fn read_beneath(&self, path: &str) -> Option<Vec<u8>> {
        use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
        let root = self
            .root_dir
            .get_or_init(|| std::fs::File::open(&self.root).ok().map(|dir| std::sync::Arc::new(OwnedFd::from(dir))))
            .as_ref()?;
        // What is not a regular file is not opened (a device may act on open).
        if !std::fs::metadata(self.root.join(path)).ok()?.is_file() {
            return None;
        }
        let name = std::ffi::CString::new(path).ok()?;
        // SAFETY: `open_how` is plain integers, for which zero is a value.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY) as u64;
        how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
        // SAFETY: `openat2` reads the NUL-terminated `name` and `how` (of the
        // size given) and returns a new descriptor or -1; both outlive the call.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                name.as_ptr(),
                &raw const how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: `fd` is a descriptor `openat2` just opened, owned by nothing else.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        read_opened(file).ok()
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn real(&self, path: &str) -> io::Result<PathBuf> {
        let joined = self.root.join(path);
        // Links may point anywhere: the real path must stay below the real root.
        let real = joined.canonicalize()?;
        let root = match self.real_root.get() {
            Some(root) => root,
            None => {
                let root = self.root.canonicalize()?;
                self.real_root.get_or_init(|| root)
            }
        };
        if real.starts_with(root) {
            Ok(real)
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("`{path}` leads outside the description's folder"),
            ))
        }
    }
}

impl Host for FsHost {
    fn read(&self, path: &str) -> io::Result<String> {
        #[cfg(target_os = "linux")]
        let quick = self.read_beneath(path);
        #[cfg(not(target_os = "linux"))]
        let quick = None;
        let bytes = match quick {
            Some(bytes) => bytes,
            None => read_regular(&self.real(path)?)?,
        };
        String::from_utf8(bytes).map_err(|error| {
            let offset = error.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(error.as_bytes()).into_owned();
            io::Error::new(io::ErrorKind::InvalidData, NotUtf8 { offset, lossy })
        })
    }

    fn is_dir(&self, path: &str) -> bool {
        self.real(path).is_ok_and(|p| p.is_dir())
    }

    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>> {
        let real = self.real(dir)?;
        let mut found = Vec::new();
        collect_kdl(&real, dir.trim_end_matches('/'), &mut found)?;
        found.sort();
        Ok(found)
    }
}

/// The `.kdl` files below `real`, as logical paths below `logical`; hidden
/// files and folders (`.git`, ...) are skipped and links are not followed.
fn collect_kdl(real: &Path, logical: &str, found: &mut Vec<String>) -> io::Result<()> {
    let hidden = |e: &walkdir::DirEntry| e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
    for entry in walkdir::WalkDir::new(real).into_iter().filter_entry(|e| !hidden(e)) {
        let entry = entry.map_err(io::Error::other)?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_dir() && name.ends_with(".kdl") {
            let rel = entry.path().strip_prefix(real).map_err(io::Error::other)?;
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            found.push(if logical.is_empty() { rel } else { format!("{logical}/{rel}") });
        }
    }
    Ok(())
}

/// A host over files held in memory, for tests.
#[derive(Clone, Debug, Default)]
pub struct MemHost {
    files: BTreeMap<String, String>,
}

impl MemHost {
    /// An empty host.
    pub fn new() -> MemHost {
        MemHost::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut MemHost {
        self.files.insert(path.into(), text.into());
        self
    }

    /// A host with the given files.
    pub fn with<I, P, T>(files: I) -> MemHost
    where
        I: IntoIterator<Item = (P, T)>,
        P: Into<String>,
        T: Into<String>,
    {
        let mut host = MemHost::new();
        for (p, t) in files {
            host.insert(p, t);
        }
        host
    }
}

impl Host for MemHost {
    fn read(&self, path: &str) -> io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        path.is_empty() || self.files.keys().any(|k| k.starts_with(&prefix))
    }

    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>> {
        let dir = dir.trim_end_matches('/');
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        Ok(self.files.keys().filter(|k| k.starts_with(&prefix) && k.ends_with(".kdl")).cloned().collect())
    }
}

/// A host that shows one file with other text than `base` holds: an edit
/// checked before it is written (`homelabc set`).
#[derive(Clone, Copy)]
pub struct Overlay<'a> {
    /// The files as they are.
    pub base: &'a dyn Host,
    /// The logical path of the edited file.
    pub path: &'a str,
    /// Its edited text.
    pub text: &'a str,
}

impl Host for Overlay<'_> {
    fn read(&self, path: &str) -> io::Result<String> {
        if path == self.path { Ok(self.text.to_string()) } else { self.base.read(path) }
    }

    fn is_dir(&self, path: &str) -> bool {
        self.base.is_dir(path)
    }

    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>> {
        self.base.kdl_files_below(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_to_the_file() {
        assert_eq!(resolve("homelab.kdl", "apps/a.kdl").as_deref(), Some("apps/a.kdl"));
        assert_eq!(resolve("apps/a.kdl", "../b.kdl").as_deref(), Some("b.kdl"));
        assert_eq!(resolve("apps/a.kdl", "./c/./d.kdl").as_deref(), Some("apps/c/d.kdl"));
        assert_eq!(resolve("homelab.kdl", "../outside.kdl"), None);
        assert_eq!(resolve("homelab.kdl", "/etc/passwd"), None);
    }

    #[test]
    fn mem_host_lists_sorted() {
        let host = MemHost::with([("apps/b.kdl", ""), ("apps/a.kdl", ""), ("apps/x.yaml", "")]);
        assert_eq!(host.kdl_files_below("apps/").unwrap(), vec!["apps/a.kdl", "apps/b.kdl"]);
        assert!(host.is_dir("apps"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.kdl");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let host = FsHost::new(dir.path());
        let error = host.read("pipe.kdl").unwrap_err();
        assert!(error.to_string().contains("named pipe"), "{error}");
        std::fs::write(dir.path().join("bad.kdl"), b"a 1\nb \"\xff\"\n").unwrap();
        let error = host.read("bad.kdl").unwrap_err();
        let bad = NotUtf8::of(&error).expect("carries the offset");
        assert_eq!((bad.offset, error.to_string().contains("line 2")), (7, true));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_inside_the_root_only() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.kdl"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lab");
        std::fs::create_dir_all(root.join("apps")).unwrap();
        std::fs::write(root.join("apps/a.kdl"), "a").unwrap();
        symlink("apps/a.kdl", root.join("relative.kdl")).unwrap();
        symlink(root.join("apps/a.kdl"), root.join("absolute.kdl")).unwrap();
        symlink("apps", root.join("linked")).unwrap();
        symlink(outside.path().join("secret.kdl"), root.join("out-absolute.kdl")).unwrap();
        std::fs::write(dir.path().join("beside.kdl"), "beside").unwrap();
        symlink("../beside.kdl", root.join("out-relative.kdl")).unwrap();
        let host = FsHost::new(&root);
        for inside in ["apps/a.kdl", "relative.kdl", "absolute.kdl", "linked/a.kdl"] {
            assert_eq!(host.read(inside).unwrap(), "a", "{inside}");
        }
        for leaving in ["out-absolute.kdl", "out-relative.kdl"] {
            let error = host.read(leaving).unwrap_err();
            assert!(error.to_string().contains("leads outside"), "{leaving}: {error}");
        }
        assert_eq!(host.read("missing.kdl").unwrap_err().kind(), io::ErrorKind::NotFound);
        // The quick way reads what stays below the root by relative steps, and
        // leaves the rest to the careful way.
        #[cfg(target_os = "linux")]
        {
            assert_eq!(host.read_beneath("relative.kdl").as_deref(), Some(&b"a"[..]));
            for other in ["absolute.kdl", "out-absolute.kdl", "out-relative.kdl", "missing.kdl"] {
                assert_eq!(host.read_beneath(other), None, "{other}");
            }
        }
    }

    #[test]
    fn an_overlay_replaces_one_file() {
        let host = MemHost::with([("a.kdl", "old"), ("b.kdl", "b")]);
        let overlay = Overlay { base: &host, path: "a.kdl", text: "new" };
        assert_eq!(overlay.read("a.kdl").unwrap(), "new");
        assert_eq!(overlay.read("b.kdl").unwrap(), "b");
        assert_eq!(overlay.kdl_files_below("").unwrap(), ["a.kdl", "b.kdl"]);
    }
}
