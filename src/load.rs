//! Loading a description: the root file, then every `import`, recursively.
//!
//! Imports are resolved relative to the importing file and may not leave the
//! root folder; a folder import takes every `.kdl` file below it in sorted path
//! order. A cycle or a file imported twice is an error. The result lists
//! every parsed file once; lowering then ignores `import` nodes.
//!
//! [`load_then`] hands each document to a function as soon as its imports
//! are read, on every core, and keeps what it returns instead: the driver
//! lowers each file there, so that a large description's documents (several
//! times the size of their text) never all live at once. The files of a
//! folder import are read and parsed [`CHUNK`] at a time for the same reason.

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::host::{self, Host};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::syntax::tree;

/// One parsed file of the description: its document, or what [`load_then`]'s
/// function made of it.
#[derive(Debug)]
pub struct ParsedFile<T = tree::Document> {
    /// The file.
    pub file: FileId,
    /// Its document.
    pub doc: T,
}

/// The loaded description: every file, parsed.
#[derive(Debug)]
pub struct Loaded<T = tree::Document> {
    /// Parsed files, root first, then in import order.
    pub files: Vec<ParsedFile<T>>,
    /// Whether every file could be read and parsed: checks that need the whole
    /// description (such as "no `homelab` declared") stay quiet otherwise.
    pub complete: bool,
}

/// The longest chain of imports (a file importing a file importing …) that is read.
const MAX_IMPORT_DEPTH: usize = crate::syntax::MAX_DEPTH;

/// How many files of a folder import are read and parsed at once: enough for
/// every core, few enough that their documents stay small beside the rest.
pub const CHUNK: usize = 2048;

/// What [`load_then`] does with each document: given the file, the sources
/// (the file's text among them) and its document.
pub type Then<'a, T> = &'a (dyn Fn(FileId, &SourceMap, tree::Document) -> T + Sync);

struct Loader<'a, T> {
    host: &'a dyn Host,
    sources: &'a mut SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    then: Then<'a, T>,
    /// Logical paths loaded so far, with the span of the import that loaded them.
    loaded: BTreeMap<String, Option<Span>>,
    /// The chain of files being loaded, for cycle detection: (path, import span).
    stack: Vec<(String, Option<Span>)>,
    files: Vec<(FileId, Stage<T>)>,
    complete: bool,
    /// Whether the description was said to be large ([`crate::heap::large`]).
    large: bool,
}

/// A file's document, until [`Loader::then`] has made it a `T`.
enum Stage<T> {
    Parsed(tree::Document),
    Done(T),
}

/// Loads the description whose root file is `root` (a logical path).
/// A file that could not be read or parsed is reported and left out.
pub fn load(host: &dyn Host, root: &str, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> Loaded {
    load_then(host, root, sources, diags, &|_, _, doc| doc)
}

/// [`load`], giving each document to `then` as soon as its imports are read
/// and keeping what it returns (in file order, whatever the order it ran in).
pub fn load_then<T: Send>(
    host: &dyn Host,
    root: &str,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
    then: Then<'_, T>,
) -> Loaded<T> {
    let mut loader = Loader {
        host,
        sources,
        diags,
        then,
        loaded: BTreeMap::new(),
        stack: Vec::new(),
        files: Vec::new(),
        complete: true,
        large: false,
    };
    loader.load_file(root, None);
    // A file left out is already an error at its import: files it would have
    // imported are not reported as forgotten too.
    if loader.complete {
        loader.unimported(root);
    }
    loader.finish(0);
    let files = loader.files.into_iter().map(|(file, stage)| match stage {
        Stage::Done(doc) => ParsedFile { file, doc },
        Stage::Parsed(_) => unreachable!("every file was finished"),
    });
    Loaded { files: files.collect(), complete: loader.complete }
}

/// A file read and parsed ahead of its turn (see [`Loader::parse_ahead`]).
struct Ahead {
    text: String,
    doc: tree::Document,
}

impl<T: Send> Loader<'_, T> {
    fn load_file(&mut self, path: &str, via: Option<Span>) {
        self.expect(1);
        self.load_file_with(path, via, None);
    }

    /// Notes that `more` files are about to be read: once the description
    /// counts [`crate::heap::LARGE_FILES`] of them, however they are imported,
    /// it is said to be large, before they are parsed.
    fn expect(&mut self, more: usize) {
        if !self.large && self.loaded.len() + more >= crate::heap::LARGE_FILES {
            self.large = true;
            crate::heap::large();
        }
    }

    /// Reads the files of a folder import and parses them on every core. Only
    /// clean parses are kept: a file that does not parse, or parses with a
    /// warning, is parsed again in its turn so that its diagnostics carry its
    /// [`FileId`]. Files loaded already are skipped (their turn reports them).
    fn parse_ahead(&self, paths: &[String]) -> Vec<Option<Ahead>> {
        let wanted: Vec<Option<&String>> = paths.iter().map(|p| (!self.loaded.contains_key(p)).then_some(p)).collect();
        let host = self.host;
        // Read on every core too: a large homelab is thousands of small files.
        crate::par::map_owned(wanted, |path| {
            let text = host.read(path?).ok()?;
            let mut diags = Vec::new();
            let doc = crate::syntax::parse(FileId(u32::MAX), &text, &mut diags)?;
            diags.is_empty().then_some(Ahead { text, doc })
        })
    }

    fn load_file_with(&mut self, path: &str, via: Option<Span>, ahead: Option<Ahead>) {
        if let Some(pos) = self.stack.iter().position(|(p, _)| p == path) {
            self.report_cycle(pos, path, via);
            return;
        }
        // Loading recurses once per import in a chain: bounded like blocks are.
        if self.stack.len() >= MAX_IMPORT_DEPTH
            && let Some(span) = via
        {
            self.complete = false;
            self.diags.push(
                Diagnostic::new(Code::E0114, format!("imports nest deeper than {MAX_IMPORT_DEPTH} files"))
                    .primary(span, "one import too many in the chain")
                    .help("import the files from fewer levels: a folder import (`import \"apps/\"`) takes every file below it at once"),
            );
            return;
        }
        if let Some(first) = self.loaded.get(path) {
            if let Some(span) = via {
                let mut diag = Diagnostic::new(Code::E0205, format!("`{path}` is imported twice"))
                    .primary(span, "imported again here")
                    .help("remove this import: every file is loaded once");
                if let Some(first) = first {
                    diag = diag.secondary(*first, "first imported here");
                }
                self.diags.push(diag);
            }
            return;
        }
        let (text, ahead) = match ahead {
            Some(Ahead { text, doc }) => (text, Some(doc)),
            None => match self.host.read(path) {
                Ok(text) => (text, None),
                Err(error) if host::NotUtf8::of(&error).is_some() => {
                    self.not_utf8(path, via, host::NotUtf8::of(&error).expect("checked"));
                    return;
                }
                Err(error) => {
                    self.complete = false;
                    let message = format!("cannot read `{path}`: {}", error_text(&error));
                    let diag = Diagnostic::new(Code::E0203, message);
                    let missing = error.kind() == std::io::ErrorKind::NotFound;
                    self.diags.push(match via {
                        Some(span) if missing => diag
                            .primary(span, "imported here")
                            .help("check the path: it is relative to the file that imports it"),
                        Some(span) => diag.primary(span, "imported here").help("import `.kdl` text files only"),
                        None if missing => diag.help("give a file, or a folder holding `homelab.kdl`"),
                        None => diag.help("give the path of a KDL text file, or a folder holding `homelab.kdl`"),
                    });
                    return;
                }
            },
        };
        self.loaded.insert(path.to_string(), via);
        let file = self.sources.add(path, text, Origin::User);
        let parsed = match ahead {
            Some(doc) => Some(doc),
            None => crate::syntax::parse(file, &self.sources.get(file).text, self.diags),
        };
        let Some(doc) = parsed else {
            self.complete = false;
            return;
        };
        let imports: Vec<(String, Span)> = doc
            .nodes()
            .iter()
            .filter(|n| n.name().value() == "import")
            .filter_map(|n| self.import_target(file, path, n))
            .collect();
        self.files.push((file, Stage::Parsed(doc)));
        self.stack.push((path.to_string(), via));
        for (target, span) in imports {
            if self.host.is_dir(&target) || target.ends_with('/') || target.is_empty() {
                match self.host.kdl_files_below(&target) {
                    Ok(found) => {
                        self.expect(found.len());
                        // Room for the files at once: an entry holds what the
                        // file lowers to (a model's worth of lists), and a
                        // list regrown a file at a time moved them all again.
                        self.files.reserve(found.len());
                        for chunk in found.chunks(CHUNK) {
                            let start = self.files.len();
                            let ahead = self.parse_ahead(chunk);
                            for (f, ahead) in chunk.iter().zip(ahead) {
                                self.load_file_with(f, Some(span), ahead);
                            }
                            self.finish(start);
                        }
                    }
                    Err(error) => self.diags.push(
                        Diagnostic::new(Code::E0203, format!("cannot read folder `{target}`: {}", error_text(&error)))
                            .primary(span, "imported here")
                            .help("check the path: it is relative to the file that imports it"),
                    ),
                }
            } else if !target.ends_with(".kdl") {
                // A Markdown or YAML file read as KDL would report errors inside it.
                self.complete = false;
                self.diags.push(
                    Diagnostic::new(Code::E0105, format!("`{target}` is not a `.kdl` file"))
                        .primary(span, "only `.kdl` files and folders are imported")
                        .help("import a `.kdl` file or a folder; files such as values and manifests are named by `values-file`, `manifest` or `file=`"),
                );
            } else {
                self.load_file(&target, Some(span));
            }
        }
        self.stack.pop();
    }

    /// Gives the documents of the files from `start` on, whose imports are
    /// read, to [`Loader::then`], on every core.
    fn finish(&mut self, start: usize) {
        let parsed = self.files.split_off(start);
        let (sources, then) = (&*self.sources, self.then);
        self.files.extend(crate::par::map_owned(parsed, |(file, stage)| match stage {
            Stage::Parsed(doc) => (file, Stage::Done(then(file, sources, doc))),
            done => (file, done),
        }));
    }

    /// W0102 for every `.kdl` file below the root's folder that no import
    /// reached: `check` and `fmt` would ignore it silently. The help names the
    /// import, relative to the root file, that would include it. Only for a
    /// description rooted at a `homelab.kdl` (a folder's description): a
    /// single file checked on its own has no folder of its own.
    fn unimported(&mut self, root: &str) {
        if root.rsplit('/').next() != Some(crate::host::ROOT_FILE) {
            return;
        }
        let Some(root_file) = self.files.first().map(|(file, _)| *file) else { return };
        let dir = root.rfind('/').map_or("", |i| &root[..i]);
        let Ok(found) = self.host.kdl_files_below(dir) else { return };
        for path in found.iter().filter(|p| !self.loaded.contains_key(p.as_str())) {
            let relative = path.strip_prefix(dir).map_or(path.as_str(), |p| p.trim_start_matches('/'));
            self.diags.push(
                Diagnostic::new(Code::W0102, format!("`{path}` is not imported: it is not part of the description"))
                    .primary(Span::new(root_file, 0, 0), "the description starts here")
                    .help(format!(
                        "add `import \"{relative}\"` to `{root}` (or import its folder), or move the file out of the description's folder"
                    )),
            );
        }
    }

    /// Reads an `import "path"` node: the resolved logical path and the span of the path.
    fn import_target(&mut self, file: FileId, from: &str, node: &tree::Node) -> Option<(String, Span)> {
        let node_span = Span::new(file, node.span().offset(), node.span().len());
        let mut args = node.entries().iter();
        let Some(entry) = args.next().filter(|e| e.name().is_none()) else {
            self.diags.push(
                Diagnostic::new(Code::E0104, "import needs a path")
                    .primary(node_span, "path missing")
                    .help("write `import \"apps/demo.kdl\"` or `import \"apps/\"`"),
            );
            return None;
        };
        let span = Span::new(file, entry.span().offset(), entry.span().len());
        for extra in args {
            self.diags.push(
                Diagnostic::new(Code::E0110, "unexpected argument to import")
                    .primary(Span::new(file, extra.span().offset(), extra.span().len()), "extra argument")
                    .help("import takes one path; write one `import` per file or folder"),
            );
        }
        if node.children().is_some() {
            self.diags.push(
                Diagnostic::new(Code::E0103, "import takes no children")
                    .primary(node_span, "children given here")
                    .help("remove the `{ ... }` block"),
            );
        }
        let Some(rel) = entry.value().as_string() else {
            self.diags.push(
                Diagnostic::new(Code::E0105, "an import path must be a string")
                    .primary(span, "not a string")
                    .help("write `import \"apps/demo.kdl\"`"),
            );
            return None;
        };
        match host::resolve(from, rel) {
            Some(target) => Some((target, span)),
            None => {
                self.diags.push(
                    Diagnostic::new(Code::E0206, format!("import `{rel}` leaves the description's folder"))
                        .primary(span, "points outside the root folder")
                        .help("imports are relative to the importing file and must stay below the folder of `homelab.kdl`"),
                );
                None
            }
        }
    }

    /// A file whose bytes are not UTF-8: its text (bad bytes replaced) is kept
    /// so that the error points at the line of the first bad byte.
    fn not_utf8(&mut self, path: &str, via: Option<Span>, bad: &host::NotUtf8) {
        self.complete = false;
        self.loaded.insert(path.to_string(), via);
        let file = self.sources.add(path, bad.lossy.as_str(), Origin::User);
        let len = bad.lossy[bad.offset..].chars().next().map_or(0, char::len_utf8);
        let mut diag = Diagnostic::new(Code::E0101, format!("`{path}` is not UTF-8 text"))
            .primary(Span::new(file, bad.offset, len), "this byte is not UTF-8 (shown as �)")
            .help("KDL files are UTF-8: save the file as UTF-8, or remove the byte");
        if let Some(span) = via {
            diag = diag.secondary(span, "imported here");
        }
        self.diags.push(diag);
    }

    fn report_cycle(&mut self, pos: usize, path: &str, via: Option<Span>) {
        let chain: Vec<String> =
            self.stack[pos..].iter().map(|(p, _)| p.clone()).chain(std::iter::once(path.to_string())).collect();
        let mut diag = Diagnostic::new(Code::E0204, format!("import cycle: {}", chain.join(" → ")))
            .help("remove one of these imports; shared declarations can live in a file both import from the root");
        if let Some(span) = via {
            diag = diag.primary(span, format!("imports `{path}`, which is already being loaded"));
        }
        for (p, span) in &self.stack[pos + 1..] {
            if let Some(span) = span {
                diag = diag.secondary(*span, format!("imports `{p}`"));
            }
        }
        self.diags.push(diag);
    }
}

fn error_text(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemHost;

    fn codes(host: &MemHost) -> (usize, Vec<Code>) {
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let loaded = load(host, "homelab.kdl", &mut sources, &mut diags);
        (loaded.files.len(), diags.iter().map(|d| d.code).collect())
    }

    #[test]
    fn each_document_is_handed_on_once_in_file_order_whatever_the_chunks() {
        // More files than a chunk, one of them importing a file of its own.
        let mut host = MemHost::new();
        host.insert("homelab.kdl", "homelab \"lab\"\nimport \"apps/\"\n");
        for i in 0..CHUNK + 3 {
            host.insert(format!("apps/{i:05}.kdl"), format!("app \"a{i}\"\n"));
        }
        host.insert("apps/00007.kdl", "import \"../more/x.kdl\"\napp \"a7\"\n");
        host.insert("more/x.kdl", "app \"x\"\n");
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let plain = load(&host, "homelab.kdl", &mut sources, &mut diags);
        let order: Vec<FileId> = plain.files.iter().map(|f| f.file).collect();
        let mut sources = SourceMap::new();
        let then = |file: FileId, sources: &SourceMap, doc: tree::Document| {
            (file, sources.get(file).path.clone(), doc.nodes().len())
        };
        let handed = load_then(&host, "homelab.kdl", &mut sources, &mut Vec::new(), &then);
        assert_eq!(handed.files.len(), CHUNK + 5);
        assert_eq!(handed.files.iter().map(|f| f.file).collect::<Vec<_>>(), order);
        assert!(handed.files.iter().all(|f| f.doc.0 == f.file), "each file's own document");
        let paths: Vec<&str> = handed.files.iter().map(|f| f.doc.1.as_str()).take(4).collect();
        assert_eq!(paths, ["homelab.kdl", "apps/00000.kdl", "apps/00001.kdl", "apps/00002.kdl"]);
        let x = handed.files.iter().position(|f| f.doc.1 == "more/x.kdl").unwrap();
        assert_eq!(handed.files[x - 1].doc.1, "apps/00007.kdl", "an import right after its importer");
        assert_eq!(handed.files[x].doc.2, 1);
    }

    #[test]
    fn folder_imports_are_sorted_and_recursive() {
        let host = MemHost::with([
            ("homelab.kdl", "import \"apps/\"\n"),
            ("apps/b.kdl", "app \"b\"\n"),
            ("apps/a/x.kdl", "app \"x\"\n"),
        ]);
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let loaded = load(&host, "homelab.kdl", &mut sources, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let paths: Vec<_> = loaded.files.iter().map(|f| sources.get(f.file).path.clone()).collect();
        assert_eq!(paths, ["homelab.kdl", "apps/a/x.kdl", "apps/b.kdl"]);
    }

    #[test]
    fn files_no_import_reaches_are_named() {
        let host = MemHost::with([("homelab.kdl", "import \"apps/a.kdl\"\n"), ("apps/a.kdl", ""), ("apps/b.kdl", "")]);
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        load(&host, "homelab.kdl", &mut sources, &mut diags);
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::W0102]);
        assert!(diags[0].help.as_deref().is_some_and(|h| h.contains("import \"apps/b.kdl\"")), "{diags:?}");
    }

    #[test]
    fn cycles_duplicates_and_escapes() {
        let host = MemHost::with([("homelab.kdl", "import \"a.kdl\"\n"), ("a.kdl", "import \"homelab.kdl\"\n")]);
        assert_eq!(codes(&host).1, [Code::E0204]);
        let host = MemHost::with([("homelab.kdl", "import \"a.kdl\"\nimport \"./a.kdl\"\n"), ("a.kdl", "")]);
        assert_eq!(codes(&host).1, [Code::E0205]);
        let host = MemHost::with([("homelab.kdl", "import \"../a.kdl\"\n")]);
        assert_eq!(codes(&host).1, [Code::E0206]);
        let host = MemHost::with([("homelab.kdl", "import \"missing.kdl\"\n")]);
        assert_eq!(codes(&host).1, [Code::E0203]);
    }

    #[test]
    fn a_chain_of_imports_is_bounded() {
        let mut host = MemHost::new();
        host.insert("homelab.kdl", "import \"f0.kdl\"\n");
        for i in 0..10_000 {
            host.insert(format!("f{i}.kdl"), format!("import \"f{}.kdl\"\n", i + 1));
        }
        let (files, codes) = codes(&host);
        assert_eq!((files, codes), (MAX_IMPORT_DEPTH, vec![Code::E0114]));
    }

    #[test]
    fn only_kdl_files_are_imported() {
        let host = MemHost::with([("homelab.kdl", "import \"NOTES.md\"\n"), ("NOTES.md", "# notes {\n")]);
        let (files, codes) = codes(&host);
        assert_eq!((files, codes), (1, vec![Code::E0105]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_named_pipe_is_refused_at_its_import() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("homelab.kdl"), "import \"pipe.kdl\"\nimport \"more/\"\n").unwrap();
        std::fs::create_dir(dir.path().join("more")).unwrap();
        for fifo in ["pipe.kdl", "more/fifo.kdl"] {
            let c = std::ffi::CString::new(dir.path().join(fifo).to_str().unwrap()).unwrap();
            // SAFETY: a NUL-terminated path that outlives the call.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        let host = crate::host::FsHost::new(dir.path());
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        load(&host, "homelab.kdl", &mut sources, &mut diags);
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::E0203, Code::E0203]);
        assert!(diags.iter().all(|d| d.message.contains("named pipe")), "{diags:?}");
    }

    #[test]
    fn a_file_that_is_not_utf8_is_pointed_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("homelab.kdl"), b"homelab \"lab\"\napp \"\xff\"\n").unwrap();
        let host = crate::host::FsHost::new(dir.path());
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        load(&host, "homelab.kdl", &mut sources, &mut diags);
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::E0101]);
        let span = diags[0].primary_span().expect("a span");
        assert_eq!(sources.get(span.file).line_col(span.start), (2, 6));
    }
}
