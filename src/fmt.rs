//! `homelabc fmt`: the canonical layout of the description's files.
//!
//! Canonical means the kdl crate's layout: one node per line (`;` between
//! nodes becomes a line break), four spaces per level of children, except
//! that a children block its author wrote on one line stays on one line
//! (`values { replicas 2; service { type "LoadBalancer" } }`, canonically
//! spaced) while the line fits in 100 columns and the block holds no line
//! comment or continuation, like rustfmt's small blocks; one space between
//! a node's name, its entries and its `{`, `key=value` and `(type)value` without spaces, `\n` line breaks and
//! a final one. Beyond it: `{}` for an empty block, a blank line between
//! nodes is kept (runs of them become one; none at the start or end of a
//! block), a line comment goes one space after its node or `{` (columns of
//! aligned comments are not kept), a `\` continuation stays and indents its
//! next line one level. Comments of every kind (`//`, `/* */`, `/-`) are
//! kept in order, and every name and value is written as the author wrote
//! it: quoting, raw and multi-line strings (their lines keep their columns),
//! number notation. A KDL v1 file is rewritten in KDL v2 (see `fmt/v1.rs`),
//! as the W0101 warning promises.
//!
//! Why not the kdl crate's `autoformat`: it drops comments (a line comment
//! after a node, comments and `/-` between entries), re-indents `/-`
//! commented nodes wrongly, writes multi-line strings on one line and
//! removes every blank line; its parser also loses `} // comment`. So the
//! layout is done on the file's own tokens (`fmt/lex.rs`, `fmt/layout.rs`),
//! and the crate is the judge: before anything is written, the result must
//! parse as KDL v2 to the same nodes, entries and values as the original,
//! keep every comment and value token in order, and come out unchanged when
//! formatted again. A file that fails is refused as an internal error.
//! A few rare layouts are refused rather than guessed at (a line comment
//! right after `/-` or inside a property, a value glued to the next one).
//!
//! The kdl crate is used here, outside the front end, because formatting
//! works on KDL text itself.

mod layout;
mod lex;
mod read;
mod v1;

pub(crate) use lex::block_comment;

use std::fmt;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use crate::diag::{self, Diagnostic};
use crate::host::Host;
use crate::source::SourceMap;
use lex::{Dialect, Kind, Token};

/// Why a file could not be formatted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The text is not KDL (v2 or v1).
    Syntax,
    /// The text holds a construct the formatter does not lay out (such as a
    /// line comment inside a property).
    Unsupported(String),
    /// The result would not mean the same as the text (a bug).
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax => f.write_str("the file is not valid KDL"),
            Error::Unsupported(what) => write!(f, "cannot be formatted: {what}"),
            Error::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

/// Formats one file's text canonically, checking that the result means the
/// same, keeps every comment and is formatted already.
///
/// The kdl crate judges the result, so the text goes through the parser's
/// guard first and the work runs on its large stack (see `syntax`); the
/// layout's own recursion is bounded by the same depth.
pub fn format(text: &str) -> Result<String, Error> {
    let (doc, dialect) = match crate::syntax::with_crate(text) {
        Ok((doc, crate::syntax::Dialect::V2)) => (doc, Dialect::V2),
        Ok((doc, crate::syntax::Dialect::V1)) => (doc, Dialect::V1),
        Err(crate::syntax::Failure::Invalid(_)) => return Err(Error::Syntax),
        Err(crate::syntax::Failure::Refused(refusal)) => {
            return Err(Error::Unsupported(refusal.to_string()));
        }
    };
    crate::syntax::on_large_stack(|| format_parsed(text, &doc, dialect))
}

fn format_parsed(text: &str, doc: &KdlDocument, dialect: Dialect) -> Result<String, Error> {
    let tokens = lex::lex(text, dialect).map_err(Error::Internal)?;
    glued(&tokens).map_err(Error::Unsupported)?;
    let layout = layout::format(&tokens, dialect).map_err(Error::Unsupported)?;
    // The tokens as the result should hold them: v1 words in their v2 spelling.
    let expected: Vec<Token<'_>> = tokens
        .iter()
        .zip(&layout.respelled)
        .map(|(t, v2)| Token { kind: t.kind, text: v2.as_deref().unwrap_or(t.text) })
        .collect();
    verify(doc, &expected, &layout.text).map_err(|why| match dialect {
        // The crate's v1 parser accepts more than KDL v1 (`a/-1-1.5e3`):
        // converting such a file is refused, not a bug.
        Dialect::V1 => Error::Unsupported(format!("this KDL v1 file cannot be rewritten in v2 ({why})")),
        Dialect::V2 => Error::Internal(why),
    })?;
    Ok(layout.text)
}

/// Refuses a value glued to what follows it (`#true"s"`, `1(t)2`, `a/-b`).
/// KDL wants space there, but the crate accepts some of these and gives them
/// a meaning of its own, which the layout's space would change.
fn glued(tokens: &[Token<'_>]) -> Result<(), String> {
    for pair in tokens.windows(2) {
        if pair[0].kind == Kind::Word && matches!(pair[1].kind, Kind::Word | Kind::OpenParen | Kind::Slashdash) {
            return Err(format!("`{}` needs a space before `{}`", pair[0].text, pair[1].text));
        }
    }
    Ok(())
}

/// The checks `format` makes before it returns a result.
fn verify(original: &KdlDocument, tokens: &[Token<'_>], formatted: &str) -> Result<(), String> {
    let doc = KdlDocument::parse_v2(formatted).map_err(|_| "the result is not valid KDL v2".to_string())?;
    same_nodes(original.nodes(), doc.nodes(), "")?;
    let again = lex::lex(formatted, Dialect::V2)?;
    if kept(tokens) != kept(&again) {
        return Err("the result does not keep every comment and value in order".into());
    }
    if layout::format(&again, Dialect::V2)?.text != formatted {
        return Err("formatting the result again changes it".into());
    }
    Ok(())
}

/// The tokens the layout keeps: all but space, line breaks, `;` and `\`.
fn kept<'a>(tokens: &'a [Token<'_>]) -> Vec<&'a str> {
    tokens
        .iter()
        .filter(|t| !matches!(t.kind, Kind::Space | Kind::Newline | Kind::Semicolon | Kind::Escline))
        .map(|t| t.text)
        .collect()
}

/// Compares two node lists by meaning: names, types, arguments, properties
/// (in order) and children, not layout or spans. `at` locates the list.
fn same_nodes(a: &[KdlNode], b: &[KdlNode], at: &str) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{at}: {} nodes became {}", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let here = format!("{at}/{}[{i}]", x.name().value());
        if x.name().value() != y.name().value() || x.ty().map(|t| t.value()) != y.ty().map(|t| t.value()) {
            return Err(format!("{here}: the node's name or type changed"));
        }
        if x.entries().len() != y.entries().len() || !x.entries().iter().zip(y.entries()).all(|(e, f)| same_entry(e, f))
        {
            return Err(format!("{here}: the node's entries changed"));
        }
        match (x.children(), y.children()) {
            (None, None) => {}
            (Some(c), Some(d)) => same_nodes(c.nodes(), d.nodes(), &here)?,
            _ => return Err(format!("{here}: the node's children block appeared or vanished")),
        }
    }
    Ok(())
}

fn same_entry(a: &KdlEntry, b: &KdlEntry) -> bool {
    a.name().map(|n| n.value()) == b.name().map(|n| n.value())
        && a.ty().map(|t| t.value()) == b.ty().map(|t| t.value())
        && same_value(a.value(), b.value())
}

/// Values compared bit for bit, so that `#nan` equals itself.
fn same_value(a: &KdlValue, b: &KdlValue) -> bool {
    match (a, b) {
        (KdlValue::Float(x), KdlValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// One file of the description and its canonical text.
#[derive(Clone, Debug)]
pub struct File {
    /// Its logical path, relative to the root folder.
    pub path: String,
    /// Its text as read.
    pub before: String,
    /// Its canonical text.
    pub after: String,
}

impl File {
    /// Whether formatting changes the file.
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// What [`description`] found.
#[derive(Debug)]
pub struct Formatted {
    /// The loader's diagnostics when it found errors (nothing is then
    /// formatted), else none.
    pub diagnostics: Vec<Diagnostic>,
    /// The sources the diagnostics point into.
    pub sources: SourceMap,
    /// Every file of the description, root first, in import order.
    pub files: Vec<File>,
    /// The files that could not be formatted: path and reason.
    pub failures: Vec<(String, Error)>,
}

/// Formats every file of the description whose root file is `root`: the root
/// and every file it imports. Writes nothing.
pub fn description(host: &dyn Host, root: &str) -> Formatted {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let loaded = crate::load::load(host, root, &mut sources, &mut diagnostics);
    if diag::has_errors(&diagnostics) {
        return Formatted { diagnostics, sources, files: Vec::new(), failures: Vec::new() };
    }
    // The warnings left (such as W0101 for a v1 file) are what formatting fixes.
    diagnostics.clear();
    let mut files = Vec::new();
    let mut failures = Vec::new();
    let results = crate::par::map(&loaded.files, |f| format(&sources.get(f.file).text));
    for (parsed, result) in loaded.files.iter().zip(results) {
        let source = sources.get(parsed.file);
        match result {
            Ok(after) => files.push(File { path: source.path.clone(), before: source.text.to_string(), after }),
            // The loader parsed the file: a syntax error now is a bug.
            Err(Error::Syntax) => {
                failures.push((source.path.clone(), Error::Internal("the file no longer parses".into())))
            }
            Err(error) => failures.push((source.path.clone(), error)),
        }
    }
    Formatted { diagnostics, sources, files, failures }
}

#[cfg(test)]
mod tests;
