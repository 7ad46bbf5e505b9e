//! NetworkPolicies (SPEC §5): per namespace a default deny and DNS egress;
//! per app the allows the graph implies — the ingress controller to the
//! routed ports, the Envoy proxies of its routes' gateways and the
//! cloudflared of the tunnel exposing it to the routed ports, Prometheus to
//! the metrics port, the world to NodePort and
//! LoadBalancer ports, and each `depends-on` edge in both directions; and
//! the ingress controller to cert-manager's HTTP-01 solver pods where TLS
//! ingresses are proven over HTTP; per tunnel, cloudflared to the apps it
//! exposes and to Cloudflare's edge.

use std::collections::BTreeMap;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Artifacts, Object, Origin, managed_labels};
use crate::layout::{Folder, Unit};
use crate::model::{
    AcmeSolver, App, CLOUDFLARED_NAMESPACE, Cluster, Distribution, ENVOY_GATEWAY_NAMESPACE, Egress, EgressTarget,
    IngressController, Issuer, Model, ServiceType, Tunnel, Word,
};

/// The namespace Prometheus (kube-prometheus-stack) runs in.
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// The port cert-manager's HTTP-01 solver pods listen on.
pub const HTTP01_SOLVER_PORT: i32 = 8089;

/// Emits the policies of every namespace holding apps, and of every app.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for ns in model.workload_namespaces().into_iter().filter(|ns| model.namespace_owner(ns).is_none()) {
        let scope = model.cluster_key(None);
        let origin = Origin::of(model.namespace_id(scope, ns));
        let unit = Unit::namespace_home(model, scope, ns);
        out.object(&origin, &unit, default_deny(ns));
        out.object(&origin, &unit, allow_dns(ns));
        if let Some((issuer, controller)) = http01_solved(model, ns) {
            out.object(&origin.clone().and(issuer.id(model)), &unit, allow_http01_solver(ns, controller));
        }
    }
    let index = Index::new(model);
    let policies = crate::par::map(&model.apps, |app| {
        Object::new(Origin::of(app.id(model)), Unit::app(model, app), app_policy(model, &index, app)).rendered()
    });
    out.objects.extend(policies);
    let unit = Unit::new(model.cluster_key(None), Folder::Component(super::tunnel::COMPONENT.into()));
    for tunnel in &model.tunnels {
        out.object(&Origin::of(tunnel.id(model)), &unit, tunnel_policy(model, tunnel));
    }
}

/// The policy of a tunnel's cloudflared pods: nothing comes in (its probes
/// are the kubelet's), and they reach the exposed apps' routed ports and
/// Cloudflare's edge on the internet.
fn tunnel_policy(model: &Model, tunnel: &Tunnel) -> NetworkPolicy {
    let mut egress: Vec<NetworkPolicyEgressRule> = model
        .exposed_apps(tunnel)
        .into_iter()
        .map(|app| NetworkPolicyEgressRule {
            to: Some(vec![pods_of(app)]),
            ports: Some(ports(app, model.app_hosts(app).iter().map(|h| h.port.value.as_str()))),
        })
        .collect();
    let edge = super::tunnel::EDGE_PORTS.iter().map(|(port, protocol)| NetworkPolicyPort {
        port: Some(IntOrString::Int(i32::from(*port))),
        protocol: Some((*protocol).into()),
        ..NetworkPolicyPort::default()
    });
    let cluster = model.cluster_for(tunnel.cluster.as_ref());
    egress.push(NetworkPolicyEgressRule { to: Some(internet(model, cluster)), ports: Some(edge.collect()) });
    let selector = super::tunnel::selector(tunnel);
    NetworkPolicy {
        metadata: meta(&super::tunnel::object_name(tunnel), CLOUDFLARED_NAMESPACE),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(selector), ..LabelSelector::default() }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: Some(egress),
        }),
    }
}

/// Every address outside the cluster's pod and service CIDRs and the
/// declared networks, IPv4 and IPv6 alike: the internet.
fn internet(model: &Model, cluster: Option<&crate::model::Cluster>) -> Vec<NetworkPolicyPeer> {
    let inside: Vec<IpNet> = (cluster.iter().flat_map(|c| [c.pod_cidr.value, c.service_cidr.value]))
        .chain(model.networks.iter().map(|n| n.cidr.value))
        .collect();
    let except = |v4: bool| {
        let mut nets: Vec<String> =
            inside.iter().filter(|n| matches!(n, IpNet::V4(_)) == v4).map(IpNet::to_string).collect();
        nets.sort();
        nets.dedup();
        nets
    };
    vec![block("0.0.0.0/0".into(), except(true)), block("::/0".into(), except(false))]
}

/// A peer of an IP block, with the blocks it leaves out.
fn block(cidr: String, except: Vec<String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr, except: (!except.is_empty()).then_some(except) }),
        ..NetworkPolicyPeer::default()
    }
}

/// Apps by name and by the names they depend on, built once so that policies
/// cost linear time in the number of apps.
struct Index<'m> {
    by_name: BTreeMap<&'m str, &'m App>,
    dependents: BTreeMap<&'m str, Vec<&'m App>>,
}

impl<'m> Index<'m> {
    fn new(model: &'m Model) -> Index<'m> {
        let mut by_name = BTreeMap::new();
        let mut dependents: BTreeMap<&str, Vec<&App>> = BTreeMap::new();
        for app in &model.apps {
            by_name.entry(app.name.value.as_str()).or_insert(app);
            for d in &app.depends_on {
                dependents.entry(d.value.as_str()).or_default().push(app);
            }
        }
        Index { by_name, dependents }
    }
}

/// Metadata of a policy.
pub fn meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        labels: Some(managed_labels()),
        ..ObjectMeta::default()
    }
}

/// Pods (or namespaces) carrying the label `key` with `value`.
fn labels(key: &str, value: &str) -> LabelSelector {
    LabelSelector { match_labels: Some(super::one_label(key, value)), ..LabelSelector::default() }
}

fn in_namespace(namespace: &str) -> LabelSelector {
    labels("kubernetes.io/metadata.name", namespace)
}

/// The pods homelabc writes (its apps, registries and pipelines carry the
/// managed-by label): the namespace-wide policies select only them, so charts
/// placed in the namespace keep the traffic their own policies allow.
fn homelabc_pods() -> LabelSelector {
    labels("app.kubernetes.io/managed-by", "homelabc")
}

pub fn default_deny(namespace: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: meta("default-deny", namespace),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(homelabc_pods()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..NetworkPolicySpec::default()
        }),
    }
}

pub fn allow_dns(namespace: &str) -> NetworkPolicy {
    let ports = ["UDP", "TCP"]
        .map(|p| NetworkPolicyPort { port: Some(IntOrString::Int(53)), protocol: Some(p.into()), ..Default::default() })
        .to_vec();
    let peer = NetworkPolicyPeer {
        namespace_selector: Some(in_namespace("kube-system")),
        pod_selector: Some(labels("k8s-app", "kube-dns")),
        ..NetworkPolicyPeer::default()
    };
    NetworkPolicy {
        metadata: meta("allow-dns", namespace),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(homelabc_pods()),
            policy_types: Some(vec!["Egress".into()]),
            egress: Some(vec![NetworkPolicyEgressRule { to: Some(vec![peer]), ports: Some(ports) }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

/// The named container ports of an app, as policy ports.
fn ports<'a>(app: &App, names: impl IntoIterator<Item = &'a str>) -> Vec<NetworkPolicyPort> {
    let mut pairs: Vec<(u16, &'static str)> = names
        .into_iter()
        .filter_map(|n| app.pod_port(n))
        .map(|p| (p.number.value, p.protocol.value.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(port, protocol)| NetworkPolicyPort {
            port: Some(IntOrString::Int(i32::from(port))),
            protocol: Some(protocol.into()),
            ..NetworkPolicyPort::default()
        })
        .collect()
}

fn all_ports(app: &App) -> Vec<NetworkPolicyPort> {
    ports(app, app.pod_ports().map(|p| p.name.value.as_str()))
}

fn pods_of(app: &App) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(in_namespace(&app.namespace.value)),
        pod_selector: Some(labels("app.kubernetes.io/name", &app.name.value)),
        ..NetworkPolicyPeer::default()
    }
}

/// The namespace the cluster's ingress controller runs in, when there is one.
fn ingress_namespace(model: &Model, app: &App) -> Option<&'static str> {
    controller_namespace(model.cluster_for(app.cluster.as_ref())?)
}

/// The namespace a cluster's own ingress controller runs in, when it has one.
pub fn controller_namespace(cluster: &Cluster) -> Option<&'static str> {
    match (cluster.ingress.value, cluster.distribution.value) {
        (IngressController::Traefik, Distribution::K3s) => Some("kube-system"),
        (IngressController::Traefik, Distribution::Kind) => Some("traefik"),
        // Refused by the checks (E1308): Talos has no traefik to run.
        (IngressController::Traefik, Distribution::Talos) => None,
        (IngressController::Nginx, _) => Some("ingress-nginx"),
        (IngressController::EnvoyGateway | IngressController::None, _) => None,
    }
}

/// The HTTP-01 issuer of a namespace's TLS ingresses, and the namespace of
/// the ingress controller that routes its challenges, when cert-manager will
/// run a solver pod in it.
fn http01_solved<'m>(model: &'m Model, namespace: &str) -> Option<(&'m Issuer, &'static str)> {
    model.apps_in(namespace).iter().find_map(|app| {
        app.ingresses.iter().find(|i| i.tls.value)?;
        let issuer = model.tls_issuer_of(app)?;
        let http01 = issuer.solver.as_ref().is_some_and(|s| s.value == AcmeSolver::Http01);
        http01.then_some((issuer, ingress_namespace(model, app)?))
    })
}

/// Lets the ingress controller reach cert-manager's HTTP-01 solver pods,
/// which cert-manager starts in the namespace of the certificate (port 8089),
/// through the namespace's default deny.
fn allow_http01_solver(namespace: &str, controller: &str) -> NetworkPolicy {
    let peer = NetworkPolicyPeer { namespace_selector: Some(in_namespace(controller)), ..NetworkPolicyPeer::default() };
    let port = NetworkPolicyPort {
        port: Some(IntOrString::Int(HTTP01_SOLVER_PORT)),
        protocol: Some("TCP".into()),
        ..NetworkPolicyPort::default()
    };
    NetworkPolicy {
        metadata: meta("allow-acme-http01", namespace),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(labels("acme.cert-manager.io/http01-solver", "true")),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule { from: Some(vec![peer]), ports: Some(vec![port]) }]),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn ingress_rules(model: &Model, index: &Index<'_>, app: &App) -> Vec<NetworkPolicyIngressRule> {
    let mut rules = Vec::new();
    if !app.ingresses.is_empty() {
        let peer = match ingress_namespace(model, app) {
            Some(ns) => {
                NetworkPolicyPeer { namespace_selector: Some(in_namespace(ns)), ..NetworkPolicyPeer::default() }
            }
            // An out-of-tree controller (`class=`): any namespace may route in.
            None => {
                NetworkPolicyPeer { namespace_selector: Some(LabelSelector::default()), ..NetworkPolicyPeer::default() }
            }
        };
        let routed = ports(app, app.ingresses.iter().map(|i| i.port.value.as_str()));
        rules.push(NetworkPolicyIngressRule { from: Some(vec![peer]), ports: Some(routed) });
    }
    rules.extend(gateway_rules(model, app));
    if let Some(tunnel) = model.tunnel_of(app) {
        let peer = NetworkPolicyPeer {
            namespace_selector: Some(in_namespace(CLOUDFLARED_NAMESPACE)),
            pod_selector: Some(LabelSelector {
                match_labels: Some(super::tunnel::selector(tunnel)),
                ..LabelSelector::default()
            }),
            ..NetworkPolicyPeer::default()
        };
        let forwarded = ports(app, model.app_hosts(app).iter().map(|h| h.port.value.as_str()));
        rules.push(NetworkPolicyIngressRule { from: Some(vec![peer]), ports: Some(forwarded) });
    }
    if let Some(metrics) = &app.metrics {
        let peer = NetworkPolicyPeer {
            namespace_selector: Some(in_namespace(MONITORING_NAMESPACE)),
            ..NetworkPolicyPeer::default()
        };
        rules.push(NetworkPolicyIngressRule {
            from: Some(vec![peer]),
            ports: Some(ports(app, [metrics.port.value.as_str()])),
        });
    }
    if let Some(service) = app.service.as_ref().filter(|s| s.kind.value != ServiceType::ClusterIp) {
        // Traffic from outside the cluster: no `from` means every source.
        let exposed = ports(app, service.exposes.iter().map(|e| e.port.value.as_str()));
        rules.push(NetworkPolicyIngressRule { from: None, ports: Some(exposed) });
    }
    let dependents: Vec<NetworkPolicyPeer> =
        index.dependents.get(app.name.value.as_str()).into_iter().flatten().map(|a| pods_of(a)).collect();
    if !dependents.is_empty() {
        rules.push(NetworkPolicyIngressRule { from: Some(dependents), ports: Some(all_ports(app)) });
    }
    rules
}

/// The Envoy proxies of each gateway an app's routes attach to, to the
/// routed ports: one rule per gateway, in the order of the gateways' names.
fn gateway_rules(model: &Model, app: &App) -> Vec<NetworkPolicyIngressRule> {
    let mut by_gateway: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for route in &app.routes {
        if let Some(gateway) = model.route_gateway(app, route) {
            by_gateway.entry(&gateway.name.value).or_default().push(&route.port.value);
        }
    }
    by_gateway
        .into_iter()
        .map(|(gateway, routed)| {
            let peer = NetworkPolicyPeer {
                namespace_selector: Some(in_namespace(ENVOY_GATEWAY_NAMESPACE)),
                pod_selector: Some(LabelSelector {
                    match_labels: Some(super::gateway::proxy_labels(gateway)),
                    ..LabelSelector::default()
                }),
                ..NetworkPolicyPeer::default()
            };
            NetworkPolicyIngressRule { from: Some(vec![peer]), ports: Some(ports(app, routed)) }
        })
        .collect()
}

fn egress_rules(model: &Model, index: &Index<'_>, app: &App) -> Vec<NetworkPolicyEgressRule> {
    let mut rules: Vec<NetworkPolicyEgressRule> =
        app.egress.iter().filter_map(|e| declared_egress(model, app, e)).collect();
    for dependency in &app.depends_on {
        if let Some(target) = index.by_name.get(dependency.value.as_str()) {
            rules.push(NetworkPolicyEgressRule { to: Some(vec![pods_of(target)]), ports: Some(all_ports(target)) });
        } else if let Some(chart) = model.charts.iter().find(|c| c.name.value == dependency.value) {
            let peer = NetworkPolicyPeer {
                namespace_selector: Some(in_namespace(&chart.namespace.value)),
                ..NetworkPolicyPeer::default()
            };
            let rule = NetworkPolicyEgressRule { to: Some(vec![peer]), ports: None };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    rules
}

/// An `egress` declaration as a rule: `internet` is every address but the
/// cluster's pod and service CIDRs and the declared networks (IPv4 and IPv6
/// alike), a CIDR is itself, a network its CIDR.
fn declared_egress(model: &Model, app: &App, egress: &Egress) -> Option<NetworkPolicyEgressRule> {
    let peers = match &egress.to.value {
        EgressTarget::Internet => internet(model, model.cluster_for(app.cluster.as_ref())),
        EgressTarget::Cidr(net) => vec![block(net.to_string(), Vec::new())],
        EgressTarget::Network(name) => vec![block(model.network(&name.value)?.cidr.value.to_string(), Vec::new())],
    };
    let ports = egress.port.as_ref().map(|p| {
        vec![NetworkPolicyPort {
            port: Some(IntOrString::Int(i32::from(p.value))),
            protocol: Some(egress.protocol.value.as_str().into()),
            ..NetworkPolicyPort::default()
        }]
    });
    Some(NetworkPolicyEgressRule { to: Some(peers), ports })
}

fn app_policy(model: &Model, index: &Index<'_>, app: &App) -> NetworkPolicy {
    let ingress = ingress_rules(model, index, app);
    let egress = egress_rules(model, index, app);
    NetworkPolicy {
        metadata: meta(&app.name.value, &app.namespace.value),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(labels("app.kubernetes.io/name", &app.name.value)),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::host::MemHost;

    /// The names of the NetworkPolicies of namespace `demo` but the apps'.
    fn namespace_policies(issuer: &str) -> Vec<String> {
        let text = format!(
            "homelab \"lab\"\ncluster \"home\" distribution=\"k3s\"\n{issuer}\n\
             app \"web\" namespace=\"demo\" {{\n image \"me/web\" tag=\"1.0.0\"\n port \"http\" 8080\n \
             ingress host=\"web.example.com\" path=\"/\" port=\"http\" tls=#true\n}}\n"
        );
        let checked = driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let mut out = crate::backend::Artifacts::default();
        super::emit(&checked.model, &mut out);
        (out.objects.iter().filter(|o| o.id.kind == "NetworkPolicy" && o.id.name != "web"))
            .map(|o| o.id.name.clone())
            .collect()
    }

    #[test]
    fn http01_solvers_are_reachable_from_the_ingress_controller() {
        let acme = "issuer \"le\" kind=\"acme\" email=\"a@b.c\" solver=\"http01\"";
        assert_eq!(namespace_policies(acme), ["default-deny", "allow-dns", "allow-acme-http01"]);
        assert_eq!(namespace_policies("issuer \"self\" kind=\"self-signed\""), ["default-deny", "allow-dns"]);
    }
}
