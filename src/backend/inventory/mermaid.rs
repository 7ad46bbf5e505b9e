//! `## Dependency graph`: the graph as a mermaid flowchart, which GitHub and
//! most Markdown viewers draw. One subgraph per namespace holds the
//! namespace and its declarations; cluster-wide ones stand outside.

use std::collections::{BTreeMap, BTreeSet};

use super::heading;
use crate::graph::{Decl, DeclKind, Graph, edge_list};

/// What mermaid draws at most with its default settings (`maxTextSize`,
/// `maxEdges`): a larger diagram shows an error instead of the graph.
const MAX_TEXT: usize = 50_000;
const MAX_EDGES: usize = 500;

/// Appends the section; nothing for an empty graph. A graph too large for
/// mermaid is drawn one node per namespace; when even that is too large, the
/// section says so and points at `homelabc graph`.
pub fn section(graph: &Graph, out: &mut String) {
    if graph.order().len() == 0 {
        return;
    }
    heading(out, "Dependency graph");
    let edges = edge_list(graph);
    // The whole chart is drawn only when its edges are few enough for mermaid
    // (at 10,000 apps it was 2% of a build, to be thrown away).
    let full = (edges.len() <= MAX_EDGES).then(|| flowchart(graph)).filter(|full| full.len() <= MAX_TEXT);
    let (intro, chart) = if let Some(full) = full {
        ("An arrow from a declaration points at what it needs first.".to_string(), Some(full))
    } else {
        let size = format!(
            "The graph has {} declarations and {} edges, more than mermaid draws",
            graph.order().len(),
            edges.len()
        );
        match namespaces_flowchart(graph, &edges) {
            Some(chart) => (
                format!(
                    "{size}: here each namespace is one box, and an arrow says how many of its declarations \
                     need something in the other. `homelabc graph` prints every declaration."
                ),
                Some(chart),
            ),
            None => (format!("{size}, even one box per namespace. `homelabc graph` prints it."), None),
        }
    };
    out.push_str(&intro);
    out.push_str("\n\n");
    if let Some(chart) = chart {
        out.push_str("```mermaid\n");
        out.push_str(&chart);
        out.push_str("```\n\n");
    }
}

/// The graph with one node per namespace (and one for the cluster-wide
/// declarations), edges counted; `None` when that is still too large.
fn namespaces_flowchart(graph: &Graph, decl_edges: &[(&Decl, &Decl, &'static str)]) -> Option<String> {
    const CLUSTER_WIDE: &str = "cluster-wide";
    // Each box is a namespace (`None`: the cluster-wide declarations, which
    // sort first, as their box's name does), named only when written.
    let name = |group: Option<&str>| group.map_or_else(|| CLUSTER_WIDE.to_string(), |ns| format!("namespace {ns}"));
    let mut sizes: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for d in graph.order() {
        *sizes.entry(namespace_of(d)).or_default() += 1;
    }
    let mut edges: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
    for (from, to, _) in decl_edges {
        let (a, b) = (namespace_of(from), namespace_of(to));
        if a != b {
            *edges.entry((a, b)).or_default() += 1;
        }
    }
    let mut out = String::from("flowchart LR\n");
    for (&group, size) in &sizes {
        let name = name(group);
        out.push_str(&format!("  {}[\"{} ({size})\"]\n", sanitize(&name), label(&name)));
    }
    for (&(a, b), n) in &edges {
        out.push_str(&format!("  {} -->|{n}| {}\n", sanitize(&name(a)), sanitize(&name(b))));
    }
    (out.len() <= MAX_TEXT && edges.len() <= MAX_EDGES).then_some(out)
}

/// The flowchart text, declarations in dependency order.
pub fn flowchart(graph: &Graph) -> String {
    let ids = node_ids(graph);
    let id = |d: &Decl| ids.get(d).map_or("", String::as_str);
    let mut groups: BTreeMap<Option<&str>, Vec<&Decl>> = BTreeMap::new();
    for d in graph.order() {
        groups.entry(namespace_of(d)).or_default().push(d);
    }
    let mut out = String::from("flowchart LR\n");
    for (group, decls) in &groups {
        let indent = if group.is_some() { "    " } else { "  " };
        if let Some(ns) = group {
            out.push_str(&format!("  subgraph ns_{}[\"{}\"]\n", sanitize(ns), label(&format!("namespace {ns}"))));
        }
        for d in decls {
            out.push_str(&format!("{indent}{}[\"{}\"]\n", id(d), label(&d.label())));
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
    let mut sorted: Vec<&Decl> = graph.order().collect();
    sorted.sort();
    for d in sorted {
        let mut base = d.kind.noun().to_string();
        for part in [&d.cluster, &d.namespace].into_iter().flatten() {
            base.push_str("__");
            base.push_str(&sanitize(part));
        }
        base.push_str("__");
        base.push_str(&sanitize(&d.name));
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
