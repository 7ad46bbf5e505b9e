//! Tests of the dashboard JSON model, the grid layout and the default dashboards.

use serde_json::Value as Json;

use super::*;
use crate::driver;
use crate::host::MemHost;

const BASE: &str = r#"homelab "lab"
cluster "lab" distribution="k3s"
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; }
app "web" namespace="web" {
    image "web" tag="1.0.0"
    port "http" 8080
    resources cpu="100m" memory="64Mi" cpu-limit="500m" memory-limit="128Mi"
    metrics port="http"
}
"#;

/// The dashboards built from BASE plus `extra`: (path, ConfigMap, dashboard JSON).
fn dashboards(extra: &str) -> Vec<(String, Json, Json)> {
    let host = MemHost::with([("homelab.kdl", format!("{BASE}{extra}"))]);
    let checked = driver::check(&host, "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let mut out = Artifacts::default();
    emit(&checked.model, &mut out);
    out.objects
        .iter()
        .map(|object| {
            let map: Json = object.value();
            let data = map["data"].as_object().expect("the ConfigMap has data");
            assert_eq!(data.len(), 1, "one dashboard per ConfigMap");
            let text = data.values().next().and_then(Json::as_str).expect("the dashboard is a string");
            let json: Json = serde_json::from_str(text).expect("the dashboard is JSON");
            (crate::layout::object_path(object), map, json)
        })
        .collect()
}

fn find<'a>(all: &'a [(String, Json, Json)], path: &str) -> &'a (String, Json, Json) {
    all.iter().find(|(p, _, _)| p == path).unwrap_or_else(|| panic!("no {path} among {all:#?}"))
}

/// An app in BASE's namespace that asks for a dashboard of its own.
const OWN: &str = r#"app "api" namespace="web" {
    image "api" tag="1.0.0"
    port "http" 8080
    resources cpu="100m" memory="64Mi" cpu-limit="500m" memory-limit="128Mi"
    metrics port="http" dashboard=#true
}
"#;

/// The expressions of a panel's queries.
fn exprs<'a>(json: &'a Json, title: &str) -> Vec<&'a str> {
    let panel = json["panels"].as_array().unwrap().iter().find(|p| p["title"] == title).unwrap();
    panel["targets"].as_array().unwrap().iter().map(|t| t["expr"].as_str().unwrap()).collect()
}

#[test]
fn the_apps_with_metrics_share_one_dashboard_templated_by_namespace_and_app() {
    let all = dashboards("");
    let paths: Vec<&str> = all.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(paths, ["dashboards/apps/apps.yaml", "dashboards/nodes/nodes.yaml"]);
    let (_, map, json) = find(&all, "dashboards/apps/apps.yaml");
    assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(map["metadata"]["annotations"]["grafana_folder"], "apps");
    assert_eq!(map["metadata"]["namespace"], "monitoring");
    assert_eq!(json["schemaVersion"], SCHEMA_VERSION);
    let variables = json["templating"]["list"].as_array().unwrap();
    let names: Vec<&str> = variables.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["datasource", "namespace", "app"]);
    assert_eq!(variables[1]["type"], "custom");
    assert_eq!(variables[1]["query"], "web", "the namespaces of the apps with metrics");
    assert_eq!(variables[2]["query"]["query"], "label_values(up{namespace=\"$namespace\"}, job)");
    let titles: Vec<&str> = json["panels"].as_array().unwrap().iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in ["Requests", "Errors", "Latency", "Unavailable replicas", "Restarts", "CPU (cores)", "Memory"] {
        assert!(titles.contains(&wanted), "{wanted} missing from {titles:?}");
    }
    for title in ["Requests", "Restarts", "Memory"] {
        for expr in exprs(json, title) {
            assert!(expr.contains("namespace=\"$namespace\"") && expr.contains("\"$app\""), "{title}: {expr}");
            assert!(!expr.contains("\"web\""), "{title} names an app: {expr}");
        }
    }
    // Requests and limits come from kube-state-metrics, not from one app's declaration.
    let memory = exprs(json, "Memory");
    assert!(memory.iter().any(|e| e.starts_with("max(kube_pod_container_resource_requests{")), "{memory:?}");
    assert!(memory.iter().any(|e| e.starts_with("max(kube_pod_container_resource_limits{")), "{memory:?}");
    // A Deployment only: no `or` over the kinds of workloads.
    assert_eq!(
        exprs(json, "Unavailable replicas"),
        ["sum(kube_deployment_spec_replicas{namespace=\"$namespace\", deployment=\"$app\"}) - \
          sum(kube_deployment_status_replicas_available{namespace=\"$namespace\", deployment=\"$app\"})"]
    );
}

#[test]
fn the_shared_dashboard_does_not_grow_with_the_apps() {
    let apps = |n: usize| {
        (0..n)
            .map(|i| {
                format!(
                    "app \"a{i}\" namespace=\"web\" {{ image \"a\" tag=\"1\"; port \"http\" 80; \
                     resources cpu=\"1m\" memory=\"1Mi\"; metrics port=\"http\"; }}\n"
                )
            })
            .collect::<String>()
    };
    let size = |extra: &str| {
        let all = dashboards(extra);
        assert_eq!(all.len(), 2, "one shared dashboard and the nodes'");
        find(&all, "dashboards/apps/apps.yaml").2.to_string().len()
    };
    assert_eq!(size(&apps(1)), size(&apps(40)));
}

#[test]
fn a_workload_kind_of_its_own_joins_the_availability_query() {
    let all = dashboards(
        "app \"db\" namespace=\"data\" { image \"db\" tag=\"1\"; port \"sql\" 5432; \
         resources cpu=\"1m\" memory=\"1Mi\"; volume \"data\" mount=\"/data\" size=\"1Gi\"; metrics port=\"sql\"; }\n",
    );
    let (_, _, json) = find(&all, "dashboards/apps/apps.yaml");
    let [unavailable] = exprs(json, "Unavailable replicas")[..] else { panic!("one query") };
    assert!(
        unavailable.starts_with("(sum(kube_deployment_spec_replicas{")
            && unavailable.contains(" or sum(kube_statefulset_replicas{"),
        "{unavailable}"
    );
    assert_eq!(json["templating"]["list"][1]["query"], "data,web");
}

#[test]
fn an_app_asking_for_its_own_dashboard_gets_one_in_its_namespace_folder() {
    let all = dashboards(OWN);
    let paths: Vec<&str> = all.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(paths, ["dashboards/apps/apps.yaml", "dashboards/nodes/nodes.yaml", "dashboards/web/api.yaml"]);
    let (_, map, json) = find(&all, "dashboards/web/api.yaml");
    assert_eq!(map["metadata"]["annotations"]["grafana_folder"], "web");
    assert_eq!(json["title"], "api");
    let names: Vec<&str> =
        json["templating"]["list"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["datasource"], "its queries name the app");
    for expr in exprs(json, "Requests") {
        assert!(expr.contains("namespace=\"web\", job=\"api\""), "{expr}");
    }
}

#[test]
fn declared_requests_and_limits_become_threshold_lines() {
    let all = dashboards(OWN);
    let (_, _, json) = find(&all, "dashboards/web/api.yaml");
    let memory = json["panels"].as_array().unwrap().iter().find(|p| p["title"] == "Memory").unwrap();
    let steps = &memory["fieldConfig"]["defaults"]["thresholds"]["steps"];
    assert_eq!(steps[1]["value"], 64.0 * 1024.0 * 1024.0);
    assert_eq!(steps[2]["value"], 128.0 * 1024.0 * 1024.0);
    assert_eq!(memory["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"], "line");
}

#[test]
fn every_panel_queries_the_datasource_variable() {
    for (path, _, json) in dashboards("") {
        let variables = json["templating"]["list"].as_array().unwrap();
        assert_eq!(variables[0]["type"], "datasource", "{path}");
        assert_eq!(variables[0]["query"], "prometheus", "{path}");
        for panel in json["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row") {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{path}: {panel}");
            assert!(!panel["targets"].as_array().unwrap().is_empty(), "{path}: {panel}");
        }
    }
}

#[test]
fn uids_are_unique_short_and_stable() {
    let all = dashboards(
        "dashboard \"traffic\" folder=\"web\" { panel \"up\" { query \"up\" } }\n\
         dashboard \"nodes-extra\" folder=\"nodes\" { panel \"up\" { query \"up\" } }\n",
    );
    let uids: Vec<&str> = all.iter().map(|(_, _, j)| j["uid"].as_str().unwrap()).collect();
    let mut unique = uids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), uids.len(), "{uids:?}");
    assert!(uids.iter().all(|u| u.len() == 16 && u.chars().all(|c| c.is_ascii_hexdigit())), "{uids:?}");
    // The uid is a function of the name alone: renaming the folder keeps it,
    // and it never changes between releases (bookmarks and links rely on it).
    let traffic = find(&all, "dashboards/web/traffic.yaml");
    let moved = dashboards("dashboard \"traffic\" folder=\"ops\" { panel \"up\" { query \"up\" } }\n");
    assert_eq!(traffic.2["uid"], find(&moved, "dashboards/ops/traffic.yaml").2["uid"]);
    assert_eq!(traffic.2["uid"], "b25761598537a268", "the uid of a dashboard must never change");
}

#[test]
fn a_declared_dashboard_replaces_the_default_one_of_the_same_folder_and_name() {
    let own = format!("{OWN}dashboard \"api\" folder=\"web\" title=\"Mine\" {{ panel \"up\" {{ query \"up\" }} }}\n");
    let web: Vec<_> = dashboards(&own).into_iter().filter(|(p, _, _)| p.starts_with("dashboards/web/")).collect();
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].2["title"], "Mine");
    let apps: Vec<_> =
        dashboards("dashboard \"apps\" folder=\"apps\" title=\"Ours\" { panel \"up\" { query \"up\" } }\n")
            .into_iter()
            .filter(|(p, _, _)| p.starts_with("dashboards/apps/"))
            .collect();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].2["title"], "Ours");
}

/// The rectangles of a dashboard's panels: (x, y, w, h).
fn rectangles(json: &Json) -> Vec<(u64, u64, u64, u64)> {
    json["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let g = &p["gridPos"];
            let n = |k: &str| g[k].as_u64().unwrap();
            (n("x"), n("y"), n("w"), n("h"))
        })
        .collect()
}

#[test]
fn panels_fill_the_24_column_grid_without_overlapping() {
    let many: String = (1..=7)
        .map(|i| {
            let kind = if i % 3 == 0 { "stat" } else { "timeseries" };
            format!("panel \"p{i}\" kind=\"{kind}\" {{ query \"up\" }}\n")
        })
        .collect();
    let all = dashboards(&format!(
        "dashboard \"grid\" {{\n{many}\nrow \"gauges\" {{ {} }}\n}}\n",
        (1..=5).map(|i| format!("panel \"g{i}\" kind=\"gauge\" {{ query \"up\" }}")).collect::<Vec<_>>().join("\n")
    ));
    for (path, _, json) in &all {
        let boxes = rectangles(json);
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.0 + a.2 <= 24, "{path}: {a:?} leaves the grid");
            for b in &boxes[i + 1..] {
                let apart = a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{path}: {a:?} overlaps {b:?}");
            }
        }
        // Every line is filled: the panels starting on one y sum to 24 columns.
        let mut lines: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
        for (_, y, w, _) in &boxes {
            *lines.entry(*y).or_default() += w;
        }
        assert!(lines.values().all(|w| *w == 24), "{path}: {lines:?}");
    }
    let (_, _, grid) = find(&all, "dashboards/general/grid.yaml");
    let gauges: Vec<_> = rectangles(grid).into_iter().filter(|r| r.3 == 5).collect();
    assert_eq!(gauges.iter().map(|r| r.2).collect::<Vec<_>>(), [6, 6, 6, 6, 24], "four gauges a line");
}

#[test]
fn panel_options_follow_the_declaration() {
    let all = dashboards(
        "dashboard \"opts\" {\n\
         panel \"t\" unit=\"bytes\" min=0 max=100 legend=\"right\" { query \"up\" legend=\"{{pod}}\"; threshold 80; threshold 90 color=\"purple\" }\n\
         panel \"tab\" kind=\"table\" { query \"up\"; query \"up\" }\n\
         }\n",
    );
    let (_, _, json) = find(&all, "dashboards/general/opts.yaml");
    let panels = json["panels"].as_array().unwrap();
    let t = &panels[0];
    assert_eq!(t["fieldConfig"]["defaults"]["unit"], "bytes");
    assert_eq!(t["fieldConfig"]["defaults"]["min"], 0.0);
    assert_eq!(t["fieldConfig"]["defaults"]["max"], 100.0);
    assert_eq!(t["options"]["legend"]["placement"], "right");
    assert_eq!(t["targets"][0]["legendFormat"], "{{pod}}");
    let steps = &t["fieldConfig"]["defaults"]["thresholds"]["steps"];
    assert_eq!(steps[1], serde_json::json!({"color": "orange", "value": 80.0}));
    assert_eq!(steps[2], serde_json::json!({"color": "purple", "value": 90.0}));
    let table = &panels[1];
    assert_eq!(table["type"], "table");
    assert_eq!(table["targets"][1]["refId"], "B");
    assert_eq!(table["targets"][0]["format"], "table");
    assert_eq!(table["transformations"][0]["id"], "merge");
}

#[test]
fn query_references_go_past_z() {
    assert_eq!(ref_id(0), "A");
    assert_eq!(ref_id(25), "Z");
    assert_eq!(ref_id(26), "AA");
    assert_eq!(ref_id(27), "AB");
}

/// Asserts that `value` prints as its `serde_json::Value` does, whose maps
/// are sorted: the fields of every struct inside are in JSON-name order.
fn assert_keys_sorted<T: serde::Serialize>(value: &T, what: &str) {
    let typed = serde_json::to_string_pretty(value).expect("serializes");
    let sorted = serde_json::to_string_pretty(&serde_json::to_value(value).expect("serializes")).expect("serializes");
    assert_eq!(typed, sorted, "{what}: a struct of grafana/json.rs declares its fields out of JSON-name order");
}

#[test]
fn keys_come_out_sorted() {
    // Every panel kind, option and optional field, a row header and both kinds of variable.
    let host = MemHost::with([(
        "homelab.kdl",
        format!(
            "{BASE}dashboard \"every\" {{\n\
             panel \"loose\" {{ query \"up\" }}\n\
             row \"all\" {{\n\
             panel \"t\" unit=\"bytes\" min=0 max=100 legend=\"right\" {{ query \"up\" legend=\"{{{{pod}}}}\"; threshold 80 }}\n\
             panel \"s\" kind=\"stat\" {{ query \"up\" }}\n\
             panel \"g\" kind=\"gauge\" min=0 max=1 {{ query \"up\" }}\n\
             panel \"b\" kind=\"bargauge\" {{ query \"up\" }}\n\
             panel \"tab\" kind=\"table\" {{ query \"up\"; query \"up\" }}\n\
             }}\n}}\n"
        ),
    )]);
    let checked = driver::check(&host, "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let shipped = checked.model.shipped_dashboards();
    let every = shipped.iter().find(|s| s.name == "every").expect("the declared dashboard");
    let DashboardSource::Declared(declared) = every.source else { panic!("declared") };
    let dashboard = dashboard(every, &declared.rows, vec![defaults::instance_variable()]);
    let text = serde_json::to_string(&dashboard).expect("serializes");
    for key in [
        "collapsed",
        "custom",
        "definition",
        "max",
        "min",
        "transformations",
        "format",
        "instant",
        "legendFormat",
        "range",
        "sort",
        "showLegend",
        "colorMode",
        "showThresholdMarkers",
        "showUnfilled",
        "cellHeight",
    ] {
        assert!(text.contains(&format!("\"{key}\":")), "the fixture no longer covers `{key}`");
    }
    for panel in &dashboard.panels {
        assert_keys_sorted(panel, "a panel");
    }
    for variable in &dashboard.templating.list {
        assert_keys_sorted(variable, "a variable");
    }
    assert_keys_sorted(&dashboard, "the dashboard");
}

#[test]
fn every_query_of_the_default_dashboards_is_promql() {
    use crate::check::observe::promql::{Purpose, check};
    let statefulset = "app \"db\" namespace=\"data\" { image \"db\" tag=\"1\"; port \"sql\" 5432; \
         resources cpu=\"1m\" memory=\"1Mi\"; volume \"data\" mount=\"/data\" size=\"1Gi\"; metrics port=\"sql\"; }\n";
    let mut seen = 0;
    for (path, _, json) in dashboards(&format!("{OWN}{statefulset}")) {
        for panel in json["panels"].as_array().unwrap().iter().filter(|p| p["type"] != "row") {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                assert_eq!(check(expr, Purpose::Panel), Ok(()), "{path}: {expr}");
                seen += 1;
            }
        }
    }
    assert!(seen > 30, "{seen} queries");
}
