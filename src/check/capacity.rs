//! Capacity and scheduling checks (E07xx, W07xx): requests against the nodes'
//! declared capacity, image architectures, `spread "node"`, control-plane
//! redundancy and resource limits.

use crate::diag::{Code, Diagnostic};
use crate::model::{
    App, Arch, Cluster, Distribution, Model, Name, Node, NodeRole, Quantity, Resources, SpreadKey, Taint, TaintEffect,
    Word, WorkloadKind,
};
use crate::source::{Span, Spanned};

/// Runs the capacity checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for cluster in &model.clusters {
        let belongs = |of: Option<&Name>| model.cluster_for(of).is_some_and(|c| c.name.value == cluster.name.value);
        let nodes: Vec<&Node> = model.nodes.iter().filter(|n| belongs(n.cluster.as_ref())).collect();
        let apps: Vec<&App> = model.apps.iter().filter(|a| belongs(a.cluster.as_ref())).collect();
        let mut resources = vec![Resource::Cpu, Resource::Memory];
        let mut gpus: Vec<&str> = apps.iter().flat_map(|a| &a.gpus).map(|g| g.resource.value.as_str()).collect();
        gpus.sort_unstable();
        gpus.dedup();
        resources.extend(gpus.into_iter().map(Resource::Gpu));
        for resource in resources {
            diags.extend(over_capacity(cluster, &nodes, &apps, resource));
        }
        for app in &apps {
            diags.extend(arch_mismatch(cluster, &nodes, app));
            diags.extend(spread_exceeds_nodes(cluster, &nodes, app));
            diags.extend(no_node(cluster, &nodes, app));
            diags.extend(unmatched_tolerations(&nodes, app));
        }
        diags.extend(single_server(cluster, &nodes));
    }
    for app in &model.apps {
        diags.extend(missing_limits(app));
    }
}

/// A resource that nodes offer and apps request.
#[derive(Clone, Copy)]
enum Resource<'a> {
    /// CPU, in millicores.
    Cpu,
    /// Memory, in millibytes.
    Memory,
    /// An extended resource (a GPU), in thousandths of a device.
    Gpu(&'a str),
}

impl Resource<'_> {
    /// What a node declares of it; a node that declares no GPU has none.
    fn capacity(self, node: &Node) -> Option<u128> {
        match self {
            Resource::Cpu => node.cpu.as_ref().map(|q| q.value.millis),
            Resource::Memory => node.memory.as_ref().map(|q| q.value.millis),
            Resource::Gpu(name) => Some(
                node.gpus.iter().filter(|g| g.resource.value == name).map(|g| u128::from(g.count.value) * 1000).sum(),
            ),
        }
    }

    /// What one container requests of it.
    fn request(self, resources: &Resources) -> Option<&Spanned<Quantity>> {
        match self {
            Resource::Cpu => resources.cpu.as_ref(),
            Resource::Memory => resources.memory.as_ref(),
            Resource::Gpu(_) => None,
        }
    }

    /// What one pod of an app requests of it, and where: its running
    /// containers together, or its largest init container when that is more
    /// (init containers run before the others, one at a time).
    fn pod_request(self, app: &App) -> Option<(Span, u128)> {
        if let Resource::Gpu(name) = self {
            let gpu = app.gpus.iter().find(|g| g.resource.value == name)?;
            return Some((gpu.count.span, u128::from(gpu.count.value) * 1000));
        }
        fn of<'c>(resource: Resource<'_>, c: &'c crate::model::Container) -> Option<&'c Spanned<Quantity>> {
            c.resources.as_ref().and_then(|r| resource.request(r))
        }
        let running: Vec<&Spanned<Quantity>> = app.running_containers().filter_map(|c| of(self, c)).collect();
        let init = app.inits.iter().filter_map(|c| of(self, c)).max_by_key(|q| q.value.millis);
        let sum: u128 = running.iter().map(|q| q.value.millis).sum();
        match (running.first(), init) {
            (_, Some(init)) if init.value.millis > sum => Some((init.span, init.value.millis)),
            (Some(first), _) => Some((first.span, sum)),
            (None, _) => None,
        }
    }

    /// An amount, readably: `4 CPUs`, `6500m CPU`, `8Gi`, `2 nvidia.com/gpu`.
    fn show(self, millis: u128) -> String {
        match self {
            Resource::Cpu => show_cpu(millis),
            Resource::Memory => show_memory(millis),
            Resource::Gpu(name) => format!("{} {name}", millis / 1000),
        }
    }

    /// How to ask for less of it.
    fn property(self) -> String {
        match self {
            Resource::Cpu => "`cpu=`".into(),
            Resource::Memory => "`memory=`".into(),
            Resource::Gpu(name) => format!("`gpu \"{name}\"`"),
        }
    }
}

/// The replicas an app runs at least: `replicas`, or `autoscale min=` when
/// higher; one for a Job or CronJob; one per node it may run on for a
/// DaemonSet.
fn min_pods(app: &App, nodes: &[&Node]) -> u32 {
    match app.workload() {
        WorkloadKind::Deployment | WorkloadKind::Statefulset => {
            app.replicas.value.max(app.autoscale.as_ref().map_or(0, |a| a.min.value))
        }
        WorkloadKind::Daemonset => {
            u32::try_from(nodes.iter().filter(|n| fits(app, n).is_ok()).count()).unwrap_or(u32::MAX)
        }
        WorkloadKind::Cronjob | WorkloadKind::Job => 1,
    }
}

/// The labels a node has once it joined: the declared ones and those the
/// kubelet and k3s set (`kubernetes.io/hostname`, `kubernetes.io/arch`,
/// `kubernetes.io/os`, the control-plane role of servers).
pub fn node_labels(node: &Node) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> =
        node.labels.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect();
    labels.push((crate::model::HOSTNAME_LABEL.into(), node.name.value.clone()));
    labels.push(("kubernetes.io/arch".into(), node.arch.value.as_str().into()));
    labels.push(("kubernetes.io/os".into(), "linux".into()));
    if node.role.value.runs_control_plane() {
        labels.push(("node-role.kubernetes.io/control-plane".into(), "true".into()));
    }
    labels
}

/// Why an app's pods cannot run on a node, if they cannot.
fn fits(app: &App, node: &Node) -> Result<(), String> {
    if let Some(pinned) = &app.node
        && pinned.value != node.name.value
    {
        return Err(format!("`node=\"{}\"`", pinned.value));
    }
    // Asked for every app on every node: the labels are built only for an
    // app that selects by them.
    if !app.node_selector.is_empty() {
        let labels = node_labels(node);
        for (key, value) in &app.node_selector {
            match labels.iter().find(|(k, _)| *k == key.value) {
                Some((_, v)) if *v == value.value => {}
                Some((_, v)) => return Err(format!("`{}` is `{v}`, not `{}`", key.value, value.value)),
                None => return Err(format!("no label `{}`", key.value)),
            }
        }
    }
    let blocking =
        node.taints.iter().filter(|t| matches!(t.effect.value, TaintEffect::NoSchedule | TaintEffect::NoExecute));
    for taint in blocking {
        if !app.tolerations.iter().any(|t| t.tolerates(taint)) {
            let value = taint.value.as_ref().map(|v| format!("={}", v.value)).unwrap_or_default();
            return Err(format!("the taint `{}{value}:{}` is not tolerated", taint.key.value, taint.effect.value));
        }
    }
    Ok(())
}

/// E0703: no declared node of the cluster matches an app's `node=`,
/// `node-selector` and tolerations; E0704: none that does offers its GPU.
/// Skipped for a cluster that declares no nodes.
fn no_node(cluster: &Cluster, nodes: &[&Node], app: &App) -> Option<Diagnostic> {
    if nodes.is_empty() {
        return None;
    }
    let verdicts: Vec<(&Node, Result<(), String>)> = nodes.iter().map(|n| (*n, fits(app, n))).collect();
    let fitting: Vec<&Node> = verdicts.iter().filter(|(_, v)| v.is_ok()).map(|(n, _)| *n).collect();
    if fitting.is_empty() {
        let at = app
            .node
            .as_ref()
            .map(|n| n.span)
            .or_else(|| app.node_selector.first().map(|(k, _)| k.span))
            .unwrap_or(app.name.span);
        let mut diag = Diagnostic::new(
            Code::E0703,
            format!("no node of cluster `{}` can run app `{}`", cluster.name.value, app.name.value),
        )
        .primary(at, "no node matches this selection");
        for (node, verdict) in verdicts.iter().take(5) {
            if let Err(why) = verdict {
                diag = diag.secondary(node.name.span, format!("`{}`: {why}", node.name.value));
            }
        }
        return Some(diag.help(
            "its pods would stay `Pending`: select labels the nodes declare (`label \"K\" \"V\"` on a node), \
             tolerate their taints with `tolerate \"KEY\" \"VALUE\" effect=\"NoSchedule\"`, or name a declared node",
        ));
    }
    for gpu in &app.gpus {
        if fitting.iter().any(|n| n.gpus.iter().any(|g| g.resource.value == gpu.resource.value)) {
            continue;
        }
        let offered: Vec<String> = nodes
            .iter()
            .flat_map(|n| n.gpus.iter().map(move |g| format!("`{}` offers `{}`", n.name.value, g.resource.value)))
            .collect();
        let mut diag = Diagnostic::new(
            Code::E0704,
            format!("no node app `{}` may run on offers `{}`", app.name.value, gpu.resource.value),
        )
        .primary(gpu.resource.span, "asked for here");
        if !offered.is_empty() {
            diag = diag.note(offered.join(", "));
        }
        return Some(diag.help(format!(
            "declare it on the node whose device plugin advertises it: `gpu \"{}\" 1` inside the `node`, and let the app run there",
            gpu.resource.value
        )));
    }
    None
}

/// W0704: a toleration no taint of the cluster's nodes matches.
fn unmatched_tolerations(nodes: &[&Node], app: &App) -> Vec<Diagnostic> {
    if nodes.is_empty() {
        return Vec::new();
    }
    let taints: Vec<&Taint> = nodes.iter().flat_map(|n| &n.taints).collect();
    app.tolerations
        .iter()
        .filter(|t| !taints.iter().any(|taint| t.tolerates(taint)))
        .map(|t| {
            let known: Vec<String> = taints
                .iter()
                .map(|t| {
                    let value = t.value.as_ref().map(|v| format!(" \"{}\"", v.value)).unwrap_or_default();
                    format!("`tolerate \"{}\"{value} effect=\"{}\"`", t.key.value, t.effect.value)
                })
                .collect();
            let help = if known.is_empty() {
                "no node declares a taint: remove the `tolerate`, or declare the taint on its node".to_string()
            } else {
                format!(
                    "the nodes' taints are tolerated by {}: match one of them, or remove the `tolerate`",
                    known.join(", ")
                )
            };
            Diagnostic::new(Code::W0704, format!("app `{}` tolerates a taint no node has", app.name.value))
                .primary(t.span, "matches no declared taint")
                .help(help)
        })
        .collect()
}

/// How many apps E0701's note lists by name, largest request first.
const LISTED_REQUESTS: usize = 10;

/// E0701: the apps of a cluster request more of a resource than its nodes
/// declare. Skipped when some node does not declare the resource.
fn over_capacity(cluster: &Cluster, nodes: &[&Node], apps: &[&App], resource: Resource<'_>) -> Option<Diagnostic> {
    let capacities: Option<Vec<u128>> = nodes.iter().map(|n| resource.capacity(n)).collect();
    let capacity: u128 = capacities.filter(|c| !c.is_empty())?.iter().sum();
    if matches!(resource, Resource::Gpu(_)) && capacity == 0 {
        // No node offers it at all: E0704 says so.
        return None;
    }
    // Each requesting app: where, its pods' request, its pods, its total.
    let demands: Vec<(&App, Span, u128, u32, u128)> = apps
        .iter()
        .filter_map(|app| {
            let (span, per_pod) = resource.pod_request(app)?;
            let pods = min_pods(app, nodes);
            Some((*app, span, per_pod, pods, u128::from(pods) * per_pod))
        })
        .collect();
    let demand: u128 = demands.iter().map(|d| d.4).sum();
    if demand <= capacity {
        return None;
    }
    let mut largest = demands.first()?;
    for d in &demands {
        if d.4 > largest.4 {
            largest = d;
        }
    }
    let (app, span, per_pod, pods, total) = largest;
    let what = match resource {
        Resource::Cpu | Resource::Gpu(_) => "",
        Resource::Memory => " of memory",
    };
    // The largest requests first, and a count of the rest: a note of
    // thousands of apps would bury what can be lowered.
    let mut listed: Vec<_> = demands.iter().collect();
    listed.sort_by_key(|d| std::cmp::Reverse(d.4));
    let mut breakdown: Vec<String> = listed
        .iter()
        .take(LISTED_REQUESTS)
        .map(|(a, _, per_pod, pods, total)| {
            format!("`{}` {pods} × {} = {}", a.name.value, resource.show(*per_pod), resource.show(*total))
        })
        .collect();
    if listed.len() > LISTED_REQUESTS {
        breakdown.push(format!("and {} more", listed.len() - LISTED_REQUESTS));
    }
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
        *span,
        format!("`{}` requests {pods} × {} = {}", app.name.value, resource.show(*per_pod), resource.show(*total)),
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
    .help(format!("pods that do not fit stay `Pending`; lower {} or `replicas`, or add a node", resource.property()));
    Some(if demands.len() > 1 { diag.note(format!("requests: {}", breakdown.join(", "))) } else { diag })
}

/// E0702: an app's single-architecture image matches no node of its cluster.
fn arch_mismatch(cluster: &Cluster, nodes: &[&Node], app: &App) -> Option<Diagnostic> {
    let archs = app.containers().filter_map(|c| c.image.as_ref()?.arch.as_ref());
    let arch = archs.into_iter().find(|arch| !nodes.iter().any(|n| n.arch.value == arch.value))?;
    if nodes.is_empty() {
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
    let blocks = |n: &&&Node| fits(app, n).is_err();
    let schedulable = match nodes.len() {
        0 if cluster.distribution.value == Distribution::Kind => 1,
        0 => return None,
        _ => nodes.iter().filter(|n| !blocks(n)).count(),
    };
    let replicas = min_pods(app, nodes);
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
        diag = diag.note(format!(
            "not counted, as the app's selection or their taints keep its pods off: {}",
            tainted.join(", ")
        ));
    }
    Some(diag.help(format!(
        "lower the replicas to {schedulable}, add a node, or drop `spread \"node\"` if the replicas are for throughput"
    )))
}

/// W0702: a k3s or Talos cluster with exactly one control-plane node (a
/// kind cluster is a throwaway on one machine anyway).
fn single_server(cluster: &Cluster, nodes: &[&Node]) -> Option<Diagnostic> {
    if cluster.distribution.value == Distribution::Kind {
        return None;
    }
    let [server] = nodes.iter().filter(|n| n.role.value.runs_control_plane()).collect::<Vec<_>>()[..] else {
        return None;
    };
    let role = server.role.value;
    Some(
        Diagnostic::new(
            Code::W0702,
            format!("cluster `{}` has a single {role} node, `{}`", cluster.name.value, server.name.value),
        )
        .primary(server.role.span, format!("the only {role}"))
        .help(format!(
            "that is fine for a homelab, but a highly available control plane with {} needs \
             three {} (two cannot survive losing either one)",
            if role == NodeRole::Server { "embedded etcd" } else { "etcd" },
            if role == NodeRole::Server { "servers" } else { "control planes" },
        )),
    )
}

/// W0703: an app without `resources`, or without a memory limit. A CPU
/// limit is left to the app: many homelabs leave CPU unlimited on purpose
/// (a limit throttles even an idle node), while memory without a limit can
/// take a node down.
fn missing_limits(app: &App) -> Option<Diagnostic> {
    let name = &app.name.value;
    let Some(resources) = &app.container.resources else {
        return Some(
            Diagnostic::new(Code::W0703, format!("app `{name}` sets no resources"))
                .primary(app.name.span, "no `resources`")
                .help(
                    "add `resources cpu=\"100m\" memory=\"64Mi\" memory-limit=\"128Mi\"` with values that fit the app",
                ),
        );
    };
    if resources.memory_limit.is_some() {
        return None;
    }
    let limit = resources.memory.as_ref().map_or(128 << 20, |m| m.value.millis.div_ceil(1000) * 2);
    Some(
        Diagnostic::new(Code::W0703, format!("app `{name}` sets no memory limit"))
            .primary(resources.span, "no `memory-limit`")
            .help(format!(
                "add `memory-limit=\"{}\"` (twice the request is a safe start); without it, one app's leak can make the kernel kill its neighbours",
                show_memory(limit * 1000)
            )),
    )
}

/// CPU readably: `1 CPU`, `4 CPUs`, `6500m CPU`.
fn show_cpu(millis: u128) -> String {
    match millis {
        1000 => "1 CPU".to_string(),
        m if m.is_multiple_of(1000) => format!("{} CPUs", m / 1000),
        m => format!("{m}m CPU"),
    }
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
    fn many_requests_are_counted_not_listed() {
        // Twelve apps over capacity, `big` the largest: the note names the
        // largest ten, that one first, and counts the rest.
        let mut body = NODES.to_string();
        for i in 0..11 {
            body += &(app(1, "1", "1Gi", "").replace("\"web\"", &format!("\"web-{i}\"")) + "\n");
        }
        body += &(app(2, "1", "1Gi", "").replace("\"web\"", "\"big\"") + "\n");
        let text = format!("homelab \"lab\"\ncluster \"home\" distribution=\"k3s\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let diag = checked.diagnostics.iter().find(|d| d.code.to_string() == "E0701").expect("E0701");
        let note = diag.notes.join("\n");
        assert!(note.starts_with("requests: `big` 2 × 1 CPU = 2 CPUs, `web-0`"), "{note}");
        assert_eq!(note.matches('`').count(), 20, "{note}");
        assert!(note.ends_with(", and 2 more"), "{note}");
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
        // A CPU limit is the app's choice; a memory limit is asked for.
        let no_cpu_limit =
            "app \"web\" { image \"me/web\" tag=\"1.0.0\"; resources cpu=\"1\" memory=\"1Gi\" memory-limit=\"1Gi\"; }";
        assert!(codes(no_cpu_limit).is_empty());
        let no_memory_limit =
            "app \"web\" { image \"me/web\" tag=\"1.0.0\"; resources cpu=\"1\" memory=\"1Gi\" cpu-limit=\"1\"; }";
        assert_eq!(codes(no_memory_limit), ["W0703"]);
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
    }
}
