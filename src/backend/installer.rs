//! Release manifests applied from the tree: what the tekton component installs
//! without a chart (Tekton Triggers, its core interceptors, the Dashboard).
//!
//! Upstream ships them only as `release.yaml` files, so the component's unit
//! (`infrastructure/tekton`, beside the Pipelines chart) gets a Job that
//! applies the pinned URLs with the pinned kubectl image, its ServiceAccount,
//! and a ClusterRole and Role granting exactly the kinds those manifests hold
//! (`stdlib/tekton.kdl` says why, and what this trades against vendoring).
//! The Job is named after a digest of what it applies, so a new pin is a new
//! Job; the GitOps agent waits for it before the pipelines' triggers units.
//! It is written on every cluster, even where nothing installs charts (kind
//! without GitOps, where W0502 says to `helm install` them by hand): applying
//! the unit then installs Triggers as well.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec, ResourceRequirements, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use super::k8s::{restricted_container, restricted_pod, tmp_volume};
use super::pipelines::DEFAULT_KUBECTL;
use super::{Artifacts, Origin, managed_labels, meta, policy_rule};
use crate::layout::Unit;
use crate::model::crds::{TEKTON_DASHBOARD_RELEASES, TEKTON_TRIGGERS_RELEASES};
use crate::model::{Component, Model};

/// The component whose release manifests are applied.
const COMPONENT: &str = "tekton";

/// The name of the installer's ServiceAccount, roles and bindings.
const ACCOUNT: &str = "tekton-installer";

/// The CRD the interceptors manifest needs established before it applies.
const INTERCEPTOR_CRD: &str = "crd/clusterinterceptors.triggers.tekton.dev";

/// The Deployment of Triggers' admission webhook, which validates (with
/// `failurePolicy: Fail`) the ClusterInterceptors the interceptors manifest
/// creates: it must be available first.
const TRIGGERS_WEBHOOK: &str = "deployment/tekton-triggers-webhook";

/// The user the installer runs as (distroless `nonroot`, like Tekton's own pods).
const USER: i64 = 65532;

/// One step of the installer: a container running kubectl with these arguments.
struct Step {
    /// The container's name.
    name: &'static str,
    /// kubectl's arguments.
    args: Vec<String>,
}

/// Emits the installer of the tekton component, when it is included and
/// has something to apply.
pub fn emit(model: &Model, out: &mut Artifacts) {
    let Some(component) = model.component(COMPONENT) else { return };
    let Some(chart) = model.charts.iter().find(|c| c.component.as_deref() == Some(COMPONENT)) else { return };
    let namespace = chart.namespace.value.as_str();
    let steps = steps(component, namespace);
    if steps.is_empty() {
        return;
    }
    let scope = model.cluster_key(None);
    let origin = Origin::of(chart.id(model)).and(model.component_id(scope, COMPONENT));
    let unit = Unit::chart(model, chart);
    let kubectl = component.param_text("kubectl-version");
    let image = format!("registry.k8s.io/kubectl:{}", kubectl.as_deref().unwrap_or(DEFAULT_KUBECTL));
    out.object(&origin, &unit, account(namespace));
    out.object(&origin, &unit, cluster_role(enabled(component, "triggers")));
    out.object(&origin, &unit, role(namespace));
    let (cluster_binding, binding) = bindings(namespace);
    out.object(&origin, &unit, cluster_binding);
    out.object(&origin, &unit, binding);
    out.object(&origin, &unit, job(namespace, &image, steps));
}

/// The bindings of the installer's ClusterRole and Role to its ServiceAccount.
fn bindings(namespace: &str) -> (ClusterRoleBinding, RoleBinding) {
    let cluster_binding = ClusterRoleBinding {
        metadata: meta(ACCOUNT, None, managed_labels()),
        role_ref: role_ref("ClusterRole"),
        subjects: Some(vec![subject(namespace)]),
    };
    let binding = RoleBinding {
        metadata: meta(ACCOUNT, Some(namespace), managed_labels()),
        role_ref: role_ref("Role"),
        subjects: Some(vec![subject(namespace)]),
    };
    (cluster_binding, binding)
}

/// Whether a bool parameter is set and true.
fn enabled(component: &Component, name: &str) -> bool {
    component.param_text(name).as_deref() == Some("true")
}

/// What the Job runs, in order: Triggers, a wait until its
/// ClusterInterceptor CRD is served and its admission webhook answers, the
/// core interceptors, the Dashboard.
fn steps(component: &Component, namespace: &str) -> Vec<Step> {
    let apply = |name, url: String| Step {
        name,
        args: [
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=homelabc-tekton-installer",
            "--filename",
            url.as_str(),
        ]
        .map(str::to_string)
        .to_vec(),
    };
    let mut steps = Vec::new();
    // The versions are pinned by the component file (`stdlib/tekton.kdl`).
    let version = |name| component.param_text(name);
    if enabled(component, "triggers")
        && let Some(version) = version("triggers-version")
    {
        let release = |file: &str| format!("{TEKTON_TRIGGERS_RELEASES}previous/{version}/{file}");
        steps.push(apply("triggers", release("release.yaml")));
        let wait = ["wait", "--for=condition=Established", "--timeout=300s", INTERCEPTOR_CRD];
        steps.push(Step { name: "triggers-crds", args: wait.map(str::to_string).to_vec() });
        let wait = ["wait", "--for=condition=Available", "--timeout=300s", "--namespace", namespace, TRIGGERS_WEBHOOK];
        steps.push(Step { name: "triggers-webhook", args: wait.map(str::to_string).to_vec() });
        steps.push(apply("interceptors", release("interceptors.yaml")));
    }
    if enabled(component, "dashboard")
        && let Some(version) = version("dashboard-version")
    {
        steps.push(apply("dashboard", format!("{TEKTON_DASHBOARD_RELEASES}previous/{version}/release.yaml")));
    }
    steps
}

/// The installer's ServiceAccount; its pod talks to the API server.
fn account(namespace: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(ACCOUNT, Some(namespace), managed_labels()),
        automount_service_account_token: Some(true),
        ..ServiceAccount::default()
    }
}

/// What server-side apply needs to create or update an object.
const APPLY: &[&str] = &["get", "create", "patch"];

/// Apply, plus creating roles that grant more than the installer holds
/// (`escalate`) and binding them (`bind`): what installing RBAC takes.
const APPLY_RBAC: &[&str] = &["get", "create", "patch", "escalate", "bind"];

/// The cluster-scoped kinds of the manifests: CRDs (and watching them become
/// established), webhook configurations, cluster roles and their bindings,
/// and Triggers' ClusterInterceptors.
fn cluster_role(triggers: bool) -> ClusterRole {
    let mut rules = vec![
        policy_rule(
            "apiextensions.k8s.io",
            &["customresourcedefinitions"],
            &["get", "list", "watch", "create", "patch"],
        ),
        policy_rule("rbac.authorization.k8s.io", &["clusterroles", "clusterrolebindings"], APPLY_RBAC),
    ];
    if triggers {
        rules.push(policy_rule(
            "admissionregistration.k8s.io",
            &["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
            APPLY,
        ));
        rules.push(policy_rule("triggers.tekton.dev", &["clusterinterceptors"], APPLY));
    }
    ClusterRole { metadata: meta(ACCOUNT, None, managed_labels()), rules: Some(rules), aggregation_rule: None }
}

/// The namespaced kinds of the manifests, all in the component's namespace
/// (and watching the webhook's Deployment become available).
fn role(namespace: &str) -> Role {
    Role {
        metadata: meta(ACCOUNT, Some(namespace), managed_labels()),
        rules: Some(vec![
            policy_rule("", &["configmaps", "secrets", "serviceaccounts", "services"], APPLY),
            policy_rule("apps", &["deployments"], &["get", "list", "watch", "create", "patch"]),
            policy_rule("rbac.authorization.k8s.io", &["roles", "rolebindings"], APPLY_RBAC),
        ]),
    }
}

/// A reference to the installer's Role or ClusterRole.
fn role_ref(kind: &str) -> RoleRef {
    RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: kind.into(), name: ACCOUNT.into() }
}

/// The installer's ServiceAccount as a binding's subject.
fn subject(namespace: &str) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: ACCOUNT.into(),
        namespace: Some(namespace.to_string()),
        ..Subject::default()
    }
}

/// The Job: every step but the last as an init container (they run in
/// order), the last as its container; restricted like every pod homelabc
/// writes, kubectl's cache in `/tmp`.
fn job(namespace: &str, image: &str, mut steps: Vec<Step>) -> Job {
    let name = format!("tekton-install-{}", digest(image, &steps));
    let last = steps.pop().map(|s| container(image, s));
    let init: Vec<Container> = steps.into_iter().map(|s| container(image, s)).collect();
    let (tmp, _) = tmp_volume();
    let mut labels = managed_labels();
    labels.insert("app.kubernetes.io/name".into(), ACCOUNT.into());
    let pod = PodSpec {
        service_account_name: Some(ACCOUNT.into()),
        restart_policy: Some("OnFailure".into()),
        security_context: Some(restricted_pod(USER)),
        init_containers: (!init.is_empty()).then_some(init),
        containers: last.into_iter().collect(),
        volumes: Some(vec![tmp]),
        ..PodSpec::default()
    };
    Job {
        metadata: meta(&name, Some(namespace), labels.clone()),
        spec: Some(JobSpec {
            backoff_limit: Some(6),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels), ..ObjectMeta::default() }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

/// One kubectl step as a container.
fn container(image: &str, step: Step) -> Container {
    let (_, tmp_mount) = tmp_volume();
    let quantities = |cpu: &str, memory: &str| {
        Some([("cpu".to_string(), Quantity(cpu.into())), ("memory".to_string(), Quantity(memory.into()))].into())
    };
    let mut command = vec!["kubectl".to_string()];
    command.extend(step.args);
    Container {
        name: step.name.into(),
        image: Some(image.into()),
        command: Some(command),
        env: Some(vec![EnvVar { name: "HOME".into(), value: Some("/tmp".into()), ..EnvVar::default() }]),
        resources: Some(ResourceRequirements {
            requests: quantities("50m", "64Mi"),
            limits: quantities("500m", "256Mi"),
            ..ResourceRequirements::default()
        }),
        security_context: Some(restricted_container(true)),
        volume_mounts: Some(vec![tmp_mount]),
        ..Container::default()
    }
}

/// The first ten hex digits of the sha256 of what the Job runs.
fn digest(image: &str, steps: &[Step]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(image.as_bytes());
    for step in steps {
        for arg in &step.args {
            hasher.update(b"\0");
            hasher.update(arg.as_bytes());
        }
    }
    hasher.finalize().iter().take(5).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::host::MemHost;

    /// The files of `infrastructure/tekton/` for a k3s cluster using tekton so.
    fn unit(tekton: &str) -> Vec<(String, String)> {
        let text = format!("homelab \"lab\"\ncluster \"lab\" distribution=\"k3s\"\n{tekton}\n");
        let built = driver::build(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let errors: Vec<_> = built.checked.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let tree = built.tree.expect("no errors").expect("layout");
        tree.files()
            .filter(|(path, _)| path.starts_with("infrastructure/tekton/"))
            .map(|(path, bytes)| (path.to_string(), String::from_utf8(bytes.to_vec()).expect("utf-8")))
            .collect()
    }

    fn job(files: &[(String, String)]) -> Option<&(String, String)> {
        files.iter().find(|(path, _)| path.contains("/job-tekton-install-"))
    }

    #[test]
    fn tekton_gets_an_installer_job_named_after_its_pins() {
        let files = unit("use \"tekton\"");
        let (path, text) = job(&files).expect("an installer Job");
        assert!(
            text.contains("https://infra.tekton.dev/tekton-releases/triggers/previous/v0.34.0/release.yaml"),
            "{text}"
        );
        assert!(
            text.contains("https://infra.tekton.dev/tekton-releases/dashboard/previous/v0.63.1/release.yaml"),
            "{text}"
        );
        assert!(text.contains("image: registry.k8s.io/kubectl:v1.33.6"), "{text}");
        assert!(files.iter().any(|(p, _)| p.ends_with("/clusterrole-tekton-installer.yaml")));
        let moved = unit("use \"tekton\" { triggers-version \"v0.35.0\" }");
        assert_ne!(job(&moved).map(|(p, _)| p), Some(path), "a new pin is a new Job");
        assert!(job(&unit("use \"tekton\" { triggers #false; dashboard #false }")).is_none());
    }
}
