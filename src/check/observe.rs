//! Checks of dashboards and alerts: PromQL that Prometheus would refuse
//! (E0901), two dashboards of one Grafana folder with one title (E0902), and
//! panel units Grafana does not know (E0903).

mod hints;
pub(crate) mod promql;
mod units;

use std::collections::BTreeMap;

use promql::{Problem, Purpose};

use crate::diag::{Code, Diagnostic};
use crate::model::observe::{DashboardSource, ShippedDashboard};
use crate::model::{Dashboard, Model, Panel};
use crate::source::{Span, Spanned};

/// Runs the dashboard and alert checks.
pub(super) fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for dashboard in &model.dashboards {
        for panel in dashboard.rows.iter().flat_map(|r| &r.panels) {
            for query in &panel.queries {
                if let Err(problem) = promql::check(&query.expr.value, Purpose::Panel) {
                    diags.push(promql_diagnostic(
                        &query.expr,
                        &format!("the query of panel `{}`", panel.title),
                        problem,
                    ));
                }
            }
            unknown_unit(dashboard, panel, diags);
        }
    }
    for alert in &model.alerts {
        if let Err(problem) = promql::check(&alert.expr.value, Purpose::Alert) {
            diags.push(promql_diagnostic(&alert.expr, &format!("the expression of alert `{}`", alert.name), problem));
        }
    }
    duplicate_titles(&model.shipped_dashboards(), diags);
}

/// E0901 for one query or alert expression; `what` names it ("the query of
/// panel `Requests`").
fn promql_diagnostic(expr: &Spanned<String>, what: &str, problem: Problem) -> Diagnostic {
    match problem {
        Problem::Syntax { label, help } => {
            Diagnostic::new(Code::E0901, format!("{what} is not valid PromQL")).primary(expr.span, label).help(help)
        }
        Problem::NotInstant { found, help } => {
            Diagnostic::new(Code::E0901, format!("{what} is {found}, not an instant vector"))
                .primary(expr.span, format!("this evaluates to {found}"))
                .help(help)
        }
    }
}

/// E0903 for a panel whose `unit=` Grafana does not know.
fn unknown_unit(dashboard: &Dashboard, panel: &Panel, diags: &mut Vec<Diagnostic>) {
    let Some(unit) = &panel.unit else { return };
    if units::is_known(&unit.value) {
        return;
    }
    let custom = if unit.value.contains(':') {
        String::new()
    } else {
        format!(" To show `{}` as it is written, use `suffix:{}`", unit.value, unit.value)
    };
    let help = match units::suggestion(&unit.value) {
        Some(best) => format!("did you mean {best}?{custom}"),
        None => format!(
            "use a Grafana unit id such as `short`, `percent`, `bytes`, `s` or `reqps`, or a custom unit such as \
             `suffix:{}`",
            unit.value.split_once(':').map_or(unit.value.as_str(), |(_, text)| text)
        ),
    };
    diags.push(
        Diagnostic::new(
            Code::E0903,
            format!("unknown unit `{}` in panel `{}` of dashboard `{}`", unit.value, panel.title, dashboard.name),
        )
        .primary(unit.span, "not a Grafana unit")
        .help(help)
        .note("Grafana shows a unit it does not know as a plain suffix, without scaling the values."),
    );
}

/// E0902: shipped dashboards of one folder with one title. The first one
/// written (a default dashboard counts as written before every declaration)
/// is kept; every other one is reported at its title.
fn duplicate_titles(shipped: &[ShippedDashboard<'_>], diags: &mut Vec<Diagnostic>) {
    let mut by_title: BTreeMap<(&str, &str), Vec<&ShippedDashboard<'_>>> = BTreeMap::new();
    for dashboard in shipped {
        by_title.entry((&dashboard.folder, &dashboard.title)).or_default().push(dashboard);
    }
    for ((folder, title), mut clashing) in by_title.into_iter().filter(|(_, v)| v.len() > 1) {
        clashing.sort_by_key(|d| written_at(d));
        let first = clashing[0];
        for again in clashing.iter().skip(1) {
            let DashboardSource::Declared(declared) = again.source else { continue };
            if let DashboardSource::Declared(other) = first.source
                && other.name.value == declared.name.value
            {
                continue; // One name declared twice: E0202 says so.
            }
            let mut d = Diagnostic::new(
                Code::E0902,
                format!("two dashboards in Grafana folder `{folder}` have the title `{title}`"),
            )
            .primary(declared.title.span, format!("used again here by dashboard `{}`", declared.name));
            d = match first.source {
                DashboardSource::Declared(other) => d
                    .secondary(other.title.span, format!("first used by dashboard `{}`", other.name))
                    .help("give one of the two dashboards another `title=`, or move it to another `folder=`"),
                DashboardSource::App(app) => {
                    let at = app.metrics.as_ref().map_or(app.name.span, |m| m.span);
                    d.secondary(at, format!("first used by the default dashboard of app `{}`", app.name))
                        .note(format!(
                            "An app with `metrics dashboard=#true` gets a default dashboard of its own, titled after \
                             the app, in the folder of its namespace (`{}`).",
                            app.namespace
                        ))
                        .help(format!(
                            "give this dashboard another `title=`, or name it `{}` to replace the default dashboard \
                             of app `{}`",
                            app.name, app.name
                        ))
                }
                DashboardSource::Apps => d
                    .note(format!(
                        "The default dashboard of the apps with `metrics` is titled `{title}`, in folder `{folder}`."
                    ))
                    .help(
                        "give this dashboard another `title=`, or name it `apps` to replace the default dashboard of \
                         the apps",
                    ),
                DashboardSource::Nodes => d
                    .note(format!("The default dashboard of the nodes is titled `{title}`, in folder `{folder}`."))
                    .help(
                        "give this dashboard another `title=`, or name it `nodes` to replace the default dashboard \
                         of the nodes",
                    ),
                DashboardSource::Workloads => d
                    .note(format!(
                        "The default dashboard of the CronJobs, Jobs and DaemonSets is titled `{title}`, in folder `{folder}`."
                    ))
                    .help(
                        "give this dashboard another `title=`, or name it `workloads` to replace the default \
                         dashboard of the CronJobs, Jobs and DaemonSets",
                    ),
            };
            diags.push(d);
        }
    }
}

/// Where a shipped dashboard was written: default dashboards first, then
/// declarations by file and position.
fn written_at(dashboard: &ShippedDashboard<'_>) -> (bool, Span) {
    match dashboard.source {
        DashboardSource::Declared(d) => (true, d.title.span),
        DashboardSource::App(a) => (false, a.name.span),
        DashboardSource::Apps | DashboardSource::Nodes | DashboardSource::Workloads => (false, Span::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::{FsHost, MemHost};

    /// The E09xx codes emitted for a description.
    fn codes(text: &str) -> Vec<String> {
        let checked = driver::check(&MemHost::with([("homelab.kdl", text.to_string())]), "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E09")).collect()
    }

    #[test]
    fn examples_use_known_units_and_valid_promql() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(&root).expect("examples/ exists") {
            let dir = entry.expect("readable").path();
            let checked = driver::check(&FsHost::new(&dir), "homelab.kdl");
            for dashboard in &checked.model.dashboards {
                for panel in dashboard.rows.iter().flat_map(|r| &r.panels) {
                    if let Some(unit) = &panel.unit {
                        assert!(units::is_known(&unit.value), "{}: unit `{}`", dir.display(), unit.value);
                        seen += 1;
                    }
                    for q in &panel.queries {
                        assert_eq!(promql::check(&q.expr.value, Purpose::Panel), Ok(()), "{}", q.expr.value);
                    }
                }
            }
            for alert in &checked.model.alerts {
                assert_eq!(promql::check(&alert.expr.value, Purpose::Alert), Ok(()), "{}", alert.expr.value);
            }
            let e09: Vec<_> = checked.diagnostics.iter().filter(|d| d.code.as_str().starts_with("E09")).collect();
            assert!(e09.is_empty(), "{}: {e09:?}", dir.display());
        }
        assert!(seen >= 5, "the examples use units");
    }

    const MONITORED: &str = r#"homelab "lab"
        cluster "home" distribution="k3s"
        app "web" namespace="demo" {
            image "me/web" tag="1.0.0"
            resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi"
            port "http" 8080
            metrics port="http" dashboard=#true
        }"#;

    #[test]
    fn a_declared_dashboard_named_like_the_default_replaces_it() {
        let text = format!(
            r#"{MONITORED}
            dashboard "web" folder="demo" {{ panel "up" {{ query "up" }} }}"#
        );
        assert!(codes(&text).is_empty());
    }

    #[test]
    fn a_title_taken_by_a_default_dashboard_is_reported() {
        let text = format!(
            r#"{MONITORED}
            dashboard "web-overview" folder="demo" title="web" {{ panel "up" {{ query "up" }} }}
            dashboard "pi" folder="nodes" title="Nodes" {{ panel "up" {{ query "up" }} }}
            dashboard "mine" folder="apps" title="Apps" {{ panel "up" {{ query "up" }} }}"#
        );
        assert_eq!(codes(&text), ["E0902", "E0902", "E0902"]);
    }

    #[test]
    fn one_name_declared_twice_is_left_to_e0202() {
        let text = format!(
            r#"{MONITORED}
            dashboard "a" folder="one" {{ panel "up" {{ query "up" }} }}
            dashboard "a" folder="one" {{ panel "up" {{ query "up" }} }}"#
        );
        assert!(codes(&text).is_empty());
    }

    #[test]
    fn same_title_in_other_folders_is_fine() {
        let text = format!(
            r#"{MONITORED}
            dashboard "a" folder="one" title="Overview" {{ panel "up" {{ query "up" }} }}
            dashboard "b" folder="two" title="Overview" {{ panel "up" {{ query "up" }} }}"#
        );
        assert!(codes(&text).is_empty());
    }

    /// The dashboards and alerts homelabc writes by itself pass the same check
    /// as the user's (promtool judges them again in CI).
    #[test]
    fn the_default_dashboards_and_alerts_are_valid_promql() {
        let text = r#"homelab "lab"
cluster "lab" distribution="k3s"
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; }
app "web" namespace="web" {
    image "web" tag="1.0.0"
    port "http" 8080
    resources cpu="100m" memory="64Mi" cpu-limit="500m" memory-limit="128Mi"
    metrics port="http"
}
app "db" namespace="data" {
    image "postgres" tag="16.4"
    port "pg" 5432
    resources cpu="100m" memory="64Mi"
    volume "data" mount="/data" size="1Gi"
    metrics port="pg"
}
app "cache" namespace="data" kind="deployment" {
    image "redis" tag="7.4.0"
    resources cpu="100m" memory="64Mi"
    volume "dump" mount="/dump" size="1Gi"
    container "exporter" { image "redis-exporter" tag="1.0.0"; resources cpu="10m" memory="16Mi"; }
    init "wait" { image "busybox" tag="1.37.0"; resources cpu="10m" memory="16Mi"; }
}
app "api" namespace="web" {
    image "api" tag="1.0.0"
    resources cpu="100m" memory="64Mi"
}
app "agent" namespace="agents" kind="daemonset" {
    image "agent" tag="1.0.0"
    resources cpu="10m" memory="16Mi"
}
app "exporter" namespace="agents" kind="daemonset" {
    image "exporter" tag="1.0.0"
    resources cpu="10m" memory="16Mi"
}
app "nightly" namespace="jobs" kind="cronjob" schedule="0 3 * * *" {
    image "busybox" tag="1.37.0"
    resources cpu="10m" memory="16Mi"
}
app "migrate" namespace="jobs" kind="job" {
    image "busybox" tag="1.37.0"
    resources cpu="10m" memory="16Mi"
}
"#;
        let checked = driver::check(&MemHost::with([("homelab.kdl", text.to_string())]), "homelab.kdl");
        assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
        let mut out = crate::backend::Artifacts::default();
        crate::backend::grafana::emit(&checked.model, &mut out);
        crate::backend::prometheus::emit(&checked.model, &mut out);
        let mut queries = 0;
        for object in out.objects.iter().filter(|o| o.id.kind == "ConfigMap") {
            let map = object.value();
            for text in map["data"].as_object().expect("data").values() {
                let dashboard: serde_json::Value = serde_json::from_str(text.as_str().expect("text")).expect("JSON");
                for target in dashboard["panels"]
                    .as_array()
                    .expect("panels")
                    .iter()
                    .flat_map(|p| p["targets"].as_array())
                    .flatten()
                {
                    let expr = target["expr"].as_str().expect("expr");
                    assert_eq!(promql::check(expr, Purpose::Panel), Ok(()), "{}: {expr}", object.id.name);
                    queries += 1;
                }
            }
        }
        let mut alerts = 0;
        for object in out.objects.iter().filter(|o| o.id.kind == "PrometheusRule") {
            for group in object.value()["spec"]["groups"].as_array().expect("groups") {
                for rule in group["rules"].as_array().expect("rules") {
                    let expr = rule["expr"].as_str().expect("expr");
                    assert_eq!(promql::check(expr, Purpose::Alert), Ok(()), "{}: {expr}", rule["alert"]);
                    alerts += 1;
                }
            }
        }
        assert!(queries > 20 && alerts > 6, "{queries} queries, {alerts} alerts");
    }
}
