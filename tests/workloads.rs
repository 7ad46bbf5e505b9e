//! The workload shapes, compiled: what each `kind=` becomes, containers,
//! configs, volumes and placement as the cluster reads them (issue 18).

use homelabc::driver;
use homelabc::host::MemHost;
use serde_json::Value as Json;

const BASE: &str = r#"
homelab "lab" { domain "lab.example.com"; }
network "lan" cidr="192.168.1.0/24" gateway="192.168.1.1"
cluster "home" distribution="k3s" version="v1.33.6+k3s1" {
    gitops "flux" repo="https://github.com/me/lab" path="clusters/home"
}
node "nuc" role="server" {
    address "192.168.1.20" network="lan"
    cpu 8; memory "32Gi"
    label "gpu" "intel"
    gpu "gpu.intel.com/i915" 1
}
node "pi" role="agent" {
    address "192.168.1.21" network="lan"
    arch "arm64"; cpu 4; memory "8Gi"
    taint "dedicated" "edge" effect="NoSchedule"
}
namespace "media" pod-security="baseline"
"#;

/// Every object of the tree built from `BASE` and `body` (and `files`).
fn objects(body: &str, files: &[(&str, &str)]) -> Vec<Json> {
    let mut all = vec![("homelab.kdl".to_string(), format!("{BASE}{body}"))];
    all.extend(files.iter().map(|(p, t)| (p.to_string(), t.to_string())));
    let built = driver::build(&MemHost::with(all), "homelab.kdl");
    let errors: Vec<String> = built
        .checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let tree = built.tree.expect("built").expect("laid out");
    let mut objects = Vec::new();
    for (path, bytes) in tree.files() {
        if path.ends_with(".yaml") && !path.ends_with("kustomization.yaml") {
            for doc in homelabc::yaml::parse_documents(&String::from_utf8_lossy(bytes)).unwrap_or_default() {
                if doc.get("kind").is_some() {
                    objects.push(doc);
                }
            }
        }
    }
    objects
}

fn find<'a>(objects: &'a [Json], kind: &str, name: &str) -> &'a Json {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn pod(workload: &Json) -> &Json {
    match workload["kind"].as_str() {
        Some("CronJob") => &workload["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &workload["spec"]["template"]["spec"],
    }
}

#[test]
fn each_kind_is_its_object() {
    let body = r#"
app "web" namespace="media" {
    image "me/web" tag="1.0.0"
}
app "db" namespace="media" {
    image "postgres" tag="17.5"
    volume "data" mount="/var/lib/postgresql/data" size="10Gi"
}
app "agent" namespace="media" kind="daemonset" {
    image "me/agent" tag="1.0.0"
    tolerate "dedicated" "edge" effect="NoSchedule"
}
app "report" namespace="media" kind="cronjob" schedule="0 3 * * *" {
    image "me/report" tag="1.0.0"
    backoff-limit 3
}
app "migrate" namespace="media" kind="job" {
    image "me/migrate" tag="1.0.0"
}
app "uploads" namespace="media" kind="deployment" {
    image "me/uploads" tag="1.0.0"
    volume "files" mount="/files" size="1Gi"
}
"#;
    let objects = objects(body, &[]);
    find(&objects, "Deployment", "web");
    let db = find(&objects, "StatefulSet", "db");
    assert_eq!(db["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "data");
    let agent = find(&objects, "DaemonSet", "agent");
    assert_eq!(pod(agent)["tolerations"][0]["key"], "dedicated");
    assert!(agent["spec"].get("replicas").is_none());
    let report = find(&objects, "CronJob", "report");
    assert_eq!(report["spec"]["schedule"], "0 3 * * *");
    assert_eq!(report["spec"]["concurrencyPolicy"], "Forbid", "no overlapping runs by default");
    assert_eq!(report["spec"]["jobTemplate"]["spec"]["backoffLimit"], 3);
    assert_eq!(pod(report)["restartPolicy"], "OnFailure");
    let migrate = find(&objects, "Job", "migrate");
    assert_eq!(migrate["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/force"], "enabled");
    // A Deployment with an own claim: a PVC of its own, and no rolling update over it.
    let uploads = find(&objects, "Deployment", "uploads");
    assert_eq!(uploads["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(pod(uploads)["volumes"][0]["persistentVolumeClaim"]["claimName"], "uploads-files");
    find(&objects, "PersistentVolumeClaim", "uploads-files");
    // Jobs and CronJobs serve nothing and are not disrupted-budgeted or autoscaled.
    assert!(!objects.iter().any(|o| o["kind"] == "Service" && o["metadata"]["name"] == "report"));
}

#[test]
fn sidecars_inits_and_mounts() {
    let body = r#"
app "media" namespace="media" {
    image "jellyfin/jellyfin" tag="10.10.7"
    port "http" 8096
    volume "config" mount="/config" size="5Gi"
    volume "nas" mount="/nas" nfs="192.168.1.10:/export/media" read-only=#true
    init "wait" {
        image "busybox" tag="1.37.0"
        command "sh" "-c" "test -d /nas"
        mount "nas" path="/nas"
    }
    container "exporter" {
        image "me/exporter" tag="1.0.0"
        port "metrics" 9594
        mount "config" path="/config" read-only=#true
    }
    metrics port="metrics"
}
app "sync" namespace="media" kind="cronjob" schedule="@hourly" {
    image "me/sync" tag="1.0.0"
    container "proxy" { image "me/proxy" tag="1.0.0"; }
}
"#;
    let objects = objects(body, &[]);
    let media = pod(find(&objects, "StatefulSet", "media"));
    let containers: Vec<&str> =
        media["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(containers, ["media", "exporter"]);
    assert_eq!(media["initContainers"][0]["name"], "wait");
    assert_eq!(media["initContainers"][0]["volumeMounts"][0]["mountPath"], "/nas");
    assert_eq!(media["initContainers"][0]["volumeMounts"][0]["readOnly"], true, "read-only as the volume is");
    let exporter = &media["containers"][1];
    assert_eq!(exporter["volumeMounts"][0]["name"], "config");
    assert_eq!(exporter["securityContext"]["allowPrivilegeEscalation"], false);
    // The metrics port of the sidecar is on the Service the ServiceMonitor selects.
    let service = find(&objects, "Service", "media");
    assert!(service["spec"]["ports"].as_array().unwrap().iter().any(|p| p["name"] == "metrics"));
    // A CronJob's sidecar is a native sidecar, so that its Jobs complete.
    let sync = pod(find(&objects, "CronJob", "sync"));
    assert_eq!(sync["initContainers"][0]["name"], "proxy");
    assert_eq!(sync["initContainers"][0]["restartPolicy"], "Always");
    assert_eq!(sync["containers"].as_array().unwrap().len(), 1);
}

#[test]
fn config_files_are_content_hashed_and_mounted() {
    let body = r#"
app "web" namespace="media" {
    image "me/web" tag="1.0.0"
    config "settings" file="web.yaml" mount="/etc/web/web.yaml"
    config "env" env-file="web.env"
    env-from config="env"
}
"#;
    let build = |yaml: &str| objects(body, &[("web.yaml", yaml), ("web.env", "LOG_LEVEL=debug\n")]);
    let one = build("a: 1\n");
    let two = build("a: 2\n");
    let name = |objects: &[Json]| {
        let pod = pod(find(objects, "Deployment", "web")).clone();
        let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "settings").unwrap().clone();
        volume["configMap"]["name"].as_str().unwrap().to_string()
    };
    assert_ne!(name(&one), name(&two), "a changed file is a new ConfigMap, so the pods roll");
    let config = find(&one, "ConfigMap", &name(&one));
    assert_eq!(config["data"]["web.yaml"], "a: 1\n");
    let web = pod(find(&one, "Deployment", "web"));
    let mount =
        web["containers"][0]["volumeMounts"].as_array().unwrap().iter().find(|m| m["name"] == "settings").unwrap();
    assert_eq!(mount["subPath"], "web.yaml");
    assert_eq!(mount["mountPath"], "/etc/web/web.yaml");
    let env_map = web["containers"][0]["envFrom"][0]["configMapRef"]["name"].as_str().unwrap();
    assert_eq!(find(&one, "ConfigMap", env_map)["data"]["LOG_LEVEL"], "debug");
    assert!(!web["volumes"].as_array().unwrap().iter().any(|v| v["name"] == "env"), "an env file is not mounted");
}

#[test]
fn placement_and_gpus() {
    let body = r#"
app "transcode" namespace="media" {
    image "me/transcode" tag="1.0.0"
    node "nuc"
    gpu "gpu.intel.com/i915" 1
}
"#;
    let body = body.replace("    node \"nuc\"\n", "");
    let body = body.replace("namespace=\"media\" {", "namespace=\"media\" node=\"nuc\" {");
    let objects = objects(&body, &[]);
    let transcode = pod(find(&objects, "Deployment", "transcode"));
    assert_eq!(transcode["nodeSelector"]["kubernetes.io/hostname"], "nuc");
    assert_eq!(transcode["containers"][0]["resources"]["limits"]["gpu.intel.com/i915"], "1");
}
