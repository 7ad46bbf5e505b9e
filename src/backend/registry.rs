//! The in-cluster registry (SPEC §2.2 `registry { deploy }`): registry:2 as a
//! single-replica Deployment on a PersistentVolumeClaim, behind a NodePort
//! Service that the nodes' containerd mirrors pull through, and a ClusterIP
//! name pods (image builds) push to. Restricted like every app (SPEC §5).
//!
//! The Namespace and its default-deny policies come from the namespace unit
//! ([`crate::model::Model::workload_namespaces`]); this unit adds the
//! registry's own objects and the policy that lets clients reach it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, ResourceRequirements, Service, ServiceAccount,
    ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::k8s::{DEFAULT_USER, http_probe, meta, restricted_container, restricted_pod, tmp_volume};
use super::{Artifacts, Origin, managed_labels};
use crate::layout::{Folder, Unit};
use crate::model::{Model, Registry, RegistryDeploy};

/// The stdlib component whose unit the in-cluster registries are applied with.
pub const COMPONENT: &str = "registry";

/// The registry:2 tag when the `registry` component gives none (its `version`
/// parameter pins it; distribution 2.8 is the last `registry:2`).
pub const DEFAULT_TAG: &str = "2.8.3";

/// The port registry:2 listens on, in the pod and on the Service.
pub const PORT: u16 = 5000;

/// Where registry:2 keeps its blobs.
const DATA_PATH: &str = "/var/lib/registry";

/// Emits every deployed registry.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for registry in &model.registries {
        if let Some(deploy) = &registry.deploy {
            let tag = model.component("registry").and_then(|c| c.param_text("version"));
            let image = format!("registry:{}", tag.as_deref().unwrap_or(DEFAULT_TAG));
            let scope = model.cluster_key(registry.cluster.as_ref());
            let origin = Origin::of(registry.id(model));
            let origin = match model.component(COMPONENT) {
                Some(_) => origin.and(model.component_id(scope, COMPONENT)),
                None => origin,
            };
            let unit = Unit::new(scope, Folder::Component(COMPONENT.into()));
            emit_registry(registry, deploy, &image, (&origin, &unit), out);
        }
    }
}

/// The name of a deployed registry's objects.
pub fn object_name(registry: &Registry) -> String {
    format!("registry-{}", registry.name.value)
}

/// The address pods inside the cluster push to and pull from: the Service's
/// cluster DNS name. `None` when the registry is not deployed in the cluster.
pub fn in_cluster_address(registry: &Registry) -> Option<String> {
    let deploy = registry.deploy.as_ref()?;
    Some(format!("{}.{}.svc.cluster.local:{PORT}", object_name(registry), deploy.namespace.value))
}

fn labels(registry: &Registry) -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.extend(selector(registry));
    labels
}

fn selector(registry: &Registry) -> BTreeMap<String, String> {
    [
        ("app.kubernetes.io/name".to_string(), "registry".to_string()),
        ("app.kubernetes.io/instance".to_string(), registry.name.value.clone()),
    ]
    .into_iter()
    .collect()
}

fn emit_registry(
    registry: &Registry,
    deploy: &RegistryDeploy,
    image: &str,
    (origin, unit): (&Origin, &Unit),
    out: &mut Artifacts,
) {
    let name = object_name(registry);
    let ns = Some(deploy.namespace.value.as_str());
    let account = ServiceAccount {
        metadata: meta(&name, ns, labels(registry)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    };
    out.object(origin, unit, account);
    out.object(origin, unit, claim(registry, deploy));
    out.object(origin, unit, deployment(registry, deploy, image));
    out.object(origin, unit, service(registry, deploy));
    out.object(origin, unit, policy(registry, deploy));
}

fn claim(registry: &Registry, deploy: &RegistryDeploy) -> PersistentVolumeClaim {
    let requests = [("storage".to_string(), Quantity(deploy.storage.value.text.clone()))].into_iter().collect();
    PersistentVolumeClaim {
        metadata: meta(&format!("{}-data", object_name(registry)), Some(&deploy.namespace.value), labels(registry)),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(requests),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Quantity>> {
    Some(pairs.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect())
}

fn deployment(registry: &Registry, deploy: &RegistryDeploy, image: &str) -> Deployment {
    let name = object_name(registry);
    let (tmp, tmp_mount) = tmp_volume();
    let data = Volume {
        name: "data".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: format!("{name}-data"),
            ..PersistentVolumeClaimVolumeSource::default()
        }),
        ..Volume::default()
    };
    let probe = || http_probe("/", "registry");
    let container = Container {
        name: "registry".into(),
        image: Some(image.into()),
        ports: Some(vec![ContainerPort {
            name: Some("registry".into()),
            container_port: i32::from(PORT),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(vec![
            EnvVar { name: "REGISTRY_HTTP_ADDR".into(), value: Some(format!(":{PORT}")), ..EnvVar::default() },
            EnvVar { name: "REGISTRY_STORAGE_DELETE_ENABLED".into(), value: Some("true".into()), ..EnvVar::default() },
        ]),
        resources: Some(ResourceRequirements {
            requests: quantities(&[("cpu", "50m"), ("memory", "64Mi")]),
            limits: quantities(&[("cpu", "500m"), ("memory", "256Mi")]),
            ..ResourceRequirements::default()
        }),
        liveness_probe: Some(probe()),
        readiness_probe: Some(probe()),
        security_context: Some(restricted_container(true)),
        volume_mounts: Some(vec![
            VolumeMount { name: "data".into(), mount_path: DATA_PATH.into(), ..VolumeMount::default() },
            tmp_mount,
        ]),
        ..Container::default()
    };
    let spec = PodSpec {
        service_account_name: Some(name.clone()),
        automount_service_account_token: Some(false),
        security_context: Some(restricted_pod(DEFAULT_USER)),
        containers: vec![container],
        volumes: Some(vec![data, tmp]),
        ..PodSpec::default()
    };
    Deployment {
        metadata: meta(&name, Some(&deploy.namespace.value), labels(registry)),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            // One ReadWriteOnce volume: the old pod must let go before the new one starts.
            strategy: Some(DeploymentStrategy { type_: Some("Recreate".into()), ..DeploymentStrategy::default() }),
            selector: LabelSelector { match_labels: Some(selector(registry)), ..LabelSelector::default() },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels(registry)), ..ObjectMeta::default() }),
                spec: Some(spec),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn service(registry: &Registry, deploy: &RegistryDeploy) -> Service {
    let node_port = deploy.node_port.as_ref().map(|p| i32::from(p.value));
    Service {
        metadata: meta(&object_name(registry), Some(&deploy.namespace.value), labels(registry)),
        spec: Some(ServiceSpec {
            type_: Some(if node_port.is_some() { "NodePort" } else { "ClusterIP" }.into()),
            selector: Some(selector(registry)),
            ports: Some(vec![ServicePort {
                name: Some("registry".into()),
                port: i32::from(PORT),
                target_port: Some(IntOrString::String("registry".into())),
                node_port,
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// Pushes and pulls come from anywhere: nodes' containerd through the
/// NodePort, and image builds in any namespace through the Service.
fn policy(registry: &Registry, deploy: &RegistryDeploy) -> NetworkPolicy {
    NetworkPolicy {
        metadata: super::netpol::meta(&object_name(registry), &deploy.namespace.value),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(selector(registry)), ..LabelSelector::default() }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: None,
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::String("registry".into())),
                    protocol: Some("TCP".into()),
                    ..NetworkPolicyPort::default()
                }]),
            }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::MemHost;

    fn artifacts(source: &str) -> (Model, Artifacts) {
        let host = MemHost::with([("homelab.kdl", source)]);
        let checked = driver::check(&host, "homelab.kdl");
        assert!(checked.diagnostics.iter().all(|d| !d.is_error()), "{:?}", checked.diagnostics);
        let mut out = Artifacts::default();
        emit(&checked.model, &mut out);
        (checked.model, out)
    }

    const CLUSTER: &str = "homelab \"lab\"\ncluster \"lab\" distribution=\"k3s\"\n";

    #[test]
    fn a_deployed_registry_gets_storage_a_node_port_and_a_cluster_address() {
        let source = format!(
            "{CLUSTER}registry \"local\" address=\"10.0.0.2:30500\" {{\n    insecure #true\n    deploy storage=\"5Gi\" node-port=30500\n}}\napp \"web\" {{\n    image \"web\" registry=\"local\" tag=\"1\"\n}}\n"
        );
        let (model, out) = artifacts(&source);
        let address = in_cluster_address(&model.registries[0]);
        assert_eq!(address.as_deref(), Some("registry-local.registry.svc.cluster.local:5000"));
        let values: Vec<serde_json::Value> = out.objects.iter().map(|o| o.value()).collect();
        let kinds: Vec<&str> = values.iter().map(|o| o["kind"].as_str().unwrap_or("")).collect();
        assert_eq!(kinds, ["ServiceAccount", "PersistentVolumeClaim", "Deployment", "Service", "NetworkPolicy"]);
        assert!(out.objects.iter().all(|o| o.unit.path() == "infrastructure/registry"));
        assert!(values.iter().all(|o| o["metadata"]["namespace"] == "registry"));
        assert_eq!(values[1]["spec"]["resources"]["requests"]["storage"], "5Gi");
        assert_eq!(values[3]["spec"]["type"], "NodePort");
        assert_eq!(values[3]["spec"]["ports"][0]["nodePort"], 30500);
        let pod = &values[2]["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsUser"], DEFAULT_USER);
        assert_eq!(pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
    }

    #[test]
    fn a_registry_outside_the_cluster_emits_nothing() {
        let source = format!(
            "{CLUSTER}registry \"hub\" address=\"10.0.0.9:5000\" {{ insecure #true }}\napp \"web\" {{\n    image \"web\" registry=\"hub\" tag=\"1\"\n}}\n"
        );
        let (model, out) = artifacts(&source);
        assert!(out.objects.is_empty());
        assert_eq!(in_cluster_address(&model.registries[0]), None);
    }
}
