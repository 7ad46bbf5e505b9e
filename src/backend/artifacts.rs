//! What backends produce: Kubernetes objects that know the declaration they
//! were made for and their own identity, and the plain files of the tree.
//!
//! **Architecture Invariant:** an object is built typed and serialized once:
//! core kinds are k8s-openapi types, custom resources small
//! `#[derive(Serialize)]` bodies wrapped in [`Custom`], which writes their
//! `apiVersion` and `kind`. Objects are rendered as soon as their backend made
//! them ([`Object::rendered`]: the canonical YAML and what the output checks
//! see of it, [`crate::verify::refs::Seen`]), so that a large homelab never
//! holds every typed object at once; the layout renders the rest. Backends
//! say *what* an artifact is and which [`Unit`] or [`FilePlace`] it belongs
//! to; [`crate::layout`] alone turns those into paths.

use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::layout::{FilePlace, Unit};
use crate::model::DeclId;

/// The declarations an artifact was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The declarations, never empty; the first is the one a diagnostic about
    /// the artifact points at. Shared: an app's objects, and what the output
    /// checks keep of them, all have one origin.
    pub decls: std::sync::Arc<[DeclId]>,
    /// Made by default (a shipped dashboard, a default alert) rather than
    /// because the declarations asked for it: its unit is ordered by
    /// [`Artifacts::needs`], not by the dependencies of `decls`.
    pub by_default: bool,
}

impl Origin {
    /// Made for one declaration.
    pub fn of(decl: DeclId) -> Origin {
        Origin { decls: [decl].into(), by_default: false }
    }

    /// Made by default on behalf of a declaration.
    pub fn default_for(decl: DeclId) -> Origin {
        Origin { decls: [decl].into(), by_default: true }
    }

    /// Made by default for every one of `decls`, each once, in order (a
    /// dashboard of every app): linear, where folding [`Origin::and`] over
    /// thousands would not be. `None` when there are none.
    pub fn default_for_all(decls: impl IntoIterator<Item = DeclId>) -> Option<Origin> {
        let mut seen = std::collections::BTreeSet::new();
        let decls: Vec<DeclId> = decls.into_iter().filter(|d| seen.insert(d.clone())).collect();
        (!decls.is_empty()).then(|| Origin { decls: decls.into(), by_default: true })
    }

    /// Made for one more declaration too.
    pub fn and(self, decl: DeclId) -> Origin {
        if self.decls.contains(&decl) {
            return self;
        }
        let decls: Vec<DeclId> = self.decls.iter().cloned().chain([decl]).collect();
        Origin { decls: decls.into(), ..self }
    }

    /// The declaration a diagnostic about the artifact points at.
    pub fn primary(&self) -> &DeclId {
        &self.decls[0]
    }
}

/// The identity of a Kubernetes object, as the API server keys it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `apiVersion`: the type's own for a typed object (no copy per object).
    pub api_version: Cow<'static, str>,
    /// `kind`, likewise.
    pub kind: Cow<'static, str>,
    /// `metadata.namespace`, for namespaced objects.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectId {
    /// The identity from a group-qualified API version, a kind and metadata.
    pub fn from_meta(api_version: &'static str, kind: &'static str, metadata: &ObjectMeta) -> ObjectId {
        ObjectId {
            api_version: Cow::Borrowed(api_version),
            kind: Cow::Borrowed(kind),
            namespace: metadata.namespace.clone(),
            name: metadata.name.clone().unwrap_or_default(),
        }
    }
}

/// Anything that serializes to one JSON value, type-erased so that objects of
/// every type travel in one list and are serialized once, by the layout.
pub trait Render: Debug + Send + Sync {
    /// The value as JSON.
    fn to_json(&self) -> serde_json::Value;

    /// What `head` writes first (a schema line), then the value's canonical
    /// YAML written straight from it, in one string: what
    /// `yaml::render_json(&self.to_json())` writes after the head, or `None`
    /// where [`crate::yaml::render_straight_after`] declines (`refuse` said so
    /// of a string).
    fn to_yaml_after(&self, head: &dyn Fn(&mut String), refuse: &dyn Fn(&str) -> bool) -> Option<String>;

    /// The value's canonical YAML: written straight, else through its JSON.
    fn to_canonical(&self) -> String {
        self.to_canonical_after(&|_| {})
    }

    /// [`Render::to_canonical`], after what `head` writes first.
    fn to_canonical_after(&self, head: &dyn Fn(&mut String)) -> String {
        self.to_yaml_after(head, &|_| false).unwrap_or_else(|| crate::yaml::render_json_after(head, &self.to_json()))
    }
}

impl<T: Serialize + Debug + Send + Sync> Render for T {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("backend values serialize to JSON: string keys, no failing Serialize")
    }

    fn to_yaml_after(&self, head: &dyn Fn(&mut String), refuse: &dyn Fn(&str) -> bool) -> Option<String> {
        crate::yaml::render_straight_after(head, self, refuse)
    }
}

/// A typed Kubernetes object: it knows its own identity.
pub trait Resource: Render + 'static {
    /// Its apiVersion, kind, namespace and name.
    fn object_id(&self) -> ObjectId;

    /// Itself, for the readers that know its type (`refs::seen_typed`).
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<T> Resource for T
where
    T: k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta> + Serialize + Debug + Send + Sync + 'static,
{
    fn object_id(&self) -> ObjectId {
        ObjectId::from_meta(T::API_VERSION, T::KIND, self.metadata())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The body of a custom resource: every top-level field but `apiVersion`,
/// `kind` and `metadata` (usually just `spec`), and the API it belongs to.
pub trait CustomKind: Serialize + Debug + Send + Sync + 'static {
    /// `apiVersion`, e.g. `metallb.io/v1beta1`.
    const API_VERSION: &'static str;
    /// `kind`, e.g. `IPAddressPool`.
    const KIND: &'static str;
}

/// A custom resource (or a core kind k8s-openapi does not type, such as the
/// kustomize.config.k8s.io files): `apiVersion` and `kind` from its body's
/// type, then `metadata`, then the body's own fields.
#[derive(Debug)]
pub struct Custom<B: CustomKind> {
    /// Name, namespace, labels, annotations.
    pub metadata: ObjectMeta,
    /// The other top-level fields.
    pub body: B,
}

impl<B: CustomKind> Custom<B> {
    /// A custom resource.
    pub fn new(metadata: ObjectMeta, body: B) -> Custom<B> {
        Custom { metadata, body }
    }
}

impl<B: CustomKind> Serialize for Custom<B> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a, B> {
            api_version: &'static str,
            kind: &'static str,
            metadata: &'a ObjectMeta,
            #[serde(flatten)]
            body: &'a B,
        }
        Wire { api_version: B::API_VERSION, kind: B::KIND, metadata: &self.metadata, body: &self.body }
            .serialize(serializer)
    }
}

impl<B: CustomKind> Resource for Custom<B> {
    fn object_id(&self) -> ObjectId {
        ObjectId::from_meta(B::API_VERSION, B::KIND, &self.metadata)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// What an object is made of.
#[derive(Debug)]
pub enum Body {
    /// A typed object, serialized once, by the layout.
    Typed(Box<dyn Resource>),
    /// An object read from the user's YAML (a `manifest`), written back canonically.
    Parsed(serde_json::Value),
    /// An object whose bytes are copied as they are (an encrypted SOPS or
    /// sealed secret), with LF endings and a final newline.
    Verbatim(String),
    /// A typed object already serialized ([`Object::rendered`]): its file's
    /// text (the schema comment of its kind, then its canonical YAML) and what
    /// the output checks see of it.
    Rendered {
        /// The schema comment and the YAML document, in the string the
        /// layout puts in the tree as it is (no copy per object).
        text: String,
        /// The length of the schema comment `text` starts with (0 for a kind
        /// without a public schema): the YAML is `text[schema_line..]`.
        schema_line: usize,
        /// What [`crate::verify::refs::seen`] read of it; `None` when that is
        /// nothing (it makes, names and leaks nothing the checks follow).
        seen: Option<Box<crate::verify::refs::Seen>>,
    },
}

/// A Kubernetes object of the tree.
#[derive(Debug)]
pub struct Object {
    /// The declarations it was made for.
    pub origin: Origin,
    /// The GitOps unit it is applied with, shared by the objects made one
    /// after the other for it (an app's: [`Artifacts::object`]).
    pub unit: Arc<Unit>,
    /// Its apiVersion, kind, namespace and name.
    pub id: ObjectId,
    /// The object itself.
    pub body: Body,
}

impl Object {
    /// A typed object.
    pub fn new(origin: Origin, unit: impl Into<Arc<Unit>>, resource: impl Resource) -> Object {
        let id = resource.object_id();
        Object { origin, unit: unit.into(), id, body: Body::Typed(Box::new(resource)) }
    }

    /// The object with a typed body serialized now, once ([`Object::render`]).
    pub fn rendered(mut self) -> Object {
        self.render();
        self
    }

    /// Serializes a typed body now, once, in place: its canonical YAML and
    /// what the output checks see of it, which are all the layout and the
    /// checks need of it later. Other bodies are left as they are.
    pub fn render(&mut self) {
        let Body::Typed(resource) = &self.body else { return };
        // Most objects are written straight, their strings scanned for
        // credentials on the way: the kinds whose body names nothing the
        // closed world follows, and those it reads from their typed body.
        // The others, and an object holding a string that looks like a
        // credential (located in the JSON), go through their JSON.
        let refuse = |text: &str| crate::leaks::find(text).is_some();
        // The file's schema comment is written first, in the document's own
        // string, which the layout then moves into the tree.
        let (api_version, kind) = (&self.id.api_version, &self.id.kind);
        let schema_line = std::cell::Cell::new(0);
        let head = |out: &mut String| {
            crate::layout::schema::push_comment(out, api_version, kind);
            schema_line.set(out.len());
        };
        let straight = if !crate::verify::refs::reads_body(&self.id) {
            resource.to_yaml_after(&head, &refuse).map(|text| (text, crate::verify::refs::seen_clean(self)))
        } else {
            crate::verify::refs::seen_typed(self, resource.as_any())
                .and_then(|seen| Some((resource.to_yaml_after(&head, &refuse)?, seen)))
        };
        let (text, seen) = match straight {
            Some((text, seen)) => {
                if cfg!(debug_assertions) {
                    let json = crate::verify::refs::seen(self, &resource.to_json());
                    debug_assert_eq!((&seen.provides, &seen.needs), (&json.provides, &json.needs), "{:?}", self.id);
                }
                (text, seen.kept())
            }
            None => {
                let value = resource.to_json();
                let seen = crate::verify::refs::seen(self, &value).kept();
                (crate::yaml::render_json_after(&head, &value), seen)
            }
        };
        self.body = Body::Rendered { text, schema_line: schema_line.get(), seen };
    }

    /// An object as JSON, for checks and tests (the layout renders it from this).
    /// A verbatim or rendered object is parsed; `Null` when its text is not YAML.
    pub fn value(&self) -> serde_json::Value {
        match &self.body {
            Body::Typed(resource) => resource.to_json(),
            Body::Parsed(value) => value.clone(),
            Body::Verbatim(text) | Body::Rendered { text, .. } => crate::yaml::parse_documents(text)
                .ok()
                .and_then(|docs| docs.into_iter().next())
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// What a plain file holds.
#[derive(Debug)]
pub enum Content {
    /// One YAML document, after a comment header (empty for none).
    Yaml {
        /// Comment lines, each ending in a newline.
        header: String,
        /// The document.
        body: Box<dyn Render>,
    },
    /// Several YAML documents, separated by `---`.
    Documents(Vec<Box<dyn Render>>),
    /// Text written as it is (the inventory, `.sops.yaml`).
    Text(String),
}

impl Content {
    /// One YAML document without header.
    pub fn yaml(body: impl Render + 'static) -> Content {
        Content::Yaml { header: String::new(), body: Box::new(body) }
    }
}

/// A file of the tree that is not one Kubernetes object: node configs, CI
/// files, the inventory.
#[derive(Debug)]
pub struct File {
    /// The declarations it was made for.
    pub origin: Origin,
    /// What it is; the layout knows where that goes.
    pub place: FilePlace,
    /// What it holds.
    pub content: Content,
}

/// What the backends produce.
#[derive(Debug, Default)]
pub struct Artifacts {
    /// Kubernetes objects.
    pub objects: Vec<Object>,
    /// Plain files.
    pub files: Vec<File>,
    /// Orderings no declaration's edge gives, for objects the compiler adds
    /// by default: the unit is applied after the units of the declaration.
    pub needs: Vec<(Unit, DeclId)>,
    /// The unit of the last object added, which the next one likely shares.
    last_unit: Option<Arc<Unit>>,
    /// The objects before this index are serialized (or were never typed).
    typed_from: usize,
}

/// How many typed objects [`Artifacts::object`] lets wait before it
/// serializes them: a backend making one per app (an ExternalSecret each)
/// never holds them all typed.
const TYPED_AT_MOST: usize = 4096;

impl Artifacts {
    /// Adds a typed object.
    pub fn object(&mut self, origin: &Origin, unit: &Unit, resource: impl Resource) {
        let unit = match &self.last_unit {
            Some(last) if **last == *unit => Arc::clone(last),
            _ => self.last_unit.insert(Arc::new(unit.clone())).clone(),
        };
        self.objects.push(Object::new(origin.clone(), unit, resource));
        if self.objects.len() - self.typed_from >= TYPED_AT_MOST {
            self.render_from(self.typed_from);
        }
    }

    /// Serializes the objects from index `from` on, on every core
    /// ([`Object::render`]), in place.
    pub fn render_from(&mut self, from: usize) {
        if let Some(made) = self.objects.get_mut(from..) {
            crate::par::for_each_mut(made, Object::render);
        }
        if from <= self.typed_from {
            self.typed_from = self.objects.len();
        }
    }

    /// The artifacts of `parts`, one after the other (the backends' of a
    /// cluster, the clusters' and the whole description's). The objects are
    /// moved once, into a list of their number; when one part made them all
    /// (a cluster's, most of a build's memory), its list is kept as it is.
    pub fn joined(parts: Vec<Artifacts>) -> Artifacts {
        let mut whole = Artifacts::default();
        let count = |of: fn(&Artifacts) -> usize| parts.iter().map(of).sum::<usize>();
        let several = parts.iter().filter(|part| !part.objects.is_empty()).count() > 1;
        if several {
            whole.objects.reserve_exact(count(|part| part.objects.len()));
        }
        whole.files.reserve_exact(count(|part| part.files.len()));
        whole.needs.reserve_exact(count(|part| part.needs.len()));
        // The first object a part left typed, where the whole's are.
        let mut typed_from = None;
        for part in parts {
            if typed_from.is_none() && part.typed_from < part.objects.len() {
                typed_from = Some(whole.objects.len() + part.typed_from);
            }
            if several {
                whole.objects.extend(part.objects);
            } else if !part.objects.is_empty() {
                whole.objects = part.objects;
            }
            whole.files.extend(part.files);
            whole.needs.extend(part.needs);
        }
        whole.typed_from = typed_from.unwrap_or(whole.objects.len());
        whole
    }

    /// Adds a plain file.
    pub fn file(&mut self, origin: &Origin, place: FilePlace, content: Content) {
        self.files.push(File { origin: origin.clone(), place, content });
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;

    use super::*;
    use crate::model::DeclKind;

    /// A backend making thousands of objects has them serialized as it goes,
    /// a batch at a time; the last, short batch waits for `render_from`.
    #[test]
    fn typed_objects_wait_a_batch_at_most() {
        let origin = Origin::of(DeclId::new(DeclKind::Namespace, None, None, "shop"));
        let unit = Unit { scope: None, folder: crate::layout::Folder::Namespace("shop".into()) };
        let mut out = Artifacts::default();
        let typed = |out: &Artifacts| out.objects.iter().filter(|o| matches!(o.body, Body::Typed(_))).count();
        for i in 0..TYPED_AT_MOST + 10 {
            let metadata =
                ObjectMeta { name: Some(format!("c{i}")), namespace: Some("shop".into()), ..ObjectMeta::default() };
            out.object(&origin, &unit, ConfigMap { metadata, ..ConfigMap::default() });
            assert!(typed(&out) < TYPED_AT_MOST, "at most a batch waits");
        }
        assert_eq!(typed(&out), 10);
        out.render_from(TYPED_AT_MOST);
        assert_eq!(typed(&out), 0);
        assert!(out.objects.iter().all(|o| Arc::ptr_eq(&o.unit, &out.objects[0].unit)), "one unit, shared");
    }

    /// Artifacts made apart are joined in the parts' order, as if one
    /// backend after the other had added them to one list; a list made whole
    /// by one part is moved, not copied.
    #[test]
    fn parts_are_joined_in_their_order() {
        let origin = Origin::of(DeclId::new(DeclKind::Namespace, None, None, "shop"));
        let unit = Unit { scope: None, folder: crate::layout::Folder::Namespace("shop".into()) };
        let part = |names: &[&str]| {
            let mut out = Artifacts::default();
            for name in names {
                let metadata = ObjectMeta { name: Some(name.to_string()), ..ObjectMeta::default() };
                out.object(&origin, &unit, ConfigMap { metadata, ..ConfigMap::default() });
                out.needs.push((unit.clone(), origin.decls[0].clone()));
            }
            out.file(&origin, FilePlace::Inventory, Content::Text(names.concat()));
            out.render_from(0);
            out
        };
        let names = |out: &Artifacts| out.objects.iter().map(|o| o.id.name.clone()).collect::<Vec<_>>();
        let whole = Artifacts::joined(vec![part(&["a", "b"]), part(&[]), part(&["c"])]);
        assert_eq!(names(&whole), ["a", "b", "c"]);
        assert_eq!(whole.objects.capacity(), 3, "one list of their number");
        let texts: Vec<_> = (whole.files.iter())
            .map(|f| match &f.content {
                Content::Text(text) => text.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, ["ab", "", "c"]);
        assert_eq!(whole.needs.len(), 3);
        assert_eq!(whole.typed_from, 3, "every part's objects were serialized");
        let alone = part(&["d", "e", "f", "g", "h"]);
        let list = alone.objects.as_ptr();
        let whole = Artifacts::joined(vec![part(&[]), alone, Artifacts::default()]);
        assert_eq!(names(&whole), ["d", "e", "f", "g", "h"]);
        assert_eq!(whole.objects.as_ptr(), list, "moved, not copied");
        // A part's objects left typed (the GitOps wiring's) stay to be serialized.
        let mut typed = part(&["i", "j"]);
        typed.object(&origin, &unit, ConfigMap::default());
        let whole = Artifacts::joined(vec![part(&["x"]), typed, part(&["y"])]);
        assert_eq!(whole.typed_from, 3, "the first typed object, where the whole list has it");
    }

    /// A rendered object's text is its file's: the schema line of its kind,
    /// then its YAML, whether written straight or (a string that looks like a
    /// credential) through its JSON; a kind without a public schema has none.
    #[test]
    fn a_rendered_object_starts_with_its_schema_line() {
        let origin = Origin::of(DeclId::new(DeclKind::Namespace, None, None, "shop"));
        let unit = Unit { scope: None, folder: crate::layout::Folder::Namespace("shop".into()) };
        let metadata = ObjectMeta { name: Some("c".into()), namespace: Some("shop".into()), ..ObjectMeta::default() };
        let map = |value: &str| Some([("url".to_string(), value.to_string())].into());
        let leaky = "postgres://app:hunter2hunter2@db:5432/app";
        assert!(crate::leaks::find(leaky).is_some(), "goes through the JSON");
        let mut schema = String::new();
        crate::layout::schema::push_comment(&mut schema, "v1", "ConfigMap");
        assert!(schema.starts_with("# yaml-language-server: $schema=") && schema.ends_with('\n'));
        for value in ["plain", leaky] {
            let config = ConfigMap { metadata: metadata.clone(), data: map(value), ..ConfigMap::default() };
            let yaml = crate::yaml::render(&config);
            let object = Object::new(origin.clone(), unit.clone(), config).rendered();
            let Body::Rendered { text, schema_line, .. } = &object.body else { panic!("rendered") };
            assert_eq!((&text[..*schema_line], &text[*schema_line..]), (schema.as_str(), yaml.as_str()), "{value}");
        }
        let custom = Custom::new(metadata, Unschemed { spec: "x" });
        let object = Object::new(origin, unit, custom).rendered();
        let Body::Rendered { text, schema_line, .. } = &object.body else { panic!("rendered") };
        assert_eq!(*schema_line, 0);
        assert!(text.starts_with("apiVersion: example.invalid/v1\n"), "{text}");
    }

    /// A custom kind no schema is published for.
    #[derive(Debug, Serialize)]
    struct Unschemed {
        spec: &'static str,
    }

    impl CustomKind for Unschemed {
        const API_VERSION: &'static str = "example.invalid/v1";
        const KIND: &'static str = "Unschemed";
    }
}
