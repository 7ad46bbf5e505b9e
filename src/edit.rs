//! `homelabc set`: a format-preserving edit of one value of the description.
//!
//! An [`Address`] (`app.demo-app.image.tag`) is found in the root file or a
//! file it imports (`edit/target.rs`); the edit is a splice of that value's bytes,
//! or the insertion of ` key=value` after the node's last entry when the
//! property is absent. Every other byte of every file stays as it was:
//! comments, spacing, order. The edited file is parsed again to prove the
//! address now holds the new value, and the whole description is checked
//! through an [`Overlay`] host before the caller writes anything.
//!
//! This module edits text and reads through a [`Host`]; writing the file is
//! the command line's business (`cli/set.rs`).
//!
//! The kdl crate is used here, outside the front end, because an edit works
//! on KDL text itself: it needs each value's text as written, which only the
//! crate's own parser keeps.

mod address;
mod target;
mod value;

pub(crate) use value::quote;

use std::ops::Range;

pub use address::Address;
use target::{Doc, Target};

use crate::diag::{self, Code, Diagnostic};
use crate::host::{Host, Overlay};
use crate::source::{SourceMap, Span};
use crate::stdlib::Library;

/// What [`set`] found: diagnostics to show and the outcome.
#[derive(Debug)]
pub struct Set {
    /// Every diagnostic to show: why the edit was refused, or the warnings
    /// of the edited description.
    pub diagnostics: Vec<Diagnostic>,
    /// The sources the diagnostics' spans point into.
    pub sources: SourceMap,
    /// What happened.
    pub outcome: Outcome,
}

/// How an edit ended.
#[derive(Debug)]
pub enum Outcome {
    /// The edit is checked and ready to be written.
    Edited(Edit),
    /// The address already holds the value: nothing to write.
    Unchanged(Edit),
    /// The address names nothing, or the edited description has errors: see
    /// the diagnostics. Nothing is to be written.
    Refused,
    /// The edit did not come out as planned (a bug): nothing is to be written.
    Internal(String),
}

/// One edited file.
#[derive(Clone, Debug)]
pub struct Edit {
    /// Its logical path, relative to the root folder.
    pub path: String,
    /// Its text as read.
    pub before: String,
    /// Its text after the edit.
    pub after: String,
    /// The value's token as written (`"sha-1a2b3c4"`, `8`).
    pub token: String,
    /// Whether the edit added the property rather than changing its value.
    pub inserted: bool,
}

/// Sets the value at `address` to `value` in the description whose root file
/// is `root`, and checks the result with `library`. Writes nothing.
pub fn set(host: &dyn Host, root: &str, address: &Address, value: &str, library: &Library) -> Set {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let loaded = crate::load::load(host, root, &mut sources, &mut diagnostics);
    if diag::has_errors(&diagnostics) {
        return Set { diagnostics, sources, outcome: Outcome::Refused };
    }
    let docs: Vec<Doc> = loaded
        .files
        .iter()
        .filter_map(|f| Doc::parse(f.file, &sources.get(f.file).path, &sources.get(f.file).text))
        .collect();
    let target = match target::find(&docs, address) {
        Ok(target) => target,
        Err(diag) => return Set { diagnostics: vec![diag], sources, outcome: Outcome::Refused },
    };
    let splice = match Splice::plan(&target, value) {
        Ok(splice) if splice.unchanged => {
            return Set { diagnostics: Vec::new(), sources, outcome: Outcome::Unchanged(splice.edit) };
        }
        Ok(splice) => splice,
        Err(message) => return Set { diagnostics: Vec::new(), sources, outcome: Outcome::Internal(message) },
    };
    if let Err(message) = splice.verify(address) {
        return Set { diagnostics: Vec::new(), sources, outcome: Outcome::Internal(message) };
    }
    let checked = crate::driver::check_with(
        &Overlay { base: host, path: &splice.edit.path, text: &splice.edit.after },
        root,
        library,
    );
    if let Some(diag) = unknown_property(&target, &splice, &checked.diagnostics, &checked.sources) {
        return Set { diagnostics: vec![diag], sources, outcome: Outcome::Refused };
    }
    let outcome = if checked.has_errors() { Outcome::Refused } else { Outcome::Edited(splice.edit) };
    Set { diagnostics: checked.diagnostics, sources: checked.sources, outcome }
}

/// The planned change of one file.
struct Splice {
    edit: Edit,
    /// The value KDL reads back from the token.
    value: kdl::KdlValue,
    /// Where the edited text holds the new value token, or for an insertion
    /// the new `key=value` entry.
    written: Range<usize>,
    /// Whether ` key=value` is inserted rather than a value replaced.
    inserted: bool,
    /// Whether the address already holds the value.
    unchanged: bool,
    /// The file, and whether it is KDL v1.
    file: crate::source::FileId,
    v1: bool,
}

impl Splice {
    /// Renders the value and splices it into the target's file.
    fn plan(target: &Target<'_>, input: &str) -> Result<Splice, String> {
        let doc = target.doc();
        let (range, token, text) = match target {
            Target::Value { entry, .. } => {
                let range = target::value_range(doc, entry)
                    .ok_or_else(|| format!("the parser's position of the value does not match `{}`", doc.path))?;
                let old = &doc.text[range.clone()];
                let token = value::replacing(input, entry.value(), old, doc.v1);
                // The same value: the text stays as written.
                let text = if token.value == *entry.value() { old.to_string() } else { token.text.clone() };
                (range, token, text)
            }
            Target::Missing { key, at, .. } => {
                let token = value::inserted(input, doc.v1);
                let text = format!(" {}={}", value::key(key), token.text);
                (*at..*at, token, text)
            }
        };
        let inserted = matches!(target, Target::Missing { .. });
        let after = format!("{}{text}{}", &doc.text[..range.start], &doc.text[range.end..]);
        let unchanged = after == doc.text;
        // An inserted entry starts after its leading space.
        let written = range.start + usize::from(inserted)..range.start + text.len();
        let shown = if unchanged { text } else { token.text };
        let edit = Edit { path: doc.path.clone(), before: doc.text.clone(), after, token: shown, inserted };
        Ok(Splice { edit, value: token.value, written, inserted, unchanged, file: doc.file, v1: doc.v1 })
    }

    /// Parses the edited text again and proves that the address now holds the
    /// new value, written exactly where planned.
    fn verify(&self, address: &Address) -> Result<(), String> {
        let path = &self.edit.path;
        let doc = Doc::parse(self.file, path, &self.edit.after)
            .filter(|d| d.v1 == self.v1)
            .ok_or_else(|| format!("the edited `{path}` does not parse"))?;
        let Ok(Target::Value { entry, .. }) = target::find(std::slice::from_ref(&doc), address) else {
            return Err(format!("`{address}` names nothing in the edited `{path}`"));
        };
        let placed = if self.inserted {
            Some(entry.span().offset()..entry.span().offset() + entry.span().len())
        } else {
            target::value_range(&doc, entry)
        };
        if *entry.value() != self.value || placed.as_ref() != Some(&self.written) {
            return Err(format!("`{address}` does not hold the new value where planned in the edited `{path}`"));
        }
        Ok(())
    }
}

/// An inserted property the schema does not know: the check's E0103 on it,
/// told as an unknown address (E0207) on the original file, with the
/// schema's suggestion.
fn unknown_property(
    target: &Target<'_>,
    splice: &Splice,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
) -> Option<Diagnostic> {
    let Target::Missing { doc, node, address, key, .. } = target else { return None };
    // The check ran on its own source map: match the file by path.
    let on_the_insertion =
        |s: Span| sources.get(s.file).path == doc.path && (s.start as usize..s.end as usize) == splice.written;
    let refused =
        diagnostics.iter().find(|d| d.code == Code::E0103 && d.primary_span().is_some_and(on_the_insertion))?;
    let name = node.name();
    let span = Span::new(doc.file, name.span().offset(), name.span().len());
    Some(
        Diagnostic::new(Code::E0207, format!("`{address}` has no `{key}`"))
            .primary(span, format!("no `{key}` in this {}", name.value()))
            .help_opt(refused.help.clone())
            .note(
                "`set` changes values written in the description and adds properties the schema knows; \
                 it adds no child nodes.",
            ),
    )
}

#[cfg(test)]
mod tests;
