//! Dashboards and alerts of the examples: each dashboard ConfigMap holds one
//! JSON model that parses, uids are unique across a tree, every app with
//! `metrics` is on the shared apps dashboard (and on one of its own when it
//! asks with `dashboard=#true`), and the PrometheusRules and
//! dashboards of each seed example are snapshots of their own (the whole
//! trees are in `build.rs`'s snapshots too; these keep the monitoring
//! output readable on its own).

mod common;

use common::examples;

use homelabc::driver;
use homelabc::host::FsHost;
use homelabc::layout::{Folder, Unit};
use homelabc::output::OutputTree;
use serde_json::Value as Json;

fn tree_of(example: &std::path::Path) -> (driver::Checked, OutputTree) {
    let built = driver::build(&FsHost::new(example), "homelab.kdl");
    assert!(!built.checked.has_errors(), "{:?}", built.checked.diagnostics);
    (built.checked, built.tree.expect("no errors").expect("layout succeeds"))
}

/// The path of a dashboard of a cluster, as the layout names it.
fn dashboard_path(model: &homelabc::model::Model, folder: &str, name: &str) -> String {
    let unit = Unit::new(model.cluster_key(None), Folder::Dashboards(folder.to_string()));
    format!("{}/{name}.yaml", unit.path())
}

fn name_of(example: &std::path::Path) -> String {
    example.file_name().expect("named").to_string_lossy().into_owned()
}

/// (path, ConfigMap, dashboard) of every dashboard of a tree.
fn dashboards(tree: &OutputTree) -> Vec<(String, Json, Json)> {
    tree.files()
        .filter(|(path, _)| path.starts_with("dashboards/") && !path.ends_with("kustomization.yaml"))
        .map(|(path, bytes)| {
            let map: Json = serde_yaml::from_slice(bytes).expect("a dashboard file is YAML");
            assert_eq!(map["kind"], "ConfigMap", "{path}");
            let data = map["data"].as_object().expect("data");
            assert_eq!(data.len(), 1, "{path}: one dashboard per ConfigMap");
            let text = data.values().next().and_then(Json::as_str).expect("a string");
            let dashboard: Json =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{path}: the dashboard is not JSON: {e}"));
            (path.to_string(), map, dashboard)
        })
        .collect()
}

#[test]
fn every_dashboard_parses_and_uids_are_unique() {
    for example in examples() {
        let (checked, tree) = tree_of(&example);
        let all = dashboards(&tree);
        let monitored: Vec<_> = checked.clusters().into_iter().filter(|m| m.monitoring_namespace().is_some()).collect();
        if monitored.is_empty() {
            assert!(all.is_empty(), "{}: dashboards without Grafana", name_of(&example));
            continue;
        }
        let mut uids: Vec<&str> = all.iter().map(|(_, _, d)| d["uid"].as_str().expect("a uid")).collect();
        let count = uids.len();
        uids.sort();
        uids.dedup();
        assert_eq!(uids.len(), count, "{}: {uids:?}", name_of(&example));
        for (path, map, dashboard) in &all {
            assert_eq!(map["metadata"]["labels"]["grafana_dashboard"], "1", "{path}");
            let folder = path.rsplit('/').nth(1).expect("dashboards/[<cluster>/]<folder>/<name>.yaml");
            assert_eq!(map["metadata"]["annotations"]["grafana_folder"], folder, "{path}");
            assert!(dashboard["panels"].as_array().is_some_and(|p| !p.is_empty()), "{path}");
        }
        for model in monitored {
            let metered: Vec<_> = model.apps.iter().filter(|a| a.metrics.is_some()).collect();
            let apps = dashboard_path(model, "apps", "apps");
            let shared = all.iter().find(|(p, _, _)| *p == apps);
            assert_eq!(shared.is_some(), !metered.is_empty(), "{}: {apps}", name_of(&example));
            if let Some((_, _, dashboard)) = shared {
                // Its namespace variable offers every namespace of an app with metrics.
                let offered = dashboard["templating"]["list"][1]["query"].as_str().expect("custom values");
                for app in &metered {
                    assert!(offered.split(',').any(|ns| ns == app.namespace.value), "{apps}: {offered}");
                }
            }
            for app in &metered {
                let path = dashboard_path(model, &app.namespace.value, &app.name.value);
                let own = app.metrics.as_ref().is_some_and(|m| m.dashboard);
                assert_eq!(
                    all.iter().any(|(p, _, _)| *p == path),
                    own,
                    "{}: {path} is written exactly when the app asks for its own dashboard",
                    name_of(&example)
                );
            }
            let nodes = dashboard_path(model, "nodes", "nodes");
            assert!(all.iter().any(|(p, _, _)| *p == nodes), "{}: no {nodes}", name_of(&example));
        }
    }
}

#[test]
fn service_monitors_and_rules_are_selected_by_kube_prometheus_stack() {
    for example in examples() {
        let (_, tree) = tree_of(&example);
        for (path, bytes) in tree.files() {
            let text = String::from_utf8_lossy(bytes);
            if text.starts_with("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor")
                || text.starts_with("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule")
            {
                let object: Json = serde_yaml::from_str(&text).expect("YAML");
                assert_eq!(object["metadata"]["labels"]["release"], "kube-prometheus-stack", "{path}");
            }
        }
    }
}

#[test]
fn dashboards_and_rules_of_each_example_match_their_snapshots() {
    for example in examples() {
        let (_, tree) = tree_of(&example);
        let mut rules = String::new();
        for (path, bytes) in
            tree.files().filter(|(p, _)| p.starts_with("alerts/") && !p.ends_with("kustomization.yaml"))
        {
            rules.push_str(&format!("=== {path}\n{}", String::from_utf8_lossy(bytes)));
        }
        // Dashboards as an outline (rows, panels, kinds, units, queries): the
        // full JSON is in the tree snapshot.
        let mut outline = String::new();
        for (path, _, dashboard) in dashboards(&tree) {
            outline.push_str(&format!("=== {path}: {} (uid {})\n", dashboard["title"], dashboard["uid"]));
            for panel in dashboard["panels"].as_array().expect("panels") {
                let g = &panel["gridPos"];
                outline.push_str(&format!(
                    "  [{},{} {}x{}] {} {}{}\n",
                    g["x"],
                    g["y"],
                    g["w"],
                    g["h"],
                    panel["type"],
                    panel["title"],
                    panel["fieldConfig"]["defaults"]["unit"].as_str().map(|u| format!(" ({u})")).unwrap_or_default()
                ));
                for target in panel["targets"].as_array().into_iter().flatten() {
                    outline.push_str(&format!("      {}\n", target["expr"].as_str().unwrap_or_default()));
                }
            }
        }
        let name = name_of(&example);
        insta::assert_snapshot!(format!("{name}-rules"), rules);
        insta::assert_snapshot!(format!("{name}-dashboards"), outline);
    }
}

#[test]
fn an_app_named_as_a_shared_dashboard_keeps_its_own_and_the_shared_one() {
    // The app `apps` in the namespace `apps` and the app `nodes` in the
    // namespace `nodes` ask for dashboards of their own, named after them in
    // their namespace's folder: where the shared `Apps` and `Nodes` are.
    let app = |name: &str| {
        format!(
            r#"app "{name}" namespace="{name}" {{
    image "ghcr.io/example/{name}" tag="1.0.0"
    resources cpu="10m" memory="16Mi" cpu-limit="50m" memory-limit="32Mi"
    port "http" 8080
    port "metrics" 9090
    metrics port="metrics" dashboard=#true
}}
"#
        )
    };
    let text = format!(
        r#"homelab "h" {{ domain "lab.example.com" }}
cluster "home" distribution="k3s" version="v1.33.6+k3s1"
network "lan" cidr="192.168.1.0/24" gateway="192.168.1.1"
node "a" role="server" {{ address "192.168.1.20" network="lan" }}
namespace "apps"
namespace "nodes"
{}{}"#,
        app("apps"),
        app("nodes")
    );
    let built = driver::build(&homelabc::host::MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
    assert!(!built.checked.has_errors(), "{:?}", built.checked.diagnostics);
    let tree = built.tree.expect("no errors").expect("layout succeeds");
    let titles: Vec<(String, String)> = dashboards(&tree)
        .into_iter()
        .map(|(path, _, dashboard)| (path, dashboard["title"].as_str().expect("a title").to_string()))
        .collect();
    let expected = [
        ("dashboards/apps/apps-app.yaml", "apps"),
        ("dashboards/apps/apps.yaml", "Apps"),
        ("dashboards/nodes/nodes-app.yaml", "nodes"),
        ("dashboards/nodes/nodes.yaml", "Nodes"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
    assert_eq!(titles, expected);
}
