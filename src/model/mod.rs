//! The typed homelab: plain data in domain words.
//!
//! **Architecture Invariant:** the model knows nothing of KDL, YAML, miette or
//! the file system. Every value carries the span it was written at, so checks
//! can point at it. Declarations are kept sorted by (namespace, name), so the
//! order of declarations and files never shows.

pub mod crds;
pub mod cron;
pub mod decl;
pub mod edge;
pub mod files;
pub mod observe;
pub mod storage;
pub mod values;
pub mod view;

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

pub use cron::Cron;
pub use decl::{DeclId, DeclKind, Declaration, Scope};
pub use edge::*;
pub use storage::{BackedUp, ClassSource, Stored};
pub use values::*;

use crate::source::{Span, Spanned};

/// The node label the kubelet sets to the node's name: what `node=` and
/// `spread "node"` select on.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// A name (RFC 1123 label) with its span.
pub type Name = Spanned<String>;

/// The stdlib components, by name: what `depends-on` and `use` may name and
/// what declarations pull in (SPEC §2.4).
pub const COMPONENTS: &[&str] = &[
    "argocd",
    "cert-manager",
    "cloudflared",
    "drone",
    "envoy-gateway",
    "external-dns",
    "external-secrets",
    "flux",
    "gitea",
    "ingress-nginx",
    "kube-prometheus-stack",
    "loki",
    "metallb",
    "registry",
    "sealed-secrets",
    "tekton",
    "volsync",
    "woodpecker",
];

/// The image a pipeline's GitOps deploy runs homelabc from when the
/// description names none: the release of this very compiler (a static
/// binary with git and a shell, built by the repository's `Dockerfile`), so
/// the deploy's rebuild writes the same bytes as the build that wrote the tree.
pub const DEFAULT_HOMELABC_IMAGE: &str = concat!("ghcr.io/homelabc/homelabc:", env!("CARGO_PKG_VERSION"));

/// The whole description.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The `homelab` declaration (exactly one in a valid description).
    pub homelab: Option<Homelab>,
    /// Networks.
    pub networks: Vec<Network>,
    /// Clusters.
    pub clusters: Vec<Cluster>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// MetalLB address pools.
    pub pools: Vec<Pool>,
    /// Container registries.
    pub registries: Vec<Registry>,
    /// Namespaces declared explicitly.
    pub namespaces: Vec<Namespace>,
    /// Applications.
    pub apps: Vec<App>,
    /// Helm charts.
    pub charts: Vec<Chart>,
    /// Secrets (references to encrypted or external material).
    pub secrets: Vec<Secret>,
    /// Secret stores (external-secrets ClusterSecretStores).
    pub secret_stores: Vec<SecretStore>,
    /// Certificate issuers (cert-manager ClusterIssuers).
    pub issuers: Vec<Issuer>,
    /// Gateway API gateways (declared, and the `default` one a cluster's
    /// `ingress "envoy-gateway"` implies).
    pub gateways: Vec<Gateway>,
    /// DNS zones external-dns keeps the records of.
    pub dns: Vec<Dns>,
    /// Tunnels exposing apps.
    pub tunnels: Vec<Tunnel>,
    /// CI pipelines.
    pub pipelines: Vec<Pipeline>,
    /// Grafana dashboards.
    pub dashboards: Vec<Dashboard>,
    /// Prometheus alerts.
    pub alerts: Vec<Alert>,
    /// Shared claims.
    pub claims: Vec<Claim>,
    /// Storage classes.
    pub storage_classes: Vec<StorageClass>,
    /// Backup repositories.
    pub backups: Vec<Backup>,
    /// Raw manifests copied in.
    pub manifests: Vec<Manifest>,
    /// Instantiated stdlib components.
    pub uses: Vec<Use>,
    /// The stdlib components the description includes (used or needed), by name.
    pub components: Vec<Component>,
    /// Contents of files the description references (`file=`, `values-file`,
    /// `manifest`), by logical path. Absent when the file could not be read.
    pub attachments: BTreeMap<String, String>,
    /// The cluster this model is the view of ([`Model::view`]), when the
    /// description has several; `None` for a whole description.
    pub scope: Option<String>,
}

/// `homelab "name" { domain "..."; homelabc-image "..." }`.
#[derive(Clone, Debug)]
pub struct Homelab {
    /// The homelab's name.
    pub name: Name,
    /// Domain appended to ingress hosts given without one.
    pub domain: Option<Spanned<String>>,
    /// The image GitOps deploy steps run homelabc from (`homelabc-image`):
    /// a pinned reference, [`DEFAULT_HOMELABC_IMAGE`] when not given.
    pub homelabc_image: Option<Spanned<String>>,
    /// The whole declaration.
    pub span: Span,
}

/// `network "lan" cidr=... gateway=... { dhcp ...; dns ... }`.
#[derive(Clone, Debug)]
pub struct Network {
    /// Name.
    pub name: Name,
    /// The network's CIDR.
    pub cidr: Spanned<IpNet>,
    /// The default gateway.
    pub gateway: Option<Spanned<IpAddr>>,
    /// Ranges handed out by DHCP.
    pub dhcp: Vec<Spanned<IpRange>>,
    /// DNS servers.
    pub dns: Vec<Spanned<IpAddr>>,
    /// The whole declaration.
    pub span: Span,
}

/// `cluster "name" distribution=... { ... }`.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Name.
    pub name: Name,
    /// k3s, kind or Talos.
    pub distribution: Spanned<Distribution>,
    /// The distribution's version: k3s', the kind node image's, Talos'.
    pub version: Option<Spanned<String>>,
    /// `kubernetes=`: the Kubernetes version (Talos; k3s and kind versions
    /// name it themselves).
    pub kubernetes: Option<Spanned<String>>,
    /// `endpoint=`: the host the Kubernetes API is reached at (Talos).
    pub endpoint: Option<Spanned<HostAddress>>,
    /// `vip`: the shared address the control planes announce (Talos).
    pub vip: Option<Spanned<IpAddr>>,
    /// Pod CIDR (default 10.42.0.0/16, spanned at the cluster's name).
    pub pod_cidr: Spanned<IpNet>,
    /// Service CIDR (default 10.43.0.0/16).
    pub service_cidr: Spanned<IpNet>,
    /// Ingress controller (default traefik on k3s, nginx on kind).
    pub ingress: Spanned<IngressController>,
    /// Load balancer (default servicelb on k3s, none on kind).
    pub load_balancer: Spanned<LoadBalancer>,
    /// GitOps agent wiring.
    pub gitops: Option<Gitops>,
    /// `tls-issuer`: the issuer of the certificates of TLS ingresses.
    pub tls_issuer: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Cluster {
    /// Where the Kubernetes API is reached (Talos): `endpoint=`, else the
    /// VIP (SPEC §2.5: the endpoint defaults to the VIP).
    pub fn api_endpoint(&self) -> Option<Spanned<HostAddress>> {
        self.endpoint.clone().or_else(|| self.vip.as_ref().map(|v| Spanned::new(HostAddress::Ip(v.value), v.span)))
    }
}

/// The port of the Kubernetes API server (k3s servers, Talos control planes).
pub const API_PORT: u16 = 6443;

/// The folder of the output tree when no `gitops path=` gives one: the
/// default of `path=`, and where `homelabc build` writes without `-o DIR`
/// when no cluster has a GitOps engine.
pub const DEFAULT_TREE: &str = "deploy";

/// `gitops "flux" repo=... branch=... path=... interval=...`.
#[derive(Clone, Debug)]
pub struct Gitops {
    /// Flux or Argo CD.
    pub engine: Spanned<GitopsEngine>,
    /// The Git repository the output tree is committed to.
    pub repo: Spanned<String>,
    /// Branch (default `main`).
    pub branch: Spanned<String>,
    /// Folder of the output tree in that repository (default `deploy`).
    pub path: Spanned<String>,
    /// Reconciliation interval (default 1m).
    pub interval: Spanned<Duration>,
    /// `secret=`: the credentials of the repository (an SSH deploy key or a
    /// token), a secret in the agent's namespace.
    pub secret: Option<Name>,
    /// The whole child.
    pub span: Span,
}

impl Gitops {
    /// Whether the repository is reached over SSH (`ssh://...`, or the
    /// scp-like `git@host:path`), which always needs a key.
    pub fn is_ssh(&self) -> bool {
        let repo = &self.repo.value;
        repo.starts_with("ssh://")
            || (!repo.contains("://") && repo.split_once(':').is_some_and(|(host, _)| host.contains('@')))
    }
}

/// `node "name" role=... { address ...; arch ...; cpu ...; ... }`.
#[derive(Clone, Debug)]
pub struct Node {
    /// Name (the Kubernetes node name).
    pub name: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// Server or agent (k3s, kind), controlplane or worker (Talos).
    pub role: Spanned<NodeRole>,
    /// The node's address and the network it is on (none for kind nodes).
    pub address: Option<NodeAddress>,
    /// CPU architecture (default amd64).
    pub arch: Spanned<Arch>,
    /// CPU capacity.
    pub cpu: Option<Spanned<Quantity>>,
    /// Memory capacity.
    pub memory: Option<Spanned<Quantity>>,
    /// Disk capacity.
    pub disk: Option<Spanned<Quantity>>,
    /// Node labels, key to value.
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// Extended resources (GPUs) the node offers, through a device plugin.
    pub gpus: Vec<Gpu>,
    /// `install-disk`: the disk Talos installs itself on.
    pub install_disk: Option<Spanned<String>>,
    /// `interface`: the network interface holding the address (Talos; by
    /// default every physical interface).
    pub interface: Option<Spanned<String>>,
    /// The whole declaration.
    pub span: Span,
}

/// `address "10.0.0.2" network="lan"`.
#[derive(Clone, Debug)]
pub struct NodeAddress {
    /// The address.
    pub ip: Spanned<IpAddr>,
    /// The network it is on; when absent, the one network containing it.
    pub network: Option<Name>,
}

/// `taint "key" "value" effect="NoSchedule"`.
#[derive(Clone, Debug)]
pub struct Taint {
    /// Key.
    pub key: Spanned<String>,
    /// Value (may be empty).
    pub value: Option<Spanned<String>>,
    /// Effect.
    pub effect: Spanned<TaintEffect>,
}

/// `pool "lb" network=... range=... advertise=...`.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Name.
    pub name: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The network the addresses belong to.
    pub network: Name,
    /// The addresses.
    pub range: Spanned<IpRange>,
    /// L2 or BGP.
    pub advertise: Spanned<Advertise>,
    /// The BGP routers the addresses are announced to.
    pub peers: Vec<Peer>,
    /// The whole declaration.
    pub span: Span,
}

/// `registry "local" address=... { insecure; pull-secret; deploy }`.
#[derive(Clone, Debug)]
pub struct Registry {
    /// Name.
    pub name: Name,
    /// Host and port, without scheme.
    pub address: Spanned<HostPort>,
    /// `http` or `https` when the address was written with a scheme.
    pub scheme: Option<Spanned<String>>,
    /// Explicit `insecure #true` (plain HTTP).
    pub insecure: Option<Spanned<bool>>,
    /// Secret holding the pull credentials.
    pub pull_secret: Option<Name>,
    /// Run registry:2 in the cluster.
    pub deploy: Option<RegistryDeploy>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Registry {
    /// Whether pulls and pushes use plain HTTP.
    pub fn is_insecure(&self) -> bool {
        self.insecure.as_ref().is_some_and(|i| i.value)
    }

    /// The endpoint nodes' container runtimes pull through when they mirror
    /// the registry: `http://host:port` for an insecure one, else `https://`.
    pub fn mirror_endpoint(&self) -> String {
        let scheme = if self.is_insecure() { "http" } else { "https" };
        format!("{scheme}://{}", self.address.value)
    }
}

/// `deploy storage="10Gi" node-port=30500`.
#[derive(Clone, Debug)]
pub struct RegistryDeploy {
    /// Size of the storage volume.
    pub storage: Spanned<Quantity>,
    /// NodePort to expose it on.
    pub node_port: Option<Spanned<u16>>,
    /// Namespace to run it in (default `registry`).
    pub namespace: Name,
    /// The whole child.
    pub span: Span,
}

/// `namespace "name" pod-security=...`.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Name.
    pub name: Name,
    /// Pod Security level enforced (default restricted).
    pub pod_security: Spanned<PodSecurity>,
    /// The component that declared this namespace, if any: it owns the
    /// Namespace object (and the secrets placed in it).
    pub component: Option<String>,
    /// Whether only a stdlib component declares it (the user did not).
    pub from_stdlib: bool,
    /// `label "key" "value"`: labels of the Namespace object.
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
    /// `annotation "key" "value"`: annotations of the Namespace object.
    pub annotations: Vec<(Spanned<String>, Spanned<String>)>,
    /// The whole declaration.
    pub span: Span,
}

/// `app "name" namespace=... { ... }`.
#[derive(Clone, Debug)]
pub struct App {
    /// Name (DNS-1035: it names the Service too).
    pub name: Name,
    /// Namespace (default: the app's name).
    pub namespace: Name,
    /// The workload shape as written (`kind=`); see [`App::workload`].
    pub kind: Option<Spanned<WorkloadKind>>,
    /// A CronJob's schedule.
    pub schedule: Option<Spanned<Cron>>,
    /// A CronJob's concurrency policy (default forbid).
    pub concurrency: Option<Spanned<Concurrency>>,
    /// How often a Job's pod is retried before the Job fails.
    pub backoff_limit: Option<Spanned<u32>>,
    /// The app's own container (named after the app).
    pub container: Container,
    /// Sidecar containers, running beside the app's own.
    pub sidecars: Vec<Container>,
    /// Init containers, run to completion in order before the others start.
    pub inits: Vec<Container>,
    /// Replicas (default 1, spanned at the app's name when not written).
    pub replicas: Spanned<u32>,
    /// The Service.
    pub service: Option<Service>,
    /// Ingress routes.
    pub ingresses: Vec<Ingress>,
    /// Gateway API routes.
    pub routes: Vec<Route>,
    /// The pod's volumes: own claims, shared claims, NFS, host paths, scratch.
    pub volumes: Vec<Volume>,
    /// Files from the description mounted through ConfigMaps.
    pub configs: Vec<ConfigFile>,
    /// Declared secrets mounted as files.
    pub secret_files: Vec<SecretFile>,
    /// Prometheus scraping.
    pub metrics: Option<Metrics>,
    /// Spread replicas across nodes or zones.
    pub spread: Option<Spanned<SpreadKey>>,
    /// Horizontal autoscaling.
    pub autoscale: Option<Autoscale>,
    /// Apps, charts or components this app needs first.
    pub depends_on: Vec<Name>,
    /// The one node the pods run on (`node=`).
    pub node: Option<Name>,
    /// Node labels the pods' node must have.
    pub node_selector: Vec<(Spanned<String>, Spanned<String>)>,
    /// Taints the pods tolerate.
    pub tolerations: Vec<Toleration>,
    /// Extended resources (GPUs) the app's container asks for.
    pub gpus: Vec<Gpu>,
    /// Read-only root file system (default true).
    pub read_only_root: Spanned<bool>,
    /// User id to run as (default 65532).
    pub run_as_user: Option<Spanned<i64>>,
    /// Group id to run as (default: the user id).
    pub run_as_group: Option<Spanned<i64>>,
    /// Linux capabilities added to the dropped-ALL baseline.
    pub capabilities: Vec<Spanned<String>>,
    /// What the app may reach besides DNS and what it depends on.
    pub egress: Vec<Egress>,
    /// Privileged container.
    pub privileged: Option<Spanned<bool>>,
    /// Host network.
    pub host_network: Option<Spanned<bool>>,
    /// Explicit permission for privileged or host-network pods.
    pub allow_privileged: Option<Spanned<bool>>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl App {
    /// The workload shape: as written, else a StatefulSet when the app has an
    /// own claim (`volume ... size=`), else a Deployment.
    pub fn workload(&self) -> WorkloadKind {
        match &self.kind {
            Some(kind) => kind.value,
            None if self.volumes.iter().any(|v| v.own_claim().is_some()) => WorkloadKind::Statefulset,
            None => WorkloadKind::Deployment,
        }
    }

    /// The containers that run side by side: the app's own, then its sidecars.
    pub fn running_containers(&self) -> impl Iterator<Item = &Container> {
        std::iter::once(&self.container).chain(&self.sidecars)
    }

    /// Every container of the pod: the app's own, its sidecars, its init containers.
    pub fn containers(&self) -> impl Iterator<Item = &Container> {
        self.running_containers().chain(&self.inits)
    }

    /// The ports of the pod (every running container's), by name.
    pub fn pod_ports(&self) -> impl Iterator<Item = &Port> {
        self.running_containers().flat_map(|c| &c.ports)
    }

    /// The pod's port named `name`.
    pub fn pod_port(&self, name: &str) -> Option<&Port> {
        self.pod_ports().find(|p| p.name.value == name)
    }

    /// The app's own claims (`volume ... size=`), with their volumes.
    pub fn own_claims(&self) -> impl Iterator<Item = (&Volume, &OwnClaim)> {
        self.volumes.iter().filter_map(|v| v.own_claim().map(|c| (v, c)))
    }
}

/// A container of an app's pod: the app's own, a sidecar
/// (`container "NAME" { ... }`) or an init container (`init "NAME" { ... }`).
#[derive(Clone, Debug)]
pub struct Container {
    /// Its name (the app's name for the app's own container).
    pub name: Name,
    /// The image.
    pub image: Option<Image>,
    /// Named container ports.
    pub ports: Vec<Port>,
    /// Names of ports written with a number that could not be read (reported
    /// then): what refers to them is not reported again.
    pub unread_ports: Vec<String>,
    /// Probes.
    pub probes: Vec<Probe>,
    /// Requests and limits.
    pub resources: Option<Resources>,
    /// Environment variables.
    pub env: Vec<Env>,
    /// Whole secrets or configs as environment variables.
    pub env_from: Vec<EnvFrom>,
    /// Command.
    pub command: Vec<Spanned<String>>,
    /// Arguments.
    pub args: Vec<Spanned<String>>,
    /// Volumes, configs and secret files of the pod this container mounts
    /// (`mount "VOLUME" path=...`; the app's own container mounts them all).
    pub mounts: Vec<Mount>,
    /// The whole child (the app's declaration for the app's own container).
    pub span: Span,
}

/// `env-from secret="NAME"` or `env-from config="NAME"`.
#[derive(Clone, Debug)]
pub enum EnvFrom {
    /// Every key of a declared secret.
    Secret(Name),
    /// Every key of one of the app's `config`s (an `env-file=` one).
    Config(Name),
}

/// `mount "VOLUME" path="/data" read-only=#true` in a sidecar or init container.
#[derive(Clone, Debug)]
pub struct Mount {
    /// The volume, config or secret file of the app.
    pub volume: Name,
    /// Where.
    pub path: Spanned<String>,
    /// Read-only (default: as the volume is).
    pub read_only: Option<Spanned<bool>>,
}

/// `config "NAME" file="config/app.yaml" mount="/etc/app/app.yaml"` or
/// `config "NAME" env-file="config/app.env"`: a ConfigMap made from a file,
/// named with a hash of its content so that pods roll when it changes.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// Its name in the app.
    pub name: Name,
    /// The file, relative to the declaring file (resolved by `attach`).
    pub file: Spanned<String>,
    /// Whether the file holds `KEY=value` lines (`env-file=`), each a key of the ConfigMap.
    pub env_file: bool,
    /// Where the main container sees it: a file path (mounted with `subPath`)
    /// or, ending in `/`, a directory.
    pub mount: Option<Spanned<String>>,
    /// The whole child.
    pub span: Span,
}

/// `secret-file "NAME" mount="/etc/app/token" key="token"`: a declared
/// secret mounted as files (one key with `subPath`, or all keys as a folder).
#[derive(Clone, Debug)]
pub struct SecretFile {
    /// The declared secret.
    pub secret: Name,
    /// Where the main container sees it.
    pub mount: Spanned<String>,
    /// The one key mounted as the file `mount`; every key as a folder when absent.
    pub key: Option<Spanned<String>>,
    /// The whole child.
    pub span: Span,
}

/// `tolerate "KEY" "VALUE" effect="NoSchedule"`.
#[derive(Clone, Debug)]
pub struct Toleration {
    /// The taint key.
    pub key: Spanned<String>,
    /// Its value; any value when absent.
    pub value: Option<Spanned<String>>,
    /// The effect tolerated; every effect when absent.
    pub effect: Option<Spanned<TaintEffect>>,
    /// The whole child.
    pub span: Span,
}

impl Toleration {
    /// Whether it tolerates `taint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        self.key.value == taint.key.value
            && self.value.as_ref().is_none_or(|v| Some(&v.value) == taint.value.as_ref().map(|t| &t.value))
            && self.effect.as_ref().is_none_or(|e| e.value == taint.effect.value)
    }
}

/// `gpu "nvidia.com/gpu" 1`: an extended resource, on an app or a node.
#[derive(Clone, Debug)]
pub struct Gpu {
    /// The resource name (`vendor/resource`).
    pub resource: Spanned<String>,
    /// How many.
    pub count: Spanned<u32>,
}

/// `egress "internet"`, `egress "192.168.1.10/32" port=2049`, `egress "lan"`.
#[derive(Clone, Debug)]
pub struct Egress {
    /// Where to.
    pub to: Spanned<EgressTarget>,
    /// The port, when only one may be reached.
    pub port: Option<Spanned<u16>>,
    /// Its protocol (default TCP).
    pub protocol: Spanned<Protocol>,
    /// The whole child.
    pub span: Span,
}

/// What an `egress` reaches.
#[derive(Clone, Debug, PartialEq)]
pub enum EgressTarget {
    /// Every address outside the cluster's CIDRs and the declared networks.
    Internet,
    /// A CIDR.
    Cidr(IpNet),
    /// A declared network, by name.
    Network(Name),
}

/// `image "repo/name" registry=... tag=... digest=... arch=...`.
#[derive(Clone, Debug)]
pub struct Image {
    /// Repository, without registry host when `registry=` is given.
    pub repository: Spanned<String>,
    /// The declared registry it is pulled from.
    pub registry: Option<Name>,
    /// Tag.
    pub tag: Option<Spanned<String>>,
    /// Digest (`sha256:...`).
    pub digest: Option<Spanned<String>>,
    /// The single architecture the image is built for, when it is not multi-arch.
    pub arch: Option<Spanned<Arch>>,
    /// The whole child.
    pub span: Span,
}

/// `port "http" 8000 protocol="TCP"`.
#[derive(Clone, Debug)]
pub struct Port {
    /// Port name (IANA service name style, at most 15 characters).
    pub name: Name,
    /// Container port.
    pub number: Spanned<u16>,
    /// Protocol.
    pub protocol: Spanned<Protocol>,
}

/// `service type=... pool=... { expose "http" 80 node-port=... }`.
#[derive(Clone, Debug)]
pub struct Service {
    /// Service type.
    pub kind: Spanned<ServiceType>,
    /// MetalLB pool for LoadBalancer services.
    pub pool: Option<Name>,
    /// A fixed LoadBalancer address, inside the pool.
    pub address: Option<Spanned<IpAddr>>,
    /// Exposed ports.
    pub exposes: Vec<Expose>,
    /// The whole child.
    pub span: Span,
}

/// `expose "http" 80 node-port=30080`.
#[derive(Clone, Debug)]
pub struct Expose {
    /// The app port exposed.
    pub port: Name,
    /// The Service port.
    pub number: Spanned<u16>,
    /// The NodePort, for NodePort and LoadBalancer services.
    pub node_port: Option<Spanned<u16>>,
    /// The whole child.
    pub span: Span,
}

/// `ingress host=... path=... port=... tls=...`.
#[derive(Clone, Debug)]
pub struct Ingress {
    /// Host, completed with the homelab domain when it has no dot.
    pub host: Spanned<String>,
    /// Path prefix (default `/`).
    pub path: Spanned<String>,
    /// The app port routed to.
    pub port: Name,
    /// Whether to terminate TLS (`tls=`, default false at the node's name),
    /// with a certificate from the cluster's issuer.
    pub tls: Spanned<bool>,
    /// Ingress class, overriding the cluster's.
    pub class: Option<Spanned<String>>,
    /// The whole child.
    pub span: Span,
}

/// `probe "liveness" http=... port=... delay=... period=...`.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Liveness, readiness or startup.
    pub kind: Spanned<ProbeKind>,
    /// HTTP path; a TCP probe when absent.
    pub http: Option<Spanned<String>>,
    /// The app port probed.
    pub port: Name,
    /// Initial delay.
    pub delay: Option<Spanned<Duration>>,
    /// Period.
    pub period: Option<Spanned<Duration>>,
    /// The whole child.
    pub span: Span,
}

/// `resources cpu=... memory=... cpu-limit=... memory-limit=...`.
#[derive(Clone, Debug)]
pub struct Resources {
    /// CPU request.
    pub cpu: Option<Spanned<Quantity>>,
    /// Memory request.
    pub memory: Option<Spanned<Quantity>>,
    /// CPU limit.
    pub cpu_limit: Option<Spanned<Quantity>>,
    /// Memory limit.
    pub memory_limit: Option<Spanned<Quantity>>,
    /// The whole child.
    pub span: Span,
}

/// `env "NAME" "value"` or `env "NAME" secret=... key=...`.
#[derive(Clone, Debug)]
pub struct Env {
    /// Variable name.
    pub name: Spanned<String>,
    /// Its value.
    pub value: EnvValue,
    /// The whole child.
    pub span: Span,
}

/// The value of an environment variable.
#[derive(Clone, Debug)]
pub enum EnvValue {
    /// A literal.
    Literal(Spanned<String>),
    /// A key of a declared secret.
    Secret {
        /// The secret.
        secret: Name,
        /// The key in it.
        key: Spanned<String>,
    },
}

/// `volume "data" mount=... (size=... | claim=... | nfs=... | host-path=... | empty-dir=#true)`.
#[derive(Clone, Debug)]
pub struct Volume {
    /// Volume name.
    pub name: Name,
    /// Mount path in the app's own container.
    pub mount: Spanned<String>,
    /// Where its data lives.
    pub source: VolumeSource,
    /// Mounted read-only.
    pub read_only: Option<Spanned<bool>>,
    /// The whole child.
    pub span: Span,
}

impl Volume {
    /// The app's own claim, for `size=` volumes.
    pub fn own_claim(&self) -> Option<&OwnClaim> {
        match &self.source {
            VolumeSource::Own(claim) => Some(claim),
            _ => None,
        }
    }

    /// Whether it is mounted read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only.as_ref().is_some_and(|r| r.value)
    }
}

/// Where a volume's data lives.
#[derive(Clone, Debug)]
pub enum VolumeSource {
    /// A claim of the app's own (`size=`): a StatefulSet's claim template, or
    /// a PersistentVolumeClaim named `<app>-<volume>` for other workloads.
    Own(OwnClaim),
    /// A declared `claim` (`claim=`), shared with other apps.
    Claim(Name),
    /// An NFS export (`nfs="host:/path"`).
    Nfs {
        /// The server's address or host name.
        server: Spanned<String>,
        /// The exported path.
        path: Spanned<String>,
    },
    /// A path of the node (`host-path=`).
    HostPath(Spanned<String>),
    /// Scratch space that lives as long as the pod (`empty-dir=#true`).
    EmptyDir {
        /// Its size limit.
        size_limit: Option<Spanned<Quantity>>,
    },
}

/// The claim a `volume ... size=` makes.
#[derive(Clone, Debug)]
pub struct OwnClaim {
    /// Its size.
    pub size: Spanned<Quantity>,
    /// Its storage class (the cluster's default when absent).
    pub storage_class: Option<Name>,
    /// The `backup` that backs it up.
    pub backup: Option<Name>,
}

/// `claim "NAME" namespace=... size=... storage-class=... access=... backup=...`:
/// a PersistentVolumeClaim apps share.
#[derive(Clone, Debug)]
pub struct Claim {
    /// Name.
    pub name: Name,
    /// Namespace.
    pub namespace: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// Its size.
    pub size: Spanned<Quantity>,
    /// Its storage class (the cluster's default when absent).
    pub storage_class: Option<Name>,
    /// How it may be mounted (default ReadWriteOnce).
    pub access: Spanned<AccessMode>,
    /// The `backup` that backs it up.
    pub backup: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// `storage-class "NAME" provisioner=... default=... reclaim=... binding=... expansion=... { parameter "K" "V" }`.
#[derive(Clone, Debug)]
pub struct StorageClass {
    /// Name.
    pub name: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The CSI driver or provisioner.
    pub provisioner: Spanned<String>,
    /// Whether it is the cluster's default class.
    pub default: Option<Spanned<bool>>,
    /// What happens to volumes of deleted claims (default Delete).
    pub reclaim: Option<Spanned<ReclaimPolicy>>,
    /// When volumes are bound (default WaitForFirstConsumer).
    pub binding: Option<Spanned<VolumeBinding>>,
    /// Whether claims may grow.
    pub expansion: Option<Spanned<bool>>,
    /// Provisioner parameters.
    pub parameters: Vec<(Spanned<String>, Spanned<String>)>,
    /// The whole declaration.
    pub span: Span,
}

/// `backup "NAME" repository=... secret=... schedule=... keep-daily=...`: a
/// restic repository VolSync backs volumes up to.
#[derive(Clone, Debug)]
pub struct Backup {
    /// Name.
    pub name: Name,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The restic repository URL; each volume gets its own repository below it.
    pub repository: Spanned<String>,
    /// The secret with the repository password and credentials, declared in
    /// each backed-up volume's namespace.
    pub secret: Name,
    /// When backups run.
    pub schedule: Spanned<Cron>,
    /// Retention: snapshots kept per period.
    pub keep: Vec<(Spanned<KeepPeriod>, Spanned<u32>)>,
    /// How the copy is taken (default Direct).
    pub copy_method: Option<Spanned<CopyMethod>>,
    /// The whole declaration.
    pub span: Span,
}

/// `metrics path=... port=... interval=... dashboard=#true`.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Scrape path (default `/metrics`).
    pub path: Spanned<String>,
    /// The app port scraped.
    pub port: Name,
    /// Scrape interval (default 30s).
    pub interval: Spanned<Duration>,
    /// `dashboard=#true`: the app gets a default dashboard of its own (with
    /// its requests and limits as thresholds) besides the shared apps
    /// dashboard every app with `metrics` is on.
    pub dashboard: bool,
    /// The whole child.
    pub span: Span,
}

/// `autoscale min=... max=... cpu=... memory=...`.
#[derive(Clone, Debug)]
pub struct Autoscale {
    /// Minimum replicas.
    pub min: Spanned<u32>,
    /// Maximum replicas.
    pub max: Spanned<u32>,
    /// Target CPU utilisation, percent.
    pub cpu: Option<Spanned<u32>>,
    /// Target memory utilisation, percent.
    pub memory: Option<Spanned<u32>>,
    /// The whole child.
    pub span: Span,
}

/// `chart "name" namespace=... repo=... chart=... version=... { values; values-file }`.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Release name.
    pub name: Name,
    /// Namespace.
    pub namespace: Name,
    /// Chart repository URL (`https://` or `oci://`).
    pub repo: Spanned<String>,
    /// Chart name in the repository.
    pub chart: Spanned<String>,
    /// Pinned chart version.
    pub version: Spanned<String>,
    /// Inline values.
    pub values: Option<Value>,
    /// Values file, merged under `values`.
    pub values_file: Option<Spanned<String>>,
    /// The values of the values file once it is read (every node at the
    /// span of `values-file`), for the checks.
    pub file_values: Option<Value>,
    /// Whether the chart installs CRDs others need.
    pub provides_crds: bool,
    /// `pod-security=`: the Pod Security level its pods need (its namespace
    /// gets it when the namespace declares none).
    pub pod_security: Option<Spanned<PodSecurity>>,
    /// What the chart needs first.
    pub depends_on: Vec<Name>,
    /// The component that declared this chart, if any.
    pub component: Option<String>,
    /// The declarations whose settings the chart's values carry (the `dns`
    /// declarations external-dns is configured from): its objects are made
    /// for them too.
    pub implied_by: Vec<DeclId>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// A values tree (`values { ... }` in KDL), carrying spans for diagnostics.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// The value.
    pub kind: ValueKind,
    /// Where it was written.
    pub span: Span,
}

/// The shape of a [`Value`].
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A mapping, keys sorted, each with the span of the key.
    Map(BTreeMap<String, (Span, Value)>),
}

impl ValueKind {
    /// A scalar as text (strings as they are, numbers and booleans written
    /// out); `None` for null, lists and mappings.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            ValueKind::String(s) => Some(s.clone()),
            ValueKind::Int(i) => Some(i.to_string()),
            ValueKind::Bool(b) => Some(b.to_string()),
            ValueKind::Float(f) => Some(f.to_string()),
            ValueKind::Null | ValueKind::List(_) | ValueKind::Map(_) => None,
        }
    }
}

/// A NodePort written in Helm values or as a component parameter.
#[derive(Clone, Debug)]
pub struct NodePortValue {
    /// Where it is: the dotted path in the values (`service.http.nodePort`),
    /// or the parameter's name (`grafana-node-port`).
    pub path: String,
    /// The number as written (range-checked by E0401).
    pub number: i128,
    /// Where it was written.
    pub span: Span,
}

impl Value {
    /// The value at a path of mapping keys (`["server", "env"]`), if there is one.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |value, key| match &value.kind {
            ValueKind::Map(map) => map.get(*key).map(|(_, v)| v),
            _ => None,
        })
    }

    /// Every `nodePort` key of a values tree, and every port under a
    /// `nodePorts` key (ingress-nginx's `controller.service.nodePorts.http`),
    /// written as a number or as a string of digits (`"30080"`, which Helm
    /// templates pass on as the number), in key order: the one rule by which
    /// the ports check and the inventory find chart NodePorts.
    pub fn node_ports(&self) -> Vec<NodePortValue> {
        fn number(value: &Value) -> Option<i128> {
            match &value.kind {
                ValueKind::Int(number) => Some(*number),
                ValueKind::String(s) if !s.is_empty() && s.len() < 10 && s.bytes().all(|b| b.is_ascii_digit()) => {
                    s.parse().ok()
                }
                _ => None,
            }
        }
        fn walk(value: &Value, path: &str, out: &mut Vec<NodePortValue>) {
            let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            match &value.kind {
                ValueKind::Map(map) => {
                    for (key, (_, child)) in map {
                        match (key.as_str(), number(child), &child.kind) {
                            ("nodePort", Some(number), _) => {
                                out.push(NodePortValue { path: join(key), number, span: child.span });
                            }
                            ("nodePorts", _, ValueKind::Map(ports)) => {
                                for (name, (_, port)) in ports {
                                    if let Some(number) = number(port) {
                                        let path = format!("{}.{name}", join(key));
                                        out.push(NodePortValue { path, number, span: port.span });
                                    }
                                }
                            }
                            _ => walk(child, &join(key), out),
                        }
                    }
                }
                ValueKind::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{path}[{i}]"), out);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, "", &mut out);
        out
    }
}

impl Use {
    /// The NodePorts a `use` opens: its integer `…node-port` parameters, then
    /// the `nodePort` keys of its values.
    pub fn node_ports(&self) -> Vec<NodePortValue> {
        let params = self.params.iter().filter(|(key, _)| key.contains("node-port"));
        let mut out: Vec<NodePortValue> = params
            .filter_map(|(key, (_, value))| match value.kind {
                ValueKind::Int(number) => Some(NodePortValue { path: key.clone(), number, span: value.span }),
                _ => None,
            })
            .collect();
        out.extend(self.values.iter().flat_map(Value::node_ports));
        out
    }
}

/// Deep-merges `over` into `base`: mappings merge key by key, anything else
/// is replaced (`over` wins), as Helm merges values.
pub fn merge_values(base: &mut Value, over: Value) {
    match (&mut base.kind, over.kind) {
        (ValueKind::Map(into), ValueKind::Map(from)) => {
            for (key, (span, value)) in from {
                match into.get_mut(&key) {
                    Some((_, existing)) => merge_values(existing, value),
                    None => {
                        into.insert(key, (span, value));
                    }
                }
            }
        }
        (_, kind) => {
            base.kind = kind;
            base.span = over.span;
        }
    }
}

/// `secret "name" namespace=... from=... file=... store=... key=...`.
#[derive(Clone, Debug)]
pub struct Secret {
    /// Name.
    pub name: Name,
    /// Namespace.
    pub namespace: Name,
    /// Where its material comes from.
    pub source: SecretSource,
    /// Its type (`type=`, default `opaque`).
    pub secret_type: Spanned<SecretType>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// Where a secret's material comes from.
#[derive(Clone, Debug)]
pub enum SecretSource {
    /// A SOPS-encrypted file (logical path).
    Sops {
        /// The file.
        file: Spanned<String>,
    },
    /// A SealedSecret file (logical path).
    Sealed {
        /// The file.
        file: Spanned<String>,
    },
    /// Made by hand on the cluster before the first sync (`from="existing"`):
    /// never in Git, named in the inventory's bootstrap steps.
    Existing,
    /// An external-secrets store.
    External {
        /// The SecretStore / ClusterSecretStore name.
        store: Spanned<String>,
        /// The key in the store.
        key: Spanned<String>,
    },
}

/// `secret-store "name" provider=... server=... path=... auth-secret=...`: an
/// external-secrets ClusterSecretStore that ExternalSecrets read from.
#[derive(Clone, Debug)]
pub struct SecretStore {
    /// Name.
    pub name: Name,
    /// The secret manager.
    pub provider: Spanned<StoreProvider>,
    /// Its address (Vault, 1Password Connect, Bitwarden's API, another cluster's API server).
    pub server: Option<Spanned<String>>,
    /// Vault's KV mount, 1Password's vault, Bitwarden's project, the namespace of a kubernetes store.
    pub path: Option<Spanned<String>>,
    /// The secret holding the store's own credentials, in the external-secrets namespace.
    pub auth_secret: Option<Name>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl SecretStore {
    /// The namespace a `kubernetes` store reads from this very cluster (no
    /// `server=`): the store's objects give it a reader there.
    pub fn local_namespace(&self) -> Option<&str> {
        let local = self.provider.value == StoreProvider::Kubernetes && self.server.is_none();
        self.path.as_ref().filter(|_| local).map(|p| p.value.as_str())
    }
}

/// `issuer "name" kind=... email=... solver=... provider=... token-secret=... secret=...`:
/// a cert-manager ClusterIssuer.
#[derive(Clone, Debug)]
pub struct Issuer {
    /// Name.
    pub name: Name,
    /// ACME, a CA from a secret, or self-signed.
    pub kind: Spanned<IssuerKind>,
    /// ACME: the account's email.
    pub email: Option<Spanned<String>>,
    /// ACME: the directory URL (default Let's Encrypt's production directory).
    pub server: Option<Spanned<String>>,
    /// ACME: how names are proven.
    pub solver: Option<Spanned<AcmeSolver>>,
    /// ACME dns01: the DNS provider.
    pub provider: Option<Spanned<DnsProvider>>,
    /// ACME dns01: the secret holding the provider's API token, in cert-manager's namespace.
    pub token_secret: Option<Name>,
    /// CA: the secret holding the CA's certificate and key, in cert-manager's namespace.
    pub secret: Option<Name>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// `pipeline "name" engine=... { source; trigger; step; build; deploy; workspace }`.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Name.
    pub name: Name,
    /// CI engine.
    pub engine: Spanned<Engine>,
    /// `namespace=`: where the in-cluster engines run the pipeline's pods.
    pub namespace: Option<Name>,
    /// The source repository.
    pub source: Option<Source>,
    /// What starts it.
    pub triggers: Vec<Spanned<Trigger>>,
    /// Test and other steps, in order.
    pub steps: Vec<Step>,
    /// The image build.
    pub build: Option<Build>,
    /// The deploy.
    pub deploy: Option<Deploy>,
    /// A persistent workspace.
    pub workspace: Option<Workspace>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Pipeline {
    /// The namespace the pipeline's pods run in: `namespace=`, else the
    /// engine's own (`ci` for Tekton, `drone` for the Drone runner's
    /// namespace, `woodpecker` for Woodpecker's Kubernetes backend). `None`
    /// for GitHub Actions, whose runner is outside the cluster.
    pub fn namespace(&self) -> Option<&str> {
        if let Some(ns) = &self.namespace {
            return Some(&ns.value);
        }
        match self.engine.value {
            Engine::Tekton => Some(TEKTON_NAMESPACE),
            Engine::Drone => Some(DRONE_NAMESPACE),
            Engine::Woodpecker => Some(WOODPECKER_NAMESPACE),
            Engine::GithubActions => None,
        }
    }

    /// The triggers a forge's webhook delivers (every trigger but `manual`).
    pub fn webhooks(&self) -> impl Iterator<Item = &Spanned<Trigger>> {
        self.triggers.iter().filter(|t| t.value != Trigger::Manual)
    }
}

/// The namespace of the `cert-manager` component, where ClusterIssuers read their secrets.
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
/// The namespace of the `external-secrets` component, where ClusterSecretStores read their credentials.
pub const EXTERNAL_SECRETS_NAMESPACE: &str = "external-secrets";

/// Where Tekton pipelines run when they name no namespace.
pub const TEKTON_NAMESPACE: &str = "ci";
/// Where the Drone Kubernetes runner (the `drone` component) runs steps.
pub const DRONE_NAMESPACE: &str = "drone";
/// Where Woodpecker's Kubernetes backend runs steps by default.
pub const WOODPECKER_NAMESPACE: &str = "woodpecker";

/// `source repo=... branch=...`.
#[derive(Clone, Debug)]
pub struct Source {
    /// Repository URL.
    pub repo: Spanned<String>,
    /// Branch (default `main`).
    pub branch: Spanned<String>,
    /// The whole child.
    pub span: Span,
}

/// `step "name" image=... { run "..." }`.
#[derive(Clone, Debug)]
pub struct Step {
    /// Step name.
    pub name: Name,
    /// Container image.
    pub image: Spanned<String>,
    /// Commands, in order.
    pub run: Vec<Spanned<String>>,
    /// The whole child.
    pub span: Span,
}

/// `build app=... context=... dockerfile=...`.
#[derive(Clone, Debug)]
pub struct Build {
    /// The app whose image is built.
    pub app: Name,
    /// Build context (default `.`).
    pub context: Spanned<String>,
    /// Dockerfile (default `Dockerfile`).
    pub dockerfile: Spanned<String>,
    /// The whole child.
    pub span: Span,
}

/// `deploy app=... via=...`.
#[derive(Clone, Debug)]
pub struct Deploy {
    /// The app deployed.
    pub app: Name,
    /// GitOps bump or kubectl rollout.
    pub via: Spanned<DeployVia>,
    /// `secret=`: the credentials a GitOps deploy pushes with (a Secret in the
    /// pipeline's namespace for Tekton, the engine's secret name otherwise).
    pub secret: Option<Name>,
    /// The whole child.
    pub span: Span,
}

/// `workspace size=...`.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Size of the workspace claim.
    pub size: Spanned<Quantity>,
    /// The whole child.
    pub span: Span,
}

/// `dashboard "name" folder=... { row { panel { query } } }`.
#[derive(Clone, Debug)]
pub struct Dashboard {
    /// Name.
    pub name: Name,
    /// Title (default: the name).
    pub title: Spanned<String>,
    /// Grafana folder (default `general`).
    pub folder: Spanned<String>,
    /// Rows of panels.
    pub rows: Vec<Row>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// `row "title" { panel ... }`; panels given outside any row form an untitled row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Title, none for the implicit first row.
    pub title: Option<Spanned<String>>,
    /// Panels.
    pub panels: Vec<Panel>,
}

/// `panel "title" kind=... unit=... { query ... }`.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Title.
    pub title: Spanned<String>,
    /// Panel type.
    pub kind: Spanned<PanelKind>,
    /// Unit.
    pub unit: Option<Spanned<String>>,
    /// Queries.
    pub queries: Vec<Query>,
    /// Lowest value of the axis or gauge (`min=`).
    pub min: Option<Spanned<f64>>,
    /// Highest value of the axis or gauge (`max=`).
    pub max: Option<Spanned<f64>>,
    /// Where the legend goes (`legend=`; default bottom).
    pub legend: Option<Spanned<LegendPlacement>>,
    /// Threshold steps above the base (green) step, in the order written.
    pub thresholds: Vec<Threshold>,
    /// The whole child.
    pub span: Span,
}

/// `threshold 80 color="red"`: values from 80 up are shown red.
#[derive(Clone, Debug)]
pub struct Threshold {
    /// Where the step starts.
    pub value: Spanned<f64>,
    /// A Grafana color name (`orange`, `red`, ...) or `#rrggbb`.
    pub color: Spanned<String>,
}

/// `query "promql" legend=...`.
#[derive(Clone, Debug)]
pub struct Query {
    /// PromQL.
    pub expr: Spanned<String>,
    /// Legend format.
    pub legend: Option<Spanned<String>>,
}

/// `alert "Name" expr=... for=... severity=... { summary; description }`.
#[derive(Clone, Debug)]
pub struct Alert {
    /// Alert name (Prometheus style, e.g. `DemoAppDown`).
    pub name: Spanned<String>,
    /// Namespace of the PrometheusRule (default `monitoring`).
    pub namespace: Name,
    /// PromQL condition.
    pub expr: Spanned<String>,
    /// How long the condition must hold.
    pub for_: Option<Spanned<Duration>>,
    /// Severity label.
    pub severity: Spanned<AlertSeverity>,
    /// Summary annotation.
    pub summary: Option<Spanned<String>>,
    /// Description annotation.
    pub description: Option<Spanned<String>>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// `manifest "path.yaml"`.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Logical path of the YAML file.
    pub path: Spanned<String>,
    /// The Kubernetes objects of the file, in file order (filled in once the
    /// file is read; empty when it could not be read or parsed).
    pub objects: Vec<ManifestObject>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

/// One Kubernetes object of a `manifest` file.
#[derive(Clone, Debug, PartialEq)]
pub struct ManifestObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, when it has one.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The whole object, as read.
    pub value: serde_json::Value,
}

impl ManifestObject {
    /// The API group of its apiVersion (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }
}

impl Manifest {
    /// The name of the unit of its cluster-scoped objects: its path with
    /// every run of other characters than `[a-z0-9]` made one `-`
    /// (`mesh/peer-authentication.yaml` → `mesh-peer-authentication`).
    pub fn stem(&self) -> String {
        let path = self.path.value.strip_suffix(".yaml").or_else(|| self.path.value.strip_suffix(".yml"));
        let mut stem = String::new();
        for c in path.unwrap_or(&self.path.value).chars() {
            if c.is_ascii_alphanumeric() {
                stem.push(c.to_ascii_lowercase());
            } else if !stem.is_empty() && !stem.ends_with('-') {
                stem.push('-');
            }
        }
        stem.trim_end_matches('-').to_string()
    }
}

/// How a cluster installs Helm charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartInstaller {
    /// Flux's helm-controller (HelmRelease).
    Flux,
    /// Argo CD (Application with a helm source).
    Argocd,
    /// k3s's built-in helm-controller (HelmChart in kube-system).
    K3s,
}

/// A stdlib component included in the description, with its parameters bound.
#[derive(Clone, Debug)]
pub struct Component {
    /// Name (`metallb`, `kube-prometheus-stack`, ...).
    pub name: String,
    /// What it is, one line.
    pub description: String,
    /// Every parameter with its bound value (`None`: optional and unset).
    pub params: BTreeMap<String, Option<ValueKind>>,
    /// Why it is included: `use`d, or needed by a declaration.
    pub reason: String,
    /// Included only because of a cluster's defaults (ingress-nginx for
    /// `ingress "nginx"`), not by anything the user wrote about it.
    pub by_default: bool,
}

impl Component {
    /// A bound parameter as text (strings as they are, numbers and booleans written out).
    pub fn param_text(&self, name: &str) -> Option<String> {
        self.params.get(name)?.as_ref()?.scalar_text()
    }
}

/// `use "component" { param value; values { ... } }`.
#[derive(Clone, Debug)]
pub struct Use {
    /// The component's name.
    pub component: Spanned<String>,
    /// Parameters, by name.
    pub params: BTreeMap<String, (Span, Value)>,
    /// Values deep-merged over the component's.
    pub values: Option<Value>,
    /// The cluster, when several are declared.
    pub cluster: Option<Name>,
    /// The whole declaration.
    pub span: Span,
}

impl Model {
    /// Where the output tree goes: the `gitops path=` of the first cluster
    /// that has one, else [`DEFAULT_TREE`].
    pub fn output_folder(&self) -> &str {
        self.clusters.iter().find_map(|c| c.gitops.as_ref()).map_or(DEFAULT_TREE, |g| g.path.value.as_str())
    }

    /// Makes room in every list of declarations for those of `others`, to be
    /// appended ([`Model::append`]) each once, not regrown file by file.
    pub fn reserve_for(&mut self, others: &[&Model]) {
        let count = |list: fn(&Model) -> usize| others.iter().map(|other| list(other)).sum::<usize>();
        // Destructured, so that a new kind of declaration cannot be forgotten here.
        let Model {
            homelab: _,
            networks,
            clusters,
            nodes,
            pools,
            registries,
            namespaces,
            apps,
            charts,
            secrets,
            secret_stores,
            issuers,
            gateways,
            dns,
            tunnels,
            pipelines,
            dashboards,
            alerts,
            claims,
            storage_classes,
            backups,
            manifests,
            uses,
            components,
            attachments: _,
            scope: _,
        } = self;
        networks.reserve(count(|m| m.networks.len()));
        clusters.reserve(count(|m| m.clusters.len()));
        nodes.reserve(count(|m| m.nodes.len()));
        pools.reserve(count(|m| m.pools.len()));
        registries.reserve(count(|m| m.registries.len()));
        namespaces.reserve(count(|m| m.namespaces.len()));
        apps.reserve(count(|m| m.apps.len()));
        charts.reserve(count(|m| m.charts.len()));
        secrets.reserve(count(|m| m.secrets.len()));
        secret_stores.reserve(count(|m| m.secret_stores.len()));
        issuers.reserve(count(|m| m.issuers.len()));
        gateways.reserve(count(|m| m.gateways.len()));
        dns.reserve(count(|m| m.dns.len()));
        tunnels.reserve(count(|m| m.tunnels.len()));
        pipelines.reserve(count(|m| m.pipelines.len()));
        dashboards.reserve(count(|m| m.dashboards.len()));
        alerts.reserve(count(|m| m.alerts.len()));
        claims.reserve(count(|m| m.claims.len()));
        storage_classes.reserve(count(|m| m.storage_classes.len()));
        backups.reserve(count(|m| m.backups.len()));
        manifests.reserve(count(|m| m.manifests.len()));
        uses.reserve(count(|m| m.uses.len()));
        components.reserve(count(|m| m.components.len()));
    }

    /// Moves every declaration of `other` into this model (the homelab and
    /// attachments of `other` are ignored: lowering merges them itself).
    pub fn append(&mut self, other: Model) {
        // Destructured, so that a new kind of declaration cannot be forgotten here.
        let Model {
            homelab: _,
            mut networks,
            mut clusters,
            mut nodes,
            mut pools,
            mut registries,
            mut namespaces,
            mut apps,
            mut charts,
            mut secrets,
            mut secret_stores,
            mut issuers,
            mut gateways,
            mut dns,
            mut tunnels,
            mut pipelines,
            mut dashboards,
            mut alerts,
            mut claims,
            mut storage_classes,
            mut backups,
            mut manifests,
            mut uses,
            mut components,
            attachments: _,
            scope: _,
        } = other;
        self.networks.append(&mut networks);
        self.clusters.append(&mut clusters);
        self.nodes.append(&mut nodes);
        self.pools.append(&mut pools);
        self.registries.append(&mut registries);
        self.namespaces.append(&mut namespaces);
        self.apps.append(&mut apps);
        self.charts.append(&mut charts);
        self.secrets.append(&mut secrets);
        self.secret_stores.append(&mut secret_stores);
        self.issuers.append(&mut issuers);
        self.gateways.append(&mut gateways);
        self.dns.append(&mut dns);
        self.tunnels.append(&mut tunnels);
        self.pipelines.append(&mut pipelines);
        self.dashboards.append(&mut dashboards);
        self.alerts.append(&mut alerts);
        self.claims.append(&mut claims);
        self.storage_classes.append(&mut storage_classes);
        self.backups.append(&mut backups);
        self.manifests.append(&mut manifests);
        self.uses.append(&mut uses);
        self.components.append(&mut components);
    }

    /// What installs charts on the (only) cluster: its GitOps engine, else
    /// k3s's built-in helm-controller; `None` on kind and Talos without GitOps.
    pub fn chart_installer(&self) -> Option<ChartInstaller> {
        let cluster = self.cluster_for(None)?;
        match (&cluster.gitops, cluster.distribution.value) {
            (Some(g), _) if g.engine.value == GitopsEngine::Flux => Some(ChartInstaller::Flux),
            (Some(_), _) => Some(ChartInstaller::Argocd),
            (None, Distribution::K3s) => Some(ChartInstaller::K3s),
            (None, Distribution::Kind | Distribution::Talos) => None,
        }
    }

    /// Whether a namespace is one Kubernetes itself creates (`default`,
    /// `kube-system`, ...): homelabc never writes a Namespace object for those.
    pub fn is_system_namespace(namespace: &str) -> bool {
        matches!(namespace, "default" | "kube-system" | "kube-public" | "kube-node-lease")
    }

    /// The apps of a namespace: a range of [`Model::apps`], which
    /// [`Model::sort`] orders by namespace first (found by bisection: asked
    /// once per namespace, a scan would cost namespaces × apps).
    pub fn apps_in(&self, namespace: &str) -> &[App] {
        in_namespace(&self.apps, namespace, |a| &a.namespace.value)
    }

    /// The charts of a namespace (see [`Model::apps_in`]).
    pub fn charts_in(&self, namespace: &str) -> &[Chart] {
        in_namespace(&self.charts, namespace, |c| &c.namespace.value)
    }

    /// The secrets of a namespace (see [`Model::apps_in`]).
    pub fn secrets_in(&self, namespace: &str) -> &[Secret] {
        in_namespace(&self.secrets, namespace, |s| &s.namespace.value)
    }

    /// The alerts of a namespace (see [`Model::apps_in`]).
    pub fn alerts_in(&self, namespace: &str) -> &[Alert] {
        in_namespace(&self.alerts, namespace, |a| &a.namespace.value)
    }

    /// The component that owns a namespace (declares it), if any.
    pub fn namespace_owner(&self, namespace: &str) -> Option<&str> {
        self.namespaces.iter().find(|n| n.name.value == namespace).and_then(|n| n.component.as_deref())
    }

    /// Looks up an included component.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Sorts every list of declarations by (namespace, name), so that the order
    /// of declarations and files never reaches later phases.
    pub fn sort(&mut self) {
        // Each key built once per item (they own their strings), not twice
        // per comparison; equal keys keep their order.
        fn by<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
            items.sort_by_cached_key(|a| key(a));
        }
        by(&mut self.networks, |d| d.name.value.clone());
        by(&mut self.clusters, |d| d.name.value.clone());
        by(&mut self.nodes, |d| d.name.value.clone());
        by(&mut self.pools, |d| d.name.value.clone());
        by(&mut self.registries, |d| d.name.value.clone());
        by(&mut self.namespaces, |d| d.name.value.clone());
        by(&mut self.apps, |d| (d.namespace.value.clone(), d.name.value.clone()));
        by(&mut self.charts, |d| (d.namespace.value.clone(), d.name.value.clone()));
        by(&mut self.secrets, |d| (d.namespace.value.clone(), d.name.value.clone()));
        by(&mut self.secret_stores, |d| d.name.value.clone());
        by(&mut self.issuers, |d| d.name.value.clone());
        by(&mut self.gateways, |d| (d.cluster.as_ref().map(|c| c.value.clone()), d.name.value.clone()));
        by(&mut self.dns, |d| d.name.value.clone());
        by(&mut self.tunnels, |d| d.name.value.clone());
        by(&mut self.pipelines, |d| d.name.value.clone());
        by(&mut self.dashboards, |d| d.name.value.clone());
        by(&mut self.alerts, |d| (d.namespace.value.clone(), d.name.value.clone()));
        by(&mut self.claims, |d| (d.namespace.value.clone(), d.name.value.clone()));
        by(&mut self.storage_classes, |d| d.name.value.clone());
        by(&mut self.backups, |d| d.name.value.clone());
        by(&mut self.manifests, |d| d.path.value.clone());
        by(&mut self.uses, |d| d.component.value.clone());
        by(&mut self.components, |d| d.name.clone());
    }

    /// The cluster a declaration with an optional `cluster=` belongs to: the
    /// named one, or the only one.
    pub fn cluster_for(&self, cluster: Option<&Name>) -> Option<&Cluster> {
        match cluster {
            Some(name) => self.clusters.iter().find(|c| c.name.value == name.value),
            None if self.clusters.len() == 1 => self.clusters.first(),
            None => None,
        }
    }

    /// The nodes of a cluster, in declaration order (sorted by name).
    pub fn nodes_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Node> + 'm {
        self.nodes
            .iter()
            .filter(move |n| self.cluster_for(n.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value))
    }

    /// The network a node's address is on: the one `network=` names, else
    /// the one containing the address.
    pub fn node_network(&self, address: &NodeAddress) -> Option<&Network> {
        match &address.network {
            Some(name) => self.network(&name.value),
            None => self.networks.iter().find(|n| n.cidr.value.contains(&address.ip.value)),
        }
    }

    /// The registries a cluster's nodes mirror: those without `cluster=`, and
    /// those of this cluster.
    pub fn registries_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Registry> + 'm {
        self.registries.iter().filter(move |r| r.cluster.as_ref().is_none_or(|c| c.value == cluster.name.value))
    }

    /// The ingress class an app's ingress is served by: its own `class=`, else
    /// the controller of the app's cluster (none for `ingress "none"`).
    pub fn ingress_class<'m>(&'m self, app: &'m App, ingress: &'m Ingress) -> Option<&'m str> {
        ingress.class.as_ref().map(|c| c.value.as_str()).or_else(|| {
            let cluster = self.cluster_for(app.cluster.as_ref())?;
            Model::controller_class(cluster)
        })
    }

    /// The ingress class of a cluster's own controller (none for `ingress "none"`).
    pub fn controller_class(cluster: &Cluster) -> Option<&'static str> {
        match cluster.ingress.value {
            IngressController::Traefik => Some("traefik"),
            IngressController::Nginx => Some("nginx"),
            // Envoy Gateway serves Gateway API routes, not Ingresses.
            IngressController::EnvoyGateway | IngressController::None => None,
        }
    }

    /// The issuers of a cluster: those naming it, and those without
    /// `cluster=` when it is the only one.
    pub fn issuers_of<'m>(&'m self, cluster: &'m Cluster) -> impl Iterator<Item = &'m Issuer> + 'm {
        self.issuers
            .iter()
            .filter(move |i| self.cluster_for(i.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value))
    }

    /// The issuer that signs the certificates of a cluster's TLS ingresses:
    /// the one its `tls-issuer` names, else its only issuer; `None` when it has
    /// none, several and no `tls-issuer`, or a `tls-issuer` naming none of
    /// them (the checks report those).
    pub fn tls_issuer<'m>(&'m self, cluster: &'m Cluster) -> Option<&'m Issuer> {
        let mut issuers = self.issuers_of(cluster);
        match &cluster.tls_issuer {
            Some(name) => issuers.find(|i| i.name.value == name.value),
            None => {
                let only = issuers.next();
                if issuers.next().is_some() { None } else { only }
            }
        }
    }

    /// The issuer of an app's TLS ingresses ([`Model::tls_issuer`] of its cluster).
    pub fn tls_issuer_of(&self, app: &App) -> Option<&Issuer> {
        self.cluster_for(app.cluster.as_ref()).and_then(|c| self.tls_issuer(c))
    }

    /// The image GitOps deploy steps run homelabc from: the homelab's
    /// `homelabc-image`, else [`DEFAULT_HOMELABC_IMAGE`].
    pub fn homelabc_image(&self) -> &str {
        self.homelab
            .as_ref()
            .and_then(|h| h.homelabc_image.as_ref())
            .map_or(DEFAULT_HOMELABC_IMAGE, |i| i.value.as_str())
    }

    /// The host an ingress serves: a host without a dot is completed with the
    /// homelab's domain, when it has one.
    pub fn ingress_host(&self, host: &str) -> String {
        match self.homelab.as_ref().and_then(|h| h.domain.as_ref()) {
            Some(domain) if !host.contains('.') => format!("{host}.{}", domain.value),
            _ => host.to_string(),
        }
    }

    /// The host a Tekton pipeline's webhooks reach its EventListener at:
    /// `<pipeline>-hooks`, completed with the homelab's domain.
    pub fn hooks_host(&self, pipeline: &Pipeline) -> String {
        self.ingress_host(&format!("{}-hooks", pipeline.name.value))
    }

    /// Looks up a network by name.
    pub fn network(&self, name: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.name.value == name)
    }

    /// Looks up a registry by name.
    pub fn registry(&self, name: &str) -> Option<&Registry> {
        self.registries.iter().find(|r| r.name.value == name)
    }

    /// Looks up an app by name (any namespace).
    pub fn app(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.name.value == name)
    }

    /// The namespaces that hold apps, sorted.
    pub fn app_namespaces(&self) -> std::collections::BTreeSet<&str> {
        self.apps.iter().map(|a| a.namespace.value.as_str()).collect()
    }

    /// Every namespace that runs workloads homelabc writes: the apps', the
    /// deployed registries' and the Tekton pipelines', sorted. Each gets a
    /// Namespace and its policies.
    pub fn workload_namespaces(&self) -> std::collections::BTreeSet<&str> {
        let mut names = self.app_namespaces();
        names.extend(self.registries.iter().filter_map(|r| r.deploy.as_ref()).map(|d| d.namespace.value.as_str()));
        names
            .extend(self.pipelines.iter().filter(|p| p.engine.value == Engine::Tekton).filter_map(Pipeline::namespace));
        if !self.tunnels.is_empty() {
            names.insert(CLOUDFLARED_NAMESPACE);
        }
        names
    }

    /// The Pod Security level of a namespace homelabc creates: the declared
    /// one (the declaration is the contract); else the highest level a chart
    /// placed in it states (`chart ... pod-security=`), else `baseline` for a
    /// namespace only Tekton pipelines run in (the image build runs as root),
    /// else `restricted`.
    pub fn pod_security(&self, namespace: &str) -> PodSecurity {
        if let Some(declared) = self.namespaces.iter().find(|n| n.name.value == namespace) {
            return declared.pod_security.value;
        }
        let charts = self.charts_in(namespace).iter();
        if let Some(level) = charts.filter_map(|c| c.pod_security.as_ref()).map(|l| l.value).max_by_key(|l| l.rank()) {
            return level;
        }
        // Asked once per app: the scan over every app runs only for a
        // namespace that Tekton pipelines run in (a few).
        let pipelines =
            || self.pipelines.iter().any(|p| p.engine.value == Engine::Tekton && p.namespace() == Some(namespace));
        let only_pipelines = || {
            self.apps_in(namespace).is_empty()
                && !self.registries.iter().filter_map(|r| r.deploy.as_ref()).any(|d| d.namespace.value == namespace)
        };
        if pipelines() && only_pipelines() { PodSecurity::Baseline } else { PodSecurity::Restricted }
    }

    /// Every namespace the description uses: declared ones and the ones things
    /// are placed in, sorted.
    pub fn namespace_names(&self) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> =
            self.namespaces.iter().map(|n| n.name.value.clone()).collect();
        names.extend(self.apps.iter().map(|a| a.namespace.value.clone()));
        names.extend(self.charts.iter().map(|c| c.namespace.value.clone()));
        names.extend(self.secrets.iter().map(|s| s.namespace.value.clone()));
        names.extend(self.claims.iter().map(|c| c.namespace.value.clone()));
        names.extend(self.secret_stores.iter().filter_map(SecretStore::local_namespace).map(str::to_string));
        names.extend(self.registries.iter().filter_map(|r| r.deploy.as_ref()).map(|d| d.namespace.value.clone()));
        names.extend(
            self.pipelines
                .iter()
                .filter(|p| p.engine.value == Engine::Tekton)
                .filter_map(Pipeline::namespace)
                .map(str::to_string),
        );
        if !self.tunnels.is_empty() {
            names.insert(CLOUDFLARED_NAMESPACE.to_string());
        }
        // The namespaces of manifest objects, unless a manifest creates them itself.
        let created: std::collections::BTreeSet<&str> = self
            .manifest_objects()
            .filter(|o| o.kind == "Namespace" && o.group().is_empty())
            .map(|o| o.name.as_str())
            .collect();
        names.extend(
            self.manifest_objects()
                .filter_map(|o| o.namespace.as_deref())
                .filter(|ns| !created.contains(ns))
                .map(str::to_string),
        );
        names
    }

    /// Every object of every manifest.
    pub fn manifest_objects(&self) -> impl Iterator<Item = &ManifestObject> {
        self.manifests.iter().flat_map(|m| &m.objects)
    }
}

/// The items of `items` in `namespace`, for a list [`Model::sort`] orders by
/// namespace first.
fn in_namespace<'a, T>(items: &'a [T], namespace: &str, of: impl Fn(&T) -> &str) -> &'a [T] {
    debug_assert!(items.is_sorted_by(|a, b| of(a) <= of(b)), "a list sorted by namespace");
    let start = items.partition_point(|item| of(item) < namespace);
    let len = items[start..].partition_point(|item| of(item) == namespace);
    &items[start..start + len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    #[test]
    fn a_namespace_is_a_range_of_a_sorted_list() {
        let items = [("a", 1), ("b", 2), ("b", 3), ("d", 4)];
        let of = |ns: &str| in_namespace(&items, ns, |i| i.0).iter().map(|i| i.1).collect::<Vec<_>>();
        assert_eq!(of("a"), [1]);
        assert_eq!(of("b"), [2, 3]);
        assert_eq!(of("d"), [4]);
        assert!(of("").is_empty() && of("c").is_empty() && of("e").is_empty() && of("bb").is_empty());
        assert!(in_namespace(&[] as &[(&str, i32)], "a", |i| i.0).is_empty());
    }

    #[test]
    fn ingress_hosts_are_completed_with_the_domain() {
        let span = Span::new(FileId(0), 0, 0);
        let mut model = Model::default();
        assert_eq!(model.ingress_host("web"), "web");
        model.homelab = Some(Homelab {
            name: Spanned::new("lab".into(), span),
            domain: Some(Spanned::new("lab.example.com".into(), span)),
            homelabc_image: None,
            span,
        });
        assert_eq!(model.ingress_host("web"), "web.lab.example.com");
        assert_eq!(model.ingress_host("web.other.org"), "web.other.org");
    }
}
