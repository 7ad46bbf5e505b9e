//! Where things go: GitOps units and the plain files of the tree, as values
//! the backends build, and the one place that turns them into paths.
//!
//! A backend says "the unit of app `web`" or "the k3s config of node `n1`";
//! only [`Unit::path`] and [`FilePlace::path`] know that these are
//! `apps/demo/web` and `nodes/n1/etc/rancher/k3s/config.yaml`. With several
//! clusters in one description every path of a cluster's units and node files
//! gets the cluster's name as second segment (`apps/<cluster>/<ns>/<app>`,
//! `nodes/<cluster>/<node>/...`), so two clusters can hold an app of one name;
//! the names GitOps objects get from units ([`Unit::slug`]) leave it out, as
//! each cluster has its own GitOps entry.

use crate::model::{App, Chart, Engine, Model};

/// A GitOps unit: a folder of objects applied together (one Flux
/// Kustomization or Argo CD Application), with a `kustomization.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unit {
    /// The cluster, only when the description has several.
    pub scope: Option<String>,
    /// Which unit of that cluster.
    pub folder: Folder,
}

/// The units of one cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Folder {
    /// `apps/<ns>`: a namespace's Namespace, default policies and secrets.
    Namespace(String),
    /// `apps/<ns>/<name>`: an app's objects, or a user chart's.
    Workload {
        /// The namespace.
        namespace: String,
        /// The app or chart.
        name: String,
    },
    /// `infrastructure/<component>`: a stdlib component's namespaces and charts.
    Component(String),
    /// `configs/<component>`: custom resources that need a component's CRDs.
    Configs(String),
    /// `pipelines/<pipeline>`: a pipeline's in-cluster objects.
    Pipeline(String),
    /// `pipelines/<pipeline>/triggers`: its webhook objects.
    Triggers(String),
    /// `dashboards/<folder>`: the dashboards of one Grafana folder.
    Dashboards(String),
    /// `alerts/<namespace>`: the PrometheusRule of a namespace.
    Alerts(String),
    /// `manifests/<name>`: the cluster-scoped objects of a `manifest` file.
    Manifests(String),
    /// `clusters/<cluster>`: the cluster's GitOps entry.
    Entry(String),
    /// `clusters/<cluster>/flux-system`: Flux's own sync objects.
    FluxSystem(String),
}

impl Unit {
    /// A unit of the cluster `scope` (see [`Model::cluster_key`]).
    pub fn new(scope: Option<&str>, folder: Folder) -> Unit {
        Unit { scope: scope.map(str::to_string), folder }
    }

    /// The unit holding a namespace's Namespace object and secrets: the
    /// owning component's, or `apps/<ns>`.
    pub fn namespace_home(model: &Model, scope: Option<&str>, namespace: &str) -> Unit {
        match model.namespace_owner(namespace) {
            Some(component) => Unit::new(scope, Folder::Component(component.to_string())),
            None => Unit::new(scope, Folder::Namespace(namespace.to_string())),
        }
    }

    /// The unit of an app.
    pub fn app(model: &Model, app: &App) -> Unit {
        let folder = Folder::Workload { namespace: app.namespace.value.clone(), name: app.name.value.clone() };
        Unit::new(model.cluster_key(app.cluster.as_ref()), folder)
    }

    /// The unit of a chart: its component's, or `apps/<ns>/<chart>`.
    pub fn chart(model: &Model, chart: &Chart) -> Unit {
        let scope = model.cluster_key(chart.cluster.as_ref());
        match &chart.component {
            Some(component) => Unit::new(scope, Folder::Component(component.clone())),
            None => Unit::new(
                scope,
                Folder::Workload { namespace: chart.namespace.value.clone(), name: chart.name.value.clone() },
            ),
        }
    }

    /// The folder of the unit, relative to the output folder.
    pub fn path(&self) -> String {
        let mut path = String::with_capacity(64);
        self.push_path(&mut path);
        path
    }

    /// Writes [`Unit::path`] to `out`. Every object's path starts here: its
    /// pieces are pushed, not formatted.
    pub fn push_path(&self, out: &mut String) {
        let (category, rest): (&str, [&str; 3]) = match &self.folder {
            Folder::Entry(cluster) => ("clusters", [cluster, "", ""]),
            Folder::FluxSystem(cluster) => ("clusters", [cluster, "/", "flux-system"]),
            Folder::Namespace(ns) => ("apps", [ns, "", ""]),
            Folder::Workload { namespace, name } => ("apps", [namespace, "/", name]),
            Folder::Component(component) => ("infrastructure", [component, "", ""]),
            Folder::Configs(component) => ("configs", [component, "", ""]),
            Folder::Pipeline(pipeline) => ("pipelines", [pipeline, "", ""]),
            Folder::Triggers(pipeline) => ("pipelines", [pipeline, "/", "triggers"]),
            Folder::Dashboards(folder) => ("dashboards", [folder, "", ""]),
            Folder::Alerts(ns) => ("alerts", [ns, "", ""]),
            Folder::Manifests(name) => ("manifests", [name, "", ""]),
        };
        // The cluster's entry is its own folder: the scope is in the name already.
        let scope = match self.folder {
            Folder::Entry(_) | Folder::FluxSystem(_) => None,
            _ => self.scope.as_deref(),
        };
        push_scoped(out, category, scope);
        for piece in rest {
            out.push_str(piece);
        }
    }

    /// The unit as an object name (a Flux Kustomization's, an Argo CD
    /// Application's): its path without the cluster, `/` → `-`
    /// (`apps/demo/web` → `apps-demo-web`).
    pub fn slug(&self) -> String {
        Unit { scope: None, folder: self.folder.clone() }.path().replace('/', "-")
    }

    /// The unit whose kustomization lists this one as a folder of its own
    /// (Flux's sync objects are part of the cluster's entry); `None` for a
    /// GitOps unit of its own.
    pub fn listed_by(&self) -> Option<Unit> {
        match &self.folder {
            Folder::FluxSystem(cluster) => Some(Unit::new(None, Folder::Entry(cluster.clone()))),
            Folder::Namespace(_)
            | Folder::Workload { .. }
            | Folder::Component(_)
            | Folder::Configs(_)
            | Folder::Pipeline(_)
            | Folder::Triggers(_)
            | Folder::Dashboards(_)
            | Folder::Alerts(_)
            | Folder::Manifests(_)
            | Folder::Entry(_) => None,
        }
    }

    /// The cluster the unit's objects are applied to, when the description
    /// has several.
    pub fn cluster(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Whether the unit is a cluster's GitOps entry (or Flux's sync objects
    /// in it), which the GitOps wiring makes rather than orders.
    pub fn is_entry(&self) -> bool {
        matches!(self.folder, Folder::Entry(_) | Folder::FluxSystem(_))
    }
}

/// The folders whose second segment is the cluster when there are several.
const SCOPED: &[&str] =
    &["apps", "infrastructure", "configs", "pipelines", "dashboards", "alerts", "manifests", "nodes", "talos"];

/// The cluster a path of a tree belongs to, given the clusters of the tree
/// (none for a tree of one cluster): the reverse of [`Unit::path`] and
/// [`FilePlace::path`].
pub fn cluster_of<'a>(path: &'a str, clusters: &[String]) -> Option<&'a str> {
    let mut segments = path.split('/');
    let (first, second) = (segments.next()?, segments.next()?);
    let scoped = first == "clusters" || SCOPED.contains(&first);
    (scoped && segments.next().is_some() && clusters.iter().any(|c| c == second)).then_some(second)
}

/// `category/<scope>/rest`, or `category/rest` without a scope.
fn scoped(category: &str, scope: Option<&str>, rest: &str) -> String {
    let mut path = String::with_capacity(category.len() + rest.len() + 32);
    push_scoped(&mut path, category, scope);
    path.push_str(rest);
    path
}

/// Writes `category/` and, with several clusters, `cluster/` to `out`: where
/// a path of [`scoped`] or [`Unit::push_path`] goes on.
fn push_scoped(out: &mut String, category: &str, scope: Option<&str>) {
    out.push_str(category);
    out.push('/');
    if let Some(cluster) = scope {
        out.push_str(cluster);
        out.push('/');
    }
}

/// A plain file of the tree: not one Kubernetes object of a unit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilePlace {
    /// `README.md`: the generated inventory.
    Inventory,
    /// `.sops.yaml`: SOPS creation rules.
    SopsRules,
    /// A k3s node's `etc/rancher/k3s/config.yaml`, where it goes on the node.
    K3sConfig {
        /// The cluster, only when there are several.
        scope: Option<String>,
        /// The node.
        node: String,
    },
    /// A k3s node's `etc/rancher/k3s/registries.yaml`.
    K3sRegistries {
        /// The cluster, only when there are several.
        scope: Option<String>,
        /// The node.
        node: String,
    },
    /// A k3s cluster's k3s-ansible inventory.
    NodeInventory {
        /// The cluster, only when there are several.
        scope: Option<String>,
    },
    /// A kind cluster's definition.
    KindConfig {
        /// The cluster, only when there are several.
        scope: Option<String>,
    },
    /// A Talos cluster's talhelper file, `talos/talconfig.yaml`.
    TalConfig {
        /// The cluster, only when there are several.
        scope: Option<String>,
    },
    /// Flux's GitRepository and root Kustomization of a cluster, listed by
    /// the kustomization of [`Folder::FluxSystem`].
    FluxSync {
        /// The cluster (always named: it is the entry's folder).
        cluster: String,
    },
    /// A Tekton pipeline's PipelineRun to start a run by hand (`run.yaml`).
    PipelineRun {
        /// The cluster, only when there are several.
        scope: Option<String>,
        /// The pipeline.
        pipeline: String,
    },
    /// A CI file to commit in the repository a pipeline builds.
    CiFile {
        /// The cluster, only when there are several.
        scope: Option<String>,
        /// The pipeline.
        pipeline: String,
        /// Its engine, which decides the file's name.
        engine: Engine,
    },
}

impl FilePlace {
    /// The file's path, relative to the output folder.
    pub fn path(&self) -> String {
        match self {
            FilePlace::Inventory => "README.md".to_string(),
            FilePlace::SopsRules => ".sops.yaml".to_string(),
            FilePlace::K3sConfig { scope, node } | FilePlace::K3sRegistries { scope, node } => {
                let on_node = self.on_node().unwrap_or_default();
                format!("{}{on_node}", node_folder(scope.as_deref(), node))
            }
            FilePlace::NodeInventory { scope } => scoped("nodes", scope.as_deref(), "inventory.yml"),
            FilePlace::KindConfig { scope: None } => "kind-config.yaml".to_string(),
            FilePlace::KindConfig { scope: Some(cluster) } => format!("nodes/{cluster}/kind-config.yaml"),
            FilePlace::TalConfig { scope } => scoped("talos", scope.as_deref(), "talconfig.yaml"),
            FilePlace::FluxSync { cluster } => format!("{}/{FLUX_SYNC}", flux_system(cluster).path()),
            FilePlace::PipelineRun { scope, pipeline } => {
                format!("{}/run.yaml", Unit::new(scope.as_deref(), Folder::Pipeline(pipeline.clone())).path())
            }
            FilePlace::CiFile { scope, pipeline, engine } => format!(
                "{}/{}",
                Unit::new(scope.as_deref(), Folder::Pipeline(pipeline.clone())).path(),
                ci_destination(*engine, pipeline)
            ),
        }
    }

    /// Where a node file goes on its node (`/etc/rancher/k3s/config.yaml`):
    /// its path below [`node_folder`]. `None` for files that stay in the tree.
    pub fn on_node(&self) -> Option<&'static str> {
        match self {
            FilePlace::K3sConfig { .. } => Some("/etc/rancher/k3s/config.yaml"),
            FilePlace::K3sRegistries { .. } => Some("/etc/rancher/k3s/registries.yaml"),
            FilePlace::Inventory
            | FilePlace::SopsRules
            | FilePlace::NodeInventory { .. }
            | FilePlace::KindConfig { .. }
            | FilePlace::TalConfig { .. }
            | FilePlace::FluxSync { .. }
            | FilePlace::PipelineRun { .. }
            | FilePlace::CiFile { .. } => None,
        }
    }

    /// The unit whose kustomization lists the file, if any.
    pub fn listed_by(&self) -> Option<Unit> {
        match self {
            FilePlace::FluxSync { cluster } => Some(flux_system(cluster)),
            FilePlace::Inventory
            | FilePlace::SopsRules
            | FilePlace::K3sConfig { .. }
            | FilePlace::K3sRegistries { .. }
            | FilePlace::NodeInventory { .. }
            | FilePlace::KindConfig { .. }
            | FilePlace::TalConfig { .. }
            | FilePlace::PipelineRun { .. }
            | FilePlace::CiFile { .. } => None,
        }
    }
}

/// The folder of a node's files (`nodes/<node>`): copied onto `/` of that
/// node, each file lands at its [`FilePlace::on_node`].
pub fn node_folder(scope: Option<&str>, node: &str) -> String {
    scoped("nodes", scope, node)
}

/// The path of an object's file: its unit's folder and [`object_file_name`].
pub fn unit_object_path(unit: &Unit, kind: &str, name: &str) -> String {
    format!("{}/{}", unit.path(), object_file_name(unit, kind, name))
}

/// The file name of Flux's sync objects in `clusters/<cluster>/flux-system`.
const FLUX_SYNC: &str = "gotk-sync.yaml";

/// The unit of Flux's sync objects of a cluster.
fn flux_system(cluster: &str) -> Unit {
    Unit::new(None, Folder::FluxSystem(cluster.to_string()))
}

/// Where a CI file goes in the repository it builds: `.drone.yml`,
/// `.woodpecker/<p>.yml`, `.github/workflows/<p>.yml`. `None` for Tekton,
/// which runs in the cluster.
pub fn ci_destination(engine: Engine, pipeline: &str) -> String {
    match engine {
        Engine::Drone => ".drone.yml".to_string(),
        Engine::Woodpecker => format!(".woodpecker/{pipeline}.yml"),
        Engine::GithubActions => format!(".github/workflows/{pipeline}.yml"),
        Engine::Tekton => String::new(),
    }
}

/// The ConfigMap name of a dashboard; its file in `dashboards/<folder>` is
/// `<name>.yaml` ([`object_file_name`]).
pub fn dashboard_config_map(folder: &str, name: &str) -> String {
    format!("{DASHBOARD_PREFIX}{folder}-{name}")
}

const DASHBOARD_PREFIX: &str = "dashboard-";

/// The file name of an object in its unit folder: `<kind>-<name>.yaml` in
/// lowercase; a dashboard's is its dashboard name.
pub fn object_file_name(unit: &Unit, kind: &str, name: &str) -> String {
    let mut file = String::with_capacity(kind.len() + name.len() + 6);
    push_object_file_name(&mut file, unit, kind, name);
    file
}

/// Writes [`object_file_name`] to `out`, pushed piece by piece: every
/// object's file name is made here.
pub fn push_object_file_name(out: &mut String, unit: &Unit, kind: &str, name: &str) {
    let dashboard = match &unit.folder {
        Folder::Dashboards(folder) => (name.strip_prefix(DASHBOARD_PREFIX))
            .and_then(|rest| rest.strip_prefix(folder.as_str()))
            .and_then(|rest| rest.strip_prefix('-')),
        _ => None,
    };
    match dashboard {
        Some(dashboard) => out.push_str(dashboard),
        None => {
            push_lowercase(out, kind);
            out.push('-');
            push_lowercase(out, name);
        }
    }
    out.push_str(".yaml");
}

/// Writes `text` in lower case (by bytes where it is ASCII, as most names are).
fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&text.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_clusters_put_the_cluster_second_and_keep_it_out_of_slugs() {
        let folder = Folder::Workload { namespace: "demo".into(), name: "web".into() };
        let one = Unit::new(None, folder.clone());
        let two = Unit::new(Some("home"), folder);
        assert_eq!(one.path(), "apps/demo/web");
        assert_eq!(two.path(), "apps/home/demo/web");
        assert_eq!(one.slug(), two.slug());
        assert_eq!(Unit::new(Some("home"), Folder::Entry("home".into())).path(), "clusters/home");
        let node = |scope: Option<&str>| FilePlace::K3sConfig { scope: scope.map(str::to_string), node: "n1".into() };
        assert_eq!(node(None).path(), "nodes/n1/etc/rancher/k3s/config.yaml");
        assert_eq!(node(Some("home")).path(), "nodes/home/n1/etc/rancher/k3s/config.yaml");
        let talos = |scope: Option<&str>| FilePlace::TalConfig { scope: scope.map(str::to_string) }.path();
        assert_eq!(talos(None), "talos/talconfig.yaml");
        assert_eq!(talos(Some("home")), "talos/home/talconfig.yaml");
        assert_eq!(cluster_of("talos/home/talconfig.yaml", &["home".to_string()]), Some("home"));
    }

    #[test]
    fn dashboards_are_named_after_themselves() {
        let unit = Unit::new(None, Folder::Dashboards("apps".into()));
        assert_eq!(object_file_name(&unit, "ConfigMap", &dashboard_config_map("apps", "web")), "web.yaml");
        let other = Unit::new(None, Folder::Namespace("apps".into()));
        assert_eq!(object_file_name(&other, "ConfigMap", "Web"), "configmap-web.yaml");
    }
}
