//! The layout of the output tree (SPEC §4): the one module that names files.
//!
//! Backends place objects in [`Unit`]s and files at [`FilePlace`]s;
//! [`place`] turns both into paths. Objects become `<unit>/<kind>-<name>.yaml`,
//! one object per file, and every unit folder gets a `kustomization.yaml`
//! listing its files, so `kubectl kustomize` builds each unit on its own.
//! Everything is rendered through [`crate::yaml`], each object serialized
//! once: here, or by its backend as soon as it made it ([`Object::rendered`]).

mod place;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use place::{
    FilePlace, Folder, Unit, ci_destination, cluster_of, dashboard_config_map, node_folder, object_file_name,
    unit_object_path,
};

use crate::backend::{Artifacts, Body, Content, File, Object};
use crate::output::OutputTree;
use crate::par;
use crate::verify::refs::{self, Seen};
use crate::yaml;

/// The name of the kustomization file of a unit folder.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
}

/// The entries of every unit's kustomization, by unit path.
#[derive(Default)]
struct Listing(BTreeMap<String, (Option<Unit>, Vec<String>)>);

impl Listing {
    /// Lists a file or folder (relative to the unit's folder) in a unit.
    fn list(&mut self, unit: &Unit, entry: String) {
        let part_of = unit.listed_by().map(|_| unit.clone());
        self.list_at(&unit.path(), part_of, [entry]);
    }

    /// Lists files in the unit at `folder`; `part_of` is the unit when it is
    /// part of another unit's folder (the others need not be kept).
    fn list_at(&mut self, folder: &str, part_of: Option<Unit>, entries: impl IntoIterator<Item = String>) {
        // One lookup for every run of files but a unit's first.
        if let Some(slot) = self.0.get_mut(folder) {
            if slot.0.is_none() {
                slot.0 = part_of;
            }
            slot.1.extend(entries);
            return;
        }
        self.0.insert(folder.to_string(), (part_of, entries.into_iter().collect()));
    }
}

/// How the tree is written.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Each object file (and unit `kustomization.yaml`) starts with the
    /// `# yaml-language-server: $schema=` line of its kind, where a public
    /// schema exists (`schema.rs`); `build --no-schema-comments` leaves it out.
    pub schema_comments: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { schema_comments: true }
    }
}

/// The path of an object in the tree.
pub fn object_path(object: &Object) -> String {
    unit_object_path(&object.unit, &object.id.kind, &object.id.name)
}

/// An object's file text: the schema comment of its kind (unless
/// `--no-schema-comments`), then its YAML, written into one string: as it was
/// rendered early ([`Object::rendered`], the comment already in it), or
/// serialized (typed) or rendered (parsed) canonically now; or a verbatim
/// object's bytes as they are. With `inspect`, what the output checks see of
/// it ([`refs::seen`]) comes back too: read from its JSON (a verbatim one
/// parsed), or kept from when it was rendered.
fn render_object(mut object: Object, inspect: bool, options: Options) -> (String, Option<Box<Seen>>) {
    if inspect {
        // A typed object is rendered as the backends render theirs, with what the checks see of it.
        object.render();
    }
    let seen = match &object.body {
        Body::Parsed(value) if inspect => refs::seen(&object, value).kept(),
        Body::Verbatim(_) if inspect => refs::seen(&object, &object.value()).kept(),
        Body::Typed(_) | Body::Parsed(_) | Body::Verbatim(_) | Body::Rendered { .. } => None,
    };
    let Object { id, body, .. } = object;
    let head = |out: &mut String| {
        if options.schema_comments {
            schema::push_comment(out, &id.api_version, &id.kind);
        }
    };
    match body {
        // The user's bytes (SOPS files, manifests), as they are.
        Body::Verbatim(text) => (text, seen),
        Body::Rendered { mut text, schema_line, seen } => {
            if !options.schema_comments {
                text.replace_range(..schema_line, "");
            }
            (text, seen.filter(|_| inspect))
        }
        Body::Typed(resource) => (resource.to_canonical_after(&head), seen),
        Body::Parsed(value) => (yaml::render_json_after(&head, &value), seen),
    }
}

/// A plain file's path and text (for tests and checks; the layout renders
/// files as it moves them into the tree).
pub fn render_file(file: &File) -> (String, String) {
    let text = match &file.content {
        Content::Yaml { header, body } => format!("{header}{}", body.to_canonical()),
        Content::Documents(documents) => yaml::render_all(&documents.iter().map(|d| d.to_json()).collect::<Vec<_>>()),
        Content::Text(text) => text.clone(),
    };
    (file.place.path(), text)
}

/// A plain file's text.
fn file_text(content: Content) -> String {
    match content {
        Content::Yaml { header, body } => header + &body.to_canonical(),
        Content::Documents(documents) => yaml::render_all(&documents.iter().map(|d| d.to_json()).collect::<Vec<_>>()),
        Content::Text(text) => text,
    }
}

/// Lays the artifacts out as a tree. Two artifacts at one path are a bug in a
/// backend (user-level clashes are caught by the checks), reported as `Err`.
pub fn assemble(artifacts: Artifacts) -> Result<OutputTree, String> {
    tree_of(files_of(artifacts, false, Options::default()).0)
}

/// Files of a tree, each its path and its bytes.
pub type Files = Vec<(String, Vec<u8>)>;

/// The tree of the files [`files_of`] laid out; `Err` names a backend's bug
/// (two files at one path, a path the tree refuses).
pub fn tree_of(files: Files) -> Result<OutputTree, String> {
    OutputTree::from_files(files).map_err(|e| format!("{}: {e}", e.path))
}

/// An object as a layout worker leaves it: small, since every object of the
/// tree waits in this form until all are rendered.
struct Laid {
    /// Its path in the tree.
    path: String,
    /// The length of its folder's part of `path`.
    folder: usize,
    /// Its unit, when that is part of another unit's folder.
    part_of: Option<Arc<Unit>>,
    /// Its file's text.
    text: String,
    /// What the output checks see of it.
    seen: Option<Box<Seen>>,
}

/// Every file of the tree the artifacts make, each object's, each plain
/// file's and each unit's kustomization, in the order the tree refuses the
/// first bad path of ([`tree_of`]), and with `inspect`, what the output
/// checks see of every object ([`refs::seen`]), in the objects' order.
pub fn files_of(artifacts: Artifacts, inspect: bool, options: Options) -> (Files, Vec<Box<Seen>>) {
    let mut units = Listing::default();
    // Each object is rendered and freed by the worker that renders it.
    let rendered = par::map_owned(artifacts.objects, |object| {
        let mut path = String::with_capacity(64 + object.id.kind.len() + object.id.name.len());
        object.unit.push_path(&mut path);
        let folder = path.len();
        path.push('/');
        place::push_object_file_name(&mut path, &object.unit, &object.id.kind, &object.id.name);
        let part_of = object.unit.listed_by().map(|_| Arc::clone(&object.unit));
        let (text, seen) = render_object(object, inspect, options);
        Laid { path, folder, part_of, text, seen }
    });
    // Each object's file in its unit's listing: the objects of a folder
    // mostly come in a row (an app's), each row listed with one lookup.
    for run in rendered.chunk_by(|a, b| a.path[..a.folder] == b.path[..b.folder]) {
        let part_of = run.iter().find_map(|laid| laid.part_of.as_deref().cloned());
        let files = run.iter().map(|laid| laid.path[laid.folder + 1..].to_string());
        units.list_at(&run[0].path[..run[0].folder], part_of, files);
    }
    let mut seen = Vec::with_capacity(if inspect { rendered.len() } else { 0 });
    // Every file of the tree, in the order the tree refuses the first bad
    // path of (objects, plain files, kustomizations), made into one at once.
    // The objects' files take the place of what was laid out (collected in
    // place: a file is smaller than a `Laid`, so the rest fit after them).
    let mut written: Files = rendered
        .into_iter()
        .map(|laid| {
            seen.extend(laid.seen);
            (laid.path, laid.text.into_bytes())
        })
        .collect();
    for file in artifacts.files {
        if let Some(unit) = file.place.listed_by() {
            let path = file.place.path();
            let name = path.strip_prefix(&format!("{}/", unit.path())).unwrap_or(&path).to_string();
            units.list(&unit, name);
        }
        let path = file.place.path();
        written.push((path, file_text(file.content).into_bytes()));
    }
    // A unit that is part of another (Flux's sync objects in the cluster's
    // entry) is listed by that one's kustomization.
    let parts: Vec<(Unit, String)> = (units.0.values())
        .filter_map(|(child, _)| child.as_ref().and_then(|c| Some((c.listed_by()?, c.path()))))
        .collect();
    for (parent, child) in parts {
        let folder = child.strip_prefix(&format!("{}/", parent.path())).unwrap_or(&child).to_string();
        units.list(&parent, folder);
    }
    // Each unit's kustomization, on every core (a large homelab has one per app).
    let listed: Vec<_> = units.0.into_iter().collect();
    written.extend(par::map_owned(listed, |(path, (_, mut files))| {
        files.sort();
        files.dedup();
        let kustomization =
            Kustomization { api_version: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: files };
        let mut text = String::new();
        if options.schema_comments {
            schema::push_comment(&mut text, kustomization.api_version, kustomization.kind);
        }
        text.push_str(&yaml::render(&kustomization));
        (format!("{path}/{KUSTOMIZATION}"), text.into_bytes())
    }));
    (written, seen)
}
