//! GitOps wiring (SPEC §4, §5): the entry objects in `clusters/<cluster>/`
//! that make Flux or Argo CD apply every unit of the tree, in the order of
//! the dependency graph.
//!
//! Flux: `flux-system/gotk-sync.yaml` (the GitRepository of the tree and the
//! root Kustomization of `clusters/<cluster>`), and one Kustomization per unit
//! with `dependsOn` the units its declarations need, `wait` on units that
//! install CRDs, and SOPS decryption on units holding SOPS secrets.
//! Argo CD: a root Application (app of apps) and one Application per unit,
//! its sync-wave the unit's depth.
//!
//! **Architecture Invariant:** this is the one backend that looks at the
//! others' output, and only at which units exist: it runs after them
//! ([`wire`]) and never reads an object's contents.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

use super::charts::{ARGOCD_NAMESPACE, FLUX_NAMESPACE};
use super::{Artifacts, Object, RawFile, managed_labels};
use crate::graph::{Decl, DeclKind, Graph};
use crate::layout::{
    alert_unit, app_unit, chart_unit, cluster_unit, component_unit, dashboard_unit, namespace_home, unit_slug,
};
use crate::model::{Cluster, Gitops, GitopsEngine, Model, SecretSource};

/// Adds the GitOps entry objects for the (only) cluster with `gitops`.
pub fn wire(model: &Model, graph: &Graph, out: &mut Artifacts) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let Some(gitops) = &cluster.gitops else { return };
    let units = Units::new(model, graph, out);
    match gitops.engine.value {
        GitopsEngine::Flux => flux(cluster, gitops, &units, out),
        GitopsEngine::Argocd => argocd(cluster, gitops, &units, out),
    }
}

/// The units of the tree, their dependencies and depths.
struct Units {
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
        let existing: BTreeSet<&str> = out
            .objects
            .iter()
            .map(|o| o.unit.as_str())
            .chain(out.raw.iter().filter_map(|r| r.unit.as_deref()))
            .filter(|u| !u.starts_with("clusters/"))
            .collect();
        // Every edge between declarations of two different units is an edge
        // between the units, except inside a cycle of units (declarations of
        // two units can interleave): those units are applied without order
        // between them rather than deadlock.
        // The unit of each declaration, once per declaration rather than per edge.
        let unit: Vec<Option<String>> = graph.graph.node_indices().map(|n| unit_of(model, &graph.graph[n])).collect();
        let mut candidates: BTreeSet<(String, String)> = BTreeSet::new();
        for edge in graph.graph.edge_indices() {
            let Some((from, to)) = graph.graph.edge_endpoints(edge) else { continue };
            let (Some(a), Some(b)) = (&unit[from.index()], &unit[to.index()]) else { continue };
            if a != b && existing.contains(a.as_str()) && existing.contains(b.as_str()) {
                candidates.insert((a.clone(), b.clone()));
            }
        }
        for (a, b) in &out.needs {
            if a != b && existing.contains(a.as_str()) && existing.contains(b.as_str()) {
                candidates.insert((a.clone(), b.clone()));
            }
        }
        // A unit nested in another unit's folder comes after it (a pipeline's
        // triggers after the pipeline, an app after its namespace).
        for unit in &existing {
            let parent =
                std::iter::successors(unit.rsplit_once('/').map(|(p, _)| p), |p| p.rsplit_once('/').map(|(p, _)| p))
                    .find(|p| existing.contains(p));
            if let Some(parent) = parent {
                candidates.insert((unit.to_string(), parent.to_string()));
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
        for unit in &existing {
            unit_depth(&needs, unit, &mut depth);
        }
        let crds = model.charts.iter().filter(|c| c.provides_crds).map(chart_unit).collect();
        let sops = model
            .secrets
            .iter()
            .filter(|s| matches!(s.source, SecretSource::Sops { .. }))
            .map(|s| namespace_home(model, &s.namespace.value))
            .collect();
        Units { needs, depth, crds, sops }
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

/// The unit that holds a declaration's objects, if it has any.
fn unit_of(model: &Model, decl: &Decl) -> Option<String> {
    let ns = decl.namespace.as_deref();
    match decl.kind {
        DeclKind::App => Some(app_unit(ns?, &decl.name)),
        DeclKind::Namespace => Some(namespace_home(model, &decl.name)),
        DeclKind::Secret => Some(namespace_home(model, ns?)),
        DeclKind::Chart => model
            .charts
            .iter()
            .find(|c| c.name.value == decl.name && Some(c.namespace.value.as_str()) == ns)
            .map(chart_unit),
        DeclKind::Component => Some(component_unit(&decl.name)),
        DeclKind::Pool => Some("configs/metallb".to_string()),
        DeclKind::Pipeline => Some(crate::layout::pipeline_unit(&decl.name)),
        DeclKind::Dashboard => {
            model.dashboards.iter().find(|d| d.name.value == decl.name).map(|d| dashboard_unit(&d.folder.value))
        }
        DeclKind::Alert => Some(alert_unit(ns?)),
        DeclKind::Registry => {
            model.registry(&decl.name).and_then(|r| r.deploy.as_ref()).map(|_| super::registry::UNIT.to_string())
        }
        DeclKind::Homelab | DeclKind::Network | DeclKind::Cluster | DeclKind::Node | DeclKind::Manifest => None,
    }
}

/// The path of a unit in the Git repository: `./<gitops path>/<unit>`.
fn repo_path(gitops: &Gitops, unit: &str) -> String {
    let base = gitops.path.value.trim_matches('/');
    if base.is_empty() || base == "." { format!("./{unit}") } else { format!("./{base}/{unit}") }
}

fn flux(cluster: &Cluster, gitops: &Gitops, units: &Units, out: &mut Artifacts) {
    let home = cluster_unit(&cluster.name.value);
    let interval = gitops.interval.value.to_string();
    let source = json!({"kind": "GitRepository", "name": FLUX_NAMESPACE});
    for unit in units.depth.keys() {
        let mut spec = json!({
            "interval": interval,
            "path": repo_path(gitops, unit),
            "prune": true,
            "sourceRef": source,
            "timeout": "5m",
        });
        let needs: Vec<Json> =
            units.needs.get(unit).into_iter().flatten().map(|u| json!({"name": unit_slug(u)})).collect();
        if !needs.is_empty() {
            spec["dependsOn"] = Json::Array(needs);
        }
        if units.crds.contains(unit) {
            spec["wait"] = Json::Bool(true);
        }
        if units.sops.contains(unit) {
            spec["decryption"] = json!({"provider": "sops", "secretRef": {"name": "sops-age"}});
        }
        let object = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": unit_slug(unit), "namespace": FLUX_NAMESPACE, "labels": managed_labels()},
            "spec": spec,
        });
        out.objects.push(Object { unit: home.clone(), value: object });
    }
    let repository = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": FLUX_NAMESPACE, "namespace": FLUX_NAMESPACE},
        "spec": {"interval": interval, "url": gitops.repo.value, "ref": {"branch": gitops.branch.value}},
    });
    let root = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": FLUX_NAMESPACE, "namespace": FLUX_NAMESPACE},
        "spec": {"interval": interval, "path": repo_path(gitops, &home), "prune": true, "sourceRef": source},
    });
    let sync = format!("{home}/flux-system");
    out.raw.push(RawFile {
        unit: Some(sync.clone()),
        path: "gotk-sync.yaml".into(),
        text: crate::yaml::render_all(&[repository, root]),
    });
    out.nested.push((home, "flux-system".into()));
}

fn argocd(cluster: &Cluster, gitops: &Gitops, units: &Units, out: &mut Artifacts) {
    let home = cluster_unit(&cluster.name.value);
    let application = |name: &str, path: String, wave: Option<usize>| {
        let mut metadata = json!({"name": name, "namespace": ARGOCD_NAMESPACE, "labels": managed_labels()});
        if let Some(wave) = wave {
            metadata["annotations"] = json!({"argocd.argoproj.io/sync-wave": wave.to_string()});
        }
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": metadata,
            "spec": {
                "project": "default",
                "source": {"repoURL": gitops.repo.value, "targetRevision": gitops.branch.value, "path": path},
                "destination": {"server": "https://kubernetes.default.svc"},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            },
        })
    };
    for (unit, depth) in &units.depth {
        let path = repo_path(gitops, unit).trim_start_matches("./").to_string();
        out.objects.push(Object { unit: home.clone(), value: application(&unit_slug(unit), path, Some(*depth)) });
    }
    let root_path = repo_path(gitops, &home).trim_start_matches("./").to_string();
    let root = application(&format!("{}-root", cluster.name.value), root_path, None);
    out.objects.push(Object { unit: home, value: root });
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
        let text = BASE.replace("GITOPS", gitops);
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
