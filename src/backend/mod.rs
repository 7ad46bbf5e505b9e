//! Backends: each turns the checked model into artifacts for one target.
//!
//! **Architecture Invariant:** backends never read one another's output. They
//! return [`Artifacts`]: Kubernetes objects placed in a unit folder, and plain
//! files at fixed paths. [`crate::layout`] names the files and writes the
//! kustomizations; it is the one place that knows the tree's layout.

pub mod charts;
pub mod gitops;
pub mod grafana;
pub mod inventory;
pub mod k3s;
pub mod k8s;
pub mod kind;
pub mod metallb;
pub mod netpol;
pub mod pipelines;
pub mod prometheus;
pub mod registry;
pub mod secrets;

use serde::Serialize;

use crate::graph::Graph;
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

/// A file written byte for byte (an encrypted secret copied in, a
/// multi-document file), optionally listed in its folder's kustomization.
#[derive(Clone, Debug, PartialEq)]
pub struct RawFile {
    /// The unit folder that lists it in its `kustomization.yaml`, or `None`
    /// for a file no kustomization lists.
    pub unit: Option<String>,
    /// Path relative to the unit folder (or to the output folder when `unit` is `None`).
    pub path: String,
    /// The exact contents.
    pub text: String,
}

/// What the backends produce.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    /// Kubernetes objects.
    pub objects: Vec<Object>,
    /// Plain files.
    pub files: Vec<File>,
    /// Files written as they are.
    pub raw: Vec<RawFile>,
    /// Sub-folders a unit's kustomization lists besides its files: (unit, folder name).
    pub nested: Vec<(String, String)>,
    /// Orderings between units that no declaration's edge gives, for objects
    /// the compiler adds by default: (unit, unit it is applied after).
    pub needs: Vec<(String, String)>,
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

/// `host:port`, with brackets around an IPv6 address.
pub fn host_port(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The labels every object homelabc writes carries.
pub fn managed_labels() -> std::collections::BTreeMap<String, String> {
    [("app.kubernetes.io/managed-by".to_string(), "homelabc".to_string())].into_iter().collect()
}

/// Runs every backend that applies to the model, then wires the units into
/// the cluster's GitOps entry point in the graph's order.
pub fn emit(model: &Model, graph: &Graph) -> Artifacts {
    let mut out = Artifacts::default();
    charts::emit(model, &mut out);
    grafana::emit(model, &mut out);
    inventory::emit(model, graph, &mut out);
    k3s::emit(model, &mut out);
    k8s::emit(model, &mut out);
    kind::emit(model, &mut out);
    metallb::emit(model, &mut out);
    netpol::emit(model, &mut out);
    pipelines::emit(model, &mut out);
    prometheus::emit(model, &mut out);
    registry::emit(model, &mut out);
    secrets::emit(model, &mut out);
    gitops::wire(model, graph, &mut out);
    out
}
