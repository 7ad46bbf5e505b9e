//! Checks on ports: NodePorts outside their range or used twice in one cluster
//! (E0401, E0402), references to ports an app does not declare (E0403), ports
//! declared twice (E0404) and hosts and paths routed twice by ingresses and
//! routes (E0405).

use std::collections::BTreeMap;

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Model, Name, Port, Protocol, Value};
use crate::source::Span;
use crate::suggest::did_you_mean;

/// The NodePort range Kubernetes allocates from by default.
const NODE_PORTS: std::ops::RangeInclusive<i128> = 30000..=32767;

/// Runs the ports checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    let uses = node_ports(model);
    for u in &uses {
        if !NODE_PORTS.contains(&u.number) {
            diags.push(out_of_range(u));
        }
    }
    node_port_conflicts(&uses, diags);
    for app in &model.apps {
        undeclared_ports(app, diags);
        duplicate_ports(app, diags);
        duplicate_exposes(app, diags);
    }
    duplicate_routes(model, diags);
}

/// One NodePort written somewhere in the description.
#[derive(Debug)]
struct NodePortUse {
    /// The port number as written.
    number: i128,
    /// Where it was written.
    span: Span,
    /// What opens it, e.g. "app `web`".
    owner: String,
    /// The cluster it is opened in: `None` when that cannot be told (several
    /// clusters, none named), `Some("")` when the description has no cluster.
    cluster: Option<String>,
}

/// Every NodePort of the description, in model order: app services, registry
/// deployments, `node-port` parameters of components and `nodePort` keys of
/// chart and component values.
fn node_ports(model: &Model) -> Vec<NodePortUse> {
    let mut out = Vec::new();
    let mut push = |number: i128, span: Span, owner: String, cluster: Option<String>| {
        out.push(NodePortUse { number, span, owner, cluster });
    };
    let shared = cluster_key(model, None);
    for app in &model.apps {
        let cluster = cluster_key(model, app.cluster.as_ref());
        let exposes = app.service.iter().flat_map(|s| &s.exposes);
        for np in exposes.filter_map(|e| e.node_port.as_ref()) {
            push(i128::from(np.value), np.span, format!("app `{}`", app.name.value), cluster.clone());
        }
    }
    for registry in &model.registries {
        if let Some(np) = registry.deploy.as_ref().and_then(|d| d.node_port.as_ref()) {
            push(i128::from(np.value), np.span, format!("registry `{}`", registry.name.value), shared.clone());
        }
    }
    for chart in model.charts.iter().filter(|c| c.component.is_none()) {
        for np in chart.values.iter().chain(&chart.file_values).flat_map(Value::node_ports) {
            push(np.number, np.span, format!("chart `{}`", chart.name.value), shared.clone());
        }
    }
    for u in &model.uses {
        for np in u.node_ports() {
            push(np.number, np.span, format!("component `{}`", u.component.value), shared.clone());
        }
    }
    out
}

/// The cluster key of a declaration with an optional `cluster=` (see
/// [`NodePortUse::cluster`]).
fn cluster_key(model: &Model, cluster: Option<&Name>) -> Option<String> {
    match model.cluster_for(cluster) {
        Some(c) => Some(c.name.value.clone()),
        None if model.clusters.is_empty() => Some(String::new()),
        None => None,
    }
}

/// E0401 for one NodePort.
fn out_of_range(u: &NodePortUse) -> Diagnostic {
    Diagnostic::new(Code::E0401, format!("NodePort `{}` is outside 30000-32767", u.number))
        .primary(u.span, "not in the NodePort range")
        .help(format!(
            "pick a NodePort between 30000 and 32767, such as `{}`; to serve on a low port, use an `ingress` or a `LoadBalancer` service",
            suggest_node_port(u.number)
        ))
}

/// A NodePort that resembles `n`: 8080 becomes 30080, 443 becomes 30443.
fn suggest_node_port(n: i128) -> i128 {
    if (0..2768).contains(&n) { 30000 + n } else { 30000 + n.rem_euclid(1000) }
}

/// E0402: equal NodePorts in one cluster, labelled at both uses; the one
/// written first (by file and position) counts as the first use.
fn node_port_conflicts(uses: &[NodePortUse], diags: &mut Vec<Diagnostic>) {
    let mut by_place: Vec<&NodePortUse> = uses.iter().collect();
    by_place.sort_by_key(|u| u.span);
    let mut first: BTreeMap<(&str, i128), &NodePortUse> = BTreeMap::new();
    for u in by_place.into_iter().filter(|u| NODE_PORTS.contains(&u.number)) {
        let Some(cluster) = u.cluster.as_deref() else { continue };
        let Some(earlier) = first.get(&(cluster, u.number)) else {
            first.insert((cluster, u.number), u);
            continue;
        };
        let taken: Vec<i128> =
            uses.iter().filter(|o| o.cluster.as_deref() == Some(cluster)).map(|o| o.number).collect();
        let free = (u.number + 1..=*NODE_PORTS.end()).chain(NODE_PORTS).find(|n| !taken.contains(n));
        let place = if cluster.is_empty() { String::new() } else { format!(" in cluster `{cluster}`") };
        let help = match free {
            Some(free) => format!("give {} another NodePort, such as `{free}`, which is free", u.owner),
            None => "give one of them another NodePort".to_string(),
        };
        diags.push(
            Diagnostic::new(Code::E0402, format!("NodePort `{}` is used twice{place}", u.number))
                .primary(u.span, format!("used again here by {}", u.owner))
                .secondary(earlier.span, format!("first used by {}", earlier.owner))
                .help(help),
        );
    }
}

/// E0403: exposes, ingresses and metrics naming a port no container of the
/// pod declares, and probes naming a port their own container does not.
fn undeclared_ports(app: &App, diags: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = app.pod_ports().map(|p| p.name.value.as_str()).collect();
    let mut refs: Vec<(&Name, &str)> = Vec::new();
    refs.extend(app.service.iter().flat_map(|s| &s.exposes).map(|e| (&e.port, "exposed")));
    refs.extend(app.ingresses.iter().map(|i| (&i.port, "routed to")));
    refs.extend(app.routes.iter().map(|r| (&r.port, "routed to")));
    refs.extend(app.metrics.iter().map(|m| (&m.port, "scraped")));
    for (port, what) in refs {
        // A port whose number was wrong is reported there: one mistake, one diagnostic.
        if names.contains(&port.value.as_str()) || app.containers().any(|c| c.unread_ports.contains(&port.value)) {
            continue;
        }
        diags.push(
            Diagnostic::new(Code::E0403, format!("app `{}` has no port named `{}`", app.name.value, port.value))
                .primary(port.span, format!("{what} here, but not declared"))
                .help(undeclared_help(&port.value, &names)),
        );
    }
    for container in app.containers() {
        let own: Vec<&str> = container.ports.iter().map(|p| p.name.value.as_str()).collect();
        for probe in &container.probes {
            if own.contains(&probe.port.value.as_str()) || container.unread_ports.contains(&probe.port.value) {
                continue;
            }
            let whose = super::container_of(app, container);
            diags.push(
                Diagnostic::new(Code::E0403, format!("{whose} has no port named `{}`", probe.port.value))
                    .primary(probe.port.span, "probed here, but not declared by this container")
                    .help(undeclared_help(&probe.port.value, &own)),
            );
        }
    }
}

/// The help line of E0403: the closest port name, or what to declare.
fn undeclared_help(port: &str, names: &[&str]) -> String {
    if let Some(best) = did_you_mean(port, names.iter().copied()) {
        return format!("did you mean `{best}`?");
    }
    let example = if port.contains("metric") { 9090 } else { 8080 };
    let declare = format!("add `port \"{port}\" {example}` to the app");
    match names {
        [] => format!("the app declares no port: {declare}"),
        [one] => format!("the app declares only `{one}`: use it, or {declare}"),
        _ => {
            let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            format!("the app declares {list}: use one of them, or {declare}")
        }
    }
}

/// E0404: two ports of one pod (any of its containers) with one name, or
/// one number and protocol: the containers share the pod's network.
fn duplicate_ports(app: &App, diags: &mut Vec<Diagnostic>) {
    let mut names: BTreeMap<&str, Span> = BTreeMap::new();
    let mut numbers: BTreeMap<(u16, Protocol), &str> = BTreeMap::new();
    let ports: Vec<&Port> = app.containers().flat_map(|c| &c.ports).collect();
    for port in ports.iter().copied() {
        if let Some(first) = names.get(port.name.value.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::E0404,
                    format!("port `{}` is declared twice in app `{}`", port.name.value, app.name.value),
                )
                .primary(port.name.span, "declared again here")
                .secondary(*first, "first declared here")
                .help("give each port its own name, or remove one of the two lines"),
            );
            continue;
        }
        names.insert(&port.name.value, port.name.span);
        let key = (port.number.value, port.protocol.value);
        if let Some(other) = numbers.get(&key) {
            let first = ports.iter().find(|p| p.name.value == *other).map(|p| p.number.span);
            let mut d = Diagnostic::new(
                Code::E0404,
                format!(
                    "ports `{other}` and `{}` of app `{}` both use {}/{}",
                    port.name.value, app.name.value, key.0, key.1
                ),
            )
            .primary(port.number.span, format!("`{}` uses {} again", port.name.value, key.0))
            .help(format!(
                "refer to `{other}` instead of declaring a second name, or give `{}` its own number",
                port.name.value
            ));
            if let Some(first) = first {
                d = d.secondary(first, format!("`{other}` uses it first"));
            }
            diags.push(d);
            continue;
        }
        numbers.insert(key, &port.name.value);
    }
}

/// E0404: two exposes of one service with the same service port and protocol.
fn duplicate_exposes(app: &App, diags: &mut Vec<Diagnostic>) {
    let Some(service) = &app.service else { return };
    let mut seen: BTreeMap<(u16, Protocol), Span> = BTreeMap::new();
    for expose in &service.exposes {
        let protocol = app.pod_port(&expose.port.value).map_or(Protocol::Tcp, |p| p.protocol.value);
        let key = (expose.number.value, protocol);
        if let Some(first) = seen.get(&key) {
            diags.push(
                Diagnostic::new(
                    Code::E0404,
                    format!("service port {}/{} is exposed twice in app `{}`", key.0, key.1, app.name.value),
                )
                .primary(expose.number.span, "exposed again here")
                .secondary(*first, "first exposed here")
                .help("give each `expose` its own service port number"),
            );
            continue;
        }
        seen.insert(key, expose.number.span);
    }
}

/// E0405: one host and path routed twice, by ingresses and routes, across
/// every app.
fn duplicate_routes(model: &Model, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(String, String), (&str, Span, &str)> = BTreeMap::new();
    for app in &model.apps {
        for routed in model.app_hosts(app) {
            let ingress = routed.written;
            let host = routed.host;
            let path = normalize_path(routed.path);
            let key = (host.clone(), path.clone());
            if let Some((owner, first, first_host)) = seen.get(&key) {
                let what = if routed.route { "route" } else { "ingress route" };
                let mut d = Diagnostic::new(Code::E0405, format!("{what} `{host}{path}` is used twice"))
                    .primary(ingress.span, format!("routed again here to `{}`", app.name.value))
                    .secondary(*first, format!("first routed to `{owner}`"))
                    .help("give one of the apps its own host, or a different path on this host");
                if let Some(short) = [*first_host, ingress.value.as_str()].into_iter().find(|h| *h != host) {
                    d = d.note(format!("`{short}` is completed with the homelab domain to `{host}`."));
                }
                diags.push(d);
                continue;
            }
            seen.insert(key, (&app.name.value, ingress.span, &ingress.value));
        }
    }
}

/// A path prefix with its trailing `/` removed, as ingress controllers match it.
fn normalize_path(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::MemHost;

    /// The codes of this module emitted for a description.
    fn codes(text: &str) -> Vec<String> {
        let checked = driver::check(&MemHost::with([("homelab.kdl", text.to_string())]), "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E04")).collect()
    }

    const APP: &str = r#"image "me/web" tag="1.0.0"
        resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi""#;

    #[test]
    fn suggests_similar_node_ports() {
        assert_eq!(suggest_node_port(8080), 30080);
        assert_eq!(suggest_node_port(443), 30443);
        assert!(NODE_PORTS.contains(&suggest_node_port(65535)));
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize_path("/api/"), "/api");
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn short_and_full_hosts_are_one_route() {
        let text = format!(
            r#"homelab "lab" {{ domain "lab.example.com" }}
            app "a" {{ {APP}
                port "http" 8080
                ingress host="web" port="http" }}
            app "b" {{ {APP}
                port "http" 8080
                ingress host="web.lab.example.com" path="/" port="http" }}"#
        );
        assert_eq!(codes(&text), ["E0405"]);
    }

    #[test]
    fn hosts_without_domain_are_fine() {
        let text = format!(
            r#"homelab "lab"
            app "a" {{ {APP}
                port "http" 8080
                ingress host="web" port="http" }}"#
        );
        assert!(codes(&text).is_empty());
    }

    #[test]
    fn same_number_on_two_protocols_is_fine() {
        let text = format!(
            r#"homelab "lab"
            app "dns" {{ {APP}
                port "dns" 53 protocol="UDP"
                port "dns-tcp" 53 protocol="TCP"
                service {{ expose "dns" 53; expose "dns-tcp" 53 }} }}"#
        );
        assert!(codes(&text).is_empty());
    }

    #[test]
    fn node_ports_are_per_cluster() {
        let text = format!(
            r#"homelab "lab"
            cluster "a" distribution="k3s"
            cluster "b" distribution="k3s"
            app "x" cluster="a" {{ {APP}
                port "http" 8080
                service type="NodePort" {{ expose "http" 80 node-port=30080 }} }}
            app "y" cluster="b" {{ {APP}
                port "http" 8080
                service type="NodePort" {{ expose "http" 80 node-port=30080 }} }}
            app "z" cluster="b" {{ {APP}
                port "http" 8080
                service type="NodePort" {{ expose "http" 80 node-port=30080 }} }}"#
        );
        assert_eq!(codes(&text), ["E0402"]);
    }

    #[test]
    fn duplicate_port_names_are_reported() {
        let text = format!(
            r#"homelab "lab"
            app "a" {{ {APP}
                port "http" 8080
                port "http" 8081 }}"#
        );
        assert_eq!(codes(&text), ["E0404"]);
    }

    #[test]
    fn component_node_ports_conflict_with_apps() {
        let text = format!(
            r#"homelab "lab"
            use "argocd" {{ node-port 30670 }}
            app "a" {{ {APP}
                port "http" 8080
                service type="NodePort" {{ expose "http" 80 node-port=30670 }} }}"#
        );
        assert_eq!(codes(&text), ["E0402"]);
    }
}
