//! Source files and positions: `FileId`, `SourceMap`, `Span`, `Spanned<T>`.
//!
//! Every position the compiler reports is a byte range in one file of the
//! `SourceMap`. Paths are kept relative to the description's root folder, with
//! `/` separators, so that nothing machine-specific reaches a diagnostic or the
//! output.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from a file and a byte offset and length.
    pub fn new(file: FileId, start: usize, len: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = start.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        Span { file, start, end }
    }

    /// The smallest span covering both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A value together with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }

    /// Maps the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl Spanned<String> {
    /// The value as a string slice.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Where a source file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// A file of the user's description.
    User,
    /// A file of the standard library embedded in the binary (or `--stdlib`).
    Stdlib,
}

/// One loaded source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path relative to the description's root folder, `/`-separated
    /// (for stdlib files: `<stdlib>/NAME.kdl`).
    pub path: String,
    /// The file's text.
    pub text: Arc<str>,
    /// Whether the user or the stdlib wrote it.
    pub origin: Origin,
    /// Byte offsets where each line starts, computed once on the first
    /// [`SourceFile::line_col`]: a file with many diagnostics is not scanned
    /// from its start for each of them.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// A file of the description or of the stdlib.
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>, origin: Origin) -> SourceFile {
        SourceFile { path: path.into(), text: text.into(), origin, line_starts: OnceLock::new() }
    }

    /// 1-based line and column (in characters) of a byte offset: a binary
    /// search in the line index, then the characters of that one line.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, (offset as usize).min(self.text.len()));
        let line = self.line_of(offset);
        let col = self.text[self.line_start(line)..offset].chars().count() + 1;
        (line, col)
    }

    /// The 1-based line holding a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts().partition_point(|&start| start <= offset)
    }

    /// The byte offset where a 1-based line starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        let starts = self.line_starts();
        match line.checked_sub(1) {
            Some(i) => starts.get(i).copied().unwrap_or(self.text.len()),
            None => 0,
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts
            .get_or_init(|| std::iter::once(0).chain(self.text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// All source files of one compilation.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id; a stdlib file added again with the
    /// same text (a component bound for several clusters) keeps its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>, origin: Origin) -> FileId {
        let (path, text) = (path.into(), text.into());
        if origin == Origin::Stdlib
            && let Some(i) = self.files.iter().position(|f| f.origin == origin && f.path == path && f.text == text)
        {
            return FileId(i as u32);
        }
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 files"));
        self.files.push(SourceFile::new(path, text, origin));
        id
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        let end = (span.end as usize).min(text.len());
        let start = (span.start as usize).min(end);
        text.get(start..end).unwrap_or("")
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let mut map = SourceMap::new();
        let id = map.add("a.kdl", "// é\nnode x\n", Origin::User);
        let file = map.get(id);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(6), (2, 1));
        assert_eq!(file.line_col(11), (2, 6));
        assert_eq!(file.line_col(4), (1, 4));
        assert_eq!(file.line_col(5), (1, 5));
        assert_eq!(file.line_col(99), (3, 1));
    }

    #[test]
    fn line_col_is_not_quadratic() {
        // 200,000 lines and a position on each: a scan from the start for
        // every position (as before) takes minutes; the index, milliseconds.
        let text = "x\n".repeat(200_000);
        let mut map = SourceMap::new();
        let id = map.add("a.kdl", text, Origin::User);
        let file = map.get(id);
        let started = std::time::Instant::now();
        for line in 0..200_000u32 {
            assert_eq!(file.line_col(line * 2), (line as usize + 1, 1));
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }
}
