//! Tunnels (SPEC §2.5): per `tunnel`, cloudflared in the namespace
//! `cloudflared` — a Deployment restricted like every app, reading its token
//! from the tunnel's secret, and the ConfigMap of its ingress rules (every
//! host of the apps it exposes, the catch-all `http_status:404` last), named
//! after a hash of its content so the pods roll when it changes — in the
//! `cloudflared` component's unit. Where an exposed host is in a Cloudflare
//! zone of a `dns`, a DNSEndpoint (externaldns.k8s.io) in
//! `configs/external-dns` points its record at the tunnel, and the app's
//! ingress or route tells external-dns to leave that host to it.
//!
//! The NetworkPolicy that lets cloudflared reach the apps and Cloudflare's
//! edge is written with the others, in [`super::netpol`].

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, EnvVarSource, PodSpec, PodTemplateSpec,
    ResourceRequirements, SecretKeySelector, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::k8s::{DEFAULT_USER, http_probe, restricted_container, restricted_pod, tmp_volume};
use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{CLOUDFLARED_NAMESPACE, EXTERNAL_DNS_NAMESPACE, Model, Tunnel};

/// The component whose unit the tunnels are applied with.
pub const COMPONENT: &str = "cloudflared";
/// The component that installs the DNSEndpoint CRD, whose unit the tunnels'
/// records are applied after.
const EXTERNAL_DNS: &str = "external-dns";
/// The image tag when the component gives none (its `version` pins it).
pub const DEFAULT_TAG: &str = "2026.8.2";
/// The key of the tunnel token in the tunnel's secret.
pub const TOKEN_KEY: &str = "token";
/// The port of cloudflared's metrics server, whose `/ready` the probes ask.
pub const METRICS_PORT: u16 = 2000;
/// The ports cloudflared reaches Cloudflare's edge on: 7844 (QUIC over UDP,
/// HTTP/2 over TCP) for the tunnel, 443 for Cloudflare's API.
pub const EDGE_PORTS: &[(u16, &str)] = &[(7844, "TCP"), (7844, "UDP"), (443, "TCP")];
/// The replicas of each connector: two, so a restart keeps the tunnel up.
const REPLICAS: i32 = 2;
/// Where the ConfigMap is mounted.
const CONFIG_DIR: &str = "/etc/cloudflared";

/// The provider-specific property that makes a Cloudflare record proxied, as
/// a tunnel's hosts must be.
const PROXIED: &str = "external-dns.alpha.kubernetes.io/cloudflare-proxied";

/// The annotations of an Ingress or HTTPRoute whose host's record a tunnel's
/// DNSEndpoint keeps: external-dns leaves the object alone.
pub fn dns_elsewhere() -> BTreeMap<String, String> {
    super::external_dns_skips(&format!("{COMPONENT}-tunnel"))
}

/// The name of a tunnel's objects.
pub fn object_name(tunnel: &Tunnel) -> String {
    format!("{COMPONENT}-{}", tunnel.name.value)
}

/// The labels selecting a tunnel's pods.
pub fn selector(tunnel: &Tunnel) -> BTreeMap<String, String> {
    [
        ("app.kubernetes.io/name".to_string(), COMPONENT.to_string()),
        ("app.kubernetes.io/instance".to_string(), tunnel.name.value.clone()),
    ]
    .into_iter()
    .collect()
}

fn labels(tunnel: &Tunnel) -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.extend(selector(tunnel));
    labels
}

/// One ingress rule of cloudflared's configuration.
#[derive(Debug, Serialize)]
struct IngressRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    service: String,
}

/// cloudflared's `config.yaml` (the flags are arguments of the container).
#[derive(Debug, Serialize)]
struct Config {
    ingress: Vec<IngressRule>,
}

/// externaldns.k8s.io's `DNSEndpoint`: records external-dns keeps.
#[derive(Debug, Serialize)]
struct DnsEndpoint {
    spec: EndpointSpec,
}

impl CustomKind for DnsEndpoint {
    const API_VERSION: &'static str = "externaldns.k8s.io/v1alpha1";
    const KIND: &'static str = "DNSEndpoint";
}

#[derive(Debug, Serialize)]
struct EndpointSpec {
    endpoints: Vec<Endpoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    dns_name: String,
    record_type: &'static str,
    targets: Vec<String>,
    provider_specific: Vec<Property>,
}

#[derive(Debug, Serialize)]
struct Property {
    name: &'static str,
    value: &'static str,
}

/// Emits every tunnel of the (view's only) cluster.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(cluster) = model.cluster_for(None) else { return };
    let tag = model.component(COMPONENT).and_then(|c| c.param_text("version"));
    let image = format!("cloudflare/cloudflared:{}", tag.as_deref().unwrap_or(DEFAULT_TAG));
    let scope = model.cluster_key(None);
    let unit = Unit::new(scope, Folder::Component(COMPONENT.into()));
    for tunnel in model.tunnels_of(cluster) {
        let origin = Origin::of(tunnel.id(model));
        let origin = match model.component(COMPONENT) {
            Some(_) => origin.and(model.component_id(scope, COMPONENT)),
            None => origin,
        };
        let config = config_map(model, tunnel);
        let config_name = config.metadata.name.clone().unwrap_or_default();
        out.object(&origin, &unit, config);
        let account = ServiceAccount {
            metadata: meta(&object_name(tunnel), Some(CLOUDFLARED_NAMESPACE), labels(tunnel)),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        };
        out.object(&origin, &unit, account);
        out.object(&origin, &unit, deployment(tunnel, &image, &config_name));
        out.object(&origin, &unit, disruption_budget(tunnel));
        records(model, tunnel, out);
    }
}

/// The ingress rules of a tunnel: every host of every app it exposes, longer
/// paths first on one host, then the catch-all 404.
fn rules(model: &Model, tunnel: &Tunnel) -> Vec<IngressRule> {
    let mut rules: Vec<(String, String, String)> = Vec::new();
    for app in model.exposed_apps(tunnel) {
        for host in model.app_hosts(app) {
            let Some(port) = app.service_port(&host.port.value) else { continue };
            let service = format!("http://{}.{}.svc.cluster.local:{port}", app.name.value, app.namespace.value);
            rules.push((host.host, host.path.to_string(), service));
        }
    }
    rules.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())).then(a.1.cmp(&b.1)));
    rules.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let mut out: Vec<IngressRule> = rules
        .into_iter()
        .map(|(host, path, service)| IngressRule { hostname: Some(host), path: path_pattern(&path), service })
        .collect();
    out.push(IngressRule { hostname: None, path: None, service: "http_status:404".into() });
    out
}

/// cloudflared matches `path` as a regular expression: a prefix is anchored
/// at the start, and none is needed for `/`.
fn path_pattern(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let mut escaped = String::from("^");
    for c in trimmed.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push_str("(/|$)");
    Some(escaped)
}

/// The ConfigMap of a tunnel's `config.yaml`, named after a hash of it.
fn config_map(model: &Model, tunnel: &Tunnel) -> ConfigMap {
    let text =
        crate::yaml::render_json(&serde_json::to_value(Config { ingress: rules(model, tunnel) }).unwrap_or_default());
    let digest = Sha256::digest(text.as_bytes());
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let name = format!("{}-{hash}", object_name(tunnel));
    ConfigMap {
        metadata: meta(&name, Some(CLOUDFLARED_NAMESPACE), labels(tunnel)),
        data: Some([("config.yaml".to_string(), text)].into_iter().collect()),
        ..ConfigMap::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Quantity>> {
    Some(pairs.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect())
}

/// cloudflared running the tunnel of the token, with the ingress rules of the ConfigMap.
fn deployment(tunnel: &Tunnel, image: &str, config: &str) -> Deployment {
    let (tmp, tmp_mount) = tmp_volume();
    let config_volume = Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource { name: config.to_string(), ..ConfigMapVolumeSource::default() }),
        ..Volume::default()
    };
    let probe = || http_probe("/ready", "metrics");
    let token = EnvVar {
        name: "TUNNEL_TOKEN".into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: tunnel.token_secret.value.clone(),
                key: TOKEN_KEY.into(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    };
    let args = ["tunnel", "--config", &format!("{CONFIG_DIR}/config.yaml"), "--no-autoupdate"]
        .into_iter()
        .map(str::to_string)
        .chain(["--metrics".to_string(), format!("0.0.0.0:{METRICS_PORT}"), "run".to_string()])
        .collect();
    let container = Container {
        name: COMPONENT.into(),
        image: Some(image.into()),
        args: Some(args),
        env: Some(vec![token]),
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: i32::from(METRICS_PORT),
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: Some(ResourceRequirements {
            requests: quantities(&[("cpu", "50m"), ("memory", "64Mi")]),
            limits: quantities(&[("cpu", "500m"), ("memory", "256Mi")]),
            ..ResourceRequirements::default()
        }),
        liveness_probe: Some(probe()),
        readiness_probe: Some(probe()),
        security_context: Some(restricted_container(true)),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "config".into(),
                mount_path: CONFIG_DIR.into(),
                read_only: Some(true),
                ..VolumeMount::default()
            },
            tmp_mount,
        ]),
        ..Container::default()
    };
    let spec = PodSpec {
        service_account_name: Some(object_name(tunnel)),
        automount_service_account_token: Some(false),
        security_context: Some(restricted_pod(DEFAULT_USER)),
        containers: vec![container],
        volumes: Some(vec![config_volume, tmp]),
        ..PodSpec::default()
    };
    Deployment {
        metadata: meta(&object_name(tunnel), Some(CLOUDFLARED_NAMESPACE), labels(tunnel)),
        spec: Some(DeploymentSpec {
            replicas: Some(REPLICAS),
            selector: LabelSelector { match_labels: Some(selector(tunnel)), ..LabelSelector::default() },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels(tunnel)), ..ObjectMeta::default() }),
                spec: Some(spec),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn disruption_budget(tunnel: &Tunnel) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(&object_name(tunnel), Some(CLOUDFLARED_NAMESPACE), labels(tunnel)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector { match_labels: Some(selector(tunnel)), ..LabelSelector::default() }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// The DNSEndpoint of a tunnel's hosts that are in a Cloudflare zone: a
/// proxied CNAME to the tunnel each, in `configs/external-dns`.
fn records(model: &Model, tunnel: &Tunnel, out: &mut Artifacts) {
    let Some(target) = tunnel.target() else { return };
    let mut origin = Origin::of(tunnel.id(model));
    let mut hosts: Vec<String> = Vec::new();
    for app in model.exposed_apps(tunnel) {
        for host in model.app_hosts(app) {
            if let Some((_, zone)) = model.tunnel_record(app, &host.host) {
                origin = origin.and(zone.id(model));
                hosts.push(host.host);
            }
        }
    }
    hosts.sort();
    hosts.dedup();
    if hosts.is_empty() {
        return;
    }
    let endpoints = hosts
        .into_iter()
        .map(|host| Endpoint {
            dns_name: host,
            record_type: "CNAME",
            targets: vec![target.clone()],
            provider_specific: vec![Property { name: PROXIED, value: "true" }],
        })
        .collect();
    let unit = Unit::new(model.cluster_key(None), Folder::Configs(EXTERNAL_DNS.into()));
    let metadata = meta(&format!("tunnel-{}", tunnel.name.value), Some(EXTERNAL_DNS_NAMESPACE), managed_labels());
    out.object(&origin, &unit, Custom::new(metadata, DnsEndpoint { spec: EndpointSpec { endpoints } }));
}

#[cfg(test)]
mod tests {
    use super::path_pattern;
    use crate::driver;
    use crate::host::MemHost;

    #[test]
    fn paths_are_anchored_prefixes_with_their_dots_escaped() {
        assert_eq!(path_pattern("/"), None);
        assert_eq!(path_pattern("/api/"), Some("^/api(/|$)".to_string()));
        assert_eq!(path_pattern("/v1.2"), Some("^/v1\\.2(/|$)".to_string()));
    }

    #[test]
    fn longer_paths_come_first_and_the_catch_all_last() {
        let text = "homelab \"lab\" { domain \"lab.example.com\"; }\n\
                    cluster \"home\" distribution=\"k3s\" { ingress \"traefik\"; }\n\
                    tunnel \"home\" token-secret=\"t\" { expose \"web\"; }\n\
                    app \"web\" namespace=\"demo\" {\n image \"me/web\" tag=\"1.0.0\"\n port \"http\" 8080\n \
                    ingress host=\"web\" path=\"/\" port=\"http\"\n ingress host=\"web\" path=\"/api\" port=\"http\"\n}\n";
        let checked = driver::check(&MemHost::with([("homelab.kdl", text.to_string())]), "homelab.kdl");
        let tunnel = &checked.model.tunnels[0];
        let rules = super::rules(&checked.model, tunnel);
        let shown: Vec<(Option<&str>, Option<&str>, &str)> =
            rules.iter().map(|r| (r.hostname.as_deref(), r.path.as_deref(), r.service.as_str())).collect();
        let service = "http://web.demo.svc.cluster.local:8080";
        assert_eq!(
            shown,
            [
                (Some("web.lab.example.com"), Some("^/api(/|$)"), service),
                (Some("web.lab.example.com"), None, service),
                (None, None, "http_status:404"),
            ]
        );
    }
}
