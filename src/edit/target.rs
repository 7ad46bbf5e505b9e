//! Finding what an address names in the description's files, down to the
//! exact bytes of its value.
//!
//! The files are parsed again with the kdl crate, which keeps every value's
//! text as written (`value_repr`), so the value's byte range is the end of its
//! entry's span minus that text. Every way an address can miss becomes an
//! E0207 with did-you-mean suggestions from what the files do hold.

use std::ops::Range;

use kdl::{KdlDocument, KdlEntry, KdlNode};

use super::address::Address;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::suggest;

/// One file of the description, parsed keeping the text of every value.
#[derive(Debug)]
pub struct Doc {
    /// The file in the description's source map.
    pub file: FileId,
    /// Its logical path.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Its document.
    pub doc: KdlDocument,
    /// Whether it is written in KDL v1 (booleans are then `true`, not `#true`).
    pub v1: bool,
}

impl Doc {
    /// Parses a file as KDL v2, else v1; `None` when it is neither (loading
    /// has reported that already).
    pub fn parse(file: FileId, path: &str, text: &str) -> Option<Doc> {
        let (doc, dialect) = crate::syntax::with_crate(text).ok()?;
        let v1 = dialect == crate::syntax::Dialect::V1;
        Some(Doc { file, path: path.to_string(), text: text.to_string(), doc, v1 })
    }

    fn span(&self, offset: usize, len: usize) -> Span {
        Span::new(self.file, offset, len)
    }

    fn name_span(&self, node: &KdlNode) -> Span {
        self.span(node.name().span().offset(), node.name().span().len())
    }

    fn entry_span(&self, entry: &KdlEntry) -> Span {
        self.span(entry.span().offset(), entry.span().len())
    }
}

/// What an address names.
#[derive(Debug)]
pub enum Target<'d> {
    /// A value written in a file: its token is replaced.
    Value {
        /// The file.
        doc: &'d Doc,
        /// The argument or property holding the value.
        entry: &'d KdlEntry,
    },
    /// A property the node does not have: ` key=value` is inserted at `at`,
    /// and the schema check decides whether the node takes it.
    Missing {
        /// The file.
        doc: &'d Doc,
        /// The node, for labels.
        node: &'d KdlNode,
        /// The address of the node (`app.demo-app.image`).
        address: String,
        /// The property's name.
        key: String,
        /// The byte offset after the node's last entry (or its name).
        at: usize,
    },
}

impl Target<'_> {
    /// The file the target is in.
    pub fn doc(&self) -> &Doc {
        match self {
            Target::Value { doc, .. } | Target::Missing { doc, .. } => doc,
        }
    }
}

/// The byte range of an entry's value token in its file, checked against the
/// text; `None` if the parser's positions do not match the text.
pub fn value_range(doc: &Doc, entry: &KdlEntry) -> Option<Range<usize>> {
    let repr = entry.format()?.value_repr.as_str();
    let end = entry.span().offset() + entry.span().len();
    let start = end.checked_sub(repr.len())?;
    (doc.text.get(start..end) == Some(repr)).then_some(start..end)
}

/// Finds what `address` names in `docs`, or the E0207 saying why it names nothing.
pub fn find<'d>(docs: &'d [Doc], address: &Address) -> Result<Target<'d>, Diagnostic> {
    let mut at = declaration(docs, address)?;
    let mut rest = address.path.as_slice();
    while let [segment, after @ ..] = rest {
        match step(&at, segment, after.first())? {
            Step::Found(target) => return Ok(target),
            Step::Down(child, segments) => {
                at = child;
                rest = &rest[segments..];
            }
        }
    }
    value_of(&at)
}

/// Where one segment of an address leads.
enum Step<'d> {
    /// To a property (the last segment), or to one the node lacks.
    Found(Target<'d>),
    /// Down to a child, using this many segments (2 when the next one selected it).
    Down(At<'d>, usize),
}

/// Follows `segment` from a node: a property, else the child of that name
/// (selected by `next` when that is the first argument of one of them).
fn step<'d>(at: &At<'d>, segment: &str, next: Option<&String>) -> Result<Step<'d>, Diagnostic> {
    if let Some(entry) = property(at.node, segment) {
        return match next {
            None => Ok(Step::Found(Target::Value { doc: at.doc, entry })),
            Some(next) => Err(below_a_property(at, entry, segment, next)),
        };
    }
    let children: Vec<&KdlNode> = children(at.node).filter(|c| c.name().value() == segment).collect();
    if children.is_empty() {
        return match next {
            None => Ok(Step::Found(missing(at, segment))),
            Some(_) => Err(no_such(at, segment)),
        };
    }
    let selected: Vec<&KdlNode> = match next {
        Some(next) => children.iter().copied().filter(|c| selector(c).as_ref() == Some(next)).collect(),
        None => Vec::new(),
    };
    match (children.as_slice(), selected.as_slice(), next) {
        (_, [one], Some(next)) => Ok(Step::Down(at.child(one, 1, &format!("{segment}.{next}")), 2)),
        ([one], [], _) => Ok(Step::Down(at.child(one, 0, segment), 1)),
        (_, [], _) => Err(several(at, segment, &children, next)),
        (_, twice, _) => Err(duplicated(at, segment, twice)),
    }
}

/// A node reached by an address.
struct At<'d> {
    doc: &'d Doc,
    node: &'d KdlNode,
    /// The positional arguments before the node's value: 1 when the address
    /// selected the node by its first argument (or its name), else 0.
    skip: usize,
    /// The address of the node.
    address: String,
}

impl<'d> At<'d> {
    fn child(&self, node: &'d KdlNode, skip: usize, segments: &str) -> At<'d> {
        At { doc: self.doc, node, skip, address: format!("{}.{segments}", self.address) }
    }

    /// The names of the node's properties and children, sorted and unique.
    fn members(&self) -> Vec<String> {
        let props = self.node.entries().iter().filter_map(|e| e.name()).map(|n| n.value().to_string());
        let children = children(self.node).map(|c| c.name().value().to_string());
        let mut names: Vec<String> = props.chain(children).collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The one declaration of the address's kind, name and namespace.
fn declaration<'d>(docs: &'d [Doc], address: &Address) -> Result<At<'d>, Diagnostic> {
    let of_kind: Vec<(&Doc, &KdlNode)> = docs
        .iter()
        .flat_map(|d| d.doc.nodes().iter().filter(|n| n.name().value() == address.kind).map(move |n| (d, n)))
        .collect();
    if of_kind.is_empty() {
        return Err(unknown_kind(docs, address));
    }
    let named: Vec<(&Doc, &KdlNode)> =
        of_kind.iter().copied().filter(|(_, n)| selector(n).as_deref() == Some(&address.name)).collect();
    if named.is_empty() {
        return Err(unknown_name(docs, &of_kind, address));
    }
    let chosen: Vec<(&Doc, &KdlNode)> = match &address.namespace {
        None => named.clone(),
        Some(ns) => named.iter().copied().filter(|(_, n)| namespace(&address.kind, n).as_ref() == Some(ns)).collect(),
    };
    match chosen.as_slice() {
        [(doc, node)] => Ok(At { doc, node, skip: 1, address: address.declaration() }),
        [] => Err(unknown_namespace(&named, address)),
        _ => Err(ambiguous(&chosen, address)),
    }
}

/// The last property of that name (KDL keeps the last one).
fn property<'n>(node: &'n KdlNode, key: &str) -> Option<&'n KdlEntry> {
    node.entries().iter().rev().find(|e| e.name().is_some_and(|n| n.value() == key))
}

fn children(node: &KdlNode) -> impl Iterator<Item = &KdlNode> {
    node.children().map_or(&[][..], |d| d.nodes()).iter()
}

fn arguments(node: &KdlNode) -> impl Iterator<Item = &KdlEntry> {
    node.entries().iter().filter(|e| e.name().is_none())
}

/// A node's first argument as an address segment: a string or an integer.
fn selector(node: &KdlNode) -> Option<String> {
    let value = arguments(node).next()?.value();
    value.as_string().map(str::to_string).or_else(|| value.as_integer().map(|i| i.to_string()))
}

/// A declaration's namespace: its `namespace=`, else an app's own name (as in
/// `lower/app.rs`). Other kinds without `namespace=` cannot be qualified.
fn namespace(kind: &str, node: &KdlNode) -> Option<String> {
    match property(node, "namespace").and_then(|e| e.value().as_string()) {
        Some(ns) => Some(ns.to_string()),
        None if kind == "app" => selector(node),
        None => None,
    }
}

/// The value the reached node holds: its one argument after the selector.
fn value_of<'d>(at: &At<'d>) -> Result<Target<'d>, Diagnostic> {
    let values: Vec<&KdlEntry> = arguments(at.node).skip(at.skip).collect();
    match values.as_slice() {
        [entry] => Ok(Target::Value { doc: at.doc, entry }),
        [] => {
            let members: Vec<String> = at.members().iter().map(|m| format!("`{}.{m}`", at.address)).collect();
            let help = if members.is_empty() {
                "it has nothing `set` can change; edit it by hand".to_string()
            } else {
                format!("set one of its values instead: {}", list(&members))
            };
            Err(Diagnostic::new(Code::E0207, format!("`{}` holds no value of its own", at.address))
                .primary(at.doc.name_span(at.node), "no argument to set here")
                .help(help))
        }
        several => Err(Diagnostic::new(Code::E0207, format!("`{}` holds {} values", at.address, several.len()))
            .primary(at.doc.name_span(at.node), "`set` changes one value, not a list")
            .help("edit this node by hand")),
    }
}

/// A property the node lacks: ` key=value` goes after its last entry, or
/// after its name when it has none.
fn missing<'d>(at: &At<'d>, key: &str) -> Target<'d> {
    let last = at.node.entries().last().map_or(at.node.name().span(), |e| e.span());
    let after = last.offset() + last.len();
    Target::Missing { doc: at.doc, node: at.node, address: at.address.clone(), key: key.to_string(), at: after }
}

/// No declaration of the address's kind.
fn unknown_kind(docs: &[Doc], address: &Address) -> Diagnostic {
    let kinds = crate::model::DeclKind::ALL.iter().map(|k| k.keyword());
    let kind = &address.kind;
    if crate::model::DeclKind::from_keyword(kind).is_some() {
        return stdlib_note(Diagnostic::new(Code::E0207, format!("the description declares no `{kind}`")), docs);
    }
    let help = match suggest::did_you_mean(kind, kinds.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("the declaration kinds are {}", list(&kinds.map(|k| format!("`{k}`")).collect::<Vec<_>>())),
    };
    Diagnostic::new(Code::E0207, format!("unknown declaration kind `{kind}`")).help(help)
}

/// Declarations of the kind, none of that name.
fn unknown_name(docs: &[Doc], of_kind: &[(&Doc, &KdlNode)], address: &Address) -> Diagnostic {
    let mut names: Vec<String> = of_kind.iter().filter_map(|(_, n)| selector(n)).collect();
    names.sort();
    names.dedup();
    let kind = &address.kind;
    let help = suggestion(&address.name, &names, kind)
        .unwrap_or_else(|| format!("the {kind} declarations are {}", addresses(kind, &names)));
    stdlib_note(Diagnostic::new(Code::E0207, format!("no {kind} named `{}`", address.name)).help(help), docs)
}

/// Declarations of the kind and name, none in that namespace.
fn unknown_namespace(named: &[(&Doc, &KdlNode)], address: &Address) -> Diagnostic {
    let (doc, node) = named[0];
    Diagnostic::new(
        Code::E0207,
        format!("no {} `{}` in namespace `{}`", address.kind, address.name, address.namespace.as_deref().unwrap_or("")),
    )
    .primary(doc.name_span(node), format!("a {} `{}` in another namespace", address.kind, address.name))
    .help(qualified_help(named, address))
}

/// Several declarations of the kind and name (and namespace, when given).
fn ambiguous(chosen: &[(&Doc, &KdlNode)], address: &Address) -> Diagnostic {
    let (doc, first) = chosen[0];
    let mut diag =
        Diagnostic::new(Code::E0207, format!("`{}` names {} declarations", address.declaration(), chosen.len()))
            .primary(doc.name_span(first), "one of them")
            .help(qualified_help(chosen, address));
    for (other, node) in &chosen[1..] {
        // A diagnostic shows one file: the others are named in the help.
        if other.file == doc.file {
            diag = diag.secondary(other.name_span(node), "another");
        }
    }
    diag
}

/// The help naming each candidate declaration by its qualified address.
fn qualified_help(candidates: &[(&Doc, &KdlNode)], address: &Address) -> String {
    let name = &address.name;
    let qualified: Vec<String> = candidates
        .iter()
        .map(|(doc, n)| match namespace(&address.kind, n) {
            Some(ns) => format!("`{}.{ns}/{name}`", address.kind),
            None => format!("the one in `{}` (it has no `namespace=`)", doc.path),
        })
        .collect();
    if let Some(twice) = qualified.iter().find(|q| qualified.iter().filter(|o| o == q).count() > 1) {
        return format!("{twice} is declared twice; `homelabc check` reports it: keep one");
    }
    format!("qualify the name with its namespace: {}", list(&qualified))
}

/// A segment naming neither a property nor a child of the node.
fn no_such(at: &At<'_>, segment: &str) -> Diagnostic {
    let members = at.members();
    let help = suggestion(segment, &members, &at.address).unwrap_or_else(|| match members.is_empty() {
        true => format!("`{}` has no properties or children", at.address),
        false => format!("`{}` has {}", at.address, addresses(&at.address, &members)),
    });
    Diagnostic::new(Code::E0207, format!("`{}` has no `{segment}`", at.address))
        .primary(at.doc.name_span(at.node), format!("no `{segment}` in this {}", at.node.name().value()))
        .help(help)
}

/// A path going on below a property.
fn below_a_property(at: &At<'_>, entry: &KdlEntry, segment: &str, next: &str) -> Diagnostic {
    Diagnostic::new(Code::E0207, format!("`{}.{segment}` is a property: it holds no `{next}`", at.address))
        .primary(at.doc.entry_span(entry), "a property holding one value")
        .help(format!("address the property itself: `{}.{segment}`", at.address))
}

/// Several children of one name, none selected.
fn several(at: &At<'_>, segment: &str, nodes: &[&KdlNode], next: Option<&String>) -> Diagnostic {
    let prefix = format!("{}.{segment}", at.address);
    let selectors: Vec<String> = nodes.iter().filter_map(|n| selector(n)).collect();
    let help = next
        .and_then(|next| suggestion(next, &selectors, &prefix))
        .unwrap_or_else(|| format!("select one by its first argument: {}", addresses(&prefix, &selectors)));
    let mut diag = Diagnostic::new(Code::E0207, format!("`{prefix}` names {} nodes", nodes.len()))
        .primary(at.doc.name_span(nodes[0]), format!("one of {} `{segment}` nodes", nodes.len()))
        .help(help);
    for node in &nodes[1..] {
        diag = diag.secondary(at.doc.name_span(node), "another");
    }
    diag
}

/// Several children of one name with the same first argument.
fn duplicated(at: &At<'_>, segment: &str, nodes: &[&KdlNode]) -> Diagnostic {
    let selector = selector(nodes[0]).unwrap_or_default();
    let mut diag =
        Diagnostic::new(Code::E0207, format!("`{}.{segment}.{selector}` names {} nodes", at.address, nodes.len()))
            .primary(at.doc.name_span(nodes[0]), format!("one of {} `{segment} \"{selector}\"`", nodes.len()))
            .help(format!("keep one `{segment} \"{selector}\"`; `homelabc check` reports the duplicate"));
    for node in &nodes[1..] {
        diag = diag.secondary(at.doc.name_span(node), "another");
    }
    diag
}

/// Adds the note on stdlib declarations when the description uses components.
fn stdlib_note(diag: Diagnostic, docs: &[Doc]) -> Diagnostic {
    let uses = docs.iter().any(|d| d.doc.nodes().iter().any(|n| n.name().value() == "use"));
    if !uses {
        return diag;
    }
    diag.note(
        "Declarations that a stdlib component adds through `use` are not in the description's files and \
         cannot be set; set a parameter of the `use` instead, e.g. `use.COMPONENT.PARAMETER`.",
    )
}

/// `did you mean `prefix.best`?` when a candidate is close to `word`.
fn suggestion(word: &str, candidates: &[String], prefix: &str) -> Option<String> {
    suggest::did_you_mean(word, candidates.iter().map(String::as_str))
        .map(|best| format!("did you mean `{prefix}.{best}`?"))
}

/// `prefix.a`, `prefix.b`, ... as a list (the first twelve).
fn addresses(prefix: &str, names: &[String]) -> String {
    list(&names.iter().map(|n| format!("`{prefix}.{n}`")).collect::<Vec<_>>())
}

/// `a`, `b`, `c`: at most twelve, then `and N more`.
fn list(items: &[String]) -> String {
    const MAX: usize = 12;
    match items.len() {
        n if n > MAX => format!("{} and {} more", items[..MAX].join(", "), n - MAX),
        _ => items.join(", "),
    }
}
