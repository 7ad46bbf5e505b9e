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
mod layout;

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use k8s_openapi::api::core::v1::ConfigMap;

use super::{Artifacts, Object, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit, dashboard_config_map};
use crate::model::observe::{DashboardSource, ShippedDashboard};
use crate::model::{LegendPlacement, Model, Panel, PanelKind, Row};

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
    // One dashboard per app can be thousands of JSON models: render them on every core.
    let objects = crate::par::map(&model.shipped_dashboards(), |shipped| {
        let dashboard = match shipped.source {
            DashboardSource::Declared(d) => dashboard(shipped, &d.rows, Vec::new()),
            DashboardSource::App(app) => dashboard(shipped, &defaults::app(app), Vec::new()),
            DashboardSource::Nodes => dashboard(shipped, &defaults::nodes(model), vec![defaults::instance_variable()]),
        };
        let origin = match shipped.source {
            DashboardSource::Declared(d) => Origin::of(d.id(model)),
            DashboardSource::App(app) => Origin::default_for(app.id(model)),
            DashboardSource::Nodes => {
                let cluster = model.cluster_for(None).map(|c| c.id(model));
                Origin::default_for(cluster.unwrap_or_else(|| monitoring.clone()))
            }
        };
        let unit = Unit::new(scope, Folder::Dashboards(shipped.folder.clone()));
        Object::new(origin, unit, config_map(namespace, shipped, &dashboard))
    });
    let units: std::collections::BTreeSet<Unit> = objects.iter().map(|o| o.unit.clone()).collect();
    out.needs.extend(units.into_iter().map(|unit| (unit, monitoring.clone())));
    out.objects.extend(objects);
}

/// The `uid` of a dashboard: 16 hex digits of the SHA-256 of its identity.
pub fn uid(shipped: &ShippedDashboard<'_>) -> String {
    let digest = Sha256::digest(shipped.identity().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The ConfigMap holding a dashboard as `<name>.json`.
fn config_map(namespace: &str, shipped: &ShippedDashboard<'_>, dashboard: &Json) -> ConfigMap {
    let mut labels = managed_labels();
    labels.insert(SIDECAR_LABEL.0.to_string(), SIDECAR_LABEL.1.to_string());
    let mut text = serde_json::to_string_pretty(dashboard).expect("a JSON value serializes");
    text.push('\n');
    let name = dashboard_config_map(&shipped.folder, &shipped.name);
    let mut metadata = meta(&name, Some(namespace), labels);
    metadata.annotations = Some([(FOLDER_ANNOTATION.to_string(), shipped.folder.clone())].into());
    ConfigMap { metadata, data: Some([(format!("{}.json", shipped.name), text)].into()), ..ConfigMap::default() }
}

/// The dashboard JSON model.
fn dashboard(shipped: &ShippedDashboard<'_>, rows: &[Row], mut variables: Vec<Json>) -> Json {
    variables.insert(0, datasource_variable());
    let mut tags = vec![json!("homelabc")];
    if let DashboardSource::App(app) = shipped.source {
        tags.push(json!(app.namespace.value));
    }
    json!({
        "uid": uid(shipped),
        "title": shipped.title,
        "tags": tags,
        "editable": false,
        "graphTooltip": 1,
        "time": { "from": "now-6h", "to": "now" },
        "refresh": "30s",
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "annotations": { "list": [] },
        "links": [],
        "templating": { "list": variables },
        "panels": layout::panels(rows, panel),
    })
}

/// The variable choosing the Prometheus datasource.
fn datasource_variable() -> Json {
    json!({
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": false,
        "multi": false,
        "options": [],
        "refresh": 1,
        "regex": "",
    })
}

/// A panel's JSON model, without its `id` and `gridPos` (the layout adds them).
fn panel(p: &Panel) -> Json {
    let kind = p.kind.value;
    let table = kind == PanelKind::Table;
    let targets: Vec<Json> = p
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut target = json!({
                "datasource": { "type": "prometheus", "uid": DATASOURCE },
                "expr": q.expr.value,
                "refId": ref_id(i),
            });
            if let Some(legend) = &q.legend {
                target["legendFormat"] = json!(legend.value);
            }
            if table {
                target["format"] = json!("table");
                target["instant"] = json!(true);
            } else {
                target["range"] = json!(true);
            }
            target
        })
        .collect();
    let mut defaults = json!({
        "color": { "mode": if kind == PanelKind::Timeseries { "palette-classic" } else { "thresholds" } },
        "thresholds": thresholds(p),
        "unit": p.unit.as_ref().map_or("short", |u| u.value.as_str()),
    });
    if let Some(min) = &p.min {
        defaults["min"] = json!(min.value);
    }
    if let Some(max) = &p.max {
        defaults["max"] = json!(max.value);
    }
    if kind == PanelKind::Timeseries {
        let lines = if p.thresholds.is_empty() { "off" } else { "line" };
        defaults["custom"] = json!({
            "drawStyle": "line",
            "fillOpacity": 10,
            "lineWidth": 1,
            "showPoints": "never",
            "spanNulls": false,
            "thresholdsStyle": { "mode": lines },
        });
    }
    let mut panel = json!({
        "type": kind.to_string(),
        "title": p.title.value,
        "datasource": { "type": "prometheus", "uid": DATASOURCE },
        "targets": targets,
        "fieldConfig": { "defaults": defaults, "overrides": [] },
        "options": options(p),
    });
    if table && p.queries.len() > 1 {
        panel["transformations"] = json!([{ "id": "merge", "options": {} }]);
    }
    panel
}

/// The query reference of the `i`-th query: `A`, `B`, ..., `Z`, `AA`, ...
fn ref_id(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    if i < 26 { letter(i).to_string() } else { format!("{}{}", ref_id(i / 26 - 1), letter(i)) }
}

/// The threshold steps: green from the bottom, then the declared steps.
fn thresholds(p: &Panel) -> Json {
    let mut steps = vec![json!({ "color": "green", "value": null })];
    steps.extend(p.thresholds.iter().map(|t| json!({ "color": t.color.value, "value": t.value.value })));
    json!({ "mode": "absolute", "steps": steps })
}

/// The panel-type specific options.
fn options(p: &Panel) -> Json {
    let reduce = json!({ "calcs": ["lastNotNull"], "fields": "", "values": false });
    match p.kind.value {
        PanelKind::Timeseries => {
            let placement = p.legend.as_ref().map_or(LegendPlacement::Bottom, |l| l.value);
            json!({
                "legend": {
                    "calcs": [],
                    "displayMode": "list",
                    "placement": if placement == LegendPlacement::Right { "right" } else { "bottom" },
                    "showLegend": placement != LegendPlacement::Hidden,
                },
                "tooltip": { "mode": "multi", "sort": "desc" },
            })
        }
        PanelKind::Stat => json!({
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": reduce,
            "textMode": "auto",
        }),
        PanelKind::Gauge => json!({
            "orientation": "auto",
            "reduceOptions": reduce,
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
        }),
        PanelKind::Bargauge => json!({
            "displayMode": "gradient",
            "orientation": "horizontal",
            "reduceOptions": reduce,
            "showUnfilled": true,
            "valueMode": "color",
        }),
        PanelKind::Table => json!({
            "cellHeight": "sm",
            "footer": { "show": false },
            "showHeader": true,
        }),
    }
}

#[cfg(test)]
mod tests;
