//! Prometheus alerting rules (SPEC §5): one PrometheusRule per namespace in
//! `alerts/<namespace>/`, holding the declared `alert`s of that namespace and
//! the default alerts the description implies:
//! - for the apps, one rule per kind of alert and namespace (not per app:
//!   the selector names the apps in a regex): no available replica (per
//!   workload kind), crash looping, a volume filling up; per CronJob or Job,
//!   a failed or late run;
//! - for the nodes (in the monitoring namespace): a node not ready, fewer
//!   nodes than declared, a filesystem filling up.
//!
//! The rules carry the `release` label of the kube-prometheus-stack Helm
//! release, so its Prometheus selects them even with the chart's default
//! rule selector (the stdlib component also selects unlabelled rules).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::observe::MONITORING_COMPONENT;
use crate::model::{Alert, App, Model, Word, WorkloadKind};

/// The name of every PrometheusRule homelabc writes (one per namespace).
pub const RULE_NAME: &str = "homelabc-alerts";

/// Label matchers selecting the filesystems of a node worth watching
/// (not tmpfs, overlays, squashfs snaps or other virtual ones).
pub const NODE_FILESYSTEMS: &str = "fstype!~\"|tmpfs|ramfs|overlay|squashfs|nsfs|autofs|fuse.lxcfs\"";

/// The labels that make kube-prometheus-stack's Prometheus select an object:
/// the managed-by label and `release: kube-prometheus-stack`.
pub fn selected_labels() -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.insert("release".to_string(), MONITORING_COMPONENT.to_string());
    labels
}

/// `PrometheusRule`: the alerting rules of a namespace, for the Prometheus operator.
#[derive(Debug, Serialize)]
struct PrometheusRule {
    spec: RuleSpec,
}

impl CustomKind for PrometheusRule {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const KIND: &'static str = "PrometheusRule";
}

/// The spec of a PrometheusRule: its rule groups.
#[derive(Debug, Serialize)]
struct RuleSpec {
    groups: Vec<RuleGroup>,
}

/// A named group of rules, evaluated together.
#[derive(Debug, Serialize)]
struct RuleGroup {
    name: &'static str,
    rules: Vec<Rule>,
}

/// One alerting rule.
#[derive(Debug, Serialize)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    labels: RuleLabels,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<RuleAnnotations>,
}

/// The labels of an alert: its severity.
#[derive(Debug, Serialize)]
struct RuleLabels {
    severity: &'static str,
}

/// The annotations of an alert; a rule without either has none.
#[derive(Debug, Serialize)]
struct RuleAnnotations {
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

/// Adds the PrometheusRules, when the monitoring stack is part of the description.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(monitoring) = model.monitoring_namespace() else { return };
    let mut groups: BTreeMap<&str, Vec<RuleGroup>> = BTreeMap::new();
    let mut apps: BTreeMap<&str, Vec<&App>> = BTreeMap::new();
    for app in &model.apps {
        apps.entry(&app.namespace.value).or_default().push(app);
    }
    for (ns, mut apps) in apps {
        // By name, so that the output does not depend on the declarations' order.
        apps.sort_by(|a, b| a.name.value.cmp(&b.name.value));
        groups.entry(ns).or_default().push(group("homelabc.apps", app_rules(ns, &apps)));
    }
    groups.entry(monitoring).or_default().push(group("homelabc.nodes", node_rules(model)));
    let mut declared: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for alert in &model.alerts {
        declared.entry(&alert.namespace.value).or_default().push(alert);
    }
    for (ns, alerts) in declared {
        groups.entry(ns).or_default().push(group("homelabc.declared", alerts.into_iter().map(declared_rule).collect()));
    }
    let scope = model.cluster_key(None);
    for (ns, groups) in groups {
        let unit = Unit::new(scope, Folder::Alerts(ns.to_string()));
        out.needs.push((unit.clone(), model.component_id(scope, MONITORING_COMPONENT)));
        out.needs.push((unit.clone(), model.namespace_id(scope, ns)));
        let rule = PrometheusRule { spec: RuleSpec { groups } };
        out.object(&origin(model, ns), &unit, Custom::new(meta(RULE_NAME, Some(ns), selected_labels()), rule));
    }
}

/// What the PrometheusRule of a namespace is made for: the alerts declared
/// in it, else (rules made by default) its apps, else the cluster's nodes.
fn origin(model: &Model, ns: &str) -> Origin {
    let declared: Vec<_> = model.alerts_in(ns).iter().map(|a| a.id(model)).collect();
    if let Some((first, rest)) = declared.split_first() {
        return rest.iter().cloned().fold(Origin::of(first.clone()), Origin::and);
    }
    let apps = model.apps_in(ns).iter().map(|a| a.id(model));
    Origin::default_for_all(apps).unwrap_or_else(|| {
        let cluster = model.cluster_for(None).map(|c| c.id(model));
        let nodes = model.nodes.iter().map(|n| n.id(model));
        Origin::default_for_all(cluster.into_iter().chain(nodes))
            .unwrap_or_else(|| Origin::default_for(model.namespace_id(None, ns)))
    })
}

/// A rule group.
fn group(name: &'static str, rules: Vec<Rule>) -> RuleGroup {
    RuleGroup { name, rules }
}

/// One default alerting rule: every field set.
fn rule(alert: &str, expr: String, for_: &str, severity: &'static str, summary: String, description: String) -> Rule {
    Rule {
        alert: alert.to_string(),
        expr,
        for_: Some(for_.to_string()),
        labels: RuleLabels { severity },
        annotations: Some(RuleAnnotations { summary: Some(summary), description: Some(description) }),
    }
}

/// A declared `alert` as a rule: `for` and the annotations only when written.
fn declared_rule(alert: &Alert) -> Rule {
    let summary = alert.summary.as_ref().map(|s| s.value.clone());
    let description = alert.description.as_ref().map(|d| d.value.clone());
    let annotations = (summary.is_some() || description.is_some()).then_some(RuleAnnotations { summary, description });
    Rule {
        alert: alert.name.value.clone(),
        expr: alert.expr.value.clone(),
        for_: alert.for_.as_ref().map(|f| f.value.text.clone()),
        labels: RuleLabels { severity: alert.severity.value.as_str() },
        annotations,
    }
}

/// How kube-state-metrics reports a long-running workload's pods: the label
/// naming the workload, the pods it wants and the pods that are available.
/// `None` for a Job or CronJob, whose runs are watched instead.
pub struct Availability {
    /// The label naming the workload (`deployment="web"`).
    pub label: &'static str,
    /// The metric of the pods it wants.
    pub desired: &'static str,
    /// The metric of its available pods.
    pub ready: &'static str,
}

/// The [`Availability`] metrics of a workload kind.
pub fn availability(kind: WorkloadKind) -> Option<Availability> {
    match kind {
        WorkloadKind::Deployment => Some(Availability {
            label: "deployment",
            desired: "kube_deployment_spec_replicas",
            ready: "kube_deployment_status_replicas_available",
        }),
        WorkloadKind::Statefulset => Some(Availability {
            label: "statefulset",
            desired: "kube_statefulset_replicas",
            ready: "kube_statefulset_status_replicas_ready",
        }),
        WorkloadKind::Daemonset => Some(Availability {
            label: "daemonset",
            desired: "kube_daemonset_status_desired_number_scheduled",
            ready: "kube_daemonset_status_number_available",
        }),
        WorkloadKind::Cronjob | WorkloadKind::Job => None,
    }
}

/// The selector of the Jobs a CronJob starts (`<cronjob>-<minutes since epoch>`).
pub fn cronjob_jobs(ns: &str, name: &str) -> String {
    format!("namespace=\"{ns}\", job_name=~\"{name}-[0-9]+\"")
}

/// The default alerts of a namespace's apps, one rule per kind of alert
/// however many apps the namespace holds: the rule's selector names the apps
/// in a regex, and the series that fires carries the workload's, pod's or
/// claim's label (the way kube-prometheus-stack templates its own rules). In
/// order: unavailable per workload kind, DaemonSet pods missing, the runs of
/// each CronJob and Job (per app: they depend on its schedule and latest
/// run), crash looping, volumes filling up.
fn app_rules(ns: &str, apps: &[&App]) -> Vec<Rule> {
    let mut rules = unavailable_rules(ns, apps);
    rules.extend(apps.iter().flat_map(|app| run_rules(app)));
    rules.push(crash_looping_rule(ns, apps));
    rules.extend(volume_rules(ns, apps));
    rules
}

/// No available replica, one rule per workload kind of the namespace's
/// long-running apps, and a DaemonSet missing pods on some nodes.
fn unavailable_rules(ns: &str, apps: &[&App]) -> Vec<Rule> {
    let mut by_kind: BTreeMap<WorkloadKind, BTreeSet<&str>> = BTreeMap::new();
    for app in apps {
        by_kind.entry(app.workload()).or_default().insert(&app.name.value);
    }
    let mut rules = Vec::new();
    for (&kind, names) in &by_kind {
        let Some(a) = availability(kind) else { continue };
        let workload = format!("{{{{ $labels.{} }}}}", a.label);
        let what = match kind {
            WorkloadKind::Daemonset => ", one pod per selected node",
            _ => "",
        };
        rules.push(rule(
            "AppUnavailable",
            format!("{}{{namespace=\"{ns}\", {}}} == 0", a.ready, matcher(a.label, names)),
            "5m",
            "critical",
            format!("{workload} in {ns} has no available replica"),
            format!("No pod of {workload} ({kind} in namespace {ns}{what}) has been ready for 5 minutes."),
        ));
    }
    if let Some(names) = by_kind.get(&WorkloadKind::Daemonset) {
        rules.push(rule(
            "DaemonSetPodsUnavailable",
            format!("kube_daemonset_status_number_unavailable{{namespace=\"{ns}\", {}}} > 0", matcher("daemonset", names)),
            "15m",
            "warning",
            format!("{{{{ $labels.daemonset }}}} in {ns} is missing pods on some nodes"),
            "{{ $value }} of the nodes {{ $labels.daemonset }} should run on have had no available pod of it for 15 minutes."
                .to_string(),
        ));
    }
    rules
}

/// The runs of a CronJob (the latest failed, none succeeded on schedule) or
/// of a Job (it failed); nothing for another workload.
fn run_rules(app: &App) -> Vec<Rule> {
    let (ns, name) = (&app.namespace.value, &app.name.value);
    let mut rules = Vec::new();
    match app.workload() {
        WorkloadKind::Cronjob => {
            let jobs = cronjob_jobs(ns, name);
            // The latest run (the Job that started last) failed.
            rules.push(rule(
                "CronJobFailed",
                format!(
                    "(kube_job_status_failed{{{jobs}}} > 0) and on (namespace, job_name) \
                     (kube_job_status_start_time{{{jobs}}} == on (namespace) group_left () \
                     max by (namespace) (kube_job_status_start_time{{{jobs}}}))"
                ),
                "1m",
                "warning",
                format!("The last run of {name} in {ns} failed"),
                format!(
                    "Job {{{{ $labels.job_name }}}} of CronJob {name} failed; `kubectl -n {ns} logs job/{{{{ $labels.job_name }}}}` shows why."
                ),
            ));
            if let Some(schedule) = &app.schedule {
                let late = schedule.value.longest_gap_seconds() + 3600;
                rules.push(rule(
                    "CronJobLate",
                    format!(
                        "time() - kube_cronjob_status_last_successful_time{{namespace=\"{ns}\", cronjob=\"{name}\"}} > {late}"
                    ),
                    "5m",
                    "warning",
                    format!("{name} in {ns} has not succeeded on schedule"),
                    format!(
                        "CronJob {name} (`{}`) last succeeded {{{{ $value | humanizeDuration }}}} ago, more than its schedule allows.",
                        schedule.value
                    ),
                ));
            }
        }
        WorkloadKind::Job => rules.push(rule(
            "JobFailed",
            format!("kube_job_status_failed{{namespace=\"{ns}\", job_name=\"{name}\"}} > 0"),
            "1m",
            "warning",
            format!("Job {name} in {ns} failed"),
            format!("Job {name} failed; `kubectl -n {ns} logs job/{name}` shows why."),
        )),
        WorkloadKind::Deployment | WorkloadKind::Statefulset | WorkloadKind::Daemonset => {}
    }
    rules
}

/// A container of one of the namespace's apps crash looping: one rule
/// naming every container of every app (its own, sidecars, init containers).
fn crash_looping_rule(ns: &str, apps: &[&App]) -> Rule {
    let containers: BTreeSet<&str> = apps.iter().flat_map(|a| a.containers()).map(|c| c.name.value.as_str()).collect();
    rule(
        "AppCrashLooping",
        format!(
            "max_over_time(kube_pod_container_status_waiting_reason{{namespace=\"{ns}\", {}, \
             reason=\"CrashLoopBackOff\"}}[5m]) >= 1",
            matcher("container", &containers)
        ),
        "15m",
        "warning",
        format!("{{{{ $labels.pod }}}} in {ns} is crash looping"),
        format!(
            "Container {{{{ $labels.container }}}} of pod {{{{ $labels.pod }}}} has been restarting for 15 minutes; \
             `kubectl -n {ns} logs {{{{ $labels.pod }}}} -c {{{{ $labels.container }}}} --previous` shows why."
        ),
    )
}

/// A volume of one of the namespace's apps filling up (a warning, then a
/// critical alert): one pair matching every app's own claims; none when no
/// app has a volume of its own.
fn volume_rules(ns: &str, apps: &[&App]) -> Vec<Rule> {
    // Each app's regex has no `|` outside parentheses, so joined by `|`
    // they stay one alternative each.
    let claims: Vec<String> = apps.iter().filter_map(|a| own_claims_selector(a)).collect();
    if claims.is_empty() {
        return Vec::new();
    }
    let claims = format!("namespace=\"{ns}\", persistentvolumeclaim=~\"{}\"", quoted(&claims.join("|")));
    let free =
        format!("kubelet_volume_stats_available_bytes{{{claims}}} / kubelet_volume_stats_capacity_bytes{{{claims}}}");
    [(15, "warning"), (5, "critical")]
        .into_iter()
        .map(|(left, severity)| {
            rule(
                "AppVolumeFillingUp",
                format!("{free} < {}", f64::from(left) / 100.0),
                "15m",
                severity,
                format!("Volume {{{{ $labels.persistentvolumeclaim }}}} in {ns} is almost full"),
                format!(
                    "Volume {{{{ $labels.persistentvolumeclaim }}}} has less than {left}% free space \
                     ({{{{ $value | humanizePercentage }}}} left)."
                ),
            )
        })
        .collect()
}

/// The regular expression matching the claims of an app's own volumes: a
/// StatefulSet's `<volume>-<app>-<ordinal>`, another workload's `<app>-<volume>`.
fn own_claims_selector(app: &App) -> Option<String> {
    let volumes: Vec<String> = app.own_claims().map(|(v, _)| literal(&v.name.value)).collect();
    if volumes.is_empty() {
        return None;
    }
    let name = literal(&app.name.value);
    Some(match app.workload() {
        WorkloadKind::Statefulset => format!("({})-{name}-[0-9]+", volumes.join("|")),
        _ => format!("{name}-({})", volumes.join("|")),
    })
}

/// The label matcher selecting `names` (sorted, at least one): `label="a"`
/// for one, `label=~"a|b"` for several.
fn matcher(label: &str, names: &BTreeSet<&str>) -> String {
    match names.iter().collect::<Vec<_>>().as_slice() {
        [one] => format!("{label}=\"{}\"", quoted(one)),
        all => {
            let alternatives: Vec<String> = all.iter().map(|n| literal(n)).collect();
            format!("{label}=~\"{}\"", quoted(&alternatives.join("|")))
        }
    }
}

/// A regular expression matching exactly `text`: its RE2 metacharacters
/// escaped. The names put in selectors are RFC 1123 labels (lowercase
/// letters, digits and `-`), which hold none; this keeps each name one
/// alternative of the regex should a name ever hold a `.`.
fn literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `text` inside a PromQL double-quoted string: backslashes (those that
/// escape a regex metacharacter too) and quotes escaped.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The default node alerts: not ready, fewer nodes than declared, a
/// filesystem filling up.
fn node_rules(model: &Model) -> Vec<Rule> {
    let mut rules = vec![rule(
        "NodeNotReady",
        "kube_node_status_condition{condition=\"Ready\", status=\"true\"} == 0".into(),
        "5m",
        "critical",
        "Node {{ $labels.node }} is not ready".into(),
        "Node {{ $labels.node }} has not been Ready for 5 minutes; its pods are being evicted.".into(),
    )];
    if !model.nodes.is_empty() {
        let declared = model.nodes.len();
        rules.push(rule(
            "NodeMissing",
            format!("count(kube_node_info) < {declared}"),
            "15m",
            "warning",
            "Fewer nodes than declared have joined the cluster".into(),
            format!(
                "The description declares {declared} nodes; only {{{{ $value }}}} have been registered for 15 minutes."
            ),
        ));
    }
    let free =
        format!("node_filesystem_avail_bytes{{{NODE_FILESYSTEMS}}} / node_filesystem_size_bytes{{{NODE_FILESYSTEMS}}}");
    for (left, severity) in [(15, "warning"), (5, "critical")] {
        rules.push(rule(
            "NodeDiskFillingUp",
            format!("{free} < {} and node_filesystem_readonly{{{NODE_FILESYSTEMS}}} == 0", f64::from(left) / 100.0),
            "30m",
            severity,
            "A filesystem of node {{ $labels.instance }} is almost full".into(),
            format!(
                "{{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} has less than {left}% free space \
                 ({{{{ $value | humanizePercentage }}}} left)."
            ),
        ));
    }
    rules
}

#[cfg(test)]
mod tests;
