//! The default dashboards: one for the apps with `metrics` (templated by
//! namespace and app), one per app that asks for its own, one for the nodes.
//!
//! They are written as the same rows and panels a `dashboard` declaration
//! lowers to, so they go through the one renderer and layout. Queries follow
//! the metric names of the Prometheus client libraries (`http_requests_total`,
//! `http_request_duration_seconds`), cAdvisor, kube-state-metrics and
//! node-exporter as kube-prometheus-stack scrapes them (node-exporter's
//! `instance` label is the node name).

use super::json::{Variable, VariableQuery};
use crate::backend::prometheus::{Availability, NODE_FILESYSTEMS, availability, cronjob_jobs};
use crate::model::{App, Model, Panel, PanelKind, Quantity, Query, Row, Threshold, WorkloadKind};
use crate::source::{Span, Spanned};

/// What the app rows show: one app, or the app the variables choose.
struct Subject {
    /// The selector of its scrape job.
    job: String,
    /// The selector of its containers.
    container: String,
    /// The pods it wants, and its available pods (each one number).
    desired: String,
    ready: String,
    /// Its CPU and memory requests and limits.
    cpu: Bounds,
    memory: Bounds,
}

/// How a resource panel shows requests and limits: as threshold steps (an
/// app's declared ones), or as queries (those kube-state-metrics reports, for
/// an app a variable chooses).
struct Bounds {
    steps: Vec<(f64, &'static str)>,
    queries: Vec<(String, &'static str)>,
}

/// The rows of the dashboard of the app a variable chooses (`$namespace`,
/// `$app`): every app with `metrics` of `model`, one at a time, like
/// kube-prometheus-stack's workload dashboards. Its size does not grow with
/// the apps.
pub(super) fn apps(model: &Model) -> Vec<Row> {
    let job = "namespace=\"$namespace\", job=\"$app\"".to_string();
    let container = "namespace=\"$namespace\", container=\"$app\"".to_string();
    // The workload kinds of the apps, each once: a sum over one kind is
    // empty for an app of another kind, so `or` picks the app's own.
    let mut kinds: Vec<Availability> = Vec::new();
    for a in model.apps.iter().filter(|a| a.metrics.is_some()).filter_map(|a| availability(a.workload())) {
        if !kinds.iter().any(|k| k.label == a.label) {
            kinds.push(a);
        }
    }
    kinds.sort_by_key(|k| k.label);
    let count = |metric: fn(&Availability) -> &'static str| {
        let sums: Vec<String> = kinds
            .iter()
            .map(|k| format!("sum({}{{namespace=\"$namespace\", {}=\"$app\"}})", metric(k), k.label))
            .collect();
        match sums.len() {
            1 => sums.concat(),
            _ => format!("({})", sums.join(" or ")),
        }
    };
    let declared = |metric: &str, resource: &str, legend: &'static str| {
        (format!("max({metric}{{{container}, resource=\"{resource}\"}})"), legend)
    };
    let subject = Subject {
        desired: count(|k| k.desired),
        ready: count(|k| k.ready),
        cpu: Bounds {
            steps: Vec::new(),
            queries: vec![
                declared("kube_pod_container_resource_requests", "cpu", "request"),
                declared("kube_pod_container_resource_limits", "cpu", "limit"),
            ],
        },
        memory: Bounds {
            steps: Vec::new(),
            queries: vec![
                declared("kube_pod_container_resource_requests", "memory", "request"),
                declared("kube_pod_container_resource_limits", "memory", "limit"),
            ],
        },
        job,
        container,
    };
    rows(&subject)
}

/// The variables of the apps' dashboard: the namespace (those of the apps
/// with `metrics`), then the app (the scrape jobs of that namespace).
pub(super) fn apps_variables(model: &Model) -> Vec<Variable> {
    let namespaces: std::collections::BTreeSet<&str> =
        model.apps.iter().filter(|a| a.metrics.is_some()).map(|a| a.namespace.value.as_str()).collect();
    let listed = namespaces.into_iter().collect::<Vec<_>>().join(",");
    vec![
        Variable::new("custom", "namespace", "Namespace", VariableQuery::Custom(listed)),
        Variable::prometheus("app", "App", "label_values(up{namespace=\"$namespace\"}, job)"),
    ]
}

/// The rows of the dashboard of its own that an app asks for with
/// `metrics dashboard=#true`: the rows of [`apps`] for this one app, with its
/// declared requests and limits as threshold lines.
pub(super) fn app(app: &App) -> Vec<Row> {
    let ns = &app.namespace.value;
    let name = &app.name.value;
    // Only long-running workloads have `metrics` (E1201); a Job's runs are
    // on the workloads dashboard.
    let a = availability(app.workload()).unwrap_or(Availability {
        label: "deployment",
        desired: "kube_deployment_spec_replicas",
        ready: "kube_deployment_status_replicas_available",
    });
    let owner = format!("namespace=\"{ns}\", {}=\"{name}\"", a.label);
    let resources = app.container.resources.as_ref();
    let cpu_steps = steps(resources.and_then(|r| r.cpu.as_ref()), resources.and_then(|r| r.cpu_limit.as_ref()));
    let memory_steps =
        steps(resources.and_then(|r| r.memory.as_ref()), resources.and_then(|r| r.memory_limit.as_ref()));
    rows(&Subject {
        job: format!("namespace=\"{ns}\", job=\"{name}\""),
        container: format!("namespace=\"{ns}\", container=\"{name}\""),
        desired: format!("sum({}{{{owner}}})", a.desired),
        ready: format!("sum({}{{{owner}}})", a.ready),
        cpu: Bounds { steps: cpu_steps, queries: Vec::new() },
        memory: Bounds { steps: memory_steps, queries: Vec::new() },
    })
}

/// The rows of an app dashboard: traffic (request rate, errors, latency
/// percentiles), health (unavailable replicas, restarts) and resources (CPU
/// and memory per pod, with requests and limits).
fn rows(s: &Subject) -> Vec<Row> {
    let (job, container) = (&s.job, &s.container);
    let requests = format!("rate(http_requests_total{{{job}}}[$__rate_interval])");
    let errors = format!(
        "sum(rate(http_requests_total{{{job}, code=~\"5..\"}}[$__rate_interval]) \
         or rate(http_requests_total{{{job}, status=~\"5..\"}}[$__rate_interval])) / sum({requests})"
    );
    let latency = |q: &str, legend: &'static str| {
        let expr = format!(
            "histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{{job}}}[$__rate_interval])))"
        );
        (expr, legend)
    };
    let with_declared = |mut queries: Vec<(String, &'static str)>, declared: &[(String, &'static str)]| {
        queries.extend(declared.iter().cloned());
        queries
    };
    vec![
        row(
            "Traffic",
            vec![
                panel(
                    "Requests",
                    PanelKind::Timeseries,
                    "reqps",
                    vec![(format!("sum by (pod) ({requests})"), "{{pod}}")],
                ),
                with_steps(
                    panel("Errors", PanelKind::Timeseries, "percentunit", vec![(errors, "5xx")]),
                    &[(0.01, "orange"), (0.05, "red")],
                ),
                panel(
                    "Latency",
                    PanelKind::Timeseries,
                    "s",
                    vec![latency("0.5", "p50"), latency("0.95", "p95"), latency("0.99", "p99")],
                ),
            ],
        ),
        row(
            "Health",
            vec![
                with_steps(
                    panel(
                        "Unavailable replicas",
                        PanelKind::Stat,
                        "none",
                        vec![(format!("{} - {}", s.desired, s.ready), "")],
                    ),
                    &[(1.0, "red")],
                ),
                with_steps(
                    panel(
                        "Restarts",
                        PanelKind::Stat,
                        "none",
                        vec![(
                            format!("sum(increase(kube_pod_container_status_restarts_total{{{container}}}[$__range]))"),
                            "",
                        )],
                    ),
                    &[(1.0, "orange"), (5.0, "red")],
                ),
            ],
        ),
        row(
            "Resources",
            vec![
                with_steps(
                    panel(
                        "CPU (cores)",
                        PanelKind::Timeseries,
                        "short",
                        with_declared(
                            vec![(
                                format!(
                                    "sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}[$__rate_interval]))"
                                ),
                                "{{pod}}",
                            )],
                            &s.cpu.queries,
                        ),
                    ),
                    &s.cpu.steps,
                ),
                with_steps(
                    panel(
                        "Memory",
                        PanelKind::Timeseries,
                        "bytes",
                        with_declared(
                            vec![(
                                format!("sum by (pod) (container_memory_working_set_bytes{{{container}}})"),
                                "{{pod}}",
                            )],
                            &s.memory.queries,
                        ),
                    ),
                    &s.memory.steps,
                ),
            ],
        ),
    ]
}

/// The rows of the workloads dashboard, for the CronJobs, Jobs and
/// DaemonSets of the cluster: when each CronJob last succeeded and how its
/// runs went, and the DaemonSets' missing pods.
pub(super) fn workloads(model: &Model) -> Vec<Row> {
    let of = |kind: WorkloadKind| model.apps.iter().filter(move |a| a.workload() == kind);
    let mut rows = Vec::new();
    let cronjobs: Vec<&App> = of(WorkloadKind::Cronjob).collect();
    if !cronjobs.is_empty() {
        let names = |f: &dyn Fn(&App) -> String| cronjobs.iter().map(|a| f(a)).collect::<Vec<_>>().join(" or ");
        let since = names(&|a| {
            format!(
                "time() - kube_cronjob_status_last_successful_time{{namespace=\"{}\", cronjob=\"{}\"}}",
                a.namespace.value, a.name.value
            )
        });
        let failed =
            names(&|a| format!("kube_job_status_failed{{{}}}", cronjob_jobs(&a.namespace.value, &a.name.value)));
        let active =
            names(&|a| format!("kube_job_status_active{{{}}}", cronjob_jobs(&a.namespace.value, &a.name.value)));
        rows.push(row(
            "CronJobs",
            vec![
                panel("Since last success", PanelKind::Table, "s", vec![(since, "{{namespace}}/{{cronjob}}")]),
                with_steps(
                    panel(
                        "Failed runs kept",
                        PanelKind::Stat,
                        "none",
                        vec![(format!("sum({failed}) or vector(0)"), "")],
                    ),
                    &[(1.0, "red")],
                ),
                panel("Running", PanelKind::Timeseries, "none", vec![(active, "{{job_name}}")]),
            ],
        ));
    }
    let jobs: Vec<&App> = of(WorkloadKind::Job).collect();
    if !jobs.is_empty() {
        let list = jobs.iter().map(|a| a.name.value.as_str()).collect::<Vec<_>>().join("|");
        let selector = format!("job_name=~\"{list}\"");
        rows.push(row(
            "Jobs",
            vec![
                panel(
                    "Succeeded",
                    PanelKind::Table,
                    "none",
                    vec![(format!("kube_job_status_succeeded{{{selector}}}"), "")],
                ),
                with_steps(
                    panel(
                        "Failed",
                        PanelKind::Table,
                        "none",
                        vec![(format!("kube_job_status_failed{{{selector}}}"), "")],
                    ),
                    &[(1.0, "red")],
                ),
            ],
        ));
    }
    let daemonsets: Vec<&App> = of(WorkloadKind::Daemonset).collect();
    if !daemonsets.is_empty() {
        let list = daemonsets.iter().map(|a| a.name.value.as_str()).collect::<Vec<_>>().join("|");
        let selector = format!("daemonset=~\"{list}\"");
        rows.push(row(
            "DaemonSets",
            vec![
                with_steps(
                    panel(
                        "Unavailable pods",
                        PanelKind::Timeseries,
                        "none",
                        vec![(
                            format!("kube_daemonset_status_number_unavailable{{{selector}}}"),
                            "{{namespace}}/{{daemonset}}",
                        )],
                    ),
                    &[(1.0, "red")],
                ),
                panel(
                    "Scheduled / desired",
                    PanelKind::Table,
                    "none",
                    vec![
                        (format!("kube_daemonset_status_current_number_scheduled{{{selector}}}"), "scheduled"),
                        (format!("kube_daemonset_status_desired_number_scheduled{{{selector}}}"), "desired"),
                    ],
                ),
            ],
        ));
    }
    rows
}

/// The rows of the nodes' dashboard: readiness and overall use, CPU and
/// memory per node, disks and network, and what each node runs.
pub(super) fn nodes(model: &Model) -> Vec<Row> {
    let node = "instance=~\"$instance\"";
    let fs = format!("{node}, {NODE_FILESYSTEMS}");
    let ready_title = match model.nodes.len() {
        0 => "Nodes ready".to_string(),
        n => format!("Nodes ready (of {n} declared)"),
    };
    let busy =
        |by: &str| format!("1 - avg{by} (rate(node_cpu_seconds_total{{mode=\"idle\", {node}}}[$__rate_interval]))");
    let rate =
        |metric: &str, extra: &str| format!("sum by (instance) (rate({metric}{{{node}{extra}}}[$__rate_interval]))");
    let nic = ", device!~\"lo|veth.*|cni.*|flannel.*|docker.*|cali.*\"";
    vec![
        row(
            "Overview",
            vec![
                panel(
                    &ready_title,
                    PanelKind::Stat,
                    "none",
                    vec![("sum(kube_node_status_condition{condition=\"Ready\", status=\"true\"})".into(), "")],
                ),
                with_steps(
                    panel(
                        "Nodes not ready",
                        PanelKind::Stat,
                        "none",
                        vec![("sum(kube_node_status_condition{condition=\"Ready\", status!=\"true\"})".into(), "")],
                    ),
                    &[(1.0, "red")],
                ),
                percent_gauge(panel("CPU busy", PanelKind::Gauge, "percentunit", vec![(busy(""), "")])),
                percent_gauge(panel(
                    "Memory used",
                    PanelKind::Gauge,
                    "percentunit",
                    vec![(
                        format!(
                            "1 - sum(node_memory_MemAvailable_bytes{{{node}}}) / sum(node_memory_MemTotal_bytes{{{node}}})"
                        ),
                        "",
                    )],
                )),
            ],
        ),
        row(
            "CPU and memory",
            vec![
                panel("CPU busy", PanelKind::Timeseries, "percentunit", vec![(busy(" by (instance)"), "{{instance}}")]),
                panel(
                    "Memory used",
                    PanelKind::Timeseries,
                    "bytes",
                    vec![(
                        format!("node_memory_MemTotal_bytes{{{node}}} - node_memory_MemAvailable_bytes{{{node}}}"),
                        "{{instance}}",
                    )],
                ),
                panel(
                    "Load per core (1m)",
                    PanelKind::Timeseries,
                    "short",
                    vec![(
                        format!(
                            "node_load1{{{node}}} / on (instance) count by (instance) (node_cpu_seconds_total{{mode=\"idle\", {node}}})"
                        ),
                        "{{instance}}",
                    )],
                ),
            ],
        ),
        row(
            "Disks and network",
            vec![
                with_steps(
                    panel(
                        "Filesystems used",
                        PanelKind::Timeseries,
                        "percentunit",
                        vec![(
                            format!("1 - node_filesystem_avail_bytes{{{fs}}} / node_filesystem_size_bytes{{{fs}}}"),
                            "{{instance}} {{mountpoint}}",
                        )],
                    ),
                    &[(0.85, "orange"), (0.95, "red")],
                ),
                panel(
                    "Disk throughput",
                    PanelKind::Timeseries,
                    "Bps",
                    vec![
                        (rate("node_disk_read_bytes_total", ""), "{{instance}} read"),
                        (rate("node_disk_written_bytes_total", ""), "{{instance}} written"),
                    ],
                ),
                panel(
                    "Network",
                    PanelKind::Timeseries,
                    "bps",
                    vec![
                        (format!("8 * {}", rate("node_network_receive_bytes_total", nic)), "{{instance}} in"),
                        (format!("8 * {}", rate("node_network_transmit_bytes_total", nic)), "{{instance}} out"),
                    ],
                ),
            ],
        ),
        row(
            "Machines",
            vec![panel(
                "Kernel and architecture",
                PanelKind::Table,
                "none",
                vec![(format!("max by (instance, machine, release) (node_uname_info{{{node}}})"), "")],
            )],
        ),
    ]
}

/// The `instance` variable of the nodes' dashboard: one, several or all nodes.
pub(super) fn instance_variable() -> Variable {
    Variable {
        include_all: true,
        multi: true,
        ..Variable::prometheus("instance", "Node", "label_values(node_uname_info, instance)")
    }
}

/// A titled row.
fn row(title: &str, panels: Vec<Panel>) -> Row {
    Row { title: Some(synthetic(title.to_string())), panels }
}

/// A panel of the given kind and unit with (query, legend) pairs.
fn panel(title: &str, kind: PanelKind, unit: &str, queries: Vec<(String, &str)>) -> Panel {
    Panel {
        title: synthetic(title.to_string()),
        kind: synthetic(kind),
        unit: Some(synthetic(unit.to_string())),
        queries: queries
            .into_iter()
            .map(|(expr, legend)| Query {
                expr: synthetic(expr),
                legend: (!legend.is_empty()).then(|| synthetic(legend.to_string())),
            })
            .collect(),
        min: None,
        max: None,
        legend: None,
        thresholds: Vec::new(),
        span: Span::default(),
    }
}

/// The panel with threshold steps (value, color), lowest first.
fn with_steps(mut panel: Panel, steps: &[(f64, &str)]) -> Panel {
    panel.thresholds = steps
        .iter()
        .map(|(value, color)| Threshold { value: synthetic(*value), color: synthetic(color.to_string()) })
        .collect();
    panel
}

/// A 0-100 % gauge, orange from 70 % and red from 90 %.
fn percent_gauge(mut panel: Panel) -> Panel {
    panel.min = Some(synthetic(0.0));
    panel.max = Some(synthetic(1.0));
    with_steps(panel, &[(0.7, "orange"), (0.9, "red")])
}

/// Threshold steps at a declared request (orange) and limit (red), in base
/// units (cores, bytes); a limit equal to the request is one red step.
fn steps(request: Option<&Spanned<Quantity>>, limit: Option<&Spanned<Quantity>>) -> Vec<(f64, &'static str)> {
    let base = |q: &Spanned<Quantity>| q.value.millis as f64 / 1000.0;
    let mut steps = Vec::new();
    match (request.map(base), limit.map(base)) {
        (Some(r), Some(l)) if r < l => steps.extend([(r, "orange"), (l, "red")]),
        (_, Some(l)) => steps.push((l, "red")),
        (Some(r), None) => steps.push((r, "orange")),
        (None, None) => {}
    }
    steps
}

/// A value made by the compiler rather than written in a file.
fn synthetic<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Span::default())
}
