//! Capacity and scheduling checks (E07xx, W07xx): requests against the nodes'
//! declared capacity, image architectures, `spread "node"`, control-plane
//! redundancy and resource limits.

use crate::diag::{Code, Diagnostic};
use crate::model::{
    App, Arch, Cluster, Distribution, Model, Name, Node, NodeRole, Quantity, Resources, SpreadKey, TaintEffect,
};
use crate::source::Spanned;

/// Runs the capacity checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let belongs = |of: Option<&Name>| model.cluster_for(of).is_some_and(|c| c.name.value == cluster.name.value);
        let nodes: Vec<&Node> = model.nodes.iter().filter(|n| belongs(n.cluster.as_ref())).collect();
        let apps: Vec<&App> = model.apps.iter().filter(|a| belongs(a.cluster.as_ref())).collect();
        for resource in [Resource::Cpu, Resource::Memory] {
            diags.extend(over_capacity(cluster, &nodes, &apps, resource));
        }
        for app in &apps {
            diags.extend(arch_mismatch(cluster, &nodes, app));
            diags.extend(spread_exceeds_nodes(cluster, &nodes, app));
        }
        diags.extend(single_server(cluster, &nodes));
    }
    for app in &model.apps {
        diags.extend(missing_limits(app));
    }
}

/// A resource that nodes offer and apps request.
#[derive(Clone, Copy)]
enum Resource {
    /// CPU, in millicores.
    Cpu,
    /// Memory, in millibytes.
    Memory,
}

impl Resource {
    /// What a node declares of it.
    fn capacity(self, node: &Node) -> Option<&Spanned<Quantity>> {
        match self {
            Resource::Cpu => node.cpu.as_ref(),
            Resource::Memory => node.memory.as_ref(),
        }
    }

    /// What one replica requests of it.
    fn request(self, resources: &Resources) -> Option<&Spanned<Quantity>> {
        match self {
            Resource::Cpu => resources.cpu.as_ref(),
            Resource::Memory => resources.memory.as_ref(),
        }
    }

    /// An amount, readably: `4 CPUs`, `6500m CPU`, `8Gi`.
    fn show(self, millis: u128) -> String {
        match self {
            Resource::Cpu => show_cpu(millis),
            Resource::Memory => show_memory(millis),
        }
    }

    /// The property of `resources` requesting it.
    fn property(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// The replicas an app runs at least: `replicas`, or `autoscale min=` when higher.
fn min_replicas(app: &App) -> u32 {
    app.replicas.value.max(app.autoscale.as_ref().map_or(0, |a| a.min.value))
}

/// E0701: the apps of a cluster request more of a resource than its nodes
/// declare. Skipped when some node does not declare the resource.
fn over_capacity(cluster: &Cluster, nodes: &[&Node], apps: &[&App], resource: Resource) -> Option<Diagnostic> {
    let capacities: Option<Vec<u128>> = nodes.iter().map(|n| resource.capacity(n).map(|q| q.value.millis)).collect();
    let capacity: u128 = capacities.filter(|c| !c.is_empty())?.iter().sum();
    // Each requesting app with its request and its total.
    let demands: Vec<(&App, &Spanned<Quantity>, u128)> = apps
        .iter()
        .filter_map(|app| {
            let request = app.container.resources.as_ref().and_then(|r| resource.request(r))?;
            Some((*app, request, u128::from(min_replicas(app)) * request.value.millis))
        })
        .collect();
    let demand: u128 = demands.iter().map(|(_, _, total)| total).sum();
    if demand <= capacity {
        return None;
    }
    let mut largest = demands.first()?;
    for d in &demands {
        if d.2 > largest.2 {
            largest = d;
        }
    }
    let (app, request, total) = largest;
    let what = match resource {
        Resource::Cpu => "",
        Resource::Memory => " of memory",
    };
    let breakdown: Vec<String> = demands
        .iter()
        .map(|(a, r, t)| format!("`{}` {} × {} = {}", a.name.value, min_replicas(a), r.value, resource.show(*t)))
        .collect();
    let diag = Diagnostic::new(
        Code::E0701,
        format!(
            "apps request {}{what} but the nodes of cluster `{}` have {}",
            resource.show(demand),
            cluster.name.value,
            resource.show(capacity)
        ),
    )
    .primary(
        request.span,
        format!("`{}` requests {} × {} = {}", app.name.value, min_replicas(app), request.value, resource.show(*total)),
    )
    .secondary(
        cluster.name.span,
        format!(
            "{} node{} declaring {} in all",
            nodes.len(),
            if nodes.len() == 1 { "" } else { "s" },
            resource.show(capacity)
        ),
    )
    .help(format!(
        "pods that do not fit stay `Pending`; lower `{}=` or `replicas`, or add a node",
        resource.property()
    ));
    Some(if demands.len() > 1 { diag.note(format!("requests: {}", breakdown.join(", "))) } else { diag })
}

/// E0702: an app's single-architecture image matches no node of its cluster.
fn arch_mismatch(cluster: &Cluster, nodes: &[&Node], app: &App) -> Option<Diagnostic> {
    let arch = app.container.image.as_ref()?.arch.as_ref()?;
    if nodes.is_empty() || nodes.iter().any(|n| n.arch.value == arch.value) {
        return None;
    }
    let other = if arch.value == Arch::Amd64 { Arch::Arm64 } else { Arch::Amd64 };
    let mut diag = Diagnostic::new(
        Code::E0702,
        format!(
            "image of app `{}` is built for {} only, but no node of cluster `{}` is {}",
            app.name.value, arch.value, cluster.name.value, arch.value
        ),
    )
    .primary(arch.span, format!("{}-only image", arch.value));
    for node in nodes.iter().take(3) {
        let label = if node.arch.span == node.name.span {
            format!("`{}` is {} (the default)", node.name.value, node.arch.value)
        } else {
            format!("`{}` is {}", node.name.value, node.arch.value)
        };
        diag = diag.secondary(node.arch.span, label);
    }
    Some(diag.help(format!(
        "build for both with `docker buildx build --platform linux/amd64,linux/arm64` and drop \
         `arch=`, or build the image for {other}"
    )))
}

/// W0701: `spread "node"` with more replicas than schedulable nodes. A kind
/// cluster without declared nodes has its single default node.
fn spread_exceeds_nodes(cluster: &Cluster, nodes: &[&Node], app: &App) -> Option<Diagnostic> {
    let spread = app.spread.as_ref().filter(|s| s.value == SpreadKey::Node)?;
    let blocks = |n: &&&Node| {
        n.taints.iter().any(|t| matches!(t.effect.value, TaintEffect::NoSchedule | TaintEffect::NoExecute))
    };
    let schedulable = match nodes.len() {
        0 if cluster.distribution.value == Distribution::Kind => 1,
        0 => return None,
        _ => nodes.iter().filter(|n| !blocks(n)).count(),
    };
    let replicas = min_replicas(app);
    if u128::from(replicas) <= schedulable as u128 {
        return None;
    }
    let tainted: Vec<String> = nodes.iter().filter(blocks).map(|n| format!("`{}`", n.name.value)).collect();
    let nodes_word = |n: usize| format!("{n} schedulable node{}", if n == 1 { "" } else { "s" });
    let mut diag = Diagnostic::new(
        Code::W0701,
        format!("app `{}` spreads {replicas} replicas over {}", app.name.value, nodes_word(schedulable)),
    )
    .primary(spread.span, "asks for one replica per node")
    .secondary(cluster.name.span, format!("cluster `{}` has {}", cluster.name.value, nodes_word(schedulable)));
    if app.replicas.span != app.name.span && app.replicas.value == replicas {
        diag = diag.secondary(app.replicas.span, format!("{replicas} replicas"));
    }
    if !tainted.is_empty() {
        diag = diag
            .note(format!("not counted, as a NoSchedule or NoExecute taint keeps pods off: {}", tainted.join(", ")));
    }
    Some(diag.help(format!(
        "lower the replicas to {schedulable}, add a node, or drop `spread \"node\"` if the replicas are for throughput"
    )))
}

/// W0702: a k3s cluster with exactly one server node.
fn single_server(cluster: &Cluster, nodes: &[&Node]) -> Option<Diagnostic> {
    if cluster.distribution.value != Distribution::K3s {
        return None;
    }
    let [server] = nodes.iter().filter(|n| n.role.value == NodeRole::Server).collect::<Vec<_>>()[..] else {
        return None;
    };
    Some(
        Diagnostic::new(
            Code::W0702,
            format!("cluster `{}` has a single server node, `{}`", cluster.name.value, server.name.value),
        )
        .primary(server.role.span, "the only server")
        .help(
            "that is fine for a homelab, but a highly available control plane with embedded etcd needs \
             three servers (two cannot survive losing either one)",
        ),
    )
}

/// W0703: an app without `resources`, or without a CPU or memory limit.
fn missing_limits(app: &App) -> Option<Diagnostic> {
    let name = &app.name.value;
    let Some(resources) = &app.container.resources else {
        return Some(
            Diagnostic::new(Code::W0703, format!("app `{name}` sets no resources"))
                .primary(app.name.span, "no `resources`")
                .help(
                    "add `resources cpu=\"100m\" memory=\"64Mi\" cpu-limit=\"200m\" memory-limit=\"128Mi\"` \
                     with values that fit the app",
                ),
        );
    };
    let (missing, label) = match (&resources.cpu_limit, &resources.memory_limit) {
        (Some(_), Some(_)) => return None,
        (None, None) => ("CPU or memory limit", "no `cpu-limit` or `memory-limit`"),
        (None, Some(_)) => ("CPU limit", "no `cpu-limit`"),
        (Some(_), None) => ("memory limit", "no `memory-limit`"),
    };
    let mut add = Vec::new();
    if resources.cpu_limit.is_none() {
        let limit = resources.cpu.as_ref().map_or(200, |c| c.value.millis * 2);
        add.push(format!("cpu-limit=\"{}\"", cpu_quantity(limit)));
    }
    if resources.memory_limit.is_none() {
        let limit = resources.memory.as_ref().map_or(128 << 20, |m| m.value.millis.div_ceil(1000) * 2);
        add.push(format!("memory-limit=\"{}\"", show_memory(limit * 1000)));
    }
    Some(Diagnostic::new(Code::W0703, format!("app `{name}` sets no {missing}")).primary(resources.span, label).help(
        format!(
            "add `{}` (twice the request is a safe start); without limits one app can starve its node",
            add.join(" ")
        ),
    ))
}

/// CPU readably: `1 CPU`, `4 CPUs`, `6500m CPU`.
fn show_cpu(millis: u128) -> String {
    match millis {
        1000 => "1 CPU".to_string(),
        m if m.is_multiple_of(1000) => format!("{} CPUs", m / 1000),
        m => format!("{m}m CPU"),
    }
}

/// CPU as a quantity: `2` or `250m`.
fn cpu_quantity(millis: u128) -> String {
    if millis.is_multiple_of(1000) { (millis / 1000).to_string() } else { format!("{millis}m") }
}

/// Memory readably, in the largest unit that divides it exactly (`8Gi`,
/// `2G`, `4500Mi`), else approximately.
fn show_memory(millis: u128) -> String {
    let bytes = millis.div_ceil(1000);
    const UNITS: [(&str, u128); 8] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("T", 1_000_000_000_000),
        ("G", 1_000_000_000),
        ("Mi", 1 << 20),
        ("M", 1_000_000),
        ("Ki", 1 << 10),
        ("k", 1_000),
    ];
    if bytes == 0 {
        return "0".to_string();
    }
    if let Some((unit, size)) = UNITS.iter().find(|(_, size)| bytes.is_multiple_of(*size)) {
        return format!("{}{unit}", bytes / size);
    }
    let gib = bytes as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 { format!("{gib:.1}Gi") } else { format!("{:.1}Mi", bytes as f64 / (1u64 << 20) as f64) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemHost;

    /// The E07 and W07 codes a description produces.
    fn codes(body: &str) -> Vec<String> {
        let text = format!("homelab \"lab\"\ncluster \"home\" distribution=\"k3s\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        checked
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .filter(|c| c.starts_with("E07") || c.starts_with("W07"))
            .collect()
    }

    /// Two arm64 servers with 4 CPUs and 8Gi each.
    const NODES: &str = r#"
        node "a" role="server" { arch "arm64"; cpu 4; memory "8Gi"; }
        node "b" role="server" { arch "arm64"; cpu 4; memory "8Gi"; }
    "#;

    /// An app with equal requests and limits.
    fn app(replicas: u32, cpu: &str, memory: &str, extra: &str) -> String {
        format!(
            "app \"web\" {{ image \"me/web\" tag=\"1.0.0\" {extra}; replicas {replicas}; \
             resources cpu=\"{cpu}\" memory=\"{memory}\" cpu-limit=\"{cpu}\" memory-limit=\"{memory}\"; }}"
        )
    }

    #[test]
    fn capacity() {
        assert!(codes(&format!("{NODES}{}", app(4, "2", "4Gi", ""))).is_empty());
        assert_eq!(codes(&format!("{NODES}{}", app(5, "2", "1Gi", ""))), ["E0701"]);
        assert_eq!(codes(&format!("{NODES}{}", app(2, "1", "9Gi", ""))), ["E0701"]);
        // A node without memory makes the memory capacity unknown.
        let partial = NODES.replacen("memory \"8Gi\";", "", 1);
        assert!(codes(&format!("{partial}{}", app(2, "1", "9Gi", ""))).is_empty());
    }

    #[test]
    fn architecture() {
        assert_eq!(codes(&format!("{NODES}{}", app(1, "1", "1Gi", "arch=\"amd64\""))), ["E0702"]);
        assert!(codes(&format!("{NODES}{}", app(1, "1", "1Gi", "arch=\"arm64\""))).is_empty());
    }

    #[test]
    fn warnings() {
        let one = r#"node "a" role="server" { cpu 4; }"#;
        assert_eq!(codes(one), ["W0702"]);
        let bare = "app \"web\" { image \"me/web\" tag=\"1.0.0\"; }";
        assert_eq!(codes(bare), ["W0703"]);
        let spread =
            format!("{NODES}{}", app(3, "100m", "64Mi", "").replace("replicas 3;", "replicas 3; spread \"node\";"));
        assert_eq!(codes(&spread), ["W0701"]);
    }

    #[test]
    fn formatting() {
        assert_eq!(show_cpu(6500), "6500m CPU");
        assert_eq!(show_cpu(4000), "4 CPUs");
        assert_eq!(show_memory(8 * (1 << 30) * 1000), "8Gi");
        assert_eq!(show_memory(4500 * (1 << 20) * 1000), "4500Mi");
        assert_eq!(show_memory(2_000_000_000_000), "2G");
        assert_eq!(cpu_quantity(200), "200m");
    }
}
