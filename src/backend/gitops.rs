//! GitOps wiring (SPEC §4, §5): the entry objects in `clusters/<cluster>/`
//! that make Flux or Argo CD apply every unit of the tree, in the order of
//! the dependency graph.
//!
//! Flux: `flux-system/gotk-sync.yaml` (the GitRepository of the tree, with
//! the credentials `gitops secret=` names, and the root Kustomization of
//! `clusters/<cluster>`), and one Kustomization per unit
//! with `dependsOn` the units its declarations need, `wait` on units that
//! install CRDs, and SOPS decryption on units holding SOPS secrets.
//! Argo CD: a root Application (app of apps) and one Application per unit,
//! its sync-wave the unit's depth.
//!
//! **Architecture Invariant:** the units and their order are derived from the
//! other backends' output, never restated: a declaration's units are the
//! units its objects landed in ([`Origin`]), and a unit needs the units of
//! the declarations its declarations need. This backend runs after the others
//! ([`wire`]) and reads only where objects are and what they were made for.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::argocd::{self, Source};
use super::charts::FLUX_NAMESPACE;
use super::{Artifacts, Content, Custom, CustomKind, Origin, managed_labels, meta};
use crate::graph::Graph;
use crate::layout::{FilePlace, Folder, Unit};
use crate::model::{Cluster, DeclId, Gitops, GitopsEngine, Model, SecretSource};

/// The Secret in flux-system holding the age key Flux decrypts SOPS files
/// with (made by hand at bootstrap, named by every decrypting Kustomization).
pub const SOPS_AGE_SECRET: &str = "sops-age";

/// The name of a cluster's root Application (Argo CD's app of apps).
pub fn root_application(cluster: &str) -> String {
    format!("{cluster}-root")
}

/// Adds the GitOps entry objects for the (only) cluster with `gitops`.
pub fn wire(model: &Model, graph: &Graph, out: &mut Artifacts) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let Some(gitops) = &cluster.gitops else { return };
    let units = Units::new(model, graph, out);
    let agent = match gitops.engine.value {
        GitopsEngine::Flux => "flux",
        GitopsEngine::Argocd => "argocd",
    };
    let scope = model.cluster_key(Some(&cluster.name));
    let origin = Origin::of(cluster.id(model));
    let origin = match model.component(agent) {
        Some(_) => origin.and(model.component_id(scope, agent)),
        None => origin,
    };
    let home = Unit::new(scope, Folder::Entry(cluster.name.value.clone()));
    match gitops.engine.value {
        GitopsEngine::Flux => flux(cluster, gitops, &units, (&origin, &home), out),
        GitopsEngine::Argocd => argocd(cluster, gitops, &units, (&origin, &home), out),
    }
}

/// The units of the tree, their dependencies and depths, by path.
struct Units {
    /// Every unit to apply, by path.
    units: BTreeMap<String, Unit>,
    /// Unit → the units it needs first (acyclic).
    needs: BTreeMap<String, BTreeSet<String>>,
    /// Unit → the longest chain of units below it.
    depth: BTreeMap<String, usize>,
    /// Units that install CRDs (others wait for them to be ready).
    crds: BTreeSet<String>,
    /// Units holding SOPS-encrypted secrets.
    sops: BTreeSet<String>,
}

impl Units {
    fn new(model: &Model, graph: &Graph, out: &Artifacts) -> Units {
        // Where each declaration's objects landed (objects made by default
        // are ordered by `needs` instead).
        let mut units: BTreeMap<String, Unit> = BTreeMap::new();
        let mut landed: BTreeMap<&DeclId, BTreeSet<String>> = BTreeMap::new();
        // An app's objects come one after the other: its unit's path is made once.
        let mut last: Option<(&Unit, String)> = None;
        for object in out.objects.iter().filter(|o| !o.unit.is_entry()) {
            let path = match &last {
                Some((unit, path)) if **unit == *object.unit => path.clone(),
                _ => object.unit.path(),
            };
            last = Some((&object.unit, path.clone()));
            if !object.origin.by_default {
                for decl in object.origin.decls.iter() {
                    landed.entry(decl).or_default().insert(path.clone());
                }
            }
            units.entry(path).or_insert_with(|| Unit::clone(&object.unit));
        }
        let units_of = |decl: &DeclId| landed.get(decl).into_iter().flatten();
        // Every edge between declarations of two different units is an edge
        // between the units, except inside a cycle of units (declarations of
        // two units can interleave): those units are applied without order
        // between them rather than deadlock.
        let mut candidates: BTreeSet<(String, String)> = BTreeSet::new();
        for edge in graph.graph.edge_indices() {
            let Some((from, to)) = graph.graph.edge_endpoints(edge) else { continue };
            for a in units_of(&graph.graph[from]) {
                for b in units_of(&graph.graph[to]).filter(|b| *b != a) {
                    candidates.insert((a.clone(), b.clone()));
                }
            }
        }
        for (unit, decl) in &out.needs {
            let a = unit.path();
            for b in units_of(decl).filter(|b| **b != a) {
                if units.contains_key(&a) {
                    candidates.insert((a.clone(), b.clone()));
                }
            }
        }
        // A unit nested in another unit's folder comes after it (a pipeline's
        // triggers after the pipeline, an app after its namespace).
        for unit in units.keys() {
            let parent =
                std::iter::successors(unit.rsplit_once('/').map(|(p, _)| p), |p| p.rsplit_once('/').map(|(p, _)| p))
                    .find(|p| units.contains_key(*p));
            if let Some(parent) = parent {
                candidates.insert((unit.clone(), parent.to_string()));
            }
        }
        let cycle = cyclic_groups(&candidates);
        let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in candidates {
            if !cycle.contains_key(&a) || cycle.get(&a) != cycle.get(&b) {
                needs.entry(a).or_default().insert(b);
            }
        }
        let mut depth: BTreeMap<String, usize> = BTreeMap::new();
        for unit in units.keys() {
            unit_depth(&needs, unit, &mut depth);
        }
        let crds = (model.charts.iter().filter(|c| c.provides_crds))
            .flat_map(|c| units_of(&c.id(model)).cloned().collect::<Vec<_>>())
            .collect();
        let sops = (model.secrets.iter().filter(|s| matches!(s.source, SecretSource::Sops { .. })))
            .flat_map(|s| units_of(&s.id(model)).cloned().collect::<Vec<_>>())
            .collect();
        Units { units, needs, depth, crds, sops }
    }

    /// The unit at a path.
    fn unit(&self, path: &str) -> &Unit {
        &self.units[path]
    }
}

/// For the units on a cycle of `edges`, the index of their strongly
/// connected component.
fn cyclic_groups(edges: &BTreeSet<(String, String)>) -> BTreeMap<String, usize> {
    let mut graph: petgraph::graph::DiGraph<&str, ()> = petgraph::graph::DiGraph::new();
    let mut index = BTreeMap::new();
    for (a, b) in edges {
        let na = *index.entry(a.as_str()).or_insert_with(|| graph.add_node(a.as_str()));
        let nb = *index.entry(b.as_str()).or_insert_with(|| graph.add_node(b.as_str()));
        graph.add_edge(na, nb, ());
    }
    let mut groups = BTreeMap::new();
    for (i, scc) in petgraph::algo::tarjan_scc(&graph).into_iter().enumerate() {
        if scc.len() > 1 {
            groups.extend(scc.into_iter().map(|n| (graph[n].to_string(), i)));
        }
    }
    groups
}

/// The longest chain of needs below a unit (memoised; `needs` is acyclic).
fn unit_depth(needs: &BTreeMap<String, BTreeSet<String>>, unit: &str, memo: &mut BTreeMap<String, usize>) -> usize {
    if let Some(d) = memo.get(unit) {
        return *d;
    }
    let d = needs.get(unit).into_iter().flatten().map(|n| unit_depth(needs, n, memo) + 1).max().unwrap_or(0);
    memo.insert(unit.to_string(), d);
    d
}

/// The path of a unit in the Git repository: `./<gitops path>/<unit>`.
fn repo_path(gitops: &Gitops, unit: &Unit) -> String {
    let base = gitops.path.value.trim_matches('/');
    let unit = unit.path();
    if base.is_empty() || base == "." { format!("./{unit}") } else { format!("./{base}/{unit}") }
}

/// Flux's `Kustomization` (kustomize.toolkit.fluxcd.io/v1): applies a folder.
#[derive(Debug, Serialize)]
struct Kustomization {
    spec: KustomizationSpec,
}

impl CustomKind for Kustomization {
    const API_VERSION: &'static str = "kustomize.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "Kustomization";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KustomizationSpec {
    interval: String,
    path: String,
    prune: bool,
    source_ref: NamedRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decryption: Option<Decryption>,
}

#[derive(Debug, Serialize)]
struct NamedRef {
    kind: &'static str,
    name: String,
}

#[derive(Debug, Serialize)]
struct Named {
    name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Decryption {
    provider: &'static str,
    secret_ref: Named,
}

/// Flux's `GitRepository` (source.toolkit.fluxcd.io/v1): the repository of the tree.
#[derive(Debug, Serialize)]
struct GitRepository {
    spec: GitRepositorySpec,
}

impl CustomKind for GitRepository {
    const API_VERSION: &'static str = "source.toolkit.fluxcd.io/v1";
    const KIND: &'static str = "GitRepository";
}

#[derive(Debug, Serialize)]
struct GitRepositorySpec {
    interval: String,
    url: String,
    #[serde(rename = "ref")]
    reference: GitRef,
    /// The repository's credentials (`gitops secret=`), in flux-system.
    #[serde(rename = "secretRef", skip_serializing_if = "Option::is_none")]
    secret_ref: Option<Named>,
}

#[derive(Debug, Serialize)]
struct GitRef {
    branch: String,
}

/// The metadata of Flux's own sync objects (no labels: `flux install` owns them).
fn flux_system_meta() -> ObjectMeta {
    ObjectMeta { name: Some(FLUX_NAMESPACE.into()), namespace: Some(FLUX_NAMESPACE.into()), ..ObjectMeta::default() }
}

fn flux(cluster: &Cluster, gitops: &Gitops, units: &Units, (origin, home): (&Origin, &Unit), out: &mut Artifacts) {
    let interval = gitops.interval.value.to_string();
    let source = || NamedRef { kind: "GitRepository", name: FLUX_NAMESPACE.into() };
    for path in units.depth.keys() {
        let unit = units.unit(path);
        let spec = KustomizationSpec {
            interval: interval.clone(),
            path: repo_path(gitops, unit),
            prune: true,
            source_ref: source(),
            timeout: Some("5m"),
            depends_on: (units.needs.get(path).into_iter().flatten())
                .map(|u| Named { name: units.unit(u).slug() })
                .collect(),
            wait: units.crds.contains(path).then_some(true),
            decryption: units
                .sops
                .contains(path)
                .then(|| Decryption { provider: "sops", secret_ref: Named { name: SOPS_AGE_SECRET.into() } }),
        };
        let metadata = meta(&unit.slug(), Some(FLUX_NAMESPACE), managed_labels());
        out.object(origin, home, Custom::new(metadata, Kustomization { spec }));
    }
    let repository = GitRepositorySpec {
        interval: interval.clone(),
        url: flux_url(&gitops.repo.value),
        reference: GitRef { branch: gitops.branch.value.clone() },
        secret_ref: gitops.secret.as_ref().map(|s| Named { name: s.value.clone() }),
    };
    let root = KustomizationSpec {
        interval,
        path: repo_path(gitops, home),
        prune: true,
        source_ref: source(),
        timeout: None,
        depends_on: Vec::new(),
        wait: None,
        decryption: None,
    };
    let documents: Vec<Box<dyn super::Render>> = vec![
        Box::new(Custom::new(flux_system_meta(), GitRepository { spec: repository })),
        Box::new(Custom::new(flux_system_meta(), Kustomization { spec: root })),
    ];
    let place = FilePlace::FluxSync { cluster: cluster.name.value.clone() };
    out.file(origin, place, Content::Documents(documents));
}

/// The repository URL as Flux takes it: the scp-like `git@host:path`, which
/// Flux refuses, becomes `ssh://git@host/path`.
fn flux_url(repo: &str) -> String {
    match repo.split_once(':') {
        Some((user_host, path)) if !repo.contains("://") && user_host.contains('@') => {
            format!("ssh://{user_host}/{}", path.trim_start_matches('/'))
        }
        _ => repo.to_string(),
    }
}

fn argocd(cluster: &Cluster, gitops: &Gitops, units: &Units, (origin, home): (&Origin, &Unit), out: &mut Artifacts) {
    let source = |unit: &Unit| {
        let path = repo_path(gitops, unit).trim_start_matches("./").to_string();
        Source::git(&gitops.repo.value, &gitops.branch.value, path)
    };
    for (path, depth) in &units.depth {
        let unit = units.unit(path);
        let application = argocd::application(&unit.slug(), source(unit), None, Vec::new(), Some(*depth));
        out.object(origin, home, application);
    }
    let root = argocd::application(&root_application(&cluster.name.value), source(home), None, Vec::new(), None);
    out.object(origin, home, root);
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::host::MemHost;

    const BASE: &str = "homelab \"lab\" { domain \"lab.example.com\" }\n\
        network \"lan\" cidr=\"10.0.0.0/24\" gateway=\"10.0.0.1\"\n\
        cluster \"lab\" distribution=\"k3s\" {\n    load-balancer \"metallb\"\n    GITOPS\n}\n\
        node \"n1\" role=\"server\" { address \"10.0.0.2\" network=\"lan\"; cpu 4; memory \"8Gi\" }\n\
        pool \"lb\" network=\"lan\" range=\"10.0.0.200-10.0.0.210\"\n\
        chart \"postgres\" namespace=\"shop\" repo=\"https://charts.bitnami.com/bitnami\" chart=\"postgresql\" version=\"16.5.0\"\n\
        app \"web\" namespace=\"shop\" {\n    image \"me/web\" tag=\"1.0.0\"\n    resources cpu=\"10m\" memory=\"16Mi\" cpu-limit=\"100m\" memory-limit=\"64Mi\"\n    depends-on \"postgres\"\n}\n";

    fn tree(gitops: &str) -> crate::output::OutputTree {
        tree_of(BASE.replace("GITOPS", gitops))
    }

    fn tree_of(text: String) -> crate::output::OutputTree {
        let built = driver::build(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let errors: Vec<_> = built.checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        built.tree.expect("no errors").expect("layout")
    }

    fn text(tree: &crate::output::OutputTree, path: &str) -> String {
        String::from_utf8(tree.get(path).unwrap_or_else(|| panic!("{path} is missing")).to_vec()).expect("utf-8")
    }

    #[test]
    fn flux_orders_the_pool_after_metallb_and_the_app_after_its_database() {
        let tree = tree("gitops \"flux\" repo=\"https://github.com/me/lab\" path=\"deploy\"");
        let pool = text(&tree, "clusters/lab/kustomization-configs-metallb.yaml");
        assert!(pool.contains("dependsOn:\n    - name: infrastructure-metallb\n"), "{pool}");
        let app = text(&tree, "clusters/lab/kustomization-apps-shop-web.yaml");
        assert!(app.contains("- name: apps-shop-postgres\n"), "{app}");
        assert!(app.contains("path: ./deploy/apps/shop/web\n"), "{app}");
        let metallb = text(&tree, "clusters/lab/kustomization-infrastructure-metallb.yaml");
        assert!(metallb.contains("wait: true"), "{metallb}");
        assert!(!metallb.contains("dependsOn"), "{metallb}");
        let sync = text(&tree, "clusters/lab/flux-system/gotk-sync.yaml");
        assert!(sync.contains("kind: GitRepository") && sync.contains("path: ./deploy/clusters/lab\n"), "{sync}");
        let root = text(&tree, "clusters/lab/kustomization.yaml");
        assert!(root.contains("- flux-system\n"), "{root}");
    }

    #[test]
    fn flux_reads_the_repository_with_its_secret() {
        let gitops = "gitops \"flux\" repo=\"git@github.com:me/lab.git\" secret=\"deploy-key\"";
        let secret = "secret \"deploy-key\" namespace=\"flux-system\" from=\"existing\"\n";
        let tree = tree_of(BASE.replace("GITOPS", gitops) + secret);
        let sync = text(&tree, "clusters/lab/flux-system/gotk-sync.yaml");
        assert!(sync.contains("secretRef:\n    name: deploy-key\n"), "{sync}");
        assert!(sync.contains("url: ssh://git@github.com/me/lab.git\n"), "{sync}");
    }

    #[test]
    fn argocd_sync_waves_follow_the_graph() {
        let tree = tree("gitops \"argocd\" repo=\"https://github.com/me/lab\" path=\"deploy\"");
        let wave = |unit: &str| -> usize {
            let text = text(&tree, &format!("clusters/lab/application-{unit}.yaml"));
            let line = text.lines().find(|l| l.contains("sync-wave")).unwrap_or_else(|| panic!("{text}"));
            line.split('"').nth(1).and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("{line}"))
        };
        assert!(wave("infrastructure-metallb") < wave("configs-metallb"));
        assert!(wave("apps-shop-postgres") < wave("apps-shop-web"));
        assert!(tree.get("clusters/lab/application-lab-root.yaml").is_some());
    }
}
