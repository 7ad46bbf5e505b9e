//! The workload sections of the inventory: namespaces and what runs in them,
//! the apps' workloads, pipelines, and the dashboards and alerts given to the monitoring stack.

use super::heading;
use super::table::{Table, code};
use crate::layout::{Folder, Unit};
use crate::model::observe::{DashboardSource, MONITORING_COMPONENT};
use crate::model::{Model, Pipeline, VolumeSource, Word, WorkloadKind};

/// `## Namespaces`: Pod Security level, owning component, and what runs there.
pub fn namespaces(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Namespace", "Pod Security", "Owner", "Runs"]);
    for ns in model.namespace_names() {
        let level = if Model::is_system_namespace(&ns) {
            "— (Kubernetes' own)".to_string()
        } else {
            model.pod_security(&ns).as_str().to_string()
        };
        let owner = model.namespace_owner(&ns).map(|c| format!("component {}", code(c))).unwrap_or_default();
        table.row(vec![code(&ns), level, owner, contents(model, &ns).join(", ")]);
    }
    if !table.is_empty() {
        heading(out, "Namespaces");
        table.render(out);
    }
}

/// Everything placed in a namespace, by kind, each list sorted.
fn contents(model: &Model, ns: &str) -> Vec<String> {
    let tagged = |kind: &str, name: &str| format!("{kind} {}", code(name));
    let mut items: Vec<String> = Vec::new();
    items.extend(model.apps_in(ns).iter().map(|a| tagged("app", &a.name.value)));
    items.extend(model.charts_in(ns).iter().map(|c| tagged("chart", &c.name.value)));
    let registries = model.registries.iter().filter(|r| r.deploy.as_ref().is_some_and(|d| d.namespace.value == ns));
    items.extend(registries.map(|r| tagged("registry", &r.name.value)));
    items.extend(
        model.pipelines.iter().filter(|p| p.namespace() == Some(ns)).map(|p| tagged("pipeline", &p.name.value)),
    );
    if ns == crate::model::ENVOY_GATEWAY_NAMESPACE {
        items.extend(model.gateways.iter().map(|g| tagged("gateway", &g.name.value)));
    }
    if ns == crate::model::CLOUDFLARED_NAMESPACE {
        items.extend(model.tunnels.iter().map(|t| tagged("tunnel", &t.name.value)));
    }
    items.extend(model.secrets_in(ns).iter().map(|s| tagged("secret", &s.name.value)));
    items.extend(model.alerts_in(ns).iter().map(|a| tagged("alert", &a.name.value)));
    items
}

/// `## Workloads`: each app's workload kind, when it runs, its containers
/// and its volumes with where their data lives.
pub fn apps(model: &Model, out: &mut String) {
    let mut table = Table::new(&["App", "Namespace", "Kind", "Runs", "Containers", "Volumes"]);
    for app in &model.apps {
        let kind = app.workload();
        let runs = match kind {
            WorkloadKind::Deployment | WorkloadKind::Statefulset => match &app.autoscale {
                Some(a) => format!("{} to {} replicas", a.min.value, a.max.value),
                None if app.replicas.value == 1 => "1 replica".to_string(),
                None => format!("{} replicas", app.replicas.value),
            },
            WorkloadKind::Daemonset => "on every node it selects".to_string(),
            WorkloadKind::Cronjob => app.schedule.as_ref().map(|s| code(&s.value.text)).unwrap_or_default(),
            WorkloadKind::Job => "once".to_string(),
        };
        let mut placement: Vec<String> = Vec::new();
        placement.extend(app.node.iter().map(|n| format!("node {}", code(&n.value))));
        placement.extend(app.node_selector.iter().map(|(k, v)| code(&format!("{}={}", k.value, v.value))));
        placement.extend(app.gpus.iter().map(|g| format!("{} × {}", g.count.value, code(&g.resource.value))));
        let runs = if placement.is_empty() { runs } else { format!("{runs}, on {}", placement.join(", ")) };
        let mut containers = vec![container(&app.container, None)];
        containers.extend(app.sidecars.iter().map(|c| container(c, Some("sidecar"))));
        containers.extend(app.inits.iter().map(|c| container(c, Some("init"))));
        let mut volumes: Vec<String> = app.volumes.iter().map(volume).collect();
        volumes.extend(app.configs.iter().map(|c| {
            let at = c.mount.as_ref().map_or_else(|| "as variables".to_string(), |m| format!("at {}", code(&m.value)));
            format!("{} {at}: config from {}", code(&c.name.value), code(&c.file.value))
        }));
        volumes.extend(
            app.secret_files.iter().map(|f| format!("{}: secret {}", code(&f.mount.value), code(&f.secret.value))),
        );
        table.row(vec![
            code(&app.name.value),
            code(&app.namespace.value),
            kind.to_string(),
            runs,
            containers.join(", "),
            volumes.join("; "),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Workloads");
        table.render(out);
    }
}

/// A container cell: its name, its role (sidecar, init) and its image's
/// repository (not its tag, which every deploy changes).
fn container(c: &crate::model::Container, role: Option<&str>) -> String {
    let image = c.image.as_ref().map(|i| code(&i.repository.value));
    let details: Vec<String> = role.map(str::to_string).into_iter().chain(image).collect();
    if details.is_empty() { code(&c.name.value) } else { format!("{} ({})", code(&c.name.value), details.join(", ")) }
}

/// A volume cell: where it is mounted and where its data lives.
fn volume(v: &crate::model::Volume) -> String {
    let source = match &v.source {
        VolumeSource::Own(claim) => {
            let mut text = format!("{} claim", claim.size.value);
            if let Some(class) = &claim.storage_class {
                text.push_str(&format!(" of class {}", code(&class.value)));
            }
            if let Some(backup) = &claim.backup {
                text.push_str(&format!(", backed up by {}", code(&backup.value)));
            }
            text
        }
        VolumeSource::Claim(claim) => format!("claim {}", code(&claim.value)),
        VolumeSource::Nfs { server, path } => format!("NFS {}", code(&format!("{}:{}", server.value, path.value))),
        VolumeSource::HostPath(path) => format!("host path {}", code(&path.value)),
        VolumeSource::EmptyDir { size_limit } => match size_limit {
            Some(limit) => format!("scratch, up to {}", limit.value),
            None => "scratch".to_string(),
        },
    };
    let read_only = if v.is_read_only() { ", read-only" } else { "" };
    format!("{} at {}: {source}{read_only}", code(&v.name.value), code(&v.mount.value))
}

/// `## Pipelines`: engine, triggers, source, build, deploy, where it runs and
/// the folder of its files.
pub fn pipelines(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Pipeline", "Engine", "Triggers", "Source", "Builds", "Deploys", "Runs in", "Files"]);
    for p in &model.pipelines {
        table.row(vec![
            code(&p.name.value),
            p.engine.value.to_string(),
            p.triggers.iter().map(|t| t.value.as_str()).collect::<Vec<_>>().join(", "),
            p.source
                .as_ref()
                .map(|s| format!("{} (branch {})", code(&s.repo.value), code(&s.branch.value)))
                .unwrap_or_default(),
            builds(p),
            p.deploy.as_ref().map(|d| format!("app {} via {}", code(&d.app.value), d.via.value)).unwrap_or_default(),
            p.namespace().map_or_else(
                || "the CI runner, outside the cluster".to_string(),
                |ns| format!("namespace {}", code(ns)),
            ),
            code(&format!(
                "{}/",
                Unit::new(model.cluster_key(p.cluster.as_ref()), Folder::Pipeline(p.name.value.clone())).path()
            )),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Pipelines");
        table.render(out);
    }
}

/// The build cell: the app, its context and Dockerfile.
fn builds(p: &Pipeline) -> String {
    let Some(b) = &p.build else { return String::new() };
    format!("app {} from {} ({})", code(&b.app.value), code(&b.context.value), code(&b.dockerfile.value))
}

/// `## Dashboards and alerts`: the shipped dashboards, the declared alerts,
/// and where the monitoring stack runs.
pub fn observability(model: &Model, out: &mut String) {
    let mut dashboards = Table::new(&["Folder", "Title", "From"]);
    for d in model.shipped_dashboards() {
        let from = match d.source {
            DashboardSource::Declared(decl) => format!("dashboard {}", code(&decl.name.value)),
            DashboardSource::Apps => "default, for the metrics of every app (choose namespace and app)".to_string(),
            DashboardSource::App(app) => format!("default, for the metrics of app {}", code(&app.name.value)),
            DashboardSource::Nodes => "default, for the nodes".to_string(),
            DashboardSource::Workloads => "default, for the CronJobs, Jobs and DaemonSets".to_string(),
        };
        dashboards.row(vec![code(&d.folder), d.title, from]);
    }
    let mut alerts = Table::new(&["Namespace", "Alert", "Severity", "For", "Summary"]);
    for a in &model.alerts {
        alerts.row(vec![
            code(&a.namespace.value),
            code(&a.name.value),
            a.severity.value.to_string(),
            a.for_.as_ref().map(|f| f.value.to_string()).unwrap_or_default(),
            a.summary.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
        ]);
    }
    let monitoring = model.monitoring_namespace();
    if dashboards.is_empty() && alerts.is_empty() && monitoring.is_none() {
        return;
    }
    heading(out, "Dashboards and alerts");
    if let Some(ns) = monitoring {
        out.push_str(&format!(
            "Prometheus, Alertmanager and Grafana run in namespace {} ({}), with the default alerts \
             for apps and nodes.\n\n",
            code(ns),
            code(MONITORING_COMPONENT)
        ));
    }
    dashboards.render(out);
    alerts.render(out);
}
