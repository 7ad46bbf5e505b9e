//! The infrastructure sections of the inventory: clusters, nodes, networks
//! load-balancer pools and registries.

use super::table::{Table, code};
use super::{heading, values};
use crate::layout::FilePlace;
use crate::model::{Cluster, Distribution, Model, Node, Pool, Quantity, Taint, Word};
use crate::source::Spanned;

/// `## Clusters`: distribution, version, ingress, load balancer, CIDRs, GitOps.
pub fn clusters(model: &Model, out: &mut String) {
    let mut table = Table::new(&[
        "Cluster",
        "Distribution",
        "Version",
        "Ingress",
        "Load balancer",
        "Pod CIDR",
        "Service CIDR",
        "GitOps",
    ]);
    for c in &model.clusters {
        table.row(vec![
            code(&c.name.value),
            c.distribution.value.to_string(),
            version(c),
            c.ingress.value.to_string(),
            c.load_balancer.value.to_string(),
            c.pod_cidr.value.to_string(),
            c.service_cidr.value.to_string(),
            gitops(c),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Clusters");
        table.render(out);
    }
}

/// The version cell: the distribution's, and Kubernetes' when it is named
/// apart (Talos).
fn version(cluster: &Cluster) -> String {
    let distribution = cluster.version.as_ref().map(|v| v.value.clone()).unwrap_or_default();
    match &cluster.kubernetes {
        Some(k) if distribution.is_empty() => format!("Kubernetes {}", k.value),
        Some(k) => format!("{distribution}, Kubernetes {}", k.value),
        None => distribution,
    }
}

/// The GitOps cell: engine, repository, branch, folder and interval.
fn gitops(cluster: &Cluster) -> String {
    let Some(g) = &cluster.gitops else { return String::new() };
    format!(
        "{} applies {} (branch {}, folder {}) every {}",
        g.engine.value,
        code(&g.repo.value),
        code(&g.branch.value),
        code(&g.path.value),
        g.interval.value
    )
}

/// `## Nodes`: role, address, architecture, capacity, labels and taints.
pub fn nodes(model: &Model, out: &mut String) {
    let mut table = Table::new(&[
        "Node",
        "Cluster",
        "Role",
        "Address",
        "Arch",
        "CPU",
        "Memory",
        "Disk",
        "Install disk",
        "Labels",
        "Taints",
    ])
    .optional(&["Disk", "Install disk", "Labels", "Taints"]);
    for n in &model.nodes {
        let text = |q: &Option<Spanned<Quantity>>| q.as_ref().map(|q| q.value.to_string()).unwrap_or_default();
        table.row(vec![
            code(&n.name.value),
            model.cluster_for(n.cluster.as_ref()).map(|c| code(&c.name.value)).unwrap_or_default(),
            role(model, n).to_string(),
            address(model, n),
            n.arch.value.to_string(),
            text(&n.cpu),
            text(&n.memory),
            text(&n.disk),
            n.install_disk.as_ref().map(|d| code(&d.value)).unwrap_or_default(),
            n.labels.iter().map(|(k, v)| code(&format!("{}={}", k.value, v.value))).collect::<Vec<_>>().join(", "),
            taints(n),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Nodes");
        table.render(out);
    }
}

/// The role as the node's distribution names it (kind: control-plane /
/// worker; k3s and Talos: as written).
fn role(model: &Model, node: &Node) -> &'static str {
    let kind = model.cluster_for(node.cluster.as_ref()).is_some_and(|c| c.distribution.value == Distribution::Kind);
    match (node.role.value.runs_control_plane(), kind) {
        (true, true) => "control-plane",
        (false, true) => "worker",
        (_, false) => node.role.value.as_str(),
    }
}

/// The node's address and the network it is on.
fn address(model: &Model, node: &Node) -> String {
    let Some(a) = &node.address else { return String::new() };
    let network = a.network.as_ref().map(|n| n.value.as_str()).or_else(|| {
        model.networks.iter().find(|net| net.cidr.value.contains(&a.ip.value)).map(|net| net.name.value.as_str())
    });
    match network {
        Some(net) => format!("{} on {}", a.ip.value, code(net)),
        None => a.ip.value.to_string(),
    }
}

/// The taints as `key=value:Effect`.
fn taints(node: &Node) -> String {
    let taint = |t: &Taint| match &t.value {
        Some(v) => format!("{}={}:{}", t.key.value, v.value, t.effect.value),
        None => format!("{}:{}", t.key.value, t.effect.value),
    };
    node.taints.iter().map(|t| code(&taint(t))).collect::<Vec<_>>().join(", ")
}

/// `## Networks`: CIDR, gateway, DNS servers and DHCP ranges.
pub fn networks(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Network", "CIDR", "Gateway", "DNS", "DHCP"]);
    for n in &model.networks {
        let list = |items: Vec<String>| items.join(", ");
        table.row(vec![
            code(&n.name.value),
            n.cidr.value.to_string(),
            n.gateway.as_ref().map(|g| g.value.to_string()).unwrap_or_default(),
            list(n.dns.iter().map(|d| d.value.to_string()).collect()),
            list(n.dhcp.iter().map(|d| d.value.to_string()).collect()),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Networks");
        table.render(out);
    }
}

/// `## Load-balancer pools`: network, range, announcement and users.
pub fn pools(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Pool", "Network", "Range", "Advertise", "Used by"]);
    for p in &model.pools {
        table.row(vec![
            code(&p.name.value),
            code(&p.network.value),
            p.range.value.to_string(),
            advertise(p),
            pool_users(model, p).join(", "),
        ]);
    }
    if !table.is_empty() {
        heading(out, "Load-balancer pools");
        table.render(out);
    }
}

/// How a pool is announced: over L2, or to its BGP peers.
fn advertise(pool: &Pool) -> String {
    let peers: Vec<String> = pool
        .peers
        .iter()
        .map(|p| format!("{} (AS {}, ours AS {})", p.address.value, p.asn.value, p.local_asn.value))
        .collect();
    match peers.as_slice() {
        [] => pool.advertise.value.to_string(),
        _ => format!("{} to {}", pool.advertise.value, peers.join(", ")),
    }
}

/// The apps whose service names the pool (with their fixed address), the
/// gateways that take their address from it, and the charts whose values
/// annotate a Service with it (`metallb.io/address-pool`).
fn pool_users(model: &Model, pool: &Pool) -> Vec<String> {
    let fixed = |a: &Option<crate::source::Spanned<std::net::IpAddr>>| {
        a.as_ref().map(|ip| format!(" at {}", ip.value)).unwrap_or_default()
    };
    let apps = model.apps.iter().filter_map(|a| {
        let service = a.service.as_ref().filter(|s| s.pool.as_ref().is_some_and(|p| p.value == pool.name.value))?;
        Some(format!("app {}{}", code(&a.name.value), fixed(&service.address)))
    });
    let gateways = (model.gateways.iter())
        .filter(|g| g.pool.as_ref().is_some_and(|p| p.value == pool.name.value))
        .map(|g| format!("gateway {}{}", code(&g.name.value), fixed(&g.address)));
    let apps = apps.chain(gateways);
    let charts = model
        .charts
        .iter()
        .filter(|c| c.values.as_ref().is_some_and(|v| values::names_pool(v, &pool.name.value)))
        .map(|c| format!("chart {}", code(&c.name.value)));
    apps.chain(charts).collect()
}

/// `## Registries`: address, protocol, pull secret, and where a deployed one runs.
pub fn registries(model: &Model, out: &mut String) {
    let mut table = Table::new(&["Registry", "Address", "Protocol", "Pull secret", "Runs"]);
    for r in &model.registries {
        let runs = match &r.deploy {
            Some(d) => format!("in namespace {}, {} of storage", code(&d.namespace.value), d.storage.value),
            None => "outside the cluster".to_string(),
        };
        table.row(vec![
            code(&r.name.value),
            code(&r.address.value.to_string()),
            if r.is_insecure() { "http (insecure)" } else { "https" }.to_string(),
            r.pull_secret.as_ref().map(|s| code(&s.value)).unwrap_or_default(),
            runs,
        ]);
    }
    if !table.is_empty() {
        heading(out, "Registries");
        table.render(out);
    }
}

/// `## Bootstrap (Talos)`: how a Talos cluster is made from
/// `talos/talconfig.yaml` with talhelper and talosctl. The cluster's secrets
/// are made once by `talhelper gensecret`, kept SOPS-encrypted beside the
/// description and never in the tree (a build refuses files it did not write).
pub fn talos_bootstrap(model: &Model, out: &mut String) {
    for cluster in model.clusters.iter().filter(|c| c.distribution.value == Distribution::Talos) {
        let scope = model.cluster_key(Some(&cluster.name)).map(str::to_string);
        // Each cluster of several has secrets and machine files of its own.
        let (secret, dir) = match &scope {
            Some(c) => (format!("talsecret-{c}.sops.yaml"), format!("clusterconfig/{c}")),
            None => ("talsecret.sops.yaml".to_string(), "clusterconfig".to_string()),
        };
        let tree = cluster.gitops.as_ref().map_or(crate::model::DEFAULT_TREE, |g| g.path.value.as_str());
        let config = format!("{tree}/{}", FilePlace::TalConfig { scope }.path());
        let nodes: Vec<(&Node, String)> =
            model.nodes_of(cluster).filter_map(|n| Some((n, n.address.as_ref()?.ip.value.to_string()))).collect();
        let Some((_, first)) = nodes.iter().find(|(n, _)| n.role.value.runs_control_plane()) else { continue };
        let name = &cluster.name.value;
        heading(out, &format!("Talos machines (cluster {})", code(name)));
        out.push_str(&format!(
            "`{config}` is talhelper's cluster file. The cluster's secrets are never in this tree: make them \
             once in the folder of `homelab.kdl` (not in `{tree}/`, which a build refuses to share), encrypt \
             them with SOPS (your age key: `--age age1...` or a creation rule) and commit them; \
             `{dir}/` holds every machine's secrets in clear, so talhelper git-ignores it: never commit it.\n\n"
        ));
        out.push_str("```sh\n");
        out.push_str(&format!("talhelper gensecret > {secret}\n"));
        out.push_str(&format!("sops --encrypt --in-place {secret}\n"));
        out.push_str(&format!("talhelper genconfig --config-file {config} --secret-file {secret} --out-dir {dir}\n"));
        out.push_str("# first install: each machine booted from the Talos image, in maintenance mode\n");
        for (node, ip) in &nodes {
            out.push_str(&format!(
                "talosctl apply-config --insecure --nodes {ip} --file {dir}/{name}-{}.yaml\n",
                node.name.value
            ));
        }
        out.push_str(&format!(
            "talosctl bootstrap --nodes {first} --endpoints {first} --talosconfig {dir}/talosconfig\n"
        ));
        out.push_str(&format!(
            "talosctl kubeconfig --nodes {first} --endpoints {first} --talosconfig {dir}/talosconfig\n"
        ));
        out.push_str("```\n\n");
        out.push_str(&format!(
            "After a build that changes `{config}`, run the `talhelper genconfig` line again, then apply the \
             machines with `talhelper gencommand apply --config-file {config} --out-dir {dir} | sh`.\n\n"
        ));
    }
}
