//! Grafana dashboards (SPEC §4, §5): every shipped dashboard (declared, and
//! the defaults of [`Model::shipped_dashboards`]) becomes a dashboard JSON
//! model inside a ConfigMap in `dashboards/<folder>/<name>.yaml`, labelled
//! `grafana_dashboard: "1"` and annotated with its folder, which is what the
//! dashboard sidecar of kube-prometheus-stack loads (see
//! `stdlib/kube-prometheus-stack.kdl`).
//!
//! The JSON model is the classic one Grafana provisions from files: rows and
//! panels laid out on the 24-column grid, a `datasource` variable every panel
//! queries through, and a `uid` hashed from what the dashboard is for, so
//! that links and bookmarks survive rebuilds.

mod defaults;
mod json;
mod layout;

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use k8s_openapi::api::core::v1::ConfigMap;

use super::{Artifacts, Object, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit, dashboard_config_map};
use crate::model::observe::{DashboardSource, ShippedDashboard};
use crate::model::{LegendPlacement, Model, Panel, PanelKind, Query, Row, Word};
use json::{
    BargaugeOptions, Dashboard, Datasource, EmptyList, EmptyObject, FieldConfig, FieldDefaults, Footer, GaugeOptions,
    GraphStyle, GridPos, Legend, List, Mode, Options, ReduceOptions, StatOptions, Step, TableOptions, Target,
    Thresholds, TimeRange, TimeseriesOptions, Tooltip, Transformation, Variable, VariableQuery,
};

/// The dashboard schema version written: the newest that Grafana 11.4 (the
/// Grafana of the pinned kube-prometheus-stack) knows. Newer Grafana
/// versions migrate it forward when they load it.
pub const SCHEMA_VERSION: u32 = 40;

/// The label the dashboard sidecar selects ConfigMaps by, and its value.
pub const SIDECAR_LABEL: (&str, &str) = ("grafana_dashboard", "1");

/// The annotation naming the Grafana folder a dashboard goes into.
pub const FOLDER_ANNOTATION: &str = "grafana_folder";

/// The datasource variable every panel queries through.
const DATASOURCE: &str = "${datasource}";

/// Adds a ConfigMap for every shipped dashboard.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(namespace) = model.monitoring_namespace() else { return };
    let scope = model.cluster_key(None);
    let monitoring = model.component_id(scope, crate::model::observe::MONITORING_COMPONENT);
    // A default dashboard of several apps is made for all of them.
    let made_for = |apps: &mut dyn Iterator<Item = &crate::model::App>| {
        Origin::default_for_all(apps.map(|a| a.id(model))).unwrap_or_else(|| Origin::default_for(monitoring.clone()))
    };
    // The apps that ask for a dashboard of their own can be many: render them on every core.
    let objects = crate::par::map(&model.shipped_dashboards(), |shipped| {
        let (rows, variables): (Cow<'_, [Row]>, _) = match shipped.source {
            DashboardSource::Declared(d) => (Cow::Borrowed(&d.rows), Vec::new()),
            DashboardSource::Apps => (Cow::Owned(defaults::apps(model)), defaults::apps_variables(model)),
            DashboardSource::App(app) => (Cow::Owned(defaults::app(app)), Vec::new()),
            DashboardSource::Nodes => (Cow::Owned(defaults::nodes(model)), vec![defaults::instance_variable()]),
            DashboardSource::Workloads => (Cow::Owned(defaults::workloads(model)), Vec::new()),
        };
        let dashboard = dashboard(shipped, &rows, variables);
        let origin = match shipped.source {
            DashboardSource::Declared(d) => Origin::of(d.id(model)),
            DashboardSource::App(app) => Origin::default_for(app.id(model)),
            DashboardSource::Nodes => {
                let cluster = model.cluster_for(None).map(|c| c.id(model));
                Origin::default_for(cluster.unwrap_or_else(|| monitoring.clone()))
            }
            DashboardSource::Apps => made_for(&mut model.apps.iter().filter(|a| a.metrics.is_some())),
            DashboardSource::Workloads => made_for(&mut model.apps.iter().filter(|a| !a.workload().scales())),
        };
        let unit = Unit::new(scope, Folder::Dashboards(shipped.folder.clone()));
        Object::new(origin, unit, config_map(namespace, shipped, &dashboard))
    });
    let units: std::collections::BTreeSet<Unit> = objects.iter().map(|o| Unit::clone(&o.unit)).collect();
    out.needs.extend(units.into_iter().map(|unit| (unit, monitoring.clone())));
    out.objects.extend(objects);
}

/// The `uid` of a dashboard: 16 hex digits of the SHA-256 of its identity.
pub fn uid(shipped: &ShippedDashboard<'_>) -> String {
    let digest = Sha256::digest(shipped.identity().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The ConfigMap holding a dashboard as `<name>.json`.
fn config_map(namespace: &str, shipped: &ShippedDashboard<'_>, dashboard: &Dashboard<'_>) -> ConfigMap {
    let mut labels = managed_labels();
    labels.insert(SIDECAR_LABEL.0.to_string(), SIDECAR_LABEL.1.to_string());
    let mut text =
        serde_json::to_string_pretty(dashboard).expect("a dashboard serializes: string keys, no failing Serialize");
    text.push('\n');
    let name = dashboard_config_map(&shipped.folder, &shipped.name);
    let mut metadata = meta(&name, Some(namespace), labels);
    metadata.annotations = Some([(FOLDER_ANNOTATION.to_string(), shipped.folder.clone())].into());
    ConfigMap { metadata, data: Some([(format!("{}.json", shipped.name), text)].into()), ..ConfigMap::default() }
}

/// The dashboard JSON model.
fn dashboard<'a>(shipped: &'a ShippedDashboard<'_>, rows: &'a [Row], mut variables: Vec<Variable>) -> Dashboard<'a> {
    variables.insert(0, datasource_variable());
    let mut tags = vec!["homelabc"];
    if let DashboardSource::App(app) = shipped.source {
        tags.push(&app.namespace.value);
    }
    Dashboard {
        annotations: List { list: EmptyList },
        editable: false,
        graph_tooltip: 1,
        links: EmptyList,
        panels: layout::panels(rows, panel),
        refresh: "30s",
        schema_version: SCHEMA_VERSION,
        tags,
        templating: List { list: variables },
        time: TimeRange { from: "now-6h", to: "now" },
        timezone: "browser",
        title: &shipped.title,
        uid: uid(shipped),
        version: 1,
    }
}

/// The Prometheus datasource, through the variable choosing it.
const PROMETHEUS: Datasource = Datasource { kind: "prometheus", uid: DATASOURCE };

/// The variable choosing the Prometheus datasource.
fn datasource_variable() -> Variable {
    Variable {
        refresh: 1,
        ..Variable::new("datasource", "datasource", "Data source", VariableQuery::Plugin("prometheus"))
    }
}

/// A panel's JSON model, at its place on the grid.
fn panel(p: &Panel, id: u32, grid_pos: GridPos) -> json::Panel<'_> {
    let kind = p.kind.value;
    let merge = kind == PanelKind::Table && p.queries.len() > 1;
    json::Panel {
        datasource: PROMETHEUS,
        field_config: FieldConfig { defaults: field_defaults(p), overrides: EmptyList },
        grid_pos,
        id,
        options: options(p),
        targets: p.queries.iter().enumerate().map(|(i, q)| target(kind, i, q)).collect(),
        title: &p.title.value,
        transformations: merge.then(|| vec![Transformation { id: "merge", options: EmptyObject {} }]),
        kind: kind.as_str(),
    }
}

/// The `i`-th query of a panel of the given kind: a table's are instant.
fn target(kind: PanelKind, i: usize, q: &Query) -> Target<'_> {
    let table = kind == PanelKind::Table;
    Target {
        datasource: PROMETHEUS,
        expr: &q.expr.value,
        format: table.then_some("table"),
        instant: table.then_some(true),
        legend_format: q.legend.as_ref().map(|l| l.value.as_str()),
        range: (!table).then_some(true),
        ref_id: ref_id(i),
    }
}

/// How a panel shows every field: color, unit, range, thresholds, and how a
/// time series is drawn.
fn field_defaults(p: &Panel) -> FieldDefaults<'_> {
    let timeseries = p.kind.value == PanelKind::Timeseries;
    let custom = timeseries.then_some(GraphStyle {
        draw_style: "line",
        fill_opacity: 10,
        line_width: 1,
        show_points: "never",
        span_nulls: false,
        thresholds_style: Mode { mode: if p.thresholds.is_empty() { "off" } else { "line" } },
    });
    FieldDefaults {
        color: Mode { mode: if timeseries { "palette-classic" } else { "thresholds" } },
        custom,
        max: p.max.as_ref().map(|m| m.value),
        min: p.min.as_ref().map(|m| m.value),
        thresholds: thresholds(p),
        unit: p.unit.as_ref().map_or("short", |u| u.value.as_str()),
    }
}

/// The query reference of the `i`-th query: `A`, `B`, ..., `Z`, `AA`, ...
fn ref_id(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    if i < 26 { letter(i).to_string() } else { format!("{}{}", ref_id(i / 26 - 1), letter(i)) }
}

/// The threshold steps: green from the bottom, then the declared steps.
fn thresholds(p: &Panel) -> Thresholds<'_> {
    let mut steps = vec![Step { color: "green", value: None }];
    steps.extend(p.thresholds.iter().map(|t| Step { color: &t.color.value, value: Some(t.value.value) }));
    Thresholds { mode: "absolute", steps }
}

/// The panel-type specific options.
fn options(p: &Panel) -> Options {
    let reduce_options = || ReduceOptions { calcs: &["lastNotNull"], fields: "", values: false };
    match p.kind.value {
        PanelKind::Timeseries => {
            let placement = p.legend.as_ref().map_or(LegendPlacement::Bottom, |l| l.value);
            Options::Timeseries(TimeseriesOptions {
                legend: Legend {
                    calcs: &[],
                    display_mode: "list",
                    placement: if placement == LegendPlacement::Right { "right" } else { "bottom" },
                    show_legend: placement != LegendPlacement::Hidden,
                },
                tooltip: Tooltip { mode: "multi", sort: "desc" },
            })
        }
        PanelKind::Stat => Options::Stat(StatOptions {
            color_mode: "value",
            graph_mode: "area",
            justify_mode: "auto",
            orientation: "auto",
            reduce_options: reduce_options(),
            text_mode: "auto",
        }),
        PanelKind::Gauge => Options::Gauge(GaugeOptions {
            orientation: "auto",
            reduce_options: reduce_options(),
            show_threshold_labels: false,
            show_threshold_markers: true,
        }),
        PanelKind::Bargauge => Options::Bargauge(BargaugeOptions {
            display_mode: "gradient",
            orientation: "horizontal",
            reduce_options: reduce_options(),
            show_unfilled: true,
            value_mode: "color",
        }),
        PanelKind::Table => {
            Options::Table(TableOptions { cell_height: "sm", footer: Footer { show: false }, show_header: true })
        }
    }
}

#[cfg(test)]
mod tests;
