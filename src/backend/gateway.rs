//! Gateway API (gateway.networking.k8s.io/v1) served by Envoy Gateway: the
//! `envoy-gateway` GatewayClass, a Gateway per `gateway` (in Envoy Gateway's
//! namespace, addressed by MetalLB through its infrastructure annotations), a
//! cert-manager Certificate per https listener from the cluster's issuer, an
//! http→https redirect per https listener, all in `configs/envoy-gateway`
//! (after the chart that installs the CRDs); and an HTTPRoute per `route` of
//! an app, in the app's unit, attached to the listeners covering its host.
//!
//! The labels of the Envoy proxies Envoy Gateway starts for a Gateway are
//! here too: the NetworkPolicies that let them reach apps select them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{App, ENVOY_GATEWAY_NAMESPACE, Gateway, Listener, Model, Redirect, Route};

/// The component that installs Envoy Gateway and the Gateway API CRDs.
pub const COMPONENT: &str = "envoy-gateway";
/// The GatewayClass every gateway belongs to.
pub const CLASS: &str = "envoy-gateway";
/// The controller name of Envoy Gateway's default configuration.
pub const CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";
/// The API version of the Gateway API objects written.
pub const API: &str = "gateway.networking.k8s.io/v1";

/// The labels Envoy Gateway puts on the Envoy proxy pods of a Gateway
/// (`EnvoyAppLabel` and the owning-gateway labels of Envoy Gateway v1.9):
/// the pods that reach apps through their routes.
pub fn proxy_labels(gateway: &str) -> BTreeMap<String, String> {
    [
        ("app.kubernetes.io/name", "envoy"),
        ("app.kubernetes.io/component", "proxy"),
        ("app.kubernetes.io/managed-by", "envoy-gateway"),
        ("gateway.envoyproxy.io/owning-gateway-name", gateway),
        ("gateway.envoyproxy.io/owning-gateway-namespace", ENVOY_GATEWAY_NAMESPACE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `GatewayClass`: the class of gateways Envoy Gateway serves.
#[derive(Debug, Serialize)]
struct GatewayClass {
    spec: ClassSpec,
}

impl CustomKind for GatewayClass {
    const API_VERSION: &'static str = API;
    const KIND: &'static str = "GatewayClass";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClassSpec {
    controller_name: &'static str,
}

/// `Gateway`: listeners on an address of the cluster.
#[derive(Debug, Serialize)]
struct GatewayObject {
    spec: GatewaySpec,
}

impl CustomKind for GatewayObject {
    const API_VERSION: &'static str = API;
    const KIND: &'static str = "Gateway";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GatewaySpec {
    gateway_class_name: &'static str,
    /// Annotations Envoy Gateway copies onto the Service of the proxies.
    #[serde(skip_serializing_if = "Option::is_none")]
    infrastructure: Option<Infrastructure>,
    listeners: Vec<ListenerSpec>,
}

#[derive(Debug, Serialize)]
struct Infrastructure {
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListenerSpec {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    port: u16,
    protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<ListenerTls>,
    allowed_routes: AllowedRoutes,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListenerTls {
    mode: &'static str,
    certificate_refs: Vec<SecretRef>,
}

#[derive(Debug, Serialize)]
struct SecretRef {
    kind: &'static str,
    name: String,
}

#[derive(Debug, Serialize)]
struct AllowedRoutes {
    namespaces: RouteNamespaces,
}

#[derive(Debug, Serialize)]
struct RouteNamespaces {
    from: &'static str,
}

/// cert-manager's `Certificate`: the listener's TLS Secret, kept renewed.
#[derive(Debug, Serialize)]
struct Certificate {
    spec: CertificateSpec,
}

impl CustomKind for Certificate {
    const API_VERSION: &'static str = "cert-manager.io/v1";
    const KIND: &'static str = "Certificate";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateSpec {
    secret_name: String,
    dns_names: Vec<String>,
    issuer_ref: IssuerRef,
}

#[derive(Debug, Serialize)]
struct IssuerRef {
    group: &'static str,
    kind: &'static str,
    name: String,
}

/// `HTTPRoute`: hosts and paths of a gateway's listeners sent to a Service.
#[derive(Debug, Serialize)]
struct HttpRoute {
    spec: RouteSpec,
}

impl CustomKind for HttpRoute {
    const API_VERSION: &'static str = API;
    const KIND: &'static str = "HTTPRoute";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteSpec {
    parent_refs: Vec<ParentRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hostnames: Vec<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ParentRef {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'static str>,
    section_name: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    matches: Vec<Match>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    filters: Vec<Filter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    backend_refs: Vec<BackendRef>,
}

#[derive(Debug, Serialize)]
struct Match {
    path: PathMatch,
}

#[derive(Debug, Serialize)]
struct PathMatch {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    #[serde(rename = "type")]
    kind: &'static str,
    request_redirect: RequestRedirect,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestRedirect {
    scheme: &'static str,
    status_code: u16,
}

#[derive(Debug, Serialize)]
struct BackendRef {
    name: String,
    port: u16,
}

/// Emits the GatewayClass and the gateways of the (view's only) cluster, and
/// the HTTPRoutes of its apps.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let gateways: Vec<&Gateway> = model.gateways_of(cluster).collect();
    let Some((first, rest)) = gateways.split_first() else { return };
    let scope = model.cluster_key(None);
    let unit = Unit::new(scope, Folder::Configs(COMPONENT.into()));
    let component = || model.component(COMPONENT).map(|_| model.component_id(scope, COMPONENT));
    let class_origin = rest.iter().fold(Origin::of(first.id(model)), |o, g| o.and(g.id(model)));
    let class_origin = component().into_iter().fold(class_origin, Origin::and);
    let class = GatewayClass { spec: ClassSpec { controller_name: CONTROLLER } };
    out.object(&class_origin, &unit, Custom::new(meta(CLASS, None, managed_labels()), class));
    let issuer = model.tls_issuer(cluster);
    for gateway in &gateways {
        let origin = Origin::of(gateway.id(model));
        let origin = match issuer.filter(|_| gateway.listeners.iter().any(Listener::is_tls)) {
            Some(issuer) => origin.and(issuer.id(model)),
            None => origin,
        };
        out.object(&origin, &unit, gateway_object(gateway));
        for listener in gateway.listeners.iter().filter(|l| l.is_tls()) {
            if let (Some(issuer), Some(hostname)) = (issuer, &listener.hostname) {
                let spec = CertificateSpec {
                    secret_name: tls_secret(gateway, listener),
                    dns_names: vec![hostname.value.clone()],
                    issuer_ref: IssuerRef {
                        group: "cert-manager.io",
                        kind: "ClusterIssuer",
                        name: issuer.name.value.clone(),
                    },
                };
                let metadata = meta(&certificate(gateway, listener), Some(ENVOY_GATEWAY_NAMESPACE), managed_labels());
                out.object(&origin, &unit, Custom::new(metadata, Certificate { spec }));
            }
            if let Some(redirect) = gateway.redirect(listener) {
                out.object(&origin, &unit, redirect_route(gateway, listener, &redirect));
            }
        }
    }
    for app in &model.apps {
        let app_unit = Unit::app(model, app);
        let origin = Origin::of(app.id(model));
        for (i, route) in app.routes.iter().enumerate() {
            if let Some(object) = app_route(model, app, route, i) {
                out.object(&origin, &app_unit, object);
            }
        }
    }
}

/// The name of the Certificate of an https listener.
fn certificate(gateway: &Gateway, listener: &Listener) -> String {
    format!("{}-{}", gateway.name.value, listener.name.value)
}

/// The name of the TLS Secret of an https listener (made by its Certificate).
pub fn tls_secret(gateway: &Gateway, listener: &Listener) -> String {
    format!("{}-tls", certificate(gateway, listener))
}

/// The Gateway object: its declared listeners, then the redirect listeners
/// it adds; its MetalLB pool and fixed address as infrastructure annotations.
fn gateway_object(gateway: &Gateway) -> Custom<GatewayObject> {
    let mut listeners: Vec<ListenerSpec> = gateway
        .listeners
        .iter()
        .map(|l| ListenerSpec {
            name: l.name.value.clone(),
            hostname: l.hostname.as_ref().map(|h| h.value.clone()),
            port: l.port.value,
            protocol: if l.is_tls() { "HTTPS" } else { "HTTP" },
            tls: l.is_tls().then(|| ListenerTls {
                mode: "Terminate",
                certificate_refs: vec![SecretRef { kind: "Secret", name: tls_secret(gateway, l) }],
            }),
            allowed_routes: AllowedRoutes { namespaces: RouteNamespaces { from: "All" } },
        })
        .collect();
    for tls in gateway.listeners.iter().filter(|l| l.is_tls()) {
        if let Some(Redirect::Added(name)) = gateway.redirect(tls) {
            listeners.push(ListenerSpec {
                name,
                hostname: tls.hostname.as_ref().map(|h| h.value.clone()),
                port: 80,
                protocol: "HTTP",
                tls: None,
                // Only the redirect, written next to the Gateway, attaches here.
                allowed_routes: AllowedRoutes { namespaces: RouteNamespaces { from: "Same" } },
            });
        }
    }
    let annotations = super::metallb::address_annotations(gateway.pool.as_ref(), gateway.address.as_ref());
    let spec = GatewaySpec {
        gateway_class_name: CLASS,
        infrastructure: (!annotations.is_empty()).then_some(Infrastructure { annotations }),
        listeners,
    };
    Custom::new(meta(&gateway.name.value, Some(ENVOY_GATEWAY_NAMESPACE), managed_labels()), GatewayObject { spec })
}

/// The HTTPRoute answering the plain-HTTP requests of an https listener's
/// hosts with a permanent redirect to https; external-dns leaves it alone.
fn redirect_route(gateway: &Gateway, tls: &Listener, redirect: &Redirect<'_>) -> Custom<HttpRoute> {
    let section = match redirect {
        Redirect::Declared(listener) => listener.name.value.clone(),
        Redirect::Added(name) => name.clone(),
    };
    let rule = Rule {
        filters: vec![Filter {
            kind: "RequestRedirect",
            request_redirect: RequestRedirect { scheme: "https", status_code: 301 },
        }],
        ..Rule::default()
    };
    let spec = RouteSpec {
        parent_refs: vec![ParentRef { name: gateway.name.value.clone(), namespace: None, section_name: section }],
        hostnames: tls.hostname.iter().map(|h| h.value.clone()).collect(),
        rules: vec![rule],
    };
    let name = format!("{}-redirect", certificate(gateway, tls));
    let mut metadata = meta(&name, Some(ENVOY_GATEWAY_NAMESPACE), managed_labels());
    // Its hostname is the listener's wildcard, not a host: external-dns would
    // publish a wildcard record for it.
    metadata.annotations = Some(super::external_dns_skips("none"));
    Custom::new(metadata, HttpRoute { spec })
}

/// The HTTPRoute of an app's `i`-th route, attached to the listeners of its
/// gateway that cover its host; `None` when there are none (the checks say why).
fn app_route(model: &Model, app: &App, route: &Route, i: usize) -> Option<Custom<HttpRoute>> {
    let gateway = model.route_gateway(app, route)?;
    let host = model.ingress_host(&route.host.value);
    let listeners = Model::route_listeners(gateway, &host);
    if listeners.is_empty() {
        return None;
    }
    let parent_refs = listeners
        .iter()
        .map(|l| ParentRef {
            name: gateway.name.value.clone(),
            namespace: Some(ENVOY_GATEWAY_NAMESPACE),
            section_name: l.name.value.clone(),
        })
        .collect();
    let rule = Rule {
        matches: vec![Match { path: PathMatch { kind: "PathPrefix", value: route.path.value.clone() } }],
        backend_refs: vec![BackendRef { name: app.name.value.clone(), port: app.service_port(&route.port.value)? }],
        ..Rule::default()
    };
    let name = if i == 0 { app.name.value.clone() } else { format!("{}-{i}", app.name.value) };
    let mut labels = managed_labels();
    labels.insert("app.kubernetes.io/name".into(), app.name.value.clone());
    let mut metadata = meta(&name, Some(&app.namespace.value), labels);
    if model.tunnel_record(app, &host).is_some() {
        metadata.annotations = Some(super::tunnel::dns_elsewhere());
    }
    let spec = RouteSpec { parent_refs, hostnames: vec![host], rules: vec![rule] };
    Some(Custom::new(metadata, HttpRoute { spec }))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::driver;
    use crate::host::MemHost;

    /// The objects of the gateway backend for a description, by kind/name.
    fn objects(body: &str) -> Vec<(String, Value)> {
        let text = format!(
            "homelab \"lab\" {{ domain \"lab.example.com\"; }}\n\
             network \"lan\" cidr=\"192.168.1.0/24\"\n\
             cluster \"home\" distribution=\"k3s\" {{ ingress \"envoy-gateway\"; load-balancer \"metallb\"; }}\n\
             pool \"lb\" network=\"lan\" range=\"192.168.1.200-192.168.1.220\"\n\
             issuer \"self\" kind=\"self-signed\"\n{body}"
        );
        let checked = driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
        let mut out = crate::backend::Artifacts::default();
        super::emit(&checked.model, &mut out);
        out.objects.iter().map(|o| (format!("{}/{}", o.id.kind, o.id.name), o.value())).collect()
    }

    #[test]
    fn the_default_gateway_serves_the_domain_over_https_and_redirects_http() {
        let all = objects("");
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "GatewayClass/envoy-gateway",
                "Gateway/default",
                "Certificate/default-https",
                "HTTPRoute/default-https-redirect"
            ]
        );
        let gateway = &all[1].1;
        assert_eq!(gateway["spec"]["infrastructure"]["annotations"], json!({"metallb.universe.tf/address-pool": "lb"}));
        let listeners = gateway["spec"]["listeners"].as_array().expect("listeners");
        assert_eq!(listeners[0]["hostname"], "*.lab.example.com");
        assert_eq!(listeners[0]["tls"]["certificateRefs"][0]["name"], "default-https-tls");
        assert_eq!((listeners[1]["name"].clone(), listeners[1]["port"].clone()), (json!("https-redirect"), json!(80)));
        let redirect = &all[3].1["spec"];
        assert_eq!(redirect["parentRefs"][0]["sectionName"], "https-redirect");
        assert_eq!(redirect["rules"][0]["filters"][0]["requestRedirect"]["scheme"], "https");
    }

    #[test]
    fn a_route_attaches_to_the_https_listener_covering_its_host_and_the_service_port() {
        let app = "app \"web\" namespace=\"demo\" {\n image \"me/web\" tag=\"1.0.0\"\n port \"http\" 8080\n \
                   service { expose \"http\" 80; }\n route host=\"web\" path=\"/\" port=\"http\"\n}\n";
        let all = objects(app);
        let (_, route) = all.iter().find(|(n, _)| n == "HTTPRoute/web").expect("the app's route");
        assert_eq!(
            route["spec"]["parentRefs"],
            json!([{"name": "default", "namespace": "envoy-gateway-system", "sectionName": "https"}])
        );
        assert_eq!(route["spec"]["hostnames"], json!(["web.lab.example.com"]));
        assert_eq!(route["spec"]["rules"][0]["backendRefs"], json!([{"name": "web", "port": 80}]));
    }

    #[test]
    fn a_declared_http_listener_for_the_same_hosts_carries_the_redirect() {
        let gateway = "gateway \"home\" pool=\"lb\" address=\"192.168.1.210\" {\n \
                       listener \"https\" hostname=\"*.lab.example.com\"\n \
                       listener \"http\" port=80 hostname=\"*.lab.example.com\"\n}\n";
        let all = objects(gateway);
        let (_, gateway) = all.iter().find(|(n, _)| n == "Gateway/home").expect("the gateway");
        assert_eq!(gateway["spec"]["listeners"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            gateway["spec"]["infrastructure"]["annotations"]["metallb.universe.tf/loadBalancerIPs"],
            "192.168.1.210"
        );
        let (_, redirect) = all.iter().find(|(n, _)| n == "HTTPRoute/home-https-redirect").expect("the redirect");
        assert_eq!(redirect["spec"]["parentRefs"][0]["sectionName"], "http");
    }
}
