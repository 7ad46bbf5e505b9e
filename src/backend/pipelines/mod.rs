//! Pipelines (SPEC §5): one `pipeline` declaration compiled to Tekton objects
//! or to a CI file for Drone, GitHub Actions or Woodpecker, with the
//! in-cluster RBAC its deploy needs.
//!
//! Every engine gets the same [`Plan`], resolved once from the model: where
//! the build pushes (the in-cluster Service of a deployed registry for pods,
//! the declared address otherwise), whether that is plain HTTP, what the
//! deploy rolls out and how, and the image tag every engine computes the same
//! way, `sha-` and the first seven hex digits of the commit. The engines only
//! write that plan in their own syntax.

mod actions;
mod drone;
mod shell;
mod tekton;
mod woodpecker;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::k8s::meta;
use super::{Artifacts, Content, Origin, Render, managed_labels};
use crate::layout::{FilePlace, Folder, Unit, ci_destination};
use crate::model::{App, DeployVia, Engine, Gitops, Model, Pipeline, Registry};

/// The kaniko executor every engine builds images with (no Docker daemon, no
/// privileges; it needs to run as root, which `baseline` allows).
pub const KANIKO_IMAGE: &str = "gcr.io/kaniko-project/executor:v1.23.2";

/// The kaniko image with a shell, for engines that run `commands`.
pub const KANIKO_SHELL_IMAGE: &str = "gcr.io/kaniko-project/executor:v1.23.2-debug";

/// A small image with git and a shell, for Tekton's clone task.
pub const GIT_IMAGE: &str = "alpine/git:v2.47.2";

/// The key of a Tekton GitOps deploy's Secret (`deploy secret=`) holding the
/// token it pushes with.
pub const PUSH_TOKEN_KEY: &str = "token";

/// The kubectl version when the cluster declares none.
pub const DEFAULT_KUBECTL: &str = "v1.33.6";

/// The Tekton task and CI step names, as in seed 004.
pub const FETCH: &str = "fetch-source";
/// The image build task or step.
pub const BUILD: &str = "build-image";
/// The deploy task or step.
pub const DEPLOY: &str = "deploy-app";

/// A pipeline with everything the engines need resolved.
pub struct Plan<'m> {
    /// The declaration.
    pub pipeline: &'m Pipeline,
    /// Its name.
    pub name: &'m str,
    /// What its objects and files are made for: the pipeline.
    pub origin: Origin,
    /// The cluster, when the description has several.
    pub scope: Option<String>,
    /// The unit of its in-cluster objects: `pipelines/<name>`.
    pub unit: Unit,
    /// The namespace the pipeline's pods run in (`None`: outside the cluster).
    pub namespace: Option<&'m str>,
    /// The branch the triggers follow.
    pub branch: &'m str,
    /// The image build.
    pub build: Option<BuildPlan<'m>>,
    /// The deploy.
    pub deploy: Option<DeployPlan<'m>>,
    /// Where a forge's webhooks reach a Tekton pipeline from outside the
    /// cluster, when it has webhook triggers and the cluster an ingress controller.
    pub hooks: Option<HooksPlan>,
}

/// The Ingress in front of a Tekton pipeline's EventListener.
pub struct HooksPlan {
    /// Its host: `<pipeline>-hooks` with the homelab's domain ([`Model::hooks_host`]).
    pub host: String,
    /// The ingress class of the cluster's controller.
    pub class: &'static str,
    /// The namespace the controller runs in (the only one let through to the listener).
    pub controller: &'static str,
}

/// Where and how the image is built and pushed.
pub struct BuildPlan<'m> {
    /// The app built.
    pub app: &'m App,
    /// Its registry.
    pub registry: &'m Registry,
    /// `host:port/repository` the build pushes to (without tag).
    pub push: String,
    /// The `host:port` of `push`.
    pub push_host: String,
    /// Build context, relative to the repository root (`.` for the root).
    pub context: &'m str,
    /// Dockerfile, relative to the repository root.
    pub dockerfile: &'m str,
}

/// What the deploy rolls out.
pub struct DeployPlan<'m> {
    /// The app deployed.
    pub app: &'m App,
    /// GitOps bump or kubectl rollout.
    pub via: DeployVia,
    /// The shape of the app's workload (what kubectl rolls).
    pub workload: crate::model::WorkloadKind,
    /// `host:port/repository` the nodes pull the app from (without tag), when
    /// the pipeline builds it.
    pub image: Option<String>,
    /// The GitOps repository of the app's cluster (for `via="gitops"`).
    pub gitops: Option<&'m Gitops>,
    /// The kubectl image matching the cluster's version.
    pub kubectl_image: String,
    /// The `homelabc set` address of the app's image tag.
    pub tag_address: String,
    /// The image a GitOps deploy runs in: a homelabc release with git and a
    /// shell (`homelabc-image`, by default this compiler's own release, so
    /// the deploy's rebuild gives the same bytes but for the tag). Never
    /// compiled in CI.
    pub homelabc_image: &'m str,
}

impl Plan<'_> {
    /// The ServiceAccount the deploy runs as, in the pipeline's namespace.
    pub fn deployer(&self) -> String {
        format!("{}-deploy", self.name)
    }
}

/// Emits every pipeline.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for pipeline in &model.pipelines {
        let plan = plan(model, pipeline, in_cluster(pipeline.engine.value));
        match pipeline.engine.value {
            Engine::Tekton => tekton::emit(&plan, out),
            Engine::Drone => drone::emit(&plan, out),
            Engine::GithubActions => actions::emit(&plan, out),
            Engine::Woodpecker => woodpecker::emit(&plan, out),
        }
        if plan.deploy.as_ref().is_some_and(|d| d.via == DeployVia::Kubectl) {
            deploy_rbac(&plan, out);
        }
    }
}

/// Whether the engine's jobs run as pods in the cluster (and so push to a
/// deployed registry through its Service).
fn in_cluster(engine: Engine) -> bool {
    engine != Engine::GithubActions
}

/// Resolves a pipeline against the model.
pub fn plan<'m>(model: &'m Model, pipeline: &'m Pipeline, in_cluster: bool) -> Plan<'m> {
    let build = pipeline.build.as_ref().and_then(|b| {
        let app = model.apps.iter().find(|a| a.name.value == b.app.value)?;
        let image = app.container.image.as_ref()?;
        let registry = model.registry(&image.registry.as_ref()?.value)?;
        let push_host = match super::registry::in_cluster_address(registry) {
            Some(address) if in_cluster => address,
            _ => registry.address.value.to_string(),
        };
        Some(BuildPlan {
            app,
            registry,
            push: format!("{push_host}/{}", image.repository.value),
            push_host,
            context: &b.context.value,
            dockerfile: &b.dockerfile.value,
        })
    });
    let deploy = pipeline.deploy.as_ref().and_then(|d| {
        let app = model.apps.iter().find(|a| a.name.value == d.app.value)?;
        let cluster = model.cluster_for(app.cluster.as_ref());
        let version = cluster.and_then(|c| c.version.as_ref()).map(|v| kubectl_version(&v.value));
        let built = build.as_ref().filter(|b| b.app.name.value == app.name.value);
        let image = built.map(|b| {
            format!(
                "{}/{}",
                b.registry.address.value,
                b.app.container.image.as_ref().map_or("", |i| i.repository.value.as_str())
            )
        });
        let ambiguous = model.apps.iter().filter(|a| a.name.value == app.name.value).count() > 1;
        let tag_address = if ambiguous {
            format!("app.{}/{}.image.tag", app.namespace.value, app.name.value)
        } else {
            format!("app.{}.image.tag", app.name.value)
        };
        Some(DeployPlan {
            app,
            via: d.via.value,
            workload: app.workload(),
            image,
            gitops: cluster.and_then(|c| c.gitops.as_ref()),
            kubectl_image: format!("registry.k8s.io/kubectl:{}", version.as_deref().unwrap_or(DEFAULT_KUBECTL)),
            tag_address,
            homelabc_image: model.homelabc_image(),
        })
    });
    let hooks = hooks_plan(model, pipeline);
    Plan {
        pipeline,
        name: &pipeline.name.value,
        origin: Origin::of(pipeline.id(model)),
        scope: model.cluster_key(pipeline.cluster.as_ref()).map(str::to_string),
        unit: Unit::new(model.cluster_key(pipeline.cluster.as_ref()), Folder::Pipeline(pipeline.name.value.clone())),
        namespace: pipeline.namespace(),
        branch: pipeline.source.as_ref().map_or("main", |s| s.branch.value.as_str()),
        build,
        deploy,
        hooks,
    }
}

/// The Ingress of a Tekton pipeline with webhook triggers, on a cluster
/// with an ingress controller.
fn hooks_plan(model: &Model, pipeline: &Pipeline) -> Option<HooksPlan> {
    if pipeline.engine.value != Engine::Tekton || pipeline.webhooks().next().is_none() {
        return None;
    }
    let cluster = model.cluster_for(pipeline.cluster.as_ref())?;
    Some(HooksPlan {
        host: model.hooks_host(pipeline),
        class: Model::controller_class(cluster)?,
        controller: super::netpol::controller_namespace(cluster)?,
    })
}

/// `v1.33.6+k3s1` → `v1.33.6` (the upstream kubectl of the same release).
fn kubectl_version(version: &str) -> String {
    let bare = version.split('+').next().unwrap_or(version);
    if bare.starts_with('v') { bare.to_string() } else { format!("v{bare}") }
}

/// The labels of a pipeline's objects.
pub fn labels(plan: &Plan<'_>) -> BTreeMap<String, String> {
    let mut labels = managed_labels();
    labels.insert("app.kubernetes.io/part-of".into(), plan.name.to_string());
    labels
}

/// The deploy's kubectl arguments: set the built image (or restart when the
/// pipeline builds nothing), both a `get` and a `patch` of the one workload.
pub fn kubectl_args(deploy: &DeployPlan<'_>, tag: &str) -> Vec<String> {
    let target = format!("{}/{}", deploy.workload, deploy.app.name.value);
    let mut args = vec!["--namespace".to_string(), deploy.app.namespace.value.clone()];
    match &deploy.image {
        Some(image) => {
            args.extend(["set".into(), "image".into(), target, format!("{}={image}:{tag}", deploy.app.name.value)]);
        }
        None => args.extend(["rollout".into(), "restart".into(), target]),
    }
    args
}

/// The shell lines of a GitOps deploy, run in [`DeployPlan::homelabc_image`]
/// (which holds homelabc, git and a shell): clone the GitOps repository, set the app's tag to `$TAG`, rebuild the tree, and
/// commit and push it with `[skip ci]` (so that the push does not start the
/// pipeline again). The push token is read from `$GIT_PUSH_TOKEN` by a
/// credential helper, so it never appears in a URL or a log.
pub fn gitops_commands(deploy: &DeployPlan<'_>) -> Vec<String> {
    let Some(gitops) = deploy.gitops else { return Vec::new() };
    let repo = &gitops.repo.value;
    let branch = &gitops.branch.value;
    let app = &deploy.app.name.value;
    vec![
        "git config --global credential.helper '!f() { echo username=x-access-token; echo \"password=$GIT_PUSH_TOKEN\"; }; f'"
            .into(),
        format!("git clone --depth 1 --branch {branch} {repo} /tmp/gitops"),
        "cd /tmp/gitops".into(),
        format!("homelabc set {} \"$TAG\"", deploy.tag_address),
        "homelabc build".into(),
        "git add --all".into(),
        "if git diff --cached --quiet; then echo \"already at $TAG\"; exit 0; fi".into(),
        format!(
            "git -c user.name=homelabc -c user.email=homelabc@users.noreply.github.com commit --quiet -m \"{app}: deploy $TAG [skip ci]\""
        ),
        format!("git push origin HEAD:{branch}"),
    ]
}

/// The kaniko flags of a build pushing `<push>:<tag>`, its paths below the
/// checkout at `checkout` (`.` for the working directory).
pub fn kaniko_flags(build: &BuildPlan<'_>, checkout: &str, tag: &str) -> Vec<String> {
    let mut flags = vec![
        format!("--context={}", below(checkout, build.context)),
        format!("--dockerfile={}", below(checkout, build.dockerfile)),
        format!("--destination={}:{tag}", build.push),
    ];
    if build.registry.is_insecure() {
        flags.push(format!("--insecure-registry={}", build.push_host));
    }
    flags
}

/// The kaniko command line of a shell-based engine, pushing `<push>:<tag>`.
pub fn kaniko_command(build: &BuildPlan<'_>, tag: &str) -> String {
    let words: Vec<String> = kaniko_flags(build, ".", tag).iter().map(|w| shell_quote(w)).collect();
    format!("/kaniko/executor {}", words.join(" "))
}

/// A path of the repository below `checkout`: `.` and `./` name the checkout itself.
pub fn below(checkout: &str, path: &str) -> String {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    match (checkout, path) {
        (_, "" | ".") => checkout.to_string(),
        (".", path) => path.to_string(),
        (checkout, path) => format!("{checkout}/{path}"),
    }
}

/// Quotes a word for a POSIX shell when it needs it (`$TAG` stays expandable
/// only where the caller writes it outside this function).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,%$".contains(c))
        && !word.contains("$(");
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// An image with kubectl and a shell, of the cluster's version, for engines
/// that run `commands` (alpine/k8s is tagged with the kubectl release).
pub fn kubectl_shell_image(deploy: &DeployPlan<'_>) -> String {
    let version = deploy.kubectl_image.rsplit(':').next().unwrap_or(DEFAULT_KUBECTL);
    format!("alpine/k8s:{}", version.trim_start_matches('v'))
}

/// The Role and RoleBinding that let the deploy's ServiceAccount roll the
/// app's workload: `get` and `patch` of that one object in its namespace,
/// nothing else, no wildcards. For in-cluster engines the ServiceAccount is
/// the pipeline's `<name>-deploy` in the pipeline's namespace; for GitHub
/// Actions (outside the cluster) it lives in the app's namespace with a
/// token Secret the runner's kubeconfig is made from.
fn deploy_rbac(plan: &Plan<'_>, out: &mut Artifacts) {
    let Some(deploy) = &plan.deploy else { return };
    let app_ns = deploy.app.namespace.value.as_str();
    let account_ns = plan.namespace.unwrap_or(app_ns);
    let account = plan.deployer();
    if plan.pipeline.engine.value != Engine::Tekton {
        // Tekton's accounts are written with its other accounts.
        out.object(&plan.origin, &plan.unit, service_account(plan, &account, account_ns, true));
    }
    if plan.namespace.is_none() {
        let token = Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                annotations: Some([("kubernetes.io/service-account.name".to_string(), account.clone())].into()),
                ..meta(&format!("{account}-token"), Some(account_ns), labels(plan))
            },
            type_: Some("kubernetes.io/service-account-token".into()),
            ..Secret::default()
        };
        out.object(&plan.origin, &plan.unit, token);
    }
    let role = Role {
        metadata: meta(&account, Some(app_ns), labels(plan)),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![deploy.workload.api_group().into()]),
            resources: Some(vec![format!("{}s", deploy.workload)]),
            resource_names: Some(vec![deploy.app.name.value.clone()]),
            verbs: vec!["get".into(), "patch".into()],
            ..PolicyRule::default()
        }]),
    };
    out.object(&plan.origin, &plan.unit, role);
    let binding = RoleBinding {
        metadata: meta(&account, Some(app_ns), labels(plan)),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: account.clone() },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: account,
            namespace: Some(account_ns.to_string()),
            ..Subject::default()
        }]),
    };
    out.object(&plan.origin, &plan.unit, binding);
}

/// A ServiceAccount of a pipeline; `token` when its pods talk to the API.
pub fn service_account(plan: &Plan<'_>, name: &str, namespace: &str, token: bool) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(name, Some(namespace), labels(plan)),
        automount_service_account_token: Some(token),
        ..ServiceAccount::default()
    }
}

impl Plan<'_> {
    /// The unit of the pipeline's webhook objects: `pipelines/<name>/triggers`.
    pub fn triggers_unit(&self) -> Unit {
        Unit::new(self.scope.as_deref(), Folder::Triggers(self.name.to_string()))
    }

    /// Adds the CI file of an engine that runs outside Tekton, headed by
    /// where to commit it.
    pub fn ci_file(&self, out: &mut Artifacts, body: impl Render + 'static) {
        let engine = self.pipeline.engine.value;
        let header = ci_header(self, &ci_destination(engine, self.name));
        let place = FilePlace::CiFile { scope: self.scope.clone(), pipeline: self.name.to_string(), engine };
        out.file(&self.origin, place, Content::Yaml { header, body: Box::new(body) });
    }
}

/// A comment heading a CI file: what wrote it and where it goes.
pub fn ci_header(plan: &Plan<'_>, destination: &str) -> String {
    let mut header =
        format!("# Generated by homelabc from pipeline \"{}\"; do not edit.\n# Commit it as {destination}", plan.name);
    match plan.pipeline.source.as_ref() {
        Some(source) => header.push_str(&format!(" in {} ({}).\n", source.repo.value, source.branch.value)),
        None => header.push_str(" in the repository it builds.\n"),
    }
    header
}

/// Escapes `$` as `$$` for engines that substitute `${VAR}` in their YAML
/// (Drone, Woodpecker), so the shell sees the commands as written.
pub fn escape_dollars(line: &str) -> String {
    line.replace('$', "$$")
}

#[cfg(test)]
mod tests;
