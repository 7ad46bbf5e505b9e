//! What the inventory reads in Helm values: LoadBalancer Services
//! and MetalLB pool annotations, each found with its dotted path.

use crate::model::{Value, ValueKind};

/// The mappings with `type: LoadBalancer` (a Service's settings), with their
/// path and the MetalLB pool their `annotations` name, if any.
pub fn load_balancers(value: &Value) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    walk(value, "", &mut |path, map| {
        let lb = map.get("type").is_some_and(|(_, t)| t.kind == ValueKind::String("LoadBalancer".into()));
        if lb {
            let pool = map.get("annotations").and_then(|(_, a)| pool_annotation(a));
            out.push((path.to_string(), pool));
        }
    });
    out
}

/// Whether a values tree annotates something with MetalLB pool `pool`.
pub fn names_pool(value: &Value, pool: &str) -> bool {
    let mut found = false;
    walk(value, "", &mut |_, map| {
        found |= map.iter().any(|(key, (_, v))| is_pool_key(key) && v.kind == ValueKind::String(pool.into()));
    });
    found
}

/// The pool an `annotations` mapping names.
fn pool_annotation(annotations: &Value) -> Option<String> {
    let ValueKind::Map(map) = &annotations.kind else { return None };
    map.iter().find(|(key, _)| is_pool_key(key)).and_then(|(_, (_, v))| v.kind.scalar_text())
}

/// `metallb.io/address-pool` and its older `metallb.universe.tf/` spelling.
fn is_pool_key(key: &str) -> bool {
    key.starts_with("metallb.") && key.ends_with("/address-pool")
}

type Map = std::collections::BTreeMap<String, (crate::source::Span, Value)>;

/// Calls `visit` on every mapping of the tree with its dotted path, parents first.
fn walk(value: &Value, path: &str, visit: &mut impl FnMut(&str, &Map)) {
    match &value.kind {
        ValueKind::Map(map) => {
            visit(path, map);
            for (key, (_, child)) in map {
                walk(child, &join(path, key), visit);
            }
        }
        ValueKind::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), visit);
            }
        }
        _ => {}
    }
}

/// `path.key`, or `key` at the root.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}
