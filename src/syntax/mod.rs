//! KDL parsing: text to a [`tree::Document`], KDL v2 first, v1 accepted with a warning.
//!
//! The kdl crate recurses once per level of blocks (and per piece of a block
//! comment, and per error it recovers from) and a stack overflow aborts the
//! process, so every text goes through [`guard::check`] before the crate sees
//! it, the crate runs on a thread with a large stack ([`on_large_stack`]), and
//! a document deeper than [`MAX_DEPTH`] is refused before anything walks it.
//! Lowering, `fmt` and `set` walk documents recursively: the limit is theirs too.

use kdl::{KdlDocument, KdlError, KdlNode};

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

mod fast;
pub mod guard;
pub mod tree;

pub use guard::{MAX_DEPTH, Refusal};

/// Parses a file's text. A KDL v1 document is accepted with a `W0101`
/// warning; a document that is neither reports the v2 parser's errors.
///
/// The common subset of KDL v2 goes through a fast hand-written parser that
/// builds the document; anything else goes to the kdl crate, whose document
/// is converted.
pub fn parse(file: FileId, text: &str, diags: &mut Vec<Diagnostic>) -> Option<tree::Document> {
    if let Some(doc) = fast::parse(text) {
        return Some(doc);
    }
    match with_crate(text) {
        Ok((doc, dialect)) => {
            if dialect == Dialect::V1 {
                let span = doc
                    .nodes()
                    .first()
                    .map_or(Span::new(file, 0, 0), |n| Span::new(file, n.span().offset(), n.name().span().len()));
                diags.push(
                    Diagnostic::new(Code::W0101, "this file is written in KDL v1")
                        .primary(span, "parsed as KDL v1")
                        .help(
                            "KDL v2 writes booleans and null as `#true`, `#false`, `#null` and quotes \
                             strings that are not identifiers; `homelabc fmt` rewrites the file in v2",
                        ),
                );
            }
            Some(tree::Document::from_kdl(&doc))
        }
        Err(Failure::Refused(refusal)) => {
            diags.push(refused(file, text, &refusal));
            None
        }
        Err(Failure::Invalid(v2_error)) => {
            report(file, text, &v2_error, diags);
            None
        }
    }
}

/// The KDL version a text was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// KDL v2.
    V2,
    /// KDL v1.
    V1,
}

/// Why the kdl crate gave no document.
#[derive(Debug)]
pub enum Failure {
    /// The text was not given to it, or its document was too deep.
    Refused(Refusal),
    /// The text is neither KDL v2 nor v1: the v2 parser's errors.
    Invalid(KdlError),
}

/// Parses a text with the kdl crate, v2 first, then v1: checked by the guard,
/// on a large stack, and refused when the document nests deeper than
/// [`MAX_DEPTH`]. The one way into the crate's parsers for whole files
/// (`fmt` and `set` use it too).
pub fn with_crate(text: &str) -> Result<(KdlDocument, Dialect), Failure> {
    if let Some(refusal) = guard::check(text) {
        return Err(Failure::Refused(refusal));
    }
    on_large_stack(|| {
        let parsed = match KdlDocument::parse_v2(text) {
            Ok(doc) => (doc, Dialect::V2),
            Err(v2_error) => match KdlDocument::parse_v1(text) {
                Ok(doc) => (doc, Dialect::V1),
                Err(_) => return Err(Failure::Invalid(v2_error)),
            },
        };
        match too_deep(&parsed.0) {
            // Dropped here, on the large stack, as deep as it is.
            Some(at) => Err(Failure::Refused(Refusal::TooDeep { at })),
            None => Ok(parsed),
        }
    })
}

/// The stack the kdl crate runs on: its parsers recurse, once per error they
/// recover from among others, and [`guard`] cannot foresee every one. Most of
/// it is never touched (the memory is only reserved).
const LARGE_STACK: usize = 256 << 20;

/// Runs `f` on a thread with a [`LARGE_STACK`], or on this one if no such
/// thread can be started.
pub fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let task = std::sync::Mutex::new(Some(f));
    let run = || task.lock().ok().and_then(|mut t| t.take()).map(|f| f());
    let on_thread = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new().name("kdl".into()).stack_size(LARGE_STACK).spawn_scoped(scope, run);
        spawned.ok().map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    match on_thread.flatten() {
        Some(result) => result,
        None => run().expect("the task runs once: here when no thread could start"),
    }
}

/// The offset of the first node deeper than [`MAX_DEPTH`], walking without recursion.
fn too_deep(doc: &KdlDocument) -> Option<usize> {
    let mut stack: Vec<(&KdlNode, usize)> = doc.nodes().iter().map(|n| (n, 1)).collect();
    while let Some((node, depth)) = stack.pop() {
        if let Some(children) = node.children() {
            if depth > MAX_DEPTH {
                return Some(children.span().offset());
            }
            stack.extend(children.nodes().iter().map(|n| (n, depth + 1)));
        }
    }
    None
}

/// The diagnostic for a text the guard refused.
pub fn refused(file: FileId, text: &str, refusal: &Refusal) -> Diagnostic {
    let at = |offset: usize, len: usize| Span::new(file, offset, len);
    match *refusal {
        Refusal::Forbidden { at: offset, ch, count } => {
            let len = ch.len_utf8();
            let (message, help) = if ch == '\0' && count > 1 {
                (
                    format!("the file holds {count} NUL bytes: it is binary, not KDL text"),
                    "homelabc reads KDL text in UTF-8; a NUL byte means a binary file, or text saved as UTF-16",
                )
            } else if ch == '\0' {
                (
                    "the file holds a NUL character, which KDL does not allow".to_string(),
                    "remove it; inside a string, a character can be written as an escape such as `\\u{1F600}`",
                )
            } else {
                (
                    format!("the file holds U+{:04X}, a character KDL does not allow", u32::from(ch)),
                    "remove it: KDL forbids control characters, direction marks and a byte-order mark past the start",
                )
            };
            Diagnostic::new(Code::E0101, message).primary(at(offset, len), "here").help(help)
        }
        Refusal::TooDeep { at: offset } => Diagnostic::new(
            Code::E0114,
            format!("blocks nest deeper than {MAX_DEPTH} levels"),
        )
        .primary(at(offset, 1), format!("level {} opens here", MAX_DEPTH + 1))
        .help(format!(
            "homelabc reads at most {MAX_DEPTH} levels of `{{ }}`: flatten the nesting, or move deep Helm values into a `values-file`"
        )),
        Refusal::LongComment { at: offset } => Diagnostic::new(Code::E0114, "this block comment is too long to parse")
            .primary(at(offset, 2), "the comment starts here")
            .help(format!(
                "a `/* */` comment may hold at most {} pieces (each `*`, each `/`, each run of other text): split it, or use `//` comments",
                guard::MAX_COMMENT_PIECES
            )),
        Refusal::Unmatched { at: offset, count } => {
            Diagnostic::new(Code::E0101, format!("{count} or more `}}` close no block"))
                .primary(at(offset, 1), "the first `}` without its `{`")
                .help("remove the stray `}`, or add the `{` it should close")
        }
        Refusal::Slashdashes { at: offset } => {
            Diagnostic::new(Code::E0101, format!("more than {MAX_DEPTH} `/-` in a row"))
                .primary(at(offset, 2), "the first of them")
                .help("one `/-` comments out the node, entry or block after it: remove the others")
        }
        Refusal::Tangled { at: offset } => {
            let line = text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1;
            Diagnostic::new(Code::E0101, "the file has too many unterminated strings or comments to read")
                .primary(at(offset, 1), format!("reading gave up here, line {line}"))
                .help("check the quotes and the `/* */` comments from here on: each string and comment must be closed")
        }
    }
}

fn report(file: FileId, text: &str, error: &KdlError, diags: &mut Vec<Diagnostic>) {
    if error.diagnostics.is_empty() {
        diags.push(
            Diagnostic::new(Code::E0101, "the file is not valid KDL")
                .primary(Span::new(file, 0, 0), "here")
                .help("see https://kdl.dev for the syntax"),
        );
    }
    for d in &error.diagnostics {
        let message = d.message.clone().unwrap_or_else(|| "invalid KDL".to_string());
        let message = lowercase_first(message.trim_end_matches('.'));
        let label = d.label.clone().unwrap_or_else(|| "here".to_string());
        let token = bare_token(text, d.span.offset());
        let unquoted =
            token.starts_with(|c: char| c.is_ascii_digit()) && token.contains(|c: char| c.is_ascii_alphabetic());
        let help = if unquoted {
            // `memory 8Gi`: a quantity or version written without quotes.
            format!("values that are not plain numbers are strings: write `\"{token}\"`")
        } else {
            d.help.clone().unwrap_or_else(|| "see https://kdl.dev for the KDL v2 syntax".to_string())
        };
        diags.push(
            Diagnostic::new(Code::E0101, message)
                .primary(Span::new(file, d.span.offset(), d.span.len()), label)
                .help(help),
        );
    }
}

/// The run of non-space, non-delimiter characters around a byte offset.
fn bare_token(text: &str, offset: usize) -> &str {
    let is_part = |c: char| !c.is_whitespace() && !matches!(c, ';' | '{' | '}' | '"' | '=' | '(' | ')');
    let offset = offset.min(text.len());
    let start = text[..offset].rfind(|c: char| !is_part(c)).map_or(0, |i| i + 1);
    let end = text[offset..].find(|c: char| !is_part(c)).map_or(text.len(), |i| offset + i);
    text.get(start..end).unwrap_or("")
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_parses_without_diagnostics() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\" flag=#true\n", &mut diags).is_some());
        assert!(diags.is_empty());
    }

    #[test]
    fn v1_parses_with_a_warning() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\" flag=true\n", &mut diags).is_some());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::W0101);
    }

    #[test]
    fn deep_and_binary_texts_are_refused_before_the_crate() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), &"a{".repeat(1280), &mut diags).is_none());
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::E0114]);
        let mut diags = Vec::new();
        assert!(parse(FileId(0), &"\0".repeat(10 << 20), &mut diags).is_none());
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("binary"), "{}", diags[0].message);
        // A NUL in a string is no reason to read the file as KDL v1 (W0101).
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\0b\"\n", &mut diags).is_none());
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::E0101]);
    }

    #[test]
    fn the_crate_survives_what_recurses_in_it() {
        // Each of these costs the crate one level of recursion per repetition.
        for (unit, times) in [("a{}", 20_000), ("a=", 20_000), ("*/", 20_000), ("/-", 20_000), ("}", 20_000)] {
            let text = format!("a (t)1\n{}", unit.repeat(times));
            let mut diags = Vec::new();
            assert!(parse(FileId(0), &text, &mut diags).is_none(), "{unit}");
            assert!(!diags.is_empty(), "{unit}");
        }
    }

    #[test]
    fn garbage_is_an_error_with_a_span() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\n{", &mut diags).is_none());
        assert!(!diags.is_empty());
        assert!(diags.iter().all(|d| d.code == Code::E0101 && d.primary_span().is_some()));
    }
}
