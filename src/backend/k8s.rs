//! The Kubernetes core backend: typed objects (k8s-openapi) for namespaces
//! and apps, restricted by construction (SPEC §5): non-root 65532, seccomp
//! RuntimeDefault, no privilege escalation, all capabilities dropped, a
//! read-only root with an emptyDir `/tmp`, no service-account token.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, HTTPGetAction, HostPathVolumeSource, LocalObjectReference, NFSVolumeSource,
    Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe as K8sProbe, ResourceRequirements, SeccompProfile, SecretEnvSource,
    SecretKeySelector, SecretVolumeSource, SecurityContext, Service as K8sService, ServiceAccount, ServicePort,
    ServiceSpec, TCPSocketAction, Toleration as K8sToleration, TopologySpreadConstraint, TypedObjectReference,
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
use sha2::Digest;

use super::{Artifacts, Custom, CustomKind, Object, Origin, managed_labels};
use crate::layout::Unit;
use crate::model::{
    App, Concurrency, Container as ModelContainer, EnvFrom, EnvValue, Model, OwnClaim, PodSecurity, ProbeKind,
    Protocol, ServiceType, SpreadKey, Stored, VolumeSource, Word, WorkloadKind,
};

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
    // The apps a batch at a time, each batch's objects moved into `out` as
    // it is done: the apps' objects never all wait in a second list.
    let start = out.objects.len();
    for (done, batch) in (0..).step_by(APPS_PER_BATCH).zip(model.apps.chunks(APPS_PER_BATCH)) {
        let per_app = crate::par::map(batch, |app| {
            let mut objects = Artifacts::default();
            emit_app(model, app, &mut objects);
            // Serialized here, app by app, rather than all at once later.
            objects.objects.into_iter().map(Object::rendered).collect::<Vec<_>>()
        });
        let count: usize = per_app.iter().map(Vec::len).sum();
        if out.objects.capacity() - out.objects.len() < count {
            // Room for this batch and the apps left, as many objects each as
            // so far and a little more: a vector regrown by doubling would
            // hold its objects twice for a moment, and keep up to twice the
            // room they need.
            let (apps, made) = (done + batch.len(), out.objects.len() - start + count);
            let left = (made * (model.apps.len() - apps)).div_ceil(apps);
            out.objects.reserve_exact(count + left + left / 32);
        }
        out.objects.extend(per_app.into_iter().flatten());
    }
}

/// How many apps [`emit`] makes at once.
const APPS_PER_BATCH: usize = 2048;

pub use super::meta;

/// The labels of an app's objects; the first is also its selector.
fn app_labels(app: &App) -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.insert("app.kubernetes.io/name".into(), app.name.value.clone());
    labels
}

fn selector(app: &App) -> BTreeMap<String, String> {
    super::one_label("app.kubernetes.io/name", &app.name.value)
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
    for config in config_maps(model, app) {
        out.object(&origin, &unit, config);
    }
    let kind = app.workload();
    // Own claims are a StatefulSet's claim templates; any other workload
    // gets a PersistentVolumeClaim of its own per volume.
    if kind != WorkloadKind::Statefulset {
        for (volume, claim) in app.own_claims() {
            out.object(&origin, &unit, own_claim(model, app, volume, claim));
        }
    }
    let template = pod_template(model, app);
    let replicas = Some(app.autoscale.as_ref().map_or(app.replicas.value, |a| a.min.value) as i32);
    let selector = LabelSelector { match_labels: Some(selector(app)), ..LabelSelector::default() };
    let metadata = meta(&app.name.value, ns, app_labels(app));
    match kind {
        WorkloadKind::Deployment => {
            // A Deployment that owns a ReadWriteOnce claim cannot run its
            // old and new pod side by side: recreate instead of rolling.
            let strategy = app
                .own_claims()
                .next()
                .map(|_| DeploymentStrategy { type_: Some("Recreate".into()), ..DeploymentStrategy::default() });
            let spec = DeploymentSpec { replicas, selector, template, strategy, ..DeploymentSpec::default() };
            out.object(&origin, &unit, Deployment { metadata, spec: Some(spec), ..Default::default() });
        }
        WorkloadKind::Statefulset => {
            let claims: Vec<PersistentVolumeClaim> =
                app.own_claims().map(|(v, c)| claim_template(model, app, v, c)).collect();
            let spec = StatefulSetSpec {
                replicas,
                selector,
                template,
                service_name: Some(app.name.value.clone()),
                volume_claim_templates: non_empty(claims),
                ..StatefulSetSpec::default()
            };
            out.object(&origin, &unit, StatefulSet { metadata, spec: Some(spec), ..Default::default() });
        }
        WorkloadKind::Daemonset => {
            let spec = DaemonSetSpec { selector, template, ..DaemonSetSpec::default() };
            out.object(&origin, &unit, DaemonSet { metadata, spec: Some(spec), ..Default::default() });
        }
        WorkloadKind::Cronjob => {
            let job = job_spec(app, template);
            let spec = CronJobSpec {
                schedule: app.schedule.as_ref().map(|s| s.value.text.clone()).unwrap_or_default(),
                concurrency_policy: Some(
                    app.concurrency.as_ref().map_or(Concurrency::Forbid, |c| c.value).kubernetes_policy().into(),
                ),
                job_template: JobTemplateSpec { metadata: Some(meta_labels_only(app)), spec: Some(job) },
                ..CronJobSpec::default()
            };
            out.object(&origin, &unit, CronJob { metadata, spec: Some(spec), ..Default::default() });
        }
        WorkloadKind::Job => {
            let mut metadata = metadata;
            // A Job's pod template cannot change: the GitOps agents replace
            // it instead of patching when the description changes it.
            metadata.annotations = Some(
                [
                    ("kustomize.toolkit.fluxcd.io/force".to_string(), "enabled".to_string()),
                    ("argocd.argoproj.io/sync-options".to_string(), "Replace=true".to_string()),
                ]
                .into(),
            );
            out.object(&origin, &unit, Job { metadata, spec: Some(job_spec(app, template)), ..Default::default() });
        }
    }
    if let Some(service) = service(app) {
        out.object(&origin, &unit, service);
    }
    for ingress in ingresses(model, app) {
        out.object(&origin, &unit, ingress);
    }
    if kind.scales() && (app.replicas.value > 1 || app.autoscale.is_some()) {
        out.object(&origin, &unit, disruption_budget(app));
    }
    if let Some(hpa) = autoscaler(app) {
        out.object(&origin, &unit, hpa);
    }
    if let Some(monitor) = service_monitor(app) {
        out.object(&origin, &unit, monitor);
    }
}

/// The Job of a `job` or of each run of a `cronjob`: its pods retry on
/// failure up to the backoff limit.
fn job_spec(app: &App, mut template: PodTemplateSpec) -> JobSpec {
    if let Some(spec) = &mut template.spec {
        spec.restart_policy = Some("OnFailure".into());
    }
    JobSpec {
        backoff_limit: app.backoff_limit.as_ref().map(|b| i32::try_from(b.value).unwrap_or(i32::MAX)),
        template,
        ..JobSpec::default()
    }
}

/// The full image reference of the app's own container.
pub fn image_ref(model: &Model, app: &App) -> String {
    container_image(model, &app.container)
}

/// The full image reference of a container: `registry/repository:tag@digest`.
pub fn container_image(model: &Model, container: &ModelContainer) -> String {
    let Some(image) = &container.image else { return String::new() };
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
    let mut pull_secrets: Vec<String> = app
        .containers()
        .filter_map(|c| c.image.as_ref()?.registry.as_ref())
        .filter_map(|r| model.registry(&r.value)?.pull_secret.as_ref())
        .map(|s| s.value.clone())
        .collect();
    pull_secrets.sort();
    pull_secrets.dedup();
    let pod = PodVolumes::of(model, app);
    let mut volumes = pod.volumes.clone();
    if scratch_tmp(app) {
        volumes.push(tmp_volume().0);
    }
    let mut containers = vec![main_container(model, app, &pod)];
    let mut init_containers: Vec<Container> = app.inits.iter().map(|c| other_container(model, app, c, &pod)).collect();
    let sidecars = app.sidecars.iter().map(|c| other_container(model, app, c, &pod));
    if app.workload().runs_to_completion() {
        // A Job completes when its containers exit: its sidecars are native
        // sidecars (init containers that keep running), started after the
        // init containers and stopped when the app's container is done.
        init_containers.extend(sidecars.map(|c| Container { restart_policy: Some("Always".into()), ..c }));
    } else {
        containers.extend(sidecars);
    }
    let mut node_selector: BTreeMap<String, String> =
        app.node_selector.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect();
    if let Some(node) = &app.node {
        node_selector.insert(crate::model::HOSTNAME_LABEL.into(), node.value.clone());
    }
    let tolerations: Vec<K8sToleration> = app
        .tolerations
        .iter()
        .map(|t| K8sToleration {
            key: Some(t.key.value.clone()),
            operator: Some(if t.value.is_some() { "Equal" } else { "Exists" }.into()),
            value: t.value.as_ref().map(|v| v.value.clone()),
            effect: t.effect.as_ref().map(|e| e.value.as_str().to_string()),
            ..K8sToleration::default()
        })
        .collect();
    let spec = PodSpec {
        service_account_name: Some(app.name.value.clone()),
        automount_service_account_token: Some(false),
        security_context: Some(pod_security(user, group)),
        containers,
        init_containers: non_empty(init_containers),
        image_pull_secrets: non_empty(pull_secrets.into_iter().map(|name| LocalObjectReference { name }).collect()),
        host_network: app.host_network.as_ref().filter(|h| h.value).map(|_| true),
        node_selector: (!node_selector.is_empty()).then_some(node_selector),
        tolerations: non_empty(tolerations),
        topology_spread_constraints: spread(app),
        volumes: non_empty(volumes),
        ..PodSpec::default()
    };
    PodTemplateSpec { metadata: Some(meta_labels_only(app)), spec: Some(spec) }
}

/// The volumes of an app's pod, and how each is mounted by the app's own
/// container (volumes, configs and secret files alike).
struct PodVolumes {
    volumes: Vec<K8sVolume>,
    /// By the name a `mount` child uses: the pod volume and the mount of the
    /// app's own container.
    mounts: Vec<(String, VolumeMount)>,
}

impl PodVolumes {
    fn of(model: &Model, app: &App) -> PodVolumes {
        let mut volumes = Vec::new();
        let mut mounts = Vec::new();
        for volume in &app.volumes {
            let name = volume.name.value.clone();
            let read_only = volume.is_read_only();
            let source = match &volume.source {
                VolumeSource::Own(_) if app.workload() == WorkloadKind::Statefulset => None,
                VolumeSource::Own(_) => Some(K8sVolume {
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: own_claim_name(app, volume),
                        read_only: read_only.then_some(true),
                    }),
                    ..K8sVolume::default()
                }),
                VolumeSource::Claim(claim) => Some(K8sVolume {
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim.value.clone(),
                        read_only: read_only.then_some(true),
                    }),
                    ..K8sVolume::default()
                }),
                VolumeSource::Nfs { server, path } => Some(K8sVolume {
                    nfs: Some(NFSVolumeSource {
                        server: server.value.clone(),
                        path: path.value.clone(),
                        read_only: read_only.then_some(true),
                    }),
                    ..K8sVolume::default()
                }),
                VolumeSource::HostPath(path) => Some(K8sVolume {
                    host_path: Some(HostPathVolumeSource { path: path.value.clone(), type_: None }),
                    ..K8sVolume::default()
                }),
                VolumeSource::EmptyDir { size_limit } => Some(K8sVolume {
                    empty_dir: Some(EmptyDirVolumeSource {
                        size_limit: size_limit.as_ref().map(|q| Quantity(q.value.text.clone())),
                        ..EmptyDirVolumeSource::default()
                    }),
                    ..K8sVolume::default()
                }),
            };
            volumes.extend(source.map(|v| K8sVolume { name: name.clone(), ..v }));
            let mount = VolumeMount {
                name: name.clone(),
                mount_path: volume.mount.value.clone(),
                read_only: read_only.then_some(true),
                ..VolumeMount::default()
            };
            mounts.push((name, mount));
        }
        // An `env-file=` config is read with `envFrom`, not mounted.
        for config in app.configs.iter().filter(|c| !c.env_file) {
            let Some(content) = model.attachments.get(&config.file.value) else { continue };
            let name = config.name.value.clone();
            volumes.push(K8sVolume {
                name: name.clone(),
                config_map: Some(ConfigMapVolumeSource {
                    name: crate::model::files::config_map_name(&app.name.value, &name, content),
                    ..ConfigMapVolumeSource::default()
                }),
                ..K8sVolume::default()
            });
            if let Some(path) = &config.mount {
                let key = crate::model::files::config_key(&config.file.value);
                mounts.push((name.clone(), file_mount(&name, &path.value, Some(key))));
            }
        }
        for file in &app.secret_files {
            let name = secret_volume_name(&file.secret.value);
            if !volumes.iter().any(|v| v.name == name) {
                volumes.push(K8sVolume {
                    name: name.clone(),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(file.secret.value.clone()),
                        ..SecretVolumeSource::default()
                    }),
                    ..K8sVolume::default()
                });
            }
            let key = file.key.as_ref().map(|k| k.value.as_str());
            mounts.push((file.secret.value.clone(), file_mount(&name, &file.mount.value, key)));
        }
        PodVolumes { volumes, mounts }
    }

    /// The mount a `mount "NAME" path=...` child makes: the volume, config
    /// or secret file `NAME` at `path`.
    fn mount(&self, mount: &crate::model::Mount) -> Option<VolumeMount> {
        let (_, own) = self.mounts.iter().find(|(name, _)| *name == mount.volume.value)?;
        let read_only = mount.read_only.as_ref().map_or(own.read_only, |r| r.value.then_some(true));
        // A file mounted with subPath keeps its key, at the new path.
        Some(VolumeMount {
            name: own.name.clone(),
            mount_path: mount.path.value.clone(),
            sub_path: own.sub_path.clone(),
            read_only,
            ..VolumeMount::default()
        })
    }
}

/// A mount of a ConfigMap or Secret volume: the one key `key` as the file
/// `path` (with `subPath`), or the whole volume as a folder.
fn file_mount(volume: &str, path: &str, key: Option<&str>) -> VolumeMount {
    VolumeMount {
        name: volume.to_string(),
        mount_path: path.trim_end_matches('/').to_string(),
        sub_path: key.filter(|_| !path.ends_with('/')).map(str::to_string),
        read_only: Some(true),
        ..VolumeMount::default()
    }
}

/// The pod volume of a mounted secret: `secret-<name>`, shortened with a
/// hash when that is no label.
fn secret_volume_name(secret: &str) -> String {
    let name = format!("secret-{secret}");
    if name.len() <= 63 {
        return name;
    }
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("secret-{hash}")
}

/// The name of the PersistentVolumeClaim of an own volume of a workload
/// that is no StatefulSet: `<app>-<volume>`.
pub fn own_claim_name(app: &App, volume: &crate::model::Volume) -> String {
    format!("{}-{}", app.name.value, volume.name.value)
}

/// The ConfigMaps of an app's configs, named with a hash of their content.
fn config_maps(model: &Model, app: &App) -> Vec<ConfigMap> {
    app.configs
        .iter()
        .filter_map(|config| {
            let content = model.attachments.get(&config.file.value)?;
            let data: BTreeMap<String, String> = if config.env_file {
                crate::model::files::parse_env_file(content).ok()?.into_iter().collect()
            } else {
                [(crate::model::files::config_key(&config.file.value).to_string(), content.clone())].into()
            };
            let name = crate::model::files::config_map_name(&app.name.value, &config.name.value, content);
            Some(ConfigMap {
                metadata: meta(&name, Some(&app.namespace.value), app_labels(app)),
                data: Some(data),
                ..ConfigMap::default()
            })
        })
        .collect()
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

/// A probe of the components homelabc runs itself (the registry,
/// cloudflared): an HTTP GET of `path` on the named port every 10 seconds.
pub fn http_probe(path: &str, port: &str) -> K8sProbe {
    K8sProbe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(10),
        ..K8sProbe::default()
    }
}

/// The emptyDir mounted on `/tmp` of containers with a read-only root.
pub fn tmp_volume() -> (K8sVolume, VolumeMount) {
    let volume =
        K8sVolume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..K8sVolume::default() };
    (volume, VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() })
}

/// Whether the pod gets homelabc's `/tmp` scratch volume: with a read-only
/// root, unless the app mounts a volume of its own there.
fn scratch_tmp(app: &App) -> bool {
    app.read_only_root.value && !app.volumes.iter().any(|v| v.mount.value.trim_end_matches('/') == "/tmp")
}

fn meta_labels_only(app: &App) -> ObjectMeta {
    ObjectMeta { labels: Some(app_labels(app)), ..ObjectMeta::default() }
}

fn spread(app: &App) -> Option<Vec<TopologySpreadConstraint>> {
    let key = app.spread.as_ref()?;
    let topology_key = match key.value {
        SpreadKey::Node => crate::model::HOSTNAME_LABEL,
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

/// The app's own container: it mounts every volume, config and secret file
/// of the pod, asks for the app's GPUs and gets the app's capabilities.
fn main_container(model: &Model, app: &App, pod: &PodVolumes) -> Container {
    let mut mounts: Vec<VolumeMount> = pod.mounts.iter().map(|(_, m)| m.clone()).collect();
    if scratch_tmp(app) {
        mounts.push(tmp_volume().1);
    }
    let privileged = app.privileged.as_ref().is_some_and(|p| p.value);
    let mut container = container(model, app, &app.container, mounts);
    container.security_context = Some(container_security(app, privileged));
    if !app.gpus.is_empty() {
        let resources = container.resources.get_or_insert_with(ResourceRequirements::default);
        let limits = resources.limits.get_or_insert_with(BTreeMap::new);
        for gpu in &app.gpus {
            limits.insert(gpu.resource.value.clone(), Quantity(gpu.count.value.to_string()));
        }
    }
    container
}

/// A sidecar or init container: the restricted security context, and the
/// mounts it asks for.
fn other_container(model: &Model, app: &App, c: &ModelContainer, pod: &PodVolumes) -> Container {
    let mut mounts: Vec<VolumeMount> = c.mounts.iter().filter_map(|m| pod.mount(m)).collect();
    if scratch_tmp(app) && !mounts.iter().any(|m| m.mount_path == "/tmp") {
        mounts.push(tmp_volume().1);
    }
    let mut container = container(model, app, c, mounts);
    container.security_context = Some(restricted_container(app.read_only_root.value));
    container
}

/// A container of the pod, but its security context.
fn container(model: &Model, app: &App, c: &ModelContainer, mounts: Vec<VolumeMount>) -> Container {
    let env_from: Vec<EnvFromSource> = c
        .env_from
        .iter()
        .filter_map(|from| match from {
            EnvFrom::Secret(secret) => Some(EnvFromSource {
                secret_ref: Some(SecretEnvSource { name: secret.value.clone(), ..SecretEnvSource::default() }),
                ..EnvFromSource::default()
            }),
            EnvFrom::Config(config) => {
                let config = app.configs.iter().find(|x| x.name.value == config.value)?;
                let content = model.attachments.get(&config.file.value)?;
                Some(EnvFromSource {
                    config_map_ref: Some(ConfigMapEnvSource {
                        name: crate::model::files::config_map_name(&app.name.value, &config.name.value, content),
                        ..ConfigMapEnvSource::default()
                    }),
                    ..EnvFromSource::default()
                })
            }
        })
        .collect();
    Container {
        name: c.name.value.clone(),
        image: Some(container_image(model, c)),
        command: non_empty(c.command.iter().map(|x| x.value.clone()).collect()),
        args: non_empty(c.args.iter().map(|x| x.value.clone()).collect()),
        ports: non_empty(
            c.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.value.clone()),
                    container_port: i32::from(p.number.value),
                    protocol: Some(p.protocol.value.as_str().into()),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        env: non_empty(c.env.iter().map(env_var).collect()),
        env_from: non_empty(env_from),
        resources: resources(c),
        liveness_probe: probe(c, ProbeKind::Liveness),
        readiness_probe: probe(c, ProbeKind::Readiness),
        startup_probe: probe(c, ProbeKind::Startup),
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

fn resources(c: &ModelContainer) -> Option<ResourceRequirements> {
    let r = c.resources.as_ref()?;
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

fn probe(c: &ModelContainer, kind: ProbeKind) -> Option<K8sProbe> {
    let p = c.probes.iter().find(|p| p.kind.value == kind)?;
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

/// The spec of an own claim: ReadWriteOnce, its size and storage class.
fn claim_spec(claim: &OwnClaim, restore: Option<TypedObjectReference>) -> PersistentVolumeClaimSpec {
    let requests: BTreeMap<String, Quantity> =
        [("storage".to_string(), Quantity(claim.size.value.text.clone()))].into_iter().collect();
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".into()]),
        storage_class_name: claim.storage_class.as_ref().map(|s| s.value.clone()),
        resources: Some(VolumeResourceRequirements {
            requests: Some(requests),
            ..VolumeResourceRequirements::default()
        }),
        data_source_ref: restore,
        ..PersistentVolumeClaimSpec::default()
    }
}

/// A StatefulSet's claim template for an own volume; restored on create from
/// its backup ([`super::volsync::restore_ref`]).
fn claim_template(model: &Model, app: &App, volume: &crate::model::Volume, claim: &OwnClaim) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(volume.name.value.clone()),
            labels: Some(app_labels(app)),
            ..ObjectMeta::default()
        },
        spec: Some(claim_spec(claim, super::volsync::restore_ref(model, &Stored::Own { app, volume, claim }))),
        ..PersistentVolumeClaim::default()
    }
}

/// The PersistentVolumeClaim of an own volume of a workload that is no
/// StatefulSet; restored on create from its backup.
fn own_claim(model: &Model, app: &App, volume: &crate::model::Volume, claim: &OwnClaim) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(&own_claim_name(app, volume), Some(&app.namespace.value), app_labels(app)),
        spec: Some(claim_spec(claim, super::volsync::restore_ref(model, &Stored::Own { app, volume, claim }))),
        ..PersistentVolumeClaim::default()
    }
}

/// The app's Service: its declared exposes, plus the ports ingresses, routes
/// and metrics route to; a StatefulSet always gets one (its `serviceName`).
fn service(app: &App) -> Option<K8sService> {
    let mut ports: Vec<ServicePort> = Vec::new();
    let protocol = |name: &str| app.pod_port(name).map_or(Protocol::Tcp, |p| p.protocol.value).as_str().to_string();
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
    let routed = (app.ingresses.iter().map(|i| &i.port))
        .chain(app.routes.iter().map(|r| &r.port))
        .chain(app.metrics.iter().map(|m| &m.port));
    for name in routed {
        if ports.iter().any(|p| p.name.as_deref() == Some(name.value.as_str())) {
            continue;
        }
        if let Some(port) = app.pod_port(&name.value) {
            ports.push(ServicePort {
                name: Some(port.name.value.clone()),
                port: i32::from(port.number.value),
                target_port: Some(IntOrString::String(port.name.value.clone())),
                protocol: Some(port.protocol.value.as_str().into()),
                ..ServicePort::default()
            });
        }
    }
    if ports.is_empty() && app.workload() != WorkloadKind::Statefulset {
        return None;
    }
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    let kind = app.service.as_ref().map_or(ServiceType::ClusterIp, |s| s.kind.value);
    let mut metadata = meta(&app.name.value, Some(&app.namespace.value), app_labels(app));
    metadata.annotations = app.service.as_ref().map(super::metallb::annotations).filter(|a| !a.is_empty());
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
            let tls = ingress.tls.value.then(|| {
                vec![IngressTLS { hosts: Some(vec![host.clone()]), secret_name: Some(format!("{name}-tls")) }]
            });
            let mut metadata = meta(&name, Some(&app.namespace.value), app_labels(app));
            let mut annotations = BTreeMap::new();
            if let Some(issuer) = model.tls_issuer_of(app).filter(|_| ingress.tls.value) {
                annotations.insert(CLUSTER_ISSUER.to_string(), issuer.name.value.clone());
            }
            if model.tunnel_record(app, &host).is_some() {
                annotations.extend(super::tunnel::dns_elsewhere());
            }
            metadata.annotations = (!annotations.is_empty()).then_some(annotations);
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
    let kind = app.workload();
    if !kind.scales() {
        return None;
    }
    Some(HorizontalPodAutoscaler {
        metadata: meta(&app.name.value, Some(&app.namespace.value), app_labels(app)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: kind.kubernetes_kind().into(),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// More apps than a batch: every app's objects, in the apps' order, one
    /// unit shared by each app's objects, and little room left over.
    #[test]
    fn apps_in_batches_keep_their_order_and_share_their_unit() {
        let apps = APPS_PER_BATCH + 3;
        let mut text = String::from("homelab \"lab\"\ncluster \"lab\" distribution=\"k3s\"\n");
        for i in 0..apps {
            text.push_str(&format!("app \"a{i:05}\" namespace=\"shop\" {{ image \"nginx\" tag=\"1.27\" }}\n"));
        }
        let checked =
            crate::driver::check(&crate::host::MemHost::with([("homelab.kdl", text.as_str())]), "homelab.kdl");
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics.first());
        let mut out = Artifacts::default();
        emit(&checked.model, &mut out);
        let deployments: Vec<&str> =
            out.objects.iter().filter(|o| o.id.kind == "Deployment").map(|o| o.id.name.as_str()).collect();
        let expected: Vec<String> = (0..apps).map(|i| format!("a{i:05}")).collect();
        assert_eq!(deployments, expected);
        assert!(out.objects.capacity() - out.objects.len() <= out.objects.len() / 16, "little room left");
        let first = out.objects.iter().position(|o| o.id.name == "a00001").expect("made");
        let of_app: Vec<&Object> =
            out.objects[first..].iter().take_while(|o| o.unit == out.objects[first].unit).collect();
        assert!(of_app.len() > 1 && of_app.iter().all(|o| Arc::ptr_eq(&o.unit, &of_app[0].unit)));
    }
}
