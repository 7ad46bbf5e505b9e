//! The kind backend: `kind-config.yaml` (kind.x-k8s.io/v1alpha4) with the
//! nodes, the pod and service subnets, the ingress port mappings and node
//! label ingress-nginx expects, and containerd mirrors for declared registries.

use serde::Serialize;

use super::{Artifacts, Content, Origin};
use crate::layout::FilePlace;
use crate::model::{Cluster, Distribution, IngressController, Model, Registry};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KindCluster {
    kind: &'static str,
    api_version: &'static str,
    name: String,
    networking: Networking,
    nodes: Vec<KindNode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containerd_config_patches: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Networking {
    pod_subnet: String,
    service_subnet: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KindNode {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kubeadm_config_patches: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_port_mappings: Vec<PortMapping>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PortMapping {
    container_port: u16,
    host_port: u16,
    protocol: &'static str,
}

/// The kubeadm patch that labels the ingress node as ingress-nginx's kind
/// provider expects.
const INGRESS_READY_PATCH: &str =
    "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: \"ingress-ready=true\"\n";

/// Emits the definition of every kind cluster.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for cluster in model.clusters.iter().filter(|c| c.distribution.value == Distribution::Kind) {
        emit_cluster(model, cluster, out);
    }
}

fn emit_cluster(model: &Model, cluster: &Cluster, out: &mut Artifacts) {
    // Whether each node runs the control plane, control planes first; a kind
    // cluster without declared control-plane nodes is one control-plane node.
    let mut control_planes: Vec<bool> = model.nodes_of(cluster).map(|n| n.role.value.runs_control_plane()).collect();
    if !control_planes.contains(&true) {
        control_planes = vec![true];
    }
    control_planes.sort_by_key(|control_plane| !control_plane);
    let image = cluster.version.as_ref().map(|v| format!("kindest/node:{}", v.value));
    let nginx = cluster.ingress.value == IngressController::Nginx;
    let mut first_server = true;
    let mut nodes = Vec::new();
    for control_plane in control_planes {
        let ingress_node = nginx && control_plane && std::mem::take(&mut first_server);
        nodes.push(KindNode {
            role: if control_plane { "control-plane" } else { "worker" },
            image: image.clone(),
            kubeadm_config_patches: if ingress_node { vec![INGRESS_READY_PATCH.to_string()] } else { Vec::new() },
            extra_port_mappings: if ingress_node {
                [80, 443].map(|p| PortMapping { container_port: p, host_port: p, protocol: "TCP" }).into()
            } else {
                Vec::new()
            },
            labels: Default::default(),
        });
    }
    let config = KindCluster {
        kind: "Cluster",
        api_version: "kind.x-k8s.io/v1alpha4",
        name: cluster.name.value.clone(),
        networking: networking(cluster),
        nodes,
        containerd_config_patches: model.registries_of(cluster).map(mirror_patch).collect(),
    };
    let origin = Origin::of(cluster.id(model));
    let origin = model.nodes_of(cluster).fold(origin, |o, n| o.and(n.id(model)));
    let origin = model.registries_of(cluster).fold(origin, |o, r| o.and(r.id(model)));
    let scope = model.cluster_key(Some(&cluster.name)).map(str::to_string);
    out.file(&origin, FilePlace::KindConfig { scope }, Content::yaml(config));
}

fn networking(cluster: &Cluster) -> Networking {
    Networking {
        pod_subnet: cluster.pod_cidr.value.to_string(),
        service_subnet: cluster.service_cidr.value.to_string(),
    }
}

/// A containerd CRI mirror for one registry.
fn mirror_patch(registry: &Registry) -> String {
    let host = registry.address.value.to_string();
    let endpoint = registry.mirror_endpoint();
    format!("[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"{host}\"]\n  endpoint = [\"{endpoint}\"]\n")
}
