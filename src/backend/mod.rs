//! Backends: each turns the checked model into artifacts for one target.
//!
//! **Architecture Invariant:** backends never read one another's output. They
//! return [`Artifacts`]: Kubernetes objects placed in a unit folder, and plain
//! files at fixed paths. [`crate::layout`] names the files and writes the
//! kustomizations; it is the one place that knows the tree's layout.

pub mod k3s;
pub mod k8s;
pub mod kind;
pub mod metallb;
pub mod netpol;
pub mod registry;

use serde::Serialize;

use crate::model::Model;

/// A Kubernetes object, to be written as `<kind>-<name>.yaml` in its unit folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The unit folder, e.g. `configs/metallb` or `apps/demo/web`.
    pub unit: String,
    /// The object (apiVersion, kind, metadata, ...).
    pub value: serde_json::Value,
}

impl Object {
    /// An object from any serializable value.
    pub fn new(unit: impl Into<String>, value: &impl Serialize) -> Object {
        Object { unit: unit.into(), value: serde_json::to_value(value).expect("backend objects serialize to JSON") }
    }
}

/// A plain file at a fixed path of the tree (not a Kubernetes object).
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Path relative to the output folder.
    pub path: String,
    /// Its value, rendered as YAML by the layout.
    pub value: serde_json::Value,
}

impl File {
    /// A file from any serializable value.
    pub fn new(path: impl Into<String>, value: &impl Serialize) -> File {
        File { path: path.into(), value: serde_json::to_value(value).expect("backend files serialize to JSON") }
    }
}

/// What the backends produce.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// Kubernetes objects.
    pub objects: Vec<Object>,
    /// Plain files.
    pub files: Vec<File>,
}

/// Metadata of a namespaced or cluster-scoped object.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Metadata {
    /// Name.
    pub name: String,
    /// Namespace, for namespaced objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
}

impl Metadata {
    /// Metadata with a name and namespace, labelled as managed by homelabc.
    pub fn namespaced(name: &str, namespace: &str) -> Metadata {
        Metadata { name: name.into(), namespace: Some(namespace.into()), labels: managed_labels() }
    }
}

/// The labels every object homelabc writes carries.
pub fn managed_labels() -> std::collections::BTreeMap<String, String> {
    [("app.kubernetes.io/managed-by".to_string(), "homelabc".to_string())].into_iter().collect()
}

/// Runs every backend that applies to the model.
pub fn emit(model: &Model) -> Artifacts {
    let mut out = Artifacts::default();
    k3s::emit(model, &mut out);
    k8s::emit(model, &mut out);
    kind::emit(model, &mut out);
    metallb::emit(model, &mut out);
    netpol::emit(model, &mut out);
    registry::emit(model, &mut out);
    out
}
