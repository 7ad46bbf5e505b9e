//! What the readers saw while lowering one file: every node opened with its
//! [`Shape`], and every property and argument a getter asked for, with the
//! type it expects and, for words, the allowed values.
//!
//! Tools that need the schema of the language (the language server's
//! completion and hover) read it from here rather than from a second list:
//! the shapes and types are the ones lowering checks against, recorded as it
//! runs. Recording is off (`Cx::trace` is `None`) in every compilation.

use crate::source::{FileId, SourceMap, Span};
use crate::syntax::tree;

use super::reader::Shape;

/// Where a value sits on a node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// The property `key=`.
    Prop(String),
    /// The positional argument at this index.
    Arg(usize),
}

/// A value a getter asked for.
#[derive(Clone, Debug)]
pub struct Typed {
    /// Where it sits.
    pub slot: Slot,
    /// What is expected, in words (`an IP address`, `node role`).
    pub expected: &'static str,
    /// The allowed words, for a word-valued slot; empty otherwise.
    pub words: Vec<&'static str>,
    /// Whether the value names another declaration.
    pub reference: bool,
}

/// One node a reader opened.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The whole node.
    pub span: Span,
    /// The names of the nodes from the top level down to this one
    /// (`["app", "service", "expose"]`).
    pub path: Vec<String>,
    /// The shape it was read against.
    pub shape: Shape,
    /// The values getters asked for, in the order they asked.
    pub typed: Vec<Typed>,
}

impl Opened {
    /// What the getters know of a slot.
    pub fn slot(&self, slot: &Slot) -> Option<&Typed> {
        self.typed.iter().find(|t| &t.slot == slot)
    }
}

/// Every node opened while lowering one file, in the order they were opened.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The nodes.
    pub nodes: Vec<Opened>,
}

impl Trace {
    /// Records a node being opened (its path is filled in by [`file`]).
    pub(super) fn open(&mut self, span: Span, shape: Shape) {
        self.nodes.push(Opened { span, path: Vec::new(), shape, typed: Vec::new() });
    }

    /// Records a getter's request on the node at `span` (once per slot).
    pub(super) fn ask(&mut self, span: Span, typed: Typed) {
        if let Some(node) = self.nodes.iter_mut().rev().find(|n| n.span == span)
            && node.slot(&typed.slot).is_none()
        {
            node.typed.push(typed);
        }
    }

    /// Marks a property of the node at `span` as a reference.
    pub(super) fn reference(&mut self, span: Span, key: &str) {
        let slot = Slot::Prop(key.to_string());
        if let Some(node) = self.nodes.iter_mut().rev().find(|n| n.span == span)
            && let Some(typed) = node.typed.iter_mut().find(|t| t.slot == slot)
        {
            typed.reference = true;
        }
    }

    /// The innermost node opened at this path of names, if any (the first
    /// one opened when several have it).
    pub fn at_path(&self, path: &[&str]) -> Option<&Opened> {
        self.nodes.iter().find(|n| n.path.len() == path.len() && n.path.iter().zip(path).all(|(a, b)| a == b))
    }
}

/// Lowers one file's text on its own, recording what the readers saw.
/// `None` when the text is not KDL (nothing can be lowered then).
pub fn file(text: &str) -> Option<Trace> {
    let mut sources = SourceMap::new();
    let file = sources.add("trace.kdl", text, crate::source::Origin::User);
    let mut diags = Vec::new();
    let doc = crate::syntax::parse(file, text, &mut diags)?;
    let mut trace = Trace::default();
    super::lower_file(file, &doc, &sources, Some(&mut trace));
    let mut paths = Vec::new();
    collect_paths(file, doc.nodes(), &mut Vec::new(), &mut paths);
    for node in &mut trace.nodes {
        if let Some((_, path)) = paths.iter().find(|(span, _)| *span == node.span) {
            node.path = path.clone();
        }
    }
    Some(trace)
}

/// The name path of every node of a document, by span. The parser bounds
/// the depth of documents (`syntax::MAX_DEPTH`), and so this recursion.
fn collect_paths(file: FileId, nodes: &[tree::Node], stack: &mut Vec<String>, out: &mut Vec<(Span, Vec<String>)>) {
    for node in nodes {
        stack.push(node.name().value().to_string());
        out.push((Span::new(file, node.span().offset(), node.span().len()), stack.clone()));
        if let Some(children) = node.children() {
            collect_paths(file, children.nodes(), stack, out);
        }
        stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_shapes_types_and_words_by_path() {
        let text = "app \"web\" namespace=\"demo\" {\n    image \"nginx\" registry=\"local\"\n    service type=\"ClusterIP\"\n}\n";
        let trace = file(text).expect("parses");
        let app = trace.at_path(&["app"]).expect("app opened");
        assert!(app.shape.children.contains(&"image"));
        assert!(app.slot(&Slot::Prop("namespace".into())).is_some_and(|t| t.reference));
        let image = trace.at_path(&["app", "image"]).expect("image opened");
        assert!(image.shape.props.contains(&"registry"));
        let service = trace.at_path(&["app", "service"]).expect("service opened");
        let kind = service.slot(&Slot::Prop("type".into())).expect("type asked");
        assert!(kind.words.contains(&"ClusterIP"), "{:?}", kind.words);
        assert!(file("app {").is_none());
    }
}
