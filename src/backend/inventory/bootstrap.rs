//! `## Bootstrap`: what a person runs once, in order, to bring a cluster to
//! its first sync: the nodes (k3s: the cluster token, the node files) or the
//! kind cluster, the GitOps agent at the version the tree targets, the
//! secrets the tree names but never holds, then the entry that points the
//! agent at the tree.
//!
//! Every path comes from the layout module ([`Unit`], [`FilePlace`]), every
//! name the tree gives a secret from the backend that names it. No command
//! holds a secret's value: `...` stands for what the reader supplies.

use super::heading;
use super::table::code;
use crate::backend::gitops::{SOPS_AGE_SECRET, root_application};
use crate::backend::{k3s, pipelines, stores};
use crate::layout::{FilePlace, Folder, Unit, node_folder, unit_object_path};
use crate::model::{
    CERT_MANAGER_NAMESPACE, Cluster, Distribution, DnsProvider, EXTERNAL_SECRETS_NAMESPACE, Engine, Gitops,
    GitopsEngine, Model, Secret, SecretSource, SecretType, StoreProvider, Word,
};

/// Appends the section for the model's (only) cluster.
pub fn section(model: &Model, out: &mut String) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let scope = model.cluster_key(Some(&cluster.name));
    let mut steps = cluster_steps(model, cluster, scope);
    steps.extend(agent_install(model, cluster));
    steps.extend(secrets(model, cluster));
    steps.extend(sealed_key(model));
    steps.push(first_sync(model, cluster, scope));
    heading(out, "Bootstrap");
    out.push_str(
        "Run once, in this order, from the folder this README is in. The tree never holds a secret's \
         value: `...` is yours to fill in.\n\n",
    );
    for (i, step) in steps.iter().enumerate() {
        let marker = format!("{}. ", i + 1);
        let indent = " ".repeat(marker.len());
        out.push_str(&marker);
        for (j, line) in step.lines().enumerate() {
            if j > 0 {
                out.push_str(&indent);
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
}

/// The cluster itself: kind creates it from its definition; k3s nodes get
/// the cluster token, then their files, then k3s.
fn cluster_steps(model: &Model, cluster: &Cluster, scope: Option<&str>) -> Vec<String> {
    let scope_owned = scope.map(str::to_string);
    match cluster.distribution.value {
        Distribution::Kind => {
            let config = FilePlace::KindConfig { scope: scope_owned }.path();
            vec![format!("Create the cluster: `kind create cluster --config {config}`.")]
        }
        Distribution::Talos => vec![format!(
            "Install the Talos machines and bootstrap Kubernetes with talhelper and talosctl, as the section \
             \"Talos machines (cluster {})\" above says.",
            code(&cluster.name.value)
        )],
        Distribution::K3s => {
            let nodes: Vec<_> = model.nodes_of(cluster).collect();
            if nodes.is_empty() {
                return Vec::new();
            }
            let token = format!(
                "On every node, write the cluster token to {}: one random string (`openssl rand -hex 32`), the \
                 same on all nodes, readable by root only. It is never in Git.",
                code(k3s::TOKEN_FILE)
            );
            let version = cluster.version.as_ref().map(|v| v.value.as_str());
            let install = match version {
                Some(v) => format!("install k3s {} (`INSTALL_K3S_VERSION={v}`)", code(v)),
                None => "install k3s".to_string(),
            };
            let inventory = FilePlace::NodeInventory { scope: scope_owned }.path();
            let mut copy = format!(
                "Copy each node's folder onto `/` of that node, then {install} on the servers first, then on the \
                 agents (or let k3s-ansible do both with {}):",
                code(&inventory)
            );
            for node in nodes {
                let folder = format!("{}/", node_folder(scope, &node.name.value));
                copy.push_str(&format!(
                    "\n- {} → node {} ({})",
                    code(&folder),
                    code(&node.name.value),
                    node.role.value.as_str()
                ));
            }
            vec![token, copy]
        }
    }
}

/// The GitOps agent, at the version the tree's objects target.
fn agent_install(model: &Model, cluster: &Cluster) -> Option<String> {
    let gitops = cluster.gitops.as_ref()?;
    match gitops.engine.value {
        GitopsEngine::Flux => {
            let version = model.component("flux").and_then(|c| c.param_text("version"));
            Some(match version {
                Some(v) => {
                    let v = if v.starts_with('v') { v } else { format!("v{v}") };
                    format!("Install Flux {v}, the release the tree targets: `flux install --version={v}`.")
                }
                None => "Install Flux: `flux install`.".to_string(),
            })
        }
        GitopsEngine::Argocd => {
            let chart = model.charts.iter().find(|c| c.component.as_deref() == Some("argocd"))?;
            let (name, ns, version) = (&chart.name.value, &chart.namespace.value, &chart.version.value);
            let source = match chart.repo.value.strip_prefix("oci://") {
                Some(_) => format!("{}/{}", chart.repo.value.trim_end_matches('/'), chart.chart.value),
                None => format!("{} --repo {}", chart.chart.value, chart.repo.value),
            };
            let unit = Unit::chart(model, chart).path();
            Some(format!(
                "Install Argo CD from the chart the tree pins: `helm install {name} {source} --version {version} \
                 --namespace {ns} --create-namespace`. After the first sync Argo CD manages its own chart from {}.",
                code(&unit)
            ))
        }
    }
}

/// The secrets made by hand (`from="existing"`) and Flux's SOPS key, after
/// the namespaces they live in (which the first sync would make too late).
fn secrets(model: &Model, cluster: &Cluster) -> Option<String> {
    let gitops = cluster.gitops.as_ref();
    let existing: Vec<&Secret> = model.secrets.iter().filter(|s| matches!(s.source, SecretSource::Existing)).collect();
    let flux = gitops.is_some_and(|g| g.engine.value == GitopsEngine::Flux);
    let sops = flux && model.secrets.iter().any(|s| matches!(s.source, SecretSource::Sops { .. }));
    if existing.is_empty() && !sops {
        return None;
    }
    let made_by_install = gitops.map(|g| g.engine.value.namespace());
    let mut namespaces: Vec<&str> = existing.iter().map(|s| s.namespace.value.as_str()).collect();
    namespaces.retain(|ns| !Model::is_system_namespace(ns) && Some(*ns) != made_by_install);
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut step = "Create the secrets the tree names but never holds:".to_string();
    if !namespaces.is_empty() {
        let create: Vec<String> = namespaces.iter().map(|ns| format!("`kubectl create namespace {ns}`")).collect();
        step.push_str(&format!("\n- first their namespaces: {}", create.join(", ")));
    }
    for secret in existing {
        let recipe = recipe(model, gitops, secret);
        let keys: Vec<String> = recipe.keys.iter().map(|k| code(k)).collect();
        let keys = match keys.len() {
            0 => "the keys its readers expect".to_string(),
            1 => format!("key {}", keys[0]),
            _ => format!("keys {}", keys.join(", ")),
        };
        let read_by = recipe.reader.map(|r| format!(", read by {r}")).unwrap_or_default();
        step.push_str(&format!(
            "\n- {} in {}{read_by}, {keys}: `{}`",
            code(&secret.name.value),
            code(&secret.namespace.value),
            recipe.command
        ));
    }
    if sops {
        let ns = GitopsEngine::Flux.namespace();
        step.push_str(&format!(
            "\n- {} in {}, the age key Flux decrypts the SOPS secrets with, key `age.agekey`: \
             `kubectl -n {ns} create secret generic {SOPS_AGE_SECRET} --from-file=age.agekey=...`",
            code(SOPS_AGE_SECRET),
            code(ns)
        ));
    }
    Some(step)
}

/// Who reads a secret made by hand, the keys it needs and how to make it.
struct Recipe {
    /// The declaration that reads it, as the README names it.
    reader: Option<String>,
    /// Its keys, when its reader says which.
    keys: Vec<&'static str>,
    /// The command that makes it (values left as `...`).
    command: String,
}

/// The recipe of a secret, from the first reader that names it, else from its type.
fn recipe(model: &Model, gitops: Option<&Gitops>, secret: &Secret) -> Recipe {
    let (name, ns) = (secret.name.value.as_str(), secret.namespace.value.as_str());
    let named = |n: Option<&crate::model::Name>| n.is_some_and(|n| n.value == name);
    if let Some(store) =
        model.secret_stores.iter().find(|s| ns == EXTERNAL_SECRETS_NAMESPACE && named(s.auth_secret.as_ref()))
    {
        let mut keys = vec![stores::TOKEN_KEY];
        if store.provider.value == StoreProvider::Kubernetes && store.server.is_some() {
            keys.push("ca.crt");
        }
        return Recipe { reader: Some(format!("secret store {}", code(&store.name.value))), ..generic(ns, name, keys) };
    }
    if let Some(issuer) = model.issuers.iter().find(|i| ns == CERT_MANAGER_NAMESPACE && named(i.token_secret.as_ref()))
    {
        let key = issuer.provider.as_ref().map_or(DnsProvider::Cloudflare, |p| p.value).token_key();
        return Recipe { reader: Some(format!("issuer {}", code(&issuer.name.value))), ..generic(ns, name, vec![key]) };
    }
    if let Some(issuer) = model.issuers.iter().find(|i| ns == CERT_MANAGER_NAMESPACE && named(i.secret.as_ref())) {
        return Recipe {
            reader: Some(format!("issuer {}", code(&issuer.name.value))),
            ..by_type(SecretType::Tls, ns, name)
        };
    }
    if let Some(gitops) = gitops.filter(|g| g.engine.value.namespace() == ns && named(g.secret.as_ref())) {
        return agent_credentials(gitops, name);
    }
    let pushes = |p: &&crate::model::Pipeline| {
        p.engine.value == Engine::Tekton
            && p.namespace() == Some(ns)
            && named(p.deploy.as_ref().and_then(|d| d.secret.as_ref()))
    };
    if let Some(pipeline) = model.pipelines.iter().find(pushes) {
        let reader = Some(format!("the deploy of pipeline {}", code(&pipeline.name.value)));
        return Recipe { reader, ..generic(ns, name, vec![pipelines::PUSH_TOKEN_KEY]) };
    }
    // A backup's secret made by hand serves one claim (E1104): its
    // repository is known, the rest is the user's.
    // (Only a backup's own secret pays for listing the backed-up volumes.)
    let backs_up = model.backups.iter().any(|b| b.secret.value == name);
    let backed_up = if backs_up { model.backed_up() } else { Vec::new() };
    let volume = backed_up.iter().find(|v| v.volume.namespace() == ns && v.backup.secret.value == name);
    if let Some(volume) = volume {
        let reader = Some(format!("backup {}", code(&volume.backup.name.value)));
        let mut recipe = generic(ns, name, volume.backup.secret_keys());
        if let Some(claim) = volume.volume.claim_names().first() {
            let repository = crate::backend::pipelines::shell_quote(&volume.repository(claim));
            recipe.command =
                recipe.command.replace("RESTIC_REPOSITORY=...", &format!("RESTIC_REPOSITORY={repository}"));
        }
        return Recipe { reader, ..recipe };
    }
    by_type(secret.secret_type.value, ns, name)
}

/// `kubectl create secret generic` with a literal per key.
fn generic(ns: &str, name: &str, keys: Vec<&'static str>) -> Recipe {
    let literals: Vec<String> = keys.iter().map(|k| format!(" --from-literal={k}=...")).collect();
    let command = format!("kubectl -n {ns} create secret generic {name}{}", literals.concat());
    Recipe { reader: None, keys, command }
}

/// The recipe a secret's type gives, when no reader says more.
fn by_type(secret_type: SecretType, ns: &str, name: &str) -> Recipe {
    let (keys, command) = match secret_type {
        SecretType::Tls => {
            (vec!["tls.crt", "tls.key"], format!("kubectl -n {ns} create secret tls {name} --cert=... --key=..."))
        }
        SecretType::DockerConfig => (
            vec![".dockerconfigjson"],
            format!(
                "kubectl -n {ns} create secret docker-registry {name} --docker-server=... --docker-username=... \
                 --docker-password=..."
            ),
        ),
        SecretType::BasicAuth => (
            vec!["username", "password"],
            format!(
                "kubectl -n {ns} create secret generic {name} --type=kubernetes.io/basic-auth \
                 --from-literal=username=... --from-literal=password=..."
            ),
        ),
        SecretType::Opaque => {
            (Vec::new(), format!("kubectl -n {ns} create secret generic {name} --from-literal=KEY=..."))
        }
    };
    Recipe { reader: None, keys, command }
}

/// The GitOps agent's repository credentials, over SSH or HTTPS.
fn agent_credentials(gitops: &Gitops, name: &str) -> Recipe {
    let (ns, repo, ssh) = (gitops.engine.value.namespace(), &gitops.repo.value, gitops.is_ssh());
    let (reader, keys, command) = match (gitops.engine.value, ssh) {
        (GitopsEngine::Flux, true) => (
            "Flux's GitRepository",
            vec!["identity", "known_hosts"],
            format!("flux create secret git {name} --url={repo} --private-key-file=..."),
        ),
        (GitopsEngine::Flux, false) => (
            "Flux's GitRepository",
            vec!["username", "password"],
            format!("flux create secret git {name} --url={repo} --username=... --password=..."),
        ),
        (GitopsEngine::Argocd, true) => (
            "Argo CD, as a repository secret",
            vec!["url", "sshPrivateKey"],
            format!(
                "kubectl -n {ns} create secret generic {name} --from-literal=url={repo} --from-file=sshPrivateKey=... \
                 && kubectl -n {ns} label secret {name} argocd.argoproj.io/secret-type=repository"
            ),
        ),
        (GitopsEngine::Argocd, false) => (
            "Argo CD, as a repository secret",
            vec!["url", "username", "password"],
            format!(
                "kubectl -n {ns} create secret generic {name} --from-literal=url={repo} --from-literal=username=... \
                 --from-literal=password=... && kubectl -n {ns} label secret {name} \
                 argocd.argoproj.io/secret-type=repository"
            ),
        ),
    };
    Recipe { reader: Some(reader.to_string()), keys, command }
}

/// SealedSecrets decrypt only with the key of the controller that sealed them.
fn sealed_key(model: &Model) -> Option<String> {
    if !model.secrets.iter().any(|s| matches!(s.source, SecretSource::Sealed { .. })) {
        return None;
    }
    let controller = model.charts.iter().find(|c| c.component.as_deref() == Some("sealed-secrets"));
    let ns = controller.map_or("kube-system", |c| c.namespace.value.as_str());
    Some(format!(
        "The SealedSecret files open only with the key of the sealed-secrets controller that sealed them: before \
         the controller first starts, restore that key in {} (`kubectl apply -f` your backup of the Secret labelled \
         `sealedsecrets.bitnami.com/sealed-secrets-key`), or reseal the files with `kubeseal` once the new \
         controller runs.",
        code(ns)
    ))
}

/// The entry that starts the first sync: Flux's sync objects, Argo CD's root
/// Application, or, without GitOps, every folder by hand.
fn first_sync(model: &Model, cluster: &Cluster, scope: Option<&str>) -> String {
    let name = cluster.name.value.clone();
    match cluster.gitops.as_ref().map(|g| g.engine.value) {
        Some(GitopsEngine::Flux) => {
            let folder = Unit::new(None, Folder::FluxSystem(name)).path();
            format!("Point Flux at the tree: `kubectl apply -k {folder}`. Flux applies the rest, in order.")
        }
        Some(GitopsEngine::Argocd) => {
            let entry = Unit::new(scope, Folder::Entry(name.clone()));
            let root = unit_object_path(&entry, "Application", &root_application(&name));
            format!("Apply the root Application: `kubectl apply -f {root}`. Argo CD applies the rest, in order.")
        }
        None => no_gitops(model),
    }
}

/// Without GitOps nothing applies the tree: the charts' folders first (on
/// k3s its helm-controller installs their HelmCharts), then the others.
fn no_gitops(model: &Model) -> String {
    let mut charts: Vec<String> = model.charts.iter().map(|c| Unit::chart(model, c).path()).collect();
    charts.sort();
    charts.dedup();
    let mut step = "Nothing applies this tree by itself: `kubectl apply -k FOLDER` each folder holding a \
                    `kustomization.yaml`, each after what it needs (the dependency graph below)"
        .to_string();
    if !charts.is_empty() {
        let first: Vec<String> = charts.iter().map(|c| code(c)).collect();
        step.push_str(&format!(", the charts first ({}), then the rest once they are installed", first.join(", ")));
    }
    step.push('.');
    step
}
