//! The descriptions the editor has open: their buffers over the files on
//! disk, their root files, and the compiler's diagnostics as LSP wants them.
//!
//! Every description is checked by the compiler's own pipeline
//! (`driver::check_with`), through a [`Buffers`] host that shows the editor's
//! unsaved text in place of the file on disk, so diagnostics are those of
//! `homelabc check` on the text as it is in the editor, across imports.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};

use super::text::{LineIndex, path_to_uri};
use crate::diag::{Diagnostic, Severity};
use crate::driver::Checked;
use crate::host::{FsHost, Host};
use crate::source::{Origin, SourceMap, Span};
use crate::stdlib::Library;

/// A description: the folder its paths are relative to and its root file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Root {
    /// The root folder.
    pub dir: PathBuf,
    /// The root file's name in it (`homelab.kdl`, or the file itself when no
    /// folder above it holds one).
    pub file: String,
}

impl Root {
    /// The description a file belongs to: the nearest folder at or above it
    /// holding a `homelab.kdl` (on disk or open in the editor), else the file
    /// on its own.
    pub fn of(path: &Path, open: &BTreeMap<PathBuf, String>) -> Option<Root> {
        let parent = path.parent()?;
        for dir in parent.ancestors() {
            let candidate = dir.join(crate::host::ROOT_FILE);
            if open.contains_key(&candidate) || candidate.is_file() {
                return Some(Root { dir: dir.to_path_buf(), file: crate::host::ROOT_FILE.to_string() });
            }
        }
        let file = path.file_name()?.to_str()?.to_string();
        Some(Root { dir: parent.to_path_buf(), file })
    }

    /// The logical path of a file of this description, if it is below its folder.
    pub fn logical(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.dir).ok()?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        Some(parts?.join("/"))
    }
}

/// A host that reads the editor's buffers where it has them and the disk elsewhere.
pub struct Buffers<'a> {
    /// The disk, confined to the description's folder.
    pub disk: FsHost,
    /// The root folder, to find buffers by logical path.
    pub root: &'a Path,
    /// The open buffers, by absolute path.
    pub open: &'a BTreeMap<PathBuf, String>,
}

impl Host for Buffers<'_> {
    fn read(&self, path: &str) -> io::Result<String> {
        match self.open.get(&self.root.join(path)) {
            Some(text) => {
                if text.len() as u64 > crate::host::MAX_FILE_SIZE {
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, "the buffer is too large"));
                }
                Ok(text.clone())
            }
            None => self.disk.read(path),
        }
    }

    fn is_dir(&self, path: &str) -> bool {
        self.disk.is_dir(path)
    }

    fn kdl_files_below(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut files: BTreeSet<String> = self.disk.kdl_files_below(dir)?.into_iter().collect();
        // A new file not saved yet is part of a folder import too.
        let folder = self.root.join(dir);
        for path in self.open.keys().filter(|p| p.starts_with(&folder)) {
            let rel = path.strip_prefix(self.root).ok().and_then(|r| r.to_str());
            if let Some(rel) = rel.filter(|r| r.ends_with(".kdl")) {
                files.insert(rel.replace('\\', "/"));
            }
        }
        Ok(files.into_iter().collect())
    }
}

/// Checks a description as the editor shows it.
pub fn check(root: &Root, open: &BTreeMap<PathBuf, String>, library: &Library) -> Checked {
    let host = Buffers { disk: FsHost::new(&root.dir), root: &root.dir, open };
    crate::driver::check_with(&host, &root.file, library)
}

/// The LSP diagnostics of a check, by file (absolute path), for every file
/// of the description the user wrote (files without any are listed too, so
/// that their old diagnostics are cleared).
pub fn diagnostics(root: &Root, checked: &Checked) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    let sources = &checked.sources;
    let indexes: BTreeMap<u32, LineIndex> = sources.iter().map(|(id, f)| (id.0, LineIndex::new(&f.text))).collect();
    let mut out: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for (_, file) in sources.iter().filter(|(_, f)| f.origin == Origin::User) {
        out.entry(root.dir.join(&file.path)).or_default();
    }
    let locate = |span: Span| -> Option<(PathBuf, lsp_types::Range)> {
        let file = sources.iter().find(|(id, _)| *id == span.file).map(|(_, f)| f)?;
        if file.origin != Origin::User {
            return None;
        }
        let range = indexes.get(&span.file.0)?.range(&file.text, span.start as usize, span.end as usize);
        Some((root.dir.join(&file.path), range))
    };
    for diag in &checked.diagnostics {
        let primary = diag.primary_span().and_then(locate);
        let (path, range, elsewhere) = match primary {
            Some((path, range)) => (path, range, None),
            // A problem in a stdlib component, or of the description as a
            // whole: shown at the start of the root file.
            None => {
                let at = diag.primary_span().map(|s| sources.get(s.file).path.clone());
                (root.dir.join(&root.file), lsp_types::Range::default(), at)
            }
        };
        let related: Vec<DiagnosticRelatedInformation> = diag
            .labels
            .iter()
            .filter(|l| !l.primary)
            .filter_map(|l| {
                let (path, range) = locate(l.span)?;
                let uri = path_to_uri(&path)?;
                Some(DiagnosticRelatedInformation { location: Location { uri, range }, message: l.message.clone() })
            })
            .collect();
        out.entry(path).or_default().push(lsp_types::Diagnostic {
            range,
            severity: Some(match diag.severity() {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(diag.code.as_str().to_string())),
            source: Some("homelabc".to_string()),
            message: message(diag, elsewhere.as_deref(), sources),
            related_information: (!related.is_empty()).then_some(related),
            ..Default::default()
        });
    }
    out
}

/// A diagnostic's text as an editor shows it: the message, the primary
/// label, the secondary labels the editor cannot point at, `help:` and notes.
fn message(diag: &Diagnostic, elsewhere: Option<&str>, sources: &SourceMap) -> String {
    let mut text = diag.message.clone();
    if let Some(path) = elsewhere {
        text.push_str(&format!(" (in {path})"));
    }
    for label in diag.labels.iter().filter(|l| !l.primary && sources.get(l.span.file).origin != Origin::User) {
        text.push_str(&format!("\n{}: {}", sources.get(label.span.file).path, label.message));
    }
    if let Some(help) = &diag.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    for note in &diag.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    text
}

/// The URI of a file of a description, by its logical path.
pub fn uri_of(root: &Root, logical: &str) -> Option<Uri> {
    path_to_uri(&root.dir.join(logical))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_shadow_the_disk_and_diagnostics_land_in_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().canonicalize().unwrap();
        std::fs::write(root_dir.join("homelab.kdl"), "homelab \"lab\" {\n    domain \"lab.example.com\"\n}\n").unwrap();
        std::fs::create_dir(root_dir.join("apps")).unwrap();
        let app = root_dir.join("apps/web.kdl");
        let mut open = BTreeMap::new();
        open.insert(app.clone(), "netwrk \"lan\"\n".to_string());
        open.insert(
            root_dir.join("homelab.kdl"),
            "homelab \"lab\" {\n    domain \"lab.example.com\"\n}\nimport \"apps/web.kdl\"\n".to_string(),
        );
        let root = Root::of(&app, &open).expect("a root");
        assert_eq!((root.dir.as_path(), root.file.as_str()), (root_dir.as_path(), "homelab.kdl"));
        let checked = check(&root, &open, &Library::embedded());
        let diags = diagnostics(&root, &checked);
        let codes: Vec<_> = diags[&app].iter().map(|d| d.code.clone()).collect();
        assert_eq!(codes, [Some(NumberOrString::String("E0102".into()))]);
        assert!(diags[&app][0].message.contains("help: did you mean `network`?"), "{}", diags[&app][0].message);
        assert_eq!(diags[&app][0].range.start, lsp_types::Position { line: 0, character: 0 });
        assert_eq!(diags[&app][0].range.end, lsp_types::Position { line: 0, character: 6 });
        assert!(diags[&root_dir.join("homelab.kdl")].is_empty());
    }
}
