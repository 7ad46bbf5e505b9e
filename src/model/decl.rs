//! The one registry of declaration kinds, and the one way to visit every
//! declaration of a model.
//!
//! [`DeclKind`] lists every kind of top-level declaration the language has, with
//! its keyword and its one-line documentation. Everything that depends on the
//! list of kinds — the lowering table, the dependency graph's nodes, the
//! duplicate-name check, the GitOps wiring, the inventory and `explain` —
//! derives from [`DeclKind::ALL`] or matches on [`DeclKind`] exhaustively, so adding a
//! kind without handling it everywhere is a compile error, not a silent gap.
//!
//! [`DeclId`] is a declaration's identity: its kind, cluster (only when the
//! description has several clusters), namespace (for namespaced kinds) and
//! name. It orders the graph's ties, keys the GitOps wiring and is the origin
//! every emitted object carries ([`crate::backend::Origin`]).

use serde::Serialize;

use super::Model;
use crate::source::Span;

/// Declares [`DeclKind`] and [`DeclKind::ALL`] from one list, so that the
/// list of every kind cannot miss one.
macro_rules! decl_kinds {
    ($($(#[$doc:meta])* $kind:ident,)+) => {
        /// A kind of declaration, in the order the graph breaks ties
        /// (dependencies usually sort first). Adding a variant breaks every
        /// exhaustive `match` on it: that list is the list of places a new
        /// kind must be handled (ARCHITECTURE.md, "Adding a declaration kind").
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum DeclKind {
            $($(#[$doc])* $kind,)+
        }

        impl DeclKind {
            /// Every kind, in [`DeclKind`]'s order.
            pub const ALL: &'static [DeclKind] = &[$(DeclKind::$kind,)+];
        }
    };
}

decl_kinds! {
    /// `homelab`: the description's name and domain.
    Homelab,
    /// `network`: an IP network nodes and pools sit on.
    Network,
    /// `cluster`: a Kubernetes cluster.
    Cluster,
    /// `node`: a machine of a cluster.
    Node,
    /// A stdlib component (`use`, or pulled in by a declaration's need).
    Component,
    /// `namespace` (declared, or implied by what is placed in it).
    Namespace,
    /// `secret-store`: where external secrets are read from.
    SecretStore,
    /// `secret`: encrypted or external secret material.
    Secret,
    /// `issuer`: what signs the certificates of TLS ingresses.
    Issuer,
    /// `registry`: a container registry.
    Registry,
    /// `pool`: a MetalLB address pool.
    Pool,
    /// `storage-class`: a StorageClass claims name.
    StorageClass,
    /// `backup`: a restic repository volumes are backed up to.
    Backup,
    /// `claim`: a PersistentVolumeClaim apps share.
    Claim,
    /// `gateway`: a Gateway API Gateway served by Envoy Gateway.
    Gateway,
    /// `chart`: a Helm chart release.
    Chart,
    /// `app`: a workload homelabc writes.
    App,
    /// `dns`: a DNS zone whose records external-dns keeps.
    Dns,
    /// `tunnel`: a Cloudflare tunnel exposing apps.
    Tunnel,
    /// `manifest`: raw YAML objects copied in.
    Manifest,
    /// `pipeline`: a CI pipeline.
    Pipeline,
    /// `dashboard`: a Grafana dashboard.
    Dashboard,
    /// `alert`: a Prometheus alerting rule.
    Alert,
}

/// Whether the names of a kind are scoped by a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One name per description (or per cluster, for kinds that live in one).
    Global,
    /// One name per namespace.
    Namespaced,
}

impl DeclKind {
    /// The keyword that starts a declaration of this kind.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Homelab => "homelab",
            DeclKind::Network => "network",
            DeclKind::Cluster => "cluster",
            DeclKind::Node => "node",
            DeclKind::Component => "use",
            DeclKind::Namespace => "namespace",
            DeclKind::Secret => "secret",
            DeclKind::SecretStore => "secret-store",
            DeclKind::Issuer => "issuer",
            DeclKind::Registry => "registry",
            DeclKind::Pool => "pool",
            DeclKind::StorageClass => "storage-class",
            DeclKind::Backup => "backup",
            DeclKind::Claim => "claim",
            DeclKind::Gateway => "gateway",
            DeclKind::Chart => "chart",
            DeclKind::App => "app",
            DeclKind::Dns => "dns",
            DeclKind::Tunnel => "tunnel",
            DeclKind::Manifest => "manifest",
            DeclKind::Pipeline => "pipeline",
            DeclKind::Dashboard => "dashboard",
            DeclKind::Alert => "alert",
        }
    }

    /// The kind as a noun in messages, the graph and the inventory
    /// (`component` for `use`).
    pub fn noun(self) -> &'static str {
        match self {
            DeclKind::Component => "component",
            other => other.keyword(),
        }
    }

    /// The kind whose keyword is `keyword`.
    pub fn from_keyword(keyword: &str) -> Option<DeclKind> {
        DeclKind::ALL.iter().copied().find(|k| k.keyword() == keyword)
    }

    /// What a declaration of this kind is, one line (`homelabc explain kinds`).
    pub fn docs(self) -> &'static str {
        match self {
            DeclKind::Homelab => {
                "the description's name, the domain ingress hosts are completed with, the homelabc image CI deploys \
                 run (exactly one)"
            }
            DeclKind::Network => {
                "an IP network: CIDR, gateway, DHCP ranges and DNS servers that addresses are checked against"
            }
            DeclKind::Cluster => {
                "a Kubernetes cluster: distribution (k3s, kind, Talos) and versions, CIDRs, ingress, load balancer, GitOps agent, Talos' endpoint and VIP"
            }
            DeclKind::Node => {
                "a machine of a cluster: role, address, architecture, capacity, labels and taints, Talos' install disk"
            }
            DeclKind::Component => "a stdlib component (Helm charts and namespaces) with its parameters and values",
            DeclKind::Namespace => {
                "a namespace's Pod Security level (namespaces are also created by what is placed in them)"
            }
            DeclKind::Secret => {
                "secret material: a SOPS or sealed file copied in, an ExternalSecret from a store, or one made by hand"
            }
            DeclKind::SecretStore => {
                "a secret manager (Vault, 1Password, Bitwarden, Kubernetes) ExternalSecrets read from"
            }
            DeclKind::Issuer => "a certificate issuer (ACME, a CA, self-signed) for the TLS ingresses",
            DeclKind::Registry => {
                "a container registry pods pull from and pipelines push to; optionally run in the cluster"
            }
            DeclKind::Pool => "a MetalLB address pool for LoadBalancer Services, advertised over L2 or to BGP peers",
            DeclKind::StorageClass => {
                "a StorageClass: provisioner, parameters, reclaim policy, binding mode, the cluster's default"
            }
            DeclKind::Backup => {
                "a restic repository VolSync backs volumes up to on a schedule, with retention; restores on create"
            }
            DeclKind::Claim => "a PersistentVolumeClaim several apps mount: size, storage class, access mode, backup",
            DeclKind::Gateway => {
                "a Gateway API Gateway (Envoy Gateway): listeners, wildcard certificates, an address from a pool"
            }
            DeclKind::Dns => "a DNS zone whose records of ingress, route and tunnel hosts external-dns keeps",
            DeclKind::Tunnel => "a Cloudflare tunnel (cloudflared) forwarding the hosts of the apps it exposes",
            DeclKind::Chart => "a Helm chart release with its pinned version and values",
            DeclKind::App => {
                "a workload: image, ports, Service, ingresses and routes, probes, resources, env, volumes, metrics"
            }
            DeclKind::Manifest => "a file of raw Kubernetes objects, parsed, checked and written one object per file",
            DeclKind::Pipeline => {
                "a CI pipeline (Tekton, Drone, Woodpecker, GitHub Actions): steps, image build, deploy"
            }
            DeclKind::Dashboard => "a Grafana dashboard of rows and panels of PromQL queries",
            DeclKind::Alert => "a Prometheus alerting rule with its duration, severity and summary",
        }
    }

    /// Whether names of this kind are per namespace.
    pub fn scope(self) -> Scope {
        match self {
            DeclKind::App | DeclKind::Chart | DeclKind::Secret | DeclKind::Alert | DeclKind::Claim => Scope::Namespaced,
            DeclKind::Homelab
            | DeclKind::Network
            | DeclKind::Cluster
            | DeclKind::Node
            | DeclKind::Component
            | DeclKind::Namespace
            | DeclKind::SecretStore
            | DeclKind::Issuer
            | DeclKind::Registry
            | DeclKind::Pool
            | DeclKind::StorageClass
            | DeclKind::Backup
            | DeclKind::Gateway
            | DeclKind::Dns
            | DeclKind::Tunnel
            | DeclKind::Manifest
            | DeclKind::Pipeline
            | DeclKind::Dashboard => Scope::Global,
        }
    }

    /// Whether a declaration of this kind lives in one cluster (and so takes
    /// `cluster=` when the description has several).
    pub fn in_cluster(self) -> bool {
        match self {
            DeclKind::Node
            | DeclKind::Component
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
            DeclKind::Homelab | DeclKind::Network | DeclKind::Cluster | DeclKind::Namespace => false,
        }
    }

    /// The kind whose names clash with this one's: an app and a chart in one
    /// namespace both render objects named after themselves.
    pub fn name_family(self) -> DeclKind {
        match self {
            DeclKind::Chart => DeclKind::App,
            other => other,
        }
    }
}

/// The identity of a declaration: what the graph's nodes, the GitOps wiring
/// and every emitted object's origin are keyed by. Ordered by kind first, so
/// the graph's ties are broken the same way whatever the declarations' order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DeclId {
    /// Its kind.
    pub kind: DeclKind,
    /// Its cluster, only when the description has several clusters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Its namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// Its name (a manifest's is its path).
    pub name: String,
}

impl DeclId {
    /// A declaration identity.
    pub fn new(kind: DeclKind, cluster: Option<&str>, namespace: Option<&str>, name: &str) -> DeclId {
        DeclId {
            kind,
            cluster: cluster.map(str::to_string),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// A stable id for renderings: `app/demo-ha/demo-app`, with the cluster
    /// after the kind when there are several (`app/home/demo-ha/demo-app`).
    pub fn id(&self) -> String {
        let mut id = self.kind.noun().to_string();
        for part in [&self.cluster, &self.namespace].into_iter().flatten() {
            id.push('/');
            id.push_str(part);
        }
        id.push('/');
        id.push_str(&self.name);
        id
    }

    /// A short label for graphs: `app demo-app`, with the cluster when there
    /// are several (`app demo-app (home)`).
    pub fn label(&self) -> String {
        match &self.cluster {
            Some(cluster) => format!("{} {} ({cluster})", self.kind.noun(), self.name),
            None => format!("{} {}", self.kind.noun(), self.name),
        }
    }

    /// How a person names it: ``app `demo-app` in namespace `demo-ha` ``.
    pub fn describe(&self) -> String {
        let mut text = format!("{} `{}`", self.kind.noun(), self.name);
        if let Some(ns) = &self.namespace {
            text.push_str(&format!(" in namespace `{ns}`"));
        }
        if let Some(cluster) = &self.cluster {
            text.push_str(&format!(" of cluster `{cluster}`"));
        }
        text
    }
}

/// One declaration as the user wrote it, whatever its kind.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// Its identity.
    pub id: DeclId,
    /// Its `cluster=`, as written.
    pub cluster: Option<super::Name>,
    /// The span of its name (a manifest's path).
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
}

/// What [`Model::each_declaration_of`] gives of a declaration: its
/// `cluster=`, namespace, name, the span of its name and its own.
type Visit<'a> = dyn FnMut(Option<&super::Name>, Option<&str>, &str, Span, Span) + 'a;

impl Model {
    /// The cluster part of a declaration's identity: `None` unless the
    /// description has several clusters, then the declaration's `cluster=`
    /// (in a view of one cluster, that cluster).
    pub fn cluster_key<'a>(&'a self, cluster: Option<&'a super::Name>) -> Option<&'a str> {
        match &self.scope {
            Some(scope) => Some(scope),
            None if self.clusters.len() > 1 => cluster.map(|c| c.value.as_str()),
            None => None,
        }
    }

    /// Every declaration the user wrote (stdlib components' own charts and
    /// namespaces excluded; the `default` gateway a cluster's `ingress
    /// "envoy-gateway"` implies included, spanned at that line), kind by kind in [`DeclKind::ALL`]'s order, each
    /// kind's declarations in the model's sorted order.
    pub fn declarations(&self) -> Vec<Declaration> {
        let mut out = Vec::new();
        for &kind in DeclKind::ALL {
            self.each_declaration_of(kind, &mut |cluster, namespace, name, name_span, span| {
                let key = if kind.in_cluster() { self.cluster_key(cluster) } else { None };
                let id = DeclId::new(kind, key, namespace, name);
                out.push(Declaration { id, cluster: cluster.cloned(), name_span, span });
            });
        }
        out
    }

    /// How many declarations [`Model::declarations`] lists, without making
    /// them (each an identity of its own strings): a large description's
    /// phases are counted for the progress line on one core.
    pub fn declaration_count(&self) -> usize {
        let mut count = 0;
        for &kind in DeclKind::ALL {
            self.each_declaration_of(kind, &mut |_, _, _, _, _| count += 1);
        }
        count
    }

    /// Gives `push` each declaration of one kind.
    fn each_declaration_of(&self, kind: DeclKind, push: &mut Visit<'_>) {
        match kind {
            DeclKind::Homelab => {
                if let Some(h) = &self.homelab {
                    push(None, None, &h.name.value, h.name.span, h.span);
                }
            }
            DeclKind::Network => {
                for n in &self.networks {
                    push(None, None, &n.name.value, n.name.span, n.span);
                }
            }
            DeclKind::Cluster => {
                for c in &self.clusters {
                    push(None, None, &c.name.value, c.name.span, c.span);
                }
            }
            DeclKind::Node => {
                for n in &self.nodes {
                    push(n.cluster.as_ref(), None, &n.name.value, n.name.span, n.span);
                }
            }
            DeclKind::Component => {
                for u in &self.uses {
                    push(u.cluster.as_ref(), None, &u.component.value, u.component.span, u.span);
                }
            }
            DeclKind::Namespace => {
                for n in self.namespaces.iter().filter(|n| !n.from_stdlib) {
                    push(None, None, &n.name.value, n.name.span, n.span);
                }
            }
            DeclKind::Secret => {
                for s in &self.secrets {
                    push(s.cluster.as_ref(), Some(&s.namespace.value), &s.name.value, s.name.span, s.span);
                }
            }
            DeclKind::SecretStore => {
                for s in &self.secret_stores {
                    push(s.cluster.as_ref(), None, &s.name.value, s.name.span, s.span);
                }
            }
            DeclKind::Issuer => {
                for i in &self.issuers {
                    push(i.cluster.as_ref(), None, &i.name.value, i.name.span, i.span);
                }
            }
            DeclKind::Registry => {
                for r in &self.registries {
                    push(r.cluster.as_ref(), None, &r.name.value, r.name.span, r.span);
                }
            }
            DeclKind::Pool => {
                for p in &self.pools {
                    push(p.cluster.as_ref(), None, &p.name.value, p.name.span, p.span);
                }
            }
            DeclKind::StorageClass => {
                for c in &self.storage_classes {
                    push(c.cluster.as_ref(), None, &c.name.value, c.name.span, c.span);
                }
            }
            DeclKind::Backup => {
                for b in &self.backups {
                    push(b.cluster.as_ref(), None, &b.name.value, b.name.span, b.span);
                }
            }
            DeclKind::Claim => {
                for c in &self.claims {
                    push(c.cluster.as_ref(), Some(&c.namespace.value), &c.name.value, c.name.span, c.span);
                }
            }
            DeclKind::Gateway => {
                for g in &self.gateways {
                    push(g.cluster.as_ref(), None, &g.name.value, g.name.span, g.span);
                }
            }
            DeclKind::Dns => {
                for d in &self.dns {
                    push(d.cluster.as_ref(), None, &d.name.value, d.name.span, d.span);
                }
            }
            DeclKind::Tunnel => {
                for t in &self.tunnels {
                    push(t.cluster.as_ref(), None, &t.name.value, t.name.span, t.span);
                }
            }
            DeclKind::Chart => {
                for c in self.charts.iter().filter(|c| c.component.is_none()) {
                    push(c.cluster.as_ref(), Some(&c.namespace.value), &c.name.value, c.name.span, c.span);
                }
            }
            DeclKind::App => {
                for a in &self.apps {
                    push(a.cluster.as_ref(), Some(&a.namespace.value), &a.name.value, a.name.span, a.span);
                }
            }
            DeclKind::Manifest => {
                for m in &self.manifests {
                    push(m.cluster.as_ref(), None, &m.path.value, m.path.span, m.span);
                }
            }
            DeclKind::Pipeline => {
                for p in &self.pipelines {
                    push(p.cluster.as_ref(), None, &p.name.value, p.name.span, p.span);
                }
            }
            DeclKind::Dashboard => {
                for d in &self.dashboards {
                    push(d.cluster.as_ref(), None, &d.name.value, d.name.span, d.span);
                }
            }
            DeclKind::Alert => {
                for a in &self.alerts {
                    push(a.cluster.as_ref(), Some(&a.namespace.value), &a.name.value, a.name.span, a.span);
                }
            }
        }
    }
}

/// `id(model)` on a declaration type: its [`DeclId`].
macro_rules! ids {
    ($($ty:ident => $kind:ident, |$d:ident| ($cluster:expr, $ns:expr, $name:expr);)+) => {$(
        impl super::$ty {
            /// The declaration's identity.
            pub fn id(&self, model: &Model) -> DeclId {
                let $d = self;
                let cluster = if DeclKind::$kind.in_cluster() { model.cluster_key($cluster) } else { None };
                DeclId::new(DeclKind::$kind, cluster, $ns, $name)
            }
        }
    )+};
}

ids! {
    Homelab => Homelab, |d| (None, None, &d.name.value);
    Network => Network, |d| (None, None, &d.name.value);
    Cluster => Cluster, |d| (None, None, &d.name.value);
    Node => Node, |d| (d.cluster.as_ref(), None, &d.name.value);
    Use => Component, |d| (d.cluster.as_ref(), None, &d.component.value);
    Secret => Secret, |d| (d.cluster.as_ref(), Some(&d.namespace.value), &d.name.value);
    SecretStore => SecretStore, |d| (d.cluster.as_ref(), None, &d.name.value);
    Issuer => Issuer, |d| (d.cluster.as_ref(), None, &d.name.value);
    Registry => Registry, |d| (d.cluster.as_ref(), None, &d.name.value);
    Pool => Pool, |d| (d.cluster.as_ref(), None, &d.name.value);
    StorageClass => StorageClass, |d| (d.cluster.as_ref(), None, &d.name.value);
    Backup => Backup, |d| (d.cluster.as_ref(), None, &d.name.value);
    Claim => Claim, |d| (d.cluster.as_ref(), Some(&d.namespace.value), &d.name.value);
    Gateway => Gateway, |d| (d.cluster.as_ref(), None, &d.name.value);
    Dns => Dns, |d| (d.cluster.as_ref(), None, &d.name.value);
    Tunnel => Tunnel, |d| (d.cluster.as_ref(), None, &d.name.value);
    Chart => Chart, |d| (d.cluster.as_ref(), Some(&d.namespace.value), &d.name.value);
    App => App, |d| (d.cluster.as_ref(), Some(&d.namespace.value), &d.name.value);
    Manifest => Manifest, |d| (d.cluster.as_ref(), None, &d.path.value);
    Pipeline => Pipeline, |d| (d.cluster.as_ref(), None, &d.name.value);
    Dashboard => Dashboard, |d| (d.cluster.as_ref(), None, &d.name.value);
    Alert => Alert, |d| (d.cluster.as_ref(), Some(&d.namespace.value), &d.name.value);
}

impl Model {
    /// The identity of a namespace of a cluster (`scope`: [`Model::cluster_key`]).
    pub fn namespace_id(&self, scope: Option<&str>, namespace: &str) -> DeclId {
        DeclId::new(DeclKind::Namespace, scope, None, namespace)
    }

    /// The identity of a stdlib component of a cluster.
    pub fn component_id(&self, scope: Option<&str>, component: &str) -> DeclId {
        DeclId::new(DeclKind::Component, scope, None, component)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_unique_and_round_trip() {
        for kind in DeclKind::ALL {
            assert_eq!(DeclKind::from_keyword(kind.keyword()), Some(*kind));
        }
        let mut keywords: Vec<&str> = DeclKind::ALL.iter().map(|k| k.keyword()).collect();
        keywords.sort_unstable();
        keywords.dedup();
        assert_eq!(keywords.len(), DeclKind::ALL.len());
    }

    #[test]
    fn all_is_in_declaration_order() {
        assert!(DeclKind::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_name_the_cluster_only_when_given() {
        let one = DeclId::new(DeclKind::App, None, Some("demo"), "web");
        assert_eq!(one.id(), "app/demo/web");
        let two = DeclId::new(DeclKind::App, Some("home"), Some("demo"), "web");
        assert_eq!(two.id(), "app/home/demo/web");
        assert_eq!(DeclId::new(DeclKind::Component, None, None, "metallb").id(), "component/metallb");
    }
}
