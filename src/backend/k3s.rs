//! The k3s backend: per node `etc/rancher/k3s/config.yaml` and
//! `registries.yaml`, and a k3s-ansible inventory.
//!
//! The cluster token is never written: every node reads it from
//! [`TOKEN_FILE`], which the operator places on the node.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::{Artifacts, Content, Origin};
use crate::layout::FilePlace;
use crate::model::{Cluster, Distribution, IngressController, LoadBalancer, Model, Node, Registry};

pub use crate::model::API_PORT;

/// Where nodes read the cluster token from.
pub const TOKEN_FILE: &str = "/etc/rancher/k3s/cluster-token";

/// A node's `/etc/rancher/k3s/config.yaml`; field names are k3s flag names.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_init: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    token_file: String,
    node_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_ip: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls_san: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_dns: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    disable: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_label: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_taint: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    write_kubeconfig_mode: Option<String>,
}

/// `registries.yaml`: a mirror per declared registry.
#[derive(Debug, Serialize)]
struct Registries {
    mirrors: BTreeMap<String, Mirror>,
}

#[derive(Debug, Serialize)]
struct Mirror {
    endpoint: Vec<String>,
}

/// Emits the node files of every k3s cluster.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for cluster in model.clusters.iter().filter(|c| c.distribution.value == Distribution::K3s) {
        let scope = model.cluster_key(Some(&cluster.name)).map(str::to_string);
        let nodes: Vec<&Node> = model.nodes_of(cluster).collect();
        let servers: Vec<&Node> = nodes.iter().copied().filter(|n| n.role.value.runs_control_plane()).collect();
        let first = servers.first().copied();
        let mirrored: Vec<&Registry> = model.registries_of(cluster).collect();
        for node in &nodes {
            let origin = Origin::of(node.id(model));
            let config = node_config(cluster, node, first, servers.len());
            let place = FilePlace::K3sConfig { scope: scope.clone(), node: node.name.value.clone() };
            out.file(&origin, place, Content::yaml(config));
            if let Some(registries) = registries(&mirrored) {
                let origin = mirrored.iter().fold(origin, |o, r| o.and(r.id(model)));
                let place = FilePlace::K3sRegistries { scope: scope.clone(), node: node.name.value.clone() };
                out.file(&origin, place, Content::yaml(registries));
            }
        }
        if !nodes.is_empty() {
            let origin = nodes.iter().fold(Origin::of(cluster.id(model)), |o, n| o.and(n.id(model)));
            let inventory = inventory(cluster, &nodes, first);
            out.file(&origin, FilePlace::NodeInventory { scope }, Content::yaml(inventory));
        }
    }
}

fn address(node: &Node) -> Option<IpAddr> {
    node.address.as_ref().map(|a| a.ip.value)
}

/// The URL agents and joining servers reach the first server at.
fn server_url(first: &Node) -> String {
    match address(first) {
        Some(ip) => format!("https://{}", super::host_port(ip, API_PORT)),
        None => format!("https://{}:{API_PORT}", first.name.value),
    }
}

fn node_config(cluster: &Cluster, node: &Node, first: Option<&Node>, servers: usize) -> Config {
    let mut config = Config {
        token_file: TOKEN_FILE.into(),
        node_name: node.name.value.clone(),
        node_ip: address(node).map(|ip| ip.to_string()),
        node_label: node.labels.iter().map(|(k, v)| format!("{}={}", k.value, v.value)).collect(),
        node_taint: node
            .taints
            .iter()
            .map(|t| match &t.value {
                Some(v) => format!("{}={}:{}", t.key.value, v.value, t.effect.value),
                None => format!("{}:{}", t.key.value, t.effect.value),
            })
            .collect(),
        ..Config::default()
    };
    let is_first = first.is_some_and(|f| f.name.value == node.name.value);
    if node.role.value.runs_control_plane() {
        // Keys every server must agree on come from the cluster, once.
        config.cluster_cidr = Some(cluster.pod_cidr.value.to_string());
        config.service_cidr = Some(cluster.service_cidr.value.to_string());
        config.cluster_dns = cluster_dns(cluster).map(|ip| ip.to_string());
        config.tls_san =
            std::iter::once(node.name.value.clone()).chain(address(node).map(|ip| ip.to_string())).collect();
        config.disable = disabled_components(cluster);
        config.write_kubeconfig_mode = Some("0600".into());
        if servers > 1 && is_first {
            config.cluster_init = Some(true);
        }
    }
    if !is_first && let Some(first) = first {
        config.server = Some(server_url(first));
    }
    config
}

/// The tenth address of the service CIDR: where k3s puts CoreDNS.
pub fn cluster_dns(cluster: &Cluster) -> Option<IpAddr> {
    cluster.service_cidr.value.hosts().nth(9)
}

/// Packaged components replaced by what the cluster declares instead.
fn disabled_components(cluster: &Cluster) -> Vec<String> {
    let mut disable = Vec::new();
    if cluster.ingress.value != IngressController::Traefik {
        disable.push("traefik".to_string());
    }
    if cluster.load_balancer.value != LoadBalancer::Servicelb {
        disable.push("servicelb".to_string());
    }
    disable
}

fn registries(registries: &[&Registry]) -> Option<Registries> {
    if registries.is_empty() {
        return None;
    }
    let mirrors = registries
        .iter()
        .map(|r| (r.address.value.to_string(), Mirror { endpoint: vec![r.mirror_endpoint()] }))
        .collect();
    Some(Registries { mirrors })
}

/// `nodes/inventory.yml` in k3s-ansible's layout.
#[derive(Debug, Serialize)]
struct Inventory {
    k3s_cluster: InventoryCluster,
}

#[derive(Debug, Serialize)]
struct InventoryCluster {
    children: BTreeMap<String, InventoryGroup>,
    vars: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct InventoryGroup {
    hosts: BTreeMap<String, BTreeMap<String, String>>,
}

fn inventory(cluster: &Cluster, nodes: &[&Node], first: Option<&Node>) -> Inventory {
    let mut children: BTreeMap<String, InventoryGroup> = BTreeMap::new();
    for node in nodes {
        let group = if node.role.value.runs_control_plane() { "server" } else { "agent" };
        let mut vars = BTreeMap::new();
        if let Some(ip) = address(node) {
            vars.insert("ansible_host".to_string(), ip.to_string());
        }
        children
            .entry(group.to_string())
            .or_insert_with(|| InventoryGroup { hosts: BTreeMap::new() })
            .hosts
            .insert(node.name.value.clone(), vars);
    }
    let mut vars = BTreeMap::new();
    if let Some(version) = &cluster.version {
        vars.insert("k3s_version".to_string(), version.value.clone());
    }
    if let Some(ip) = first.and_then(address) {
        vars.insert("api_endpoint".to_string(), ip.to_string());
    }
    Inventory { k3s_cluster: InventoryCluster { children, vars } }
}
