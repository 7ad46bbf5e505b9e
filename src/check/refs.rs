//! Checks on names: every reference resolves (E0201), no two declarations
//! share a name (E0202), nodes, pools and apps know their cluster (E0112), and
//! secrets, secret stores and registries are used by something (W0501).

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic};
use crate::model::{CERT_MANAGER_NAMESPACE, CLOUDFLARED_NAMESPACE, COMPONENTS, EXTERNAL_DNS_NAMESPACE};
use crate::model::{
    DeclKind, Declaration, EXTERNAL_SECRETS_NAMESPACE, EnvFrom, EnvValue, Model, Name, SecretSource, Value, ValueKind,
};
use crate::source::Span;
use crate::suggest;

/// Runs the refs checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    let names = Names::new(model);
    for (target, name) in references(model) {
        diags.extend(names.resolve(target, name));
    }
    let all = model.declarations();
    for decl in &all {
        if let Some(cluster) = &decl.cluster {
            diags.extend(names.resolve(Target::Cluster, cluster));
        }
    }
    for (namespace, secret) in env_secrets(model) {
        diags.extend(names.resolve_env_secret(namespace, secret));
    }
    diags.extend(store_clusters(model, &names));
    duplicates(&all, diags);
    missing_clusters(model, &all, diags);
    gitops_paths(model, diags);
    unused(model, &names, diags);
}

/// Declarations of one kind by name, with the span of each declaration.
type Index<'a> = BTreeMap<&'a str, Vec<Span>>;

/// Every declared name, by kind, built once from the model.
struct Names<'a> {
    /// Networks.
    networks: Index<'a>,
    /// Clusters.
    clusters: Index<'a>,
    /// MetalLB pools.
    pools: Index<'a>,
    /// Registries.
    registries: Index<'a>,
    /// Apps, in any namespace.
    apps: Index<'a>,
    /// Certificate issuers.
    issuers: Index<'a>,
    /// Nodes.
    nodes: Index<'a>,
    /// Secret stores, with the cluster each names (`cluster=`).
    stores: BTreeMap<&'a str, Vec<Option<&'a str>>>,
    /// What `depends-on` may name: apps, charts and components.
    dependencies: BTreeSet<&'a str>,
    /// Secrets by name, with the namespace and span of each declaration.
    secrets: BTreeMap<&'a str, Vec<(&'a str, Span)>>,
}

impl<'a> Names<'a> {
    /// Indexes every declaration of the model.
    fn new(model: &'a Model) -> Names<'a> {
        let mut dependencies: BTreeSet<&str> = COMPONENTS.iter().copied().collect();
        dependencies.extend(model.apps.iter().map(|a| a.name.value.as_str()));
        dependencies.extend(model.charts.iter().map(|c| c.name.value.as_str()));
        dependencies.extend(model.uses.iter().map(|u| u.component.value.as_str()));
        let mut secrets: BTreeMap<&str, Vec<(&str, Span)>> = BTreeMap::new();
        for s in &model.secrets {
            secrets.entry(&s.name.value).or_default().push((&s.namespace.value, s.name.span));
        }
        let mut stores: BTreeMap<&str, Vec<Option<&str>>> = BTreeMap::new();
        for s in &model.secret_stores {
            stores.entry(&s.name.value).or_default().push(s.cluster.as_ref().map(|c| c.value.as_str()));
        }
        Names {
            networks: index(model.networks.iter().map(|d| &d.name)),
            clusters: index(model.clusters.iter().map(|d| &d.name)),
            pools: index(model.pools.iter().map(|d| &d.name)),
            registries: index(model.registries.iter().map(|d| &d.name)),
            apps: index(model.apps.iter().map(|d| &d.name)),
            issuers: index(model.issuers.iter().map(|d| &d.name)),
            nodes: index(model.nodes.iter().map(|d| &d.name)),
            stores,
            dependencies,
            secrets,
        }
    }

    /// The names a reference of this kind may take.
    fn candidates(&self, target: Target) -> Vec<&'a str> {
        match target {
            Target::Network => self.networks.keys().copied().collect(),
            Target::Cluster => self.clusters.keys().copied().collect(),
            Target::Pool => self.pools.keys().copied().collect(),
            Target::Registry => self.registries.keys().copied().collect(),
            Target::App => self.apps.keys().copied().collect(),
            Target::Issuer => self.issuers.keys().copied().collect(),
            Target::Node => self.nodes.keys().copied().collect(),
            Target::Dependency => self.dependencies.iter().copied().collect(),
            Target::PullSecret => self.secrets.keys().copied().collect(),
            Target::SecretStore => self.stores.keys().copied().collect(),
        }
    }

    /// Whether a declaration of the target's kind has this name.
    fn contains(&self, target: Target, name: &str) -> bool {
        match target {
            Target::Network => self.networks.contains_key(name),
            Target::Cluster => self.clusters.contains_key(name),
            Target::Pool => self.pools.contains_key(name),
            Target::Registry => self.registries.contains_key(name),
            Target::App => self.apps.contains_key(name),
            Target::Issuer => self.issuers.contains_key(name),
            Target::Node => self.nodes.contains_key(name),
            Target::Dependency => self.dependencies.contains(name),
            Target::PullSecret => self.secrets.contains_key(name),
            Target::SecretStore => self.stores.contains_key(name),
        }
    }

    /// An E0201 when `name` is not a declaration of the target's kind.
    fn resolve(&self, target: Target, name: &Name) -> Option<Diagnostic> {
        if self.contains(target, &name.value) {
            return None;
        }
        let candidates = self.candidates(target);
        let what = target.what();
        let help = suggest::help_for(&name.value, &candidates, target.plural())
            .unwrap_or_else(|| target.fallback_help(&name.value, candidates.is_empty()));
        Some(
            Diagnostic::new(Code::E0201, format!("unknown {what} `{}`", name.value))
                .primary(name.span, format!("no {} named `{}`", target.label(), name.value))
                .help(help),
        )
    }

    /// The namespaces that declare a secret of this name.
    fn secret_decls(&self, name: &str) -> &[(&'a str, Span)] {
        self.secrets.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The names of the secrets declared in `namespace`.
    fn secrets_in<'n>(&'n self, namespace: &'n str) -> impl Iterator<Item = &'a str> + 'n {
        (self.secrets.iter()).filter(move |(_, d)| d.iter().any(|(ns, _)| *ns == namespace)).map(|(n, _)| *n)
    }

    /// An E0201 when an app in `namespace` reads a secret not declared there.
    fn resolve_env_secret(&self, namespace: &str, secret: &Name) -> Option<Diagnostic> {
        let decls = self.secret_decls(&secret.value);
        if decls.iter().any(|(ns, _)| *ns == namespace) {
            return None;
        }
        let name = &secret.value;
        let label = format!("no secret named `{name}` in namespace `{namespace}`");
        if decls.is_empty() {
            let here: Vec<&str> = self.secrets_in(namespace).collect();
            let help =
                suggest::help_for(name, &here, &format!("secrets of namespace `{namespace}`")).unwrap_or_else(|| {
                    format!("declare it: `secret \"{name}\" namespace=\"{namespace}\" from=\"sops\" file=\"...\"`")
                });
            return Some(
                Diagnostic::new(Code::E0201, format!("unknown secret `{name}`")).primary(secret.span, label).help(help),
            );
        }
        let mut diag = Diagnostic::new(Code::E0201, format!("secret `{name}` is not declared in namespace `{namespace}`"))
            .primary(secret.span, label)
            .help(format!(
                "a pod can only read secrets of its own namespace: declare `{name}` with `namespace=\"{namespace}\"` too, or move the app"
            ));
        for (ns, span) in decls {
            diag = diag.secondary(*span, format!("`{name}` is declared in namespace `{ns}`"));
        }
        Some(diag)
    }
}

/// Indexes names by value.
fn index<'a>(names: impl Iterator<Item = &'a Name>) -> Index<'a> {
    let mut index: Index<'a> = BTreeMap::new();
    for name in names {
        index.entry(name.value.as_str()).or_default().push(name.span);
    }
    index
}

/// What a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// `network=`.
    Network,
    /// `cluster=`.
    Cluster,
    /// `service pool=`.
    Pool,
    /// `image registry=`.
    Registry,
    /// `build app=`, `deploy app=`.
    App,
    /// A cluster's `tls-issuer`.
    Issuer,
    /// An app's `node=`.
    Node,
    /// `depends-on`: an app, a chart or a component.
    Dependency,
    /// A registry's `pull-secret`: a secret in any namespace.
    PullSecret,
    /// `secret ... from="external" store=`: a `secret-store`.
    SecretStore,
}

impl Target {
    /// The kind, for the message.
    fn what(self) -> &'static str {
        match self {
            Target::Network => "network",
            Target::Cluster => "cluster",
            Target::Pool => "pool",
            Target::Registry => "registry",
            Target::App => "app",
            Target::Issuer => "issuer",
            Target::Node => "node",
            Target::Dependency => "dependency",
            Target::PullSecret => "secret",
            Target::SecretStore => "secret store",
        }
    }

    /// The kinds, for the label.
    fn label(self) -> &'static str {
        match self {
            Target::Dependency => "app, chart or component",
            other => other.what(),
        }
    }

    /// The kind in the plural, for the list of known names.
    fn plural(self) -> &'static str {
        match self {
            Target::Network => "networks",
            Target::Cluster => "clusters",
            Target::Pool => "pools",
            Target::Registry => "registries",
            Target::App => "apps",
            Target::Issuer => "issuers",
            Target::Node => "nodes",
            Target::Dependency => "apps, charts and components",
            Target::PullSecret => "secrets",
            Target::SecretStore => "secret stores",
        }
    }

    /// The help line when no declared name is close.
    fn fallback_help(self, name: &str, none_declared: bool) -> String {
        match self {
            Target::Dependency => {
                "`depends-on` names an app, a chart or a stdlib component such as `cert-manager`".to_string()
            }
            Target::Cluster if none_declared => {
                format!("declare it: `cluster \"{name}\" distribution=\"k3s\"`")
            }
            Target::Issuer if none_declared => format!(
                "declare it: `issuer \"{name}\" kind=\"acme\" email=\"you@example.com\" solver=\"http01\"` (or `kind=\"ca\"`, `kind=\"self-signed\"`)"
            ),
            Target::SecretStore if none_declared => format!(
                "declare the store the secret is read from, e.g. `secret-store \"{name}\" provider=\"vault\" \
                 server=\"https://vault.example.com\" path=\"secret\" auth-secret=\"vault-token\"`"
            ),
            _ if none_declared => {
                let what = self.what();
                format!("no {what} is declared: add a `{what} \"{name}\"` declaration")
            }
            _ => format!("declare a {} named `{name}`, or name one of the declared {}", self.what(), self.plural()),
        }
    }
}

/// Every reference of the model that names a declaration regardless of
/// namespace, in model order.
fn references(model: &Model) -> Vec<(Target, &Name)> {
    let mut refs = Vec::new();
    for cluster in &model.clusters {
        refs.extend(cluster.tls_issuer.iter().map(|i| (Target::Issuer, i)));
    }
    for node in &model.nodes {
        let network = node.address.as_ref().and_then(|a| a.network.as_ref());
        refs.extend(network.map(|n| (Target::Network, n)));
    }
    for pool in &model.pools {
        refs.push((Target::Network, &pool.network));
    }
    for gateway in model.gateways.iter().filter(|g| !g.implicit) {
        refs.extend(gateway.pool.iter().map(|p| (Target::Pool, p)));
    }
    for app in &model.apps {
        for egress in &app.egress {
            if let crate::model::EgressTarget::Network(name) = &egress.to.value {
                refs.push((Target::Network, name));
            }
        }
    }
    for registry in &model.registries {
        refs.extend(registry.pull_secret.iter().map(|s| (Target::PullSecret, s)));
    }
    for app in &model.apps {
        let registries = app.containers().filter_map(|c| c.image.as_ref()?.registry.as_ref());
        refs.extend(registries.map(|r| (Target::Registry, r)));
        refs.extend(app.node.iter().map(|n| (Target::Node, n)));
        let pool = app.service.as_ref().and_then(|s| s.pool.as_ref());
        refs.extend(pool.map(|p| (Target::Pool, p)));
        refs.extend(app.depends_on.iter().map(|d| (Target::Dependency, d)));
    }
    for chart in &model.charts {
        refs.extend(chart.depends_on.iter().map(|d| (Target::Dependency, d)));
    }
    for pipeline in &model.pipelines {
        refs.extend(pipeline.build.iter().map(|b| (Target::App, &b.app)));
        refs.extend(pipeline.deploy.iter().map(|d| (Target::App, &d.app)));
    }
    for secret in &model.secrets {
        if let SecretSource::External { store, .. } = &secret.source {
            refs.push((Target::SecretStore, store));
        }
    }
    refs
}

/// E0201 for an ExternalSecret whose store exists, but only in other
/// clusters: a ClusterSecretStore serves its own cluster.
fn store_clusters(model: &Model, names: &Names<'_>) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for secret in &model.secrets {
        let (SecretSource::External { store, .. }, Some(cluster)) = (&secret.source, &secret.cluster) else {
            continue;
        };
        let Some(clusters) = names.stores.get(store.value.as_str()) else { continue };
        if clusters.iter().any(|c| c.is_none_or(|c| c == cluster.value)) {
            continue;
        }
        let elsewhere: Vec<String> = clusters.iter().flatten().map(|c| format!("`{c}`")).collect();
        diags.push(
            Diagnostic::new(
                Code::E0201,
                format!("secret store `{}` is not declared in cluster `{}`", store.value, cluster.value),
            )
            .primary(store.span, format!("no secret store named `{}` in cluster `{}`", store.value, cluster.value))
            .help(format!(
                "the store is declared in cluster {}: declare a `secret-store \"{}\"` with `cluster=\"{}\"` too",
                elsewhere.join(", "),
                store.value,
                cluster.value
            )),
        );
    }
    diags
}

/// Every secret a pod reads (`env ... secret=`, `env-from secret=`,
/// `secret-file`), in any of its containers, with the app's namespace.
fn env_secrets(model: &Model) -> impl Iterator<Item = (&str, &Name)> {
    model.apps.iter().flat_map(|app| {
        let namespace = app.namespace.value.as_str();
        let env = app.containers().flat_map(|c| &c.env).filter_map(|env| match &env.value {
            EnvValue::Secret { secret, .. } => Some(secret),
            EnvValue::Literal(_) => None,
        });
        let env_from = app.containers().flat_map(|c| &c.env_from).filter_map(|from| match from {
            EnvFrom::Secret(secret) => Some(secret),
            EnvFrom::Config(_) => None,
        });
        let files = app.secret_files.iter().map(|f| &f.secret);
        env.chain(env_from).chain(files).map(move |secret| (namespace, secret))
    })
}

/// Whether two declarations of a kind may not share a name (in one cluster
/// and namespace). `homelab` has its own rule (exactly one, E0111).
fn unique_names(kind: DeclKind) -> bool {
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

/// Reports E0202 for every declaration whose name an earlier-written one of
/// the same kind (and cluster and namespace) already took. Apps and charts
/// clash with each other: both render objects named after themselves.
fn duplicates(all: &[Declaration], diags: &mut Vec<Diagnostic>) {
    type Key<'a> = (DeclKind, Option<&'a str>, Option<&'a str>, &'a str);
    let mut groups: BTreeMap<Key<'_>, Vec<&Declaration>> = BTreeMap::new();
    for decl in all.iter().filter(|d| unique_names(d.id.kind)) {
        let id = &decl.id;
        let key = (id.kind.name_family(), id.cluster.as_deref(), id.namespace.as_deref(), id.name.as_str());
        groups.entry(key).or_default().push(decl);
    }
    for group in groups.values_mut().filter(|g| g.len() > 1) {
        group.sort_by_key(|d| d.name_span);
        let first = group[0];
        let times = if group.len() == 2 { "twice" } else { "more than once" };
        diags.extend(group[1..].iter().map(|again| duplicate(first, again, times)));
    }
}

/// The E0202 for `again`, which reuses the name of `first`.
fn duplicate(first: &Declaration, again: &Declaration, times: &str) -> Diagnostic {
    let (first_kind, kind) = (first.id.kind.noun(), again.id.kind.noun());
    let name = &again.id.name;
    let mut in_ns = again.id.namespace.as_ref().map(|ns| format!(" in namespace `{ns}`")).unwrap_or_default();
    if let Some(cluster) = &again.id.cluster {
        in_ns.push_str(&format!(" of cluster `{cluster}`"));
    }
    if first.id.kind != again.id.kind {
        return Diagnostic::new(Code::E0202, format!("{first_kind} `{name}` and {kind} `{name}` share a name{in_ns}"))
            .primary(again.name_span, format!("clashes with the {first_kind} of the same name"))
            .secondary(first.name_span, format!("{first_kind} `{name}` declared here"))
            .help("an app and a chart in one namespace render objects of the same name: rename one, or move it to another namespace");
    }
    let help = match (again.id.kind, &again.id.namespace) {
        (DeclKind::Component, _) => format!("use `{name}` once, with all its parameters and values in one block"),
        (DeclKind::Manifest, _) => "name each manifest file once".to_string(),
        (_, Some(_)) => format!("give each {kind} its own name, or move one to another namespace"),
        (_, None) => format!("give each {kind} its own name"),
    };
    let message = match again.id.kind {
        DeclKind::Component => format!("component `{name}` is used {times}"),
        _ => format!("{kind} `{name}` is declared {times}{in_ns}"),
    };
    Diagnostic::new(Code::E0202, message)
        .primary(again.name_span, "declared again here")
        .secondary(first.name_span, "first declared here")
        .help(help)
}

/// Whether a declaration must say which cluster it lives in when there are
/// several: the kinds that live in one cluster, a registry only when it runs
/// in one (`deploy`).
fn needs_cluster(model: &Model, decl: &Declaration) -> bool {
    match decl.id.kind {
        DeclKind::Registry => model.registry(&decl.id.name).is_some_and(|r| r.deploy.is_some()),
        kind => kind.in_cluster(),
    }
}

/// Reports E0112 for every declaration without `cluster=` when there is not
/// exactly one cluster to put it in: with several clusters, every one that
/// lives in a cluster; with none, the nodes, pools and apps (the rest follows
/// from them).
fn missing_clusters(model: &Model, all: &[Declaration], diags: &mut Vec<Diagnostic>) {
    let clusters: Vec<&str> = model.clusters.iter().map(|c| c.name.value.as_str()).collect();
    if clusters.len() == 1 {
        return;
    }
    for decl in all.iter().filter(|d| d.cluster.is_none() && needs_cluster(model, d)) {
        let first_wave = matches!(decl.id.kind, DeclKind::Node | DeclKind::Pool | DeclKind::App);
        if clusters.len() > 1 || first_wave {
            let name = Name::new(decl.id.name.clone(), decl.name_span);
            diags.push(missing_cluster(decl.id.kind.noun(), &name, &clusters));
        }
    }
}

/// Reports E0113 when clusters with `gitops` name different `path=` folders:
/// several clusters share one output tree, which lives at one folder of the
/// repository.
fn gitops_paths(model: &Model, diags: &mut Vec<Diagnostic>) {
    let mut with_gitops = model.clusters.iter().filter_map(|c| Some((c, c.gitops.as_ref()?)));
    let Some((first, first_gitops)) = with_gitops.next() else { return };
    let folder = |path: &str| path.trim_matches('/').to_string();
    for (cluster, gitops) in with_gitops {
        if folder(&gitops.path.value) != folder(&first_gitops.path.value) {
            diags.push(
                Diagnostic::new(
                    Code::E0113,
                    format!(
                        "cluster `{}` writes its GitOps tree to `{}`, cluster `{}` to `{}`",
                        cluster.name.value, gitops.path.value, first.name.value, first_gitops.path.value
                    ),
                )
                .primary(gitops.path.span, "a second folder")
                .secondary(first_gitops.path.span, format!("cluster `{}`'s folder", first.name.value))
                .help(format!(
                    "the clusters of one description share one output tree: give both `path=\"{}\"` (each gets its own `clusters/<cluster>/` entry inside it)",
                    first_gitops.path.value
                )),
            );
        }
    }
}

/// The E0112 for one declaration, given the declared clusters (none or several).
fn missing_cluster(kind: &str, name: &Name, clusters: &[&str]) -> Diagnostic {
    let choices: Vec<String> = clusters.iter().map(|c| format!("`cluster=\"{c}\"`")).collect();
    let Some((last, rest)) = choices.split_last() else {
        return Diagnostic::new(Code::E0112, format!("{kind} `{}` has no cluster to belong to", name.value))
            .primary(name.span, "no cluster is declared")
            .help("declare one, e.g. `cluster \"home\" distribution=\"k3s\"`");
    };
    Diagnostic::new(Code::E0112, format!("{kind} `{}` does not say which cluster it belongs to", name.value))
        .primary(name.span, format!("could belong to any of the {} clusters", clusters.len()))
        .help(format!("add {} or {last}", rest.join(", ")))
}

/// Reports W0501 for secrets, secret stores and registries nothing uses.
fn unused(model: &Model, names: &Names<'_>, diags: &mut Vec<Diagnostic>) {
    let used = used_secrets(model, names);
    for secret in &model.secrets {
        let (ns, name) = (secret.namespace.value.as_str(), secret.name.value.as_str());
        if !used.contains(&(ns, name)) {
            diags.push(
                Diagnostic::new(Code::W0501, format!("secret `{name}` in namespace `{ns}` is never used"))
                    .primary(secret.name.span, "declared here but never used")
                    .help(format!(
                        "read it from an app of namespace `{ns}` with `env \"NAME\" secret=\"{name}\" key=\"...\"`, \
                         name it in a chart's values or a registry's `pull-secret`, or remove it"
                    )),
            );
        }
    }
    let read = read_stores(model, names);
    for store in model.secret_stores.iter().filter(|s| !read.contains(s.name.value.as_str())) {
        let name = &store.name.value;
        diags.push(
            Diagnostic::new(Code::W0501, format!("secret store `{name}` is never used"))
                .primary(store.name.span, "declared here but never used")
                .help(format!(
                    "read a secret from it with `secret \"NAME\" namespace=\"...\" from=\"external\" store=\"{name}\" key=\"...\"`, or remove it"
                )),
        );
    }
    let pulled = pulled_registries(model, names);
    for registry in model.registries.iter().filter(|r| r.deploy.is_none()) {
        if !pulled.contains(registry.name.value.as_str()) {
            diags.push(unused_registry(model, registry));
        }
    }
}

/// The stores some ExternalSecret reads. A misspelt `store=` counts for the
/// store it was probably meant to name: it already has an E0201.
fn read_stores<'a>(model: &'a Model, names: &Names<'a>) -> BTreeSet<&'a str> {
    let declared = names.candidates(Target::SecretStore);
    let read = model.secrets.iter().filter_map(|s| match &s.source {
        SecretSource::External { store, .. } => Some(store),
        SecretSource::Sops { .. } | SecretSource::Sealed { .. } | SecretSource::Existing => None,
    });
    read.filter_map(|n| match names.stores.get_key_value(n.value.as_str()) {
        Some((key, _)) => Some(*key),
        None => suggest::did_you_mean(&n.value, declared.iter().copied()),
    })
    .collect()
}

/// The registries some image pulls from. A misspelt `registry=` counts for the
/// registry it was probably meant to name: it already has an E0201.
fn pulled_registries<'a>(model: &'a Model, names: &Names<'a>) -> BTreeSet<&'a str> {
    let declared = names.candidates(Target::Registry);
    let pulled = references(model).into_iter().filter(|(t, _)| *t == Target::Registry);
    pulled
        .filter_map(|(_, n)| match names.registries.get_key_value(n.value.as_str()) {
            Some((key, _)) => Some(*key),
            None => suggest::did_you_mean(&n.value, declared.iter().copied()),
        })
        .collect()
}

/// The W0501 for a registry no image pulls from. When an app spells the
/// registry's address into its image instead of `registry=`, points at it.
fn unused_registry(model: &Model, registry: &crate::model::Registry) -> Diagnostic {
    let name = &registry.name.value;
    let prefix = format!("{}/", registry.address.value);
    let spelled = model
        .apps
        .iter()
        .flat_map(|a| a.containers())
        .filter_map(|c| c.image.as_ref())
        .find(|i| i.registry.is_none() && i.repository.value.starts_with(&prefix));
    let diag = Diagnostic::new(Code::W0501, format!("registry `{name}` is never used"))
        .primary(registry.name.span, "declared here but never used");
    match spelled {
        Some(image) => {
            let rest = &image.repository.value[prefix.len()..];
            diag.secondary(image.repository.span, "this image names the registry's address instead")
                .help(format!("write `image \"{rest}\" registry=\"{name}\"` so the app gets the registry's settings"))
        }
        None => diag.help(format!(
            "pull from it with `image \"...\" registry=\"{name}\"`, run it in the cluster with `deploy`, or remove it"
        )),
    }
}

/// The (namespace, name) of every secret something refers to: an app's env,
/// a registry's `pull-secret`, an issuer's token or CA, a secret store's
/// `auth-secret`, a cluster's `gitops secret=`, a pipeline's push credentials,
/// or a string in chart or component values (and in the values files and
/// manifests copied in).
fn used_secrets<'a>(model: &'a Model, names: &Names<'a>) -> BTreeSet<(&'a str, &'a str)> {
    let mut used = BTreeSet::new();
    // A reference that does not resolve already has an E0201: the secrets it
    // points at (in another namespace, or by a close spelling) count as used.
    for (ns, secret) in env_secrets(model) {
        mark_in(names, ns, secret, &mut used);
    }
    // A store's credentials, in external-secrets' namespace, and a cluster's
    // repository credentials, in its GitOps agent's.
    let agents = (model.clusters.iter().filter_map(|c| c.gitops.as_ref()))
        .filter_map(|g| Some((g.engine.value.namespace(), g.secret.as_ref()?)));
    let stores = model.secret_stores.iter().filter_map(|s| Some((EXTERNAL_SECRETS_NAMESPACE, s.auth_secret.as_ref()?)));
    for (ns, secret) in agents.chain(stores) {
        mark_in(names, ns, secret, &mut used);
    }
    // The tokens of `dns` and `tunnel` declarations and the passwords of BGP
    // peers, in the namespaces of the components that read them.
    let dns = model.dns.iter().map(|d| (EXTERNAL_DNS_NAMESPACE, &d.token_secret));
    let tunnels = model.tunnels.iter().map(|t| (CLOUDFLARED_NAMESPACE, &t.token_secret));
    let peers = model.pools.iter().flat_map(|p| &p.peers).filter_map(|p| p.password_secret.as_ref());
    let peers = peers.map(|s| (crate::backend::metallb::NAMESPACE, s));
    for (ns, secret) in dns.chain(tunnels).chain(peers) {
        mark_in(names, ns, secret, &mut used);
    }
    for secret in model.registries.iter().filter_map(|r| r.pull_secret.as_ref()) {
        // The secret named, or (when none is) the one it probably misspells:
        // the closest is looked for among every secret only then.
        let close = if names.secrets.contains_key(secret.value.as_str()) {
            None
        } else {
            suggest::did_you_mean(&secret.value, names.candidates(Target::PullSecret))
        };
        mark_all(names, close.unwrap_or(&secret.value), &mut used);
    }
    // An issuer's token or CA, in cert-manager's namespace.
    for secret in model.issuers.iter().flat_map(|i| i.token_secret.iter().chain(&i.secret)) {
        let decls = names.secret_decls(&secret.value);
        if decls.is_empty() {
            let close = suggest::did_you_mean(&secret.value, names.secrets_in(CERT_MANAGER_NAMESPACE));
            used.extend(close.map(|c| (CERT_MANAGER_NAMESPACE, c)));
        } else {
            mark_all(names, &secret.value, &mut used);
        }
    }
    // A backup's restic credentials, in each backed-up volume's namespace
    // (a misspelt `backup=` counts for the backup it probably means).
    let backups: Vec<&str> = model.backups.iter().map(|b| b.name.value.as_str()).collect();
    for volume in model.stored_volumes() {
        let Some(name) = volume.backup() else { continue };
        let close = || suggest::did_you_mean(&name.value, backups.iter().copied()).and_then(|b| model.backup(b));
        if let Some(backup) = model.backup(&name.value).or_else(close) {
            mark_in(names, volume.namespace(), &backup.secret, &mut used);
        }
    }
    // A Tekton pipeline's GitOps push credentials, in its namespace.
    for pipeline in &model.pipelines {
        if let (Some(ns), Some(secret)) =
            (pipeline.namespace(), pipeline.deploy.as_ref().and_then(|d| d.secret.as_ref()))
        {
            used.extend(
                names
                    .secret_decls(&secret.value)
                    .iter()
                    .filter(|(n, _)| *n == ns)
                    .map(|(n, _)| (*n, secret.value.as_str())),
            );
        }
    }
    let words = mentioned_words(model);
    for name in names.secrets.keys().filter(|n| words.contains(**n)) {
        mark_all(names, name, &mut used);
    }
    used
}

/// Marks the secret a reference from `ns` names used: the one of `ns`, else
/// (the reference already has an E0201) the declarations in other
/// namespaces, or the secret of `ns` it is probably a misspelling of.
fn mark_in<'a>(names: &Names<'a>, ns: &'a str, secret: &'a Name, used: &mut BTreeSet<(&'a str, &'a str)>) {
    let decls = names.secret_decls(&secret.value);
    if decls.iter().any(|(n, _)| *n == ns) {
        used.insert((ns, secret.value.as_str()));
    } else if !decls.is_empty() {
        mark_all(names, &secret.value, used);
    } else if let Some(close) = suggest::did_you_mean(&secret.value, names.secrets_in(ns)) {
        used.insert((ns, close));
    }
}

/// Marks every declaration of the secret `name`, whatever its namespace, used.
fn mark_all<'a>(names: &Names<'a>, name: &str, used: &mut BTreeSet<(&'a str, &'a str)>) {
    if let Some((key, decls)) = names.secrets.get_key_value(name) {
        used.extend(decls.iter().map(|(ns, _)| (*ns, *key)));
    }
}

/// Every string of chart and component values, and every word of the values
/// files and manifests copied in: the places a chart may name a secret.
fn mentioned_words(model: &Model) -> BTreeSet<&str> {
    let mut words = BTreeSet::new();
    for chart in &model.charts {
        chart.values.iter().for_each(|v| strings(v, &mut words));
    }
    for component in &model.uses {
        component.values.iter().for_each(|v| strings(v, &mut words));
        component.params.values().for_each(|(_, v)| strings(v, &mut words));
    }
    let files = (model.charts.iter().filter_map(|c| c.values_file.as_ref()))
        .chain(model.manifests.iter().map(|m| &m.path))
        .filter_map(|path| model.attachments.get(&path.value));
    for text in files {
        words.extend(text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).filter(|w| !w.is_empty()));
    }
    words
}

/// Collects every string value of a values tree.
fn strings<'a>(value: &'a Value, out: &mut BTreeSet<&'a str>) {
    match &value.kind {
        ValueKind::String(s) => {
            out.insert(s);
        }
        ValueKind::List(items) => items.iter().for_each(|v| strings(v, out)),
        ValueKind::Map(map) => map.values().for_each(|(_, v)| strings(v, out)),
        ValueKind::Null | ValueKind::Bool(_) | ValueKind::Int(_) | ValueKind::Float(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::host::MemHost;

    /// The codes of this module a description produces, in order.
    fn codes(body: &str) -> Vec<String> {
        let text = format!("homelab \"lab\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let mine = ["E0201", "E0202", "E0112", "W0501"];
        (checked.diagnostics.iter().map(|d| d.code.to_string())).filter(|c| mine.contains(&c.as_str())).collect()
    }

    const CLUSTER: &str = "cluster \"home\" distribution=\"k3s\"\n";

    /// The store `v` the external secrets of these tests read.
    const STORE: &str = "secret-store \"v\" provider=\"kubernetes\" path=\"copies\"\n";

    /// An app in namespace `demo` with extra children.
    fn app(name: &str, children: &str) -> String {
        format!("app \"{name}\" namespace=\"demo\" {{\n image \"me/{name}\" tag=\"1.0.0\"\n {children}\n}}\n")
    }

    #[test]
    fn references_resolve_whatever_the_order() {
        let body = format!(
            "{}{CLUSTER}{STORE}registry \"local\" address=\"10.0.0.5:5000\" {{ pull-secret \"auth\" }}\n\
             secret \"auth\" namespace=\"x\" from=\"external\" store=\"v\" key=\"k\"\n\
             secret \"db\" namespace=\"demo\" from=\"external\" store=\"v\" key=\"k\"\n",
            app("web", "env \"P\" secret=\"db\" key=\"p\"\n depends-on \"api\" \"cert-manager\""),
        ) + &app("api", "").replace("tag=", "registry=\"local\" tag=");
        assert!(codes(&body).is_empty(), "{:?}", codes(&body));
    }

    /// A registry's pull secret is used when it is spelt right, and so is the
    /// secret a misspelt one probably means (its E0201 says so, no W0501).
    #[test]
    fn a_pull_secret_marks_its_secret_or_the_one_it_misspells_used() {
        let body = |pull: &str| {
            format!(
                "{CLUSTER}{STORE}registry \"local\" address=\"10.0.0.5:5000\" {{ pull-secret \"{pull}\" }}\n\
                 secret \"auth\" namespace=\"x\" from=\"external\" store=\"v\" key=\"k\"\n\
                 secret \"other\" namespace=\"x\" from=\"external\" store=\"v\" key=\"k\"\n{}",
                app("api", "").replace("tag=", "registry=\"local\" tag=")
            )
        };
        assert_eq!(codes(&body("auth")), ["W0501"], "only `other` is unused");
        assert_eq!(codes(&body("aut")), ["E0201", "W0501"], "`auth` is meant");
        assert_eq!(codes(&body("zzzz")), ["E0201", "W0501", "W0501"], "nothing is meant");
    }

    #[test]
    fn unknown_cluster_is_not_also_a_missing_cluster() {
        let body = format!(
            "{CLUSTER}cluster \"lab\" distribution=\"kind\"\n{}",
            app("web", "").replace("namespace", "cluster=\"hme\" namespace")
        );
        assert_eq!(codes(&body), ["E0201"]);
    }

    #[test]
    fn env_secret_typo_suggests_within_the_namespace() {
        let body = format!(
            "{CLUSTER}{STORE}secret \"db-pass\" namespace=\"demo\" from=\"external\" store=\"v\" key=\"k\"\n{}",
            app("web", "env \"P\" secret=\"db-pas\" key=\"p\"")
        );
        // The misspelt secret is not reported unused on top of the E0201.
        assert_eq!(codes(&body), ["E0201"]);
    }

    #[test]
    fn three_declarations_give_two_duplicates() {
        let net = "network \"lan\" cidr=\"10.0.0.0/24\"\n";
        assert_eq!(codes(&net.repeat(3)), ["E0202", "E0202"]);
    }

    #[test]
    fn namespaced_kinds_may_share_a_name_across_namespaces() {
        let body = format!("{CLUSTER}{}{}", app("web", ""), app("web", "").replace("demo", "prod"));
        assert!(codes(&body).is_empty());
    }

    #[test]
    fn every_unplaced_declaration_needs_a_cluster_when_none_exists() {
        let body = "network \"lan\" cidr=\"10.0.0.0/24\"\n\
                    pool \"lb\" network=\"lan\" range=\"10.0.0.200-10.0.0.210\"\n";
        assert_eq!(codes(body), ["E0112"]);
    }

    #[test]
    fn secrets_named_in_component_values_are_used() {
        let body = format!(
            "{CLUSTER}{STORE}use \"kube-prometheus-stack\" {{ values {{ grafana {{ admin {{ existingSecret \"admin\" }} }} }} }}\n\
             secret \"admin\" namespace=\"monitoring\" from=\"external\" store=\"v\" key=\"k\"\n\
             secret \"stale\" namespace=\"monitoring\" from=\"external\" store=\"v\" key=\"k\"\n"
        );
        assert_eq!(codes(&body), ["W0501"]);
    }

    #[test]
    fn stores_are_references_with_a_did_you_mean_and_a_cluster() {
        let secret = "secret \"db\" namespace=\"demo\" from=\"external\" store=\"vualt\" key=\"k\"\n";
        let store = "secret-store \"vault\" provider=\"kubernetes\" path=\"copies\"\n";
        // The misspelt store is not reported unused on top of the E0201.
        assert_eq!(codes(&format!("{CLUSTER}{store}{secret}")), ["W0501", "E0201"]);
        let two = format!("{CLUSTER}cluster \"lab\" distribution=\"kind\"\n");
        let body = format!(
            "{two}{}{}",
            store.replace("provider", "cluster=\"home\" provider"),
            secret.replace("vualt", "vault").replace("namespace", "cluster=\"lab\" namespace")
        );
        assert_eq!(codes(&body), ["W0501", "E0201"]);
    }

    #[test]
    fn store_credentials_and_gitops_credentials_are_used() {
        let body = "cluster \"home\" distribution=\"k3s\" {\n gitops \"flux\" repo=\"ssh://git@github.com/me/lab\" secret=\"key\"\n}\n\
                    secret \"key\" namespace=\"flux-system\" from=\"existing\"\n\
                    secret \"vault-token\" namespace=\"external-secrets\" from=\"existing\"\n\
                    secret-store \"vault\" provider=\"vault\" server=\"https://vault.lab\" auth-secret=\"vault-token\"\n\
                    secret \"db\" namespace=\"demo\" from=\"external\" store=\"vault\" key=\"k\"\n";
        // `db` is the only secret nothing reads.
        assert_eq!(codes(body), ["W0501"]);
    }

    #[test]
    fn deployed_registries_are_used() {
        let body = format!("{CLUSTER}registry \"local\" address=\"10.0.0.5:5000\" {{ deploy storage=\"1Gi\" }}\n");
        assert!(codes(&body).is_empty());
    }
}
