//! The document the compiler reads: nodes, entries and values with their spans, and
//! nothing else.
//!
//! The kdl crate's types keep every byte of formatting beside each name and value (a
//! node is about 450 bytes, an entry 350, empty or not), which made reading a large
//! description mostly allocating, zeroing and moving memory. These types hold what the
//! loader and lowering read, under the crate's names for it; the fast parser
//! ([`super::fast`]) builds them directly and a document the crate parses is converted
//! ([`Document::from_kdl`]). `fmt` and `set` work on the crate's own documents, which
//! keep the formatting they rewrite around.

use std::fmt;

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};
use miette::SourceSpan;

/// A document: the nodes of a file or of a `{ ... }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    nodes: Vec<Node>,
    span: SourceSpan,
}

/// A node: its name, arguments and properties in order, and its block.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// A type annotation, `(type)name`: rare, so boxed.
    ty: Option<Box<Ident>>,
    name: Ident,
    entries: Vec<Entry>,
    children: Option<Document>,
    span: SourceSpan,
}

/// An argument (no name) or a property (`name=value`).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    ty: Option<Box<Ident>>,
    name: Option<Ident>,
    value: Value,
    span: SourceSpan,
}

/// A node name, property key or type annotation, and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    value: String,
    span: SourceSpan,
}

/// A value, as the crate reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Integer(i128),
    Float(f64),
    Bool(bool),
    Null,
}

impl Document {
    /// A document of `nodes` spanning `span`.
    pub fn new(nodes: Vec<Node>, span: impl Into<SourceSpan>) -> Document {
        Document { nodes, span: span.into() }
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn nodes_mut(&mut self) -> &mut Vec<Node> {
        &mut self.nodes
    }

    /// From the first node to the end of the last one, as the crate spans it.
    pub fn span(&self) -> SourceSpan {
        self.span
    }

    /// The crate's document as one of these, every name, value and span kept.
    pub fn from_kdl(doc: &KdlDocument) -> Document {
        Document { nodes: doc.nodes().iter().map(Node::from_kdl).collect(), span: doc.span() }
    }
}

impl Node {
    /// A node named `name`, without a type annotation, spanning `span`.
    pub fn new(name: Ident, entries: Vec<Entry>, children: Option<Document>, span: impl Into<SourceSpan>) -> Node {
        Node { ty: None, name, entries, children, span: span.into() }
    }

    pub fn name(&self) -> &Ident {
        &self.name
    }

    pub fn ty(&self) -> Option<&Ident> {
        self.ty.as_deref()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The property `key`: the last one where it is given twice, as the crate finds it.
    pub fn property(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.name().is_some_and(|name| name.value() == key))
    }

    pub fn entries_mut(&mut self) -> &mut Vec<Entry> {
        &mut self.entries
    }

    pub fn children(&self) -> Option<&Document> {
        self.children.as_ref()
    }

    pub fn children_mut(&mut self) -> &mut Option<Document> {
        &mut self.children
    }

    pub fn span(&self) -> SourceSpan {
        self.span
    }

    pub fn set_span(&mut self, span: impl Into<SourceSpan>) {
        self.span = span.into();
    }

    fn from_kdl(node: &KdlNode) -> Node {
        Node {
            ty: node.ty().map(|ty| Box::new(Ident::from_kdl(ty))),
            name: Ident::from_kdl(node.name()),
            entries: node.entries().iter().map(Entry::from_kdl).collect(),
            children: node.children().map(Document::from_kdl),
            span: node.span(),
        }
    }
}

impl Entry {
    /// An argument, or a property where it has a name, spanning `span`.
    pub fn new(name: Option<Ident>, value: Value, span: impl Into<SourceSpan>) -> Entry {
        Entry { ty: None, name, value, span: span.into() }
    }

    pub fn name(&self) -> Option<&Ident> {
        self.name.as_ref()
    }

    pub fn ty(&self) -> Option<&Ident> {
        self.ty.as_deref()
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn set_value(&mut self, value: Value) {
        self.value = value;
    }

    pub fn span(&self) -> SourceSpan {
        self.span
    }

    fn from_kdl(entry: &KdlEntry) -> Entry {
        Entry {
            ty: entry.ty().map(|ty| Box::new(Ident::from_kdl(ty))),
            name: entry.name().map(Ident::from_kdl),
            value: Value::from_kdl(entry.value()),
            span: entry.span(),
        }
    }
}

impl Ident {
    pub fn new(value: String, span: impl Into<SourceSpan>) -> Ident {
        Ident { value, span: span.into() }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn span(&self) -> SourceSpan {
        self.span
    }

    fn from_kdl(ident: &KdlIdentifier) -> Ident {
        Ident { value: ident.value().to_string(), span: ident.span() }
    }
}

impl Value {
    pub fn as_string(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<i128> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    fn from_kdl(value: &KdlValue) -> Value {
        match value {
            KdlValue::String(s) => Value::String(s.clone()),
            KdlValue::Integer(i) => Value::Integer(*i),
            KdlValue::Float(f) => Value::Float(*f),
            KdlValue::Bool(b) => Value::Bool(*b),
            KdlValue::Null => Value::Null,
        }
    }

    /// The crate's value: for writing it as KDL.
    pub fn to_kdl(&self) -> KdlValue {
        match self {
            Value::String(s) => KdlValue::String(s.clone()),
            Value::Integer(i) => KdlValue::Integer(*i),
            Value::Float(f) => KdlValue::Float(*f),
            Value::Bool(b) => KdlValue::Bool(*b),
            Value::Null => KdlValue::Null,
        }
    }
}

/// As KDL v2 writes the value (a string quoted where it must be), by the
/// crate's own printing: for messages, never on a path that is taken often.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_kdl().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crates_document_converts_with_every_name_value_and_span() {
        let text = "(t)a 1 k=(u)\"v w\" 2.5 #true #null k=x {\n  b -3 { c }\n}\nd\n";
        let kdl = KdlDocument::parse_v2(text).unwrap();
        let doc = Document::from_kdl(&kdl);
        assert_eq!(doc.span(), kdl.span());
        let (a, k) = (&doc.nodes()[0], &kdl.nodes()[0]);
        assert_eq!((a.name().value(), a.name().span(), a.span()), ("a", k.name().span(), k.span()));
        assert_eq!(a.ty().map(|t| (t.value(), t.span())), Some(("t", k.ty().unwrap().span())));
        let values: Vec<String> = a.entries().iter().map(|e| e.value().to_string()).collect();
        assert_eq!(values, ["1", "\"v w\"", "2.5", "#true", "#null", "x"]);
        let prop = &a.entries()[1];
        assert_eq!(prop.name().map(Ident::value), Some("k"));
        assert_eq!(prop.ty().map(Ident::value), Some("u"));
        assert_eq!(prop.span(), k.entries()[1].span());
        for (ours, theirs) in a.entries().iter().zip(k.entries()) {
            assert_eq!(ours.value().to_string(), theirs.value().to_string());
            assert_eq!(&ours.value().to_kdl(), theirs.value());
        }
        let b = &a.children().unwrap().nodes()[0];
        assert_eq!(b.entries()[0].value().as_integer(), Some(-3));
        assert_eq!(b.children().unwrap().nodes()[0].name().value(), "c");
        assert!(doc.nodes()[1].children().is_none());
        // The last `k=` wins, as with the crate.
        assert_eq!(a.property("k").map(|e| e.span()), k.entry("k").map(KdlEntry::span));
        assert_eq!(a.property("k").and_then(|e| e.value().as_string()), Some("x"));
        assert!(a.property("v").is_none());
        assert_eq!(doc.nodes().len(), 2);
    }

    #[test]
    fn values_print_as_the_crate_prints_them() {
        for value in [
            Value::String("a \"q\"\n".into()),
            Value::Integer(-12),
            Value::Float(1.0),
            Value::Float(f64::NAN),
            Value::Float(f64::NEG_INFINITY),
            Value::Bool(false),
            Value::Null,
        ] {
            assert_eq!(value.to_string(), value.to_kdl().to_string());
        }
    }

    #[test]
    fn a_node_is_a_fraction_of_the_crates() {
        assert!(std::mem::size_of::<Node>() * 3 <= std::mem::size_of::<KdlNode>(), "{}", std::mem::size_of::<Node>());
        assert!(
            std::mem::size_of::<Entry>() * 3 <= std::mem::size_of::<KdlEntry>(),
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
