//! Lowering of charts, secrets, manifests, `use` of stdlib components, and of
//! `values { ... }` trees.

use std::collections::BTreeMap;

use super::reader::{ANY_CHILD, Cx, Label, Reader, Shape, Url};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

pub(super) fn chart(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Chart> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "chart",
            max_args: 1,
            props: &["namespace", "repo", "chart", "version", "provides-crds", "pod-security", "cluster"],
            children: &["values", "values-file", "depends-on"],
        },
    );
    let name = r.name(cx);
    let namespace = r.req_ref(cx, "namespace");
    let repo = r.req_prop::<Url>(cx, "repo").map(|u| u.map(|u| u.0));
    let chart = r.req_prop::<String>(cx, "chart");
    let version = r.req_prop::<String>(cx, "version");
    if let Some(v) = &version
        && !crate::model::is_semver(&v.value)
    {
        let range = v.value.is_empty() || v.value.contains(['*', '^', '~', '>', '<', ' ', 'x', '|']);
        let (message, label) = match v.value.as_str() {
            "latest" | "stable" | "" => {
                (format!("chart version `{}` is not pinned", v.value), "moves with every release")
            }
            _ if range => (format!("chart version `{}` is not pinned", v.value), "a range, not one version"),
            _ => (
                format!("chart version `{}` is not a SemVer version", v.value),
                "Helm charts are versioned `MAJOR.MINOR.PATCH`",
            ),
        };
        cx.report(
            Diagnostic::new(Code::E0105, message)
                .primary(v.span, label)
                .help("pin one exact version, e.g. `version=\"16.2.1\"`, so every build is the same"),
        );
    }
    let provides_crds = r.prop::<bool>(cx, "provides-crds").is_some_and(|b| b.value);
    let cluster = r.opt_ref(cx, "cluster");
    let pod_security = r.word_prop::<PodSecurity>(cx, "pod-security");
    let values = r.child_once(cx, "values").and_then(|c| values_block(cx, c));
    let values_file = r.child_once(cx, "values-file").and_then(|c| {
        let f = Reader::open(cx, c, Shape { what: "values-file", max_args: 1, props: &[], children: &[] });
        f.arg::<String>(cx, 0, "a file path")
    });
    let mut depends_on = Vec::new();
    for c in r.children_named("depends-on") {
        let d = Reader::open(cx, c, Shape { what: "depends-on", max_args: 16, props: &[], children: &[] });
        let names = d.rest_args::<Label>(cx, 0);
        if names.is_empty() {
            d.arg::<Label>(cx, 0, "a name");
        }
        depends_on.extend(names.into_iter().map(|l| l.map(|l| l.0)));
    }
    Some(Chart {
        name: name?,
        namespace: namespace?,
        repo: repo?,
        chart: chart?,
        version: version?,
        values,
        values_file,
        file_values: None,
        provides_crds,
        depends_on,
        component: None,
        implied_by: Vec::new(),
        pod_security,
        cluster,
        span: r.span(cx),
    })
}

pub(super) fn secret(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Secret> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "secret",
            max_args: 1,
            props: &["namespace", "from", "file", "store", "key", "type", "cluster"],
            children: &[],
        },
    );
    let name = r.name(cx);
    let namespace = r.req_ref(cx, "namespace");
    let from = r.req_word_prop::<SecretFrom>(cx, "from");
    let source = match from.map(|f| f.value) {
        Some(SecretFrom::Sops) => r.req_prop::<String>(cx, "file").map(|file| SecretSource::Sops { file }),
        Some(SecretFrom::Sealed) => r.req_prop::<String>(cx, "file").map(|file| SecretSource::Sealed { file }),
        Some(SecretFrom::External) => {
            let store = r.req_prop::<String>(cx, "store");
            let key = r.req_prop::<String>(cx, "key");
            Some(SecretSource::External { store: store?, key: key? })
        }
        Some(SecretFrom::Existing) => Some(SecretSource::Existing),
        None => None,
    };
    let secret_type =
        r.word_prop::<SecretType>(cx, "type").unwrap_or(Spanned::new(SecretType::Opaque, r.name_span(cx)));
    // `file=` with external, or `store=` with a file source, is a mistake worth naming.
    let misplaced: &[&str] = match &source {
        Some(SecretSource::External { .. }) => &["file"],
        Some(SecretSource::Existing) => &["file", "store", "key"],
        Some(_) => &["store", "key"],
        None => &[],
    };
    for key in misplaced {
        if r.has_prop(key) {
            let span = r.prop::<String>(cx, key).map_or(r.name_span(cx), |p| p.span);
            cx.report(
                Diagnostic::new(Code::E0103, format!("`{key}=` does not apply to this secret source"))
                    .primary(span, "ignored by this source")
                    .help("`from=\"sops\"` and `from=\"sealed\"` take `file=`; `from=\"external\"` takes `store=` and `key=`"),
            );
        }
    }
    let cluster = r.opt_ref(cx, "cluster");
    Some(Secret { name: name?, namespace: namespace?, source: source?, secret_type, cluster, span: r.span(cx) })
}

pub(super) fn manifest(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Manifest> {
    let r = Reader::open(cx, node, Shape { what: "manifest", max_args: 1, props: &["cluster"], children: &[] });
    let cluster = r.opt_ref(cx, "cluster");
    let path = r.arg::<String>(cx, 0, "a file path")?;
    Some(Manifest { path, objects: Vec::new(), cluster, span: r.span(cx) })
}

pub(super) fn use_component(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Use> {
    // Parameters are the component's own: they are checked against it when the
    // stdlib is bound, so any child name is accepted here.
    let r = Reader::open(cx, node, Shape { what: "use", max_args: 1, props: &["cluster"], children: ANY_CHILD });
    let cluster = r.opt_ref(cx, "cluster");
    let component = r.arg::<String>(cx, 0, "a component name")?;
    let mut params = BTreeMap::new();
    let mut values = None;
    for child in r.children() {
        let key = child.name().value();
        let span = cx.span(child.name().span());
        let value = if key == "values" {
            values = values_block(cx, child);
            continue;
        } else {
            value_node(cx, child)
        };
        let Some(value) = value else { continue };
        if let Some((first, _)) = params.get(key) {
            cx.report(
                Diagnostic::new(Code::E0107, format!("parameter `{key}` is given twice"))
                    .primary(span, "given again here")
                    .secondary(*first, "first given here")
                    .help("give each parameter once"),
            );
            continue;
        }
        params.insert(key.to_string(), (span, value));
    }
    Some(Use { component, params, values, cluster, span: r.span(cx) })
}

/// Reads `values { ... }`: its children form a mapping.
pub(super) fn values_block(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Value> {
    if !node.entries().is_empty() {
        cx.report(
            Diagnostic::new(Code::E0110, "`values` takes no arguments")
                .primary(cx.span(node.span()), "arguments given here")
                .help("write the values as children: `values { key \"value\" }`"),
        );
    }
    let span = cx.span(node.span());
    let children = node.children().map_or(&[][..], |d| d.nodes());
    Some(Value { kind: mapping(cx, children)?, span })
}

/// KDL → values: a node with one argument is a scalar, with children a
/// mapping (or a list when the children are named `-`), with several
/// arguments a list of scalars.
fn value_node(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Value> {
    let span = cx.span(node.span());
    let mut args = Vec::new();
    for entry in node.entries() {
        if let Some(name) = entry.name() {
            cx.report(
                Diagnostic::new(Code::E0103, format!("property `{}` inside values", name.value()))
                    .primary(cx.span(entry.span()), "properties are not values")
                    .help(format!("write it as a child node: `{} {{ {} ... }}`", node.name().value(), name.value())),
            );
            return None;
        }
        args.push(scalar(entry.value(), cx.span(entry.span())));
    }
    let children = node.children().map(|d| d.nodes()).unwrap_or_default();
    match (args.len(), children.is_empty()) {
        (0, true) => Some(Value { kind: ValueKind::Map(BTreeMap::new()), span }),
        (1, true) => args.pop(),
        (_, true) => Some(Value { kind: ValueKind::List(args), span }),
        (0, false) => Some(Value { kind: mapping(cx, children)?, span }),
        _ => {
            cx.report(
                Diagnostic::new(Code::E0105, format!("`{}` has both a value and children", node.name().value()))
                    .primary(span, "value and children")
                    .help("a values key holds either one value or a block of children"),
            );
            None
        }
    }
}

fn mapping(cx: &mut Cx<'_>, children: &[tree::Node]) -> Option<ValueKind> {
    if !children.is_empty() && children.iter().all(|c| c.name().value() == "-") {
        let items = children.iter().filter_map(|c| value_node(cx, c)).collect();
        return Some(ValueKind::List(items));
    }
    let mut map: BTreeMap<String, (crate::source::Span, Value)> = BTreeMap::new();
    for child in children {
        let key = child.name().value().to_string();
        let key_span = cx.span(child.name().span());
        if key == "-" {
            cx.report(
                Diagnostic::new(Code::E0105, "list items mixed with keys")
                    .primary(key_span, "a list item among mapping keys")
                    .help("a block is either a mapping (named children) or a list (children all named `-`)"),
            );
            continue;
        }
        let Some(value) = value_node(cx, child) else { continue };
        if let Some((first, _)) = map.get(&key) {
            cx.report(
                Diagnostic::new(Code::E0107, format!("values key `{key}` is given twice"))
                    .primary(key_span, "given again here")
                    .secondary(*first, "first given here")
                    .help("merge the two blocks into one"),
            );
            continue;
        }
        map.insert(key, (key_span, value));
    }
    Some(ValueKind::Map(map))
}

fn scalar(value: &tree::Value, span: crate::source::Span) -> Value {
    Value { kind: scalar_kind(value), span }
}

/// A KDL value as a values scalar.
pub(super) fn scalar_kind(value: &tree::Value) -> ValueKind {
    match value {
        tree::Value::String(s) => ValueKind::String(s.clone()),
        tree::Value::Integer(i) => ValueKind::Int(*i),
        tree::Value::Float(f) => ValueKind::Float(*f),
        tree::Value::Bool(b) => ValueKind::Bool(*b),
        tree::Value::Null => ValueKind::Null,
    }
}
