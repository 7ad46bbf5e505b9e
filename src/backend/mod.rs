//! Backends: each turns the checked model into artifacts for one target.
//!
//! **Architecture Invariant:** backends never read one another's output (they
//! run at once, each into artifacts of its own: [`emit`]). They
//! return [`Artifacts`]: Kubernetes objects placed in a unit folder, and plain
//! files at fixed paths. [`crate::layout`] names the files and writes the
//! kustomizations; it is the one place that knows the tree's layout.

pub mod argocd;
pub mod charts;
pub mod gateway;
pub mod gitops;
pub mod grafana;
pub mod installer;
pub mod inventory;
pub mod issuers;
pub mod k3s;
pub mod k8s;
pub mod kind;
pub mod manifests;
pub mod metallb;
pub mod netpol;
pub mod pipelines;
pub mod prometheus;
pub mod registry;
pub mod secrets;
pub mod storage;
pub mod stores;
pub mod talos;
pub mod tunnel;
pub mod volsync;

mod artifacts;

pub use artifacts::{Artifacts, Body, Content, Custom, CustomKind, File, Object, ObjectId, Origin, Render, Resource};

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::graph::Graph;
use crate::model::Model;

/// Object metadata with a name, an optional namespace and labels.
pub fn meta(
    name: &str,
    namespace: Option<&str>,
    labels: std::collections::BTreeMap<String, String>,
) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels),
        ..Default::default()
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn host_port(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// The annotation external-dns reads to skip a resource: any value but
/// `dns-controller` says another controller keeps (or nothing needs) its records.
const EXTERNAL_DNS_CONTROLLER: &str = "external-dns.alpha.kubernetes.io/controller";

/// The annotations that make external-dns skip an Ingress or HTTPRoute,
/// naming who keeps its records instead.
pub fn external_dns_skips(owner: &str) -> std::collections::BTreeMap<String, String> {
    one_label(EXTERNAL_DNS_CONTROLLER, owner)
}

/// A role rule granting `verbs` on `resources` of one API group (`""` is the core group).
pub fn policy_rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(vec![group.to_string()]),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..Default::default()
    }
}

/// The labels every object homelabc writes carries.
pub fn managed_labels() -> std::collections::BTreeMap<String, String> {
    one_label("app.kubernetes.io/managed-by", "homelabc")
}

/// A map of one key and its value. Inserted, not collected: collecting even
/// one pair gathers and sorts a list first, for most of the objects of a
/// build (their labels and selectors).
pub fn one_label(key: &str, value: &str) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    map.insert(key.to_string(), value.to_string());
    map
}

/// What the backends but `k8s` make of a cluster's model (of `declarations`
/// declarations, which decide whether it pays to share them), each backend's
/// artifacts in the order of [`BACKENDS`]: made at once, each into artifacts
/// of its own. Each one's objects are serialized as soon as it made them, so
/// that a large homelab never holds all its typed objects at once.
fn beside_apps(model: &Model, declarations: usize) -> Vec<Artifacts> {
    crate::par::map_tasks(declarations, &BACKENDS, |emit| {
        let mut made = Artifacts::default();
        emit(model, &mut made);
        made.render_from(0);
        made
    })
}

/// A backend: what it makes of a cluster's model, added to the artifacts.
type Backend = fn(&Model, &mut Artifacts);

/// Every backend but [`k8s::emit`] (which comes after them: see [`emit`]),
/// in the order their artifacts are joined.
const BACKENDS: [Backend; 19] = [
    charts::emit,
    gateway::emit,
    grafana::emit,
    issuers::emit,
    k3s::emit,
    installer::emit,
    kind::emit,
    manifests::emit,
    metallb::emit,
    netpol::emit,
    pipelines::emit,
    prometheus::emit,
    registry::emit,
    secrets::emit,
    storage::emit,
    stores::emit,
    talos::emit,
    tunnel::emit,
    volsync::emit,
];

/// Runs every backend on each cluster's model (the description itself when it
/// has one cluster), wires each cluster's units into its GitOps entry point
/// in the graph's order, then adds the files of the whole description (the
/// inventory, SOPS creation rules).
pub fn emit(whole: &Model, clusters: &[&Model], graph: &Graph) -> Artifacts {
    let inventory = || {
        let mut inventory = Artifacts::default();
        inventory::emit(whole, clusters, graph, &mut inventory);
        inventory
    };
    // The inventory is written beside the first cluster's backends but
    // `k8s`, before the apps' objects are made: its tables and the graph's
    // edge list are the largest passing allocations of a build, kept out of
    // its peak (every object's text). It comes after the clusters'
    // artifacts, as it reads none of them.
    let mut written = None;
    let mut parts = Vec::with_capacity(clusters.len() + 1);
    for model in clusters {
        let declarations = model.declaration_count();
        let made = if written.is_some() {
            beside_apps(model, declarations)
        } else {
            let (inventory, made) = crate::par::both(declarations, inventory, || beside_apps(model, declarations));
            written = Some(inventory);
            made
        };
        let mut cluster = Artifacts::joined(made);
        // Then the apps' objects, most of a large cluster's, made on every
        // core a batch of apps at a time and added after the others' (the
        // one list they all end in is grown for them, not regrown after).
        let made = cluster.objects.len();
        k8s::emit(model, &mut cluster);
        cluster.render_from(made);
        gitops::wire(model, graph, &mut cluster);
        parts.push(cluster);
    }
    parts.push(written.unwrap_or_else(inventory));
    let mut out = Artifacts::joined(parts);
    secrets::rules(whole, &mut out);
    out
}
