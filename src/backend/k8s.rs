//! The Kubernetes core backend: typed objects (k8s-openapi) for namespaces
//! and apps, restricted by construction (SPEC §5): non-root 65532, seccomp
//! RuntimeDefault, no privilege escalation, all capabilities dropped, a
//! read-only root with an emptyDir `/tmp`, no service-account token.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, HTTPGetAction,
    LocalObjectReference, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe as K8sProbe, ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext,
    Service as K8sService, ServiceAccount, ServicePort, ServiceSpec, TCPSocketAction, TopologySpreadConstraint,
    Volume as K8sVolume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress as K8sIngress, IngressBackend, IngressRule, IngressServiceBackend,
    IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels};
use crate::layout::Unit;
use crate::model::{App, EnvValue, Model, PodSecurity, ProbeKind, Protocol, ServiceType, SpreadKey, Word};

/// The user and group every pod runs as unless the app says otherwise.
pub const DEFAULT_USER: i64 = 65532;
/// The Ingress annotation naming the ClusterIssuer cert-manager signs its
/// TLS certificate with.
pub const CLUSTER_ISSUER: &str = "cert-manager.io/cluster-issuer";

/// Emits namespaces and every app's objects.
pub fn emit(model: &Model, out: &mut Artifacts) {
    // Every namespace the description uses, but those a component owns (the
    // component's unit creates them).
    for namespace in model.namespace_names() {
        if model.namespace_owner(&namespace).is_none() && !Model::is_system_namespace(&namespace) {
            let scope = model.cluster_key(None);
            let origin = Origin::of(model.namespace_id(scope, &namespace));
            let unit = Unit::namespace_home(model, scope, &namespace);
            out.object(&origin, &unit, namespace_object(model, &namespace));
        }
    }
    let per_app = crate::par::map(&model.apps, |app| {
        let mut objects = Artifacts::default();
        emit_app(model, app, &mut objects);
        objects.objects
    });
    out.objects.extend(per_app.into_iter().flatten());
}

pub use super::meta;

/// The labels of an app's objects; the first is also its selector.
fn app_labels(app: &App) -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.insert("app.kubernetes.io/name".into(), app.name.value.clone());
    labels
}

fn selector(app: &App) -> BTreeMap<String, String> {
    [("app.kubernetes.io/name".to_string(), app.name.value.clone())].into_iter().collect()
}

fn namespace_object(model: &Model, name: &str) -> Namespace {
    namespace(model, name, model.pod_security(name))
}

/// A Namespace with the Pod Security labels of `level` (enforce, audit,
/// warn), and the labels and annotations its declaration gives.
pub fn namespace(model: &Model, name: &str, level: PodSecurity) -> Namespace {
    let mut labels = managed_labels();
    let declared = model.namespaces.iter().find(|n| n.name.value == name);
    labels.extend(declared.into_iter().flat_map(|n| &n.labels).map(|(k, v)| (k.value.clone(), v.value.clone())));
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.as_str().to_string());
    }
    let mut metadata = meta(name, None, labels);
    let annotations: BTreeMap<String, String> =
        (declared.into_iter().flat_map(|n| &n.annotations)).map(|(k, v)| (k.value.clone(), v.value.clone())).collect();
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    Namespace { metadata, ..Namespace::default() }
}

fn emit_app(model: &Model, app: &App, out: &mut Artifacts) {
    let unit = Unit::app(model, app);
    let origin = Origin::of(app.id(model));
    let ns = Some(app.namespace.value.as_str());
    let account = ServiceAccount {
        metadata: meta(&app.name.value, ns, app_labels(app)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    };
    out.object(&origin, &unit, account);
    let template = pod_template(model, app);
    let replicas = Some(app.autoscale.as_ref().map_or(app.replicas.value, |a| a.min.value) as i32);
    let selector = LabelSelector { match_labels: Some(selector(app)), ..LabelSelector::default() };
    if app.volumes.is_empty() {
        let spec = DeploymentSpec { replicas, selector, template, ..DeploymentSpec::default() };
        let object =
            Deployment { metadata: meta(&app.name.value, ns, app_labels(app)), spec: Some(spec), ..Default::default() };
        out.object(&origin, &unit, object);
    } else {
        let claims = app.volumes.iter().map(|v| claim_template(app, v)).collect();
        let spec = StatefulSetSpec {
            replicas,
            selector,
            template,
            service_name: Some(app.name.value.clone()),
            volume_claim_templates: Some(claims),
            ..StatefulSetSpec::default()
        };
        let object = StatefulSet {
            metadata: meta(&app.name.value, ns, app_labels(app)),
            spec: Some(spec),
            ..Default::default()
        };
        out.object(&origin, &unit, object);
    }
    if let Some(service) = service(app) {
        out.object(&origin, &unit, service);
    }
    for ingress in ingresses(model, app) {
        out.object(&origin, &unit, ingress);
    }
    if app.replicas.value > 1 || app.autoscale.is_some() {
        out.object(&origin, &unit, disruption_budget(app));
    }
    if let Some(hpa) = autoscaler(app) {
        out.object(&origin, &unit, hpa);
    }
    if let Some(monitor) = service_monitor(app) {
        out.object(&origin, &unit, monitor);
    }
}

/// The full image reference: `registry/repository:tag@digest`.
pub fn image_ref(model: &Model, app: &App) -> String {
    let Some(image) = &app.image else { return String::new() };
    let mut reference = match image.registry.as_ref().and_then(|r| model.registry(&r.value)) {
        Some(registry) => format!("{}/{}", registry.address.value, image.repository.value),
        None => image.repository.value.clone(),
    };
    if let Some(tag) = &image.tag {
        reference.push(':');
        reference.push_str(&tag.value);
    }
    if let Some(digest) = &image.digest {
        reference.push('@');
        reference.push_str(&digest.value);
    }
    reference
}

fn pod_template(model: &Model, app: &App) -> PodTemplateSpec {
    let user = app.run_as_user.as_ref().map_or(DEFAULT_USER, |u| u.value);
    let group = app.run_as_group.as_ref().map_or(user, |g| g.value);
    let pull_secrets: Vec<LocalObjectReference> = app
        .image
        .as_ref()
        .and_then(|i| i.registry.as_ref())
        .and_then(|r| model.registry(&r.value))
        .and_then(|r| r.pull_secret.as_ref())
        .map(|s| LocalObjectReference { name: s.value.clone() })
        .into_iter()
        .collect();
    let mut volumes = Vec::new();
    if app.read_only_root.value {
        volumes.push(tmp_volume().0);
    }
    let spec = PodSpec {
        service_account_name: Some(app.name.value.clone()),
        automount_service_account_token: Some(false),
        security_context: Some(pod_security(user, group)),
        containers: vec![container(model, app)],
        image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
        host_network: app.host_network.as_ref().filter(|h| h.value).map(|_| true),
        topology_spread_constraints: spread(app),
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..PodSpec::default()
    };
    PodTemplateSpec { metadata: Some(meta_labels_only(app)), spec: Some(spec) }
}

/// The pod security context of an app: [`restricted_pod`] as `user` and
/// `group`; a pod running as root (user 0) says so (`runAsNonRoot: false`),
/// it is never both.
fn pod_security(user: i64, group: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(user != 0),
        run_as_group: Some(group),
        fs_group: Some(group),
        ..restricted_pod(user)
    }
}

/// The pod security context of SPEC §5: non-root as `user`, seccomp RuntimeDefault.
pub fn restricted_pod(user: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(user),
        run_as_group: Some(user),
        fs_group: Some(user),
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..SeccompProfile::default() }),
        ..PodSecurityContext::default()
    }
}

/// The container security context of SPEC §5: no privilege escalation, all
/// capabilities dropped, optionally a read-only root.
pub fn restricted_container(read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(read_only_root),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Capabilities::default() }),
        ..SecurityContext::default()
    }
}

/// The emptyDir mounted on `/tmp` of containers with a read-only root.
pub fn tmp_volume() -> (K8sVolume, VolumeMount) {
    let volume =
        K8sVolume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..K8sVolume::default() };
    (volume, VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() })
}

fn meta_labels_only(app: &App) -> ObjectMeta {
    ObjectMeta { labels: Some(app_labels(app)), ..ObjectMeta::default() }
}

fn spread(app: &App) -> Option<Vec<TopologySpreadConstraint>> {
    let key = app.spread.as_ref()?;
    let topology_key = match key.value {
        SpreadKey::Node => "kubernetes.io/hostname",
        SpreadKey::Zone => "topology.kubernetes.io/zone",
    };
    Some(vec![TopologySpreadConstraint {
        max_skew: 1,
        topology_key: topology_key.into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(LabelSelector { match_labels: Some(selector(app)), ..LabelSelector::default() }),
        ..TopologySpreadConstraint::default()
    }])
}

fn container(model: &Model, app: &App) -> Container {
    let mut mounts: Vec<VolumeMount> = app
        .volumes
        .iter()
        .map(|v| VolumeMount {
            name: v.name.value.clone(),
            mount_path: v.mount.value.clone(),
            ..VolumeMount::default()
        })
        .collect();
    if app.read_only_root.value {
        mounts.push(tmp_volume().1);
    }
    let privileged = app.privileged.as_ref().is_some_and(|p| p.value);
    Container {
        name: app.name.value.clone(),
        image: Some(image_ref(model, app)),
        command: non_empty(app.command.iter().map(|c| c.value.clone()).collect()),
        args: non_empty(app.args.iter().map(|c| c.value.clone()).collect()),
        ports: non_empty(
            app.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.value.clone()),
                    container_port: i32::from(p.number.value),
                    protocol: Some(p.protocol.value.as_str().into()),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        env: non_empty(app.env.iter().map(env_var).collect()),
        resources: resources(app),
        liveness_probe: probe(app, ProbeKind::Liveness),
        readiness_probe: probe(app, ProbeKind::Readiness),
        startup_probe: probe(app, ProbeKind::Startup),
        security_context: Some(container_security(app, privileged)),
        volume_mounts: non_empty(mounts),
        ..Container::default()
    }
}

/// A container's security context: [`restricted_container`], with the
/// capabilities the app adds on top of dropping all, and privilege when it
/// asks for it.
fn container_security(app: &App, privileged: bool) -> SecurityContext {
    let mut context = SecurityContext {
        allow_privilege_escalation: Some(privileged),
        privileged: privileged.then_some(true),
        ..restricted_container(app.read_only_root.value)
    };
    if !app.capabilities.is_empty()
        && let Some(capabilities) = &mut context.capabilities
    {
        let mut add: Vec<String> = app.capabilities.iter().map(|c| c.value.to_uppercase()).collect();
        add.sort();
        add.dedup();
        capabilities.add = Some(add);
    }
    context
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn env_var(env: &crate::model::Env) -> EnvVar {
    match &env.value {
        EnvValue::Literal(value) => {
            EnvVar { name: env.name.value.clone(), value: Some(value.value.clone()), ..EnvVar::default() }
        }
        EnvValue::Secret { secret, key } => EnvVar {
            name: env.name.value.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.value.clone(),
                    key: key.value.clone(),
                    ..SecretKeySelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
    }
}

fn resources(app: &App) -> Option<ResourceRequirements> {
    let r = app.resources.as_ref()?;
    let pair = |cpu: &Option<crate::source::Spanned<crate::model::Quantity>>,
                memory: &Option<crate::source::Spanned<crate::model::Quantity>>| {
        let map: BTreeMap<String, Quantity> = [("cpu", cpu), ("memory", memory)]
            .into_iter()
            .filter_map(|(k, q)| q.as_ref().map(|q| (k.to_string(), Quantity(q.value.text.clone()))))
            .collect();
        (!map.is_empty()).then_some(map)
    };
    Some(ResourceRequirements {
        requests: pair(&r.cpu, &r.memory),
        limits: pair(&r.cpu_limit, &r.memory_limit),
        ..ResourceRequirements::default()
    })
}

fn probe(app: &App, kind: ProbeKind) -> Option<K8sProbe> {
    let p = app.probes.iter().find(|p| p.kind.value == kind)?;
    let port = IntOrString::String(p.port.value.clone());
    let (http_get, tcp_socket) = match &p.http {
        Some(path) => (Some(HTTPGetAction { path: Some(path.value.clone()), port, ..HTTPGetAction::default() }), None),
        None => (None, Some(TCPSocketAction { port, ..TCPSocketAction::default() })),
    };
    let seconds = |d: &Option<crate::source::Spanned<crate::model::Duration>>| {
        d.as_ref().map(|d| i32::try_from(d.value.seconds()).unwrap_or(i32::MAX))
    };
    Some(K8sProbe {
        http_get,
        tcp_socket,
        initial_delay_seconds: seconds(&p.delay),
        period_seconds: seconds(&p.period),
        ..K8sProbe::default()
    })
}

fn claim_template(app: &App, volume: &crate::model::Volume) -> PersistentVolumeClaim {
    let requests: BTreeMap<String, Quantity> =
        [("storage".to_string(), Quantity(volume.size.value.text.clone()))].into_iter().collect();
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(volume.name.value.clone()),
            labels: Some(app_labels(app)),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: volume.storage_class.as_ref().map(|s| s.value.clone()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(requests),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

/// The app's Service: its declared exposes, plus the ports ingresses and
/// metrics route to; a StatefulSet always gets one (its `serviceName`).
fn service(app: &App) -> Option<K8sService> {
    let mut ports: Vec<ServicePort> = Vec::new();
    let protocol = |name: &str| {
        app.ports.iter().find(|p| p.name.value == name).map_or(Protocol::Tcp, |p| p.protocol.value).as_str().to_string()
    };
    if let Some(s) = &app.service {
        for e in &s.exposes {
            ports.push(ServicePort {
                name: Some(e.port.value.clone()),
                port: i32::from(e.number.value),
                target_port: Some(IntOrString::String(e.port.value.clone())),
                node_port: e.node_port.as_ref().map(|n| i32::from(n.value)),
                protocol: Some(protocol(&e.port.value)),
                ..ServicePort::default()
            });
        }
    }
    let routed = app.ingresses.iter().map(|i| &i.port).chain(app.metrics.iter().map(|m| &m.port));
    for name in routed {
        if ports.iter().any(|p| p.name.as_deref() == Some(name.value.as_str())) {
            continue;
        }
        if let Some(port) = app.ports.iter().find(|p| p.name.value == name.value) {
            ports.push(ServicePort {
                name: Some(port.name.value.clone()),
                port: i32::from(port.number.value),
                target_port: Some(IntOrString::String(port.name.value.clone())),
                protocol: Some(port.protocol.value.as_str().into()),
                ..ServicePort::default()
            });
        }
    }
    if ports.is_empty() && app.volumes.is_empty() {
        return None;
    }
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    let kind = app.service.as_ref().map_or(ServiceType::ClusterIp, |s| s.kind.value);
    let mut metadata = meta(&app.name.value, Some(&app.namespace.value), app_labels(app));
    if let Some(pool) = app.service.as_ref().and_then(|s| s.pool.as_ref()) {
        metadata.annotations = Some([("metallb.universe.tf/address-pool".to_string(), pool.value.clone())].into());
    }
    let headless = ports.is_empty();
    Some(K8sService {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some(kind.as_str().into()),
            cluster_ip: headless.then(|| "None".to_string()),
            selector: Some(selector(app)),
            ports: non_empty(ports),
            ..ServiceSpec::default()
        }),
        ..K8sService::default()
    })
}

fn ingresses(model: &Model, app: &App) -> Vec<K8sIngress> {
    app.ingresses
        .iter()
        .enumerate()
        .map(|(i, ingress)| {
            let host = model.ingress_host(&ingress.host.value);
            let class = model.ingress_class(app, ingress).map(str::to_string);
            let name = if i == 0 { app.name.value.clone() } else { format!("{}-{i}", app.name.value) };
            let backend = IngressBackend {
                service: Some(IngressServiceBackend {
                    name: app.name.value.clone(),
                    port: Some(ServiceBackendPort {
                        name: Some(ingress.port.value.clone()),
                        ..ServiceBackendPort::default()
                    }),
                }),
                ..IngressBackend::default()
            };
            let rule = IngressRule {
                host: Some(host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(ingress.path.value.clone()),
                        path_type: "Prefix".into(),
                        backend,
                    }],
                }),
            };
            // cert-manager's ingress-shim makes the `<name>-tls` Secret from
            // the cluster's issuer (the checks make sure there is one).
            let tls = ingress
                .tls
                .value
                .then(|| vec![IngressTLS { hosts: Some(vec![host]), secret_name: Some(format!("{name}-tls")) }]);
            let mut metadata = meta(&name, Some(&app.namespace.value), app_labels(app));
            if let Some(issuer) = model.tls_issuer_of(app).filter(|_| ingress.tls.value) {
                metadata.annotations = Some([(CLUSTER_ISSUER.to_string(), issuer.name.value.clone())].into());
            }
            K8sIngress {
                metadata,
                spec: Some(IngressSpec {
                    ingress_class_name: class,
                    rules: Some(vec![rule]),
                    tls,
                    ..IngressSpec::default()
                }),
                ..K8sIngress::default()
            }
        })
        .collect()
}

fn disruption_budget(app: &App) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(&app.name.value, Some(&app.namespace.value), app_labels(app)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector { match_labels: Some(selector(app)), ..LabelSelector::default() }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

fn autoscaler(app: &App) -> Option<HorizontalPodAutoscaler> {
    let a = app.autoscale.as_ref()?;
    let target = |resource: &str, percent: u32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(percent as i32),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    let metrics: Vec<MetricSpec> = [("cpu", &a.cpu), ("memory", &a.memory)]
        .into_iter()
        .filter_map(|(r, p)| p.as_ref().map(|p| target(r, p.value)))
        .collect();
    let kind = if app.volumes.is_empty() { "Deployment" } else { "StatefulSet" };
    Some(HorizontalPodAutoscaler {
        metadata: meta(&app.name.value, Some(&app.namespace.value), app_labels(app)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: kind.into(),
                name: app.name.value.clone(),
            },
            min_replicas: Some(a.min.value as i32),
            max_replicas: a.max.value as i32,
            metrics: non_empty(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

/// A prometheus-operator ServiceMonitor (monitoring.coreos.com/v1).
#[derive(Debug, Serialize)]
pub struct ServiceMonitor {
    spec: ServiceMonitorSpec,
}

impl CustomKind for ServiceMonitor {
    const API_VERSION: &'static str = "monitoring.coreos.com/v1";
    const KIND: &'static str = "ServiceMonitor";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    endpoints: Vec<Endpoint>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    port: String,
    path: String,
    interval: String,
}

fn service_monitor(app: &App) -> Option<Custom<ServiceMonitor>> {
    let m = app.metrics.as_ref()?;
    let metadata = meta(&app.name.value, Some(&app.namespace.value), {
        // Selected by kube-prometheus-stack's Prometheus even with the chart's default selector.
        let mut labels = app_labels(app);
        labels.extend(super::prometheus::selected_labels());
        labels
    });
    Some(Custom::new(
        metadata,
        ServiceMonitor {
            spec: ServiceMonitorSpec {
                selector: LabelSelector { match_labels: Some(selector(app)), ..LabelSelector::default() },
                endpoints: vec![Endpoint {
                    port: m.port.value.clone(),
                    path: m.path.value.clone(),
                    interval: m.interval.value.text.clone(),
                }],
            },
        },
    ))
}
