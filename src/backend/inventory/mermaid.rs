//! `## Dependency graph`: the graph as a mermaid flowchart, which GitHub and
//! most Markdown viewers draw. One subgraph per namespace holds the
//! namespace and its declarations; cluster-wide ones stand outside.

use std::collections::{BTreeMap, BTreeSet};

use super::heading;
use crate::graph::{Decl, DeclKind, Graph, edge_list};

/// Appends the section; nothing for an empty graph.
pub fn section(graph: &Graph, out: &mut String) {
    if graph.order.is_empty() {
        return;
    }
    heading(out, "Dependency graph");
    out.push_str("An arrow from a declaration points at what it needs first.\n\n");
    out.push_str("```mermaid\n");
    out.push_str(&flowchart(graph));
    out.push_str("```\n\n");
}

/// The flowchart text, declarations in dependency order.
pub fn flowchart(graph: &Graph) -> String {
    let ids = node_ids(graph);
    let id = |d: &Decl| ids.get(d).map_or("", String::as_str);
    let mut groups: BTreeMap<Option<&str>, Vec<&Decl>> = BTreeMap::new();
    for d in &graph.order {
        groups.entry(namespace_of(d)).or_default().push(d);
    }
    let mut out = String::from("flowchart LR\n");
    for (group, decls) in &groups {
        let indent = if group.is_some() { "    " } else { "  " };
        if let Some(ns) = group {
            out.push_str(&format!("  subgraph ns_{}[\"{}\"]\n", sanitize(ns), label(&format!("namespace {ns}"))));
        }
        for d in decls {
            out.push_str(&format!("{indent}{}[\"{}\"]\n", id(d), label(&format!("{} {}", d.kind.as_str(), d.name))));
        }
        if group.is_some() {
            out.push_str("  end\n");
        }
    }
    for (from, to, reason) in edge_list(graph) {
        out.push_str(&format!("  {} -->|{}| {}\n", id(from), label(reason), id(to)));
    }
    out
}

/// The namespace whose subgraph holds a declaration: a namespace's own,
/// or the one a namespaced declaration is in.
fn namespace_of(decl: &Decl) -> Option<&str> {
    match decl.kind {
        DeclKind::Namespace => Some(&decl.name),
        _ => decl.namespace.as_deref(),
    }
}

/// A mermaid id per declaration, from its kind, namespace and name, made
/// unique with a counter in the rare case two sanitize alike.
fn node_ids(graph: &Graph) -> BTreeMap<&Decl, String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut ids = BTreeMap::new();
    let mut sorted: Vec<&Decl> = graph.order.iter().collect();
    sorted.sort();
    for d in sorted {
        let base = match &d.namespace {
            Some(ns) => format!("{}__{}__{}", d.kind.as_str(), sanitize(ns), sanitize(&d.name)),
            None => format!("{}__{}", d.kind.as_str(), sanitize(&d.name)),
        };
        let mut id = base.clone();
        let mut n = 2;
        while !taken.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        ids.insert(d, id);
    }
    ids
}

/// Text as part of a mermaid id: ASCII letters and digits, `_` for the rest.
fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// Text inside a quoted mermaid label or an edge label: quotes, angle
/// brackets, pipes and `#` become entity codes, line breaks spaces.
fn label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_ids_are_escaped() {
        assert_eq!(label("a \"b\" <c> | #d"), "a #quot;b#quot; #lt;c#gt; #124; #35;d");
        assert_eq!(sanitize("demo-ha/x.yaml"), "demo_ha_x_yaml");
    }
}
