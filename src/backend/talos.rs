//! The Talos backend: `talos/talconfig.yaml`, talhelper's cluster file, from
//! which `talhelper genconfig` makes each node's machine configuration.
//!
//! What the description says goes where talhelper takes it: versions, the
//! endpoint (`https://<endpoint or VIP>:6443`) and its certificate names, the
//! pod and service CIDRs, and per node its hostname, address, role, install
//! disk, labels and taints, its static address on its interface (the VIP on
//! the control planes'), its network's gateway and DNS servers. What talhelper
//! has no field for is a machine-configuration patch: the node IP kubelet and
//! etcd use (the node's own address, never the VIP), and a mirror for every
//! declared registry (plain HTTP for the insecure ones, as k3s' and kind's).
//!
//! Control planes run workloads too (`allowSchedulingOnControlPlanes`), as
//! k3s servers do: the capacity checks count them. Keep workloads off them with
//! a `taint` on the node. The CNI (flannel) and kube-proxy stay Talos'
//! defaults: the language declares no replacement for them.
//!
//! No secret is written: talhelper reads the cluster's secrets from
//! `talsecret.sops.yaml`, made once by `talhelper gensecret` outside the tree
//! (the inventory's bootstrap steps say how).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Artifacts, Content, Origin};
use crate::layout::FilePlace;
use crate::model::{API_PORT, Cluster, Distribution, HostAddress, Model, Network, Node, Registry, Taint};

/// talhelper's `talconfig.yaml` (the subset homelabc writes).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TalConfig {
    cluster_name: String,
    talos_version: String,
    kubernetes_version: String,
    endpoint: String,
    allow_scheduling_on_control_planes: bool,
    additional_api_server_cert_sans: Vec<String>,
    cluster_pod_nets: Vec<String>,
    cluster_svc_nets: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<String>,
    nodes: Vec<TalNode>,
}

/// One entry of `nodes`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TalNode {
    hostname: String,
    ip_address: String,
    control_plane: bool,
    install_disk: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    node_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    node_taints: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nameservers: Vec<String>,
    network_interfaces: Vec<Interface>,
    patches: Vec<String>,
}

/// A `networkInterfaces` entry: the node's static address.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Interface {
    #[serde(skip_serializing_if = "Option::is_none")]
    interface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_selector: Option<DeviceSelector>,
    addresses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<Route>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vip: Option<Vip>,
}

/// Which interface, without a name: every physical one.
#[derive(Debug, Serialize)]
struct DeviceSelector {
    physical: bool,
}

#[derive(Debug, Serialize)]
struct Route {
    network: &'static str,
    gateway: String,
}

#[derive(Debug, Serialize)]
struct Vip {
    ip: String,
}

/// A machine-configuration patch (strategic merge), written into
/// `patches` as YAML text.
#[derive(Debug, Default, Serialize)]
struct Patch {
    #[serde(skip_serializing_if = "Option::is_none")]
    machine: Option<MachinePatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<ClusterPatch>,
}

#[derive(Debug, Default, Serialize)]
struct MachinePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    kubelet: Option<Kubelet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registries: Option<Registries>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Kubelet {
    #[serde(rename = "nodeIP")]
    node_ip: ValidSubnets,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidSubnets {
    valid_subnets: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Registries {
    mirrors: BTreeMap<String, Mirror>,
}

#[derive(Debug, Serialize)]
struct Mirror {
    endpoints: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ClusterPatch {
    etcd: Etcd,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Etcd {
    advertised_subnets: Vec<String>,
}

/// Emits `talos/talconfig.yaml` for every Talos cluster.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for cluster in model.clusters.iter().filter(|c| c.distribution.value == Distribution::Talos) {
        // The checks (E1302, E1303) make these present before a build.
        let (Some(version), Some(kubernetes), Some(endpoint)) =
            (&cluster.version, &cluster.kubernetes, cluster.api_endpoint())
        else {
            continue;
        };
        let nodes: Vec<&Node> = model.nodes_of(cluster).collect();
        let mirrored: Vec<&Registry> = model.registries_of(cluster).collect();
        let config = TalConfig {
            cluster_name: cluster.name.value.clone(),
            talos_version: version.value.clone(),
            kubernetes_version: kubernetes.value.clone(),
            endpoint: format!("https://{}", endpoint.value.with_port(API_PORT)),
            allow_scheduling_on_control_planes: true,
            additional_api_server_cert_sans: cert_sans(cluster, &endpoint.value),
            cluster_pod_nets: vec![cluster.pod_cidr.value.to_string()],
            cluster_svc_nets: vec![cluster.service_cidr.value.to_string()],
            patches: mirrors(&mirrored).into_iter().collect(),
            nodes: nodes.iter().filter_map(|n| node(model, cluster, n)).collect(),
        };
        let origin = Origin::of(cluster.id(model));
        let origin = nodes.iter().fold(origin, |o, n| o.and(n.id(model)));
        let origin = mirrored.iter().fold(origin, |o, r| o.and(r.id(model)));
        let scope = model.cluster_key(Some(&cluster.name)).map(str::to_string);
        let header = "# talhelper's cluster file, generated by homelabc from the homelab description.\n\
                      # The cluster's secrets are not here: talhelper reads them from talsecret.sops.yaml,\n\
                      # kept outside this tree (README.md, Bootstrap, says how to make it).\n"
            .to_string();
        out.file(&origin, FilePlace::TalConfig { scope }, Content::Yaml { header, body: Box::new(config) });
    }
}

/// The API server certificate's extra names: the endpoint and the VIP.
fn cert_sans(cluster: &Cluster, endpoint: &HostAddress) -> Vec<String> {
    let mut sans = vec![endpoint.to_string()];
    if let Some(vip) = &cluster.vip {
        sans.push(vip.value.to_string());
    }
    sans.dedup();
    sans
}

/// One node's entry; `None` for a node without address or install disk,
/// which the checks refuse (E1307).
fn node(model: &Model, cluster: &Cluster, node: &Node) -> Option<TalNode> {
    let address = node.address.as_ref()?;
    let install_disk = node.install_disk.as_ref()?;
    let ip = address.ip.value;
    let control_plane = node.role.value.runs_control_plane();
    let network = model.node_network(address);
    Some(TalNode {
        hostname: node.name.value.clone(),
        ip_address: ip.to_string(),
        control_plane,
        install_disk: install_disk.value.clone(),
        node_labels: node.labels.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect(),
        node_taints: taints(&node.taints),
        nameservers: network.map(|n| n.dns.iter().map(|d| d.value.to_string()).collect()).unwrap_or_default(),
        network_interfaces: vec![interface(cluster, node, ip, network, control_plane)],
        patches: vec![node_ip_patch(ip, control_plane)],
    })
}

/// Taints as talhelper's `nodeTaints` takes them: key to `value:Effect`, or
/// to the effect alone. One per key (W1303 says which are left out).
fn taints(taints: &[Taint]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for taint in taints {
        let value = match &taint.value {
            Some(v) => format!("{}:{}", v.value, taint.effect.value),
            None => taint.effect.value.to_string(),
        };
        out.entry(taint.key.value.clone()).or_insert(value);
    }
    out
}

/// The node's static address on its interface (the one it names, else every
/// physical one), the route through its network's gateway, and the VIP on a
/// control plane.
fn interface(cluster: &Cluster, node: &Node, ip: IpAddr, network: Option<&Network>, control_plane: bool) -> Interface {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = network.map_or(max, |n| n.cidr.value.prefix_len());
    let gateway = network.and_then(|n| n.gateway.as_ref());
    Interface {
        interface: node.interface.as_ref().map(|i| i.value.clone()),
        device_selector: node.interface.is_none().then_some(DeviceSelector { physical: true }),
        addresses: vec![format!("{ip}/{prefix}")],
        routes: gateway
            .map(|g| Route {
                network: if g.value.is_ipv4() { "0.0.0.0/0" } else { "::/0" },
                gateway: g.value.to_string(),
            })
            .into_iter()
            .collect(),
        vip: cluster.vip.as_ref().filter(|_| control_plane).map(|v| Vip { ip: v.value.to_string() }),
    }
}

/// The patch that makes kubelet (and etcd on a control plane) use the node's
/// own address, never the VIP or another interface's.
fn node_ip_patch(ip: IpAddr, control_plane: bool) -> String {
    let own = format!("{ip}/{}", if ip.is_ipv4() { 32 } else { 128 });
    let patch = Patch {
        machine: Some(MachinePatch {
            kubelet: Some(Kubelet { node_ip: ValidSubnets { valid_subnets: vec![own.clone()] } }),
            registries: None,
        }),
        cluster: control_plane.then(|| ClusterPatch { etcd: Etcd { advertised_subnets: vec![own] } }),
    };
    crate::yaml::render(&patch)
}

/// The patch that makes every node pull the declared registries' images
/// through their endpoints (plain HTTP for insecure ones); none without
/// registries.
fn mirrors(registries: &[&Registry]) -> Option<String> {
    if registries.is_empty() {
        return None;
    }
    let mirrors = registries
        .iter()
        .map(|r| (r.address.value.to_string(), Mirror { endpoints: vec![r.mirror_endpoint()] }))
        .collect();
    let patch = Patch {
        machine: Some(MachinePatch { kubelet: None, registries: Some(Registries { mirrors }) }),
        cluster: None,
    };
    Some(crate::yaml::render(&patch))
}
