//! `## Reachable from outside`: every address a person or another machine
//! can reach the homelab at — the Kubernetes API, ingress and route URLs,
//! NodePorts and LoadBalancer services of apps, deployed registries, charts
//! and components, the CI servers' Ingresses and Tekton's webhook receivers.
//!
//! NodePorts of charts and components are found by the rule the ports check
//! (E0401/E0402) applies too: `Use::node_ports` and `Value::node_ports`.

use std::collections::BTreeSet;

use super::table::{Table, code};
use super::{cluster_nodes, heading, host_port, on_nodes, values};
use crate::model::{
    API_PORT, App, Cluster, Distribution, Engine, Expose, IngressController, LoadBalancer, Model, Name, ServiceType,
    Use, Value,
};

/// One reachable address.
struct Row {
    what: String,
    namespace: String,
    kind: String,
    address: String,
    port: String,
}

/// Appends the section, with notes on how ingress hosts and kind NodePorts
/// are reached; nothing when nothing is reachable.
pub fn section(model: &Model, out: &mut String) {
    let mut rows = api_servers(model);
    for app in &model.apps {
        rows.extend(ingresses(model, app));
        rows.extend(routes(model, app));
        rows.extend(app_services(model, app));
    }
    rows.extend(registries(model));
    rows.extend(charts(model));
    rows.extend(chart_load_balancers(model));
    rows.extend(model.uses.iter().flat_map(|u| component(model, u)));
    rows.extend(ci_servers(model));
    rows.extend(webhook_receivers(model));
    if rows.is_empty() {
        return;
    }
    heading(out, "Reachable from outside");
    let node_ports = rows.iter().any(|r| r.kind == "NodePort");
    let mut table = Table::new(&["What", "Namespace", "Kind", "Address", "Port"]);
    for r in rows {
        table.row(vec![r.what, r.namespace, r.kind, r.address, r.port]);
    }
    table.render(out);
    for note in model.clusters.iter().filter_map(|c| ingress_note(model, c)) {
        out.push_str(&format!("{note}\n\n"));
    }
    let kind = model.clusters.iter().any(|c| c.distribution.value == Distribution::Kind);
    if kind && node_ports {
        out.push_str(
            "On kind, NodePorts listen on the node containers (on the docker network `kind`), \
             not on the host.\n\n",
        );
    }
}

/// The API server of each k3s cluster, on its first server with an address,
/// and of each Talos cluster, at its endpoint (the VIP by default); kind's
/// is on the machine running kind.
fn api_servers(model: &Model) -> Vec<Row> {
    model
        .clusters
        .iter()
        .filter_map(|c| {
            let address = match c.distribution.value {
                Distribution::K3s => {
                    let servers =
                        cluster_nodes(model, Some(&c.name)).into_iter().filter(|n| n.role.value.runs_control_plane());
                    let ip = servers.filter_map(|n| n.address.as_ref()).next()?.ip.value;
                    host_port(ip, API_PORT)
                }
                Distribution::Talos => c.api_endpoint()?.value.with_port(API_PORT),
                Distribution::Kind => return None,
            };
            Some(Row {
                what: format!("Kubernetes API of {}", code(&c.name.value)),
                namespace: String::new(),
                kind: "API server".into(),
                address: format!("https://{address}"),
                port: API_PORT.to_string(),
            })
        })
        .collect()
}

/// An app's ingress URLs, with the host completed by the homelab domain.
fn ingresses(model: &Model, app: &App) -> Vec<Row> {
    app.ingresses
        .iter()
        .map(|i| {
            let (scheme, port) = if i.tls.value { ("https", "443") } else { ("http", "80") };
            let path = if i.path.value.starts_with('/') { i.path.value.clone() } else { format!("/{}", i.path.value) };
            let class = model.ingress_class(app, i);
            Row {
                what: format!("app {} → port {}", code(&app.name.value), code(&i.port.value)),
                namespace: code(&app.namespace.value),
                kind: class.map_or_else(|| "Ingress".to_string(), |c| format!("Ingress ({c})")),
                address: format!("{scheme}://{}{path}", model.ingress_host(&i.host.value)),
                port: port.into(),
            }
        })
        .collect()
}

/// An app's route URLs: https on the TLS listener covering the host, else
/// http, with the gateway that serves them.
fn routes(model: &Model, app: &App) -> Vec<Row> {
    app.routes
        .iter()
        .filter_map(|r| {
            let gateway = model.route_gateway(app, r)?;
            let host = model.ingress_host(&r.host.value);
            let listener = Model::route_listeners(gateway, &host).into_iter().next()?;
            let scheme = if listener.is_tls() { "https" } else { "http" };
            let port = listener.port.value;
            let shown = if (scheme, port) == ("https", 443) || (scheme, port) == ("http", 80) {
                String::new()
            } else {
                format!(":{port}")
            };
            Some(Row {
                what: format!("app {} → port {}", code(&app.name.value), code(&r.port.value)),
                namespace: code(&app.namespace.value),
                kind: format!("HTTPRoute (gateway {})", code(&gateway.name.value)),
                address: format!("{scheme}://{host}{shown}{}", r.path.value),
                port: port.to_string(),
            })
        })
        .collect()
}

/// An app's NodePorts and LoadBalancer ports (ClusterIP services stay inside).
fn app_services(model: &Model, app: &App) -> Vec<Row> {
    let Some(service) = &app.service else { return Vec::new() };
    let mut rows = Vec::new();
    for e in &service.exposes {
        let what = format!("app {} → port {}", code(&app.name.value), code(&e.port.value));
        let row = |kind: &str, address: String, port: String| Row {
            what: what.clone(),
            namespace: code(&app.namespace.value),
            kind: kind.into(),
            address,
            port,
        };
        if service.kind.value == ServiceType::LoadBalancer {
            rows.push(row("LoadBalancer", load_balancer(model, app, e), e.number.value.to_string()));
        }
        if service.kind.value == ServiceType::NodePort || e.node_port.is_some() {
            let (address, port) = match &e.node_port {
                Some(np) => {
                    (node_port(model, app.cluster.as_ref(), np.value, scheme(&e.port.value)), np.value.to_string())
                }
                None => ("any node, on the NodePort Kubernetes assigns".to_string(), "assigned".to_string()),
            };
            rows.push(row("NodePort", address, port));
        }
    }
    rows
}

/// `http://` for ports named like HTTP, nothing for the others.
fn scheme(port_name: &str) -> &'static str {
    match port_name {
        "https" => "https://",
        name if name.starts_with("http") => "http://",
        _ => "",
    }
}

/// A port's address on the nodes, with a scheme when it is known.
fn node_port(model: &Model, cluster: Option<&Name>, port: u16, scheme: &str) -> String {
    match on_nodes(model, cluster, port) {
        Some((address, note)) => format!("{scheme}{address}{note}"),
        None => format!("port {port} of any node"),
    }
}

/// Where a LoadBalancer service gets its address: its pool, servicelb's
/// node ports, or nowhere.
fn load_balancer(model: &Model, app: &App, expose: &Expose) -> String {
    if let Some(ip) = app.service.as_ref().and_then(|s| s.address.as_ref()) {
        let from =
            app.service.as_ref().and_then(|s| s.pool.as_ref()).map(|p| format!(", from pool {}", code(&p.value)));
        return format!(
            "{}{}{}",
            scheme(&expose.port.value),
            host_port(ip.value, expose.number.value),
            from.unwrap_or_default()
        );
    }
    if let Some(pool) = app.service.as_ref().and_then(|s| s.pool.as_ref()) {
        return pool_address(model, &pool.value);
    }
    match model.cluster_for(app.cluster.as_ref()).map(|c| c.load_balancer.value) {
        Some(LoadBalancer::Metallb) => match model.pools.as_slice() {
            [only] => pool_address(model, &only.name.value),
            _ => "an address from a MetalLB pool".to_string(),
        },
        Some(LoadBalancer::Servicelb) => {
            let address = node_port(model, app.cluster.as_ref(), expose.number.value, scheme(&expose.port.value));
            format!("{address}, by servicelb")
        }
        _ => "none: the cluster has no load balancer".to_string(),
    }
}

/// Deployed registries' NodePorts.
fn registries(model: &Model) -> Vec<Row> {
    let deployed = model.registries.iter().filter_map(|r| Some((r, r.deploy.as_ref()?)));
    deployed
        .filter_map(|(r, d)| {
            let np = d.node_port.as_ref()?.value;
            Some(Row {
                what: format!("registry {}", code(&r.name.value)),
                namespace: code(&d.namespace.value),
                kind: "NodePort".into(),
                address: node_port(model, None, np, ""),
                port: np.to_string(),
            })
        })
        .collect()
}

/// The description's own charts: `nodePort` keys in their values.
fn charts(model: &Model) -> Vec<Row> {
    let own = model.charts.iter().filter(|c| c.component.is_none());
    own.flat_map(|c| {
        let owner = format!("chart {}", code(&c.name.value));
        let found = c.values.iter().flat_map(Value::node_ports);
        found.filter_map(move |np| {
            let port = u16::try_from(np.number).ok()?;
            Some(node_port_row(model, &owner, &c.namespace.value, &np.path, port, ""))
        })
    })
    .collect()
}

/// Every chart's Services of `type: LoadBalancer` set in its values, with
/// the pool their annotation names.
fn chart_load_balancers(model: &Model) -> Vec<Row> {
    let found = model.charts.iter().flat_map(|c| {
        let lbs = c.values.as_ref().map(values::load_balancers).unwrap_or_default();
        lbs.into_iter().map(move |(path, pool)| (c, path, pool))
    });
    found
        .map(|(c, path, pool)| Row {
            what: format!("chart {} ({})", code(&c.name.value), code(&path)),
            namespace: code(&c.namespace.value),
            kind: "LoadBalancer".into(),
            address: match pool {
                Some(pool) => pool_address(model, &pool),
                None => "an address from the cluster's load balancer".to_string(),
            },
            port: String::new(),
        })
        .collect()
}

/// An address taken from a MetalLB pool, with the pool's range.
fn pool_address(model: &Model, pool: &str) -> String {
    let range = model.pools.iter().find(|p| p.name.value == pool).map(|p| format!(" ({})", p.range.value));
    format!("an address from pool {}{}", code(pool), range.unwrap_or_default())
}

/// A component's NodePorts: its `…node-port` parameters, then `nodePort`
/// keys of the values its `use` gives.
fn component(model: &Model, u: &Use) -> Vec<Row> {
    let name = &u.component.value;
    let namespace = model
        .charts
        .iter()
        .find(|c| c.component.as_deref() == Some(name))
        .map(|c| c.namespace.value.clone())
        .or_else(|| {
            model.namespaces.iter().find(|n| n.component.as_deref() == Some(name)).map(|n| n.name.value.clone())
        })
        .unwrap_or_default();
    let owner = format!("component {}", code(name));
    u.node_ports()
        .into_iter()
        .filter_map(|np| {
            let port = u16::try_from(np.number).ok()?;
            // The stdlib's NodePort parameters open web UIs, but for SSH;
            // what a port set in values serves is not known.
            let web = u.params.contains_key(&np.path) && !np.path.contains("ssh");
            Some(node_port_row(model, &owner, &namespace, &np.path, port, if web { "http://" } else { "" }))
        })
        .collect()
}

/// The Drone and Woodpecker servers' Ingresses: the `server-host` their
/// chart serves with the `ingress-class` the compiler gives them.
fn ci_servers(model: &Model) -> Vec<Row> {
    let servers = model.components.iter().filter(|c| matches!(c.name.as_str(), "drone" | "woodpecker"));
    servers
        .filter_map(|c| {
            let host = c.param_text("server-host")?;
            let class = c.param_text("ingress-class")?;
            let proto = c.param_text("server-proto").unwrap_or_else(|| "http".into());
            Some(Row {
                what: format!("component {} ({})", code(&c.name), code("server-host")),
                namespace: code(&c.name),
                kind: format!("Ingress ({class})"),
                address: format!("{proto}://{host}/"),
                port: if proto == "https" { "443" } else { "80" }.into(),
            })
        })
        .collect()
}

/// The webhook receivers of Tekton pipelines: `<pipeline>-hooks`, routed to
/// the pipeline's EventListener by the cluster's ingress controller.
fn webhook_receivers(model: &Model) -> Vec<Row> {
    let tekton = model.pipelines.iter().filter(|p| p.engine.value == Engine::Tekton && p.webhooks().next().is_some());
    tekton
        .filter_map(|p| {
            let class = Model::controller_class(model.cluster_for(p.cluster.as_ref())?)?;
            Some(Row {
                what: format!("pipeline {} webhooks", code(&p.name.value)),
                namespace: code(p.namespace().unwrap_or_default()),
                kind: format!("Ingress ({class})"),
                address: format!("http://{}/", model.hooks_host(p)),
                port: "80".into(),
            })
        })
        .collect()
}

/// The row of a NodePort of a chart or component, found at `path` (a
/// parameter or a dotted path in its values).
fn node_port_row(model: &Model, owner: &str, namespace: &str, path: &str, port: u16, scheme: &str) -> Row {
    Row {
        what: format!("{owner} ({})", code(path)),
        namespace: code(namespace),
        kind: "NodePort".into(),
        address: node_port(model, None, port, scheme),
        port: port.to_string(),
    }
}

/// How a cluster's ingress hosts are reached, when it has ingresses.
fn ingress_note(model: &Model, cluster: &Cluster) -> Option<String> {
    let apps = model
        .apps
        .iter()
        .filter(|a| model.cluster_for(a.cluster.as_ref()).is_some_and(|c| c.name.value == cluster.name.value));
    let classes: BTreeSet<&str> =
        apps.flat_map(|a| &a.ingresses).map(|i| i.class.as_ref().map_or("", |c| c.value.as_str())).collect();
    if classes.is_empty() {
        return None;
    }
    let name = code(&cluster.name.value);
    let controller = match cluster.ingress.value {
        IngressController::Traefik => "traefik",
        IngressController::Nginx => "ingress-nginx",
        IngressController::EnvoyGateway | IngressController::None => {
            let named: Vec<String> = classes.iter().filter(|c| !c.is_empty()).map(|c| code(c)).collect();
            let which = match named.as_slice() {
                [] => "its ingresses".to_string(),
                _ => format!("ingresses of class {}", named.join(", ")),
            };
            return Some(format!(
                "Cluster {name} {} {which} are served by the controller the \
                 description installs for them, and their hosts must resolve to its address.",
                match cluster.ingress.value {
                    IngressController::EnvoyGateway => "serves Gateway API routes, not Ingresses:",
                    _ => "installs no ingress controller:",
                }
            ));
        }
    };
    Some(format!("Ingress hosts of cluster {name} are served by {controller}; {}.", ingress_front(model, cluster)))
}

/// What stands in front of a cluster's ingress controller, and where hosts
/// must resolve to.
fn ingress_front(model: &Model, cluster: &Cluster) -> String {
    match (cluster.distribution.value, cluster.load_balancer.value) {
        (Distribution::Kind, _) => {
            let node = cluster_nodes(model, Some(&cluster.name))
                .into_iter()
                .find(|n| n.role.value.runs_control_plane())
                .map_or_else(|| format!("{}-control-plane", cluster.name.value), |n| n.name.value.clone());
            format!(
                "kind maps ports 80 and 443 of the machine running kind to node {}, so the hosts must resolve \
                 to that machine (127.0.0.1 on the machine itself)",
                code(&node)
            )
        }
        (_, LoadBalancer::Servicelb) => {
            let address = on_nodes(model, Some(&cluster.name), 80).map(|(address, _)| address).unwrap_or_default();
            let ip = address.rsplit_once(':').map_or("any of them", |(host, _)| host);
            format!(
                "servicelb opens ports 80 and 443 on every node, so the hosts must resolve to a node address, such as {ip}"
            )
        }
        (_, LoadBalancer::Metallb) => {
            "its Service takes an address from a MetalLB pool, and the hosts must resolve to that address".to_string()
        }
        (_, LoadBalancer::None) => "its Service gets no external address: the cluster has no load balancer".to_string(),
    }
}
