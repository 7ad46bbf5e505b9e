//! Tests of the pipeline plan, the engines' shared pieces and the RBAC.

use serde_json::Value as Json;

use super::*;
use crate::driver;
use crate::host::MemHost;

/// A k3s cluster with Flux, an in-cluster insecure registry and one app.
const BASE: &str = r#"homelab "lab"
cluster "lab" distribution="k3s" version="v1.33.6+k3s1" {
    gitops "flux" repo="https://github.com/me/lab" branch="main" path="deploy"
}
node "n1" role="server" { address "10.0.0.2"; arch "amd64"; cpu 4; memory "8Gi"; disk "50Gi"; }
registry "local" address="10.0.0.2:30500" {
    insecure #true
    deploy storage="5Gi" node-port=30500
}
app "web" namespace="web" {
    image "web" registry="local" tag="1.0.0"
    port "http" 8080
    resources cpu="10m" memory="16Mi" cpu-limit="100m" memory-limit="32Mi"
}
use "drone" { server-host "drone.lab"; gitea-server "http://gitea.lan"; }
use "woodpecker" { server-host "ci.lab"; gitea-server "http://gitea.lan"; }
"#;

fn artifacts(pipeline: &str) -> (Model, Artifacts) {
    let host = MemHost::with([("homelab.kdl", format!("{BASE}{pipeline}"))]);
    let checked = driver::check(&host, "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let mut out = Artifacts::default();
    emit(&checked.model, &mut out);
    (checked.model, out)
}

fn objects_of_kind(out: &Artifacts, kind: &str) -> Vec<Json> {
    out.objects.iter().map(|o| o.value()).filter(|v| v["kind"] == kind).collect()
}

/// The text of the file whose path ends with `suffix`.
fn raw(out: &Artifacts, suffix: &str) -> String {
    let file = out.files.iter().find(|f| f.place.path().ends_with(suffix)).expect("the file is written");
    crate::layout::render_file(file).1
}

/// Every rule of every Role and ClusterRole written.
fn rules(out: &Artifacts) -> Vec<(String, Json)> {
    let mut all = Vec::new();
    for kind in ["Role", "ClusterRole"] {
        for role in objects_of_kind(out, kind) {
            for rule in role["rules"].as_array().into_iter().flatten() {
                all.push((role["metadata"]["name"].as_str().unwrap_or_default().to_string(), rule.clone()));
            }
        }
    }
    all
}

#[test]
fn the_kubectl_deploy_may_get_and_patch_its_one_deployment_and_nothing_else() {
    let (_, out) = artifacts(
        "pipeline \"web\" engine=\"tekton\" {\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}\n",
    );
    let role = objects_of_kind(&out, "Role").into_iter().find(|r| r["metadata"]["name"] == "web-deploy").expect("role");
    assert_eq!(role["metadata"]["namespace"], "web");
    assert_eq!(
        role["rules"],
        serde_json::json!([{
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": ["web"],
            "verbs": ["get", "patch"],
        }])
    );
    let binding = objects_of_kind(&out, "RoleBinding").into_iter().find(|r| r["metadata"]["name"] == "web-deploy");
    let binding = binding.expect("binding");
    assert_eq!(binding["roleRef"]["name"], "web-deploy");
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{"kind": "ServiceAccount", "name": "web-deploy", "namespace": "ci"}])
    );
    // Only the deploy task runs with a token; the others run token-less.
    let accounts = objects_of_kind(&out, "ServiceAccount");
    let token = |name: &str| {
        accounts.iter().find(|a| a["metadata"]["name"] == name).map(|a| a["automountServiceAccountToken"].clone())
    };
    assert_eq!(token("web"), Some(Json::Bool(false)));
    assert_eq!(token("web-deploy"), Some(Json::Bool(true)));
    let run = raw(&out, "run.yaml");
    assert!(run.contains("pipelineTaskName: deploy-app\n      serviceAccountName: web-deploy"), "{run}");
}

#[test]
fn no_role_has_a_wildcard_and_every_rule_is_needed() {
    let (_, out) = artifacts(
        "pipeline \"web\" engine=\"tekton\" {\n    source repo=\"https://github.com/me/web\"\n    trigger \"push\" \"pull-request\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}\n",
    );
    let rules = rules(&out);
    assert!(!rules.is_empty());
    for (role, rule) in &rules {
        for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
            for word in rule[field].as_array().into_iter().flatten() {
                assert_ne!(word, "*", "{role} has a wildcard in {field}");
            }
        }
        for verb in rule["verbs"].as_array().into_iter().flatten() {
            assert!(
                ["get", "list", "watch", "patch", "create"].contains(&verb.as_str().unwrap_or_default()),
                "{role} grants {verb}"
            );
        }
    }
    // The listener may create PipelineRuns, and read its own configuration; nothing more.
    let create: Vec<&Json> =
        rules.iter().filter(|(_, r)| r["verbs"].to_string().contains("create")).map(|(_, r)| r).collect();
    assert_eq!(create.len(), 1);
    assert_eq!(create[0]["resources"], serde_json::json!(["pipelineruns"]));
}

#[test]
fn a_statefulset_app_is_rolled_as_a_statefulset() {
    let source = BASE
        .replace("port \"http\" 8080", "port \"http\" 8080\n    volume \"data\" mount=\"/data\" size=\"1Gi\"")
        + "pipeline \"web\" engine=\"drone\" {\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}\n";
    let checked = driver::check(&MemHost::with([("homelab.kdl", source)]), "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let plan = plan(&checked.model, &checked.model.pipelines[0], true);
    let deploy = plan.deploy.expect("deploy");
    assert_eq!(deploy.workload, crate::model::WorkloadKind::Statefulset);
    assert_eq!(kubectl_args(&deploy, "$TAG")[2..5], ["set", "image", "statefulset/web"]);
    let mut out = Artifacts::default();
    emit(&checked.model, &mut out);
    let role = objects_of_kind(&out, "Role").pop().expect("role");
    assert_eq!(role["rules"][0]["resources"], serde_json::json!(["statefulsets"]));
}

#[test]
fn in_cluster_builds_push_to_the_registry_service_and_deploys_pull_from_the_nodes_address() {
    let (_, out) = artifacts(
        "pipeline \"web\" engine=\"drone\" {\n    build app=\"web\"\n    deploy app=\"web\" via=\"kubectl\"\n}\n",
    );
    let drone = raw(&out, ".drone.yml");
    assert!(drone.contains("--destination=registry-local.registry.svc.cluster.local:5000/web:$$TAG"), "{drone}");
    assert!(drone.contains("--insecure-registry=registry-local.registry.svc.cluster.local:5000"), "{drone}");
    assert!(drone.contains("set image deployment/web web=10.0.0.2:30500/web:$$TAG"), "{drone}");
    assert!(drone.contains("service_account_name: web-deploy"), "{drone}");
    assert!(drone.starts_with("# Generated by homelabc"), "{drone}");
}

#[test]
fn a_gitops_deploy_bumps_the_tag_rebuilds_and_pushes_with_skip_ci() {
    let (_, out) = artifacts(
        "pipeline \"web\" engine=\"woodpecker\" {\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n    deploy app=\"web\" via=\"gitops\"\n}\n",
    );
    let file = raw(&out, ".woodpecker/web.yml");
    let documents = crate::yaml::parse_documents(&file).expect("valid YAML");
    let steps = documents[0]["steps"].as_array().expect("steps");
    let deploy = steps.iter().find(|s| s["name"] == DEPLOY).expect("deploy step");
    let commands: Vec<&str> =
        deploy["commands"].as_array().expect("commands").iter().filter_map(Json::as_str).collect();
    assert!(commands.contains(&"git clone --depth 1 --branch main https://github.com/me/lab /tmp/gitops"));
    assert!(commands.contains(&"homelabc set app.web.image.tag \"$$TAG\""));
    assert!(commands.contains(&"homelabc build"));
    assert!(commands.iter().any(|c| c.contains("[skip ci]")));
    assert_eq!(deploy["environment"]["GIT_PUSH_TOKEN"]["from_secret"], "git_push_token");
    // No RBAC: a GitOps deploy never talks to the cluster.
    assert!(objects_of_kind(&out, "Role").is_empty());
}

/// Every object's YAML and every file's text.
fn all_text(out: &Artifacts) -> String {
    let objects = out.objects.iter().map(|o| crate::yaml::render_json(&o.value()));
    objects.chain(out.files.iter().map(|f| crate::layout::render_file(f).1)).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_engine_deploys_from_the_homelabc_image_and_never_compiles_it() {
    let engines = [("tekton", " secret=\"push\""), ("drone", ""), ("woodpecker", ""), ("github-actions", "")];
    let push = "secret \"push\" namespace=\"ci\" from=\"existing\"\n";
    for (engine, secret) in engines {
        let pipeline = format!(
            "pipeline \"web\" engine=\"{engine}\" {{\n    source repo=\"https://github.com/me/web\"\n    build app=\"web\"\n    \
             deploy app=\"web\" via=\"gitops\"{secret}\n}}\n{push}"
        );
        let (_, out) = artifacts(&pipeline);
        let text = all_text(&out);
        assert!(!text.contains("cargo"), "{engine} compiles homelabc:\n{text}");
        assert!(text.contains(crate::model::DEFAULT_HOMELABC_IMAGE), "{engine}:\n{text}");
        // The one setting moves every engine's deploy to another image.
        let own =
            BASE.replacen("homelab \"lab\"", "homelab \"lab\" { homelabc-image \"registry.lan/homelabc:9.9.9\"; }", 1);
        let host = MemHost::with([("homelab.kdl", format!("{own}{pipeline}"))]);
        let checked = driver::check(&host, "homelab.kdl");
        assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
        let mut out = Artifacts::default();
        emit(&checked.model, &mut out);
        let text = all_text(&out);
        assert!(text.contains("registry.lan/homelabc:9.9.9"), "{engine}:\n{text}");
        assert!(!text.contains(crate::model::DEFAULT_HOMELABC_IMAGE), "{engine}:\n{text}");
    }
}

#[test]
fn shell_words_are_quoted_only_when_needed() {
    assert_eq!(shell_quote("deployment/web"), "deployment/web");
    assert_eq!(shell_quote("web=10.0.0.2:30500/web:$TAG"), "web=10.0.0.2:30500/web:$TAG");
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("it's"), "'it'\\''s'");
    assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    assert_eq!(escape_dollars("$TAG ${X}"), "$$TAG $${X}");
}

#[test]
fn kubectl_follows_the_cluster_version() {
    assert_eq!(kubectl_version("v1.33.6+k3s1"), "v1.33.6");
    assert_eq!(kubectl_version("1.33.1"), "v1.33.1");
}
