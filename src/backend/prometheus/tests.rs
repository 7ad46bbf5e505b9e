//! Tests of the PrometheusRules: grouping per namespace, default alerts, labels.

use serde_json::Value as Json;

use super::*;
use crate::check::observe::promql::{self, Purpose};
use crate::driver;
use crate::host::MemHost;

const BASE: &str = r#"homelab "lab"
cluster "lab" distribution="k3s"
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; }
node "n2" role="agent" { address "10.0.0.3"; arch "amd64"; cpu 4; memory "8Gi"; }
app "web" namespace="web" {
    image "web" tag="1.0.0"
    port "http" 8080
    resources cpu="100m" memory="64Mi" cpu-limit="500m" memory-limit="128Mi"
    metrics port="http"
}
app "db" namespace="data" {
    image "postgres" tag="16.4"
    port "pg" 5432
    resources cpu="100m" memory="64Mi" cpu-limit="500m" memory-limit="128Mi"
    volume "data" mount="/var/lib/postgresql/data" size="1Gi"
    volume "wal" mount="/wal" size="1Gi"
}
"#;

/// The PrometheusRules built from BASE plus `extra`, by namespace.
fn rules(extra: &str) -> BTreeMap<String, Json> {
    let host = MemHost::with([("homelab.kdl", format!("{BASE}{extra}"))]);
    let checked = driver::check(&host, "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let mut out = Artifacts::default();
    emit(&checked.model, &mut out);
    out.objects
        .into_iter()
        .map(|o| {
            let value = o.value();
            let ns = value["metadata"]["namespace"].as_str().unwrap().to_string();
            assert_eq!(o.unit.path(), format!("alerts/{ns}"));
            (ns, value)
        })
        .collect()
}

/// (group, alert, severity) of every rule of a PrometheusRule.
fn alerts(rule: &Json) -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    for group in rule["spec"]["groups"].as_array().unwrap() {
        for r in group["rules"].as_array().unwrap() {
            all.push((
                group["name"].as_str().unwrap().to_string(),
                r["alert"].as_str().unwrap().to_string(),
                r["labels"]["severity"].as_str().unwrap().to_string(),
            ));
        }
    }
    all
}

#[test]
fn one_rule_per_namespace_with_the_release_label() {
    let all = rules("alert \"WebSlow\" namespace=\"web\" expr=\"up == 0\" for=\"10m\" severity=\"info\"\n");
    assert_eq!(all.keys().collect::<Vec<_>>(), ["data", "monitoring", "web"]);
    for rule in all.values() {
        assert_eq!(rule["metadata"]["name"], RULE_NAME);
        assert_eq!(rule["metadata"]["labels"]["release"], "kube-prometheus-stack");
    }
    let web = alerts(&all["web"]);
    assert!(web.contains(&("homelabc.declared".into(), "WebSlow".into(), "info".into())), "{web:?}");
    assert!(web.contains(&("homelabc.apps".into(), "AppUnavailable".into(), "critical".into())), "{web:?}");
    let declared = &all["web"]["spec"]["groups"][1]["rules"][0];
    assert_eq!(declared["for"], "10m");
    assert!(declared.get("annotations").is_none(), "no empty annotations: {declared}");
}

#[test]
fn apps_get_unavailable_and_crash_looping_alerts_and_volumes_filling_up() {
    let all = rules("");
    let data = alerts(&all["data"]);
    let names: Vec<&str> = data.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(names, ["AppUnavailable", "AppCrashLooping", "AppVolumeFillingUp", "AppVolumeFillingUp"]);
    let rules = &all["data"]["spec"]["groups"][0]["rules"];
    // A StatefulSet: ready replicas, and its claims `<volume>-<app>-<ordinal>`.
    assert_eq!(rules[0]["expr"], "kube_statefulset_status_replicas_ready{namespace=\"data\", statefulset=\"db\"} == 0");
    assert_eq!(rules[0]["annotations"]["summary"], "{{ $labels.statefulset }} in data has no available replica");
    assert!(rules[2]["expr"].as_str().unwrap().contains("persistentvolumeclaim=~\"(data|wal)-db-[0-9]+\""));
    let web = &all["web"]["spec"]["groups"][0]["rules"];
    assert_eq!(web[0]["expr"], "kube_deployment_status_replicas_available{namespace=\"web\", deployment=\"web\"} == 0");
    assert!(web[1]["expr"].as_str().unwrap().contains("container=\"web\""), "{}", web[1]["expr"]);
    assert_eq!(web.as_array().unwrap().len(), 2, "no volume alert without volumes");
}

/// The resources every container of these tests asks for.
const RESOURCES: &str = "resources cpu=\"10m\" memory=\"16Mi\" cpu-limit=\"50m\" memory-limit=\"32Mi\"";

/// An app named `name` in namespace `ns`, with the properties `props`
/// (`kind=...`) and the children `body`.
fn app(name: &str, ns: &str, props: &str, body: &str) -> String {
    format!(
        "app \"{name}\" namespace=\"{ns}\" {props} {{\n    image \"{name}\" tag=\"1.0.0\"\n    {RESOURCES}\n{body}}}\n"
    )
}

#[test]
fn two_apps_of_one_kind_share_one_rule_naming_both_in_a_regex() {
    // Declared front first: the regex is sorted all the same.
    let all = rules(&format!("{}{}", app("front", "shop", "", ""), app("api", "shop", "", "")));
    let names: Vec<String> = alerts(&all["shop"]).into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(names, ["AppUnavailable", "AppCrashLooping"]);
    let shop = &all["shop"]["spec"]["groups"][0]["rules"];
    assert_eq!(
        shop[0]["expr"],
        "kube_deployment_status_replicas_available{namespace=\"shop\", deployment=~\"api|front\"} == 0"
    );
    assert_eq!(shop[0]["annotations"]["summary"], "{{ $labels.deployment }} in shop has no available replica");
    assert!(shop[1]["expr"].as_str().unwrap().contains("container=~\"api|front\""), "{}", shop[1]["expr"]);
    let swapped = rules(&format!("{}{}", app("api", "shop", "", ""), app("front", "shop", "", "")));
    assert_eq!(all["shop"], swapped["shop"], "the declarations' order does not show");
}

#[test]
fn the_rules_of_a_namespace_do_not_grow_with_its_apps() {
    let many = |n: usize| {
        let apps: String = (0..n)
            .map(|i| {
                app(
                    &format!("app-{i}"),
                    "many",
                    "kind=\"deployment\"",
                    "    volume \"data\" mount=\"/data\" size=\"1Gi\"\n",
                )
            })
            .collect();
        alerts(&rules(&apps)["many"])
    };
    let (one, fifty) = (many(1), many(50));
    assert_eq!(one.len(), fifty.len(), "{one:?}\n{fifty:?}");
    assert_eq!(
        fifty.iter().map(|(_, a, _)| a.as_str()).collect::<Vec<_>>(),
        ["AppUnavailable", "AppCrashLooping", "AppVolumeFillingUp", "AppVolumeFillingUp"]
    );
}

#[test]
fn every_kind_of_workload_in_one_namespace_gets_its_rules_in_order() {
    let sidecar = format!("    container \"proxy\" {{ image \"proxy\" tag=\"1.0.0\"; {RESOURCES}; }}\n");
    let init = format!("    init \"wait\" {{ image \"wait\" tag=\"1.0.0\"; {RESOURCES}; }}\n");
    let extra = [
        app(
            "web",
            "mixed",
            "kind=\"deployment\"",
            &format!("{sidecar}    volume \"cache\" mount=\"/cache\" size=\"1Gi\"\n"),
        ),
        app(
            "store",
            "mixed",
            "",
            "    volume \"data\" mount=\"/data\" size=\"1Gi\"\n    volume \"wal\" mount=\"/wal\" size=\"1Gi\"\n",
        ),
        app("agent", "mixed", "kind=\"daemonset\"", ""),
        app("exporter", "mixed", "kind=\"daemonset\"", ""),
        app("nightly", "mixed", "kind=\"cronjob\" schedule=\"0 3 * * *\"", ""),
        app("migrate", "mixed", "kind=\"job\"", &init),
    ]
    .concat();
    let all = rules(&extra);
    let names: Vec<String> = alerts(&all["mixed"]).into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(
        names,
        [
            "AppUnavailable",
            "AppUnavailable",
            "AppUnavailable",
            "DaemonSetPodsUnavailable",
            "JobFailed",
            "CronJobFailed",
            "CronJobLate",
            "AppCrashLooping",
            "AppVolumeFillingUp",
            "AppVolumeFillingUp",
        ]
    );
    let mixed = &all["mixed"]["spec"]["groups"][0]["rules"];
    let expr = |i: usize| mixed[i]["expr"].as_str().unwrap().to_string();
    assert!(expr(0).contains("deployment=\"web\""), "{}", expr(0));
    assert!(expr(1).contains("statefulset=\"store\""), "{}", expr(1));
    assert!(expr(2).contains("daemonset=~\"agent|exporter\""), "{}", expr(2));
    assert!(expr(3).contains("daemonset=~\"agent|exporter\""), "{}", expr(3));
    assert!(expr(4).contains("job_name=\"migrate\""), "{}", expr(4));
    assert!(expr(5).contains("job_name=~\"nightly-[0-9]+\""), "{}", expr(5));
    assert!(expr(7).contains("container=~\"agent|exporter|migrate|nightly|proxy|store|wait|web\""), "{}", expr(7));
    assert!(expr(8).contains("persistentvolumeclaim=~\"(data|wal)-store-[0-9]+|web-(cache)\""), "{}", expr(8));
    for i in 0..names.len() {
        assert_eq!(promql::check(&expr(i), Purpose::Alert), Ok(()), "{}", expr(i));
    }
}

#[test]
fn names_are_regex_literals_in_a_promql_string() {
    let names = BTreeSet::from(["a.b", "c"]);
    let selector = matcher("deployment", &names);
    assert_eq!(selector, r#"deployment=~"a\\.b|c""#);
    assert_eq!(matcher("deployment", &BTreeSet::from(["a.b"])), r#"deployment="a.b""#);
    assert_eq!(literal("a.b(c)|d"), r"a\.b\(c\)\|d");
    assert_eq!(quoted(r#"x\"y"#), r#"x\\\"y"#);
    let expr = format!("kube_deployment_status_replicas_available{{{selector}}} == 0");
    assert_eq!(promql::check(&expr, Purpose::Alert), Ok(()), "{expr}");
}

#[test]
fn node_alerts_go_to_the_monitoring_namespace_and_know_the_declared_count() {
    let all = rules("");
    let nodes = alerts(&all["monitoring"]);
    let names: Vec<&str> = nodes.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(names, ["NodeNotReady", "NodeMissing", "NodeDiskFillingUp", "NodeDiskFillingUp"]);
    let missing = &all["monitoring"]["spec"]["groups"][0]["rules"][1];
    assert_eq!(missing["expr"], "count(kube_node_info) < 2");
}

#[test]
fn without_the_monitoring_stack_there_are_no_rules() {
    let host = MemHost::with([(
        "homelab.kdl",
        "homelab \"lab\"\ncluster \"lab\" distribution=\"k3s\"\n\
         app \"web\" namespace=\"web\" {\n    image \"web\" tag=\"1.0.0\"\n    resources cpu=\"1m\" memory=\"1Mi\"\n}\n"
            .to_string(),
    )]);
    let checked = driver::check(&host, "homelab.kdl");
    let mut out = Artifacts::default();
    emit(&checked.model, &mut out);
    assert!(out.objects.is_empty());
}

#[test]
fn declared_alerts_write_only_what_is_declared() {
    let all = rules(
        "alert \"Full\" namespace=\"web\" expr=\"up == 0\" for=\"10m\" severity=\"critical\" { summary \"s\"; description \"d\"; }\n\
         alert \"Described\" namespace=\"web\" expr=\"up == 1\" severity=\"info\" { description \"only\"; }\n",
    );
    let declared = &all["web"]["spec"]["groups"][1];
    assert_eq!(declared["name"], "homelabc.declared");
    // Declared alerts come in the model's order: by namespace, then name.
    assert_eq!(
        declared["rules"],
        serde_json::json!([
            {
                "alert": "Described",
                "expr": "up == 1",
                "labels": { "severity": "info" },
                "annotations": { "description": "only" },
            },
            {
                "alert": "Full",
                "expr": "up == 0",
                "for": "10m",
                "labels": { "severity": "critical" },
                "annotations": { "summary": "s", "description": "d" },
            },
        ])
    );
    let keys: Vec<&String> = all["web"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
    assert_eq!(all["web"]["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(all["web"]["kind"], "PrometheusRule");
    let metadata: Vec<&String> = all["web"]["metadata"].as_object().unwrap().keys().collect();
    assert_eq!(metadata, ["labels", "name", "namespace"]);
}
