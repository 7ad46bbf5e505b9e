//! Where `build` and `check` keep their [`Memo`]s, and the key each is saved under.
//!
//! A memo lives in the user's cache folder (`$HOMELABC_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/homelabc`, else `~/.cache/homelabc`; an empty
//! `HOMELABC_CACHE_DIR` turns memos off), never in the description's folder or
//! DIR, in `memos/<hash of the run>.json`. The key names everything a tree
//! depends on besides the files the build reads: the compiler binary (its
//! version, and which file it is and when it was made), the component
//! library, where the description and the output are, the layout options and
//! how diagnostics are printed. Memos are a cache: one that cannot be read or
//! written is ignored, and the build compiles; one no build saved for 30
//! days is removed when another is saved.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{Location, Printer};
use crate::memo::{Made, Memo};

/// The memo of one description, output folder and set of options.
pub struct Memos {
    path: PathBuf,
    key: String,
}

impl Memos {
    /// The memos of a `build` of the description at `location` into `output`
    /// (the `--output` given, if any); `None` when memos are off or the
    /// binary or a path cannot be named.
    pub fn of_build(
        location: &Location,
        output: Option<&Path>,
        options: crate::layout::Options,
        printer: &Printer,
        library: &crate::stdlib::Library,
    ) -> Option<Memos> {
        let output = match output {
            Some(output) => absolute(output)?,
            None => "(the description's)".to_string(),
        };
        let crate::layout::Options { schema_comments } = options;
        let command = format!("build\noutput: {output}\nschema comments: {schema_comments}");
        Memos::of(location, &command, printer, library)
    }

    /// The memos of a `check` of the description at `location`.
    pub fn of_check(
        location: &Location,
        deny_warnings: bool,
        printer: &Printer,
        library: &crate::stdlib::Library,
    ) -> Option<Memos> {
        Memos::of(location, &format!("check\ndeny warnings: {deny_warnings}"), printer, library)
    }

    /// The memos of `command` (the command and its options, in words).
    /// The file is named after the run (the description, the command, the
    /// printer), not the compiler: a new compiler replaces the memos of the
    /// one before instead of leaving them behind.
    fn of(location: &Location, command: &str, printer: &Printer, library: &crate::stdlib::Library) -> Option<Memos> {
        let folder = cache_folder()?;
        let run = format!(
            "description: {} {}\ncommand: {command}\ndiagnostics: {}\n",
            absolute(&location.root)?,
            location.file,
            printer.style()
        );
        let name = crate::output::sha256_hex(run.as_bytes());
        let key = format!(
            "homelabc memo 2\ncompiler: homelabc {} {}\nlibrary: {}\n{run}",
            env!("CARGO_PKG_VERSION"),
            binary()?,
            library.digest(),
        );
        Some(Memos { path: folder.join("memos").join(format!("{}.json", &name[..32])), key })
    }

    /// The memo saved under this key, if there is one.
    pub fn load(&self) -> Option<Memo> {
        Memo::from_json(&fs::read_to_string(&self.path).ok()?, &self.key)
    }

    /// A memo to save under this key: what was asked, shown and made.
    pub fn memo(&self, asked: Vec<(crate::memo::Question, String)>, shown: &str, made: Made) -> Memo {
        Memo { key: self.key.clone(), asked, shown: shown.to_string(), made }
    }

    /// Saves a memo under this key, replacing the one before (a whole file
    /// renamed into place, so that a reader never sees half of one). A memo
    /// that cannot be saved is dropped.
    pub fn save(&self, memo: &Memo) {
        let Some(folder) = self.path.parent() else { return };
        let saved =
            fs::create_dir_all(folder).and_then(|()| tempfile::NamedTempFile::new_in(folder)).and_then(|mut file| {
                file.write_all(memo.to_json().as_bytes())?;
                file.persist(&self.path).map_err(|e| e.error)?;
                Ok(())
            });
        if saved.is_ok() {
            prune(folder, &self.path);
        }
    }
}

/// How long a memo no build saved stays: one of a description moved,
/// removed or built elsewhere is never asked for again.
const MEMO_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 60 * 60);

/// Removes the memos (and temporary files of an interrupted save) no build
/// saved for [`MEMO_LIFETIME`], but `kept`, the one just saved: without it,
/// the cache would grow with every folder ever built. As a cache, what
/// cannot be read or removed is left.
fn prune(folder: &Path, kept: &Path) {
    #[allow(clippy::disallowed_methods)] // The CLI edge may read the clock.
    let Some(before) = std::time::SystemTime::now().checked_sub(MEMO_LIFETIME) else { return };
    let Ok(entries) = fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = entry.metadata().and_then(|meta| meta.modified()).is_ok_and(|changed| changed < before);
        if stale && path != kept && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(&path);
        }
    }
}

/// A path made absolute (against the working folder), as text.
fn absolute(path: &Path) -> Option<String> {
    std::path::absolute(path).ok().and_then(|p| p.to_str().map(str::to_string))
}

/// The cache folder, or `None` when memos are off or there is no home.
fn cache_folder() -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)] // The CLI edge may read the environment.
    let var = |name: &str| std::env::var_os(name);
    if let Some(folder) = var("HOMELABC_CACHE_DIR") {
        return (!folder.is_empty()).then(|| PathBuf::from(folder));
    }
    let xdg = var("XDG_CACHE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let home = || var("HOME").map(PathBuf::from).filter(|p| p.is_absolute()).map(|home| home.join(".cache"));
    Some(xdg.or_else(home)?.join("homelabc"))
}

/// The running binary, named by its path, size and time of change (and on
/// Unix its device and inode): a rebuilt compiler is another compiler.
fn binary() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(&exe).ok()?;
    let changed = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}", meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let file = String::new();
    Some(format!("{} {file} {} {}", exe.to_str()?, meta.len(), changed.as_nanos()))
}
