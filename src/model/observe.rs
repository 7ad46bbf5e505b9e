//! What the monitoring stack is given: every dashboard the build ships
//! (declared and default ones), in one list that the checks and the Grafana
//! backend share, so that a title clash is reported on exactly what is written.

use super::{App, Dashboard, Model};

/// The stdlib component that runs Prometheus and Grafana.
pub const MONITORING_COMPONENT: &str = "kube-prometheus-stack";

/// The folder of the default node dashboard.
pub const NODES_FOLDER: &str = "nodes";

/// The folder of the default dashboard of the apps.
pub const APPS_FOLDER: &str = "apps";

/// Where a shipped dashboard comes from.
#[derive(Clone, Copy, Debug)]
pub enum DashboardSource<'a> {
    /// A `dashboard` declaration.
    Declared(&'a Dashboard),
    /// The default dashboard of every app with `metrics`, one app at a time
    /// (Grafana variables choose the namespace and the app).
    Apps,
    /// The default dashboard of its own that an app asks for with
    /// `metrics dashboard=#true`.
    App(&'a App),
    /// The default dashboard of the cluster's nodes.
    Nodes,
    /// The default dashboard of the cluster's CronJobs, Jobs and DaemonSets.
    Workloads,
}

/// A dashboard the build ships, declared or default.
#[derive(Clone, Debug)]
pub struct ShippedDashboard<'a> {
    /// Grafana folder (and output folder `dashboards/<folder>`).
    pub folder: String,
    /// File name without `.yaml`; unique within the folder.
    pub name: String,
    /// Title shown in Grafana.
    pub title: String,
    /// What it is made from.
    pub source: DashboardSource<'a>,
}

impl ShippedDashboard<'_> {
    /// The text the dashboard's `uid` is hashed from: the declared name, or
    /// what a default dashboard is for. Stable across builds and unique.
    pub fn identity(&self) -> String {
        match self.source {
            DashboardSource::Declared(d) => format!("dashboard:{}", d.name.value),
            DashboardSource::App(a) => format!("app:{}/{}", a.namespace.value, a.name.value),
            DashboardSource::Apps => "apps".to_string(),
            DashboardSource::Nodes => "nodes".to_string(),
            DashboardSource::Workloads => "workloads".to_string(),
        }
    }
}

impl Model {
    /// The namespace kube-prometheus-stack runs in, when the description
    /// includes it (by `use`, or because `metrics`, `dashboard` or `alert`
    /// need it).
    pub fn monitoring_namespace(&self) -> Option<&str> {
        self.charts
            .iter()
            .find(|c| c.component.as_deref() == Some(MONITORING_COMPONENT))
            .map(|c| c.namespace.value.as_str())
    }

    /// Every dashboard the build ships, sorted by folder and name: the
    /// declared ones, and when the monitoring stack is included: one for all
    /// the apps with `metrics` (`apps/apps`, templated by namespace and app,
    /// so that its size does not grow with the apps), one of its own per app
    /// that asks with `metrics dashboard=#true` (folder: the app's namespace,
    /// name: the app's), one for the nodes (`nodes/nodes`) and, when the
    /// cluster runs CronJobs, Jobs or DaemonSets, one for them
    /// (`nodes/workloads`). A declared dashboard with the same folder and
    /// name as a default one replaces it; an app's own dashboard that has the
    /// name of a shared one is renamed rather than lost.
    pub fn shipped_dashboards(&self) -> Vec<ShippedDashboard<'_>> {
        let mut shipped: Vec<ShippedDashboard<'_>> = self
            .dashboards
            .iter()
            .map(|d| ShippedDashboard {
                folder: d.folder.value.clone(),
                name: d.name.value.clone(),
                title: d.title.value.clone(),
                source: DashboardSource::Declared(d),
            })
            .collect();
        if self.monitoring_namespace().is_some() {
            let shared = self
                .apps
                .iter()
                .any(|a| a.metrics.is_some())
                .then(|| ShippedDashboard {
                    folder: APPS_FOLDER.to_string(),
                    name: "apps".to_string(),
                    title: "Apps".to_string(),
                    source: DashboardSource::Apps,
                })
                .into_iter()
                .chain(std::iter::once(ShippedDashboard {
                    folder: NODES_FOLDER.to_string(),
                    name: "nodes".to_string(),
                    title: "Nodes".to_string(),
                    source: DashboardSource::Nodes,
                }))
                .chain(self.apps.iter().any(|a| !a.workload().scales()).then(|| ShippedDashboard {
                    folder: NODES_FOLDER.to_string(),
                    name: "workloads".to_string(),
                    title: "Jobs and DaemonSets".to_string(),
                    source: DashboardSource::Workloads,
                }));
            let declared: std::collections::BTreeSet<(String, String)> =
                shipped.iter().map(|s| (s.folder.clone(), s.name.clone())).collect();
            let mut taken = declared.clone();
            for default in shared {
                if taken.insert((default.folder.clone(), default.name.clone())) {
                    shipped.push(default);
                }
            }
            // An app's own dashboard is named after the app in its namespace's
            // folder, and a declared dashboard of that name replaces it; where a
            // shared one has that name (the app `apps` in the namespace `apps`),
            // `-app` is added to it until it is free, so that it is not lost.
            for app in self.apps.iter().filter(|a| a.metrics.as_ref().is_some_and(|m| m.dashboard)) {
                let folder = app.namespace.value.clone();
                let mut name = app.name.value.clone();
                if declared.contains(&(folder.clone(), name.clone())) {
                    continue;
                }
                while taken.contains(&(folder.clone(), name.clone())) {
                    name.push_str("-app");
                }
                taken.insert((folder.clone(), name.clone()));
                shipped.push(ShippedDashboard {
                    folder,
                    name,
                    title: app.name.value.clone(),
                    source: DashboardSource::App(app),
                });
            }
        }
        shipped.sort_by(|a, b| (&a.folder, &a.name).cmp(&(&b.folder, &b.name)));
        shipped
    }
}
