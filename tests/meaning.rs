//! Tests of meaning, next to the snapshots that guard the bytes: what every
//! example's tree must hold, asserted kind by kind.
//!
//! - Every declaration produces at least one object or file of the tree (its
//!   origin says so), or the build reports why with a diagnostic naming it
//!   (examples, and every UI case that builds).
//! - Every app has its workload, its Service when it serves a port, and its
//!   NetworkPolicy; every object of a `manifest` file is in the tree.
//! - Every unit folder is applied by its cluster's GitOps entry when the
//!   cluster has one.
//! - Every TLS Ingress names a ClusterIssuer its cluster's tree holds.
//! - Every CI engine a pipeline runs on is installed by the tree and reachable:
//!   Tekton Triggers by the installer Job, webhooks through an Ingress to the
//!   EventListener; Drone's and Woodpecker's server at its `server-host`.
//! - Every route is an HTTPRoute of its host attached to Gateway listeners
//!   of the tree whose TLS Secrets a Certificate makes, sending to a port of
//!   its app's Service; every tunnel forwards its apps' hosts, 404 last.
//! - Every storage class is a StorageClass of its provisioner (the default
//!   annotated), every claim a PersistentVolumeClaim of its size and access;
//!   every backed-up claim has a ReplicationSource on the backup's schedule
//!   whose repository Secret the tree makes or the description declares, a
//!   repository of its own, and, restored on create, a ReplicationDestination
//!   its claim's `dataSourceRef` names.
//! - Every Talos cluster has its talhelper file: every node with its address,
//!   role and install disk, the VIP on the control planes only, a mirror for
//!   every registry, and no secret.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::examples;

use homelabc::backend::{self, Artifacts};
use homelabc::diag::Diagnostic;
use homelabc::driver::{self, Checked};
use homelabc::host::{FsHost, Host, MemHost};
use homelabc::layout::{self, Folder, Unit};
use homelabc::model::{DeclId, Declaration, Engine, Word};
use serde_json::Value as Json;

/// A description's checked model and what its backends produce.
fn emitted(host: &dyn Host) -> (Checked, Artifacts) {
    let checked = driver::check(host, "homelab.kdl");
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let artifacts = backend::emit(&checked.model, &checked.clusters(), &checked.graph);
    (checked, artifacts)
}

/// Whether an artifact made for `made` is one of `decl`: the same identity,
/// except that a namespace exists once per cluster.
fn same(decl: &DeclId, made: &DeclId) -> bool {
    decl == made
        || (decl.kind == made.kind
            && decl.cluster.is_none()
            && decl.namespace == made.namespace
            && decl.name == made.name)
}

/// Whether a diagnostic points into a declaration or names it.
fn reports(diag: &Diagnostic, decl: &Declaration) -> bool {
    let inside = |l: &homelabc::diag::Label| {
        l.span.file == decl.span.file && l.span.start >= decl.span.start && l.span.end <= decl.span.end
    };
    diag.labels.iter().any(inside) || diag.message.contains(&format!("`{}`", decl.id.name))
}

/// The declarations of a description that produced nothing and were not
/// reported, as `kind name` lines.
fn silent_declarations(host: &dyn Host) -> Vec<String> {
    let (checked, artifacts) = emitted(host);
    let made: Vec<&DeclId> = (artifacts.objects.iter().flat_map(|o| o.origin.decls.iter()))
        .chain(artifacts.files.iter().flat_map(|f| f.origin.decls.iter()))
        .collect();
    checked
        .model
        .declarations()
        .into_iter()
        .filter(|d| !made.iter().any(|m| same(&d.id, m)))
        .filter(|d| !checked.diagnostics.iter().any(|diag| reports(diag, d)))
        .map(|d| d.id.label())
        .collect()
}

/// An example built, with its tree (every example builds without errors).
fn built(example: &Path) -> (driver::Built, homelabc::output::OutputTree) {
    let mut built = driver::build(&FsHost::new(example), "homelab.kdl");
    let tree = built.tree.take().expect("no errors").expect("layout succeeds");
    (built, tree)
}

#[test]
fn every_declaration_of_every_example_produces_something() {
    for example in examples() {
        let silent = silent_declarations(&FsHost::new(&example));
        assert!(silent.is_empty(), "{}: {silent:?} produce nothing and nothing says why", example.display());
    }
}

/// The UI cases that build (warnings only).
fn buildable_ui_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/ui")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('w')))
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_declaration_of_every_buildable_ui_case_produces_something_or_is_reported() {
    let cases = buildable_ui_cases();
    assert!(cases.len() > 5, "the warning cases are found");
    for case in cases {
        let silent = if case.is_dir() {
            silent_declarations(&FsHost::new(&case))
        } else {
            let text = std::fs::read_to_string(&case).expect("readable");
            silent_declarations(&MemHost::with([("homelab.kdl", text)]))
        };
        assert!(silent.is_empty(), "{}: {silent:?} produce nothing and nothing says why", case.display());
    }
}

/// The objects of a tree, parsed, with their paths.
fn objects(tree: &homelabc::output::OutputTree) -> Vec<(String, Json)> {
    let mut all = Vec::new();
    for (path, bytes) in tree.files() {
        if !path.ends_with(".yaml") || path.ends_with(layout::KUSTOMIZATION) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for doc in homelabc::yaml::parse_documents(&text).unwrap_or_default() {
            if doc.get("kind").is_some() {
                all.push((path.to_string(), doc));
            }
        }
    }
    all
}

/// Whether the objects hold one of this kind, namespace and name.
fn has(objects: &[(String, Json)], kind: &str, namespace: &str, name: &str) -> bool {
    objects
        .iter()
        .any(|(_, o)| o["kind"] == kind && o["metadata"]["namespace"] == namespace && o["metadata"]["name"] == name)
}

/// The objects of one cluster of the tree (`scope` as [`homelabc::model::Model::cluster_key`]).
fn of_cluster(all: &[(String, Json)], tree: &homelabc::output::OutputTree, scope: Option<&str>) -> Vec<(String, Json)> {
    let clusters = homelabc::output::lock_clusters(tree);
    all.iter().filter(|(path, _)| layout::cluster_of(path, &clusters) == scope).cloned().collect()
}

#[test]
fn every_tls_ingress_names_a_cluster_issuer_of_its_cluster() {
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        for model in built.checked.clusters() {
            let in_cluster = of_cluster(&all, &tree, model.cluster_key(None));
            let issuers: BTreeSet<&str> = (in_cluster.iter().filter(|(_, o)| o["kind"] == "ClusterIssuer"))
                .filter_map(|(_, o)| o["metadata"]["name"].as_str())
                .collect();
            let tls = in_cluster.iter().filter(|(_, o)| o["kind"] == "Ingress" && o["spec"]["tls"].is_array());
            for (path, ingress) in tls {
                let issuer = ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"].as_str();
                assert!(
                    issuer.is_some_and(|i| issuers.contains(i)),
                    "{}: {path} names {issuer:?}, not one of the ClusterIssuers {issuers:?}",
                    example.display()
                );
            }
        }
    }
}

#[test]
fn every_route_reaches_a_gateway_of_its_cluster_whose_listener_has_a_certificate() {
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        for model in built.checked.clusters() {
            let in_cluster = of_cluster(&all, &tree, model.cluster_key(None));
            let of_kind = |kind: &'static str| in_cluster.iter().filter(move |(_, o)| o["kind"] == kind);
            let certificates: BTreeSet<(&str, &str)> = of_kind("Certificate")
                .filter_map(|(_, o)| Some((o["metadata"]["namespace"].as_str()?, o["spec"]["secretName"].as_str()?)))
                .collect();
            for app in &model.apps {
                let (ns, name) = (app.namespace.value.as_str(), app.name.value.as_str());
                for (i, route) in app.routes.iter().enumerate() {
                    let what = format!("{}: route {i} of app {ns}/{name}", example.display());
                    let object = if i == 0 { name.to_string() } else { format!("{name}-{i}") };
                    let found = of_kind("HTTPRoute")
                        .find(|(_, o)| o["metadata"]["namespace"] == ns && o["metadata"]["name"] == object.as_str());
                    let (_, found) = found.unwrap_or_else(|| panic!("{what} has no HTTPRoute {object}"));
                    let host = model.ingress_host(&route.host.value);
                    assert_eq!(found["spec"]["hostnames"][0], host.as_str(), "{what}");
                    // Every parent is a Gateway of the tree, and an https listener of it has its certificate.
                    for parent in found["spec"]["parentRefs"].as_array().into_iter().flatten() {
                        let gateway = of_kind("Gateway").find(|(_, g)| {
                            g["metadata"]["name"] == parent["name"] && g["metadata"]["namespace"] == parent["namespace"]
                        });
                        let (_, gateway) = gateway.unwrap_or_else(|| panic!("{what}: parent {parent} is no Gateway"));
                        let listener = (gateway["spec"]["listeners"].as_array().into_iter().flatten())
                            .find(|l| l["name"] == parent["sectionName"])
                            .unwrap_or_else(|| panic!("{what}: no listener {}", parent["sectionName"]));
                        for secret in listener["tls"]["certificateRefs"].as_array().into_iter().flatten() {
                            let ns = gateway["metadata"]["namespace"].as_str().unwrap_or_default();
                            let secret = secret["name"].as_str().unwrap_or_default();
                            assert!(certificates.contains(&(ns, secret)), "{what}: no Certificate makes {ns}/{secret}");
                        }
                    }
                    // Its Service serves the backend port.
                    let port = &found["spec"]["rules"][0]["backendRefs"][0]["port"];
                    let service = of_kind("Service")
                        .find(|(_, o)| o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name);
                    let (_, service) = service.unwrap_or_else(|| panic!("{what}: no Service"));
                    let ports = service["spec"]["ports"].as_array().into_iter().flatten();
                    assert!(ports.clone().any(|p| p["port"] == *port), "{what}: Service {name} has no port {port}");
                }
            }
            for tunnel in &model.tunnels {
                let config = of_kind("ConfigMap")
                    .find(|(_, o)| o["metadata"]["labels"]["app.kubernetes.io/instance"] == tunnel.name.value.as_str());
                let (_, config) = config
                    .unwrap_or_else(|| panic!("{}: tunnel {} has no ConfigMap", example.display(), tunnel.name.value));
                let text = config["data"]["config.yaml"].as_str().unwrap_or_default();
                assert!(
                    text.trim_end().ends_with("- service: http_status:404"),
                    "{}: the catch-all is not last:\n{text}",
                    example.display()
                );
                for app in model.exposed_apps(tunnel) {
                    for host in model.app_hosts(app) {
                        assert!(
                            text.contains(&format!("hostname: {}", host.host)),
                            "{}: {} not forwarded",
                            example.display(),
                            host.host
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_app_has_its_workload_service_and_policy_and_every_manifest_object_is_written() {
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        for model in built.checked.clusters() {
            let in_cluster = of_cluster(&all, &tree, model.cluster_key(None));
            for app in &model.apps {
                let (ns, name) = (app.namespace.value.as_str(), app.name.value.as_str());
                let workload = app.workload().kubernetes_kind();
                let what = format!("{}: app {ns}/{name}", example.display());
                assert!(has(&in_cluster, workload, ns, name), "{what} has no {workload}");
                assert!(has(&in_cluster, "NetworkPolicy", ns, name), "{what} has no NetworkPolicy");
                if app.service.is_some() || !app.ingresses.is_empty() || !app.routes.is_empty() || app.metrics.is_some()
                {
                    assert!(has(&in_cluster, "Service", ns, name), "{what} has no Service");
                }
                for (i, _) in app.ingresses.iter().enumerate() {
                    let ingress = if i == 0 { name.to_string() } else { format!("{name}-{i}") };
                    assert!(has(&in_cluster, "Ingress", ns, &ingress), "{what} has no Ingress {ingress}");
                }
            }
            for object in model.manifests.iter().flat_map(|m| &m.objects) {
                let found = in_cluster.iter().any(|(_, o)| {
                    o["apiVersion"] == object.api_version.as_str()
                        && o["kind"] == object.kind.as_str()
                        && o["metadata"]["name"] == object.name.as_str()
                        && o["metadata"]["namespace"].as_str() == object.namespace.as_deref()
                });
                assert!(found, "{}: manifest object {} {} is not written", example.display(), object.kind, object.name);
            }
        }
    }
}

#[test]
fn every_unit_is_applied_by_its_clusters_gitops_entry() {
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        let folders: BTreeSet<&str> = (tree.files().map(|(p, _)| p))
            .filter_map(|p| p.strip_suffix(&format!("/{}", layout::KUSTOMIZATION)))
            .filter(|f| !f.starts_with("clusters/"))
            .collect();
        for model in built.checked.clusters() {
            let Some(cluster) = model.clusters.first() else { continue };
            let Some(gitops) = &cluster.gitops else { continue };
            let entry = Unit::new(None, Folder::Entry(cluster.name.value.clone())).path();
            let applied: BTreeSet<String> = all
                .iter()
                .filter(|(path, _)| path.starts_with(&format!("{entry}/")))
                .filter_map(|(_, o)| o["spec"]["path"].as_str().or_else(|| o["spec"]["source"]["path"].as_str()))
                .map(|p| p.trim_start_matches("./").trim_start_matches(&format!("{}/", gitops.path.value)).to_string())
                .collect();
            let clusters = homelabc::output::lock_clusters(&tree);
            for folder in
                folders.iter().filter(|f| layout::cluster_of(&format!("{f}/x"), &clusters) == model.cluster_key(None))
            {
                assert!(
                    applied.contains(*folder),
                    "{}: unit {folder} is applied by nothing in {entry}",
                    example.display()
                );
            }
        }
    }
}

#[test]
fn every_ci_engine_is_installed_and_reachable() {
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        for model in built.checked.clusters() {
            let in_cluster = of_cluster(&all, &tree, model.cluster_key(None));
            let what = |p: &homelabc::model::Pipeline| format!("{}: pipeline {}", example.display(), p.name.value);
            for pipeline in &model.pipelines {
                match pipeline.engine.value {
                    Engine::Tekton => {
                        let job = in_cluster.iter().any(|(_, o)| {
                            o["kind"] == "Job"
                                && o["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("tekton-install-"))
                        });
                        assert!(job, "{}: Tekton Triggers is installed by nothing", what(pipeline));
                        if pipeline.webhooks().next().is_some() {
                            let ns = pipeline.namespace().unwrap_or_default();
                            let routed = in_cluster.iter().any(|(_, o)| {
                                o["kind"] == "Ingress"
                                    && o["metadata"]["namespace"] == ns
                                    && o["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
                                        == format!("el-{}", pipeline.name.value).as_str()
                            });
                            assert!(routed, "{}: no Ingress routes webhooks to its EventListener", what(pipeline));
                        }
                    }
                    Engine::Drone | Engine::Woodpecker => {
                        let component = pipeline.engine.value.as_str();
                        let server = model.component(component).expect("the engine's component is included");
                        assert!(server.param_text("server-host").is_some(), "{}: no server-host", what(pipeline));
                        assert!(server.param_text("ingress-class").is_some(), "{}: no Ingress", what(pipeline));
                    }
                    Engine::GithubActions => {}
                }
            }
        }
    }
}

#[test]
fn every_storage_class_claim_and_backed_up_volume_has_its_objects() {
    let mut backed_up = 0;
    for example in examples() {
        let (built, tree) = built(&example);
        let all = objects(&tree);
        for model in built.checked.clusters() {
            let in_cluster = of_cluster(&all, &tree, model.cluster_key(None));
            let find = |kind: &str, ns: Option<&str>, name: &str| {
                in_cluster.iter().map(|(_, o)| o).find(|o| {
                    o["kind"] == kind && o["metadata"]["name"] == name && o["metadata"]["namespace"].as_str() == ns
                })
            };
            let what = |name: &str| format!("{}: {name}", example.display());
            for class in &model.storage_classes {
                let object = find("StorageClass", None, &class.name.value)
                    .unwrap_or_else(|| panic!("{}", what(&class.name.value)));
                assert_eq!(object["provisioner"], class.provisioner.value.as_str(), "{}", what(&class.name.value));
                let default =
                    object["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true";
                assert_eq!(default, class.default.as_ref().is_some_and(|d| d.value), "{}", what(&class.name.value));
            }
            for claim in &model.claims {
                let (ns, name) = (claim.namespace.value.as_str(), claim.name.value.as_str());
                let pvc = find("PersistentVolumeClaim", Some(ns), name)
                    .unwrap_or_else(|| panic!("{} has no PVC", what(name)));
                assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], claim.size.value.text.as_str());
                assert_eq!(pvc["spec"]["accessModes"][0], homelabc::model::Word::as_str(claim.access.value));
            }
            let mut repositories = BTreeSet::new();
            for backed in model.backed_up() {
                let ns = backed.volume.namespace();
                for claim in backed.volume.claim_names() {
                    backed_up += 1;
                    let source = find("ReplicationSource", Some(ns), &claim)
                        .unwrap_or_else(|| panic!("{} has no ReplicationSource", what(&claim)));
                    assert_eq!(source["spec"]["sourcePVC"], claim.as_str());
                    assert_eq!(source["spec"]["trigger"]["schedule"], backed.backup.schedule.value.text.as_str());
                    let secret = source["spec"]["restic"]["repository"].as_str().unwrap_or_default();
                    let made = in_cluster.iter().any(|(_, o)| {
                        o["metadata"]["namespace"] == ns
                            && ((o["kind"] == "ExternalSecret" && o["spec"]["target"]["name"] == secret)
                                || (o["kind"] == "Secret" && o["metadata"]["name"] == secret))
                    });
                    let declared = model.secrets.iter().any(|s| s.name.value == secret && s.namespace.value == ns);
                    assert!(made || declared, "{}: repository secret {secret} is made by nothing", what(&claim));
                    assert!(repositories.insert(backed.repository(&claim)), "{}: repository shared", what(&claim));
                    if backed.volume.restores_on_create(backed.backup) {
                        let restore = format!("{claim}-restore");
                        assert!(find("ReplicationDestination", Some(ns), &restore).is_some(), "{}", what(&restore));
                        let named = in_cluster.iter().any(|(_, o)| {
                            let specs = std::iter::once(&o["spec"]).chain(
                                o["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten().map(|t| &t["spec"]),
                            );
                            o["metadata"]["namespace"] == ns
                                && specs.into_iter().any(|s| s["dataSourceRef"]["name"] == restore.as_str())
                        });
                        assert!(named, "{}: no claim is restored from {restore}", what(&claim));
                    }
                }
            }
        }
    }
    assert!(backed_up > 0, "some example backs a volume up");
}

#[test]
fn every_talos_cluster_has_its_talconfig_with_every_node_and_no_secret() {
    use homelabc::model::Distribution;
    let mut seen = 0;
    for example in examples() {
        let (built, tree) = built(&example);
        let model = &built.checked.model;
        for cluster in model.clusters.iter().filter(|c| c.distribution.value == Distribution::Talos) {
            seen += 1;
            let scope = model.cluster_key(Some(&cluster.name)).map(str::to_string);
            let path = homelabc::layout::FilePlace::TalConfig { scope }.path();
            let text = tree.files().find(|(p, _)| *p == path).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
            let what = format!("{}: {path}", example.display());
            let text = text.unwrap_or_else(|| panic!("{what} is missing"));
            let config = homelabc::yaml::parse_documents(&text).expect("YAML").remove(0);
            assert_eq!(config["clusterName"], cluster.name.value.as_str(), "{what}");
            let vip = cluster.vip.as_ref().map(|v| v.value.to_string());
            for node in model.nodes_of(cluster) {
                let entry = config["nodes"]
                    .as_array()
                    .and_then(|nodes| nodes.iter().find(|n| n["hostname"] == node.name.value.as_str()));
                let entry = entry.unwrap_or_else(|| panic!("{what}: node {} is missing", node.name.value));
                let address = node.address.as_ref().expect("Talos nodes have addresses").ip.value.to_string();
                assert_eq!(entry["ipAddress"], address.as_str(), "{what}");
                assert_eq!(entry["controlPlane"], node.role.value.runs_control_plane(), "{what}");
                assert!(entry["installDisk"].is_string(), "{what}");
                let has_vip = entry["networkInterfaces"][0]["vip"]["ip"].as_str().map(str::to_string);
                let expected = vip.clone().filter(|_| node.role.value.runs_control_plane());
                assert_eq!(has_vip, expected, "{what}: the VIP of {}", node.name.value);
            }
            let patches = config["patches"].as_array().cloned().unwrap_or_default();
            for registry in model.registries_of(cluster) {
                let host = registry.address.value.to_string();
                assert!(
                    patches.iter().any(|p| p.as_str().is_some_and(|p| p.contains(&host))),
                    "{what}: no mirror of {host}"
                );
            }
            for banned in ["secrets:", "token:", "key:", "crt:", "bootstraptoken", "aescbcEncryptionSecret"] {
                assert!(!text.contains(banned), "{what} holds `{banned}`");
            }
        }
    }
    assert!(seen > 0, "an example runs Talos");
}

#[test]
fn every_object_file_names_the_schema_of_its_kind_for_editors_unless_asked_not_to() {
    let mut named = 0;
    for example in examples() {
        let (built, tree) = built(&example);
        // Secret files are copied as the user wrote them (SOPS signs their bytes).
        let attachments = &built.checked.model.attachments;
        let copied = |text: &str| attachments.values().any(|a| a.trim_end() == text.trim_end());
        for (path, bytes) in tree.files() {
            let text = String::from_utf8_lossy(bytes);
            let first = text.lines().next().unwrap_or_default();
            // One object per file; files of several documents (Flux's
            // gotk-sync.yaml) take no file-wide schema.
            let Some(object) =
                homelabc::yaml::parse_documents(&text).ok().filter(|d| d.len() == 1).map(|mut d| d.remove(0))
            else {
                continue;
            };
            let (Some(api_version), Some(kind)) = (object["apiVersion"].as_str(), object["kind"].as_str()) else {
                continue;
            };
            let what = format!("{}: {path}", example.display());
            if copied(&text) {
                assert!(!first.contains("yaml-language-server"), "{what}: copied as written");
                continue;
            }
            match homelabc::layout::schema::url(api_version, kind) {
                Some(url) => {
                    assert_eq!(first, format!("# yaml-language-server: $schema={url}"), "{what}");
                    named += 1;
                }
                None => assert!(!first.contains("yaml-language-server"), "{what}"),
            }
        }
        // Asked not to, no file names one.
        let options = homelabc::layout::Options { schema_comments: false };
        let library = homelabc::stdlib::Library::embedded();
        let plain = driver::build_with_options(&FsHost::new(&example), "homelab.kdl", &library, options);
        let plain = plain.tree.expect("no errors").expect("layout succeeds");
        for (path, bytes) in plain.files() {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("# yaml-language-server"), "{}: {path}", example.display());
        }
    }
    assert!(named > 500, "{named} object files name their schema");
}
