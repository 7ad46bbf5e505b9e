//! Checks of the compiler's own output, after the backends and before the
//! layout writes anything: what the backends made must fit together as a
//! cluster will read it. Every problem points back at the declaration that
//! produced the object ([`crate::backend::Origin`]).
//!
//! No two objects share an identity or a file (E0209, before the layout);
//! every name an object uses is made by the tree or declared as existing
//! outside it (E1001–E1004, [`world`], on what the layout shows [`refs::seen`]
//! as it serializes each object).

mod index;
pub mod refs;
mod world;

use std::collections::BTreeMap;

use self::index::HashIndex;
use crate::backend::{Artifacts, Body, Object, ObjectId};
use crate::diag::{Code, Diagnostic};
use crate::model::{DeclId, Model};
use crate::source::Span;

/// What the checks of the output need of the description, taken from it
/// before the layout: where each declaration was written, and what each
/// cluster has besides its objects. A build that writes its tree frees the
/// model once the backends ran (`driver::build_lean`); this stays.
pub struct World {
    spans: Spans,
    given: world::Given,
}

impl World {
    /// `whole`: the description; `clusters`: the models the backends ran on.
    pub fn new(whole: &Model, clusters: &[&Model]) -> World {
        World { spans: Spans::new(whole), given: world::Given::of(clusters) }
    }
}

/// Checks the artifacts of a build before they are laid out: clashes, and
/// credentials in the plain files.
pub fn verify(world: &World, artifacts: &Artifacts) -> Vec<Diagnostic> {
    let spans = &world.spans;
    let mut diags = Vec::new();
    clashes(&artifacts.objects, spans, &mut diags);
    for file in &artifacts.files {
        let (path, text) = crate::layout::render_file(file);
        if let Some((line, leak)) = crate::leaks::in_text(&text) {
            let at = spans.0.get(file.origin.primary()).copied();
            diags.push(leaked(format!("file `{path}`"), format!("line {line}"), leak, &file.origin, at));
        }
    }
    diags
}

/// The closed-world check over what the layout saw of every object, and the
/// credentials seen in them.
pub fn closed_world(world: &World, seen: &[Box<refs::Seen>]) -> Vec<Diagnostic> {
    let spans = &world.spans;
    let mut diags = Vec::new();
    world::check(&world.given, seen, spans, &mut diags);
    for object in seen {
        if let (Some((path, leak)), Some(origin)) = (&object.leak, &object.origin) {
            let at = origin.decls.iter().find_map(|d| spans.0.get(d).copied());
            diags.push(leaked(object.describe.clone(), format!("`{path}`"), *leak, origin, at));
        }
    }
    diags
}

/// E0613: the net behind the checks of the description, for a credential
/// that reached the output another way. Names where it is, never what.
fn leaked(
    what: String,
    at: String,
    leak: crate::leaks::Leak,
    origin: &crate::backend::Origin,
    span: Option<Span>,
) -> Diagnostic {
    let made_for = origin.primary().describe();
    let diag = Diagnostic::new(Code::E0613, format!("{what} would hold {} at {at}", leak.what()))
        .help(format!(
            "find where {made_for} gets this value and give it through a `secret`: homelabc never writes a \
             credential into the tree"
        ))
        .note("If the value was ever committed, rotate it: the Git history keeps it.");
    match span {
        Some(span) => diag.primary(span, format!("{what} is made for {made_for}")),
        None => diag.note(format!("{what} is made for {made_for}")),
    }
}

/// Where each declaration was written, to point diagnostics about objects at.
pub struct Spans(BTreeMap<DeclId, Span>);

impl Spans {
    fn new(model: &Model) -> Spans {
        Spans(model.declarations().into_iter().map(|d| (d.id, d.name_span)).collect())
    }

    /// Objects in the order of the declarations they were made for (those
    /// the user wrote, in the order written, then the others by identity):
    /// what a diagnostic says of them does not hang on the order the
    /// backends made them in.
    fn sort(&self, objects: &mut [&Object]) {
        objects.sort_by_cached_key(|o| {
            let span = self.of(o).map(|(span, _)| span);
            (span.is_none(), span, o.id.clone())
        });
    }

    /// The first declaration of an object's origin that the user wrote.
    fn of<'a>(&'a self, object: &'a Object) -> Option<(Span, &'a DeclId)> {
        object.origin.decls.iter().find_map(|d| self.0.get(d).map(|span| (*span, d)))
    }
}

/// `kind/namespace/name`, as people name objects.
fn describe(id: &ObjectId) -> String {
    match &id.namespace {
        Some(ns) => format!("{} `{ns}/{}`", id.kind, id.name),
        None => format!("{} `{}`", id.kind, id.name),
    }
}

/// E0209 for objects that share an identity, or a file of the tree.
fn clashes(objects: &[Object], spans: &Spans, diags: &mut Vec<Diagnostic>) {
    // Objects of different clusters live on different API servers. Indexed
    // by identity, the objects that share one are found together.
    let by_id = HashIndex::new(objects.iter().enumerate().map(|(i, o)| ((o.unit.cluster(), &o.id), i)));
    for ((_, id), group) in by_id.repeated() {
        let mut group: Vec<&Object> = group.into_iter().map(|&i| &objects[i]).collect();
        spans.sort(&mut group);
        diags.push(clash(format!("two objects are {}", describe(id)), &group, spans));
    }
    drop(by_id);
    // The compiler's own objects of one unit differ in kind or name; only a
    // manifest's (another API group's kind, another namespace of a
    // component's unit) can land on the file of an object of another identity.
    if !objects.iter().any(|o| matches!(o.body, Body::Parsed(_))) {
        return;
    }
    let mut by_path: BTreeMap<String, Vec<&Object>> = BTreeMap::new();
    for object in objects {
        by_path.entry(crate::layout::object_path(object)).or_default().push(object);
    }
    // A file of objects of more than one identity (those of one identity
    // are reported above), each identity named once, with its API version:
    // two kinds of one name in two API groups read alike.
    for (path, group) in by_path.iter_mut().filter(|(_, g)| g.iter().any(|o| o.id != g[0].id)) {
        spans.sort(group);
        let mut ids: Vec<&ObjectId> = Vec::with_capacity(group.len());
        for object in group.iter() {
            if !ids.contains(&&object.id) {
                ids.push(&object.id);
            }
        }
        let what = ids.iter().map(|id| format!("{} ({})", describe(id), id.api_version)).collect::<Vec<_>>();
        let all = if what.len() == 2 { "both" } else { "all" };
        diags.push(clash(format!("{} would {all} be written to `{path}`", what.join(" and ")), group, spans));
    }
}

/// The diagnostic for a group of clashing objects: at the declaration of the
/// last one the user wrote, with the others as context.
fn clash(message: String, group: &[&Object], spans: &Spans) -> Diagnostic {
    let mut located: Vec<(Span, &DeclId)> = group.iter().filter_map(|o| spans.of(o)).collect();
    located.sort();
    located.dedup();
    let mut diag = Diagnostic::new(Code::E0209, message).help(
        "an object can come from one declaration only: remove it from the manifest, or rename one of the declarations",
    );
    if let Some(((span, decl), rest)) = located.split_last() {
        diag = diag.primary(*span, format!("{} makes it", decl.describe()));
        for (span, decl) in rest {
            diag = diag.secondary(*span, format!("{} makes it too", decl.describe()));
        }
    }
    let makers: Vec<String> = group.iter().map(|o| o.origin.primary().describe()).collect();
    diag.note(format!("made for {}", makers.join(" and ")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::Origin;
    use crate::diag;
    use crate::layout::{Folder, Unit};
    use crate::model::DeclKind;

    /// An object of `api_version`, kind Namespace, named `shop`, in the
    /// namespace's unit; a manifest's when `parsed`.
    fn namespace(api_version: &'static str, parsed: bool, made_for: &str) -> Object {
        let id = ObjectId {
            api_version: api_version.into(),
            kind: "Namespace".into(),
            namespace: None,
            name: "shop".to_string(),
        };
        let body = match parsed {
            true => Body::Parsed(serde_json::json!({ "apiVersion": api_version, "kind": "Namespace" })),
            false => Body::Verbatim(String::new()),
        };
        let origin = Origin::of(DeclId::new(DeclKind::Manifest, None, None, made_for));
        let unit = Arc::new(Unit { scope: None, folder: Folder::Namespace("shop".into()) });
        Object { origin, unit, id, body }
    }

    /// Objects that share a file are reported whatever the order they were
    /// made in: two of one identity and a third of another are one clash of
    /// identity and one of the file, each identity named once.
    #[test]
    fn a_file_clash_does_not_hang_on_the_objects_order() {
        let spans = Spans(BTreeMap::new());
        let made = [namespace("v1", false, "a"), namespace("v1", true, "b"), namespace("example.com/v1", true, "c")];
        let mut messages = Vec::new();
        for order in [[0, 1, 2], [0, 2, 1], [2, 1, 0]] {
            let objects: Vec<Object> = order.iter().map(|&i| clone(&made[i])).collect();
            let mut diags = Vec::new();
            clashes(&objects, &spans, &mut diags);
            diag::sort(&mut diags);
            messages.push(diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>());
        }
        let path = crate::layout::object_path(&made[0]);
        assert_eq!(
            messages[0],
            [
                format!(
                    "Namespace `shop` (example.com/v1) and Namespace `shop` (v1) would both be written to `{path}`"
                ),
                "two objects are Namespace `shop`".to_string(),
            ]
        );
        assert!(messages.iter().all(|m| *m == messages[0]), "{messages:#?}");
    }

    fn clone(object: &Object) -> Object {
        let body = match &object.body {
            Body::Parsed(value) => Body::Parsed(value.clone()),
            _ => Body::Verbatim(String::new()),
        };
        Object { origin: object.origin.clone(), unit: Arc::clone(&object.unit), id: object.id.clone(), body }
    }
}
