//! The dependency graph of declarations (petgraph), with the implicit edges
//! of SPEC §2.3, a deterministic order, depths, cycle detection, and the
//! `homelabc graph` renderings (mermaid, dot, json).
//!
//! An edge `a → b` means "a needs b first". Nodes and edges are inserted in
//! sorted order and ties in the order are broken by [`Decl`]'s ordering, so
//! the graph never depends on the order of declarations.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::diag::{Code, Diagnostic};
use crate::model::{
    CERT_MANAGER_NAMESPACE, CLOUDFLARED_NAMESPACE, COMPONENTS, DeployVia, EXTERNAL_DNS_NAMESPACE,
    EXTERNAL_SECRETS_NAMESPACE, Engine, GitopsEngine, IngressController, Model, SecretSource,
};
use crate::source::Span;

/// A node of the graph: a declaration's identity (the model's one registry of kinds).
pub use crate::model::{DeclId as Decl, DeclKind};

/// The identity of a declaration of `model`: declarations that live in a
/// cluster, and namespaces, carry the cluster of a view ([`Model::cluster_key`]).
fn decl(model: &Model, kind: DeclKind, namespace: Option<&str>, name: &str) -> Decl {
    let cluster = match kind {
        DeclKind::Namespace => model.cluster_key(None),
        kind if kind.in_cluster() => model.cluster_key(None),
        _ => None,
    };
    Decl::new(kind, cluster, namespace, name)
}

/// Why an edge exists, and where it was written (none for implicit edges).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// `depends-on`, `namespace`, `registry`, `crd`, ...
    pub reason: &'static str,
    /// The reference's span, for explicit edges.
    pub span: Option<Span>,
}

/// The dependency graph and its deterministic order.
#[derive(Debug, Default)]
pub struct Graph {
    /// The petgraph graph; its nodes were added in [`Decl`] order, so a
    /// node's index is its rank (found by bisection, with no map beside).
    pub graph: DiGraph<Decl, Edge>,
    /// The nodes in dependency order (dependencies first), ties by [`Decl`].
    order: Vec<NodeIndex>,
    /// By node: the length of the longest dependency chain below it (none
    /// for a node that depends on a cycle).
    depth: Vec<Option<usize>>,
}

impl Graph {
    /// The node of a declaration.
    pub fn node(&self, decl: &Decl) -> Option<NodeIndex> {
        let nodes = self.graph.raw_nodes();
        nodes.binary_search_by(|n| n.weight.cmp(decl)).ok().map(NodeIndex::new)
    }

    /// The declarations in dependency order (dependencies first), ties by
    /// [`Decl`]; those that need a cycle are left out, its members come last.
    pub fn order(&self) -> impl ExactSizeIterator<Item = &Decl> + Clone {
        self.order.iter().map(|&n| &self.graph[n])
    }

    /// The length of the longest dependency chain below a declaration (0 when
    /// it has none, or needs a cycle).
    pub fn depth(&self, decl: &Decl) -> usize {
        self.node(decl).and_then(|n| self.depth[n.index()]).unwrap_or(0)
    }

    /// The declarations `decl` needs directly, sorted.
    pub fn dependencies(&self, decl: &Decl) -> Vec<&Decl> {
        let Some(n) = self.node(decl) else { return Vec::new() };
        let mut deps: Vec<&Decl> = self.graph.neighbors(n).map(|m| &self.graph[m]).collect();
        deps.sort();
        deps.dedup();
        deps
    }

    /// The stdlib components the description needs, sorted.
    pub fn components(&self) -> Vec<&str> {
        self.graph.node_weights().filter(|d| d.kind == DeclKind::Component).map(|d| d.name.as_str()).collect()
    }
}

/// Collects nodes and edges before they go into petgraph in sorted order.
/// A node is kept once, with the number it was first seen as; an edge holds
/// its two ends' numbers, so that it clones no declaration (but the one
/// edges were last drawn from) and, once the numbers are made ranks, sorts
/// as integers.
#[derive(Default)]
struct Builder {
    /// Each node, with the number it was first seen as.
    nodes: BTreeMap<Decl, usize>,
    /// Sorted and deduplicated once, when all are in ([`Builder::into_graph`]):
    /// a sorted set's inserts cost most of the graph at 100,000 apps.
    edges: Vec<(usize, usize, Edge)>,
    /// The declaration edges were last drawn from, and its number: most are
    /// drawn from one declaration after another (an app's dozen), and each
    /// lookup compares its kind, namespace and name with a dozen others'.
    from: Option<(Decl, usize)>,
}

impl Builder {
    fn node(&mut self, decl: Decl) -> usize {
        let next = self.nodes.len();
        *self.nodes.entry(decl).or_insert(next)
    }

    /// The number of a node seen already, or of `decl` made one.
    fn node_ref(&mut self, decl: &Decl) -> usize {
        match self.nodes.get(decl) {
            Some(&id) => id,
            None => self.node(decl.clone()),
        }
    }

    fn edge(&mut self, from: &Decl, to: Decl, reason: &'static str, span: Option<Span>) {
        if from != &to || span.is_some() {
            let from = match &self.from {
                Some((last, id)) if last == from => *id,
                _ => {
                    let id = self.node_ref(from);
                    self.from = Some((from.clone(), id));
                    id
                }
            };
            let to = self.node(to);
            self.edges.push((from, to, Edge { reason, span }));
        }
    }

    /// An edge to a declaration only when it exists (unknown references are
    /// reported by the checks, not here).
    fn edge_if(&mut self, from: &Decl, to: Decl, reason: &'static str, span: Option<Span>) {
        if self.nodes.contains_key(&to) {
            self.edge(from, to, reason, span);
        }
    }

    /// The graph of the nodes, added in [`Decl`] order (a node's index is its
    /// rank, [`Graph::node`]), and of the edges, sorted, each once.
    fn into_graph(self) -> Graph {
        let mut graph = Graph::default();
        graph.graph.reserve_exact_nodes(self.nodes.len());
        let mut rank = vec![NodeIndex::end(); self.nodes.len()];
        for (decl, id) in self.nodes {
            rank[id] = graph.graph.add_node(decl);
        }
        // Ranks are in the declarations' order: the edges sort as the pairs of
        // declarations they join would.
        let mut edges: Vec<(NodeIndex, NodeIndex, Edge)> =
            self.edges.into_iter().map(|(from, to, edge)| (rank[from], rank[to], edge)).collect();
        edges.sort_unstable();
        edges.dedup();
        graph.graph.reserve_exact_edges(edges.len());
        for (from, to, edge) in edges {
            graph.graph.add_edge(from, to, edge);
        }
        graph
    }
}

fn component(model: &Model, name: &str) -> Decl {
    decl(model, DeclKind::Component, None, name)
}

/// Builds the graph, reports cycles (E0501), and computes the order.
pub fn build(model: &Model, diags: &mut Vec<Diagnostic>) -> Graph {
    build_all(&[model], diags)
}

/// Builds one graph over several clusters' views ([`Model::view`]): their
/// declarations carry their cluster, and what they share (networks, clusters)
/// is one node.
pub fn build_all(models: &[&Model], diags: &mut Vec<Diagnostic>) -> Graph {
    let mut b = Builder::default();
    for model in models {
        declare_nodes(model, &mut b);
    }
    for model in models {
        infrastructure_edges(model, &mut b);
        storage_edges(model, &mut b);
        workload_edges(model, &mut b);
    }
    let mut graph = b.into_graph();
    let cyclic = match models.first() {
        Some(model) => report_cycles(&graph, model, diags),
        None => BTreeSet::new(),
    };
    compute_order(&mut graph, &cyclic);
    graph
}

/// Whether declarations of a kind are nodes of the graph.
fn in_graph(kind: DeclKind) -> bool {
    match kind {
        DeclKind::Homelab => false,
        DeclKind::Network
        | DeclKind::Cluster
        | DeclKind::Node
        | DeclKind::Component
        | DeclKind::Namespace
        | DeclKind::Secret
        | DeclKind::SecretStore
        | DeclKind::Issuer
        | DeclKind::Registry
        | DeclKind::Pool
        | DeclKind::StorageClass
        | DeclKind::Backup
        | DeclKind::Claim
        | DeclKind::Gateway
        | DeclKind::Chart
        | DeclKind::App
        | DeclKind::Dns
        | DeclKind::Tunnel
        | DeclKind::Manifest
        | DeclKind::Pipeline
        | DeclKind::Dashboard
        | DeclKind::Alert => true,
    }
}

/// Every declaration is a node, and so are the namespaces things are placed
/// in, the components the description includes and their charts.
fn declare_nodes(model: &Model, b: &mut Builder) {
    for d in model.declarations().into_iter().filter(|d| in_graph(d.id.kind)) {
        b.node(d.id);
    }
    for ns in model.namespace_names() {
        b.node(decl(model, DeclKind::Namespace, None, &ns));
    }
    for c in model.charts.iter().filter(|c| c.component.is_some()) {
        b.node(decl(model, DeclKind::Chart, Some(&c.namespace.value), &c.name.value));
    }
    for c in &model.components {
        b.node(component(model, &c.name));
    }
}

fn infrastructure_edges(model: &Model, b: &mut Builder) {
    for c in &model.clusters {
        let me = decl(model, DeclKind::Cluster, None, &c.name.value);
        if let Some(g) = &c.gitops {
            let agent = match g.engine.value {
                GitopsEngine::Flux => "flux",
                GitopsEngine::Argocd => "argocd",
            };
            let comp = component(model, agent);
            b.edge(&comp, me.clone(), "runs on", None);
        }
        if c.ingress.value == IngressController::Nginx {
            let comp = component(model, "ingress-nginx");
            b.edge(&comp, me.clone(), "runs on", None);
        }
        if c.ingress.value == IngressController::EnvoyGateway {
            let comp = component(model, "envoy-gateway");
            b.edge(&comp, me, "runs on", None);
        }
    }
    for n in &model.nodes {
        let me = decl(model, DeclKind::Node, None, &n.name.value);
        if let Some(c) = model.cluster_for(n.cluster.as_ref()) {
            let span = n.cluster.as_ref().map(|c| c.span);
            b.edge_if(&me, decl(model, DeclKind::Cluster, None, &c.name.value), "cluster", span);
        }
        if let Some(net) = n.address.as_ref().and_then(|a| a.network.as_ref()) {
            b.edge_if(&me, decl(model, DeclKind::Network, None, &net.value), "network", Some(net.span));
        }
    }
    for p in &model.pools {
        let me = decl(model, DeclKind::Pool, None, &p.name.value);
        b.edge_if(&me, decl(model, DeclKind::Network, None, &p.network.value), "network", Some(p.network.span));
        b.edge(&me, component(model, "metallb"), "crd", None);
        for secret in p.peers.iter().filter_map(|peer| peer.password_secret.as_ref()) {
            let ns = crate::backend::metallb::NAMESPACE;
            b.edge_if(
                &me,
                decl(model, DeclKind::Secret, Some(ns), &secret.value),
                "password-secret",
                Some(secret.span),
            );
        }
    }
    edge_edges(model, b);
    for r in &model.registries {
        let me = decl(model, DeclKind::Registry, None, &r.name.value);
        if let Some(s) = &r.pull_secret
            && let Some(secret) = model.secrets.iter().find(|x| x.name.value == s.value)
        {
            b.edge(
                &me,
                decl(model, DeclKind::Secret, Some(&secret.namespace.value), &s.value),
                "pull-secret",
                Some(s.span),
            );
        }
        if r.deploy.is_some() {
            let ns = r.deploy.as_ref().map(|d| d.namespace.value.clone()).unwrap_or_default();
            b.edge(&me, decl(model, DeclKind::Namespace, None, &ns), "namespace", None);
        }
    }
    for s in &model.secrets {
        let me = decl(model, DeclKind::Secret, Some(&s.namespace.value), &s.name.value);
        b.edge(&me, decl(model, DeclKind::Namespace, None, &s.namespace.value), "namespace", None);
        match &s.source {
            SecretSource::Sealed { .. } => b.edge(&me, component(model, "sealed-secrets"), "crd", None),
            SecretSource::External { store, .. } => {
                b.edge(&me, component(model, "external-secrets"), "crd", None);
                b.edge_if(&me, decl(model, DeclKind::SecretStore, None, &store.value), "store", Some(store.span));
            }
            SecretSource::Sops { .. } | SecretSource::Existing => {}
        }
    }
    // A secret store and an issuer come after their component and the
    // secret holding their own credentials.
    let secret_in = |ns: &str, name: &crate::model::Name| {
        model.secrets.iter().any(|s| s.name.value == name.value && s.namespace.value == ns)
    };
    for store in &model.secret_stores {
        let me = store.id(model);
        b.edge(&me, component(model, "external-secrets"), "crd", None);
        if let Some(auth) = store.auth_secret.as_ref().filter(|a| secret_in(EXTERNAL_SECRETS_NAMESPACE, a)) {
            let secret = decl(model, DeclKind::Secret, Some(EXTERNAL_SECRETS_NAMESPACE), &auth.value);
            b.edge(&me, secret, "auth-secret", Some(auth.span));
        }
        // A `kubernetes` store of this cluster gets a reader in the namespace it reads.
        if let Some(ns) = store.local_namespace() {
            b.edge(&me, decl(model, DeclKind::Namespace, None, ns), "namespace", store.path.as_ref().map(|p| p.span));
        }
    }
    for issuer in &model.issuers {
        let me = issuer.id(model);
        b.edge(&me, component(model, "cert-manager"), "crd", None);
        for name in issuer.token_secret.iter().chain(&issuer.secret) {
            if secret_in(CERT_MANAGER_NAMESPACE, name) {
                let secret = decl(model, DeclKind::Secret, Some(CERT_MANAGER_NAMESPACE), &name.value);
                b.edge(&me, secret, "secret", Some(name.span));
            }
        }
    }
}

/// The edges of storage: a claim after its namespace, storage class and
/// backup; a backup after VolSync, whose CRDs its ReplicationSources are. The
/// app or claim holding a backed-up volume writes those objects itself: it
/// comes after VolSync and the backup's secret of its namespace too.
fn storage_edges(model: &Model, b: &mut Builder) {
    let volsync = component(model, crate::model::storage::VOLSYNC_COMPONENT);
    for backup in &model.backups {
        b.edge_if(&backup.id(model), volsync.clone(), "crd", None);
    }
    for backed in model.backed_up() {
        let ns = backed.volume.namespace();
        let me = match backed.volume {
            crate::model::Stored::Own { app, .. } => app.id(model),
            crate::model::Stored::Shared(claim) => claim.id(model),
        };
        b.edge_if(&me, volsync.clone(), "crd", None);
        let secret = &backed.backup.secret;
        if model.secrets.iter().any(|s| s.name.value == secret.value && s.namespace.value == ns) {
            b.edge(&me, decl(model, DeclKind::Secret, Some(ns), &secret.value), "backup secret", None);
        }
    }
    for c in &model.claims {
        let me = c.id(model);
        b.edge(&me, decl(model, DeclKind::Namespace, None, &c.namespace.value), "namespace", None);
        if let Some(class) = &c.storage_class {
            b.edge_if(&me, decl(model, DeclKind::StorageClass, None, &class.value), "storage-class", Some(class.span));
        }
        if let Some(backup) = &c.backup {
            b.edge_if(&me, decl(model, DeclKind::Backup, None, &backup.value), "backup", Some(backup.span));
        }
    }
}

/// The edges of the edge declarations: a gateway after Envoy Gateway, its
/// pool and the issuer of its https listeners; a `dns` after external-dns and
/// its token; a tunnel after its namespace, its token and the apps it exposes.
fn edge_edges(model: &Model, b: &mut Builder) {
    for g in &model.gateways {
        let me = decl(model, DeclKind::Gateway, None, &g.name.value);
        b.edge(&me, component(model, "envoy-gateway"), "crd", None);
        if let Some(pool) = &g.pool {
            b.edge_if(&me, decl(model, DeclKind::Pool, None, &pool.value), "pool", Some(pool.span));
        }
        let issuer = model.cluster_for(g.cluster.as_ref()).and_then(|c| model.tls_issuer(c));
        if let (Some(listener), Some(issuer)) = (g.listeners.iter().find(|l| l.is_tls()), issuer) {
            b.edge(&me, issuer.id(model), "tls-issuer", Some(listener.protocol.span));
        }
    }
    for d in &model.dns {
        let me = decl(model, DeclKind::Dns, None, &d.name.value);
        b.edge(&me, component(model, "external-dns"), "runs", None);
        let secret = decl(model, DeclKind::Secret, Some(EXTERNAL_DNS_NAMESPACE), &d.token_secret.value);
        b.edge_if(&me, secret, "token-secret", Some(d.token_secret.span));
    }
    for t in &model.tunnels {
        let me = decl(model, DeclKind::Tunnel, None, &t.name.value);
        b.edge(&me, component(model, "cloudflared"), "runs", None);
        b.edge(&me, decl(model, DeclKind::Namespace, None, CLOUDFLARED_NAMESPACE), "namespace", None);
        let secret = decl(model, DeclKind::Secret, Some(CLOUDFLARED_NAMESPACE), &t.token_secret.value);
        b.edge_if(&me, secret, "token-secret", Some(t.token_secret.span));
        for app in model.exposed_apps(t) {
            let span = t.exposes.iter().find(|e| e.value == app.name.value).map(|e| e.span);
            b.edge(&me, decl(model, DeclKind::App, Some(&app.namespace.value), &app.name.value), "expose", span);
        }
    }
}

/// The declaration a `depends-on` name refers to: an app or chart (same
/// namespace first), else a component.
fn depends_target(model: &Model, namespace: &str, name: &str) -> Option<Decl> {
    // Apps and charts are sorted by (namespace, name): the same namespace is a
    // binary search; another namespace, the rarer case, a scan.
    let key = (namespace, name);
    let app_here = model
        .apps
        .binary_search_by(|a| (a.namespace.value.as_str(), a.name.value.as_str()).cmp(&key))
        .ok()
        .map(|_| decl(model, DeclKind::App, Some(namespace), name));
    let chart_here = || {
        model
            .charts
            .binary_search_by(|c| (c.namespace.value.as_str(), c.name.value.as_str()).cmp(&key))
            .ok()
            .map(|_| decl(model, DeclKind::Chart, Some(namespace), name))
    };
    let app_elsewhere = || {
        model
            .apps
            .iter()
            .find(|a| a.name.value == name)
            .map(|a| decl(model, DeclKind::App, Some(&a.namespace.value), name))
    };
    let chart_elsewhere = || {
        model
            .charts
            .iter()
            .find(|c| c.name.value == name)
            .map(|c| decl(model, DeclKind::Chart, Some(&c.namespace.value), name))
    };
    app_here.or_else(chart_here).or_else(app_elsewhere).or_else(chart_elsewhere).or_else(|| {
        (COMPONENTS.contains(&name) || model.uses.iter().any(|u| u.component.value == name))
            .then(|| component(model, name))
    })
}

fn workload_edges(model: &Model, b: &mut Builder) {
    for c in &model.charts {
        let me = decl(model, DeclKind::Chart, Some(&c.namespace.value), &c.name.value);
        b.edge(&me, decl(model, DeclKind::Namespace, None, &c.namespace.value), "namespace", None);
        for d in &c.depends_on {
            if let Some(target) = depends_target(model, &c.namespace.value, &d.value) {
                b.edge(&me, target, "depends-on", Some(d.span));
            }
        }
    }
    for a in &model.apps {
        app_edges(model, a, b);
    }
    for p in &model.pipelines {
        let me = decl(model, DeclKind::Pipeline, None, &p.name.value);
        if p.engine.value == Engine::Tekton {
            b.edge(&me, component(model, "tekton"), "crd", None);
        }
        match p.engine.value {
            Engine::Drone => b.edge(&me, component(model, "drone"), "engine", None),
            Engine::Woodpecker => b.edge(&me, component(model, "woodpecker"), "engine", None),
            Engine::Tekton | Engine::GithubActions => {}
        }
        let targets = p
            .build
            .iter()
            .map(|x| &x.app)
            .chain(p.deploy.iter().filter(|d| d.via.value == DeployVia::Kubectl).map(|d| &d.app));
        for app in targets {
            if let Some(a) = model.app(&app.value) {
                b.edge(&me, decl(model, DeclKind::App, Some(&a.namespace.value), &app.value), "builds", Some(app.span));
            }
        }
        // Tekton's objects live in the pipeline's namespace, next to the
        // credentials its build and GitOps deploy mount.
        if p.engine.value == Engine::Tekton
            && let Some(ns) = p.namespace()
        {
            b.edge(&me, decl(model, DeclKind::Namespace, None, ns), "namespace", None);
            let registry_secret = p
                .build
                .iter()
                .filter_map(|x| model.app(&x.app.value))
                .filter_map(|a| a.container.image.as_ref()?.registry.as_ref())
                .filter_map(|r| model.registry(&r.value)?.pull_secret.as_ref());
            for secret in registry_secret.chain(p.deploy.iter().filter_map(|d| d.secret.as_ref())) {
                if model.secrets.iter().any(|s| s.name.value == secret.value && s.namespace.value == ns) {
                    b.edge(&me, decl(model, DeclKind::Secret, Some(ns), &secret.value), "secret", Some(secret.span));
                }
            }
        }
    }
    for m in &model.manifests {
        let me = m.id(model);
        for object in &m.objects {
            if let Some(ns) = &object.namespace {
                b.edge_if(&me, decl(model, DeclKind::Namespace, None, ns), "namespace", None);
            }
            if let Some(chart) = model.crd_chart(object.group()) {
                b.edge(&me, chart.id(model), "crd", None);
            }
        }
    }
    for d in &model.dashboards {
        let me = decl(model, DeclKind::Dashboard, None, &d.name.value);
        b.edge(&me, component(model, "kube-prometheus-stack"), "grafana", None);
    }
    for a in &model.alerts {
        let me = decl(model, DeclKind::Alert, Some(&a.namespace.value), &a.name.value);
        b.edge(&me, decl(model, DeclKind::Namespace, None, &a.namespace.value), "namespace", None);
        b.edge(&me, component(model, "kube-prometheus-stack"), "crd", None);
    }
}

/// The edges of an app: its namespace, registry, secrets, pool, the
/// components its metrics and ingresses need, its issuer and `depends-on`.
fn app_edges(model: &Model, a: &crate::model::App, b: &mut Builder) {
    let me = decl(model, DeclKind::App, Some(&a.namespace.value), &a.name.value);
    b.edge(&me, decl(model, DeclKind::Namespace, None, &a.namespace.value), "namespace", None);
    for reg in a.containers().filter_map(|c| c.image.as_ref()?.registry.as_ref()) {
        b.edge_if(&me, decl(model, DeclKind::Registry, None, &reg.value), "registry", Some(reg.span));
    }
    let env_secrets = a.containers().flat_map(|c| &c.env).filter_map(|e| match &e.value {
        crate::model::EnvValue::Secret { secret, .. } => Some(secret),
        crate::model::EnvValue::Literal(_) => None,
    });
    let env_from = a.containers().flat_map(|c| &c.env_from).filter_map(|f| match f {
        crate::model::EnvFrom::Secret(secret) => Some(secret),
        crate::model::EnvFrom::Config(_) => None,
    });
    for secret in env_secrets.chain(env_from).chain(a.secret_files.iter().map(|f| &f.secret)) {
        b.edge_if(
            &me,
            decl(model, DeclKind::Secret, Some(&a.namespace.value), &secret.value),
            "secret",
            Some(secret.span),
        );
    }
    for volume in &a.volumes {
        match &volume.source {
            crate::model::VolumeSource::Claim(claim) => {
                let target = decl(model, DeclKind::Claim, Some(&a.namespace.value), &claim.value);
                b.edge_if(&me, target, "claim", Some(claim.span));
            }
            crate::model::VolumeSource::Own(own) => {
                if let Some(class) = &own.storage_class {
                    let target = decl(model, DeclKind::StorageClass, None, &class.value);
                    b.edge_if(&me, target, "storage-class", Some(class.span));
                }
                if let Some(backup) = &own.backup {
                    b.edge_if(&me, decl(model, DeclKind::Backup, None, &backup.value), "backup", Some(backup.span));
                }
            }
            crate::model::VolumeSource::Nfs { .. }
            | crate::model::VolumeSource::HostPath(_)
            | crate::model::VolumeSource::EmptyDir { .. } => {}
        }
    }
    if let Some(node) = &a.node {
        b.edge_if(&me, decl(model, DeclKind::Node, None, &node.value), "node", Some(node.span));
    }
    if let Some(pool) = a.service.as_ref().and_then(|s| s.pool.as_ref()) {
        b.edge_if(&me, decl(model, DeclKind::Pool, None, &pool.value), "pool", Some(pool.span));
    }
    if a.metrics.is_some() {
        b.edge(&me, component(model, "kube-prometheus-stack"), "crd", None);
    }
    if !a.ingresses.is_empty()
        && model.cluster_for(a.cluster.as_ref()).is_some_and(|c| c.ingress.value == IngressController::Nginx)
    {
        b.edge(&me, component(model, "ingress-nginx"), "ingress", None);
    }
    for route in &a.routes {
        if let Some(gateway) = model.route_gateway(a, route) {
            let span = route.gateway.as_ref().map_or(route.span, |g| g.span);
            b.edge(&me, decl(model, DeclKind::Gateway, None, &gateway.name.value), "route", Some(span));
        }
    }
    // A TLS ingress after the issuer cert-manager signs its certificate with.
    if let Some(ingress) = a.ingresses.iter().find(|i| i.tls.value)
        && let Some(issuer) = model.tls_issuer_of(a)
    {
        b.edge(&me, issuer.id(model), "tls-issuer", Some(ingress.tls.span));
    }
    for d in &a.depends_on {
        if let Some(target) = depends_target(model, &a.namespace.value, &d.value) {
            b.edge(&me, target, "depends-on", Some(d.span));
        }
    }
}

/// Reports every cycle (a strongly connected component of more than one
/// node, or a self-loop) once, with a label on each written edge in it.
fn report_cycles(graph: &Graph, model: &Model, diags: &mut Vec<Diagnostic>) -> BTreeSet<Decl> {
    let mut cyclic = BTreeSet::new();
    let mut sccs = tarjan_scc(&graph.graph);
    for scc in &mut sccs {
        scc.sort_by(|a, b| graph.graph[*a].cmp(&graph.graph[*b]));
    }
    sccs.sort_by(|a, b| graph.graph[a[0]].cmp(&graph.graph[b[0]]));
    for scc in sccs {
        let self_loop = scc.len() == 1 && graph.graph.find_edge(scc[0], scc[0]).is_some();
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let mut labels: Vec<(Span, String)> = Vec::new();
        for &n in &scc {
            for e in graph.graph.edges(n) {
                use petgraph::visit::EdgeRef;
                if members.contains(&e.target())
                    && let Some(span) = e.weight().span
                {
                    let target = &graph.graph[e.target()];
                    labels.push((span, format!("`{}` needs `{}`", graph.graph[n].name, target.name)));
                }
            }
        }
        labels.sort();
        let names: Vec<String> = scc.iter().map(|n| format!("`{}`", graph.graph[*n].name)).collect();
        let mut chain = names.clone();
        chain.push(names[0].clone());
        let mut diag = Diagnostic::new(Code::E0501, format!("dependency cycle between {}", names.join(", ")))
            .help("remove one of these `depends-on`: a cycle has no order to deploy in");
        let mut iter = labels.into_iter();
        match iter.next() {
            Some((span, msg)) => diag = diag.primary(span, msg),
            None => {
                if let Some(span) = model.apps.first().map(|a| a.name.span) {
                    diag = diag.primary(span, "part of the cycle");
                }
            }
        }
        for (span, msg) in iter {
            diag = diag.secondary(span, msg);
        }
        diags.push(diag.note(format!("the cycle: {}", chain.join(" → "))));
        cyclic.extend(scc.iter().map(|n| graph.graph[*n].clone()));
    }
    cyclic
}

/// Kahn's algorithm over "dependencies first", ties broken by [`Decl`]
/// order; members of cycles come last, in sorted order.
fn compute_order(graph: &mut Graph, cyclic: &BTreeSet<Decl>) {
    let g = &graph.graph;
    // By node index: the walk looks a node up once per edge.
    let mut remaining: Vec<usize> = g.node_indices().map(|n| g.neighbors(n).collect::<BTreeSet<_>>().len()).collect();
    let mut depths: Vec<Option<usize>> = vec![None; g.node_count()];
    // A node's index is its declaration's rank: the lowest ready index is
    // the first ready declaration.
    let mut ready: BTreeSet<NodeIndex> = g.node_indices().filter(|n| remaining[n.index()] == 0).collect();
    let mut order = Vec::with_capacity(g.node_count());
    while let Some(n) = ready.pop_first() {
        let d = g.neighbors(n).filter_map(|m| depths[m.index()]).map(|d| d + 1).max().unwrap_or(0);
        depths[n.index()] = Some(d);
        order.push(n);
        let dependents: BTreeSet<NodeIndex> = g.neighbors_directed(n, petgraph::Direction::Incoming).collect();
        for m in dependents {
            let count = &mut remaining[m.index()];
            *count -= 1;
            if *count == 0 {
                ready.insert(m);
            }
        }
    }
    for decl in cyclic {
        if let Some(n) = graph.node(decl).filter(|n| depths[n.index()].is_none()) {
            depths[n.index()] = Some(0);
            order.push(n);
        }
    }
    graph.order = order;
    graph.depth = depths;
}

/// The edges as sorted (from, to, reason) triples.
pub(crate) fn edge_list(graph: &Graph) -> Vec<(&Decl, &Decl, &'static str)> {
    use petgraph::visit::EdgeRef;
    let mut edges: Vec<_> = graph
        .graph
        .edge_references()
        .map(|e| (&graph.graph[e.source()], &graph.graph[e.target()], e.weight().reason))
        .collect();
    edges.sort();
    edges.dedup();
    edges
}

/// A mermaid flowchart, grouped by namespace.
pub fn to_mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    let id = |d: &Decl| d.id().replace(['/', '.'], "_").replace('-', "_");
    let mut groups: BTreeMap<Option<&str>, Vec<&Decl>> = BTreeMap::new();
    for d in graph.order() {
        let group = match d.kind {
            DeclKind::Namespace => Some(d.name.as_str()),
            _ => d.namespace.as_deref(),
        };
        groups.entry(group).or_default().push(d);
    }
    for (group, decls) in &groups {
        let indent = if group.is_some() { "    " } else { "  " };
        if let Some(ns) = group {
            let _ = writeln!(out, "  subgraph ns_{}[\"namespace {ns}\"]", ns.replace('-', "_"));
        }
        for d in decls {
            let _ = writeln!(out, "{indent}{}[\"{}\"]", id(d), d.label());
        }
        if group.is_some() {
            out.push_str("  end\n");
        }
    }
    for (from, to, reason) in edge_list(graph) {
        let _ = writeln!(out, "  {} -->|{reason}| {}", id(from), id(to));
    }
    out
}

/// A Graphviz digraph.
pub fn to_dot(graph: &Graph) -> String {
    let mut out = String::from("digraph homelab {\n  rankdir=BT;\n  node [shape=box];\n");
    for d in graph.order() {
        let _ = writeln!(out, "  \"{}\" [label=\"{}\"];", d.id(), d.label());
    }
    for (from, to, reason) in edge_list(graph) {
        let _ = writeln!(out, "  \"{}\" -> \"{}\" [label=\"{reason}\"];", from.id(), to.id());
    }
    out.push_str("}\n");
    out
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: String,
    kind: DeclKind,
    namespace: Option<&'a str>,
    name: &'a str,
    depth: usize,
}

#[derive(Serialize)]
struct JsonEdge {
    from: String,
    to: String,
    reason: &'static str,
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge>,
}

/// JSON: nodes in dependency order with their depth, and edges.
pub fn to_json(graph: &Graph) -> String {
    let value = JsonGraph {
        nodes: graph
            .order()
            .map(|d| JsonNode {
                id: d.id(),
                kind: d.kind,
                namespace: d.namespace.as_deref(),
                name: &d.name,
                depth: graph.depth(d),
            })
            .collect(),
        edges: edge_list(graph)
            .into_iter()
            .map(|(f, t, reason)| JsonEdge { from: f.id(), to: t.id(), reason })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::driver;
    use crate::host::MemHost;

    use super::*;

    fn graph_of(text: &str) -> (Graph, Vec<Code>) {
        let checked = driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let codes = checked.diagnostics.iter().map(|d| d.code).collect();
        (checked.graph, codes)
    }

    const BASE: &str = "homelab \"lab\"\ncluster \"c\" distribution=\"k3s\"\n";

    #[test]
    fn pool_comes_after_metallb_and_app_after_its_chart() {
        let text = format!(
            "{BASE}network \"lan\" cidr=\"192.168.1.0/24\"\npool \"lb\" network=\"lan\" range=\"192.168.1.200-192.168.1.210\"\n\
             chart \"pg\" namespace=\"data\" repo=\"https://charts.bitnami.com/bitnami\" chart=\"postgresql\" version=\"16.2.1\"\n\
             app \"web\" namespace=\"data\" {{ image \"x/web\" tag=\"1\"; depends-on \"pg\" }}\n"
        );
        let (graph, _) = graph_of(&text);
        let pos = |kind, name: &str| graph.order().position(|d| d.kind == kind && d.name == name).unwrap();
        assert!(pos(DeclKind::Component, "metallb") < pos(DeclKind::Pool, "lb"));
        assert!(pos(DeclKind::Chart, "pg") < pos(DeclKind::App, "web"));
        assert!(pos(DeclKind::Namespace, "data") < pos(DeclKind::Chart, "pg"));
    }

    #[test]
    fn cycles_are_reported_once_with_every_member() {
        let text = format!(
            "{BASE}app \"a\" namespace=\"x\" {{ image \"x/a\" tag=\"1\"; depends-on \"b\" }}\n\
             app \"b\" namespace=\"x\" {{ image \"x/b\" tag=\"1\"; depends-on \"c\" }}\n\
             app \"c\" namespace=\"x\" {{ image \"x/c\" tag=\"1\"; depends-on \"a\" }}\n"
        );
        let (graph, codes) = graph_of(&text);
        assert_eq!(codes.iter().filter(|c| **c == Code::E0501).count(), 1);
        assert_eq!(graph.order().len(), graph.graph.node_count());
    }

    #[test]
    fn order_does_not_depend_on_declaration_order() {
        let a = format!(
            "{BASE}app \"a\" {{ image \"x/a\" tag=\"1\" }}\napp \"b\" {{ image \"x/b\" tag=\"1\"; depends-on \"a\" }}\n"
        );
        let b = format!(
            "{BASE}app \"b\" {{ image \"x/b\" tag=\"1\"; depends-on \"a\" }}\napp \"a\" {{ image \"x/a\" tag=\"1\" }}\n"
        );
        assert_eq!(to_json(&graph_of(&a).0), to_json(&graph_of(&b).0));
    }
}
